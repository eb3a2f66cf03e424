//! Connections: one `mysql::Pool` per [`super::Store`], made on first use (and made again after
//! a failure, or in a child process after a fork), dead-connection recovery, and the connection
//! state shown by phpinfo.
//!
//! The pool runs without a reset or a ping per use (each costs a round trip: 2–4× the latency
//! of a lookup), so a connection that died while idle (server restart, `KILL`, `wait_timeout`)
//! is only noticed when a statement fails on it. Such a failure throws the connection away
//! (never back into the pool) and the operation is retried once on a fresh connection.
//! A statement that timed out is not retried: the caller was promised an answer within the
//! timeout, and the server is alive but stuck.

use crate::error::Error;
use mysql::{Opts, Pool, PooledConn};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The pool of one store and what is known about the connection.
pub(crate) struct Connector {
    opts: Opts,
    wait: Duration,
    password: Option<String>,
    slot: Mutex<Option<Slot>>,
    state: Mutex<State>,
}

/// A pool and the process that made it.
struct Slot {
    pid: u32,
    pool: Pool,
}

/// What phpinfo shows: the server's version once known, and the last connection failure
/// (cleared by the next success).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    ever_connected: bool,
    version: Option<String>,
    error: Option<String>,
}

/// MySQL/MariaDB server error codes that mean "this connection is gone" although they arrive
/// as an error packet: ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED (MariaDB), the client codes
/// CR_SERVER_GONE_ERROR / CR_SERVER_LOST, MySQL 8's ER_CLIENT_INTERACTION_TIMEOUT.
const GONE_CODES: [u16; 5] = [1053, 1927, 2006, 2013, 4031];

/// How an error bears on the connection it happened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A server-side error (bad SQL, constraint, lock wait): the connection is fine.
    Statement,
    /// The connection is dead or out of step: throw it away; a retry may succeed.
    Broken,
    /// A read or write timed out: throw the connection away; do not retry.
    Timeout,
}

/// Classifies a mysql error.
pub(crate) fn fault(e: &mysql::Error) -> Fault {
    match e {
        mysql::Error::IoError(io) => io_fault(io),
        mysql::Error::CodecError(c) => {
            // The codec's I/O error is its source (the type itself is not exported without
            // the crate's `derive` feature).
            std::error::Error::source(c)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .map_or(Fault::Broken, io_fault)
        }
        mysql::Error::DriverError(_) => Fault::Broken,
        mysql::Error::MySqlError(m) if GONE_CODES.contains(&m.code) => Fault::Broken,
        _ => Fault::Statement,
    }
}

fn io_fault(io: &std::io::Error) -> Fault {
    match io.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Fault::Timeout,
        _ => Fault::Broken,
    }
}

impl Connector {
    /// A connector; opens nothing.
    pub(crate) fn new(opts: Opts, wait: Duration, password: Option<String>) -> Self {
        Self {
            opts,
            wait,
            password,
            slot: Mutex::new(None),
            state: Mutex::new(State::default()),
        }
    }

    /// The pool, made now if there is none yet or if this is a forked child of the process that
    /// made it. A child never touches its parent's connections: the inherited pool is leaked
    /// (dropping it would send COM_QUIT on sockets the parent still uses).
    fn pool(&self) -> Result<Pool, mysql::Error> {
        let pid = std::process::id();
        let mut slot = lock(&self.slot);
        if let Some(s) = slot.as_ref() {
            if s.pid == pid {
                return Ok(s.pool.clone());
            }
            if let Some(inherited) = slot.take() {
                std::mem::forget(inherited.pool);
            }
        }
        // With min 0 connections this opens nothing; with a `pool_min` in the DSN it connects,
        // and a failure is not kept: the next call tries again.
        let pool = Pool::new(self.opts.clone())?;
        *slot = Some(Slot {
            pid,
            pool: pool.clone(),
        });
        Ok(pool)
    }

    /// Forgets the pool (after a panic inside the mysql crate): the next use makes a new one.
    /// Connections of the old pool that are in use elsewhere finish their work and close.
    pub(crate) fn reset(&self) {
        *lock(&self.slot) = None;
        lock(&self.state).error = Some("internal error: the connection pool was reset".into());
    }

