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
//! One time budget (the I/O timeout) covers the whole lookup, the purge that may run before it
//! included: every statement's socket timeouts are cut to the time left, and the UPDATE carries
//! the deadline on the database clock, so one that waited past it for a lock (its client has
//! already denied) consumes nothing.
//!
//! Any database error, and any row that cannot be read (NULL where a value is needed, JSON that
//! does not decode), is a denial: fail closed, never a grant, never a panic.

use super::handle::Store;
use super::hosts::RETRY_FAILED_AFTER;
use super::model::Grant;
use super::pool::{Conn, Retry};
use super::sql::{self, StoredRow};
use crate::canon::{Key, MismatchKind, Params, Value, json, match_entry, match_params, take_token};
use crate::error::{Denial, DenialReason};
use crate::request::{self, RequestFacts};
use crate::token::{self, Secret};
use std::time::{Duration, Instant};

/// The `TOKEN` value as a request carried it: only a string can be a token.
#[derive(Clone, Copy, Debug)]
pub enum PresentedToken<'a> {
    /// A string (any bytes).
    Text(&'a [u8]),
    /// Anything else, by the name of its type (`"array"`, `"int"`, …): a `malformed` denial.
    NotAString(&'a str),
}

/// A lookup as a request presents it.
#[derive(Clone, Debug)]
pub struct LookupRequest<'a> {
    /// The `TOKEN` parameter as it came.
    pub token: PresentedToken<'a>,
    /// The entry (`PHP_SELF`).
    pub entry: &'a [u8],
    /// The request's params as read (`$_GET`; `TOKEN` is removed here), or why they could not
    /// be read (a `malformed` denial).
    pub params: Result<Params, String>,
    /// Purge first when a purge is due, within the same time budget.
    pub purge: Option<PurgeDue>,
    /// What else PHP read from the request (SPEC section 8), to bind the whole request:
    /// [`RequestFacts::check`] before any round trip (and before the purge), the method against
    /// the row ([`request::allow_method`]) after the binding check and before the hit is
    /// consumed. `None`: only (entry, params) are bound.
    pub facts: Option<&'a RequestFacts>,
}

/// Run the purge before a lookup when none ran in the last `interval` seconds (0 = always).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgeDue {
    /// Seconds between purges of this store.
    pub interval: i64,
    /// Rows a purge removes at most.
    pub limit: u32,
}

/// What [`Store::lookup_request`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupOutcome {
    /// The grant or the denial.
    pub result: Result<Grant, Denial>,
    /// The temporary users of the rows the purge that ran first removed (for Tiki's user
    /// library to remove).
    pub purged_users: Vec<String>,
}

impl Store {
    /// SPEC section 3: token + entry + params → grant or denial. Never an error: a database
    /// failure is a denial with reason `DatabaseError`.
    ///
    /// `params` are the request's params without `TOKEN`. One prepared SELECT by token (no
    /// round trip at all for a malformed token), and one conditional UPDATE when the token has
    /// limited hits; both within the I/O timeout together.
    pub fn lookup(&self, token: &[u8], entry: &[u8], params: &Params) -> Result<Grant, Denial> {
        let deadline = Instant::now() + self.config.io_timeout;
        self.guard(
            || self.lookup_steps(token, entry, params, deadline, None),
            |m| Err(db_denial(m)),
        )
    }

    /// A lookup as a request presents it (see [`LookupRequest`]): a token that is not a string
    /// and unreadable params are `malformed` denials; the purge, when asked for and due, runs
    /// first — never for a token that cannot be one, so a flood of garbage tokens reaches the
    /// database not even for a purge — and the purge and the lookup together answer within the
    /// I/O timeout (the purge gets at most half of it; its failure denies nothing).
    pub fn lookup_request(&self, request: LookupRequest<'_>) -> LookupOutcome {
        let deadline = Instant::now() + self.config.io_timeout;
        let mut purged_users = Vec::new();
        let result = (|| {
            let token = match request.token {
                PresentedToken::Text(t) => t,
                PresentedToken::NotAString(type_name) => {
                    return Err(Denial::new(
                        DenialReason::Malformed,
                        format!("the token is {type_name}, not a string"),
                    ));
                }
            };
            let mut params = request
                .params
                .map_err(|e| Denial::new(DenialReason::Malformed, format!("params: {e}")))?;
            take_token(&mut params);
            token::precheck(token)?;
            if let Some(facts) = request.facts {
                facts.check(token, request.entry, &params)?;
            }
            if let Some(purge) = request.purge {
                let half = Instant::now() + self.config.io_timeout / 2;
                purged_users = self.purge_if_due_until(purge, half).unwrap_or_default();
            }
            self.guard(
                || {
                    let method = request.facts.map(|f| f.method.as_slice());
                    self.lookup_steps(token, request.entry, &params, deadline, method)
                },
                |m| Err(db_denial(m)),
            )
        })();
        LookupOutcome {
            result,
            purged_users,
        }
    }

