//! The [`Store`] itself: its configuration, its pool, the cached schema, and the helpers every
//! operation shares (the panic guard, schema detection, database errors). The operations are
//! `impl Store` blocks in the files named after them.

use super::config::StoreConfig;
use super::pool::{self, Conn, DbError};
use super::schema::{self, Schema};
use super::{dsn, redact};
use crate::canon::route::SiteRoot;
use crate::error::{Error, Result};
use crate::token::Secret;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a secret read from `tiki_preferences` is used for lookups without reading it again.
/// A rotation made by another process therefore counts within this time for tokens signed with
/// the old secret; a token signed with the new one makes the lookup read the table at once.
pub(super) const TABLE_SECRET_KEPT: Duration = Duration::from_secs(1);

/// The store: a pool and the detected schema.
pub struct Store {
    pub(super) config: StoreConfig,
    pub(super) conn: pool::Connector,
    schema: Mutex<Option<Arc<Schema>>>,
    /// Unix time of the last purge started by [`Store::purge_if_due`], `i64::MIN` = never.
    pub(super) last_purge: AtomicI64,
    /// The secret last read from `tiki_preferences` by a lookup, and when.
    table_secret: Mutex<Option<(Secret, Instant)>>,
    /// [`StoreConfig::site_root`], checked.
    pub(super) site_root: Option<SiteRoot>,
    /// Set when this store rotated the secret while it came from the caller's preference cache:
    /// that value is stale from then on, and the store reads the table instead.
    pub(super) preference_stale: AtomicBool,
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
    /// [`crate::Error::Config`] when the DSN does not parse or names no database, or the site root
    /// is not a path `/…/`.
    pub fn new(config: StoreConfig) -> Result<Self> {
        let opts = dsn::connect_opts(&config)?;
        let site_root = config
            .site_root
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| {
                SiteRoot::new(r.as_bytes())
                    .map_err(|e| Error::Config(format!("the site root {r:?}: {e}")))
            })
            .transpose()?;
        let conn = pool::Connector::new(
            opts,
            dsn::pool_wait(&config),
            config.io_timeout,
            redact::password(&config.dsn),
        );
        Ok(Self {
            config,
            conn,
            schema: Mutex::new(None),
            last_purge: AtomicI64::new(i64::MIN),
            table_secret: Mutex::new(None),
            site_root,
            preference_stale: AtomicBool::new(false),
        })
    }

    /// The secret read from the table by a lookup less than
    /// [`TABLE_SECRET_KEPT`] ago.
    pub(super) fn kept_table_secret(&self) -> Option<Secret> {
        let kept = self
            .table_secret
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|(_, at)| at.elapsed() < TABLE_SECRET_KEPT)
            .map(|(s, _)| s.clone())
    }

    /// Keeps the secret just read from the table (or just stored there by this store).
    pub(super) fn keep_table_secret(&self, secret: Secret) {
        *self
            .table_secret
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((secret, Instant::now()));
    }

    /// The secret the caller gave (configured, else Tiki's cached preference unless this store
    /// rotated it since); `None`: the secret is read from `tiki_preferences`.
    pub(super) fn given_secret(&self) -> Option<&Secret> {
        self.config.secret.as_ref().or_else(|| {
            self.config
                .preference_secret
                .as_ref()
                .filter(|_| !self.preference_stale.load(Ordering::Acquire))
        })
    }

    /// The configuration this store was made with.
    #[must_use]
    pub fn config(&self) -> &StoreConfig {
        &self.config
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
    pub(super) fn guard<T>(&self, f: impl FnOnce() -> T, on_panic: impl FnOnce(String) -> T) -> T {
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
    pub(super) fn guarded<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.guard(f, |m| Err(Error::Database(m)))
    }

    /// The detected schema, detected now on first use (or after it was forgotten).
    pub(super) fn schema(&self) -> Result<Arc<Schema>> {
        if let Some(s) = self
            .schema
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            return Ok(Arc::clone(s));
        }
        self.detect_schema(&mut self.conn.checkout())
    }

    /// Detects the schema now (on `conn`) and caches it.
    pub(super) fn detect_schema(&self, conn: &mut Conn<'_>) -> Result<Arc<Schema>> {
        let s = Arc::new(schema::detect(conn).map_err(|e| self.db_error(e))??);
        self.conn.connected(&s.server_version);
        *self.schema.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&s));
        Ok(s)
    }

    /// A database failure as this crate's error (see [`Store::note`]).
    pub(super) fn db_error(&self, e: DbError) -> Error {
        self.note(&e);
        Error::Database(e.text)
    }

    /// Drops the cached schema when a database failure says the table changed (a column or the
    /// table itself is gone), so the next use detects it again.
    pub(super) fn note(&self, e: &DbError) {
        // ER_BAD_FIELD_ERROR, ER_NO_SUCH_TABLE
        if matches!(e.code(), Some(1054 | 1146)) {
            *self.schema.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Denial, DenialReason};

    #[test]
    fn a_store_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Store>();
    }

    #[test]
    fn a_panic_inside_is_a_denial_or_an_error() {
        let store = Store::new(StoreConfig::new("mysql://u:p@127.0.0.1:1/db")).unwrap();
        let denied: Result<(), Denial> = store.guard(
            || panic!("boom"),
            |m| Err(Denial::new(DenialReason::DatabaseError, m)),
        );
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
