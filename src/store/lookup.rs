//! The hot path (SPEC section 3): token + entry + params → grant or denial, in named steps:
//!
//! 1. [`token::precheck`]: wrong length or a non-hex byte → denied with no round trip.
//! 2. [`Store::candidates`]: one prepared SELECT by token (`WHERE token = ?`, index
//!    `tiki_auth_tokens_token`), with `creation` rendered by the server and the time check
//!    computed with the database clock; for a 64-character token the secret comes in the same
//!    statement (a primary-key subquery on `tiki_preferences`), so a rotation made by another
//!    process is seen at once and nothing is cached.
//! 3. [`Store::verified`]: the oldest row whose value verifies (constant-time, in Rust).
//! 4. [`usable`] (time, hits) → [`bound_to`] (entry, params) → the method, when a request is
//!    bound ([`request::allow_method`]) → [`grant_of`] (groups readable).
//! 5. [`consume`]: nothing when hits = -1, else one conditional UPDATE that only succeeds while
//!    a hit is left, so N hits grant exactly N requests under any concurrency.
//!
//! Any database error, and any row that cannot be read (NULL where a value is needed, JSON that
//! does not decode), is a denial: fail closed, never a grant, never a panic.

use super::handle::Store;
use super::model::Grant;
use super::pool::{Conn, Retry};
use super::sql::{self, StoredRow};
use crate::canon::{Key, MismatchKind, Params, Value, json, match_entry, match_params, take_token};
use crate::error::{Denial, DenialReason};
use crate::request::{self, RequestFacts};
use crate::token;

