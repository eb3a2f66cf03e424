//! Real web servers for the HTTP tests, one type with three backends: PHP's built-in server
//! (`php -S`), Apache 2.4 with mod_php (Debian's `apache2` and `libapache2-mod-php8.2`), and
//! nginx in front of PHP-FPM (Debian's `nginx` and `php8.2-fpm`). Each is started on a free
//! loopback port with every file of its own (document root, configuration, `php.ini`, logs, pid
//! files, runtime directory) in a directory of its own under `target/test-servers/<run id>/`,
//! never touching system configuration (`/etc` is not read for any of them, no service is
//! started).
//!
//! Every process of a server runs in a process group of its own ([`crate::procs::Group`]) with
//! its working directory in the server's directory; dropping the [`WebServer`] stops each group
//! (forked workers included) and removes the directory, unless the test is failing: then the
//! directory stays for its logs and its path is printed.
//!
//! A server may run a front controller ([`Setup::front_controller`]): requests below a base path
//! that name no existing file or directory go to `<base>route.php`, with the rewrite rules Tiki
//! documents (see each backend's module).
//!
//! How each backend gets PHP settings and the extension:
//! * `php -S`: `php -n -d extension=… -d name="value" -S …`, environment from its own.
//! * Apache (mod_php): `PHPRC=<dir>` and `PHP_INI_SCAN_DIR=` (empty) in the environment of
//!   `apache2`, so that mod_php reads `<dir>/php.ini` (written here: `extension=…` and the
//!   settings) and no system `conf.d`. Checked by hand (Apache 2.4.71, PHP 8.2.36):
//!   `php_admin_value extension <path>` leaves the extension unloaded (and PHP reads
//!   /etc/php/8.2/apache2/php.ini), so does `SetEnv PHPRC <dir>` (mod_php reads its INI when
//!   Apache starts, before any request); `PHPRC` in apache2's process environment works, and so
//!   does mod_php's own `PHPIniDir <dir>` directive. (PHP also looks for php.ini in the working
//!   directory under a server SAPI, which is `<dir>` here too.) `tests/harness.rs` checks the
//!   result with `extension_loaded()` and `ini_get()`. Environment for PHP: the process
//!   environment of `apache2` (children inherit it).
//! * PHP-FPM: `php-fpm8.2 -n -d extension=…`, settings as `php_admin_value[…]` and environment
//!   as `env[…]` in its pool (FPM clears the environment).

mod apache;
mod nginx_fpm;
mod php_builtin;

use crate::procs::{Group, free_port, servers_dir, wait_for_port};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Which web server serves PHP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PHP's built-in web server, `php -S` (workers from [`Setup::workers`]).
    PhpBuiltin,
    /// Apache 2.4, prefork MPM, PHP as mod_php.
    Apache,
    /// nginx with PHP-FPM behind it (FastCGI over a loopback port).
    NginxFpm,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::PhpBuiltin, Backend::Apache, Backend::NginxFpm];

    /// A short name for messages and directory names.
    pub fn name(self) -> &'static str {
        match self {
            Backend::PhpBuiltin => "php-S",
            Backend::Apache => "apache",
            Backend::NginxFpm => "nginx-fpm",
        }
    }

    /// Why this backend cannot run on this machine (a program or module is missing), or `None`
    /// when it can. A test skips a backend only for this reason, and prints it.
    pub fn missing(self) -> Option<String> {
        match self {
            Backend::PhpBuiltin => missing_program(&crate::php::php_binary().to_string_lossy()),
            Backend::Apache => apache::missing(),
            Backend::NginxFpm => nginx_fpm::missing(),
        }
    }

    /// True when this backend can run here; otherwise prints `SKIPPED <label>: <why>` on stdout
    /// and stderr (the test's output and the run's log both show it) and returns false.
    pub fn runs_here(self, label: &str) -> bool {
        match self.missing() {
            None => true,
            Some(why) => {
                println!("SKIPPED {label}: {why}");
                eprintln!("SKIPPED {label}: {why}");
                false
            }
        }
    }

    /// Every backend that can run here; each other one is skipped with its reason printed.
    pub fn runnable() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| b.runs_here(b.name()))
            .collect()
    }
}

/// `Some(why)` when `program` is not found on PATH (nor in /usr/sbin, /sbin).
fn missing_program(program: &str) -> Option<String> {
    if program.contains('/') {
        return (!Path::new(program).is_file()).then(|| format!("{program} does not exist"));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .any(|dir| Path::new(dir).join(program).is_file());
    (!found).then(|| format!("{program} is not installed"))
}

/// The full path of `program` (PATH, then /usr/sbin, /sbin).
fn find_program(program: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(program))
}

