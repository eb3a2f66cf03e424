//! The PHP CLI: where it is, and evaluating PHP code as an oracle (no extension loaded).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The PHP CLI to use: `$PHP`, or `php` on PATH. Every PHP process of the tests comes from here.
pub fn php_binary() -> PathBuf {
    std::env::var_os("PHP")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("php"), PathBuf::from)
}

/// A command running [`php_binary`], with the run's marker (no arguments yet).
pub fn command() -> Command {
    crate::procs::command(php_binary())
}

/// Evaluates `code` with `php -n -r` (no php.ini, no extension) fed `stdin`; returns its
/// stdout. Panics (failing the test) when PHP is missing or exits non-zero. `-n`: PHP's built-in
/// defaults apply (`max_input_vars` 1000, `max_input_nesting_level` 64, `serialize_precision`
/// -1).
pub fn eval(code: &str, stdin: &[u8]) -> Vec<u8> {
    eval_with(&["-n"], code, stdin)
}

/// As [`eval`] with explicit leading arguments instead of `-n` (e.g. `-n -d extension=…`).
pub fn eval_with(args: &[&str], code: &str, stdin: &[u8]) -> Vec<u8> {
    let mut child = command()
        .args(args)
        .arg("-r")
        .arg(code)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run PHP ({}): {e}", php_binary().display()));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("php output");
    writer.join().expect("stdin writer");
    assert!(
        out.status.success(),
        "php failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