    /// The steps, run again from the SELECT when the UPDATE lost a certification conflict on a
    /// Galera cluster (a rolled-back autocommit UPDATE consumed nothing, so running SELECT and
    /// UPDATE again is safe), a few times with a jittered pause, while time is left.
    fn lookup_steps(
        &self,
        token: &[u8],
        entry: &[u8],
        params: &Params,
        deadline: Instant,
        method: Option<&[u8]>,
    ) -> Result<Grant, Denial> {
        token::precheck(token)?;
        // Pre-checked: 32 or 64 ASCII hex characters.
        let presented = String::from_utf8_lossy(token).into_owned();
        let scrub = |d: Denial| Denial {
            detail: d.detail.replace(&presented, "<token>"),
            ..d
        };
        let mut conn = self.conn.checkout_until(deadline);
        let ask = Ask {
            token,
            presented: &presented,
            entry,
            params,
            method,
            deadline,
        };
        let mut conflicts = 0;
        loop {
            match self.attempt(&mut conn, &ask) {
                Ok(grant) => return Ok(grant),
                Err(Refused::Denied(d)) => return Err(scrub(d)),
                Err(Refused::Conflict(conflict)) => {
                    conflicts += 1;
                    if !pause_before_retry(conflicts, deadline) {
                        return Err(scrub(conflict.give_up(conflicts)));
                    }
                }
            }
        }
    }

    /// One pass: SELECT → verified → usable → bound → method allowed → grant → UPDATE.
    fn attempt(&self, conn: &mut Conn<'_>, ask: &Ask<'_>) -> Result<Grant, Refused> {
        let as_denial = |e: crate::Error| {
            db_denial(match e {
                crate::Error::Database(text) => text,
                other => other.to_string(),
            })
        };
        let mut found = self
            .candidates(conn, ask.presented, true)
            .map_err(as_denial)?;
        if found.rows.is_empty() {
            return Err(Denial::new(DenialReason::Unknown, "no row holds this token").into());
        }
        if !found.secret_is_current && self.verified(&found, ask.token).is_err() {
            // The secret kept from the table may be older than a rotation: ask the table.
            found = self
                .candidates(conn, ask.presented, false)
                .map_err(as_denial)?;
        }
        let row = self.verified(&found, ask.token)?;
        usable(row)?;
        bound_to(row, ask.entry, ask.params)?;
        if let Some(method) = ask.method {
            let data = row.data().flatten();
            let data = data.as_deref().map(str::as_bytes);
            request::allow_method(row.id().unwrap_or_default(), method, ask.entry, data)?;
        }
        if !conn.may_grant() {
            return Err(db_denial(format!(
                "token {}: the server failed less than {} s ago and is a Galera node (or may \
                 be): a node that stalled may answer from before its eviction, so it grants \
                 nothing for a while",
                row.id().unwrap_or_default(),
                RETRY_FAILED_AFTER.as_secs()
            ))
            .into());
        }
        let mut grant = grant_of(row)?;
        grant.hits_left = consume(conn, row, ask.deadline)?;
        Ok(grant)
    }

    /// Every row holding the presented value, oldest first (none: an unknown token), and the
    /// secret to verify them with. A signed token whose secret comes from the table takes the
    /// secret an earlier lookup kept (see `handle::TABLE_SECRET_KEPT`) when `kept_ok`; else the
    /// SELECT brings it (a primary-key subquery on `tiki_preferences`, which costs the server
    /// about as much again as the SELECT itself) and it is kept.
    pub(super) fn candidates(
        &self,
        conn: &mut Conn<'_>,
        presented: &str,
        kept_ok: bool,
    ) -> crate::Result<Candidates> {
        let schema = self.schema()?;
        let from_table = self.wants_stored_secret(presented.len());
        let kept = if from_table && kept_ok {
            self.kept_table_secret()
        } else {
            None
        };
        let sql = if from_table && kept.is_none() {
            &schema.sql.by_token_with_secret
        } else {
            &schema.sql.by_token
        };
        let mut rows: Vec<StoredRow> = conn
            .rows(Retry::IfBroken, sql, (presented,))
            .map_err(|e| self.db_error(e))?;
        // No `ORDER BY` in the SELECT: on MyISAM it costs a filesort (about 20 µs) on every
        // lookup, for the rare case of two rows holding one value. Oldest first is restored here.
        if rows.len() > 1 {
            rows.sort_by_key(|r| r.id().unwrap_or(i64::MAX));
        }
        let (secret, secret_is_current) = match (from_table, kept) {
            (false, _) => (self.given_secret().cloned(), true),
            (true, Some(k)) => (Some(k), false),
            (true, None) => {
                let read = rows.first().and_then(StoredRow::secret);
                if let Some(s) = &read {
                    self.keep_table_secret(s.clone());
                }
                (read, true)
            }
        };
        Ok(Candidates {
            rows,
            secret,
            secret_is_current,
        })
    }

    /// True when a token of this length is signed and the secret must come from the table.
    fn wants_stored_secret(&self, token_len: usize) -> bool {
        token_len == 64 && self.given_secret().is_none()
    }

    /// The first row whose value `token` is; `BadSignature` when none is.
    pub(super) fn verified<'r>(
        &self,
        found: &'r Candidates,
        token: &[u8],
    ) -> Result<&'r StoredRow, Denial> {
        let secret = found.secret.as_ref();
        found
            .rows
            .iter()
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
                        found.rows.len()
                    ),
                )
            })
    }
}

