//! The signing secret kept in `tiki_preferences` (SPEC section 2): reading it, and rotating it.

use super::handle::Store;
use super::model::Revoked;
use super::pool::{Conn, Retry};
use super::sql::{self, PREFS, SECRET_PREF};
use crate::error::{Error, Result};
use crate::token::{self, Secret};
use std::sync::atomic::Ordering;

impl Store {
    /// Replaces the signing secret in `tiki_preferences` by a new one from the OS CSPRNG:
    /// every signed token made so far stops verifying (legacy MD5 tokens are unkeyed and stay
    /// valid: `revoke` = true removes every token too, as Tiki trunk's `rotateSigningSecret`
    /// does by default). When the secret came from the caller's preference cache, this store
    /// reads the table from now on (the cached value is stale).
    ///
    /// # Errors
    /// [`Error::Config`] when the secret comes from the configuration (change it there);
    /// [`Error::Schema`] without a `tiki_preferences` table; database failure.
    pub fn rotate_secret(&self, revoke: bool) -> Result<Revoked> {
        self.guarded(|| {
            if self.config.secret.is_some() {
                return Err(Error::Config(
                    "the signing secret comes from the configuration: change it there".into(),
                ));
            }
            let schema = self.schema()?;
            if !schema.has_preferences {
                return Err(no_preferences());
            }
            let secret = token::new_secret()?;
            self.conn
                .checkout()
                .write(
                    Retry::IfBroken,
                    sql::REPLACE_SECRET,
                    (SECRET_PREF, secret.expose()),
                )
                .map_err(|e| self.db_error(e))?;
            self.preference_stale.store(true, Ordering::Release);
            self.keep_table_secret(secret);
            if revoke {
                self.revoke_all()
            } else {
                Ok(Revoked::default())
            }
        })
    }

    /// The stored secret (`None` when absent or empty).
    pub(crate) fn stored_secret(&self, conn: &mut Conn<'_>) -> Result<Option<Secret>> {
        let cell: Option<sql::Text> = conn
            .first(Retry::IfBroken, sql::PREFERENCE, (SECRET_PREF,))
            .map_err(|e| self.db_error(e))?;
        Ok(cell.and_then(sql::Text::secret))
    }
}

/// The error of an operation that needs `tiki_preferences` on a database without it.
pub(crate) fn no_preferences() -> Error {
    Error::Schema(format!(
        "there is no table {PREFS}(name, value) to keep the secret in"
    ))
}
