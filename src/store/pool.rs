//! Connections: one `mysql::Pool` per [`super::handle::Store`], made on first use (and made again after
//! a panic, or in a child process after a fork); [`Conn`], the guard every operation runs its
//! statements through; and the connection state shown by phpinfo.
//!
//! The pool runs without a reset or a ping per use (each costs a round trip: 2–4× the latency
//! of a lookup), so a connection that died while idle (server restart, `KILL`, `wait_timeout`)
//! is only noticed when a statement fails on it. [`Conn`] keeps the books for every call site:
//! a connection that broke or timed out is thrown away (never back into the pool), the failure
//! is recorded for phpinfo, and the statement runs once more on a fresh connection when its
//! [`Retry`] says that is safe. A statement that timed out is never retried: the caller was
//! promised an answer within the timeout, and the server is alive but stuck.

use super::hosts::Hosts;
use super::session::{Sessions, UNKNOWN_STATEMENT, fork_generation, socket_timeout};
use mysql::prelude::{FromRow, Queryable};
use mysql::{Opts, Params, PooledConn};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Whether a statement may run again on a fresh connection when the one it was sent on broke.
///
/// Breaking can happen after the server executed the statement (a lost OK packet), so only
/// statements whose second run changes nothing more than the first may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, and writes that are idempotent (a DELETE by id, the token UPDATE that only
    /// applies `WHERE token IS NULL`, REPLACE of a preference).
    IfBroken,
    /// Writes that must never run twice: the INSERT of a new row (a second run leaves a second
    /// row), the UPDATE that consumes a hit (a second run consumes a second hit), ALTER TABLE.
    Never,
}

/// A database failure, with its text already scrubbed of the DSN's password.
#[derive(Debug)]
pub(crate) struct DbError {
    /// What the mysql crate said.
    pub error: mysql::Error,
    /// [`Connector::describe`] of it.
    pub text: String,
}

impl DbError {
    /// The server's error code, for an error the server answered with.
    pub(crate) fn code(&self) -> Option<u16> {
        match &self.error {
            mysql::Error::MySqlError(m) => Some(m.code),
            _ => None,
        }
    }
}

/// What a write changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    /// Rows the statement changed.
    pub affected: u64,
    /// The OK packet's insert id (`LAST_INSERT_ID()` of this statement).
    pub last_insert_id: u64,
}

/// The pools of one store (one per server) and what is known about the connection.
pub(crate) struct Connector {
    hosts: Hosts,
    wait: Duration,
    /// Read and write timeout of one statement.
    io: Duration,
    password: Option<String>,
    state: Mutex<State>,
    /// What is known of each open connection (socket timeouts, prepared statements).
    sessions: Sessions,
    /// One sound connection kept back from the pool between operations: a PHP process serves
    /// one request at a time, so its next lookup takes this one, and neither returning it nor
    /// taking it touches the pool (whose return wakes a condition variable: a system call).
    idle: Mutex<Option<Idle>>,
}

/// The connection kept back, its server, and the fork generation it was made in.
struct Idle {
    server: usize,
    conn: PooledConn,
    generation: u64,
}

/// What phpinfo shows: the server's version once known, and the last connection failure
/// (cleared by the next success).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    ever_connected: bool,
    version: Option<String>,
    error: Option<String>,
}

/// MySQL/MariaDB server error codes that mean "this connection is gone, or its server cannot
/// serve now" although they arrive as an error packet: ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED
/// (MariaDB), the client codes CR_SERVER_GONE_ERROR / CR_SERVER_LOST, MySQL 8's
/// ER_CLIENT_INTERACTION_TIMEOUT, and Galera's `1047 WSREP has not yet prepared node for
/// application use` (a node that left the cluster's primary component).
const GONE_CODES: [u16; 6] = [1047, 1053, 1927, 2006, 2013, 4031];

/// ER_LOCK_WAIT_TIMEOUT: on a read, with causal reads, the node could not catch up with the
/// cluster in time (a node cut off or lagging): its server is in trouble, not the statement.
const LOCK_WAIT_TIMEOUT: u16 = 1205;

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

