//! The Debian package built by `scripts/package.sh` (path in `TIKI_TOKENS_DEB`; `scripts/test.sh`
//! builds it and sets it): its control fields, its file list with owners and modes, the
//! conffile, the maintainer scripts, the md5sums, and what the files are — the extension loads
//! into PHP and its INI file documents the extension's real defaults, the command runs, the
//! drop-in and stubs are the repository's. Nothing is installed: the package is only read
//! (`scripts/package_roundtrip.sh` installs and removes it, outside the test suite).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The package: `$TIKI_TOKENS_DEB`, or a failed test that says how to build it.
fn deb() -> PathBuf {
    let how = "build it first: scripts/package.sh (prints its path), then run the tests with \
               TIKI_TOKENS_DEB=<that path> (scripts/test.sh does both)";
    let path = std::env::var_os("TIKI_TOKENS_DEB")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| panic!("TIKI_TOKENS_DEB is not set: {how}"));
    let path = PathBuf::from(path);
    assert!(path.is_file(), "{} is not a file: {how}", path.display());
    path
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn php_config(what: &str) -> String {
    run("php-config", &[what]).trim().to_string()
}

fn php_minor() -> String {
    let v = php_config("--version");
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn field(name: &str) -> String {
    run("dpkg-deb", &["-f", deb().to_str().unwrap(), name])
        .trim()
        .to_string()
}

/// The package's contents unpacked (data and control) into a fresh directory under target/,
/// removed when dropped.
struct Unpacked {
    dir: PathBuf,
    data: PathBuf,
    control: PathBuf,
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unpacked() -> Unpacked {
    let dir = testkit::repo()
        .join("target")
        .join(format!("package-test-{}", std::process::id()))
        .join(format!("{:?}", std::thread::current().id()).replace(['(', ')'], ""));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (data, control) = (dir.join("data"), dir.join("control"));
    let deb = deb();
    run(
        "dpkg-deb",
        &["-x", deb.to_str().unwrap(), data.to_str().unwrap()],
    );
    run(
        "dpkg-deb",
        &["-e", deb.to_str().unwrap(), control.to_str().unwrap()],
    );
    Unpacked { dir, data, control }
}

#[test]
fn control_fields_name_the_php_api_it_was_built_for() {
    let minor = php_minor();
    assert_eq!(field("Package"), format!("php{minor}-tiki-tokens"));
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        field("Architecture"),
        run("dpkg", &["--print-architecture"]).trim()
    );
    let depends = field("Depends");
    let deps: Vec<&str> = depends.split(", ").collect();
    assert_eq!(
        deps[0],
        format!("phpapi-{}", php_config("--phpapi")),
        "{depends}"
    );
    assert!(
        deps.contains(&"php-common"),
        "phpenmod is in php-common: {depends}"
    );
    assert!(
        deps.iter().any(|d| d.starts_with("libc6 (>= ")),
        "dpkg-shlibdeps' libc6: {depends}"
    );
    assert!(
        !depends.contains("php8.2-cli"),
        "any SAPI will do: {depends}"
    );
    for name in ["Maintainer", "Section", "Priority", "Description"] {
        assert!(!field(name).is_empty(), "{name}");
    }
    assert!(field("Installed-Size").parse::<u64>().unwrap() > 1000);
    // The filename scripts/package.sh gave it.
    let file = deb().file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        file,
        format!(
            "php{minor}-tiki-tokens_{}-1_{}.deb",
            env!("CARGO_PKG_VERSION"),
            field("Architecture")
        )
    );
}

#[test]
fn the_file_list_is_exactly_what_debian_expects() {
    let minor = php_minor();
    let ext_dir = php_config("--extension-dir");
    let listing = run("dpkg-deb", &["-c", deb().to_str().unwrap()]);
    // path → (mode, owner) of every file (directories are checked for their owner only).
    let mut files = BTreeMap::new();
    for line in listing.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (mode, owner, path) = (cols[0], cols[1], cols[cols.len() - 1]);
        assert_eq!(owner, "root/root", "{line}");
        if !mode.starts_with('d') {
            files.insert(path.trim_start_matches('.').to_string(), mode.to_string());
        }
    }
    let doc = format!("/usr/share/doc/php{minor}-tiki-tokens");
    let expected: BTreeMap<String, String> = [
        (
            format!("/etc/php/{minor}/mods-available/tiki_tokens.ini"),
            "-rw-r--r--",
        ),
        (format!("{ext_dir}/tiki_tokens.so"), "-rw-r--r--"),
        ("/usr/bin/tiki-tokens".into(), "-rwxr-xr-x"),
        ("/usr/share/tiki-tokens/AuthTokens.php".into(), "-rw-r--r--"),
        (
            "/usr/share/tiki-tokens/stubs/tiki_tokens.stub.php".into(),
            "-rw-r--r--",
        ),
        (format!("{doc}/changelog.Debian.gz"), "-rw-r--r--"),
        (format!("{doc}/copyright"), "-rw-r--r--"),
    ]
    .into_iter()
    .map(|(p, m)| (p, m.to_string()))
    .collect();
    assert_eq!(files, expected, "{listing}");
}

