//! The harness itself: each web server (`php -S`, Apache with mod_php, nginx with PHP-FPM)
//! serves PHP with the extension and its settings, and leaves no process behind when its handle
//! is dropped, whether the test passed or panicked (every process group is stopped, not only the
//! process the test spawned). `scripts/test.sh` checks the same for the whole run
//! (scripts/lib/leftovers.sh).

use std::time::Duration;
use testkit::web::{Backend, Setup, WebServer};

/// The processes of `pids` that are still alive (not zombies).
fn alive(pids: &[u32]) -> Vec<u32> {
    pids.iter()
        .copied()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                s.rsplit_once(") ")
                    .is_some_and(|(_, r)| !r.starts_with('Z'))
            })
        })
        .collect()
}

/// Starts `backend` with 4 workers, waits until at least 5 processes exist (a main process and
/// its workers), and returns the server.
fn server_with_workers(backend: Backend) -> WebServer {
    let setup = Setup::new(backend)
        .with_extension()
        .ini("tiki_tokens.max_hits", "77")
        .env("TIKI_TOKENS_HARNESS", "env-seen")
        .workers(4);
    let server = WebServer::start("harness", &setup);
    let start = std::time::Instant::now();
    while server.processes().len() < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} with 4 workers runs {:?}",
            server.label(),
            server.processes()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

#[test]
fn each_server_runs_php_with_the_extension_its_settings_and_environment() {
    for backend in Backend::runnable() {
        let server = server_with_workers(backend);
        std::fs::write(
            server.docroot().join("probe.php"),
            "<?php echo json_encode([extension_loaded('tiki_tokens'), ini_get('tiki_tokens.max_hits'), getenv('TIKI_TOKENS_HARNESS'), $_SERVER['PHP_SELF'], $_GET]);",
        )
        .expect("probe.php");
        let r = server.get(b"/probe.php?a=1");
        assert_eq!(r.status, 200, "{}: {}", server.label(), server.log_text());
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            r#"[true,"77","env-seen","\/probe.php",{"a":"1"}]"#,
            "{}",
            server.label()
        );
        println!(
            "{}: serves PHP with the extension, INI and environment",
            server.label()
        );
    }
}

#[test]
fn a_dropped_server_leaves_no_worker_behind() {
    for backend in Backend::runnable() {
        let server = server_with_workers(backend);
        let label = server.label().to_string();
        let pids = server.processes();
        let dir = server.docroot().parent().expect("server dir").to_path_buf();
        drop(server);
        assert_eq!(alive(&pids), Vec::<u32>::new(), "{label}: of {pids:?}");
        assert!(!dir.exists(), "{label}: {} was not removed", dir.display());
        println!("{label}: {} processes, none left after drop", pids.len());
    }
}

#[test]
fn a_panicking_test_leaves_no_worker_behind() {
    for backend in Backend::runnable() {
        let (tx, rx) = std::sync::mpsc::channel();
        let outcome = std::thread::spawn(move || {
            let server = server_with_workers(backend);
            tx.send((server.processes(), server.docroot().to_path_buf()))
                .expect("send");
            panic!("a failing test (on purpose)");
        })
        .join();
        assert!(outcome.is_err(), "the thread panicked");
        let (pids, docroot) = rx.recv().expect("the server's processes");
        assert!(pids.len() >= 5, "{}: {pids:?}", backend.name());
        assert_eq!(
            alive(&pids),
            Vec::<u32>::new(),
            "{}: of {pids:?}",
            backend.name()
        );
        // A failing test keeps its server's files for the logs.
        let dir = docroot.parent().expect("server dir").to_path_buf();
        assert!(dir.exists(), "{} should stay", dir.display());
        let _ = std::fs::remove_dir_all(dir);
    }
}