/// Classifies a mysql error of a statement run with `retry` (a read may retry, and a lock wait
/// timeout on a read is a causal read its node could not serve).
pub(crate) fn fault(e: &mysql::Error, retry: Retry) -> Fault {
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
        mysql::Error::MySqlError(m) if m.code == LOCK_WAIT_TIMEOUT && retry == Retry::IfBroken => {
            Fault::Broken
        }
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
    /// A connector for these servers (one per server the DSN names); opens nothing. `wait`: for
    /// a free pooled connection; `io`: the read and write timeout of each statement.
    pub(crate) fn new(
        opts: Vec<Opts>,
        wait: Duration,
        io: Duration,
        password: Option<String>,
    ) -> Self {
        Self {
            hosts: Hosts::new(opts),
            wait,
            io,
            password,
            state: Mutex::new(State::default()),
            sessions: Sessions::default(),
            idle: Mutex::new(None),
        }
    }

    /// A guard for the statements of one operation. Takes no connection yet: the first
    /// statement does.
    pub(crate) fn checkout(&self) -> Conn<'_> {
        Conn {
            connector: self,
            inner: None,
            deadline: None,
        }
    }

    /// As [`Connector::checkout`], for an operation that must answer by `deadline`: every
    /// statement's read and write timeout is cut to the time left, and a statement is not sent
    /// at all once it has run out.
    pub(crate) fn checkout_until(&self, deadline: Instant) -> Conn<'_> {
        Conn {
            connector: self,
            inner: None,
            deadline: Some(deadline),
        }
    }

    /// A connection from the pool of the server in use (waiting at most the connect timeout,
    /// or the time left, for a free one); when that server cannot give one, the next one in
    /// [`Hosts::order`] is tried, while time is left. Returns the server's index with it.
    fn connect(&self, deadline: Option<Instant>) -> Result<(usize, PooledConn), DbError> {
        let order = self.hosts.order();
        if let Some(kept) = lock(&self.idle).take() {
            // Kept by this process (not a parent's), on the server to use now: take it.
            if kept.generation == fork_generation() && order.first() == Some(&kept.server) {
                return Ok((kept.server, kept.conn));
            }
            if kept.generation != fork_generation() {
                // A parent's connection: never touched, not even to close it.
                std::mem::forget(kept.conn);
            }
        }
        let mut last = None;
        for i in order {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                break;
            }
            let wait = left.map_or(self.wait, |l| l.min(self.wait));
            match self.hosts.pool(i).and_then(|p| p.try_get_conn(wait)) {
                Ok(conn) => {
                    self.hosts.worked(i);
                    return Ok((i, conn));
                }
                Err(e) => {
                    self.hosts.failed(i);
                    last = Some(self.failed(e, Retry::IfBroken));
                }
            }
        }
        Err(last.unwrap_or_else(|| self.failed(out_of_time(), Retry::IfBroken)))
    }

    /// Forgets every pool (after a panic inside the mysql crate): the next use makes new ones.
    /// Connections of the old pools that are in use elsewhere finish their work and close.
    pub(crate) fn reset(&self) {
        if let Some(kept) = lock(&self.idle).take() {
            discard(kept.conn);
        }
        self.hosts.reset();
        lock(&self.state).error = Some("internal error: the connection pool was reset".into());
    }

    /// Records a success and the server's version (for phpinfo).
    pub(crate) fn connected(&self, version: &str) {
        let mut s = lock(&self.state);
        s.ever_connected = true;
        s.version = Some(version.to_string());
        s.error = None;
    }

    fn ok(&self) {
        let mut s = lock(&self.state);
        s.ever_connected = true;
        s.error = None;
    }

    /// Records a failure (a statement error does not say the connection is bad) and wraps it.
    fn failed(&self, error: mysql::Error, retry: Retry) -> DbError {
        let text = self.describe(&error);
        if fault(&error, retry) != Fault::Statement {
            lock(&self.state).error = Some(text.clone());
        }
        DbError { error, text }
    }

    /// The connection state for phpinfo: "not connected", "connected (server version X)",
    /// "error: …". Never a password.
    pub(crate) fn state(&self) -> String {
        let s = lock(&self.state);
        let text = match (&s.error, &s.version, s.ever_connected) {
            (Some(m), _, _) => format!("error: {m}"),
            (None, Some(v), _) => format!("connected (server version {v})"),
            (None, None, true) => "connected".into(),
            (None, None, false) => "not connected".into(),
        };
        if self.hosts.len() < 2 {
            return text;
        }
        let i = self.hosts.order()[0];
        format!(
            "{text}; using server {} of {}: {}",
            i + 1,
            self.hosts.len(),
            self.hosts.name(i)
        )
    }

    /// The text of a mysql error with the DSN's password scrubbed out (it is not known to
    /// appear; this makes sure).
    fn describe(&self, e: &mysql::Error) -> String {
        super::redact::scrub(&e.to_string(), self.password.as_deref())
    }
}

