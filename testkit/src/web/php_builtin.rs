//! `php -S`: PHP's built-in web server.
//!
//! It has no rewrite rules; its equivalent is a router script, which runs first for every
//! request and either returns `false` (php -S then serves the request as it would without one)
//! or handles it. The router of a front controller is the repository's `php/php_s_router.php`
//! (also the demo's), with the base as INI `tiki_tokens_router.base`: it does what Tiki's
//! `.htaccess` asks of Apache: a path below the base that names an existing file or directory
//! is served as it is; any other goes to `<base>route.php`, with `SCRIPT_NAME`, `PHP_SELF` and
//! `SCRIPT_FILENAME` set to route.php's as a rewrite sets them (php -S would otherwise name the
//! router, or an `index.php` further up with the rest as `PATH_INFO`). `REQUEST_URI` stays the
//! raw request, as under a rewrite.

use super::{Layout, Setup, Started};
use crate::procs::Group;
use std::process::Stdio;

/// The PHP arguments of a setup: `-n` (no php.ini), the extension, the INI settings.
pub(super) fn php_args(setup: &Setup) -> Vec<String> {
    let mut args = vec!["-n".to_string()];
    if setup.extension {
        args.push("-d".into());
        args.push(crate::ext::extension_ini());
    }
    for (name, value) in &setup.ini {
        args.push("-d".into());
        args.push(crate::ext::ini_arg(name, value));
    }
    args
}

/// `php -n [-d …] -S 127.0.0.1:<port> -t <docroot> [router]`, output to `server.log`.
pub(super) fn start(setup: &Setup, at: &Layout) -> Started {
    let log = at.dir.join("server.log");
    let mut cmd = crate::php::command();
    cmd.args(php_args(setup));
    if let Some(front) = &setup.front_controller {
        cmd.arg("-d")
            .arg(crate::ext::ini_arg("tiki_tokens_router.base", &front.base));
    }
    cmd.arg("-S")
        .arg(format!("127.0.0.1:{}", at.port))
        .arg("-t")
        .arg(at.docroot);
    if setup.front_controller.is_some() {
        cmd.arg(crate::repo().join("php/php_s_router.php"));
    }
    cmd.current_dir(at.dir)
        .envs(setup.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("server log"));
    if setup.workers > 1 {
        cmd.env("PHP_CLI_SERVER_WORKERS", setup.workers.to_string());
    }
    Started {
        groups: vec![Group::spawn(cmd, "php -S")],
        logs: vec![log],
    }
}
