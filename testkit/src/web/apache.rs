//! Apache 2.4 with mod_php: Debian's `apache2` binary on a configuration file of its own
//! (`apache2 -d <dir> -f <dir>/httpd.conf -DFOREGROUND`: not `apache2ctl`, whose environment
//! file names /etc and /var paths), prefork MPM, the modules loaded from
//! /usr/lib/apache2/modules, its pid file, runtime directory, mutexes and error log in its own
//! directory. PHP reads `<dir>/php.ini` through `PHPRC` (see [`super`]).
//!
//! The front controller's rules are Tiki's `_htaccess`, as a `.htaccess` file in the base
//! directory (`AllowOverride All` on the document root):
//!
//! ```text
//! RewriteEngine On
//! RewriteCond %{REQUEST_FILENAME} !-f
//! RewriteCond %{REQUEST_FILENAME} !-d
//! RewriteRule . route.php [L]
//! ```
//!
//! With [`super::FrontController::apache_engine_at_server_level`], the server configuration
//! also says `RewriteEngine on`: mod_rewrite then sets `SCRIPT_URL` (the path decoded, `//`
//! merged, dot segments resolved) for every request, and route.php reads it instead of
//! `REQUEST_URI`.
//!
//! Its own process group matters twice here: prefork's parent, shutting down, sends SIGTERM to
//! its whole process group (`killpg(getpgrp())`), which would hit the test process itself were
//! Apache in the test's group.
//!
//! Apache refuses to serve as root: when the tests run as root, the children run as `www-data`
//! (which must be able to read the server's directory: `target/` is world-readable).

use super::{Layout, Setup, Started, find_program, missing_program, write_file};
use crate::procs::Group;
use std::path::Path;
use std::process::Stdio;

const MODULES: &str = "/usr/lib/apache2/modules";

/// Why Apache with mod_php cannot run here, if it cannot.
pub(super) fn missing() -> Option<String> {
    if let Some(why) = missing_program("apache2") {
        return Some(format!("{why} (Debian package apache2)"));
    }
    for (module, package) in [
        ("libphp8.2.so", "libapache2-mod-php8.2"),
        ("mod_rewrite.so", "apache2"),
        ("mod_mpm_prefork.so", "apache2"),
    ] {
        if !Path::new(MODULES).join(module).is_file() {
            return Some(format!(
                "{MODULES}/{module} is missing (Debian package {package})"
            ));
        }
    }
    None
}

/// `php.ini` of the server: the extension and the settings (values quoted).
fn php_ini(setup: &Setup) -> String {
    let mut ini = String::from("; written by testkit/src/web/apache.rs\n");
    if setup.extension {
        ini.push_str(&crate::ext::extension_ini());
        ini.push('\n');
    }
    for (name, value) in &setup.ini {
        ini.push_str(&crate::ext::ini_arg(name, value));
        ini.push('\n');
    }
    ini
}

/// The server configuration.
fn httpd_conf(setup: &Setup, at: &Layout) -> String {
    let dir = at.dir.display();
    let docroot = at.docroot.display();
    let workers = setup.workers.max(2);
    let user = if is_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let engine = match &setup.front_controller {
        Some(f) if f.apache_engine_at_server_level => "RewriteEngine on\n",
        _ => "",
    };
    format!(
        r#"# written by testkit/src/web/apache.rs
ServerRoot "{dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{dir}/run/httpd.pid"
DefaultRuntimeDir "{dir}/run"
Mutex file:{dir}/run default
ErrorLog "{dir}/error.log"
LogLevel warn
LoadModule mpm_prefork_module {MODULES}/mod_mpm_prefork.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule rewrite_module {MODULES}/mod_rewrite.so
LoadModule php_module {MODULES}/libphp8.2.so
{user}StartServers {workers}
MinSpareServers {workers}
MaxSpareServers {workers}
MaxRequestWorkers {workers}
DocumentRoot "{docroot}"
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "{docroot}">
  AllowOverride All
  Require all granted
</Directory>
DirectoryIndex index.php
<FilesMatch "\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
{engine}"#,
        port = at.port,
    )
}

/// Tiki's `_htaccess` rules.
const HTACCESS: &str = "RewriteEngine On\n\
RewriteCond %{REQUEST_FILENAME} !-f\n\
RewriteCond %{REQUEST_FILENAME} !-d\n\
RewriteRule . route.php [L]\n";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// As root, Apache's children run as `www-data`, which must be able to enter every directory
/// above the server's: a clear failure instead of a 403 for every request.
fn check_www_data_can_enter(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        return;
    }
    for ancestor in dir.ancestors() {
        let mode = std::fs::metadata(ancestor).map_or(0o755, |m| m.permissions().mode());
        assert!(
            mode & 0o001 != 0,
            "Apache's children run as www-data (the tests run as root) and cannot enter {} \
             (mode {mode:o}): make it world-executable (chmod o+x) or run the tests as another user",
            ancestor.display()
        );
    }
}

/// Writes the configuration (and the `.htaccess` of a front controller) and starts Apache in
/// the foreground, in its own process group.
pub(super) fn start(setup: &Setup, at: &Layout) -> Started {
    check_www_data_can_enter(at.dir);
    std::fs::create_dir_all(at.dir.join("run")).expect("apache run directory");
    write_file(&at.dir.join("php.ini"), &php_ini(setup));
    write_file(&at.dir.join("httpd.conf"), &httpd_conf(setup, at));
    if let Some(front) = &setup.front_controller {
        let site = at.docroot.join(front.base.trim_start_matches('/'));
        std::fs::create_dir_all(&site).expect("site directory");
        write_file(&site.join(".htaccess"), HTACCESS);
    }
    let out = at.dir.join("apache.out");
    let mut cmd = crate::procs::command(find_program("apache2"));
    cmd.arg("-d")
        .arg(at.dir)
        .arg("-f")
        .arg(at.dir.join("httpd.conf"))
        .arg("-DFOREGROUND")
        .current_dir(at.dir)
        .env("PHPRC", at.dir)
        .env("PHP_INI_SCAN_DIR", "")
        .envs(setup.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("apache output"))
        .stderr(Stdio::from(
            std::fs::File::options()
                .append(true)
                .open(&out)
                .expect("apache output"),
        ));
    Started {
        groups: vec![Group::spawn(cmd, "apache2")],
        logs: vec![out, at.dir.join("error.log")],
    }
}
