//! Editing a token (SPEC section 9). A token's value covers tokenId, creation, timeout, entry,
//! parameters and groups (SPEC section 2), so there are two operations:
//!
//! * [`Store::edit`] changes, in place and keeping the link, what lies outside the value: hits
//!   left (set, or add in the UPDATE itself: never read-modify-write against concurrent
//!   requests), maxhits, email, createUser, userPrefix, data. One UPDATE, after every value
//!   was checked against its column: a refusal writes nothing.
//! * [`Store::reissue`] makes a new token for a change of what lies inside the value (timeout,
//!   groups, entry, params), through the steps of minting (caps, params a request can carry,
//!   column widths, signed or legacy), and deletes the old row in the same operation:
//!   [`Plan::new`] (the new row's values: the changes, the rest carried over from the old row)
//!   → [`Store::insert`] (token NULL: nobody can use it yet) → [`Store::settle`] (the old
//!   expiry moment, the token, the old row deleted) → the new row read back. Any failure
//!   removes the new row, so one edit never leaves two live tokens; once `reissue` returned,
//!   the old row is gone and its token is never granted again.
//!
//! Hits carried over to a re-issued token are taken from the old row in the statement that
//! freezes it ([`sql::FREEZE`]): from that instant the old token grants nothing more, and the
//! count it had is what the new one gets. So the old and the new token together grant exactly
//! the hits the old one had (plus what the edit adds), never more, however many requests race
//! with the re-issue.

use super::config::StoreConfig;
use super::create::{Row, cap, encode_groups, encode_params};
use super::handle::Store;
use super::lookup::decode_groups;
use super::model::{CreateOptions, HitsChange, Reissued, TokenChanges, TokenRow};
use super::pool::{Conn, Retry};
use super::schema::Schema;
use super::sql::{self, Assignment, Standing, StoredRow};
use crate::canon::{Params, Value, json, url};
use crate::error::{Error, Result};
use crate::token::{Scheme, Secret};

/// The largest count the INT columns `hits` and `maxhits` hold.
const INT_MAX: i64 = i32::MAX as i64;

