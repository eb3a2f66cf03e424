//! Where the database is: `--dsn`, or `--tiki DIR` (the site's `db/local.php`, or
//! `db/NAME/local.php` for `--site NAME` or `TIKI_VIRTUAL`, read by PHP and turned into a DSN
//! exactly as `php/AuthTokens.php`'s `dsnFromLocalPhp()` does); else the environment variable `TIKI_TOKENS_DSN`; else PHP's INI setting `tiki_tokens.dsn` as the
//! system's `php` reads it. A DSN is only ever shown through the store's redactor.

use super::exit::{Exit, Failure};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tiki_tokens::store::redact;

/// The environment variable that names the database.
pub const DSN_ENV: &str = "TIKI_TOKENS_DSN";
/// The environment variable Tiki reads for the virtual site of a MultiTiki (`console.php
/// --site=NAME` sets it), used with `--tiki` when `--site` is not given.
pub const VIRTUAL_ENV: &str = "TIKI_VIRTUAL";
/// The environment variable that names the PHP binary to ask (default `php`).
pub const PHP_ENV: &str = "TIKI_TOKENS_PHP";

/// Where a DSN came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `--dsn`.
    Flag,
    /// A Tiki site's `db/local.php`.
    LocalPhp(PathBuf),
    /// `TIKI_TOKENS_DSN`.
    Env,
    /// PHP's INI setting `tiki_tokens.dsn`.
    Ini,
}

impl Source {
    /// For people: where the DSN came from.
    pub fn describe(&self) -> String {
        match self {
            Source::Flag => "--dsn".into(),
            Source::LocalPhp(file) => file.display().to_string(),
            Source::Env => format!("environment variable {DSN_ENV}"),
            Source::Ini => format!("PHP's INI setting tiki_tokens.dsn ({})", php_binary()),
        }
    }

    /// For machines: `flag`, `local.php`, `env`, `ini`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::LocalPhp(_) => "local.php",
            Source::Env => "env",
            Source::Ini => "ini",
        }
    }
}

/// A DSN and where it came from. `Debug` never shows the password.
pub struct Found {
    /// The DSN (with its password: pass it to the store, never print it).
    pub dsn: String,
    /// Where it came from.
    pub source: Source,
}

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Found")
            .field("dsn", &self.shown())
            .field("source", &self.source)
            .finish()
    }
}

impl Found {
    /// The DSN with its password masked.
    pub fn shown(&self) -> String {
        redact::dsn(&self.dsn)
    }
}

/// Finds the database (see the module docs).
///
/// # Errors
/// [`Exit::Config`] when nothing names a database, `--tiki` names no readable Tiki root, or
/// the site of `--site` (else `TIKI_VIRTUAL`) has no `db/NAME/local.php` there.
pub fn discover(
    dsn: Option<&str>,
    tiki: Option<&Path>,
    site: Option<&str>,
) -> Result<Found, Failure> {
    if let Some(dsn) = dsn {
        return Ok(Found {
            dsn: dsn.to_string(),
            source: Source::Flag,
        });
    }
    if let Some(root) = tiki {
        let virtual_site = site
            .map(str::to_string)
            .or_else(|| std::env::var(VIRTUAL_ENV).ok())
            .filter(|name| !name.is_empty());
        return from_local_php(&local_php_file(root, virtual_site.as_deref())?);
    }
    if let Ok(dsn) = std::env::var(DSN_ENV)
        && !dsn.is_empty()
    {
        return Ok(Found {
            dsn,
            source: Source::Env,
        });
    }
    if let Some(dsn) = ini_dsn() {
        return Ok(Found {
            dsn,
            source: Source::Ini,
        });
    }
    Err(Failure::new(
        Exit::Config,
        format!(
            "no database configured: pass --dsn DSN or --tiki DIR, set {DSN_ENV}, or set \
             tiki_tokens.dsn in PHP's INI"
        ),
    ))
}

/// The PHP binary to ask.
pub fn php_binary() -> String {
    std::env::var(PHP_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "php".into())
}

/// Runs PHP with `args`; `None` when there is no PHP to run.
pub fn run_php(args: &[&str]) -> Option<Output> {
    Command::new(php_binary()).args(args).output().ok()
}

/// The lines `name=<hex>` of PHP's output, decoded (other lines, e.g. a warning PHP printed on
/// stdout, are skipped).
fn tagged_values(stdout: &[u8]) -> Vec<(String, Vec<u8>)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| {
            let (name, hex) = line.split_once('=')?;
            Some((name.to_string(), unhex(hex)?))
        })
        .collect()
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `tiki_tokens.dsn` as the system's PHP sees it (`None` when PHP is missing, the extension
/// is not loaded, or the setting is empty).
fn ini_dsn() -> Option<String> {
    let code = r#"echo "\ntiki_tokens.dsn=", bin2hex((string) ini_get('tiki_tokens.dsn')), "\n";"#;
    let out = run_php(&["-d", "display_errors=stderr", "-r", code])?;
    let (_, value) = tagged_values(&out.stdout)
        .into_iter()
        .find(|(n, _)| n == "tiki_tokens.dsn")?;
    String::from_utf8(value).ok().filter(|d| !d.is_empty())
}