    /// A connection from the pool (waiting at most the connect timeout for a free one).
    pub(crate) fn conn(&self) -> Result<PooledConn, mysql::Error> {
        let r = self.pool().and_then(|p| p.try_get_conn(self.wait));
        if let Err(e) = &r {
            self.failed(e);
        }
        r
    }

    /// Runs `op` (the first statements of an operation) on a pooled connection and returns the
    /// connection for the statements that follow. When `op` fails because the connection was
    /// dead, it is thrown away and `op` runs once more on a fresh connection; a timeout or a
    /// server-side error is returned as is.
    pub(crate) fn first<T>(
        &self,
        mut op: impl FnMut(&mut PooledConn) -> Result<T, mysql::Error>,
    ) -> Result<(PooledConn, T), mysql::Error> {
        let mut conn = self.conn()?;
        match op(&mut conn) {
            Ok(v) => Ok((conn, v)),
            Err(e) => {
                let f = fault(&e);
                self.release(conn, &e);
                if f != Fault::Broken {
                    return Err(e);
                }
                let mut conn = self.conn()?;
                match op(&mut conn) {
                    Ok(v) => Ok((conn, v)),
                    Err(e) => {
                        self.release(conn, &e);
                        Err(e)
                    }
                }
            }
        }
    }

    /// Gives a connection back after `e` happened on it: back into the pool when the error was
    /// the server's answer to a statement, thrown away otherwise. Records the failure.
    pub(crate) fn release(&self, conn: PooledConn, e: &mysql::Error) {
        self.failed(e);
        if fault(e) != Fault::Statement {
            discard(conn);
        }
    }

    /// Records a success and the server's version (for phpinfo).
    pub(crate) fn connected(&self, version: &str) {
        let mut s = lock(&self.state);
        s.ever_connected = true;
        s.version = Some(version.to_string());
        s.error = None;
    }

    /// Records a success.
    pub(crate) fn ok(&self) {
        let mut s = lock(&self.state);
        s.ever_connected = true;
        s.error = None;
    }

    fn failed(&self, e: &mysql::Error) {
        // A statement error does not say the connection is bad.
        if fault(e) != Fault::Statement {
            lock(&self.state).error = Some(self.describe(e));
        }
    }

    /// The connection state for phpinfo: "not connected", "connected (server version X)",
    /// "error: …". Never a password.
    pub(crate) fn state(&self) -> String {
        let s = lock(&self.state);
        match (&s.error, &s.version, s.ever_connected) {
            (Some(m), _, _) => format!("error: {m}"),
            (None, Some(v), _) => format!("connected (server version {v})"),
            (None, None, true) => "connected".into(),
            (None, None, false) => "not connected".into(),
        }
    }

    /// The text of a mysql error with the DSN's password scrubbed out (it is not known to
    /// appear; this makes sure).
    pub(crate) fn describe(&self, e: &mysql::Error) -> String {
        let text = e.to_string();
        match &self.password {
            Some(p) if p.len() >= 4 => text.replace(p.as_str(), "***"),
            _ => text,
        }
    }

    /// A mysql error as this crate's error, password scrubbed.
    pub(crate) fn error(&self, e: &mysql::Error) -> Error {
        Error::Database(self.describe(e))
    }
}

/// Throws a connection away without waiting for it: the pool forgets it (its count goes down,
/// unlike `PooledConn::unwrap`), and nothing is read from it any more.
///
/// `reset_connection(true)` makes the pool reset the connection when it comes back and drop it
/// when the reset fails. On a dead or timed-out connection that reset would wait for an answer
/// for up to the read timeout; shutting down the read side of the socket first makes it fail at
/// once (the write side stays open, so the server still gets COM_QUIT).
pub(crate) fn discard(mut conn: PooledConn) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = conn.as_ref().as_raw_fd();
        // SAFETY: `shutdown` only changes the state of the socket behind `fd`, which `conn`
        // owns and keeps open until it is dropped below; it reads or writes no memory of ours.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RD);
        }
    }
    conn.reset_connection(true);
    drop(conn);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
