//! The harness itself: a web server with forked workers leaves no process behind when its
//! handle is dropped, whether the test passed or panicked (the whole process group is stopped,
//! not only the process the test spawned). `scripts/test.sh` checks the same for the whole run
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

/// Starts `php -S` with 4 workers, waits until all 5 processes exist, and returns the server.
fn server_with_workers() -> WebServer {
    let server = WebServer::start("harness", &Setup::new(Backend::PhpBuiltin).workers(4));
    let start = std::time::Instant::now();
    while server.processes().len() < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "php -S with 4 workers runs {:?}",
            server.processes()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

#[test]
fn a_dropped_server_leaves_no_worker_behind() {
    let server = server_with_workers();
    let pids = server.processes();
    let dir = server.docroot().parent().expect("server dir").to_path_buf();
    drop(server);
    assert_eq!(alive(&pids), Vec::<u32>::new(), "of {pids:?}");
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[test]
fn a_panicking_test_leaves_no_worker_behind() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let server = server_with_workers();
        tx.send((server.processes(), server.docroot().to_path_buf()))
            .expect("send");
        panic!("a failing test (on purpose)");
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let (pids, docroot) = rx.recv().expect("the server's processes");
    assert_eq!(pids.len(), 5, "{pids:?}");
    assert_eq!(alive(&pids), Vec::<u32>::new(), "of {pids:?}");
    // A failing test keeps its server's files for the logs.
    let dir = docroot.parent().expect("server dir").to_path_buf();
    assert!(dir.exists(), "{} should stay", dir.display());
    let _ = std::fs::remove_dir_all(dir);
}