/// Reads the variables of a `db/local.php` (output buffered, so nothing the file prints gets
/// in the way) and prints each as `name=<hex>`, with the type rules of `dsnFromLocalPhp()`.
const READ_LOCAL_PHP: &str = r#"
ob_start();
$vars = (static function ($__file) { include $__file; return get_defined_vars(); })($argv[1]);
ob_end_clean();
foreach (['host_tiki', 'user_tiki', 'dbs_tiki', 'socket_tiki', 'pass_tiki'] as $name) {
    if (! isset($vars[$name])) { continue; }
    $value = $vars[$name];
    if ($name === 'pass_tiki') { $value = (string) $value; } elseif (! is_string($value)) { continue; }
    echo "\n", $name, '=', bin2hex($value), "\n";
}
"#;

/// The `local.php` of the Tiki site at `root`: `db/local.php`, or `db/NAME/local.php` for the
/// virtual site `NAME` of a MultiTiki. Where Tiki falls back to the main site when a virtual
/// site has no file, this refuses: a purge or a revocation must not reach another site's tokens.
fn local_php_file(root: &Path, site: Option<&str>) -> Result<PathBuf, Failure> {
    let config = |message: String| Failure::new(Exit::Config, message);
    let file = match site {
        None => root.join("db").join("local.php"),
        Some(name) if name == "." || name == ".." || name.contains(['/', '\\', '\0']) => {
            return Err(config(format!(
                "the site {name:?} (from --site, else {VIRTUAL_ENV}) is not a site name: the name of a \
                 directory under db/ is expected"
            )));
        }
        Some(name) => root.join("db").join(name).join("local.php"),
    };
    if file.is_file() {
        return Ok(file);
    }
    Err(config(match site {
        None => format!(
            "{} is not a Tiki root: {} does not exist",
            root.display(),
            file.display()
        ),
        Some(name) => format!(
            "the Tiki root {} has no site {name:?}: {} does not exist (the site comes from \
             --site, else {VIRTUAL_ENV})",
            root.display(),
            file.display()
        ),
    }))
}

/// The DSN of the Tiki site whose `local.php` is `file`.
fn from_local_php(file: &Path) -> Result<Found, Failure> {
    let file = file.to_path_buf();
    let path = file.to_string_lossy().into_owned();
    // -n: no INI files, so no extension loads while reading the site's settings.
    let out = run_php(&[
        "-n",
        "-d",
        "display_errors=stderr",
        "-r",
        READ_LOCAL_PHP,
        &path,
    ])
    .ok_or_else(|| {
        Failure::new(
            Exit::Config,
            format!(
                "reading {path} needs PHP, and `{}` cannot be run",
                php_binary()
            ),
        )
    })?;
    if !out.status.success() {
        // PHP's message is not shown: a parse error quotes the file, which holds a password.
        return Err(Failure::new(
            Exit::Config,
            format!(
                "PHP could not read {path} (exit status {}); `php -l {path}` tells why",
                out.status.code().unwrap_or(-1)
            ),
        ));
    }
    let vars = LocalVars::from_pairs(tagged_values(&out.stdout));
    let dsn = dsn_from_local(&vars).map_err(|m| Failure::new(Exit::Config, m))?;
    Ok(Found {
        dsn,
        source: Source::LocalPhp(file),
    })
}

/// The variables of a `db/local.php` that name the database (bytes, as PHP strings are).
#[derive(Debug, Default)]
pub struct LocalVars {
    host: Option<Vec<u8>>,
    user: Option<Vec<u8>>,
    dbs: Option<Vec<u8>>,
    socket: Option<Vec<u8>>,
    pass: Option<Vec<u8>>,
}

impl LocalVars {
    fn from_pairs(pairs: Vec<(String, Vec<u8>)>) -> Self {
        let mut v = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "host_tiki" => &mut v.host,
                "user_tiki" => &mut v.user,
                "dbs_tiki" => &mut v.dbs,
                "socket_tiki" => &mut v.socket,
                "pass_tiki" => &mut v.pass,
                _ => continue,
            };
            *slot = Some(value);
        }
        v
    }
}