/// The `TOKEN` value as a request carried it: only a string can be a token.
#[derive(Clone, Copy, Debug)]
pub enum PresentedToken<'a> {
    /// A string (any bytes).
    Text(&'a [u8]),
    /// Anything else, by the name of its type (`"array"`, `"int"`, …): a `malformed` denial.
    NotAString(&'a str),
}

impl Store {
    /// SPEC section 3: token + entry + params → grant or denial. Never an error: a database
    /// failure is a denial with reason `DatabaseError`.
    ///
    /// `params` are the request's params without `TOKEN`. One prepared SELECT by token (no
    /// round trip at all for a malformed token), and one conditional UPDATE when the token has
    /// limited hits.
    pub fn lookup(&self, token: &[u8], entry: &[u8], params: &Params) -> Result<Grant, Denial> {
        self.guard(
            || self.lookup_steps(token, entry, params, None),
            |m| Err(db_denial(m)),
        )
    }

    /// A lookup as a request presents it: the token as it came (of any type), the entry, and
    /// the request's params as read (`Err` with a reason when they could not be read; they may
    /// still hold `TOKEN`, which is removed here). A token that is not a string and unreadable
    /// params are `malformed` denials.
    ///
    /// With `request` (what else PHP read from the request, SPEC section 8), the whole request is
    /// bound: [`RequestFacts::check`] before any round trip, and the method against the row
    /// ([`request::allow_method`]) after the binding check and before the hit is consumed.
    pub fn lookup_request(
        &self,
        token: PresentedToken<'_>,
        entry: &[u8],
        params: Result<Params, String>,
        request: Option<&RequestFacts>,
    ) -> Result<Grant, Denial> {
        let token = match token {
            PresentedToken::Text(t) => t,
            PresentedToken::NotAString(type_name) => {
                return Err(Denial::new(
                    DenialReason::Malformed,
                    format!("the token is {type_name}, not a string"),
                ));
            }
        };
        let mut params =
            params.map_err(|e| Denial::new(DenialReason::Malformed, format!("params: {e}")))?;
        take_token(&mut params);
        if let Some(request) = request {
            request.check(token, entry, &params)?;
        }
        let method = request.map(|r| r.method.as_slice());
        self.guard(
            || self.lookup_steps(token, entry, &params, method),
            |m| Err(db_denial(m)),
        )
    }

    fn lookup_steps(
        &self,
        token: &[u8],
        entry: &[u8],
        params: &Params,
        method: Option<&[u8]>,
    ) -> Result<Grant, Denial> {
        token::precheck(token)?;
        // Pre-checked: 32 or 64 ASCII hex characters.
        let presented = String::from_utf8_lossy(token).into_owned();
        let scrub = |d: Denial| Denial {
            detail: d.detail.replace(&presented, "<token>"),
            ..d
        };
        let mut conn = self.conn.checkout();
        let rows = self.candidates(&mut conn, &presented).map_err(scrub)?;
        let row = self.verified(&rows, token)?;
        usable(row)?;
        bound_to(row, entry, params)?;
        if let Some(method) = method {
            let data = row.data().flatten();
            let data = data.as_deref().map(str::as_bytes);
            request::allow_method(row.id().unwrap_or_default(), method, entry, data)?;
        }
        let mut grant = grant_of(row)?;
        grant.hits_left = consume(&mut conn, row).map_err(scrub)?;
        Ok(grant)
    }

    /// Every row holding the presented value, oldest first; `Unknown` when there is none.
    fn candidates(&self, conn: &mut Conn<'_>, presented: &str) -> Result<Vec<StoredRow>, Denial> {
        let schema = self.schema().map_err(|e| db_denial(e.to_string()))?;
        let sql = if self.wants_stored_secret(presented.len()) {
            &schema.sql.by_token_with_secret
        } else {
            &schema.sql.by_token
        };
        let mut rows: Vec<StoredRow> =
            conn.rows(Retry::IfBroken, sql, (presented,)).map_err(|e| {
                self.note(&e);
                db_denial(e.text)
            })?;
        if rows.is_empty() {
            return Err(Denial::new(
                DenialReason::Unknown,
                "no row holds this token",
            ));
        }
        // No `ORDER BY` in the SELECT: on MyISAM it costs a filesort (about 20 µs) on every
        // lookup, for the rare case of two rows holding one value. Oldest first is restored here.
        if rows.len() > 1 {
            rows.sort_by_key(|r| r.id().unwrap_or(i64::MAX));
        }
        Ok(rows)
    }

    /// True when a token of this length is signed and the secret must come from the table.
    fn wants_stored_secret(&self, token_len: usize) -> bool {
        token_len == 64 && self.config.secret.is_none()
    }

    /// The first of `rows` whose value `token` is; `BadSignature` when none is.
    fn verified<'r>(&self, rows: &'r [StoredRow], token: &[u8]) -> Result<&'r StoredRow, Denial> {
        let stored = rows
            .first()
            .filter(|_| self.wants_stored_secret(token.len()))
            .and_then(StoredRow::secret);
        let secret = self.config.secret.as_ref().or(stored.as_ref());
        rows.iter()
            .find(|r| r.verifies(token, secret))
            .ok_or_else(|| {
                let why = if token.len() == 64 && secret.is_none() {
                    "no signing secret is configured or stored"
                } else {
                    "the row was altered, the secret rotated, or the token is not in lower case"
                };
                Denial::new(
                    DenialReason::BadSignature,
                    format!(
                        "{} row(s) hold this value, none verifies: {why}",
                        rows.len()
                    ),
                )
            })
    }
}

/// A denial for a database failure (fail closed).
fn db_denial(detail: impl Into<String>) -> Denial {
    Denial::new(DenialReason::DatabaseError, detail)
}

/// A denial for a row that cannot be read.
fn unusable_row(row: &StoredRow, what: &str) -> Denial {
    let id = row.id().unwrap_or_default();
    db_denial(format!("token {id}: {what}; the row is unusable"))
}

/// Usable: within its time (database clock, computed by the SELECT), then hits left.
fn usable(row: &StoredRow) -> Result<(), Denial> {
    let id = row.id().unwrap_or_default();
    if !row.fresh() {
        return Err(Denial::new(
            DenialReason::Expired,
            format!("token {id} timed out"),
        ));
    }
    let hits = row
        .hits()
        .ok_or_else(|| unusable_row(row, "hits is NULL"))?;
    if hits != -1 && hits <= 0 {
        return Err(Denial::new(
            DenialReason::Exhausted,
            format!("token {id} has no hits left"),
        ));
    }
    Ok(())
}

