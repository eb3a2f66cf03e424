//! A real MariaDB for the tests: `TIKI_TOKENS_TEST_DSN` when set (a server you configured), else
//! the throw-away server of `scripts/mariadb.sh` (started on first use, left running for the
//! other test binaries; `scripts/test.sh` stops it at the end).
//!
//! Each test takes a fresh database of its own ([`fresh_database`]), so tests run in parallel.

use mysql::prelude::Queryable;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The DSN of the test server (a database on it that exists; tests make their own).
pub fn server_dsn() -> String {
    static DSN: OnceLock<String> = OnceLock::new();
    DSN.get_or_init(|| {
        if let Ok(d) = std::env::var("TIKI_TOKENS_TEST_DSN") {
            if !d.is_empty() {
                return d;
            }
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/mariadb.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg("start")
            .output()
            .expect("run scripts/mariadb.sh");
        assert!(
            out.status.success(),
            "scripts/mariadb.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
    .clone()
}

/// `dsn` with its database name replaced by `db`.
pub fn with_database(dsn: &str, db: &str) -> String {
    let (base, query) = match dsn.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (dsn, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

/// A direct connection (no pool) to `dsn`, for test set-up and inspection.
pub fn connect(dsn: &str) -> mysql::Conn {
    mysql::Conn::new(mysql::Opts::from_url(dsn).expect("test DSN")).expect("connect to test server")
}

/// Creates an empty database with a unique name and returns its DSN.
pub fn fresh_database(hint: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let clean: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let name = format!("t_{clean}_{}_{n}", std::process::id());
    let server = server_dsn();
    let mut conn = connect(&server);
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
        .unwrap();
    conn.query_drop(format!("CREATE DATABASE `{name}`"))
        .unwrap();
    with_database(&server, &name)
}

/// Runs the statements of an SQL file (`;` at line ends separates statements; `--` comments).
pub fn run_sql(dsn: &str, sql: &str) {
    let mut conn = connect(dsn);
    let mut stmt = String::new();
    for line in sql.lines() {
        let t = line.trim();
        if t.starts_with("--") || t.is_empty() {
            continue;
        }
        stmt.push_str(line);
        stmt.push('\n');
        if t.ends_with(';') {
            conn.query_drop(&stmt)
                .unwrap_or_else(|e| panic!("{e}: {stmt}"));
            stmt.clear();
        }
    }
}

/// Tiki's table as Tiki 24 creates it, and as trunk has it (from `../shared/tiki-schema/`,
/// copied into `tests/data/` so the tests stand alone).
pub const TIKI24_SQL: &str = include_str!("../data/tiki24.sql");
/// Tiki trunk's table and its secret preference.
pub const TRUNK_SQL: &str = include_str!("../data/trunk.sql");
/// The three rows of Tiki's own test fixture.
pub const FIXTURE_SQL: &str = include_str!("../data/fixture.sql");