#[test]
fn the_ini_file_is_a_conffile_and_the_maintainer_scripts_use_phpenmod() {
    let minor = php_minor();
    let unpacked = unpacked();
    let control = &unpacked.control;
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(
        conffiles,
        format!("/etc/php/{minor}/mods-available/tiki_tokens.ini\n")
    );
    let want = [
        (
            "postinst",
            format!("php_invoke enmod {minor} ALL tiki_tokens"),
        ),
        (
            "prerm",
            format!("php_invoke dismod {minor} ALL tiki_tokens"),
        ),
        (
            "postrm",
            // On purge the INI file is gone: phpdismod forgets the state only with -p.
            format!("phpdismod -p -f -m -q -v {minor} -s \"$sapi\" tiki_tokens"),
        ),
    ];
    for (script, call) in want {
        let path = control.join(script);
        let text = std::fs::read_to_string(&path).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(&path.metadata().unwrap().permissions());
        assert_eq!(mode & 0o777, 0o755, "{script} is executable");
        assert!(text.starts_with("#!/bin/sh\n"), "{script}");
        assert!(text.contains(&call), "{script}: {text}");
        assert!(!text.contains("@PHPVER@"), "{script}: {text}");
        run("sh", &["-n", path.to_str().unwrap()]);
    }
    // enmod only on configure, dismod only on remove (not on upgrade) and on purge.
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains(r#"[ "$1" = "configure" ]"#));
    let prerm = std::fs::read_to_string(control.join("prerm")).unwrap();
    assert!(prerm.contains(r#"[ "$1" = "remove" ]"#));
    let postrm = std::fs::read_to_string(control.join("postrm")).unwrap();
    assert!(postrm.contains(r#"[ "$1" = "purge" ]"#));
}

#[test]
fn md5sums_cover_every_file() {
    let unpacked = unpacked();
    let (data, control) = (&unpacked.data, &unpacked.control);
    let sums = std::fs::read_to_string(control.join("md5sums")).unwrap();
    assert_eq!(sums.lines().count(), 7, "{sums}");
    let out = Command::new("md5sum")
        .arg("-c")
        .arg(control.join("md5sums"))
        .current_dir(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The extension's value of an INI entry, by real PHP loading the packaged `.so`.
fn ini_get(so: &Path, name: &str) -> String {
    let code = format!("echo ini_get('{name}');");
    let out = run(
        "php",
        &[
            "-n",
            "-d",
            &format!("extension={}", so.display()),
            "-r",
            &code,
        ],
    );
    out.trim().to_string()
}

#[test]
fn the_files_are_the_extension_the_command_and_the_repositorys_php() {
    let minor = php_minor();
    let unpacked = unpacked();
    let data = &unpacked.data;
    let so = data
        .join(php_config("--extension-dir").trim_start_matches('/'))
        .join("tiki_tokens.so");
    let info = run(
        "php",
        &[
            "-n",
            "-d",
            &format!("extension={}", so.display()),
            "--ri",
            "tiki_tokens",
        ],
    );
    assert!(info.contains("tiki_tokens"), "{info}");
    // The INI file: the extension line, the DSN commented out, and every documented default
    // is the extension's own.
    let ini_path = data.join(format!("etc/php/{minor}/mods-available/tiki_tokens.ini"));
    let ini = std::fs::read_to_string(ini_path).unwrap();
    assert!(
        ini.lines().any(|l| l == "extension=tiki_tokens.so"),
        "{ini}"
    );
    assert!(ini.contains("; priority=20"));
    assert!(
        !ini.lines().any(|l| l.starts_with("tiki_tokens.")),
        "all commented out: {ini}"
    );
    let mut documented = 0;
    for line in ini.lines().filter_map(|l| l.strip_prefix(";tiki_tokens.")) {
        let (name, value) = line.split_once(" = ").unwrap();
        if name != "dsn" {
            assert_eq!(
                ini_get(&so, &format!("tiki_tokens.{name}")),
                value,
                "{name}"
            );
            documented += 1;
        }
    }
    assert_eq!(documented, 5, "{ini}");
    // The command, and the PHP files as in the repository.
    let version = run(
        data.join("usr/bin/tiki-tokens").to_str().unwrap(),
        &["--version"],
    );
    assert_eq!(
        version.trim(),
        format!("tiki-tokens {}", env!("CARGO_PKG_VERSION"))
    );
    let repo = testkit::repo();
    for (packaged, source) in [
        ("usr/share/tiki-tokens/AuthTokens.php", "php/AuthTokens.php"),
        (
            "usr/share/tiki-tokens/stubs/tiki_tokens.stub.php",
            "php/stubs/tiki_tokens.stub.php",
        ),
    ] {
        assert_eq!(
            std::fs::read(data.join(packaged)).unwrap(),
            std::fs::read(repo.join(source)).unwrap(),
            "{packaged}"
        );
    }
    // Changelog at the package's version, and the licence.
    let doc = data.join(format!("usr/share/doc/php{minor}-tiki-tokens"));
    let changelog = run(
        "gzip",
        &["-dc", doc.join("changelog.Debian.gz").to_str().unwrap()],
    );
    assert!(
        changelog.starts_with(&format!("tiki-tokens ({}-1) ", env!("CARGO_PKG_VERSION"))),
        "{changelog}"
    );
    let copyright = std::fs::read_to_string(doc.join("copyright")).unwrap();
    assert!(
        copyright.contains("License: LGPL-2.1-or-later"),
        "{copyright}"
    );
    assert!(env!("CARGO_PKG_LICENSE") == "LGPL-2.1-or-later");
}