/// A front controller: the requests below `base` that name no existing file or directory are
/// served by `<base>route.php`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontController {
    /// The site's base path, starting and ending with `/` (e.g. `/tiki/`).
    pub base: String,
    /// Apache only: also `RewriteEngine on` at server level (besides the `.htaccess` rules),
    /// which makes mod_rewrite set `SCRIPT_URL` (the decoded path) for route.php.
    pub apache_engine_at_server_level: bool,
}

/// How to start a server: which backend, and what PHP gets.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The web server.
    pub backend: Backend,
    /// Load the built extension ([`crate::ext::extension`]).
    pub extension: bool,
    /// PHP INI settings (`name`, `value`).
    pub ini: Vec<(String, String)>,
    /// Environment of the PHP processes (`name`, `value`).
    pub env: Vec<(String, String)>,
    /// PHP processes serving requests at once (`php -S`: `PHP_CLI_SERVER_WORKERS` when above 1;
    /// Apache: prefork children; FPM: static workers).
    pub workers: usize,
    /// Rewrite rules to a front controller, if any.
    pub front_controller: Option<FrontController>,
}

impl Setup {
    /// `backend` serving plain PHP (no extension, no settings), one worker, no rewriting.
    pub fn new(backend: Backend) -> Setup {
        Setup {
            backend,
            extension: false,
            ini: Vec::new(),
            env: Vec::new(),
            workers: 1,
            front_controller: None,
        }
    }

    /// With the extension loaded.
    #[must_use]
    pub fn with_extension(mut self) -> Setup {
        self.extension = true;
        self
    }

    /// With the INI setting `name` = `value`.
    #[must_use]
    pub fn ini(mut self, name: &str, value: &str) -> Setup {
        self.ini.push((name.into(), value.into()));
        self
    }

    /// With `name` = `value` in the environment of PHP.
    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> Setup {
        self.env.push((name.into(), value.into()));
        self
    }

    /// With `n` workers.
    #[must_use]
    pub fn workers(mut self, n: usize) -> Setup {
        self.workers = n;
        self
    }

    /// With the front controller `<base>route.php` for the paths below `base` that are no file
    /// or directory (`base` starts and ends with `/`).
    #[must_use]
    pub fn front_controller(mut self, base: &str, apache_engine_at_server_level: bool) -> Setup {
        assert!(
            base.starts_with('/') && base.ends_with('/'),
            "base {base:?} must start and end with /"
        );
        self.front_controller = Some(FrontController {
            base: base.into(),
            apache_engine_at_server_level,
        });
        self
    }

    /// The name of this set-up in messages: the backend, and `+server-rewrite` for Apache with
    /// `RewriteEngine on` at server level.
    pub fn label(&self) -> String {
        let server_level = self
            .front_controller
            .as_ref()
            .is_some_and(|f| f.apache_engine_at_server_level);
        if self.backend == Backend::Apache && server_level {
            "apache+server-rewrite".into()
        } else {
            self.backend.name().into()
        }
    }
}

/// One HTTP response.
pub struct HttpResponse {
    /// The status code (`200`, `404`, …; 0 when the server sent no status line).
    pub status: u16,
    /// The header lines after the status line (lossy UTF-8).
    pub head: String,
    /// The body, as bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Where a backend's files go, handed to its start function.
struct Layout<'a> {
    /// The server's own directory (configuration, logs, runtime files; the working directory).
    dir: &'a Path,
    /// The document root.
    docroot: &'a Path,
    /// The port to listen on (127.0.0.1).
    port: u16,
}

/// What a backend's start function gives back: its process groups, in the order to stop them,
/// and its log files.
struct Started {
    groups: Vec<Group>,
    logs: Vec<PathBuf>,
}

/// A running web server. Stopped (every process group) and its directory removed when dropped.
pub struct WebServer {
    started: Started,
    label: String,
    port: u16,
    dir: PathBuf,
    docroot: PathBuf,
}

