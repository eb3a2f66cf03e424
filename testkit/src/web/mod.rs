//! Real web servers for the HTTP tests, started on a free loopback port with every file of
//! theirs (document root, configuration, logs, pid files) in a directory of their own under
//! `target/test-servers/<run id>/`, never touching system configuration.
//!
//! Every server runs in a process group of its own ([`crate::procs::Group`]) with its working
//! directory in its own directory; dropping the [`WebServer`] stops the whole group (forked
//! workers included) and removes the directory — unless the test is failing, when the
//! directory stays for its logs and its path is printed.

use crate::procs::{Group, free_port, servers_dir, wait_for_port};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Which web server serves PHP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PHP's built-in web server, `php -S` (workers from [`Setup::workers`]).
    PhpBuiltin,
}

impl Backend {
    /// A short name for messages and directory names.
    pub fn name(self) -> &'static str {
        match self {
            Backend::PhpBuiltin => "php-S",
        }
    }
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
    /// PHP processes serving requests at once (`php -S`: `PHP_CLI_SERVER_WORKERS` when above 1).
    pub workers: usize,
}

impl Setup {
    /// `backend` serving plain PHP (no extension, no settings), one worker.
    pub fn new(backend: Backend) -> Setup {
        Setup {
            backend,
            extension: false,
            ini: Vec::new(),
            env: Vec::new(),
            workers: 1,
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

/// A running web server. Stopped (the whole process group) and its directory removed when
/// dropped.
pub struct WebServer {
    group: Group,
    backend: Backend,
    port: u16,
    dir: PathBuf,
    docroot: PathBuf,
    log: PathBuf,
}

impl WebServer {
    /// Starts `setup` in a fresh directory `target/test-servers/<run>/<hint>-<pid>-<n>/` whose
    /// `www/` is the (empty) document root, and waits until it accepts connections.
    pub fn start(hint: &str, setup: &Setup) -> WebServer {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = servers_dir().join(format!(
            "{hint}-{}-{}-{n}",
            setup.backend.name(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let docroot = dir.join("www");
        std::fs::create_dir_all(&docroot)
            .unwrap_or_else(|e| panic!("create {}: {e}", docroot.display()));
        let port = free_port();
        let log = dir.join("server.log");
        let group = match setup.backend {
            Backend::PhpBuiltin => start_php_builtin(setup, &dir, &docroot, port, &log),
        };
        let mut server = WebServer {
            group,
            backend: setup.backend,
            port,
            dir,
            docroot,
            log,
        };
        let log_path = server.log.clone();
        wait_for_port(port, &mut server.group, Duration::from_secs(20), || {
            std::fs::read_to_string(&log_path).unwrap_or_default()
        });
        server
    }

    /// The backend serving.
    pub fn backend(&self) -> Backend {
        self.backend
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

    /// What the server (and PHP) logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status of the server's main process, if it has exited (a crash).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.group.exited()
    }

    /// The live processes of the server (main process and workers).
    pub fn processes(&self) -> Vec<u32> {
        self.group.members()
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
        self.group.stop();
        if std::thread::panicking() {
            eprintln!(
                "{} server of a failing test: its files and logs stay in {}",
                self.backend.name(),
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
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

/// The PHP arguments of a setup: `-n` (no php.ini), the extension, the INI settings.
fn php_args(setup: &Setup) -> Vec<String> {
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

/// `php -n [-d …] -S 127.0.0.1:<port> -t <docroot>`, output to `log`.
fn start_php_builtin(setup: &Setup, dir: &Path, docroot: &Path, port: u16, log: &Path) -> Group {
    let mut cmd = crate::php::command();
    cmd.args(php_args(setup))
        .arg("-S")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-t")
        .arg(docroot)
        .current_dir(dir)
        .envs(setup.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("server log"));
    if setup.workers > 1 {
        cmd.env("PHP_CLI_SERVER_WORKERS", setup.workers.to_string());
    }
    Group::spawn(cmd, "php -S")
}

/// Lays out the demo site of the repository around `docroot`: `php/www/*` into it,
/// `php/AuthTokens.php` beside it (`token_gate.php` requires `../AuthTokens.php`).
pub fn install_token_site(docroot: &Path) {
    let repo = crate::repo();
    let parent = docroot.parent().expect("docroot has a parent");
    std::fs::copy(
        repo.join("php/AuthTokens.php"),
        parent.join("AuthTokens.php"),
    )
    .expect("copy AuthTokens.php");
    for f in std::fs::read_dir(repo.join("php/www")).expect("php/www") {
        let f = f.expect("php/www entry").path();
        if f.is_file() {
            std::fs::copy(&f, docroot.join(f.file_name().expect("file name")))
                .unwrap_or_else(|e| panic!("copy {}: {e}", f.display()));
        }
    }
}
