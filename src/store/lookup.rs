//! The hot path (SPEC section 3): token + entry + params → grant or denial.
//!
//! 1. [`precheck`]: wrong length or a non-hex byte → denied with no round trip.
//! 2. One prepared SELECT by token (`WHERE token = ?`, index `tiki_auth_tokens_token`), selecting
//!    the needed columns by name, with `creation` rendered as text by the server and the time
//!    check computed with the database clock; for a 64-character token the secret comes in the
//!    same statement (a primary-key subquery on `tiki_preferences`), so a rotation made by
//!    another process is seen at once and nothing is cached.
//! 3. The first row whose value verifies (constant-time, in Rust) → usable (time, hits) →
//!    entry → params → groups readable → consume.
//! 4. Consume: nothing when hits = -1, else one conditional UPDATE that only succeeds while a
//!    hit is left, so N hits grant exactly N requests under any concurrency.
//!
//! Any database error, and any row that cannot be read (NULL where a value is needed, JSON that
//! does not decode), is a denial: fail closed, never a grant, never a panic.

use super::cells::Cells;
use super::schema::{PREFS, SECRET_PREF, Schema, TABLE};
use super::{Grant, Store, db_denial};
use crate::canon::{Key, MismatchKind, Params, Value, json, match_entry, match_params};
use crate::error::{Denial, DenialReason};
use crate::token::{self, PayloadFields, Secret};
use mysql::prelude::Queryable;

// Positions in the select list of [`select_sql`].
const ID: usize = 0;
const CREATION: usize = 1;
const TIMEOUT: usize = 2;
const HITS: usize = 3;
const TOKEN: usize = 4;
const ENTRY: usize = 5;
const PARAMETERS: usize = 6;
const GROUPS: usize = 7;
const EMAIL: usize = 8;
const CREATE_USER: usize = 9;
const USER_PREFIX: usize = 10;
const USER: usize = 11;
const DATA: usize = 12;
const FRESH: usize = 13;
const SECRET: usize = 14;

/// The SELECT of a lookup. `with_secret`: also fetch the stored secret (64-character tokens
/// when the configuration has none).
pub(crate) fn select_sql(schema: &Schema, with_secret: bool) -> String {
    let user = if schema.has("user") { "`user`" } else { "NULL" };
    let data = if schema.has("data") { "`data`" } else { "NULL" };
    let secret = if with_secret && schema.has_preferences {
        format!(", (SELECT `value` FROM `{PREFS}` WHERE `name` = '{SECRET_PREF}')")
    } else {
        String::new()
    };
    format!(
        "SELECT `tokenId`, CAST(`creation` AS CHAR), `timeout`, `hits`, `token`, `entry`, \
         `parameters`, `groups`, `email`, `createUser`, `userPrefix`, {user}, {data}, \
         (`timeout` = -1 OR UNIX_TIMESTAMP(`creation`) + `timeout` >= UNIX_TIMESTAMP()){secret} \
         FROM `{TABLE}` WHERE `token` = ?"
    )
}

/// The UPDATE that consumes one hit. `LAST_INSERT_ID(expr)` hands the new count back in the
/// same round trip (the OK packet's insert id), so the grant reports the hits really left.
const CONSUME_SQL: &str = "UPDATE `tiki_auth_tokens` SET `hits` = LAST_INSERT_ID(`hits` - 1) \
                           WHERE `tokenId` = ? AND `hits` > 0";

