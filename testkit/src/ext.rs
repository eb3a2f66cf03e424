//! The built extension, and running PHP with it loaded.
//!
//! The extension comes from `TIKI_TOKENS_EXT` (an absolute path; `scripts/test.sh` sets it to
//! `target/tiki_tokens.so`, a copy of the release build). The tests never build it themselves:
//! a `cargo build` inside `cargo test` would wait on the cargo lock.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The extension to load: `$TIKI_TOKENS_EXT`, or a failed test that says how to build it.
pub fn extension() -> PathBuf {
    let how = "build it first: cargo build --release --features extension && \
               cp target/release/libtiki_tokens.so target/tiki_tokens.so, then run the tests with \
               TIKI_TOKENS_EXT=$PWD/target/tiki_tokens.so (scripts/test.sh does all of this)";
    let Some(path) = std::env::var_os("TIKI_TOKENS_EXT").filter(|p| !p.is_empty()) else {
        panic!("TIKI_TOKENS_EXT is not set: {how}");
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "TIKI_TOKENS_EXT={} is not a file: {how}",
        path.display()
    );
    path.canonicalize().expect("canonical extension path")
}

/// `extension=<path>`, the INI setting that loads [`extension`].
pub fn extension_ini() -> String {
    format!("extension={}", extension().display())
}

/// `-d name="value"`: quoted, so that `=`, `?` and `&` in a DSN survive PHP's INI parser
/// (unquoted, `-d tiki_tokens.dsn=mysql://…?prefer_socket=false` is cut at the second `=`).
pub fn ini_arg(name: &str, value: &str) -> String {
    assert!(
        !value.contains('"'),
        "INI value with a double quote: {value}"
    );
    format!("{name}=\"{value}\"")
}

/// What one PHP run printed.
#[derive(Debug)]
pub struct PhpRun {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

/// Runs `php -n -d extension=<ext> [-d ini…] <args…>` with extra environment, killing it after
/// `limit` (a hung PHP fails the test instead of hanging it).
pub fn run(args: &[&str], ini: &[(&str, &str)], env: &[(&str, &str)], limit: Duration) -> PhpRun {
    let mut cmd = crate::php::command();
    cmd.arg("-n").arg("-d").arg(extension_ini());
    for (name, value) in ini {
        cmd.arg("-d").arg(ini_arg(name, value));
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let php = crate::php::php_binary();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", php.display()));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let reader_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for php") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("php {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    PhpRun {
        status,
        stdout: String::from_utf8_lossy(&reader_out.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&reader_err.join().expect("stderr reader")).into_owned(),
    }
}

/// Runs one PHP test file of `php/tests/` (assertions on, exceptions on failure).
pub fn run_test_file(file: &Path, ini: &[(&str, &str)], env: &[(&str, &str)]) -> PhpRun {
    let mut all_ini = vec![
        ("zend.assertions", "1"),
        ("assert.exception", "1"),
        ("memory_limit", "512M"),
    ];
    all_ini.extend_from_slice(ini);
    run(
        &[file.to_str().expect("UTF-8 path")],
        &all_ini,
        env,
        Duration::from_secs(300),
    )
}