/// The rows a lookup found, and the secret to verify them with.
pub(super) struct Candidates {
    /// Oldest first.
    pub rows: Vec<StoredRow>,
    /// The secret (given, or from the table); `None` for legacy tokens or when there is none.
    pub secret: Option<Secret>,
    /// False when the secret was kept from an earlier lookup (it may predate a rotation).
    pub secret_is_current: bool,
}

/// What one lookup asks, as every pass of it needs it.
struct Ask<'a> {
    /// The token as presented (pre-checked).
    token: &'a [u8],
    /// The same as text, for the SELECT.
    presented: &'a str,
    entry: &'a [u8],
    params: &'a Params,
    /// The request's method when the whole request is bound.
    method: Option<&'a [u8]>,
    deadline: Instant,
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
pub(super) fn usable(row: &StoredRow) -> Result<(), Denial> {
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

/// Why one pass of a lookup did not grant.
enum Refused {
    /// A denial, final.
    Denied(Denial),
    /// The consuming UPDATE lost a certification conflict (or a lock wait): nothing was
    /// consumed, another pass may grant.
    Conflict(Conflict),
}

impl From<Denial> for Refused {
    fn from(d: Denial) -> Self {
        Refused::Denied(d)
    }
}

/// A consuming UPDATE that lost: the token's id and what the server said.
struct Conflict {
    id: i64,
    code: Option<u16>,
    text: String,
}

impl Conflict {
    /// The denial when no time is left for another pass: a lost race for a certification
    /// conflict (the request was in time; others won), a database error for a lock wait that
    /// used up the budget.
    fn give_up(self, passes: u32) -> Denial {
        let id = self.id;
        match self.code {
            Some(ER_LOCK_DEADLOCK) => Denial::new(
                DenialReason::LostRace,
                format!(
                    "token {id}: concurrent requests on other cluster nodes won {passes} \
                     certification conflict(s) in a row: {}",
                    self.text
                ),
            ),
            _ => db_denial(format!("token {id}: {}", self.text)),
        }
    }
}

/// ER_LOCK_DEADLOCK: on Galera, a certification conflict with a concurrent write on another
/// node (the autocommit UPDATE was rolled back).
const ER_LOCK_DEADLOCK: u16 = 1213;
/// ER_LOCK_WAIT_TIMEOUT.
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
/// Passes of a lookup at most. On a cluster where two dozen clients hammer one token on three
/// nodes, five passes still lost one lookup in 250 to conflicts while hits were left; the time
/// budget is the real bound.
const MAX_PASSES: u32 = 12;

/// Waits a jittered while before pass `conflicts + 1` (1–4 ms, doubling each time up to 32–128
/// ms) when another pass is allowed and the wait leaves time for one; false when the lookup
/// must give up.
fn pause_before_retry(conflicts: u32, deadline: Instant) -> bool {
    if conflicts >= MAX_PASSES {
        return false;
    }
    let base = 1u64 << conflicts.min(5);
    let pause = Duration::from_micros(rand::random_range(base * 1000..=base * 4000));
    let left = deadline.saturating_duration_since(Instant::now());
    // Another pass needs at least a round trip or two after the pause.
    if left <= pause + Duration::from_millis(5) {
        return false;
    }
    std::thread::sleep(pause);
    true
}

/// Consumes one hit unless the token has unlimited hits; the hits left after it. The UPDATE is
/// never retried on another connection: a second run after a lost answer would consume a second
/// hit. A conflict (1213) or lock wait (1205) consumed nothing and is handed up.
fn consume(conn: &mut Conn<'_>, row: &StoredRow, deadline: Instant) -> Result<i64, Refused> {
    let id = row.id().unwrap_or_default();
    if row.hits() == Some(-1) {
        return Ok(-1);
    }
    // How long the server may take: less than the client waits for the answer (the socket's
    // timeout for this statement), so an UPDATE the server runs only after a longer lock wait
    // changes nothing — its client has given up and denied. NOW(6) on the server is no earlier
    // than the sending; the millisecond covers that.
    let allowed = conn
        .statement_timeout()
        .saturating_sub(Duration::from_millis(1));
    let micros = i64::try_from(allowed.as_micros()).unwrap_or(i64::MAX);
    let sent = Instant::now();
    let written = conn
        .write(Retry::Never, sql::CONSUME, (id, micros))
        .map_err(|e| match e.code() {
            Some(code @ (ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT)) => Refused::Conflict(Conflict {
                id,
                code: Some(code),
                text: e.text,
            }),
            _ => db_denial(e.text).into(),
        })?;
    if written.affected != 1 {
        if sent.elapsed() >= allowed || Instant::now() >= deadline {
            return Err(db_denial(format!(
                "token {id}: the lookup's time budget ran out before its hit was consumed \
                 (nothing was consumed)"
            ))
            .into());
        }
        return Err(Denial::new(
            DenialReason::LostRace,
            format!("token {id}: another request used the last hit first"),
        )
        .into());
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