/// [`Store::lookup`].
pub(crate) fn lookup(
    store: &Store,
    token: &[u8],
    entry: &[u8],
    params: &Params,
) -> Result<Grant, Denial> {
    token::precheck(token)?;
    // Pre-checked: 32 or 64 ASCII hex characters.
    let presented = String::from_utf8_lossy(token).into_owned();
    let scrub = |text: String| text.replace(&presented, "<token>");

    let schema = store
        .schema()
        .map_err(|e| db_denial(scrub(e.to_string())))?;
    let wants_secret = token.len() == 64 && store.config.secret.is_none();
    let sql = schema.lookup_sql(wants_secret);
    let (mut conn, rows) = store
        .conn
        .first(|c| c.exec::<mysql::Row, _, _>(sql, (presented.as_str(),)))
        .map_err(|e| {
            store.forget_schema_on(&e);
            db_denial(scrub(store.conn.describe(&e)))
        })?;
    store.conn.ok();

    if rows.is_empty() {
        return Err(Denial::new(
            DenialReason::Unknown,
            "no row holds this token",
        ));
    }
    let mut rows: Vec<Cells> = rows.into_iter().map(Cells::new).collect();
    // No `ORDER BY` in the SELECT: on MyISAM it costs a filesort (about 20 µs) on every lookup,
    // for the rare case of two rows holding one value. Oldest first is restored here instead.
    if rows.len() > 1 {
        rows.sort_by_key(|r| r.int(ID).unwrap_or(i64::MAX));
    }
    let stored_secret = rows
        .first()
        .filter(|_| wants_secret)
        .and_then(|r| r.bytes(SECRET))
        .filter(|s| !s.is_empty())
        .map(Secret::from_text);
    let secret = store.config.secret.as_ref().or(stored_secret.as_ref());

    let Some(row) = rows.iter().find(|r| verifies(r, token, secret)) else {
        let why = if token.len() == 64 && secret.is_none() {
            "no signing secret is configured or stored"
        } else {
            "the row was altered, the secret rotated, or the token is not in lower case"
        };
        return Err(Denial::new(
            DenialReason::BadSignature,
            format!(
                "{} row(s) hold this value, none verifies: {why}",
                rows.len()
            ),
        ));
    };
    let id = row.int(ID).unwrap_or_default();
    let malformed = |what: &str| db_denial(format!("token {id}: {what}; the row is unusable"));

    // Usable: time (database clock, computed by the SELECT), then hits.
    if row.int(FRESH) != Some(1) {
        return Err(Denial::new(
            DenialReason::Expired,
            format!("token {id} timed out"),
        ));
    }
    let hits = row.int(HITS).ok_or_else(|| malformed("hits is NULL"))?;
    if hits != -1 && hits <= 0 {
        return Err(Denial::new(
            DenialReason::Exhausted,
            format!("token {id} has no hits left"),
        ));
    }

    let stored_entry = row
        .bytes_or_empty(ENTRY)
        .ok_or_else(|| malformed("entry is not text"))?;
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

    let stored_params = row
        .bytes(PARAMETERS)
        .ok_or_else(|| malformed("parameters is NULL"))
        .and_then(|text| json::decode(text).map_err(|e| malformed(&format!("parameters: {e}"))))?;
    let Value::Array(stored_params) = stored_params else {
        return Err(malformed("parameters is not a JSON array or object"));
    };
    if let Err(m) = match_params(&stored_params, params) {
        return Err(Denial::new(
            DenialReason::ParamsMismatch,
            format!("token {id}: {}", describe_mismatch(&m.path, m.kind)),
        ));
    }

    let groups = row
        .bytes(GROUPS)
        .ok_or_else(|| malformed("groups is NULL"))
        .and_then(|text| {
            decode_groups(text).ok_or_else(|| malformed("groups is not a JSON list of strings"))
        })?;
    let email = row
        .text(EMAIL)
        .ok_or_else(|| malformed("email is NULL or not UTF-8"))?;
    let create_user = row.text(CREATE_USER).is_some_and(|c| c == "y");
    let user_prefix = row
        .opt_text(USER_PREFIX)
        .ok_or_else(|| malformed("userPrefix is not UTF-8"))?;
    let user = row
        .opt_text(USER)
        .ok_or_else(|| malformed("user is not UTF-8"))?;
    let data = row
        .opt_text(DATA)
        .ok_or_else(|| malformed("data is not UTF-8"))?;
    let user_prefix = user_prefix.unwrap_or_default();
    let temp_user = create_user.then(|| temp_user_name(&user_prefix, id));

    let hits_left = if hits == -1 {
        -1
    } else {
        match conn.exec_drop(CONSUME_SQL, (id,)) {
            Ok(()) if conn.affected_rows() == 1 => {
                i64::try_from(conn.last_insert_id()).unwrap_or(0)
            }
            Ok(()) => {
                return Err(Denial::new(
                    DenialReason::LostRace,
                    format!("token {id}: another request used the last hit first"),
                ));
            }
            Err(e) => {
                let detail = scrub(store.conn.describe(&e));
                store.conn.release(conn, &e);
                return Err(db_denial(detail));
            }
        }
    };

    Ok(Grant {
        token_id: id,
        groups,
        email,
        create_user,
        user_prefix,
        user,
        data,
        temp_user,
        hits_left,
    })
}

/// True when `presented` is the value of this row (SPEC section 2).
fn verifies(row: &Cells, presented: &[u8], secret: Option<&Secret>) -> bool {
    let (Some(id), Some(creation), Some(timeout), Some(stored)) = (
        row.int(ID),
        row.text(CREATION),
        row.int(TIMEOUT),
        row.bytes(TOKEN),
    ) else {
        return false;
    };
    let (Some(entry), Some(parameters), Some(groups)) = (
        row.bytes_or_empty(ENTRY),
        row.bytes_or_empty(PARAMETERS),
        row.bytes_or_empty(GROUPS),
    ) else {
        return false;
    };
    let payload = token::payload(&PayloadFields {
        token_id: id,
        creation: &creation,
        timeout,
        entry,
        parameters,
        groups,
    });
    token::verify(presented, stored, &payload, secret)
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

/// Tiki's temporary user name: `userPrefix . sprintf('%06d', tokenId * 531441 % 1000000)`
/// (PHP's `%` keeps the sign of the dividend, as Rust's does).
pub(crate) fn temp_user_name(prefix: &str, token_id: i64) -> String {
    let n = i128::from(token_id) * 531_441 % 1_000_000;
    format!("{prefix}{n:06}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_user_names_follow_php() {
        // Expected values printed by PHP 8.2: sprintf('%s%06d', $prefix, $id * 531441 % 1000000).
        assert_eq!(temp_user_name("_token", 3), "_token594323");
        assert_eq!(temp_user_name("_token", 0), "_token000000");
        assert_eq!(temp_user_name("p", 2), "p062882");
        assert_eq!(temp_user_name("x", -5), "x-657205");
    }
}