impl WebServer {
    /// Starts `setup` in a fresh directory `target/test-servers/<run>/<hint>-<label>-<pid>-<n>/`
    /// whose `www/` is the (empty) document root, and waits until it accepts connections.
    /// Panics when the backend is missing: call [`Backend::missing`] first to skip it.
    pub fn start(hint: &str, setup: &Setup) -> WebServer {
        if let Some(why) = setup.backend.missing() {
            panic!("{} cannot run: {why}", setup.label());
        }
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let label = setup.label();
        let dir = servers_dir().join(format!("{hint}-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let docroot = dir.join("www");
        std::fs::create_dir_all(&docroot)
            .unwrap_or_else(|e| panic!("create {}: {e}", docroot.display()));
        let port = free_port();
        let layout = Layout {
            dir: &dir,
            docroot: &docroot,
            port,
        };
        let started = match setup.backend {
            Backend::PhpBuiltin => php_builtin::start(setup, &layout),
            Backend::Apache => apache::start(setup, &layout),
            Backend::NginxFpm => nginx_fpm::start(setup, &layout),
        };
        let mut server = WebServer {
            started,
            label,
            port,
            dir,
            docroot,
        };
        let logs = server.started.logs.clone();
        let front = server
            .started
            .groups
            .last_mut()
            .expect("a server has a process");
        wait_for_port(port, front, Duration::from_secs(30), || read_logs(&logs));
        server
    }

    /// The name of the set-up (backend and variant).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The document root (files may be added while it runs).
    pub fn docroot(&self) -> &Path {
        &self.docroot
    }

    /// What the server (and PHP) logged so far, every log file one after the other.
    pub fn log_text(&self) -> String {
        read_logs(&self.started.logs)
    }

    /// The exit status of a main process that has exited (a crash), if any.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.started.groups.iter_mut().find_map(Group::exited)
    }

    /// The live processes of the server (main processes and workers).
    pub fn processes(&self) -> Vec<u32> {
        self.started
            .groups
            .iter()
            .flat_map(Group::members)
            .collect()
    }

    /// Sends `GET <target> HTTP/1.0` in one write over a raw TCP connection (nothing
    /// re-encodes `target`) and reads the whole response.
    pub fn get(&self, target: &[u8]) -> HttpResponse {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        // One write: php -S answers "Malformed HTTP request" to a request cut after "GET ".
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(target);
        req.extend_from_slice(b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        s.write_all(&req).expect("send request");
        let mut resp = Vec::new();
        // The server may close early on a request it refuses: keep what was read.
        let _ = s.read_to_end(&mut resp);
        parse_response(&resp)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        // The front (nginx) before what serves it (FPM): the order of `groups`, reversed.
        for group in self.started.groups.iter_mut().rev() {
            group.stop();
        }
        if std::thread::panicking() {
            eprintln!(
                "{} server of a failing test: its files and logs stay in {}",
                self.label,
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The log files, each under a header line.
fn read_logs(logs: &[PathBuf]) -> String {
    logs.iter()
        .map(|l| {
            format!(
                "--- {} ---\n{}",
                l.display(),
                std::fs::read_to_string(l).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Status, head and body of a raw HTTP response.
fn parse_response(resp: &[u8]) -> HttpResponse {
    let head_end = resp.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match head_end {
        Some(i) => (&resp[..i], resp[i + 4..].to_vec()),
        None => (resp, Vec::new()),
    };
    let mut lines = head.splitn(2, |&b| b == b'\n');
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(|&b| b == b' ')
        .nth(1)
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let head = String::from_utf8_lossy(lines.next().unwrap_or_default()).replace('\r', "");
    HttpResponse { status, head, body }
}

/// Writes `text` to `path` (a configuration file), failing the test when it cannot.
fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Lays out the demo site of the repository around `docroot`: `php/www/*` into it,
/// `php/AuthTokens.php` beside it (`token_gate.php` requires `../AuthTokens.php`), and a gated
/// page below a directory with a space in its name (`my dir/tiki-index.php`, for URLs whose
/// path needs encoding).
pub fn install_token_site(docroot: &Path) {
    install_site(docroot, docroot.parent().expect("docroot has a parent"));
    let spaced = docroot.join("my dir");
    std::fs::create_dir_all(&spaced).unwrap_or_else(|e| panic!("create {}: {e}", spaced.display()));
    write_file(
        &spaced.join("tiki-index.php"),
        "<?php require __DIR__ . '/../token_gate.php';\n",
    );
}

/// `php/www/*` into `site` (a directory, created), `php/AuthTokens.php` into `lib_dir` (the
/// parent of `site`, where `token_gate.php` looks for it).
pub fn install_site(site: &Path, lib_dir: &Path) {
    let repo = crate::repo();
    std::fs::create_dir_all(site).unwrap_or_else(|e| panic!("create {}: {e}", site.display()));
    std::fs::copy(
        repo.join("php/AuthTokens.php"),
        lib_dir.join("AuthTokens.php"),
    )
    .expect("copy AuthTokens.php");
    for f in std::fs::read_dir(repo.join("php/www")).expect("php/www") {
        let f = f.expect("php/www entry").path();
        if f.is_file() {
            std::fs::copy(&f, site.join(f.file_name().expect("file name")))
                .unwrap_or_else(|e| panic!("copy {}: {e}", f.display()));
        }
    }
}