impl Store {
    /// Changes, in place, what lies outside the token's value (hits, maxhits, email,
    /// createUser, userPrefix, data); the token and its link stay the same. Returns the row as
    /// it is after the change, `None` when no row has this id.
    ///
    /// `HitsChange::Add` is one UPDATE (`hits = hits + n`, guarded), atomic against concurrent
    /// requests, and never retried on a broken connection (a second run would add twice).
    ///
    /// # Errors
    /// A change of the timeout, groups, entry or params (those need [`Store::reissue`]), a value
    /// out of range or too wide for its column, data on a table without the `data` column
    /// ([`Error::InvalidInput`], nothing written); database or schema failure.
    pub fn edit(&self, token_id: i64, changes: &TokenChanges) -> Result<Option<TokenRow>> {
        self.guarded(|| {
            let inside = changes.inside_value();
            if !inside.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "{} lie(s) inside the token's value: changing them makes a new token and a \
                     new link (re-issue it); nothing was written",
                    inside.join(", ")
                )));
            }
            let schema = self.schema()?;
            let sets = assignments(changes, &schema)?;
            let mut conn = self.conn.checkout();
            if !sets.is_empty() {
                let retry = if sets.iter().any(|(a, _)| a.repeats_differently()) {
                    Retry::Never
                } else {
                    Retry::IfBroken
                };
                let names: Vec<Assignment> = sets.iter().map(|(a, _)| *a).collect();
                let mut values: Vec<mysql::Value> = sets.into_iter().map(|(_, v)| v).collect();
                values.push(token_id.into());
                conn.write(retry, &sql::edit_in_place(&names), values)
                    .map_err(|e| self.db_error(e))?;
            }
            let row: Option<StoredRow> = conn
                .first(Retry::IfBroken, &schema.sql.by_id, (token_id,))
                .map_err(|e| self.db_error(e))?;
            Ok(row.map(|r| r.to_token_row()))
        })
    }

    /// Re-issues a token with `changes` (anything, inside its value or not): a new token with
    /// the changes and everything else carried over (hits left, maxhits, email, createUser,
    /// userPrefix, user, data, and the moment it expires unless `timeout` is given), and the
    /// old row deleted in the same operation. `None` when no row has this id.
    ///
    /// Given values go through the caps of minting (`timeout` and `hits` as in
    /// [`Store::create`], except that hits set to 0 is refused: the new token could never be
    /// used); carried ones are kept as they are.
    ///
    /// # Errors
    /// The old row has no token or one that does not verify (it is dead: re-issuing would
    /// revive it), it expired and no `timeout` is given, it has no hits left and none are
    /// given, input that [`Store::create`] refuses ([`Error::InvalidInput`]; nothing changed);
    /// database or schema failure (the new row is removed; the old one may be gone when the
    /// failure struck while deleting it, which the message says).
    pub fn reissue(&self, token_id: i64, changes: &TokenChanges) -> Result<Option<Reissued>> {
        self.guarded(|| {
            let schema = self.schema()?;
            let mut conn = self.conn.checkout();
            let Some(old) = self.old_token(&mut conn, &schema, token_id)? else {
                return Ok(None);
            };
            check_outside(changes, &schema)?;
            let routed = self.routed_changes(&mut conn, changes)?;
            let changes = routed.as_ref().unwrap_or(changes);
            let plan = Plan::new(&self.config, &old, changes)?;
            let row = plan.row()?;
            row.check(&schema)?;
            let (id, secret) = self.insert(&mut conn, &schema, &row)?;
            let scheme = if secret.is_some() {
                Scheme::Signed
            } else {
                Scheme::Legacy
            };
            let new = NewRow {
                id,
                scheme,
                secret: secret.as_ref(),
            };
            let settled = self.settle(&mut conn, &schema, &plan, &new);
            let token = match settled {
                Ok(token) => token,
                Err(e) => {
                    // Remove the new row (on a fresh connection if this one broke).
                    let _ = conn.write(Retry::IfBroken, sql::DELETE_BY_ID, (id,));
                    return Err(match e {
                        Error::Database(m) => Error::Database(format!(
                            "{m}; nothing was re-issued: the new token was removed, and the old \
                             token {token_id} is as it was (unless the failure struck while \
                             deleting it)"
                        )),
                        other => other,
                    });
                }
            };
            let new_row: Option<StoredRow> = conn
                .first(Retry::IfBroken, &schema.sql.by_id, (id,))
                .map_err(|e| self.db_error(e))?;
            let row = new_row.map(|r| r.to_token_row()).ok_or_else(|| {
                Error::Database(format!("the re-issued row {id} vanished once made"))
            })?;
            Ok(Some(Reissued {
                created: super::model::Created {
                    token_id: id,
                    token: token.clone(),
                    scheme,
                },
                link: url::entry_link(&plan.entry, &plan.params, &token),
                revoked_token_id: token_id,
                revoked_temp_user: old.row.temp_user(),
                row,
            }))
        })
    }

    /// The old row of a re-issue and its standing, `None` when there is no such row. A row that
    /// is half-written or whose token does not verify is refused: it is no live token.
    fn old_token(
        &self,
        conn: &mut Conn<'_>,
        schema: &Schema,
        token_id: i64,
    ) -> Result<Option<OldToken>> {
        let row: Option<StoredRow> = conn
            .first(Retry::IfBroken, &schema.sql.by_id, (token_id,))
            .map_err(|e| self.db_error(e))?;
        let standing: Option<Standing> = conn
            .first(Retry::IfBroken, sql::STANDING, (token_id,))
            .map_err(|e| self.db_error(e))?;
        let (Some(row), Some(standing)) = (row, standing) else {
            return Ok(None);
        };
        let Some(token) = row.token().map(<[u8]>::to_vec) else {
            return Err(Error::InvalidInput(format!(
                "token {token_id} is half-written (no token value): there is nothing to re-issue"
            )));
        };
        let secret: Option<Secret> = match (&self.config.secret, token.len()) {
            (Some(s), _) => Some(s.clone()),
            (None, 64) if schema.has_preferences => self.stored_secret(conn)?,
            _ => None,
        };
        if !row.verifies(&token, secret.as_ref()) {
            return Err(Error::InvalidInput(format!(
                "token {token_id} does not verify (its row was altered or the secret rotated): \
                 it is dead, and re-issuing would revive it; create a new token instead"
            )));
        }
        Ok(Some(OldToken { row, standing }))
    }

    /// After the new row is inserted (token NULL, so nobody can use it yet): gives it the old
    /// expiry moment when the timeout is carried over, freezes the old row and takes its hits
    /// left ([`sql::FREEZE`]: from then on the old token grants nothing), gives the new row the
    /// hits it carries over, computes and writes its token, then deletes the old row. Returns
    /// the new token. A failure after the freeze thaws the old row again (best effort).
    fn settle(
        &self,
        conn: &mut Conn<'_>,
        schema: &Schema,
        plan: &Plan,
        new: &NewRow<'_>,
    ) -> Result<String> {
        if let Some(at) = plan.expires_at {
            conn.write(Retry::IfBroken, sql::EXPIRE_NEW_AT, (at, new.id))
                .map_err(|e| self.db_error(e))?;
        }
        let frozen = match conn.write(Retry::Never, sql::FREEZE, (plan.old_id,)) {
            Ok(written) => written,
            Err(e) => {
                // The answer may be lost after the server froze the row: thaw it (a row that
                // was not frozen has hits >= -1 and is left alone).
                let _ = conn.write(Retry::IfBroken, sql::UNFREEZE, (plan.old_id,));
                return Err(self.db_error(e));
            }
        };
        if frozen.affected != 1 {
            return Err(Error::Database(format!(
                "the old token {} was deleted or is being re-issued by someone else",
                plan.old_id
            )));
        }
        // The count fits: `hits + 3` of an INT column.
        let old_hits =
            i64::try_from(frozen.last_insert_id).unwrap_or(i64::MAX) - sql::FREEZE_OFFSET;
        let after_freeze = self.replace_old(conn, schema, plan, new, old_hits);
        if after_freeze.is_err() {
            let _ = conn.write(Retry::IfBroken, sql::UNFREEZE, (plan.old_id,));
        }
        after_freeze
    }

    /// The steps of [`Store::settle`] once the old row is frozen with `old_hits` left.
    fn replace_old(
        &self,
        conn: &mut Conn<'_>,
        schema: &Schema,
        plan: &Plan,
        new: &NewRow<'_>,
        old_hits: i64,
    ) -> Result<String> {
        if let HitsRule::Carried(add) = plan.hits_rule {
            let hits = added_hits(old_hits, add);
            if hits != plan.hits {
                conn.write(Retry::IfBroken, sql::SET_HITS_OF_NEW, (hits, new.id))
                    .map_err(|e| self.db_error(e))?;
            }
        }
        let token = self.finish(conn, schema, new.id, new.scheme, new.secret)?;
        // Deleting by id runs twice as once; a row already gone (a purge takes frozen rows) is
        // gone as wanted.
        conn.write(Retry::IfBroken, sql::DELETE_BY_ID, (plan.old_id,))
            .map_err(|e| self.db_error(e))?;
        Ok(token)
    }
}

