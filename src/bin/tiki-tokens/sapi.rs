//! In which PHP SAPIs the extension is enabled and loads: Debian's `phpenmod` links
//! `<root>/<version>/<sapi>/conf.d/NN-tiki_tokens.ini` for every SAPI (root `/etc/php`, or
//! `TIKI_TOKENS_PHP_CONF`), and `php -m` (and `php-fpm<version> -m`, when installed) shows
//! whether PHP really loads it.

use super::config;
use std::path::{Path, PathBuf};
use std::process::Command;
use tiki_tokens::store::{Finding, Severity};

/// The environment variable naming the root of PHP's configuration (default `/etc/php`).
pub const CONF_ROOT_ENV: &str = "TIKI_TOKENS_PHP_CONF";
/// The module's name in `php -m`, and the end of its INI file's name.
const MODULE: &str = "tiki_tokens";

/// One SAPI's `conf.d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SapiConf {
    /// PHP version (`8.2`).
    pub version: String,
    /// SAPI (`cli`, `fpm`, `apache2`, `cgi`, …).
    pub sapi: String,
    /// The file that enables the extension there, if any.
    pub enabled_by: Option<PathBuf>,
}

/// What one PHP binary says of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The binary (`php`, `/usr/sbin/php-fpm8.2`).
    pub binary: String,
    /// `-m` lists the module.
    pub loaded: bool,
    /// A start-up warning of PHP about the module (e.g. it cannot be loaded).
    pub warning: Option<String>,
}

/// The root of PHP's configuration.
pub fn conf_root() -> PathBuf {
    std::env::var_os(CONF_ROOT_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/etc/php"), PathBuf::from)
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Every `<root>/<version>/<sapi>/conf.d`, and whether a `*tiki_tokens.ini` is in it.
pub fn conf_dirs(root: &Path) -> Vec<SapiConf> {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut out = Vec::new();
    for version in sorted_dirs(root) {
        for sapi in sorted_dirs(&version) {
            let conf_d = sapi.join("conf.d");
            if !conf_d.is_dir() {
                continue;
            }
            let enabled_by = std::fs::read_dir(&conf_d)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| name(p).is_some_and(|n| n.ends_with(&format!("{MODULE}.ini"))))
                .min();
            out.push(SapiConf {
                version: name(&version).unwrap_or_default(),
                sapi: name(&sapi).unwrap_or_default(),
                enabled_by,
            });
        }
    }
    out
}

/// `binary -m`; `None` when it cannot be run.
pub fn probe(binary: &str) -> Option<Probe> {
    let out = Command::new(binary).arg("-m").output().ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let loaded = stdout.lines().any(|l| l.trim() == MODULE);
    let warning = stderr
        .lines()
        .chain(stdout.lines())
        .find(|l| l.contains(MODULE) && (l.contains("Warning") || l.contains("Startup")))
        .map(|l| l.trim().to_string());
    Some(Probe {
        binary: binary.to_string(),
        loaded,
        warning,
    })
}

/// The CLI's PHP, and each installed `php-fpm<version>` of a version that has an FPM
/// configuration.
pub fn probes(confs: &[SapiConf]) -> Vec<Probe> {
    let mut out: Vec<Probe> = probe(&config::php_binary()).into_iter().collect();
    for c in confs.iter().filter(|c| c.sapi == "fpm") {
        let fpm = format!("/usr/sbin/php-fpm{}", c.version);
        if Path::new(&fpm).is_file() {
            out.extend(probe(&fpm));
        }
    }
    out
}

/// Findings: where the extension is enabled, and whether each PHP binary loads it.
pub fn findings(confs: &[SapiConf], probes: &[Probe]) -> Vec<Finding> {
    let enabled: Vec<String> = confs
        .iter()
        .filter(|c| c.enabled_by.is_some())
        .map(|c| format!("{} {}", c.version, c.sapi))
        .collect();
    let disabled: Vec<String> = confs
        .iter()
        .filter(|c| c.enabled_by.is_none())
        .map(|c| format!("{} {}", c.version, c.sapi))
        .collect();
    let mut out = vec![if confs.is_empty() {
        finding(
            Severity::Note,
            "no PHP configuration found (phpenmod's conf.d)",
        )
    } else if enabled.is_empty() {
        finding(
            Severity::Warning,
            format!(
                "enabled for no SAPI ({} all lack it): phpenmod tiki_tokens",
                disabled.join(", ")
            ),
        )
    } else {
        let rest = if disabled.is_empty() {
            String::new()
        } else {
            format!("; not for {}", disabled.join(", "))
        };
        finding(
            Severity::Ok,
            format!("enabled for {}{rest}", enabled.join(", ")),
        )
    }];
    out.extend(probes.iter().map(probe_finding));
    out
}

fn probe_finding(p: &Probe) -> Finding {
    match (&p.warning, p.loaded) {
        (Some(w), _) => finding(Severity::Problem, format!("{}: {w}", p.binary)),
        (None, true) => finding(Severity::Ok, format!("{} -m lists {MODULE}", p.binary)),
        (None, false) => finding(
            Severity::Warning,
            format!("{} does not load {MODULE}", p.binary),
        ),
    }
}

fn finding(severity: Severity, message: impl Into<String>) -> Finding {
    Finding {
        check: "php",
        severity,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_dirs_tell_where_the_module_is_enabled() {
        let root = std::env::temp_dir().join(format!("sapi-{}", std::process::id()));
        for sapi in ["cli", "fpm", "apache2"] {
            std::fs::create_dir_all(root.join("8.2").join(sapi).join("conf.d")).unwrap();
        }
        std::fs::create_dir_all(root.join("8.2/mods-available")).unwrap();
        std::fs::write(root.join("8.2/fpm/conf.d/20-tiki_tokens.ini"), "").unwrap();
        std::fs::write(root.join("8.2/cli/conf.d/20-mysqli.ini"), "").unwrap();
        let confs = conf_dirs(&root);
        std::fs::remove_dir_all(&root).unwrap();
        let sapis: Vec<(&str, bool)> = confs
            .iter()
            .map(|c| (c.sapi.as_str(), c.enabled_by.is_some()))
            .collect();
        assert_eq!(sapis, [("apache2", false), ("cli", false), ("fpm", true)]);
        let f = findings(&confs, &[]);
        assert_eq!(f[0].severity, Severity::Ok);
        assert_eq!(
            f[0].message,
            "enabled for 8.2 fpm; not for 8.2 apache2, 8.2 cli"
        );
        let none = findings(&confs[..2], &[]);
        assert_eq!(none[0].severity, Severity::Warning);
    }
}
