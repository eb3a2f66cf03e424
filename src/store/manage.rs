//! Everything an admin does with rows, apart from minting: get (also only while usable), list,
//! delete, purge (also throttled per process, and within a lookup's budget), revoke all.

use super::handle::Store;
use super::lookup::{PurgeDue, usable};
use super::model::{Revoked, TokenRow};
use super::pool::{Conn, Retry};
use super::sql::{self, StoredRow, UserOfRow};
use crate::error::{Error, Result};
use crate::token;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Rows a purge handles per batch. A purge of 100,000 rows once held every chosen id (and the
/// rows they came in) at once: megabytes that the allocator then kept for the life of the PHP
/// process. Batches bound that, and the DELETE's `IN` list, whatever the limit.
const PURGE_BATCH: u32 = 1000;

/// One purge batch: rows chosen, rows removed, temporary users of the removed rows.
type Batch = (u32, u64, Vec<String>);

impl Store {
    /// The row holding `token`, only if the token verifies against it (expiry and hits are not
    /// checked). `None` for a malformed, unknown or unverifiable token.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn get(&self, token: &[u8]) -> Result<Option<TokenRow>> {
        self.guarded(|| Ok(self.verified_row(token, false)?.map(|r| r.to_token_row())))
    }

    /// As [`Store::get`], but only while the token can still be used: within its time and with
    /// hits left, judged with the database clock in SQL, as Tiki trunk's `getActiveToken` does.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn get_active(&self, token: &[u8]) -> Result<Option<TokenRow>> {
        self.guarded(|| Ok(self.verified_row(token, true)?.map(|r| r.to_token_row())))
    }

    /// The row `token` verifies against (with `usable`: only while it can be used).
    fn verified_row(&self, token: &[u8], usable_only: bool) -> Result<Option<StoredRow>> {
        if token::precheck(token).is_err() {
            return Ok(None);
        }
        let presented = String::from_utf8_lossy(token).into_owned();
        let found = self.candidates(&mut self.conn.checkout(), &presented, false)?;
        let Ok(row) = self.verified(&found, token) else {
            return Ok(None);
        };
        if usable_only && usable(row).is_err() {
            return Ok(None);
        }
        let id = row.id();
        Ok(found.rows.into_iter().find(|r| r.id() == id))
    }

    /// Every row, oldest first (`ORDER BY creation, tokenId`).
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn list(&self) -> Result<Vec<TokenRow>> {
        self.guarded(|| {
            let schema = self.schema()?;
            let rows: Vec<StoredRow> = self
                .conn
                .checkout()
                .rows(Retry::IfBroken, &schema.sql.list, ())
                .map_err(|e| self.db_error(e))?;
            Ok(rows.iter().map(StoredRow::to_token_row).collect())
        })
    }

    /// Deletes the row `token_id`. Returns its temporary user name when the row had
    /// createUser = 'y' (so the PHP side can remove that user); `None` otherwise or when there
    /// was no such row.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn delete(&self, token_id: i64) -> Result<Option<String>> {
        self.guarded(|| {
            self.schema()?;
            let mut conn = self.conn.checkout();
            let row: Option<UserOfRow> = conn
                .first(Retry::IfBroken, &sql::user_of_row(), (token_id,))
                .map_err(|e| self.db_error(e))?;
            let Some(row) = row else {
                return Ok(None);
            };
            let written = conn
                .write(Retry::IfBroken, sql::DELETE_BY_ID, (token_id,))
                .map_err(|e| self.db_error(e))?;
            Ok((written.affected == 1).then(|| row.temp_user()).flatten())
        })
    }

    /// Removes at most `limit` unusable rows: timed out (database clock), or out of hits
    /// (`hits <= 0 AND hits != -1`), or half-written (token NULL, older than a minute). Returns
    /// the temporary user names of removed createUser = 'y' rows. The only statement that scans
    /// the table; lookups never do.
    ///
    /// Works in batches of [`PURGE_BATCH`] until `limit` rows went or none are left. A failure
    /// in the first batch is an error; in a later one it ends the purge with what was removed
    /// so far (the next purge goes on from there), so no temporary user name is lost.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn purge(&self, limit: u32) -> Result<Vec<String>> {
        self.guarded(|| self.purge_on(&mut self.conn.checkout(), limit))
    }

    /// [`Store::purge`] on `conn` (which may carry a deadline).
    fn purge_on(&self, conn: &mut Conn<'_>, limit: u32) -> Result<Vec<String>> {
        self.schema()?;
        let mut users = Vec::new();
        let mut left = limit;
        let mut first = true;
        while left > 0 {
            let batch = left.min(PURGE_BATCH);
            let (chosen, removed, mut gone) = match self.purge_batch(conn, batch) {
                Ok(done) => done,
                Err(e) if first => return Err(e),
                Err(_) => break,
            };
            first = false;
            users.append(&mut gone);
            left -= chosen;
            // Fewer chosen than asked: nothing more to purge. None removed: the chosen rows
            // changed meanwhile; stop rather than choose them again.
            if chosen < batch || removed == 0 {
                break;
            }
        }
        Ok(users)
    }

    /// As [`Store::purge`], but at most once per `interval` seconds per store (so per PHP
    /// process and configuration; 0 = every call): `None` when no purge was due. Only one
    /// caller wins per interval, even with threads.
    ///
    /// # Errors
    /// As [`Store::purge`]; an interval below 0 is [`Error::InvalidInput`].
    pub fn purge_if_due(&self, interval: i64, limit: u32) -> Result<Option<Vec<String>>> {
        if interval < 0 {
            return Err(Error::InvalidInput(format!(
                "interval must be 0 or more seconds, got {interval}"
            )));
        }
        if !self.claim_purge(interval) {
            return Ok(None);
        }
        self.purge(limit).map(Some)
    }

    /// [`Store::purge_if_due`] that gives up at `until` (a lookup's share of its budget).
    pub(super) fn purge_if_due_until(&self, due: PurgeDue, until: Instant) -> Result<Vec<String>> {
        if due.interval < 0 || !self.claim_purge(due.interval) {
            return Ok(Vec::new());
        }
        self.guarded(|| self.purge_on(&mut self.conn.checkout_until(until), due.limit))
    }

    /// True, and the purge time set to now, when no purge started in the last `interval`
    /// seconds (0 = always).
    fn claim_purge(&self, interval: i64) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let last = self.last_purge.load(Ordering::Acquire);
        if interval > 0 && last != i64::MIN && now.saturating_sub(last) < interval && now >= last {
            return false;
        }
        self.last_purge
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// One batch: one bounded SELECT of unusable rows, one DELETE of those ids that re-checks
    /// the condition (a row that changed meanwhile stays), and, only when fewer rows went than
    /// were chosen, one SELECT to learn which.
    fn purge_batch(&self, conn: &mut Conn<'_>, limit: u32) -> Result<Batch> {
        let rows: Vec<UserOfRow> = conn
            .rows(Retry::IfBroken, &sql::purge_candidates(), (limit,))
            .map_err(|e| self.db_error(e))?;
        let chosen: Vec<(i64, Option<String>)> = rows
            .iter()
            .filter_map(|r| Some((r.id()?, r.temp_user())))
            .collect();
        if chosen.is_empty() {
            return Ok((0, 0, Vec::new()));
        }
        // At most `limit` rows came back.
        let count = u32::try_from(chosen.len()).unwrap_or(limit);
        let ids: Vec<i64> = chosen.iter().map(|(id, _)| *id).collect();
        let removed = conn
            .text(Retry::IfBroken, &sql::purge_delete(&ids))
            .map_err(|e| self.db_error(e))?
            .affected;
        let left: Vec<i64> = if usize::try_from(removed).ok() == Some(chosen.len()) {
            Vec::new()
        } else {
            conn.text_rows(&sql::existing_ids(&ids))
                .map_err(|e| self.db_error(e))?
        };
        let users = chosen
            .into_iter()
            .filter(|(id, _)| !left.contains(id))
            .filter_map(|(_, u)| u)
            .collect();
        Ok((count, removed, users))
    }

    /// Deletes every row that exists now (rows minted meanwhile, with a higher id, stay): how
    /// many, and the temporary user names of the removed createUser = 'y' rows.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn revoke_all(&self) -> Result<Revoked> {
        self.guarded(|| {
            self.schema()?;
            let mut conn = self.conn.checkout();
            let rows: Vec<UserOfRow> = conn
                .text_rows(sql::users_of_all_rows())
                .map_err(|e| self.db_error(e))?;
            let Some(max) = rows.iter().filter_map(UserOfRow::id).max() else {
                return Ok(Revoked::default());
            };
            let written = conn
                .write(Retry::IfBroken, sql::DELETE_UP_TO, (max,))
                .map_err(|e| self.db_error(e))?;
            Ok(Revoked {
                count: written.affected,
                temp_users: rows.iter().filter_map(UserOfRow::temp_user).collect(),
            })
        })
    }
}