/// The connection of one operation. Every statement goes through it; it keeps the books: a
/// connection that broke or timed out is thrown away at once (the next statement takes a fresh
/// one), and when the guard is dropped a sound connection goes back into the pool — unless a
/// panic is unwinding, in which case nothing it held is trusted again.
pub(crate) struct Conn<'c> {
    connector: &'c Connector,
    /// The connection and the index of its server.
    inner: Option<(usize, PooledConn)>,
    deadline: Option<Instant>,
}

impl Conn<'_> {
    /// Runs `op` on this guard's connection (taking one from the pool when it has none). On a
    /// broken connection `op` runs once more on a fresh one when `retry` allows it. With a
    /// deadline, each statement's socket timeouts are the time left (at most the I/O timeout),
    /// and nothing is sent once it has passed.
    pub(crate) fn run<T>(
        &mut self,
        retry: Retry,
        mut op: impl FnMut(&mut PooledConn) -> Result<T, mysql::Error>,
    ) -> Result<T, DbError> {
        self.run_on(retry, |_, c| op(c))
    }

    /// [`Conn::run`] with the index of the connection's server given to `op`.
    fn run_on<T>(
        &mut self,
        retry: Retry,
        mut op: impl FnMut(usize, &mut PooledConn) -> Result<T, mysql::Error>,
    ) -> Result<T, DbError> {
        let connector = self.connector;
        let io = connector.io;
        let deadline = self.deadline;
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left().is_some_and(|l| l.is_zero()) {
            return Err(connector.failed(out_of_time(), retry));
        }
        let result = with_retry(
            retry,
            &mut self.inner,
            || connector.connect(deadline),
            |(server, c)| {
                let wanted = left().map_or(io, |l| l.min(io));
                connector.sessions.set_timeout(*server, c, wanted, io);
                op(*server, c)
            },
            // A connection that broke or timed out: its server is passed over for a while.
            |(server, c)| {
                connector.hosts.failed(server);
                connector.sessions.forget(server, c.connection_id(), false);
                discard(c);
            },
        );
        match result {
            Ok(v) => {
                connector.ok();
                Ok(v)
            }
            Err(Failure::Connect(e)) => Err(e),
            Err(Failure::Statement(e)) => Err(connector.failed(e, retry)),
        }
    }

    /// False when the server this guard's connection is on is not trusted to grant: a Galera
    /// node that failed (broke, timed out) a short while ago ([`Hosts::distrusted`]). Asks the
    /// server whether it is one (`@@GLOBAL.wsrep_on`) once, and only in that case.
    pub(crate) fn may_grant(&mut self) -> bool {
        let Some(server) = self.inner.as_ref().map(|(server, _)| *server) else {
            return true;
        };
        let connector = self.connector;
        !connector.hosts.distrusted(server, || {
            match self.run(Retry::Never, |c| {
                c.query_first::<i64, _>("SELECT @@GLOBAL.wsrep_on")
            }) {
                Ok(on) => Some(on.is_some_and(|on| on != 0)),
                // ER_UNKNOWN_SYSTEM_VARIABLE: a server without wsrep (MySQL).
                Err(e) if e.code() == Some(1193) => Some(false),
                Err(_) => None,
            }
        })
    }

    /// The read timeout the next statement's socket gets: how long the client waits for its
    /// answer at most (what is left of the deadline, rounded down; the I/O timeout without one).
    pub(crate) fn statement_timeout(&self) -> Duration {
        let io = self.connector.io;
        let wanted = self
            .deadline
            .map_or(io, |d| d.saturating_duration_since(Instant::now()).min(io));
        socket_timeout(wanted, io)
    }

    /// Every row a prepared statement returns, decoded as `R`.
    pub(crate) fn rows<R: FromRow>(
        &mut self,
        retry: Retry,
        sql: &str,
        params: impl Into<Params>,
    ) -> Result<Vec<R>, DbError> {
        let params = params.into();
        let sessions = &self.connector.sessions;
        self.run_on(retry, |server, c| {
            prepared(sessions, server, c, sql, |c, stmt| {
                c.exec(stmt, params.clone())
            })
        })
    }

    /// The first row of a prepared statement, decoded as `R`.
    pub(crate) fn first<R: FromRow>(
        &mut self,
        retry: Retry,
        sql: &str,
        params: impl Into<Params>,
    ) -> Result<Option<R>, DbError> {
        let params = params.into();
        let sessions = &self.connector.sessions;
        self.run_on(retry, |server, c| {
            prepared(sessions, server, c, sql, |c, stmt| {
                c.exec_first(stmt, params.clone())
            })
        })
    }

    /// A prepared write: what it changed.
    pub(crate) fn write(
        &mut self,
        retry: Retry,
        sql: &str,
        params: impl Into<Params>,
    ) -> Result<Written, DbError> {
        let params = params.into();
        let sessions = &self.connector.sessions;
        self.run_on(retry, |server, c| {
            prepared(sessions, server, c, sql, |c, stmt| {
                c.exec_drop(stmt, params.clone())?;
                Ok(Written {
                    affected: c.affected_rows(),
                    last_insert_id: c.last_insert_id(),
                })
            })
        })
    }

    /// A statement in the text protocol (DDL, and statements with an `IN (…)` list built from
    /// integers): what it changed.
    pub(crate) fn text(&mut self, retry: Retry, sql: &str) -> Result<Written, DbError> {
        self.run(retry, |c| {
            c.query_drop(sql)?;
            Ok(Written {
                affected: c.affected_rows(),
                last_insert_id: c.last_insert_id(),
            })
        })
    }

    /// Rows of a statement in the text protocol (schema detection, lists of ids).
    pub(crate) fn text_rows<R: FromRow>(&mut self, sql: &str) -> Result<Vec<R>, DbError> {
        self.run(Retry::IfBroken, |c| c.query(sql))
    }
}

