//! The token store on Tiki's own table `tiki_auth_tokens` (SPEC sections 1–3), over MySQL/MariaDB.
//!
//! Pure Rust: no PHP types. One [`Store`] per process holds the connection pool and the detected
//! schema; every method is safe to call from several threads.
//!
//! Layout: `dsn` (configuration), `pool` (connections, dead-connection retry), `schema` (variant
//! detection, column widths, migration plan), `lookup` (the hot path), `create`, `manage` (get,
//! list, delete, purge, revoke, rotate, migrate), `cells` (reading result rows without panics).

mod cells;
mod create;
pub mod dsn;
mod lookup;
mod manage;
mod pool;
mod schema;

use crate::canon::Params;
use crate::error::{Denial, Result};
use crate::token::{Scheme, Secret};
use schema::Schema;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How to reach the database and which defaults apply.
#[derive(Clone)]
pub struct StoreConfig {
    /// `mysql://user:pass@host:port/db[?opts]` or `mysql://user:pass@localhost/db?socket=/path`.
    /// `Debug` of the whole config never shows the password (see `dsn`).
    pub dsn: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Read and write timeout of each statement.
    pub io_timeout: Duration,
    /// The signing secret; `None` = read `auth_token_secret` from `tiki_preferences`.
    pub secret: Option<Secret>,
    /// Cap on a token's timeout in seconds (Tiki pref `auth_token_access_maxtimeout`).
    pub max_timeout: i64,
    /// Cap on a token's hits (Tiki pref `auth_token_access_maxhits`).
    pub max_hits: i64,
    /// Mint legacy MD5 tokens even where signed ones are possible (only when told to).
    pub force_legacy: bool,
}

impl StoreConfig {
    /// A configuration with Tiki's defaults: caps 604800 seconds and 10 hits (Tiki's prefs
    /// `auth_token_access_maxtimeout` and `auth_token_access_maxhits`), a 2 s connect timeout, a
    /// 5 s statement timeout, the secret from `tiki_preferences`.
    #[must_use]
    pub fn new(dsn: impl Into<String>) -> Self {
        Self {
            dsn: dsn.into(),
            connect_timeout: Duration::from_secs(2),
            io_timeout: Duration::from_secs(5),
            secret: None,
            max_timeout: 604_800,
            max_hits: 10,
            force_legacy: false,
        }
    }
}

/// Never shows the DSN's password nor the secret.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("dsn", &dsn::redact(&self.dsn))
            .field("connect_timeout", &self.connect_timeout)
            .field("io_timeout", &self.io_timeout)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("max_timeout", &self.max_timeout)
            .field("max_hits", &self.max_hits)
            .field("force_legacy", &self.force_legacy)
            .finish()
    }
}

/// A granted lookup (SPEC section 3 step 8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The row's tokenId.
    pub token_id: i64,
    /// The decoded groups list (may be empty: a grant of no groups).
    pub groups: Vec<String>,
    /// email column.
    pub email: String,
    /// createUser = 'y'.
    pub create_user: bool,
    /// userPrefix column.
    pub user_prefix: String,
    /// user column (trunk only).
    pub user: Option<String>,
    /// data column (trunk only), raw JSON text.
    pub data: Option<String>,
    /// `userPrefix . sprintf('%06d', tokenId * 531441 % 1000000)` when createUser = 'y'.
    pub temp_user: Option<String>,
    /// Hits left after this one (-1 = unlimited).
    pub hits_left: i64,
}

/// A row of the table, for get/list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// tokenId.
    pub token_id: i64,
    /// creation as the database renders it.
    pub creation: String,
    /// timeout in seconds (-1 = never).
    pub timeout: i64,
    /// hits left (-1 = unlimited).
    pub hits: i64,
    /// maxhits.
    pub max_hits: i64,
    /// token value (may be NULL for a half-written row).
    pub token: Option<String>,
    /// entry bytes.
    pub entry: Vec<u8>,
    /// email.
    pub email: String,
    /// parameters JSON text.
    pub parameters: String,
    /// groups JSON text.
    pub groups: String,
    /// createUser 'y'/'n'.
    pub create_user: String,
    /// userPrefix.
    pub user_prefix: String,
    /// user (trunk).
    pub user: Option<String>,
    /// data (trunk).
    pub data: Option<String>,
}

/// Options of a new token (Tiki's `$arguments` to `createToken`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// Seconds; `None` or 0 = `max_timeout`; -1 = never expires; capped at `max_timeout`.
    pub timeout: Option<i64>,
    /// Uses; `None` or 0 = `max_hits`; -1 = unlimited; capped at `max_hits`.
    pub hits: Option<i64>,
    /// Who the token was sent to.
    pub email: String,
    /// Log the visitor in as a temporary user.
    pub create_user: bool,
    /// Prefix of the temporary user name.
    pub user_prefix: String,
    /// Creator (trunk's `user` column; ignored on Tiki 24's table).
    pub user: Option<String>,
    /// Extra JSON data (trunk's `data` column; ignored on Tiki 24's table).
    pub data: Option<String>,
}