/// `AuthTokens::dsnFromLocalPhp()` of `php/AuthTokens.php`, ported: `$host_tiki` may carry
/// PDO's keys after a semicolon (`db;port=3307`, `localhost;unix_socket=/run/…`: Tiki's PDO
/// connector puts it into `mysql:host=$host_tiki;…`), `[v6]:port`, a bare IPv6 address, `:port`
/// or `:/socket`; `$socket_tiki` wins over any socket in the host, as in Tiki; an empty host is
/// `localhost`; an IPv6 host goes in brackets; user, password, database and socket are
/// `rawurlencode`d.
///
/// # Errors
/// The message PHP throws when `$host_tiki`, `$user_tiki` or `$dbs_tiki` is missing.
pub fn dsn_from_local(v: &LocalVars) -> Result<String, String> {
    let need = |value: &Option<Vec<u8>>, name: &str| {
        value
            .clone()
            .ok_or_else(|| format!("${name} is missing from the site's db/local.php"))
    };
    let host_tiki = need(&v.host, "host_tiki")?;
    let user = need(&v.user, "user_tiki")?;
    let dbs = need(&v.dbs, "dbs_tiki")?;
    let mut pdo_keys = host_tiki.split(|&b| b == b';');
    let mut host = pdo_keys.next().unwrap_or_default().to_vec();
    let mut port = Vec::new();
    let mut socket = Vec::new();
    if let Some((h, p)) = split_bracketed(&host) {
        (host, port) = (h, p);
    } else if is_bare_ipv6(&host) {
        // no port in it
    } else if let Some((h, p)) = split_port(&host) {
        (host, port) = (h, p);
    } else if let Some((h, s)) = split_socket(&host) {
        (host, socket) = (h, s);
    }
    for pair in pdo_keys {
        if let Some(p) = pair.strip_prefix(b"port=") {
            if !p.is_empty() && p.iter().all(u8::is_ascii_digit) {
                port = p.to_vec();
            }
        } else if let Some(s) = pair.strip_prefix(b"unix_socket=")
            && !s.is_empty()
        {
            socket = s.to_vec();
        }
    }
    if let Some(s) = v.socket.as_ref().filter(|s| !s.is_empty()) {
        socket = s.clone();
    }
    if host.is_empty() {
        host = b"localhost".to_vec();
    }
    let pass = v.pass.clone().unwrap_or_default();
    let host = String::from_utf8_lossy(&host);
    let mut dsn = format!("mysql://{}", rawurlencode(&user));
    if !pass.is_empty() {
        dsn.push(':');
        dsn.push_str(&rawurlencode(&pass));
    }
    dsn.push('@');
    if host.contains(':') {
        dsn.push_str(&format!("[{host}]"));
    } else {
        dsn.push_str(&host);
    }
    if !port.is_empty() {
        dsn.push(':');
        dsn.push_str(&String::from_utf8_lossy(&port));
    }
    dsn.push('/');
    dsn.push_str(&rawurlencode(&dbs));
    if !socket.is_empty() {
        dsn.push_str("?socket=");
        dsn.push_str(&rawurlencode(&socket));
    }
    Ok(dsn)
}

/// The part of `s` a PCRE pattern `^…$` (no flags) can span: `.` stops at a newline and `$`
/// also matches before a final newline. `None` when a newline is inside.
fn single_line(s: &[u8]) -> Option<&[u8]> {
    let body = s.strip_suffix(b"\n").unwrap_or(s);
    (!body.contains(&b'\n')).then_some(body)
}

/// PHP's `preg_match('/^\[([^\]]*)\](?::(\d+))?$/D', $host)`: `[v6]` or `[v6]:port`.
fn split_bracketed(host: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let inner_end = host.iter().position(|&b| b == b']')?;
    let inner = host.strip_prefix(b"[")?.get(..inner_end - 1)?;
    match &host[inner_end + 1..] {
        [] => Some((inner.to_vec(), Vec::new())),
        [b':', port @ ..] if !port.is_empty() && port.iter().all(u8::is_ascii_digit) => {
            Some((inner.to_vec(), port.to_vec()))
        }
        _ => None,
    }
}

/// Two colons or more and no `/`: a bare IPv6 address (`::1`, `fe80::1`), never `host:port`.
fn is_bare_ipv6(host: &[u8]) -> bool {
    host.iter().filter(|&&b| b == b':').count() >= 2 && !host.contains(&b'/')
}

/// PHP's `preg_match('/^(.*):(\d+)$/', $host)`: the greedy `.*` takes the last colon.
fn split_port(host: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let body = single_line(host)?;
    let at = body.iter().rposition(|&b| b == b':')?;
    let port = &body[at + 1..];
    (!port.is_empty() && port.iter().all(u8::is_ascii_digit))
        .then(|| (body[..at].to_vec(), port.to_vec()))
}

