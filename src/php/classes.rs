//! The classes `TikiTokens\Store`, `TikiTokens\Grant` and `TikiTokens\Denial`.
//!
//! Every method converts its arguments ([`super::convert`], [`super::options`]), calls the
//! shared [`crate::store::Store`] of its configuration ([`super::registry`]) and converts the
//! answer; errors become exceptions through `From<crate::Error> for PhpException`
//! ([`super::exceptions`]), panics are caught by the one boundary guard (for `lookup`: a denial,
//! so a lookup never throws on any input).

use super::convert::{
    ArrayArg, array_zval, assoc, bool_zval, bytes_of, bytes_zval, edited_to_php, int_zval,
    opt_str_zval, params_from_php, reissued_to_php, row_to_php, string_list, strings_from_php,
    type_name,
};
use super::exceptions::{boundary, guard, invalid_input};
use super::ini;
use super::options::{
    create_options, lookup_options, preference_secret, store_config, token_changes,
};
use super::registry;
use super::request;
use crate::error::{Denial as CoreDenial, DenialReason, VISITOR_MESSAGE};
use crate::store::{
    ClusterNode, CreateOptions, Grant as CoreGrant, LookupOutcome, LookupRequest, PresentedToken,
    Revoked, Store as CoreStore,
};
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use std::sync::Arc;

/// A PHP object for a Rust class value (null only if the engine cannot make one).
fn object_zval<T: ext_php_rs::class::RegisteredClass>(value: T) -> Zval {
    ZendClassObject::new(value)
        .into_zval(false)
        .unwrap_or_else(|_| Zval::null())
}

/// Adds the classes of this file to the module.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.class::<Grant>().class::<Denial>().class::<Store>()
}

/// `TikiTokens\Grant`: a granted lookup. Read-only properties: `tokenId`, `groups`, `email`,
/// `createUser`, `userPrefix`, `user`, `data`, `tempUser`, `hitsLeft`.
#[php_class]
#[php(name = "TikiTokens\\Grant")]
#[php(flags = ClassFlags::Final)]
pub struct Grant {
    inner: CoreGrant,
    purged: Vec<String>,
}

#[php_impl]
impl Grant {
    /// The temporary users of the rows the purge that ran before this lookup removed (for
    /// Tiki's user library to remove); empty when no purge ran.
    #[php(getter)]
    pub fn get_purged_users(&self) -> Vec<String> {
        self.purged.clone()
    }

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
/// `lost_race`, `database_error`, `internal_error`, and from `lookupRequest()`
/// `method_not_allowed`, `cookie_override`, `dropped_input`, `token_not_in_query`); `detail`
/// says more (never a secret); `message` is what a visitor may be shown.
#[php_class]
#[php(name = "TikiTokens\\Denial")]
#[php(flags = ClassFlags::Final)]
pub struct Denial {
    inner: CoreDenial,
    purged: Vec<String>,
}

#[php_impl]
impl Denial {
    /// As `Grant::$purgedUsers`: a purge may run before a lookup that is then denied.
    #[php(getter)]
    pub fn get_purged_users(&self) -> Vec<String> {
        self.purged.clone()
    }

    /// Why, as a stable name.
    #[php(getter)]
    pub fn get_reason(&self) -> String {
        self.inner.reason.as_str().to_string()
    }

    /// What exactly, for logs.
    #[php(getter)]
    pub fn get_detail(&self) -> String {
        self.inner.detail.clone()
    }

    /// The one message a visitor sees: "Your access to this page has expired".
    #[php(getter)]
    pub fn get_message(&self) -> String {
        VISITOR_MESSAGE.to_string()
    }

