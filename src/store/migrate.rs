//! Tiki's own migration of the table to signed tokens (SPEC section 1), and what the table and
//! configuration allow now (for phpinfo and the migration warning).

use super::handle::Store;
use super::model::{MigrationReport, SchemeInfo};
use super::pool::Retry;
use super::schema::Schema;
use super::secret::no_preferences;
use super::sql::{self, SECRET_PREF};
use crate::error::Result;
use crate::token::{self, Scheme};

impl Store {
    /// Tiki's own migration of SPEC section 1 (entry → MEDIUMTEXT, parameters → TEXT, `user`
    /// and `data` added, token → `VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin`, a secret
    /// inserted with INSERT IGNORE). Idempotent: a second call changes nothing. Existing tokens
    /// keep working; new ones are signed.
    ///
    /// # Errors
    /// Database or schema failure (e.g. no ALTER privilege).
    pub fn migrate(&self) -> Result<MigrationReport> {
        self.guarded(|| {
            let mut conn = self.conn.checkout();
            let schema = self.detect_schema(&mut conn)?;
            let plan = migration_plan(&schema);
            if !schema.has_preferences {
                return Err(no_preferences());
            }
            let secret = token::new_secret()?;
            if !plan.is_empty() {
                conn.text(Retry::Never, &sql::alter(&plan))
                    .map_err(|e| self.db_error(e))?;
            }
            let inserted = conn
                .write(
                    Retry::IfBroken,
                    sql::INSERT_SECRET,
                    (SECRET_PREF, secret.expose()),
                )
                .map_err(|e| self.db_error(e))?;
            self.detect_schema(&mut conn)?;
            Ok(MigrationReport {
                altered: plan,
                secret_created: inserted.affected == 1,
            })
        })
    }

    /// Which scheme new tokens get and why (for phpinfo and the migration warning), from the
    /// table as it is now (detected afresh: another process may have migrated it, or dropped
    /// and created it again).
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn scheme_info(&self) -> Result<SchemeInfo> {
        self.guarded(|| {
            let mut conn = self.conn.checkout();
            let schema = self.detect_schema(&mut conn)?;
            let has_secret = match self.given_secret() {
                Some(_) => true,
                None if schema.has_preferences => self.stored_secret(&mut conn)?.is_some(),
                None => false,
            };
            let minting = if schema.can_sign() && has_secret && !self.config.force_legacy {
                Scheme::Signed
            } else {
                Scheme::Legacy
            };
            let cluster = self.cluster_node(&mut conn)?;
            Ok(SchemeInfo {
                minting,
                needs_migration: !migration_plan(&schema).is_empty() || !has_secret,
                token_width: schema.token_width(),
                has_secret,
                cluster,
            })
        })
    }
}

/// The clauses of Tiki's own migration (SPEC section 1) that this table still needs, in the
/// order of one `ALTER TABLE`.
fn migration_plan(schema: &Schema) -> Vec<String> {
    let mut plan = Vec::new();
    let is = |name: &str, types: &[&str]| {
        schema
            .column(name)
            .is_some_and(|c| types.contains(&c.data_type.as_str()))
    };
    if !is("entry", &["mediumtext", "longtext"]) {
        plan.push("MODIFY `entry` MEDIUMTEXT".to_string());
    }
    if !is("parameters", &["text", "mediumtext", "longtext"]) {
        plan.push("MODIFY `parameters` TEXT".to_string());
    }
    if !schema.has("user") {
        plan.push("ADD COLUMN `user` VARCHAR(200) DEFAULT NULL".to_string());
    }
    if !schema.has("data") {
        plan.push("ADD COLUMN `data` TEXT DEFAULT NULL".to_string());
    }
    let token_ok = schema.column("token").is_some_and(|c| {
        c.chars.is_some_and(|w| w >= 64)
            && c.charset.as_deref() == Some("ascii")
            && c.collation.as_deref() == Some("ascii_bin")
    });
    if !token_ok {
        plan.push("MODIFY `token` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin".to_string());
    }
    plan
}