/// The request is the one the row is bound to: the same entry byte for byte, the same params.
fn bound_to(row: &StoredRow, entry: &[u8], params: &Params) -> Result<(), Denial> {
    let id = row.id().unwrap_or_default();
    let stored_entry = row
        .entry()
        .ok_or_else(|| unusable_row(row, "entry is not text"))?;
    if !match_entry(stored_entry, entry) {
        return Err(Denial::new(
            DenialReason::EntryMismatch,
            format!(
                "token {id} is for {:?}, not {:?}",
                String::from_utf8_lossy(stored_entry),
                String::from_utf8_lossy(entry)
            ),
        ));
    }
    let text = row
        .parameters()
        .ok_or_else(|| unusable_row(row, "parameters is NULL"))?;
    let stored = json::decode(text).map_err(|e| unusable_row(row, &format!("parameters: {e}")))?;
    let Value::Array(stored) = stored else {
        return Err(unusable_row(
            row,
            "parameters is not a JSON array or object",
        ));
    };
    match_params(&stored, params).map_err(|m| {
        Denial::new(
            DenialReason::ParamsMismatch,
            format!("token {id}: {}", describe_mismatch(&m.path, m.kind)),
        )
    })
}

/// What the grant carries, read from the row (hits left is filled in by [`consume`]).
fn grant_of(row: &StoredRow) -> Result<Grant, Denial> {
    let groups = row
        .groups()
        .ok_or_else(|| unusable_row(row, "groups is NULL"))
        .and_then(|text| {
            decode_groups(text)
                .ok_or_else(|| unusable_row(row, "groups is not a JSON list of strings"))
        })?;
    let email = row
        .email()
        .ok_or_else(|| unusable_row(row, "email is NULL or not UTF-8"))?;
    let text = |cell: Option<Option<String>>, what: &str| {
        cell.ok_or_else(|| unusable_row(row, &format!("{what} is not UTF-8")))
    };
    let user_prefix = text(row.user_prefix(), "userPrefix")?.unwrap_or_default();
    Ok(Grant {
        token_id: row.id().unwrap_or_default(),
        groups,
        email,
        create_user: row.create_user(),
        temp_user: row.temp_user(),
        user_prefix,
        user: text(row.user(), "user")?,
        data: text(row.data(), "data")?,
        hits_left: -1,
    })
}

/// Consumes one hit unless the token has unlimited hits; the hits left after it. The UPDATE is
/// never retried: a second run after a lost answer would consume a second hit.
fn consume(conn: &mut Conn<'_>, row: &StoredRow) -> Result<i64, Denial> {
    let id = row.id().unwrap_or_default();
    if row.hits() == Some(-1) {
        return Ok(-1);
    }
    let written = conn
        .write(Retry::Never, sql::CONSUME, (id,))
        .map_err(|e| db_denial(e.text))?;
    if written.affected != 1 {
        return Err(Denial::new(
            DenialReason::LostRace,
            format!("token {id}: another request used the last hit first"),
        ));
    }
    Ok(i64::try_from(written.last_insert_id).unwrap_or(0))
}

/// The groups column: a JSON list (or object) of strings, in order. `None` for anything else.
pub(crate) fn decode_groups(text: &[u8]) -> Option<Vec<String>> {
    let Ok(Value::Array(list)) = json::decode(text) else {
        return None;
    };
    list.iter()
        .map(|(_, v)| match v {
            Value::Str(s) => String::from_utf8(s.clone()).ok(),
            _ => None,
        })
        .collect()
}

/// A params mismatch for logs: the path to the first difference and what differs.
fn describe_mismatch(path: &[Key], kind: MismatchKind) -> String {
    let path = path
        .iter()
        .map(|k| String::from_utf8_lossy(&k.to_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join("][");
    let what = match kind {
        MismatchKind::MissingInRequest => "is bound by the token but missing from the request",
        MismatchKind::ExtraInRequest => "is in the request but not bound by the token",
        MismatchKind::ValueDiffers => "differs from the value bound by the token",
    };
    format!("parameter [{path}] {what}")
}
