//! The scripts a newcomer runs behave on failure: `scripts/demo.sh` with a step forced to fail
//! (`DEMO_FAIL_AT`) prints its error, exits non-zero, stops its web server and its MariaDB, and
//! leaves its caller alone (it once ran `kill 0` on the caller's whole process group); run
//! through, it grants the minted URL and denies the rest, grants a token for a SEF URL through
//! the front controller and on its target script's URL and denies it on another page, and
//! leaves nothing behind either.
//!
//! The demo uses the built extension (`TIKI_TOKENS_EXT`): a cargo build inside cargo test would
//! wait on the cargo lock.

use std::process::{Command, Output, Stdio};
use std::time::Instant;
use testkit::procs::{self, processes_with_arg};

/// Runs the demo in `dir` with `DEMO_FAIL_AT=fail_at` (none: the whole demo), in this test's
/// own process group, with a sentinel process beside it in that group; returns its output and
/// asserts that the sentinel survived and that no process of the demo is left.
fn run_demo(dir: &std::path::Path, fail_at: Option<&str>) -> Output {
    let _ = std::fs::remove_dir_all(dir);
    // The same process group as this test (the default): a `kill 0` in the demo would kill the
    // sentinel, and this test with it.
    let mut sentinel = Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("start the sentinel");
    let mut demo = procs::command("bash");
    demo.arg(testkit::repo().join("scripts/demo.sh"))
        .env("TIKI_TOKENS_EXT", testkit::ext::extension())
        .env("DEMO_DIR", dir)
        .env_remove("DEMO_FAIL_AT")
        .stdin(Stdio::null());
    if let Some(step) = fail_at {
        demo.env("DEMO_FAIL_AT", step);
    }
    let started = Instant::now();
    let out = demo.output().expect("run scripts/demo.sh");
    let alive = sentinel.try_wait().expect("sentinel status").is_none();
    let _ = sentinel.kill();
    let _ = sentinel.wait();
    eprintln!(
        "demo.sh (DEMO_FAIL_AT={fail_at:?}): {} in {:.1} s",
        out.status,
        started.elapsed().as_secs_f64()
    );
    assert!(
        alive,
        "demo.sh killed a process of its caller's process group; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Its MariaDB (--datadir=<dir>/mariadb/data) and its php -S (-d extension=<dir>/…) name
    // the directory on their command lines.
    let left = processes_with_arg(dir.to_str().expect("UTF-8 path"));
    assert!(
        left.is_empty(),
        "demo.sh (DEMO_FAIL_AT={fail_at:?}) left processes behind: {left:?}"
    );
    out
}

#[test]
fn a_failing_demo_step_cleans_up_and_spares_its_caller() {
    let base = testkit::repo()
        .join("target")
        .join(format!("demo-test-{}", std::process::id()));
    // Before the database, after it (no web server yet), with the web server running, after
    // minting, after the SEF step: each exits non-zero, names the step, and leaves nothing
    // running.
    for step in ["extension", "database", "web", "mint", "sef"] {
        let dir = base.join(step);
        let out = run_demo(&dir, Some(step));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{step}: the demo exited 0:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("demo: FAILED in step '{step}'")),
            "{step}: no error message naming the step:\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn the_demo_runs_through_and_stops_everything() {
    let dir = testkit::repo()
        .join("target")
        .join(format!("demo-test-full-{}", std::process::id()));
    let out = run_demo(&dir, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_once("-> ").map(|(_, r)| r.trim()))
        .collect();
    assert_eq!(
        results,
        [
            "granted",
            "denied params_mismatch",
            "denied params_mismatch",
            "denied params_mismatch",
            "denied params_mismatch",
            "denied entry_mismatch",
            "granted",
            "denied exhausted",
            "granted",
            "denied params_mismatch",
            "granted",
        ],
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