/// The new row of a re-issue once inserted: its id, and how to sign it.
struct NewRow<'s> {
    id: i64,
    scheme: Scheme,
    secret: Option<&'s Secret>,
}

/// The old row of a re-issue, as read before anything is written.
struct OldToken {
    row: StoredRow,
    standing: Standing,
}

/// Where the hits of a re-issued token come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HitsRule {
    /// Given by the caller (capped): the old row's count does not matter.
    Given,
    /// The old row's count plus this many (0: carried over as it is).
    Carried(i64),
}

/// The values of a re-issued row, owned, with what is needed to settle it.
struct Plan {
    old_id: i64,
    entry: Vec<u8>,
    /// The params bound (for the link).
    params: Params,
    parameters: String,
    groups: String,
    timeout: i64,
    /// The old expiry moment (unix time) when the timeout is carried over and not -1.
    expires_at: Option<i64>,
    hits: i64,
    hits_rule: HitsRule,
    max_hits: i64,
    options: CreateOptions,
}

impl Plan {
    /// The new row's values: each change (through minting's caps and checks), else the old
    /// row's value.
    fn new(config: &StoreConfig, old: &OldToken, changes: &TokenChanges) -> Result<Self> {
        let row = &old.row;
        let old_id = row.id().unwrap_or_default();
        let unreadable = |what: &str| {
            Error::InvalidInput(format!(
                "token {old_id}: {what} cannot be read, so it cannot be carried over"
            ))
        };
        let old_hits = old.standing.hits().ok_or_else(|| unreadable("hits"))?;
        let (entry, params, parameters) = bound(row, changes, &unreadable)?;
        let groups = match &changes.groups {
            Some(g) => encode_groups(g)?,
            None => {
                let text = row.groups().ok_or_else(|| unreadable("groups"))?;
                decode_groups(text).ok_or_else(|| unreadable("groups"))?;
                String::from_utf8(text.to_vec()).map_err(|_| unreadable("groups"))?
            }
        };
        let (timeout, expires_at) = timeout_of(config, old, changes.timeout, old_id)?;
        let (hits, hits_rule) = hits_of(config, old_hits, changes.hits, old_id)?;
        let max_hits = match changes.max_hits {
            Some(m) => m,
            None => row.max_hits().ok_or_else(|| unreadable("maxhits"))?,
        };
        let options = carried_options(row, changes, &unreadable)?;
        Ok(Self {
            old_id,
            entry,
            params,
            parameters,
            groups,
            timeout,
            expires_at,
            hits,
            hits_rule,
            max_hits,
            options,
        })
    }

