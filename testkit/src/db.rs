//! A real MariaDB for the tests: `TIKI_TOKENS_TEST_DSN` when set (a server you configured), else
//! the throw-away server of `scripts/mariadb.sh` (started on first use, left running for the
//! other test binaries; `scripts/test.sh` stops it at the end).
//!
//! Every server started here carries the run's marker (see [`crate::procs`]).
//!
//! Each test takes a fresh database of its own ([`fresh_database`]), so tests run in parallel.

use mysql::prelude::Queryable;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `scripts/mariadb.sh` of the repository.
fn mariadb_script() -> std::path::PathBuf {
    crate::repo().join("scripts/mariadb.sh")
}

/// The DSN of the test server (a database on it that exists; tests make their own).
pub fn server_dsn() -> String {
    static DSN: OnceLock<String> = OnceLock::new();
    DSN.get_or_init(|| {
        if let Ok(d) = std::env::var("TIKI_TOKENS_TEST_DSN")
            && !d.is_empty()
        {
            return d;
        }
        let out = crate::procs::command("bash")
            .arg(mariadb_script())
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
pub const TIKI24_SQL: &str = include_str!("../../tests/data/tiki24.sql");
/// Tiki trunk's table and its secret preference.
pub const TRUNK_SQL: &str = include_str!("../../tests/data/trunk.sql");
/// The three rows of Tiki's own test fixture.
pub const FIXTURE_SQL: &str = include_str!("../../tests/data/fixture.sql");

// ---- The token store's tests: table variants, engines, own servers -------------------------

/// Tiki trunk's table with its columns in another order, as on a site upgraded from Tiki 24
/// (`user` and `data` added last, the rest shuffled): the store must use names, not positions.
pub const TRUNK_REORDERED_SQL: &str = "
CREATE TABLE tiki_auth_tokens (
  `groups` TEXT,
  token VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin,
  email VARCHAR(255) NOT NULL,
  hits INT NOT NULL DEFAULT 1,
  userPrefix VARCHAR(200) DEFAULT '_token',
  entry MEDIUMTEXT,
  timeout INT NOT NULL DEFAULT 0,
  createUser CHAR(1) DEFAULT 'n',
  parameters TEXT,
  creation TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  maxhits INT NOT NULL DEFAULT 1,
  tokenId INT NOT NULL AUTO_INCREMENT,
  user VARCHAR(200) DEFAULT NULL,
  data TEXT DEFAULT NULL,
  PRIMARY KEY (tokenId),
  KEY tiki_auth_tokens_token (token)
) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS tiki_preferences (
  name VARCHAR(40) NOT NULL DEFAULT '',
  value MEDIUMTEXT,
  PRIMARY KEY (name)
) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT IGNORE INTO tiki_preferences (name, value) VALUES ('auth_token_secret', 'test-auth-token-secret');
";

/// The secret Tiki's own tests use (and `TRUNK_SQL` stores).
pub const TEST_SECRET: &str = "test-auth-token-secret";

/// Which DDL a test database gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Tiki 24: token CHAR(32) utf8mb4_unicode_ci, entry VARCHAR(50), no user/data.
    Tiki24,
    /// Tiki trunk: token VARCHAR(64) ascii_bin, entry MEDIUMTEXT, user and data, a secret.
    Trunk,
    /// Trunk with another column order.
    TrunkReordered,
}

/// Which engine the table gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// As Tiki's DDL says.
    MyIsam,
    /// `ALTER TABLE … ENGINE=InnoDB`, as many sites have.
    InnoDb,
}

/// Every variant on every engine.
pub const ALL_TABLES: [(Variant, Engine); 6] = [
    (Variant::Tiki24, Engine::MyIsam),
    (Variant::Tiki24, Engine::InnoDb),
    (Variant::Trunk, Engine::MyIsam),
    (Variant::Trunk, Engine::InnoDb),
    (Variant::TrunkReordered, Engine::MyIsam),
    (Variant::TrunkReordered, Engine::InnoDb),
];

/// Creates the table of `variant` on `engine` in the database of `dsn`.
pub fn create_table(dsn: &str, variant: Variant, engine: Engine) {
    run_sql(
        dsn,
        match variant {
            Variant::Tiki24 => TIKI24_SQL,
            Variant::Trunk => TRUNK_SQL,
            Variant::TrunkReordered => TRUNK_REORDERED_SQL,
        },
    );
    if engine == Engine::InnoDb {
        connect(dsn)
            .query_drop("ALTER TABLE tiki_auth_tokens ENGINE=InnoDB")
            .unwrap();
    }
}

/// A fresh database on the test server with the table of `variant` on `engine`.
pub fn table_database(hint: &str, variant: Variant, engine: Engine) -> String {
    let dsn = fresh_database(&format!("{hint}_{variant:?}_{engine:?}"));
    create_table(&dsn, variant, engine);
    dsn
}

/// A store configuration for `dsn` with Tiki's defaults and short timeouts.
pub fn store_config(dsn: &str) -> tiki_tokens::store::StoreConfig {
    let mut c = tiki_tokens::store::StoreConfig::new(dsn);
    c.connect_timeout = std::time::Duration::from_secs(2);
    c.io_timeout = std::time::Duration::from_secs(5);
    c
}

/// A store on `dsn` with [`store_config`].
pub fn store(dsn: &str) -> tiki_tokens::store::Store {
    tiki_tokens::store::Store::new(store_config(dsn)).expect("store")
}

/// The first column of the first row of `sql` (test inspection).
pub fn query_value<T: mysql::prelude::FromValue>(dsn: &str, sql: &str) -> Option<T> {
    connect(dsn).query_first(sql).expect(sql)
}

/// Runs one statement (test set-up).
pub fn exec(dsn: &str, sql: &str) {
    connect(dsn)
        .query_drop(sql)
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// A MariaDB server of a test's own (`scripts/mariadb.sh` with its own directory), for tests
/// that stop, lock or inspect a server. Stopped and removed when dropped.
pub struct OwnServer {
    /// Its directory (data, socket, port, log).
    pub dir: std::path::PathBuf,
    /// The root DSN of its `tiki_tokens_test` database.
    pub dsn: String,
}

impl OwnServer {
    /// Starts a new server in `target/mariadb-<name>-<pid>`.
    pub fn start(name: &str) -> Self {
        let dir = crate::repo()
            .join("target")
            .join(format!("mariadb-{name}-{}", std::process::id()));
        let dsn = Self::script(&dir, "start");
        Self { dir, dsn }
    }

    fn script(dir: &std::path::Path, cmd: &str) -> String {
        let out = crate::procs::command("bash")
            .arg(mariadb_script())
            .arg(cmd)
            .env("TIKI_TOKENS_MARIADB_DIR", dir)
            .output()
            .expect("run scripts/mariadb.sh");
        assert!(
            out.status.success(),
            "scripts/mariadb.sh {cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Stops the server (its data stay).
    pub fn stop(&self) {
        Self::script(&self.dir, "stop");
    }

    /// Starts it again on the same port and data; returns its DSN (the same as before).
    pub fn resume(&self) -> String {
        Self::script(&self.dir, "resume")
    }

    /// A fresh database on this server (as [`fresh_database`] does on the shared one).
    pub fn fresh_database(&self, hint: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let name = format!("o_{hint}_{n}");
        connect(&self.dsn)
            .query_drop(format!("CREATE DATABASE `{name}`"))
            .unwrap();
        with_database(&self.dsn, &name)
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        // No assert here: a panic while a failing test unwinds would abort the process.
        let _ = crate::procs::command("bash")
            .arg(mariadb_script())
            .arg("stop")
            .env("TIKI_TOKENS_MARIADB_DIR", &self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A row as Tiki code creates it (the columns a test chooses; the rest take their defaults).
#[derive(Clone, Debug)]
pub struct TikiRow {
    /// entry column.
    pub entry: &'static str,
    /// parameters column (JSON text as Tiki's `json_encode` writes it), or NULL.
    pub parameters: Option<&'static str>,
    /// groups column (JSON), or NULL.
    pub groups: Option<&'static str>,
    /// timeout in seconds.
    pub timeout: i64,
    /// hits (also maxhits).
    pub hits: i64,
    /// createUser 'y'/'n'.
    pub create_user: &'static str,
    /// userPrefix.
    pub user_prefix: &'static str,
}

impl Default for TikiRow {
    fn default() -> Self {
        Self {
            entry: "tiki-index.php",
            parameters: Some("[]"),
            groups: Some(r#"["Registered"]"#),
            timeout: 3600,
            hits: 5,
            create_user: "n",
            user_prefix: "_token",
        }
    }
}

/// Inserts `row` with token NULL, returns its tokenId.
pub fn insert_row(dsn: &str, row: &TikiRow) -> i64 {
    let mut c = connect(dsn);
    c.exec_drop(
        "INSERT INTO tiki_auth_tokens (timeout, maxhits, hits, entry, parameters, `groups`, \
         email, createUser, userPrefix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.timeout,
            row.hits,
            row.hits,
            row.entry,
            row.parameters,
            row.groups,
            "someone@example.org",
            row.create_user,
            row.user_prefix,
        ),
    )
    .unwrap();
    i64::try_from(c.last_insert_id()).unwrap()
}

/// Tiki 24's minting, in its own SQL: `UPDATE … SET token = MD5(CONCAT(tokenId, creation,
/// timeout, entry, parameters, groups))` (NULL columns as empty, per the SPEC). Returns the
/// token the server computed.
pub fn tiki24_sign(dsn: &str, id: i64) -> String {
    let mut c = connect(dsn);
    c.exec_drop(
        "UPDATE tiki_auth_tokens SET token = MD5(CONCAT(tokenId, creation, timeout, \
         IFNULL(entry, ''), IFNULL(parameters, ''), IFNULL(`groups`, ''))) WHERE tokenId = ?",
        (id,),
    )
    .unwrap();
    c.exec_first(
        "SELECT token FROM tiki_auth_tokens WHERE tokenId = ?",
        (id,),
    )
    .unwrap()
    .unwrap()
}

/// Inserts `row` and mints its token as Tiki 24 does.
pub fn tiki24_mint(dsn: &str, row: &TikiRow) -> (i64, String) {
    let id = insert_row(dsn, row);
    (id, tiki24_sign(dsn, id))
}

/// The payload of row `id` as the server renders it (SQL `CONCAT`, NULL as empty).
pub fn sql_payload(dsn: &str, id: i64) -> Vec<u8> {
    connect(dsn)
        .exec_first(
            "SELECT CONCAT(tokenId, creation, timeout, IFNULL(entry, ''), \
             IFNULL(parameters, ''), IFNULL(`groups`, '')) FROM tiki_auth_tokens WHERE tokenId = ?",
            (id,),
        )
        .unwrap()
        .unwrap()
}

/// Tiki trunk's signed token of `payload`, computed by real PHP: `hash_hmac('sha256', …)`
/// keyed by the secret's text.
pub fn php_hmac(payload: &[u8], secret: &str) -> String {
    let code = format!(
        "echo hash_hmac('sha256', stream_get_contents(STDIN), {});",
        crate::value::php_literal(secret.as_bytes())
    );
    String::from_utf8(crate::php::eval(&code, payload)).unwrap()
}

/// Tiki trunk's minting: the row's payload from the server, HMAC by PHP, written back.
pub fn trunk_sign(dsn: &str, id: i64, secret: &str) -> String {
    let token = php_hmac(&sql_payload(dsn, id), secret);
    connect(dsn)
        .exec_drop(
            "UPDATE tiki_auth_tokens SET token = ? WHERE tokenId = ?",
            (&token, id),
        )
        .unwrap();
    token
}

/// The stored secret of the database, if any.
pub fn stored_secret(dsn: &str) -> Option<String> {
    connect(dsn)
        .query_first("SELECT value FROM tiki_preferences WHERE name = 'auth_token_secret'")
        .unwrap()
}

/// A params tree of string values (what a request carries).
pub fn str_params(pairs: &[(&str, &str)]) -> tiki_tokens::canon::Params {
    use tiki_tokens::canon::{Key, Value};
    pairs
        .iter()
        .map(|(k, v)| {
            (
                Key::from_bytes(k.as_bytes()),
                Value::Str(v.as_bytes().to_vec()),
            )
        })
        .collect()
}