/// PHP's `preg_match('/^(.*):(\/.+)$/', $host)`: the last colon followed by `/` and more.
fn split_socket(host: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let body = single_line(host)?;
    (0..body.len())
        .rev()
        .find(|&i| body[i] == b':' && body.get(i + 1) == Some(&b'/') && body.len() > i + 2)
        .map(|i| (body[..i].to_vec(), body[i + 1..].to_vec()))
}

/// PHP's `rawurlencode`: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`.
fn rawurlencode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(host: &str, socket: Option<&str>, pass: Option<&str>) -> LocalVars {
        LocalVars {
            host: Some(host.into()),
            user: Some(b"tiki user".to_vec()),
            dbs: Some(b"tiki/db".to_vec()),
            socket: socket.map(Into::into),
            pass: pass.map(Into::into),
        }
    }

    #[test]
    fn hosts_ports_and_sockets_split_as_preg_match_does() {
        assert_eq!(
            split_bracketed(b"[::1]:3307"),
            Some((b"::1".to_vec(), b"3307".to_vec()))
        );
        assert_eq!(split_bracketed(b"[::1]"), Some((b"::1".to_vec(), vec![])));
        assert_eq!(split_bracketed(b"[]"), Some((vec![], vec![])));
        assert_eq!(split_bracketed(b"[::1]:"), None);
        assert_eq!(split_bracketed(b"[::1]\n"), None);
        assert_eq!(split_bracketed(b"x[::1]"), None);
        assert_eq!(split_bracketed(b"]"), None);
        assert!(is_bare_ipv6(b"fe80::1") && !is_bare_ipv6(b"db:3307") && !is_bare_ipv6(b"a::/s"));
        assert_eq!(
            split_port(b"db:3307"),
            Some((b"db".to_vec(), b"3307".to_vec()))
        );
        assert_eq!(
            split_port(b"::1:3307"),
            Some((b"::1".to_vec(), b"3307".to_vec()))
        );
        assert_eq!(
            split_port(b"db:3307\n"),
            Some((b"db".to_vec(), b"3307".to_vec()))
        );
        assert_eq!(split_port(b"d\nb:3307"), None);
        assert_eq!(split_port(b"db:"), None);
        assert_eq!(split_port(b"db:33x"), None);
        assert_eq!(
            split_socket(b"h:/a:b"),
            Some((b"h".to_vec(), b"/a:b".to_vec()))
        );
        assert_eq!(
            split_socket(b"localhost:/run/mysqld/mysqld.sock"),
            Some((b"localhost".to_vec(), b"/run/mysqld/mysqld.sock".to_vec()))
        );
        assert_eq!(split_socket(b"h:/"), None);
    }

    #[test]
    fn dsns_are_built_as_auth_tokens_php_builds_them() {
        let dsn = |v: &LocalVars| dsn_from_local(v).unwrap();
        assert_eq!(
            dsn(&vars("", None, Some("p@ss word"))),
            "mysql://tiki%20user:p%40ss%20word@localhost/tiki%2Fdb"
        );
        assert_eq!(
            dsn(&vars("::1", Some("/s k"), None)),
            "mysql://tiki%20user@[::1]/tiki%2Fdb?socket=%2Fs%20k"
        );
        assert_eq!(
            dsn(&vars("[fe80::1]:3307", None, None)),
            "mysql://tiki%20user@[fe80::1]:3307/tiki%2Fdb"
        );
        assert_eq!(
            dsn(&vars("[::1]x", None, None)),
            "mysql://tiki%20user@[[::1]x]/tiki%2Fdb",
            "not a bracketed address: kept whole, as PHP does"
        );
        assert_eq!(
            dsn(&vars("db.example;port=3308", None, None)),
            "mysql://tiki%20user@db.example:3308/tiki%2Fdb"
        );
        assert_eq!(
            dsn(&vars(
                "localhost;unix_socket=/run/m.sock;port=x",
                None,
                None
            )),
            "mysql://tiki%20user@localhost/tiki%2Fdb?socket=%2Frun%2Fm.sock"
        );
        assert_eq!(
            // Tiki connects through $socket_tiki whatever the host says.
            dsn(&vars("localhost:/x.sock", Some("/tiki.sock"), Some(""))),
            "mysql://tiki%20user@localhost/tiki%2Fdb?socket=%2Ftiki.sock"
        );
        assert_eq!(
            dsn(&vars("localhost:/x.sock", Some(""), None)),
            "mysql://tiki%20user@localhost/tiki%2Fdb?socket=%2Fx.sock"
        );
        let missing = dsn_from_local(&LocalVars {
            dbs: None,
            ..vars("h", None, None)
        });
        assert_eq!(
            missing.unwrap_err(),
            "$dbs_tiki is missing from the site's db/local.php"
        );
        assert_eq!(unhex("6869"), Some(b"hi".to_vec()));
        assert_eq!(unhex("6"), None);
    }
}