    /// The row to insert.
    fn row(&self) -> Result<Row<'_>> {
        Row::of(
            &self.entry,
            self.timeout,
            self.hits,
            self.max_hits,
            self.parameters.clone(),
            self.groups.clone(),
            &self.options,
        )
    }
}

/// The entry, the params tree and their JSON text of a re-issued row: from a URL or changed
/// ones, checked as minting checks them; carried ones exactly as stored.
fn bound(
    row: &StoredRow,
    changes: &TokenChanges,
    unreadable: &dyn Fn(&str) -> Error,
) -> Result<(Vec<u8>, Params, String)> {
    if let Some(text) = &changes.url {
        if changes.entry.is_some() || changes.params.is_some() {
            return Err(Error::InvalidInput(
                "give either a url or an entry and params, not both".into(),
            ));
        }
        let split = url::split_url(text)?;
        let parameters = encode_params(&split.params)?;
        return Ok((split.entry, split.params, parameters));
    }
    let entry = match &changes.entry {
        Some(e) => e.clone(),
        None => row.entry().ok_or_else(|| unreadable("entry"))?.to_vec(),
    };
    let (params, parameters) = match &changes.params {
        Some(p) => (p.clone(), encode_params(p)?),
        None => {
            let text = row.parameters().ok_or_else(|| unreadable("parameters"))?;
            let Ok(Value::Array(tree)) = json::decode(text) else {
                return Err(unreadable("parameters"));
            };
            let text = String::from_utf8(text.to_vec()).map_err(|_| unreadable("parameters"))?;
            (tree, text)
        }
    };
    Ok((entry, params, parameters))
}

/// The timeout to insert and, when the old expiry moment is carried over, that moment.
fn timeout_of(
    config: &StoreConfig,
    old: &OldToken,
    given: Option<i64>,
    old_id: i64,
) -> Result<(i64, Option<i64>)> {
    if let Some(t) = given {
        return Ok((cap(Some(t), config.max_timeout, "timeout")?, None));
    }
    let Some(at) = old.standing.expires_at() else {
        return Ok((-1, None));
    };
    let left = at - old.standing.now().unwrap_or(i64::MAX);
    if left <= 0 {
        return Err(Error::InvalidInput(format!(
            "token {old_id} has expired: give a timeout to re-issue it"
        )));
    }
    Ok((left, Some(at)))
}

/// The hits to insert and where they come from.
fn hits_of(
    config: &StoreConfig,
    old_hits: i64,
    change: Option<HitsChange>,
    old_id: i64,
) -> Result<(i64, HitsRule)> {
    if old_hits < -1 {
        return Err(Error::InvalidInput(format!(
            "token {old_id} has hits {old_hits}: it is being re-issued by someone else, or its \
             count is damaged (set hits first)"
        )));
    }
    let (hits, rule) = match change {
        Some(HitsChange::Set(0)) => {
            return Err(Error::InvalidInput(
                "hits 0: a re-issued token with no hits could never be used".into(),
            ));
        }
        Some(HitsChange::Set(n)) => (cap(Some(n), config.max_hits, "hits")?, HitsRule::Given),
        Some(HitsChange::Add(n)) => (added_hits(old_hits, n), HitsRule::Carried(n)),
        None => (added_hits(old_hits, 0), HitsRule::Carried(0)),
    };
    if hits == 0 {
        return Err(Error::InvalidInput(format!(
            "token {old_id} has no hits left: give hits to re-issue it"
        )));
    }
    Ok((hits, rule))
}

/// `hits` plus `add` as [`Assignment::AddHits`] computes it in SQL: a count below 0 (-1 =
/// unlimited) stays as it is, the result stays between 0 and the INT maximum.
fn added_hits(hits: i64, add: i64) -> i64 {
    if hits < 0 {
        hits
    } else {
        hits.saturating_add(add).clamp(0, INT_MAX)
    }
}

/// The options of the new row: the changed ones, else the old row's (creator included).
fn carried_options(
    row: &StoredRow,
    changes: &TokenChanges,
    unreadable: &dyn Fn(&str) -> Error,
) -> Result<CreateOptions> {
    Ok(CreateOptions {
        timeout: None,
        hits: None,
        email: match &changes.email {
            Some(e) => e.clone(),
            None => row.email().ok_or_else(|| unreadable("email"))?,
        },
        create_user: changes.create_user.unwrap_or_else(|| row.create_user()),
        user_prefix: match &changes.user_prefix {
            Some(p) => p.clone(),
            None => row
                .user_prefix()
                .ok_or_else(|| unreadable("userPrefix"))?
                .unwrap_or_default(),
        },
        user: row.user().ok_or_else(|| unreadable("user"))?,
        data: match &changes.data {
            Some(d) => d.clone(),
            None => row.data().ok_or_else(|| unreadable("data"))?,
        },
        // A POST flag in the carried data is carried with it (`Row::of` stores data as given).
        allow_post: false,
    })
}

