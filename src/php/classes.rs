//! The classes `TikiTokens\Store`, `TikiTokens\Grant` and `TikiTokens\Denial`.
//!
//! Every method converts its arguments ([`super::convert`], [`super::options`]), calls the
//! shared [`crate::store::Store`] of its configuration ([`super::registry`]) and converts the
//! answer; errors become exceptions in [`super::exceptions::to_php`], panics are caught by
//! [`guard`] (for `lookup`: a denial, so a lookup never throws on any input).

use super::convert::{
    ArrayArg, ConvertError, array_zval, assoc, bool_zval, bytes_of, bytes_zval, int_zval,
    params_from_php, row_to_php, string_list, strings_from_php, type_name,
};
use super::exceptions::{guard, invalid_input, panic_text, to_php};
use super::module::{INI_PURGE_INTERVAL, ini_int};
use super::options::{create_options, store_config};
use super::registry::{self, Shared};
use crate::canon::take_token;
use crate::error::{Denial as CoreDenial, DenialReason, VISITOR_MESSAGE};
use crate::store::{CreateOptions, Grant as CoreGrant};
use crate::token::Scheme;
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// The reason of a denial made by the binding itself when the lookup panicked (the core has no
/// such reason: it never gets that far).
pub const INTERNAL_ERROR_REASON: &str = "internal_error";

fn conv(e: ConvertError) -> PhpException {
    invalid_input(e.0)
}

fn scheme_name(s: Scheme) -> &'static str {
    match s {
        Scheme::Legacy => "legacy",
        Scheme::Signed => "signed",
    }
}

/// A PHP object for a Rust class value (null only if the engine cannot make one).
fn object_zval<T: ext_php_rs::class::RegisteredClass>(value: T) -> Zval {
    ZendClassObject::new(value)
        .into_zval(false)
        .unwrap_or_else(|_| Zval::null())
}

/// `TikiTokens\Grant`: a granted lookup. Read-only properties: `tokenId`, `groups`, `email`,
/// `createUser`, `userPrefix`, `user`, `data`, `tempUser`, `hitsLeft`.
#[php_class]
#[php(name = "TikiTokens\\Grant")]
#[php(flags = ClassFlags::Final)]
pub struct Grant {
    inner: CoreGrant,
}

#[php_impl]
impl Grant {
    /// The row's tokenId.
    #[php(getter)]
    pub fn get_token_id(&self) -> i64 {
        self.inner.token_id
    }

    /// The groups whose rights the visitor gets (may be empty: a grant of no groups).
    #[php(getter)]
    pub fn get_groups(&self) -> Vec<String> {
        self.inner.groups.clone()
    }

    /// Who the token was sent to.
    #[php(getter)]
    pub fn get_email(&self) -> String {
        self.inner.email.clone()
    }

    /// True when the visitor is to be logged in as a temporary user (`createUser = 'y'`).
    #[php(getter)]
    pub fn get_create_user(&self) -> bool {
        self.inner.create_user
    }

    /// Prefix of the temporary user name.
    #[php(getter)]
    pub fn get_user_prefix(&self) -> String {
        self.inner.user_prefix.clone()
    }

    /// The creator of the token (Tiki trunk's `user` column), null on Tiki 24's table.
    #[php(getter)]
    pub fn get_user(&self) -> Option<String> {
        self.inner.user.clone()
    }

    /// Extra data as stored JSON text (Tiki trunk's `data` column), null when absent.
    #[php(getter)]
    pub fn get_data(&self) -> Option<String> {
        self.inner.data.clone()
    }

    /// The temporary user name (`userPrefix . sprintf('%06d', tokenId * 531441 % 1000000)`)
    /// when `createUser`, else null.
    #[php(getter)]
    pub fn get_temp_user(&self) -> Option<String> {
        self.inner.temp_user.clone()
    }

    /// Hits left after this one (-1 = unlimited).
    #[php(getter)]
    pub fn get_hits_left(&self) -> i64 {
        self.inner.hits_left
    }
}

/// `TikiTokens\Denial`: a refused lookup. `reason` is a stable name for logs (`malformed`,
/// `unknown`, `bad_signature`, `expired`, `exhausted`, `entry_mismatch`, `params_mismatch`,
/// `lost_race`, `database_error`, or `internal_error`); `detail` says more (never a secret);
/// `message` is what a visitor may be shown.
#[php_class]
#[php(name = "TikiTokens\\Denial")]
#[php(flags = ClassFlags::Final)]
pub struct Denial {
    reason: String,
    detail: String,
}

impl Denial {
    fn from_core(d: &CoreDenial) -> Self {
        Self {
            reason: d.reason.as_str().to_string(),
            detail: d.detail.clone(),
        }
    }
}

#[php_impl]
impl Denial {
    /// Why, as a stable name.
    #[php(getter)]
    pub fn get_reason(&self) -> String {
        self.reason.clone()
    }

