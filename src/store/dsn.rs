//! Configuration → connection options: the DSN, the timeouts, the session set-up and the pool
//! options.

use super::config::{CausalReads, StoreConfig};
use crate::error::{Error, Result};
use mysql::{Opts, OptsBuilder, PoolConstraints};
use std::collections::HashSet;
use std::time::Duration;

/// Connections a pool keeps at most when the DSN does not say (`pool_max`). One PHP worker
/// serves one request at a time, so it never holds more than one; threads of a Rust program
/// share the rest.
const DEFAULT_POOL_MAX: usize = 8;

/// The session set-up run once on every new connection (and again after a reset):
/// * `STRICT_ALL_TABLES` appended to the server's `sql_mode`, so that a value too wide for its
///   column is an error, never a silent truncation (the widths are also checked before writing);
/// * `lock_wait_timeout` (metadata and table locks) and `innodb_lock_wait_timeout` (InnoDB row
///   locks) bounded by the statement timeout, so that a table or row locked by someone else
///   makes the server give up too, instead of keeping a thread waiting for a client that already
///   gave up.
///
/// * causal reads on a MariaDB Galera node ([`CausalReads`]): `wsrep_sync_wait = 1`, so a read
///   waits until the node has applied every write the cluster committed before it — a token
///   revoked, expired or used up on another node is never granted by a lagging one. Written as a
///   MariaDB executable comment inside the one `SET`, which MySQL reads as a comment.
///
/// The session `time_zone` is never touched: `creation` is part of every token's payload and
/// must render as Tiki's own PHP sees it (the server default).
fn session_init(io_timeout: Option<Duration>, causal: CausalReads) -> String {
    let mut sql = String::from(
        "SET SESSION sql_mode = TRIM(BOTH ',' FROM CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))",
    );
    match causal {
        CausalReads::Auto => {
            sql.push_str(" /*M!, SESSION wsrep_sync_wait = IF(@@GLOBAL.wsrep_on, 1, 0) */");
        }
        CausalReads::On => sql.push_str(" /*M!, SESSION wsrep_sync_wait = 1 */"),
        CausalReads::Off => {}
    }
    if let Some(t) = io_timeout {
        // Whole seconds, at least 1 (MySQL's minimum), rounded up.
        let secs = t.as_secs() + u64::from(t.subsec_nanos() > 0);
        let secs = secs.max(1);
        sql.push_str(&format!(
            ", SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}"
        ));
    }
    sql
}

/// The mysql connection options for `config`: the DSN's own options, then ours where the DSN
/// does not set them (connect timeout, TCP rather than a socket found by asking the server,
/// a lazy pool without per-use reset and health check — the pool module recovers dead
/// connections itself), the read/write timeouts and the session set-up.
///
/// A DSN may name several servers (`mysql://u:p@h1:3306,h2:3306/db`, a Galera cluster): one
/// set of options per server, in order, each with the same user, database and options.
///
/// # Errors
/// [`Error::Config`] when the DSN does not parse (the message never holds the DSN: it may hold
/// a password).
pub(crate) fn connect_opts(config: &StoreConfig) -> Result<Vec<Opts>> {
    super::hostlist::split(&config.dsn)
        .iter()
        .map(|dsn| server_opts(config, dsn))
        .collect()
}

/// [`connect_opts`] of one server.
fn server_opts(config: &StoreConfig, dsn: &str) -> Result<Opts> {
    let dsn = normalise_scheme(dsn);
    let url = url::Url::parse(&dsn).map_err(|e| {
        Error::Config(format!(
            "the DSN is not a URL ({e}); expected mysql://user:pass@host:port/db"
        ))
    })?;
    let explicit: HashSet<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let opts = Opts::from_url(&dsn).map_err(|e| Error::Config(format!("the DSN: {e}")))?;
    if opts.get_db_name().is_none() {
        return Err(Error::Config(
            "the DSN names no database (mysql://user:pass@host:port/DATABASE)".into(),
        ));
    }

    let mut pool_opts = opts.get_pool_opts().clone();
    if !explicit.contains("pool_min") && !explicit.contains("pool_max") {
        // min 0: creating the pool opens no connection (a Store made before the server is up,
        // or before an FPM fork, connects on first use).
        if let Some(c) = PoolConstraints::new(0, DEFAULT_POOL_MAX) {
            pool_opts = pool_opts.with_constraints(c);
        }
    }
    if !explicit.contains("reset_connection") {
        pool_opts = pool_opts.with_reset_connection(false);
    }
    if !explicit.contains("check_health") {
        pool_opts = pool_opts.with_check_health(false);
    }

    let io = non_zero(config.io_timeout);
    let mut builder = OptsBuilder::from_opts(opts)
        .pool_opts(pool_opts)
        .read_timeout(io)
        .write_timeout(io)
        .init(vec![session_init(io, config.causal_reads)]);
    if !explicit.contains("tcp_connect_timeout_ms") {
        builder = builder.tcp_connect_timeout(non_zero(config.connect_timeout));
    }
    if !explicit.contains("prefer_socket") {
        // The crate's default asks a loopback server for its socket and silently switches to
        // it; connect the way the DSN says instead (`?socket=/path` for a socket).
        builder = builder.prefer_socket(false);
    }
    Ok(builder.into())
}

