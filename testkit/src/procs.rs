//! The processes the tests start: each one in a process group of its own, stopped as a whole
//! group (workers forked by a server included) when its handle is dropped, whether the test
//! passed, failed or panicked; and each one marked, so that the test command can find any that
//! outlived the run.
//!
//! Why groups: `php -S` with `PHP_CLI_SERVER_WORKERS`, PHP-FPM, Apache and nginx fork workers.
//! Killing only the process the test spawned leaves those workers orphaned, holding their ports
//! (16 `php -S` workers were found alive 40 minutes after a run). A signal to the negative
//! process-group id reaches every one of them.
//!
//! Why a marker: `scripts/test.sh` sets `TIKI_TOKENS_TEST_RUN=<run id>` for `cargo test`; every
//! child inherits it (and [`command`] sets it explicitly), and every server of [`crate::web`]
//! runs with its working directory under `target/test-servers/<run id>/`. After the tests,
//! `scripts/lib/leftovers.sh` lists every process that still carries either, and fails the run.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The environment variable that marks every process of a test run.
pub const RUN_MARKER: &str = "TIKI_TOKENS_TEST_RUN";

/// The id of this test run: `$TIKI_TOKENS_TEST_RUN`, or `manual` when the tests run without
/// `scripts/test.sh`.
pub fn run_id() -> String {
    std::env::var(RUN_MARKER)
        .ok()
        .filter(|v| !v.is_empty() && !v.contains('/'))
        .unwrap_or_else(|| "manual".into())
}

/// A command for `program` that carries the run's marker.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env(RUN_MARKER, run_id());
    cmd
}

/// The directory under which every server of this run keeps its files and has its working
/// directory: `target/test-servers/<run id>/`.
pub fn servers_dir() -> PathBuf {
    std::env::var_os("TIKI_TOKENS_SERVERS_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || crate::repo().join("target").join("test-servers"),
            PathBuf::from,
        )
        .join(run_id())
}

/// A free TCP port on 127.0.0.1 (the kernel's choice; free when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A process started in a new process group (it leads the group), and everything it forks.
/// Dropping it stops the whole group: SIGTERM, then SIGKILL to whatever is left after a grace
/// period.
pub struct Group {
    child: Child,
    what: String,
    stopped: bool,
}

impl Group {
    /// Spawns `cmd` as the leader of a new process group, with the run's marker; `what` names it
    /// in messages. Panics (failing the test) when it cannot be started.
    pub fn spawn(mut cmd: Command, what: &str) -> Group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).env(RUN_MARKER, run_id());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({:?}): {e}", cmd.get_program()));
        Group {
            child,
            what: what.to_string(),
            stopped: false,
        }
    }

    /// The process id of the leader (= the process-group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The leader's exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The live (not zombie) processes of the group, the leader included.
    pub fn members(&self) -> Vec<u32> {
        group_members(self.id())
    }

    /// Stops the whole group and waits until none of it is alive (idempotent).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pgid = i32::try_from(self.id()).expect("pid fits i32");
        signal_group(pgid, libc::SIGTERM);
        if !self.wait_gone(Duration::from_secs(5)) {
            signal_group(pgid, libc::SIGKILL);
            if !self.wait_gone(Duration::from_secs(5)) {
                // Not a panic: this may run while a failing test unwinds.
                eprintln!(
                    "WARNING: {} (process group {pgid}) still has live processes after SIGKILL: {:?}",
                    self.what,
                    self.members()
                );
            }
        }
        let _ = self.child.wait();
    }

    /// Reaps the leader and polls until no live process is left in the group.
    fn wait_gone(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            let _ = self.child.try_wait();
            if self.members().is_empty() {
                return true;
            }
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `signal` to every process of group `pgid` (never to group 0 or 1: that would be our
/// own group, or every process).
fn signal_group(pgid: i32, signal: i32) {
    assert!(pgid > 1, "refusing to signal process group {pgid}");
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Every process id in `/proc`.
fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
}

/// The fields of `/proc/PID/stat` after the command name in parentheses (state, ppid, pgrp, …).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    Some(rest.split(' ').map(str::to_string).collect())
}

/// The live (not zombie) processes whose process group is `pgid`, from `/proc`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let pgid = pgid.to_string();
    pids()
        .filter(|&pid| stat_fields(pid).is_some_and(|f| f.len() > 2 && f[0] != "Z" && f[2] == pgid))
        .collect()
}

/// Waits until `port` on 127.0.0.1 accepts connections. Panics (failing the test) after
/// `limit`, or as soon as `group`'s leader exits, with `log()` in the message.
pub fn wait_for_port(port: u16, group: &mut Group, limit: Duration, log: impl Fn() -> String) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = group.exited() {
            panic!(
                "{} exited ({status}) before listening on port {port}; its log:\n{}",
                group.what,
                log()
            );
        }
        assert!(
            start.elapsed() < limit,
            "{} did not listen on port {port} within {limit:?}; its log:\n{}",
            group.what,
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The live (not zombie) processes whose command line contains `needle`: (pid, command line
/// with spaces between the arguments). For checks that a script left nothing behind.
pub fn processes_with_arg(needle: &str) -> Vec<(u32, String)> {
    pids()
        .filter(|&pid| stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s != "Z")))
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline
                .contains(needle)
                .then(|| (pid, cmdline.trim_end().to_string()))
        })
        .collect()
}
