//! What the store knows of each open connection, so that the hot path asks the kernel and the
//! mysql crate for nothing it already has: the socket timeouts as last set, and the prepared
//! statements (the crate would parse the SQL text again on every call to find its own cached
//! statement; 7k instructions a lookup). And the fork generation that tells a pool made in a
//! parent process from one made here, without a `getpid` system call on every use.

use mysql::prelude::Queryable;
use mysql::{PooledConn, Statement};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;

/// Socket timeouts are set in steps of this much below the I/O timeout, so that the slightly
/// shorter time left of every lookup's first statement needs no new `setsockopt` each time.
const TIMEOUT_STEP: Duration = Duration::from_millis(50);

/// Connections remembered at most (a pool holds 8 per server; ids of connections the pool
/// closed on its own are forgotten when this many have been seen).
const MAX_SESSIONS: usize = 64;

/// A connection: the index of its server and its connection id there.
type Key = (usize, u32);

/// What is known of one connection.
#[derive(Default)]
struct Session {
    /// The read and write timeout its socket has, when we set one.
    timeout: Option<Duration>,
    /// Statements prepared on it, by their SQL text.
    statements: Vec<(String, Statement)>,
}

/// The sessions of one store's connections.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<Key, Session>>,
}

impl Sessions {
    /// Gives `conn`'s socket the read and write timeout for `wanted` (at most `io`): `io` itself,
    /// or `wanted` rounded down to [`TIMEOUT_STEP`]; a `setsockopt` only when that differs from
    /// what the socket has.
    pub(crate) fn set_timeout(
        &self,
        server: usize,
        conn: &PooledConn,
        wanted: Duration,
        io: Duration,
    ) {
        let timeout = if wanted >= io {
            io
        } else if wanted < TIMEOUT_STEP {
            wanted.max(Duration::from_millis(1))
        } else {
            let steps = wanted.as_nanos() / TIMEOUT_STEP.as_nanos();
            TIMEOUT_STEP * u32::try_from(steps).unwrap_or(u32::MAX)
        };
        let key = (server, conn.connection_id());
        {
            let map = lock(&self.map);
            if map.get(&key).and_then(|s| s.timeout) == Some(timeout) {
                return;
            }
        }
        set_socket_timeouts(conn, timeout);
        self.session(key, |s| s.timeout = Some(timeout));
    }

    /// The statement of `sql` prepared on `conn`, prepared now when it is not yet.
    pub(crate) fn statement(
        &self,
        server: usize,
        conn: &mut PooledConn,
        sql: &str,
    ) -> Result<Statement, mysql::Error> {
        let key = (server, conn.connection_id());
        {
            let map = lock(&self.map);
            let known = map.get(&key).and_then(|s| {
                s.statements
                    .iter()
                    .find(|(text, _)| std::ptr::eq(text.as_str(), sql) || text == sql)
            });
            if let Some((_, stmt)) = known {
                return Ok(stmt.clone());
            }
        }
        let stmt = conn.prep(sql)?;
        self.session(key, |s| s.statements.push((sql.to_string(), stmt.clone())));
        Ok(stmt)
    }

    /// Forgets a connection (thrown away), or only its statements (one of them vanished: the
    /// mysql crate closes the statements its own cache evicts).
    pub(crate) fn forget(&self, server: usize, connection_id: u32, statements_only: bool) {
        let mut map = lock(&self.map);
        if statements_only {
            if let Some(s) = map.get_mut(&(server, connection_id)) {
                s.statements.clear();
            }
        } else {
            map.remove(&(server, connection_id));
        }
    }

    fn session(&self, key: Key, change: impl FnOnce(&mut Session)) {
        let mut map = lock(&self.map);
        if map.len() >= MAX_SESSIONS && !map.contains_key(&key) {
            map.clear();
        }
        change(map.entry(key).or_default());
    }
}

/// The read and write timeout a statement's socket gets when `wanted` is left (at most `io`):
/// `io` itself, or `wanted` rounded down to [`TIMEOUT_STEP`] (never above what is left).
pub(crate) fn socket_timeout(wanted: Duration, io: Duration) -> Duration {
    if wanted >= io {
        io
    } else if wanted < TIMEOUT_STEP {
        wanted.max(Duration::from_millis(1))
    } else {
        let steps = wanted.as_nanos() / TIMEOUT_STEP.as_nanos();
        TIMEOUT_STEP * u32::try_from(steps).unwrap_or(u32::MAX)
    }
}

/// ER_UNKNOWN_STMT_HANDLER: a statement id the server no longer knows.
pub(crate) const UNKNOWN_STATEMENT: u16 = 1243;

/// Sets the read and write timeouts of a connection's socket (the mysql crate sets them only
/// when it connects). A failure leaves the timeouts as they were, which are at most the I/O
/// timeout: the budget is then merely less tight.
fn set_socket_timeouts(conn: &PooledConn, timeout: Duration) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = conn.as_ref().as_raw_fd();
        let tv = libc::timeval {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_usec: libc::suseconds_t::from(i32::try_from(timeout.subsec_micros()).unwrap_or(0)),
        };
        for option in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
            // SAFETY: `setsockopt` reads `size_of::<timeval>()` bytes from `&tv`, a live local
            // of exactly that type, and changes only the socket behind `fd`, which `conn` owns.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    option,
                    std::ptr::from_ref(&tv).cast(),
                    libc::socklen_t::try_from(std::mem::size_of::<libc::timeval>()).unwrap_or(0),
                );
            }
        }
    }
}

/// Forks this process has gone through since the store first asked: a pool (or an idle
/// connection) made under another generation belongs to a parent process and is never touched.
/// A counter bumped by a `pthread_atfork` child handler: no system call per use.
pub(crate) fn fork_generation() -> u64 {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        #[cfg(unix)]
        {
            extern "C" fn in_child() {
                GENERATION.fetch_add(1, Ordering::Relaxed);
            }
            // SAFETY: registers a handler that only bumps an atomic (async-signal-safe), once.
            unsafe {
                libc::pthread_atfork(None, None, Some(in_child));
            }
        }
    });
    GENERATION.load(Ordering::Relaxed)
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_timeouts_never_exceed_what_is_left() {
        let io = Duration::from_secs(5);
        let ms = Duration::from_millis;
        assert_eq!(socket_timeout(ms(7000), io), io);
        assert_eq!(socket_timeout(ms(4999), io), ms(4950));
        assert_eq!(socket_timeout(ms(120), io), ms(100));
        assert_eq!(socket_timeout(ms(30), io), ms(30));
        assert_eq!(socket_timeout(Duration::ZERO, io), ms(1));
    }

    #[test]
    fn a_fork_bumps_the_generation_in_the_child_only() {
        let before = fork_generation();
        // SAFETY: the child only calls async-signal-safe things (an atomic load, _exit).
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let bumped = fork_generation() == before + 1;
            unsafe { libc::_exit(i32::from(!bumped)) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just made.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{status}"
        );
        assert_eq!(fork_generation(), before, "the parent keeps its generation");
    }
}