/// How long to wait for a free pooled connection before failing closed.
pub(crate) fn pool_wait(config: &StoreConfig) -> Duration {
    non_zero(config.connect_timeout).unwrap_or(Duration::from_secs(10))
}

/// `mariadb://` is accepted as a synonym of `mysql://` (the crate only knows the latter).
fn normalise_scheme(dsn: &str) -> String {
    match dsn.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => dsn.to_string(),
    }
}

fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dsn: &str) -> StoreConfig {
        StoreConfig::new(dsn)
    }

    fn one(mut opts: Vec<Opts>) -> Opts {
        assert_eq!(opts.len(), 1);
        opts.remove(0)
    }

    #[test]
    fn a_dsn_may_name_several_servers() {
        let opts =
            connect_opts(&config("mysql://u:p@h1:3311,h2:3312,h3/tiki?io_timeout=1")).unwrap_err();
        assert!(matches!(opts, Error::Config(_)), "unknown option: {opts:?}");
        let opts = connect_opts(&config("mysql://u:p@h1:3311,h2:3312,h3/tiki")).unwrap();
        let servers: Vec<(String, u16)> = opts
            .iter()
            .map(|o| (o.get_ip_or_hostname().to_string(), o.get_tcp_port()))
            .collect();
        assert_eq!(
            servers,
            [
                ("h1".into(), 3311),
                ("h2".into(), 3312),
                ("h3".into(), 3306)
            ]
        );
        assert!(opts.iter().all(|o| o.get_db_name() == Some("tiki")));
        assert!(opts.iter().all(|o| o.get_user() == Some("u")));
    }

    #[test]
    fn our_defaults_apply_unless_the_dsn_says_otherwise() {
        let o = one(connect_opts(&config("mysql://u:p@127.0.0.1:3307/tiki")).unwrap());
        assert!(!o.get_pool_opts().reset_connection());
        assert!(!o.get_pool_opts().check_health());
        assert_eq!(o.get_pool_opts().constraints().min(), 0);
        assert!(!o.get_prefer_socket());
        assert_eq!(o.get_tcp_port(), 3307);
        assert!(o.get_read_timeout().is_some());
        assert!(o.get_init()[0].contains("STRICT_ALL_TABLES"));
        assert!(!o.get_init()[0].contains("time_zone"));

        let o = one(
            connect_opts(&config(
                "mysql://u:p@localhost/tiki?socket=/run/mysqld/mysqld.sock&reset_connection=true&pool_min=1&pool_max=2",
            ))
            .unwrap(),
        );
        assert_eq!(o.get_socket(), Some("/run/mysqld/mysqld.sock"));
        assert!(o.get_pool_opts().reset_connection());
        assert_eq!(o.get_pool_opts().constraints().max(), 2);
    }

    #[test]
    fn bad_dsns_are_config_errors_without_the_password() {
        for dsn in [
            "postgres://u:hunter22@h/db",
            "mysql://u:hunter22@h",
            "mysql://u:hunter22@h/db?bogus=1",
            "nonsense hunter22",
        ] {
            match connect_opts(&config(dsn)) {
                Err(Error::Config(m)) => assert!(!m.contains("hunter22"), "{m}"),
                other => panic!("{dsn}: {other:?}"),
            }
        }
        assert!(connect_opts(&config("mariadb://u:p@h/db")).is_ok());
    }

    #[test]
    fn causal_reads_only_where_asked_and_only_for_mariadb() {
        let auto = session_init(None, CausalReads::Auto);
        assert!(auto.contains("/*M!, SESSION wsrep_sync_wait = IF(@@GLOBAL.wsrep_on, 1, 0) */"));
        assert!(
            session_init(None, CausalReads::On).contains("/*M!, SESSION wsrep_sync_wait = 1 */")
        );
        assert!(!session_init(None, CausalReads::Off).contains("wsrep"));
    }

    #[test]
    fn lock_wait_is_rounded_up() {
        assert!(
            session_init(Some(Duration::from_millis(1500)), CausalReads::Off)
                .ends_with("lock_wait_timeout = 2")
        );
        assert!(
            session_init(Some(Duration::from_millis(200)), CausalReads::Off)
                .ends_with("lock_wait_timeout = 1")
        );
        assert!(
            session_init(Some(Duration::from_millis(1500)), CausalReads::Off)
                .contains(", SESSION lock_wait_timeout = 2,")
        );
        assert!(!session_init(None, CausalReads::Off).contains("lock_wait_timeout"));
    }
}