    /// What exactly, for logs.
    #[php(getter)]
    pub fn get_detail(&self) -> String {
        self.detail.clone()
    }

    /// The one message a visitor sees: "Your access to this page has expired".
    #[php(getter)]
    pub fn get_message(&self) -> String {
        VISITOR_MESSAGE.to_string()
    }
}

/// `TikiTokens\Store`: the tokens of one Tiki database. Objects with the same configuration
/// share one store and one connection pool per PHP process.
#[php_class]
#[php(name = "TikiTokens\\Store")]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    fn lookup_outcome(
        &self,
        token: &Zval,
        entry: &[u8],
        params: &ZendHashTable,
    ) -> Result<CoreGrant, CoreDenial> {
        let Some(token) = bytes_of(token) else {
            return Err(CoreDenial::new(
                DenialReason::Malformed,
                format!("the token is {}, not a string", type_name(token)),
            ));
        };
        let mut params = params_from_php(params)
            .map_err(|e| CoreDenial::new(DenialReason::Malformed, format!("params: {e}")))?;
        take_token(&mut params);
        self.shared.store.lookup(token, entry, &params)
    }

    fn purge_limit(limit: i64) -> PhpResult<u32> {
        u32::try_from(limit).map_err(|_| {
            invalid_input(format!(
                "limit must be between 0 and {}, got {limit}",
                u32::MAX
            ))
        })
    }
}

#[php_impl]
impl Store {
    /// A store for `$dsn` (null: the INI entry `tiki_tokens.dsn`). Options: `secret` (string;
    /// default: the `auth_token_secret` preference), `maxTimeout`, `maxHits` (ints; default: the
    /// INI caps), `connectTimeout`, `ioTimeout` (seconds; default: the INI values), `forceLegacy`
    /// (bool: mint MD5 tokens even where signed ones are possible). Connects lazily.
    #[php(defaults(options = ArrayArg::empty()))]
    pub fn __construct(dsn: Option<Binary<u8>>, options: ArrayArg) -> PhpResult<Self> {
        guard(|| {
            let config = store_config(dsn.as_ref().map(|d| d.as_slice()), options.table())
                .map_err(to_php)?;
            let shared = registry::get_or_create(config).map_err(to_php)?;
            Ok(Self { shared })
        })
    }