/// Why [`with_retry`] gave up.
enum Failure<E> {
    /// No connection could be had (already recorded by the connector).
    Connect(E),
    /// The statement failed.
    Statement(mysql::Error),
}

/// The retry policy of [`Conn::run`], apart from the pool so that a unit test can drive it:
/// runs `op` on the connection in `slot` (taking one with `acquire` when empty); a connection
/// that broke or timed out leaves the slot through `throw_away`; a broken one is replaced and
/// `op` runs once more only when `retry` is [`Retry::IfBroken`].
fn with_retry<C, T, E>(
    retry: Retry,
    slot: &mut Option<C>,
    mut acquire: impl FnMut() -> Result<C, E>,
    mut op: impl FnMut(&mut C) -> Result<T, mysql::Error>,
    throw_away: impl Fn(C),
) -> Result<T, Failure<E>> {
    let mut retried = false;
    loop {
        let conn = match slot {
            Some(c) => c,
            None => slot.insert(acquire().map_err(Failure::Connect)?),
        };
        let error = match op(conn) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let kind = fault(&error, retry);
        if kind != Fault::Statement
            && let Some(c) = slot.take()
        {
            throw_away(c);
        }
        if kind != Fault::Broken || retry == Retry::Never || retried {
            return Err(Failure::Statement(error));
        }
        retried = true;
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        // Dropping a `PooledConn` returns it to its pool, unless the mysql crate panicked
        // mid-statement (it does on some malformed server answers): then the connection may
        // be out of step, and is thrown away.
        let Some((server, conn)) = self.inner.take() else {
            return;
        };
        if std::thread::panicking() {
            self.connector
                .sessions
                .forget(server, conn.connection_id(), false);
            discard(conn);
            return;
        }
        let mut idle = lock(&self.connector.idle);
        if idle.is_none() {
            *idle = Some(Idle {
                server,
                conn,
                generation: fork_generation(),
            });
        }
        // Otherwise `conn` drops here and goes back to its pool.
    }
}

/// The error of a statement not sent because the operation's time budget ran out.
fn out_of_time() -> mysql::Error {
    mysql::Error::IoError(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the operation's time budget ran out",
    ))
}