    /// Every reason a denial can have (including `no_groups`, which `AuthTokens::getGroups`
    /// reports for a grant of no groups): the one list, from the core.
    pub fn reasons() -> Vec<String> {
        DenialReason::ALL
            .iter()
            .map(|r| r.as_str().to_string())
            .collect()
    }
}

/// `TikiTokens\Store`: the tokens of one Tiki database. Objects with the same configuration
/// share one store and one connection pool per PHP process.
#[php_class]
#[php(name = "TikiTokens\\Store")]
pub struct Store {
    store: Arc<CoreStore>,
}

/// A purge limit from PHP.
fn purge_limit(limit: i64) -> PhpResult<u32> {
    u32::try_from(limit).map_err(|_| {
        invalid_input(format!(
            "limit must be between 0 and {}, got {limit}",
            u32::MAX
        ))
    })
}

/// A Galera node as `schemeInfo()['cluster']` shows it (null when the server is none).
fn cluster_zval(node: Option<&ClusterNode>) -> PhpResult<Zval> {
    let Some(node) = node else {
        return Ok(Zval::null());
    };
    let size = node.state.cluster_size.map_or_else(Zval::null, |n| {
        int_zval(i64::try_from(n).unwrap_or(i64::MAX))
    });
    Ok(array_zval(assoc(vec![
        ("node", bytes_zval(node.state.node_name.as_bytes())),
        ("clusterSize", size),
        ("state", bytes_zval(node.state.state.as_bytes())),
        ("synced", bool_zval(node.state.synced())),
        ("engine", opt_str_zval(node.engine.as_deref())),
        ("replicated", bool_zval(node.replicated())),
    ])?))
}

/// What a revocation removed, as PHP sees it.
fn revoked_array(revoked: &Revoked) -> PhpResult<ZBox<ZendHashTable>> {
    Ok(assoc(vec![
        (
            "revoked",
            int_zval(i64::try_from(revoked.count).unwrap_or(i64::MAX)),
        ),
        ("tempUsers", array_zval(string_list(&revoked.temp_users)?)),
    ])?)
}

/// `create()` / `includeToken()` options (absent: the defaults).
fn options_of(options: &ArrayArg) -> PhpResult<CreateOptions> {
    Ok(match options.table() {
        Some(t) => create_options(t, "")?,
        None => CreateOptions::default(),
    })
}

impl Store {
    /// `lookup()` and `lookupRequest()`: the request's facts are read only when `bind_request`.
    fn lookup_with(
        &self,
        token: &Zval,
        entry: &[u8],
        params: &ZendHashTable,
        options: &ArrayArg,
        bind_request: bool,
    ) -> Zval {
        let outcome = boundary(
            || {
                let token = match bytes_of(token) {
                    Some(t) => PresentedToken::Text(t),
                    None => PresentedToken::NotAString(type_name(token)),
                };
                let purge = match options.table().map(lookup_options).transpose() {
                    Ok(purge) => purge.flatten(),
                    Err(e) => {
                        return LookupOutcome {
                            result: Err(CoreDenial::new(DenialReason::Malformed, e.to_string())),
                            purged_users: Vec::new(),
                        };
                    }
                };
                let facts = if bind_request {
                    request::current()
                } else {
                    None
                };
                self.store.lookup_request(LookupRequest {
                    token,
                    entry,
                    params: params_from_php(params).map_err(|e| e.0),
                    purge,
                    facts: facts.as_ref(),
                })
            },
            |text| LookupOutcome {
                result: Err(CoreDenial::new(
                    DenialReason::InternalError,
                    format!("internal error: {text}"),
                )),
                purged_users: Vec::new(),
            },
        );
        let purged = outcome.purged_users;
        match outcome.result {
            Ok(grant) => object_zval(Grant {
                inner: grant,
                purged,
            }),
            Err(denial) => object_zval(Denial {
                inner: denial,
                purged,
            }),
        }
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
            let config = store_config(dsn.as_ref().map(|d| d.as_slice()), options.table())?;
            Ok(Self {
                store: registry::get_or_create(config)?,
            })
        })
    }

    /// Token + entry (`$_SERVER['PHP_SELF']`) + params (`$_GET`) → a `Grant` or a `Denial`.
    /// Never throws on any input: a token that is not a string, params that no request can carry,
    /// bad options, a database failure or an internal error is a `Denial`. Options:
    /// `purgeInterval` (run the purge first when none ran in that many seconds in this process;
    /// null: the INI `tiki_tokens.purge_interval`; absent: no purge) and `purgeLimit` (rows,
    /// default 1000). The purge and the lookup together answer within the I/O timeout.
    #[php(defaults(options = ArrayArg::empty()))]
    pub fn lookup(
        &self,
        token: &Zval,
        entry: Binary<u8>,
        params: &ZendHashTable,
        options: ArrayArg,
    ) -> Zval {
        self.lookup_with(token, entry.as_slice(), params, &options, false)
    }

    /// As `lookup()`, and the whole current request is bound too (SPEC section 8): its method
    /// (GET and HEAD; POST only for a token minted with `allowPost` or for Tiki's upload
    /// script), its cookies (none that reaches `$_REQUEST` may bear the name of a bound
    /// parameter or `TOKEN`), no query variable dropped by `max_input_vars`, and the token taken
    /// from the query string. Read from the SAPI and PHP's globals, not from what the script
    /// changed. On the command line (no request) it is `lookup()`. Options as for `lookup()`.
    #[php(defaults(options = ArrayArg::empty()))]
    pub fn lookup_request(
        &self,
        token: &Zval,
        entry: Binary<u8>,
        params: &ZendHashTable,
        options: ArrayArg,
    ) -> Zval {
        self.lookup_with(token, entry.as_slice(), params, &options, true)
    }

    /// Creates a token for `$entry` and `$params` granting `$groups` (the store refuses params
    /// no request can carry back: floats, booleans, null, empty arrays, `TOKEN`). Options (Tiki's
    /// `$arguments`): `timeout`, `hits` (ints; 0 or absent = the cap, -1 = unlimited, capped),
    /// `email`, `createUser` (bool), `userPrefix`, `user` (creator), `data` (array, stored as
    /// JSON), `allowPost` (bool: the token serves POST too; kept in `data`, so it needs trunk's
    /// table, except for `tiki-upload_file.php`). Returns `['tokenId' => int, 'token' => string, 'scheme' => 'legacy'|'signed']`.
    #[php(defaults(options = ArrayArg::empty()))]
    pub fn create(
        &self,
        entry: Binary<u8>,
        params: &ZendHashTable,
        groups: &ZendHashTable,
        options: ArrayArg,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let params = params_from_php(params)?;
            let groups = strings_from_php(groups, "groups")?;
            let created =
                self.store
                    .create(entry.as_slice(), &params, &groups, &options_of(&options)?)?;
            Ok(assoc(vec![
                ("tokenId", int_zval(created.token_id)),
                ("token", bytes_zval(created.token.as_bytes())),
                ("scheme", bytes_zval(created.scheme.as_str().as_bytes())),
            ])?)
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
                Some(t) => strings_from_php(t, "groups")?,
                None => Vec::new(),
            };
            let (url, _) =
                self.store
                    .include_token(url.as_slice(), &groups, &options_of(&options)?)?;
            Ok(url)
        })
    }

    /// The row of a token (Tiki's column names as keys), only if the token verifies; else null.
    pub fn get(&self, token: Binary<u8>) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard(|| match self.store.get(token.as_slice())? {
            Some(row) => Ok(Some(row_to_php(&row)?)),
            None => Ok(None),
        })
    }

    /// The row of a token only while it can be used (within its time and with hits left, judged
    /// with the database clock, as Tiki trunk's `getActiveToken`); else null.
    pub fn get_active(&self, token: Binary<u8>) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard(|| match self.store.get_active(token.as_slice())? {
            Some(row) => Ok(Some(row_to_php(&row)?)),
            None => Ok(None),
        })
    }

    /// Every row, oldest first (by creation, then tokenId).
    pub fn list(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let mut out = ZendHashTable::new();
            for row in &self.store.list()? {
                out.push(array_zval(row_to_php(row)?))
                    .map_err(|e| invalid_input(format!("cannot build a PHP array: {e}")))?;
            }
            Ok(out)
        })
    }

    /// Deletes a token; returns the temporary user name to remove when it had `createUser = 'y'`.
    pub fn delete(&self, tokenId: i64) -> PhpResult<Option<String>> {
        guard(|| Ok(self.store.delete(tokenId)?))
    }

    /// Changes, in place, what lies outside a token's value (its link stays): `$changes` keys
    /// `hits` (set; -1 unlimited, 0 used up), `addHits` (add, atomically: unlimited stays
    /// unlimited, a used-up token is revived), `maxHits`, `email`, `createUser`, `userPrefix`,
    /// `data` (array or null). Returns the row after the change (as `get()`) plus `url` (the
    /// token's path-only link); null when no token has this id. Keys inside the value
    /// (`timeout`, `groups`, `entry`, `params`, `url`) are refused: use `reissue()`.
    pub fn edit(
        &self,
        tokenId: i64,
        changes: &ZendHashTable,
    ) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard(
            || match self.store.edit(tokenId, &token_changes(changes)?)? {
                Some(row) => Ok(Some(edited_to_php(&row)?)),
                None => Ok(None),
            },
        )
    }

    /// Re-issues a token: a new one with `$changes` (those of `edit()`, and `timeout`, `groups`,
    /// `entry`, `params`, or `url` for both), the rest carried over (hits left, maxhits, email,
    /// temporary-user settings, creator, data, expiry moment), and the old one deleted: its link
    /// stops working. Returns `['tokenId', 'token', 'scheme', 'url' (path-only link),
    /// 'revokedTokenId', 'revokedTempUser', 'row']`; null when no token has this id.
    pub fn reissue(
        &self,
        tokenId: i64,
        changes: &ZendHashTable,
    ) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard(
            || match self.store.reissue(tokenId, &token_changes(changes)?)? {
                Some(r) => Ok(Some(reissued_to_php(&r)?)),
                None => Ok(None),
            },
        )
    }

    /// Removes up to `$limit` expired or used-up rows; returns the temporary user names of the
    /// removed rows (for Tiki's user library to remove).
    #[php(defaults(limit = 1000))]
    pub fn purge(&self, limit: i64) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| Ok(string_list(&self.store.purge(purge_limit(limit)?)?)?))
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
                None => ini::int(ini::PURGE_INTERVAL)?,
            };
            match self.store.purge_if_due(interval, purge_limit(limit)?)? {
                Some(users) => Ok(Some(string_list(&users)?)),
                None => Ok(None),
            }
        })
    }

    /// Deletes every token. Returns `['revoked' => int, 'tempUsers' => string[]]`: how many
    /// rows went, and the temporary user names of the removed rows (for Tiki's user library).
    pub fn revoke_all(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| revoked_array(&self.store.revoke_all()?))
    }

    /// Stores a new signing secret (signed tokens made before stop verifying); with `$revoke`,
    /// also deletes every token. Returns `['revoked' => int, 'tempUsers' => string[]]` (0 and
    /// none without `$revoke`).
    #[php(defaults(revoke = false))]
    pub fn rotate_secret(&self, revoke: bool) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| revoked_array(&self.store.rotate_secret(revoke)?))
    }

    /// Applies Tiki's own migration of the table (signed tokens), idempotently. Returns
    /// `['altered' => string[], 'secretCreated' => bool]`.
    pub fn migrate(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let report = self.store.migrate()?;
            Ok(assoc(vec![
                ("altered", array_zval(string_list(&report.altered)?)),
                ("secretCreated", bool_zval(report.secret_created)),
            ])?)
        })
    }

    /// What the table and configuration allow: `['minting' => 'legacy'|'signed',
    /// 'needsMigration' => bool, 'tokenWidth' => int, 'hasSecret' => bool]`.
    pub fn scheme_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard(|| {
            let info = self.store.scheme_info()?;
            Ok(assoc(vec![
                ("minting", bytes_zval(info.minting.as_str().as_bytes())),
                ("needsMigration", bool_zval(info.needs_migration)),
                ("tokenWidth", int_zval(i64::from(info.token_width))),
                ("hasSecret", bool_zval(info.has_secret)),
                ("cluster", cluster_zval(info.cluster.as_ref())?),
            ])?)
        })
    }

    /// The store of the same configuration, but with `$secret` as the value of Tiki's
    /// `auth_token_secret` preference (after Tiki's own preference setter stored a new one). A
    /// configured `secret` option still wins.
    pub fn with_preference_secret(&self, secret: Binary<u8>) -> PhpResult<Self> {
        guard(|| {
            let mut config = self.store.config().clone();
            config.preference_secret = preference_secret(secret.as_slice())?;
            Ok(Self {
                store: registry::get_or_create(config)?,
            })
        })
    }

    /// The state of the connection pool, for diagnostics (never a password).
    pub fn connection_state(&self) -> PhpResult<String> {
        guard(|| Ok(self.store.connection_state()))
    }
}