impl Store {
    /// A re-issue's new URL (or new entry with new params) bound as minting binds it: a SEF URL
    /// to what Tiki's router serves there (src/store/sef.rs). `None`: the changes stand as
    /// given.
    fn routed_changes(
        &self,
        conn: &mut super::pool::Conn<'_>,
        changes: &TokenChanges,
    ) -> Result<Option<TokenChanges>> {
        let bound = match (&changes.url, &changes.entry, &changes.params) {
            (Some(text), None, None) => {
                let split = url::split_url(text)?;
                Some(
                    match self.route_binding(
                        conn,
                        split.raw_path.as_bytes(),
                        &split.params,
                        false,
                    )? {
                        Some(b) => (b.entry, b.params),
                        None => (split.entry, split.params),
                    },
                )
            }
            (None, Some(entry), Some(params)) => self
                .route_binding(conn, entry, params, true)?
                .map(|b| (b.entry, b.params)),
            _ => None,
        };
        Ok(bound.map(|(entry, params)| TokenChanges {
            url: None,
            entry: Some(entry),
            params: Some(params),
            ..changes.clone()
        }))
    }
}

/// Checks the changes outside the value that both operations take: counts in range, data
/// that is JSON text and a table that has a `data` column for it.
fn check_outside(changes: &TokenChanges, schema: &Schema) -> Result<()> {
    let count = |n: i64, what: &str| {
        if n == -1 || (0..=INT_MAX).contains(&n) {
            Ok(())
        } else {
            Err(Error::InvalidInput(format!(
                "{what} must be -1 (unlimited) or between 0 and {INT_MAX}, not {n}"
            )))
        }
    };
    match changes.hits {
        Some(HitsChange::Set(n)) => count(n, "hits")?,
        Some(HitsChange::Add(n)) if n.abs() > INT_MAX => {
            return Err(Error::InvalidInput(format!(
                "hits to add must be between -{INT_MAX} and {INT_MAX}, not {n}"
            )));
        }
        _ => {}
    }
    if let Some(m) = changes.max_hits {
        count(m, "maxhits")?;
    }
    if let Some(Some(data)) = &changes.data {
        json::decode(data.as_bytes())
            .map_err(|e| Error::InvalidInput(format!("data must be JSON text: {e}")))?;
    }
    if changes.data.is_some() && !schema.has("data") {
        return Err(Error::InvalidInput(
            "the table has no data column (Tiki 24's layout; see migrate()): nothing was written"
                .into(),
        ));
    }
    Ok(())
}

/// The assignments of an in-place edit with their values, each checked against its column.
fn assignments(changes: &TokenChanges, schema: &Schema) -> Result<Vec<(Assignment, mysql::Value)>> {
    check_outside(changes, schema)?;
    let mut sets = Vec::new();
    match changes.hits {
        Some(HitsChange::Set(n)) => sets.push((Assignment::SetHits, n.into())),
        Some(HitsChange::Add(n)) => sets.push((Assignment::AddHits, n.into())),
        None => {}
    }
    if let Some(m) = changes.max_hits {
        sets.push((Assignment::MaxHits, m.into()));
    }
    if let Some(email) = &changes.email {
        schema.check("email", "the email", email.as_bytes())?;
        sets.push((Assignment::Email, email.as_str().into()));
    }
    if let Some(create) = changes.create_user {
        sets.push((
            Assignment::CreateUser,
            (if create { "y" } else { "n" }).into(),
        ));
    }
    if let Some(prefix) = &changes.user_prefix {
        schema.check("userPrefix", "the user prefix", prefix.as_bytes())?;
        sets.push((Assignment::UserPrefix, prefix.as_str().into()));
    }
    if let Some(data) = &changes.data {
        if let Some(d) = data {
            schema.check("data", "the data", d.as_bytes())?;
        }
        sets.push((Assignment::Data, data.as_deref().into()));
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_hits_follow_the_sql() {
        assert_eq!(added_hits(-1, 10), -1);
        assert_eq!(added_hits(0, 10), 10);
        assert_eq!(added_hits(-3, 10), -3);
        assert_eq!(added_hits(5, -10), 0);
        assert_eq!(added_hits(INT_MAX, 1), INT_MAX);
        assert_eq!(added_hits(7, 0), 7);
    }
}
