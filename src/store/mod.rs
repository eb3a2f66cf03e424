//! The token store on Tiki's own table `tiki_auth_tokens` (SPEC sections 1–3), over MySQL/MariaDB.
//!
//! Pure Rust: no PHP types. One [`Store`] per process holds the connection pool and the detected
//! schema; every method is safe to call from several threads.
//!
//! Layout: `dsn` (configuration), `pool` (connections, dead-connection retry), `schema` (variant
//! detection, column widths, migration), `lookup` (the hot path), `create`, `manage` (list, delete,
//! purge, revoke, rotate).

use crate::canon::Params;
use crate::error::{Denial, Result};
use crate::token::{Scheme, Secret};
use std::time::Duration;

/// How to reach the database and which defaults apply.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `mysql://user:pass@host:port/db[?opts]` or `mysql://user:pass@localhost/db?socket=/path`.
    /// `Debug` of the whole config never shows the password (see `dsn`).
    pub dsn: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Read and write timeout of each statement.
    pub io_timeout: Duration,
    /// The signing secret; `None` = read `auth_token_secret` from `tiki_preferences`.
    pub secret: Option<Secret>,
    /// Cap on a token's timeout in seconds (Tiki pref `auth_token_access_maxtimeout`).
    pub max_timeout: i64,
    /// Cap on a token's hits (Tiki pref `auth_token_access_maxhits`).
    pub max_hits: i64,
    /// Mint legacy MD5 tokens even where signed ones are possible (only when told to).
    pub force_legacy: bool,
}

/// A granted lookup (SPEC section 3 step 8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The row's tokenId.
    pub token_id: i64,
    /// The decoded groups list (may be empty: a grant of no groups).
    pub groups: Vec<String>,
    /// email column.
    pub email: String,
    /// createUser = 'y'.
    pub create_user: bool,
    /// userPrefix column.
    pub user_prefix: String,
    /// user column (trunk only).
    pub user: Option<String>,
    /// data column (trunk only), raw JSON text.
    pub data: Option<String>,
    /// `userPrefix . sprintf('%06d', tokenId * 531441 % 1000000)` when createUser = 'y'.
    pub temp_user: Option<String>,
    /// Hits left after this one (-1 = unlimited).
    pub hits_left: i64,
}

/// A row of the table, for get/list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// tokenId.
    pub token_id: i64,
    /// creation as the database renders it.
    pub creation: String,
    /// timeout in seconds (-1 = never).
    pub timeout: i64,
    /// hits left (-1 = unlimited).
    pub hits: i64,
    /// maxhits.
    pub max_hits: i64,
    /// token value (may be NULL for a half-written row).
    pub token: Option<String>,
    /// entry bytes.
    pub entry: Vec<u8>,
    /// email.
    pub email: String,
    /// parameters JSON text.
    pub parameters: String,
    /// groups JSON text.
    pub groups: String,
    /// createUser 'y'/'n'.
    pub create_user: String,
    /// userPrefix.
    pub user_prefix: String,
    /// user (trunk).
    pub user: Option<String>,
    /// data (trunk).
    pub data: Option<String>,
}

/// Options of a new token (Tiki's `$arguments` to `createToken`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// Seconds; `None` or 0 = `max_timeout`; -1 = never expires; capped at `max_timeout`.
    pub timeout: Option<i64>,
    /// Uses; `None` or 0 = `max_hits`; -1 = unlimited; capped at `max_hits`.
    pub hits: Option<i64>,
    /// Who the token was sent to.
    pub email: String,
    /// Log the visitor in as a temporary user.
    pub create_user: bool,
    /// Prefix of the temporary user name.
    pub user_prefix: String,
    /// Creator (trunk's `user` column; ignored on Tiki 24's table).
    pub user: Option<String>,
    /// Extra JSON data (trunk's `data` column; ignored on Tiki 24's table).
    pub data: Option<String>,
}

/// A newly created token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// Its tokenId.
    pub token_id: i64,
    /// Its value.
    pub token: String,
    /// Legacy or signed.
    pub scheme: Scheme,
}

/// What the table and configuration allow (for phpinfo and the README's warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemeInfo {
    /// The scheme new tokens get.
    pub minting: Scheme,
    /// True when the table is Tiki 24's and [`Store::migrate`] would change it.
    pub needs_migration: bool,
    /// Width of the token column.
    pub token_width: u32,
    /// True when a secret is configured or stored.
    pub has_secret: bool,
}

/// What [`Store::migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// The ALTERs applied (empty when already migrated).
    pub altered: Vec<String>,
    /// True when a new secret was inserted into `tiki_preferences`.
    pub secret_created: bool,
}

/// The store: a pool and the detected schema.
pub struct Store {
    _private: (),
}

impl Store {
    /// A store for this configuration. Connects lazily: an unreachable server is not an error
    /// here, only at first use.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when the DSN does not parse.
    pub fn new(config: StoreConfig) -> Result<Self> {
        let _ = config;
        todo!()
    }

    /// SPEC section 3: token + entry + params → grant or denial. Never an error: a database
    /// failure is a denial with reason `DatabaseError`.
    pub fn lookup(&self, token: &[u8], entry: &[u8], params: &Params) -> Result<Grant, Denial> {
        let _ = (token, entry, params);
        todo!()
    }

    /// Creates a token bound to `entry` and `params` for `groups`.
    ///
    /// # Errors
    /// Input too wide for its column, params no request can carry, database failure.
    pub fn create(
        &self,
        entry: &[u8],
        params: &Params,
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<Created> {
        let _ = (entry, params, groups, options);
        todo!()
    }

    /// Creates a token for a full URL and returns the URL with `&TOKEN=…` (SPEC section 4).
    ///
    /// # Errors
    /// As [`Store::create`], and a URL that cannot be split.
    pub fn include_token(
        &self,
        url: &[u8],
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<(String, Created)> {
        let _ = (url, groups, options);
        todo!()
    }
}