    /// Token + entry (`$_SERVER['PHP_SELF']`) + params (`$_GET`) → a `Grant` or a `Denial`.
    /// Never throws on any input: a token that is not a string, params that no request can carry,
    /// a database failure or an internal error is a `Denial`.
    pub fn lookup(&self, token: &Zval, entry: Binary<u8>, params: &ZendHashTable) -> Zval {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.lookup_outcome(token, entry.as_slice(), params)
        }));
        match outcome {
            Ok(Ok(grant)) => object_zval(Grant { inner: grant }),
            Ok(Err(denial)) => object_zval(Denial::from_core(&denial)),
            Err(payload) => object_zval(Denial {
                reason: INTERNAL_ERROR_REASON.to_string(),
                detail: format!("internal error: {}", panic_text(payload.as_ref())),
            }),
        }
    }

    /// Creates a token for `$entry` and `$params` granting `$groups` (the store refuses params
    /// no request can carry back: floats, booleans, null, empty arrays, `TOKEN`). Options (Tiki's
    /// `$arguments`): `timeout`, `hits` (ints; 0 or absent = the cap, -1 = unlimited, capped),
    /// `email`, `createUser` (bool), `userPrefix`, `user` (creator), `data` (array, stored as
    /// JSON). Returns `['tokenId' => int, 'token' => string, 'scheme' => 'legacy'|'signed']`.
    #[php(defaults(options = ArrayArg::empty()))]
    pub fn create(
        &self,
        entry: Binary<u8>,
        params: &ZendHashTable,
        groups: &ZendHashTable,
        options: ArrayArg,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let params = params_from_php(params).map_err(conv)?;
            let groups = strings_from_php(groups, "groups").map_err(conv)?;
            let options = match options.table() {
                Some(t) => create_options(t, "").map_err(to_php)?,
                None => CreateOptions::default(),
            };
            let created = self
                .shared
                .store
                .create(entry.as_slice(), &params, &groups, &options)
                .map_err(to_php)?;
            assoc(vec![
                ("tokenId", int_zval(created.token_id)),
                ("token", bytes_zval(created.token.as_bytes())),
                ("scheme", bytes_zval(scheme_name(created.scheme).as_bytes())),
            ])
            .map_err(conv)
        })
    }

    /// Creates a token for a full URL (its path and query) and returns the URL with
    /// `&TOKEN=…` added (before any `#fragment`). Options as for `create()`.
    #[php(defaults(groups = ArrayArg::empty(), options = ArrayArg::empty()))]
    pub fn include_token(
        &self,
        url: Binary<u8>,
        groups: ArrayArg,
        options: ArrayArg,
    ) -> PhpResult<String> {
        guard(|| {
            let groups = match groups.table() {
                Some(t) => strings_from_php(t, "groups").map_err(conv)?,
                None => Vec::new(),
            };
            let options = match options.table() {
                Some(t) => create_options(t, "").map_err(to_php)?,
                None => CreateOptions::default(),
            };
            let (url, _) = self
                .shared
                .store
                .include_token(url.as_slice(), &groups, &options)
                .map_err(to_php)?;
            Ok(url)
        })
    }

    /// The row of a token (Tiki's column names as keys), only if the token verifies; else null.
    pub fn get(&self, token: Binary<u8>) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard(|| {
            let row = self.shared.store.get(token.as_slice()).map_err(to_php)?;
            row.map(|r| row_to_php(&r).map_err(conv)).transpose()
        })
    }

    /// Every row, oldest first (by creation, then tokenId).
    pub fn list(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let rows = self.shared.store.list().map_err(to_php)?;
            let mut out = ZendHashTable::new();
            for row in &rows {
                out.push(array_zval(row_to_php(row).map_err(conv)?))
                    .map_err(|e| invalid_input(format!("cannot build a PHP array: {e}")))?;
            }
            Ok(out)
        })
    }

    /// Deletes a token; returns the temporary user name to remove when it had `createUser = 'y'`.
    pub fn delete(&self, tokenId: i64) -> PhpResult<Option<String>> {
        guard(|| self.shared.store.delete(tokenId).map_err(to_php))
    }

    /// Removes up to `$limit` expired or used-up rows; returns the temporary user names of the
    /// removed rows (for Tiki's user library to remove).
    #[php(defaults(limit = 1000))]
    pub fn purge(&self, limit: i64) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let users = self
                .shared
                .store
                .purge(Self::purge_limit(limit)?)
                .map_err(to_php)?;
            string_list(&users).map_err(conv)
        })
    }

    /// As `purge()`, but at most once per `$interval` seconds per PHP process and configuration
    /// (null: the INI entry `tiki_tokens.purge_interval`; 0: every call). Returns null when no
    /// purge was due.
    #[php(defaults(limit = 1000))]
    pub fn purge_if_due(
        &self,
        interval: Option<i64>,
        limit: i64,
    ) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard(|| {
            let interval = match interval {
                Some(i) => i,
                None => ini_int(INI_PURGE_INTERVAL).map_err(to_php)?,
            };
            if interval < 0 {
                return Err(invalid_input(format!(
                    "interval must be 0 or more seconds, got {interval}"
                )));
            }
            let limit = Self::purge_limit(limit)?;
            if !self.shared.claim_purge(interval) {
                return Ok(None);
            }
            let users = self.shared.store.purge(limit).map_err(to_php)?;
            string_list(&users).map(Some).map_err(conv)
        })
    }

    /// Deletes every token; returns the temporary user names of the removed rows.
    pub fn revoke_all(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let users = self.shared.store.revoke_all().map_err(to_php)?;
            string_list(&users).map_err(conv)
        })
    }

    /// Stores a new signing secret (signed tokens made before stop verifying); with `$revoke`,
    /// also deletes every token. Returns the temporary user names of removed rows.
    #[php(defaults(revoke = false))]
    pub fn rotate_secret(&self, revoke: bool) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let users = self.shared.store.rotate_secret(revoke).map_err(to_php)?;
            string_list(&users).map_err(conv)
        })
    }

    /// Applies Tiki's own migration of the table (signed tokens), idempotently. Returns
    /// `['altered' => string[], 'secretCreated' => bool]`.
    pub fn migrate(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let report = self.shared.store.migrate().map_err(to_php)?;
            assoc(vec![
                (
                    "altered",
                    array_zval(string_list(&report.altered).map_err(conv)?),
                ),
                ("secretCreated", bool_zval(report.secret_created)),
            ])
            .map_err(conv)
        })
    }

    /// What the table and configuration allow: `['minting' => 'legacy'|'signed',
    /// 'needsMigration' => bool, 'tokenWidth' => int, 'hasSecret' => bool]`.
    pub fn scheme_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let info = self.shared.store.scheme_info().map_err(to_php)?;
            assoc(vec![
                ("minting", bytes_zval(scheme_name(info.minting).as_bytes())),
                ("needsMigration", bool_zval(info.needs_migration)),
                ("tokenWidth", int_zval(i64::from(info.token_width))),
                ("hasSecret", bool_zval(info.has_secret)),
            ])
            .map_err(conv)
        })
    }

    /// The state of the connection pool, for diagnostics (never a password).
    pub fn connection_state(&self) -> PhpResult<String> {
        guard(|| Ok(self.shared.store.connection_state()))
    }
}
