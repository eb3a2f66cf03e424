//! Configuration → connection options: the DSN, the timeouts, the session set-up and the pool
//! options; and the redacted form of a DSN for `Debug`, logs and phpinfo.

use super::StoreConfig;
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
/// * `lock_wait_timeout` bounded by the statement timeout, so that a table locked by someone
///   else makes the server give up too, instead of keeping a thread waiting for a client that
///   already gave up.
///
/// The session `time_zone` is never touched: `creation` is part of every token's payload and
/// must render as Tiki's own PHP sees it (the server default).
fn session_init(io_timeout: Option<Duration>) -> String {
    let mut sql = String::from(
        "SET SESSION sql_mode = TRIM(BOTH ',' FROM CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))",
    );
    if let Some(t) = io_timeout {
        // Whole seconds, at least 1 (MySQL's minimum), rounded up.
        let secs = t.as_secs() + u64::from(t.subsec_nanos() > 0);
        sql.push_str(&format!(", SESSION lock_wait_timeout = {}", secs.max(1)));
    }
    sql
}

/// The mysql connection options for `config`: the DSN's own options, then ours where the DSN
/// does not set them (connect timeout, TCP rather than a socket found by asking the server,
/// a lazy pool without per-use reset and health check — the pool module recovers dead
/// connections itself), the read/write timeouts and the session set-up.
///
/// # Errors
/// [`Error::Config`] when the DSN does not parse (the message never holds the DSN: it may hold
/// a password).
pub(crate) fn connect_opts(config: &StoreConfig) -> Result<Opts> {
    let dsn = normalise_scheme(&config.dsn);
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
        .init(vec![session_init(io)]);
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

/// The password of the DSN, to scrub it from any error text (belt and braces: the mysql crate's
/// messages are not known to contain it).
pub(crate) fn password(dsn: &str) -> Option<String> {
    let url = url::Url::parse(&normalise_scheme(dsn)).ok()?;
    let raw = url.password()?;
    let decoded = percent_encoding_decode(raw);
    (!decoded.is_empty()).then_some(decoded)
}

/// The DSN with its password (and any `password=` option) replaced by `***`, for `Debug`, logs
/// and phpinfo. A DSN that does not parse is not shown at all.
#[must_use]
pub fn redact(dsn: &str) -> String {
    let Ok(mut url) = url::Url::parse(dsn) else {
        return "<a DSN that does not parse>".into();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
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

/// Percent-decoding of a URL component, lossy (only used to find the password in messages).
fn percent_encoding_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dsn: &str) -> StoreConfig {
        StoreConfig::new(dsn)
    }

    #[test]
    fn redact_hides_passwords() {
        let r = redact("mysql://tiki:s3cr%40t@db.example:3306/tiki?socket=/x&password=p2");
        assert!(!r.contains("s3cr"), "{r}");
        assert!(!r.contains("p2"), "{r}");
        assert!(r.contains("tiki:***@db.example:3306/tiki"), "{r}");
        assert_eq!(redact("not a url"), "<a DSN that does not parse>");
        assert_eq!(redact("mysql://root@h/db"), "mysql://root@h/db");
    }

    #[test]
    fn password_is_decoded() {
        assert_eq!(
            password("mysql://u:s3cr%40t@h/db").as_deref(),
            Some("s3cr@t")
        );
        assert_eq!(password("mysql://u@h/db"), None);
    }

    #[test]
    fn our_defaults_apply_unless_the_dsn_says_otherwise() {
        let o = connect_opts(&config("mysql://u:p@127.0.0.1:3307/tiki")).unwrap();
        assert!(!o.get_pool_opts().reset_connection());
        assert!(!o.get_pool_opts().check_health());
        assert_eq!(o.get_pool_opts().constraints().min(), 0);
        assert!(!o.get_prefer_socket());
        assert_eq!(o.get_tcp_port(), 3307);
        assert!(o.get_read_timeout().is_some());
        assert!(o.get_init()[0].contains("STRICT_ALL_TABLES"));
        assert!(!o.get_init()[0].contains("time_zone"));

        let o = connect_opts(&config(
            "mysql://u:p@localhost/tiki?socket=/run/mysqld/mysqld.sock&reset_connection=true&pool_min=1&pool_max=2",
        ))
        .unwrap();
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
    fn lock_wait_is_rounded_up() {
        assert!(session_init(Some(Duration::from_millis(1500))).ends_with("lock_wait_timeout = 2"));
        assert!(session_init(Some(Duration::from_millis(200))).ends_with("lock_wait_timeout = 1"));
        assert!(!session_init(None).contains("lock_wait_timeout"));
    }
}