/// A newly created token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// Its tokenId.
    pub token_id: i64,
    /// Its value.
    pub token: String,
    /// Legacy or signed.
    pub scheme: Scheme,
}

/// What the table and configuration allow (for phpinfo and the README's warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemeInfo {
    /// The scheme new tokens get.
    pub minting: Scheme,
    /// True when the table is Tiki 24's and [`Store::migrate`] would change it.
    pub needs_migration: bool,
    /// Width of the token column.
    pub token_width: u32,
    /// True when a secret is configured or stored.
    pub has_secret: bool,
}

/// What [`Store::migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// The ALTERs applied (empty when already migrated).
    pub altered: Vec<String>,
    /// True when a new secret was inserted into `tiki_preferences`.
    pub secret_created: bool,
}

/// The store: a pool and the detected schema.
pub struct Store {
    config: StoreConfig,
    conn: pool::Connector,
    schema: Mutex<Option<Arc<Schema>>>,
}

/// Never shows the DSN's password nor the secret.
impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("config", &self.config)
            .field("connection", &self.conn.state())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store for this configuration. Connects lazily: an unreachable server is not an error
    /// here, only at first use, and a failed connection is tried again at the next use.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when the DSN does not parse or names no database.
    pub fn new(config: StoreConfig) -> Result<Self> {
        let opts = dsn::connect_opts(&config)?;
        let conn = pool::Connector::new(opts, dsn::pool_wait(&config), dsn::password(&config.dsn));
        Ok(Self {
            config,
            conn,
            schema: Mutex::new(None),
        })
    }

    /// SPEC section 3: token + entry + params → grant or denial. Never an error: a database
    /// failure is a denial with reason `DatabaseError`.
    ///
    /// `params` are the request's params without `TOKEN`. One prepared SELECT by token (no
    /// round trip at all for a malformed token), and one conditional UPDATE when the token has
    /// limited hits.
    pub fn lookup(&self, token: &[u8], entry: &[u8], params: &Params) -> Result<Grant, Denial> {
        self.guard(
            || lookup::lookup(self, token, entry, params),
            |m| Err(db_denial(m)),
        )
    }

    /// Creates a token bound to `entry` and `params` for `groups` (SPEC section 2, "Minting"):
    /// signed when the table's token column is 64 wide and a secret exists (and not
    /// `force_legacy`), legacy MD5 otherwise.
    ///
    /// # Errors
    /// Input too wide for its column or not storable ([`Error::InvalidInput`], nothing written),
    /// params no request can carry, a missing table or column ([`Error::Schema`]), database
    /// failure ([`Error::Database`]; a half-written row is removed).
    pub fn create(
        &self,
        entry: &[u8],
        params: &Params,
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<Created> {
        self.guarded(|| create::create(self, entry, params, groups, options))
    }

    /// Creates a token for a full URL and returns the URL with `TOKEN=…` appended as the last
    /// query parameter (SPEC section 4): `origin + path + '?' + http_build_query(params) + '&' +
    /// 'TOKEN=' + token + '#' + fragment`. Requesting that URL matches the token.
    ///
    /// # Errors
    /// As [`Store::create`], and a URL that cannot be split.
    pub fn include_token(
        &self,
        url: &[u8],
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<(String, Created)> {
        self.guarded(|| create::include_token(self, url, groups, options))
    }

    /// The row holding `token`, only if the token verifies against it (expiry and hits are not
    /// checked). `None` for a malformed, unknown or unverifiable token.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn get(&self, token: &[u8]) -> Result<Option<TokenRow>> {
        self.guarded(|| manage::get(self, token))
    }

    /// Every row, oldest first (`ORDER BY creation, tokenId`).
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn list(&self) -> Result<Vec<TokenRow>> {
        self.guarded(|| manage::list(self))
    }

    /// Deletes the row `token_id`. Returns its temporary user name when the row had
    /// createUser = 'y' (so the PHP side can remove that user); `None` otherwise or when there
    /// was no such row.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn delete(&self, token_id: i64) -> Result<Option<String>> {
        self.guarded(|| manage::delete(self, token_id))
    }

    /// Removes at most `limit` unusable rows: timed out (database clock), or out of hits
    /// (`hits <= 0 AND hits != -1`), or half-written (token NULL, older than a minute). Returns
    /// the temporary user names of removed createUser = 'y' rows. The only statement that scans
    /// the table; lookups never do.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn purge(&self, limit: u32) -> Result<Vec<String>> {
        self.guarded(|| manage::purge(self, limit))
    }

    /// Deletes every row; returns the temporary user names of createUser = 'y' rows.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn revoke_all(&self) -> Result<Vec<String>> {
        self.guarded(|| manage::revoke_all(self))
    }

    /// Replaces the signing secret in `tiki_preferences` by a new one from the OS CSPRNG:
    /// every signed token made so far stops verifying (legacy MD5 tokens are unkeyed and stay
    /// valid: `revoke` = true removes every token too, returning the temporary user names).
    ///
    /// # Errors
    /// [`Error::Config`] when the secret comes from the configuration (change it there);
    /// [`Error::Schema`] without a `tiki_preferences` table; database failure.
    pub fn rotate_secret(&self, revoke: bool) -> Result<Vec<String>> {
        self.guarded(|| manage::rotate_secret(self, revoke))
    }

    /// Tiki's own migration of SPEC section 1 (entry → MEDIUMTEXT, parameters → TEXT, `user`
    /// and `data` added, token → `VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin`, a secret
    /// inserted with INSERT IGNORE). Idempotent: a second call changes nothing. Existing tokens
    /// keep working; new ones are signed.
    ///
    /// # Errors
    /// Database or schema failure (e.g. no ALTER privilege).
    pub fn migrate(&self) -> Result<MigrationReport> {
        self.guarded(|| manage::migrate(self))
    }

    /// Which scheme new tokens get and why (for phpinfo and the migration warning).
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn scheme_info(&self) -> Result<SchemeInfo> {
        self.guarded(|| manage::scheme_info(self))
    }

    /// The connection state for phpinfo, from what the last use of the pool showed (no round
    /// trip): "not connected", "connected (server version X)", "error: …". Never a password.
    #[must_use]
    pub fn connection_state(&self) -> String {
        self.conn.state()
    }

    /// Runs `f`, turning a panic (the mysql crate panics on some malformed server answers,
    /// e.g. a connection out of step) into `on_panic(message)`: nothing unwinds out of the
    /// store, and the pool is dropped so that no connection it held is used again.
    fn guard<T>(&self, f: impl FnOnce() -> T, on_panic: impl FnOnce(String) -> T) -> T {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(payload) => {
                self.conn.reset();
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                on_panic(format!("internal error (connection pool reset): {what}"))
            }
        }
    }

    /// [`Store::guard`] for the operations that return [`crate::Error`].
    fn guarded<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.guard(f, |m| Err(crate::Error::Database(m)))
    }

    /// The detected schema, detected now on first use (or after [`Store::forget_schema`]).
    fn schema(&self) -> Result<Arc<Schema>> {
        if let Some(s) = self
            .schema
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            return Ok(Arc::clone(s));
        }
        self.detect_schema()
    }

    /// Detects the schema now and caches it.
    fn detect_schema(&self) -> Result<Arc<Schema>> {
        let (conn, detected) = self
            .conn
            .first(schema::detect)
            .map_err(|e| self.conn.error(&e))?;
        drop(conn);
        let s = Arc::new(detected?);
        self.conn.connected(&s.server_version);
        *self.schema.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&s));
        Ok(s)
    }

    /// Drops the cached schema after an error that says the table changed (a column or the
    /// table itself is gone), so the next use detects it again.
    fn forget_schema_on(&self, e: &mysql::Error) {
        if let mysql::Error::MySqlError(m) = e {
            // ER_BAD_FIELD_ERROR, ER_NO_SUCH_TABLE
            if m.code == 1054 || m.code == 1146 {
                *self.schema.lock().unwrap_or_else(PoisonError::into_inner) = None;
            }
        }
    }
}

/// A denial for a database failure (fail closed).
fn db_denial(detail: impl Into<String>) -> Denial {
    Denial::new(crate::DenialReason::DatabaseError, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Store>();
    }

    #[test]
    fn a_panic_inside_is_a_denial_or_an_error() {
        let store = Store::new(StoreConfig::new("mysql://u:p@127.0.0.1:1/db")).unwrap();
        let denied: Result<(), Denial> = store.guard(|| panic!("boom"), |m| Err(db_denial(m)));
        let d = denied.unwrap_err();
        assert_eq!(d.reason, crate::DenialReason::DatabaseError);
        assert!(d.detail.contains("boom"), "{d}");
        let e: Result<()> = store.guarded(|| panic!("bang {}", 1));
        assert!(matches!(e, Err(crate::Error::Database(m)) if m.contains("bang 1")));
        assert!(
            store
                .connection_state()
                .starts_with("error: internal error")
        );
    }
}