/// Runs `exec` with `sql`'s statement prepared on `conn` (prepared once per connection, see
/// [`Sessions::statement`]); a statement the server no longer knows (the mysql crate closed it
/// when its own cache evicted it) is prepared again, once.
fn prepared<T>(
    sessions: &Sessions,
    server: usize,
    conn: &mut PooledConn,
    sql: &str,
    mut exec: impl FnMut(&mut PooledConn, &mysql::Statement) -> Result<T, mysql::Error>,
) -> Result<T, mysql::Error> {
    let stmt = sessions.statement(server, conn, sql)?;
    match exec(conn, &stmt) {
        Err(mysql::Error::MySqlError(e)) if e.code == UNKNOWN_STATEMENT => {
            sessions.forget(server, conn.connection_id(), true);
            let stmt = sessions.statement(server, conn, sql)?;
            exec(conn, &stmt)
        }
        other => other,
    }
}

/// Throws a connection away without waiting for it: the pool forgets it (its count goes down,
/// unlike `PooledConn::unwrap`), and nothing is read from it any more.
///
/// `reset_connection(true)` makes the pool reset the connection when it comes back and drop it
/// when the reset fails. On a dead or timed-out connection that reset would wait for an answer
/// for up to the read timeout; shutting down the read side of the socket first makes it fail at
/// once (the write side stays open, so the server still gets COM_QUIT).
fn discard(mut conn: PooledConn) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn io(kind: std::io::ErrorKind) -> mysql::Error {
        mysql::Error::IoError(std::io::Error::from(kind))
    }

    #[test]
    fn faults_are_classified() {
        let read = Retry::IfBroken;
        assert_eq!(
            fault(&io(std::io::ErrorKind::TimedOut), read),
            Fault::Timeout
        );
        assert_eq!(
            fault(&io(std::io::ErrorKind::WouldBlock), read),
            Fault::Timeout
        );
        assert_eq!(
            fault(&io(std::io::ErrorKind::ConnectionReset), read),
            Fault::Broken
        );
        let server = |code| {
            mysql::Error::MySqlError(mysql::MySqlError {
                state: "HY000".into(),
                message: String::new(),
                code,
            })
        };
        assert_eq!(
            fault(&server(1047), Retry::Never),
            Fault::Broken,
            "WSREP not prepared"
        );
        assert_eq!(
            fault(&server(1205), read),
            Fault::Broken,
            "a causal read timed out"
        );
        assert_eq!(
            fault(&server(1205), Retry::Never),
            Fault::Statement,
            "a lock wait"
        );
        assert_eq!(
            fault(&server(1213), Retry::Never),
            Fault::Statement,
            "a conflict"
        );
    }

    /// Drives the policy with connections that are numbers: `op` fails with `errors` in turn
    /// (then succeeds); returns how often `op` ran, how many connections were taken and thrown
    /// away, and whether it succeeded in the end.
    fn drive(retry: Retry, errors: Vec<mysql::Error>) -> (usize, usize, usize, bool) {
        let taken = Cell::new(0);
        let thrown = Cell::new(0);
        let mut errors = errors.into_iter();
        let mut runs = 0;
        let mut slot = None;
        let r = with_retry(
            retry,
            &mut slot,
            || {
                taken.set(taken.get() + 1);
                Ok::<usize, ()>(taken.get())
            },
            |_conn| {
                runs += 1;
                errors.next().map_or(Ok(()), Err)
            },
            |_| thrown.set(thrown.get() + 1),
        );
        (runs, taken.get(), thrown.get(), r.is_ok())
    }

    #[test]
    fn a_write_that_must_never_repeat_runs_once_on_a_broken_connection() {
        let broken = || io(std::io::ErrorKind::ConnectionReset);
        assert_eq!(drive(Retry::Never, vec![broken()]), (1, 1, 1, false));
    }

    #[test]
    fn a_read_runs_once_more_on_a_fresh_connection_but_only_once() {
        let broken = || io(std::io::ErrorKind::ConnectionReset);
        assert_eq!(drive(Retry::IfBroken, vec![broken()]), (2, 2, 1, true));
        assert_eq!(
            drive(Retry::IfBroken, vec![broken(), broken()]),
            (2, 2, 2, false)
        );
    }

    #[test]
    fn a_timeout_is_never_retried_and_a_statement_error_keeps_the_connection() {
        let timeout = io(std::io::ErrorKind::TimedOut);
        assert_eq!(drive(Retry::IfBroken, vec![timeout]), (1, 1, 1, false));
        let statement = mysql::Error::MySqlError(mysql::MySqlError {
            state: "42000".into(),
            message: "syntax".into(),
            code: 1064,
        });
        assert_eq!(drive(Retry::IfBroken, vec![statement]), (1, 1, 0, false));
    }
}
