//! What the store hands out and takes in: a grant, a row, the options of a new token, what
//! creation, the migration and the scheme report.

use crate::canon::{Params, Value, json, url};
use crate::token::Scheme;

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

impl TokenRow {
    /// The path-only link of this row's token ([`url::entry_link`]): what to request, below
    /// the site's origin, to be granted. `None` for a half-written row (no token) or parameters
    /// that are not a JSON array or object.
    #[must_use]
    pub fn link(&self) -> Option<String> {
        let token = self.token.as_deref()?;
        let Ok(Value::Array(params)) = json::decode(self.parameters.as_bytes()) else {
            return None;
        };
        Some(url::entry_link(&self.entry, &params, token))
    }
}

/// A change of a token's hits left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitsChange {
    /// Set to this many (-1 = unlimited, 0 = used up).
    Set(i64),
    /// Add this many (may be negative), in one atomic UPDATE: an unlimited token (-1) stays
    /// unlimited, a used-up one is revived, and the result stays between 0 and `i32::MAX`.
    Add(i64),
}

/// What to change in a token ([`super::handle::Store::edit`], [`super::handle::Store::reissue`]);
/// `None` keeps the current value.
///
/// The token's value covers tokenId, creation, timeout, entry, parameters and groups (SPEC
/// section 2): changing `timeout`, `groups`, `entry` or `params` needs a new token
/// ([`super::handle::Store::reissue`]); the rest is changed in place, keeping the link.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenChanges {
    /// Hits left (outside the value).
    pub hits: Option<HitsChange>,
    /// maxhits (outside the value; display and statistics only).
    pub max_hits: Option<i64>,
    /// Who the token was sent to (outside the value).
    pub email: Option<String>,
    /// Log the visitor in as a temporary user (outside the value).
    pub create_user: Option<bool>,
    /// Prefix of the temporary user name (outside the value).
    pub user_prefix: Option<String>,
    /// Trunk's `data` column as JSON text; `Some(None)` sets it to NULL (outside the value).
    pub data: Option<Option<String>>,
    /// Seconds from the re-issue on (0 = the cap, -1 = never), capped as at creation (inside).
    pub timeout: Option<i64>,
    /// The groups granted (inside the value).
    pub groups: Option<Vec<String>>,
    /// The entry bound (inside the value).
    pub entry: Option<Vec<u8>>,
    /// The params bound (inside the value).
    pub params: Option<Params>,
    /// A full URL whose entry and params to bind, read as [`super::handle::Store::include_token`]
    /// reads it (inside the value; not together with `entry` or `params`).
    pub url: Option<Vec<u8>>,
}

impl TokenChanges {
    /// The names of the changes that lie inside the token's value (so need a re-issue).
    #[must_use]
    pub fn inside_value(&self) -> Vec<&'static str> {
        [
            (self.timeout.is_some(), "timeout"),
            (self.groups.is_some(), "groups"),
            (self.entry.is_some(), "entry"),
            (self.params.is_some(), "params"),
            (self.url.is_some(), "url"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

/// A re-issued token: the new one, its link, and the old one that no longer works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reissued {
    /// The new token (id, value, scheme).
    pub created: Created,
    /// Its path-only link ([`url::entry_link`]).
    pub link: String,
    /// The tokenId of the old token: deleted, its link stops working.
    pub revoked_token_id: i64,
    /// The temporary user name of the old row when it had createUser = 'y' (the PHP side
    /// removes that user, as after a deletion).
    pub revoked_temp_user: Option<String>,
    /// The new row as stored.
    pub row: TokenRow,
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
    /// Let the token serve POST requests too (SPEC section 8; a stronger grant: the POST body is
    /// not bound). Kept as `allowPost: true` in the `data` JSON, so it needs trunk's table —
    /// except for Tiki's upload script, where POST is allowed anyway.
    pub allow_post: bool,
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
    /// True when the table is Tiki 24's and [`super::handle::Store::migrate`] would change it.
    pub needs_migration: bool,
    /// Width of the token column.
    pub token_width: u32,
    /// True when a secret is configured or stored.
    pub has_secret: bool,
    /// The Galera cluster the server is a node of (`@@wsrep_on`), `None` otherwise.
    pub cluster: Option<ClusterNode>,
}

/// A Galera node as [`SchemeInfo`] shows it: its state, and whether the table is replicated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNode {
    /// The node's state.
    pub state: GaleraState,
    /// The table's engine; Galera replicates InnoDB only, so anything else is a table each node
    /// keeps for itself (a token made on one node unknown on the others).
    pub engine: Option<String>,
}

impl ClusterNode {
    /// True when Galera replicates the table (InnoDB).
    #[must_use]
    pub fn replicated(&self) -> bool {
        self.engine
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case("InnoDB"))
    }
}

/// What [`super::handle::Store::migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// The ALTERs applied (empty when already migrated).
    pub altered: Vec<String>,
    /// True when a new secret was inserted into `tiki_preferences`.
    pub secret_created: bool,
}

/// What a revocation removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Rows deleted.
    pub count: u64,
    /// The temporary user names of the deleted createUser = 'y' rows (for Tiki's user library
    /// to remove).
    pub temp_users: Vec<String>,
}

/// What [`super::handle::Store::diagnose`] found: plain data, for the admin command's doctor
/// and for phpinfo. [`Diagnosis::findings`] judges it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    /// `VERSION()` of the server.
    pub server_version: String,
    /// The selected database.
    pub database: String,
    /// Seconds the database clock is ahead of this host's clock (negative: behind), measured
    /// against the middle of one round trip.
    pub clock_offset: f64,
    /// Galera state, when the server has `@@wsrep_on` set.
    pub galera: Option<GaleraState>,
    /// The table, or why it cannot be used (missing, or lacking required columns).
    pub table: Result<TableDiagnosis, String>,
}

/// What [`Diagnosis`] found of the table `tiki_auth_tokens`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDiagnosis {
    /// Whose layout the table has.
    pub layout: TableLayout,
    /// `information_schema.TABLES.ENGINE` (`MyISAM`, `InnoDB`, …); `None` when not shown.
    pub engine: Option<String>,
    /// Names of the indexes whose first column is `token` (Tiki's is `tiki_auth_tokens_token`).
    pub token_indexes: Vec<String>,
    /// What the server plans for the lookup's SELECT.
    pub lookup_plan: LookupPlan,
    /// The scheme in use and whether the migration is pending.
    pub scheme: SchemeInfo,
    /// Rows, and rows waiting for a purge.
    pub rows: RowCounts,
}

/// Whose layout the table has (SPEC section 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableLayout {
    /// Tiki 24's: token `CHAR(32)`, entry `VARCHAR(50)`, parameters `VARCHAR(255)`, no `user`,
    /// no `data`.
    Tiki24,
    /// Tiki trunk's: token `VARCHAR(64)` ascii_bin, entry `MEDIUMTEXT`, parameters `TEXT`,
    /// `user` and `data`.
    Trunk,
    /// Neither: the columns that tell them apart, as the table has them.
    Other(String),
}

impl TableLayout {
    /// A short name: `tiki24`, `trunk`, `other`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            TableLayout::Tiki24 => "tiki24",
            TableLayout::Trunk => "trunk",
            TableLayout::Other(_) => "other",
        }
    }
}

/// The server's plan (`EXPLAIN`) for the lookup's SELECT by token, the row of the token table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LookupPlan {
    /// The access type (`ref`, `ALL`, `system`, …); `None` when the plan reads no table.
    pub access: Option<String>,
    /// The index the plan uses.
    pub key: Option<String>,
    /// The server's estimate of the rows it reads.
    pub rows: Option<u64>,
    /// `Extra` of the plan.
    pub extra: String,
}

/// How many rows the table has, and how many are unusable (timed out, out of hits, or
/// half-written for over a minute) and wait for a purge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Every row.
    pub total: u64,
    /// Rows a purge would remove.
    pub unusable: u64,
}

/// A Galera node's state (`@@wsrep_on` set), from `SHOW GLOBAL STATUS LIKE 'wsrep%'`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GaleraState {
    /// `@@wsrep_node_name`.
    pub node_name: String,
    /// `wsrep_cluster_size`.
    pub cluster_size: Option<u64>,
    /// `wsrep_local_state_comment` (`Synced`, `Donor/Desynced`, `Joining`, …).
    pub state: String,
    /// `wsrep_cluster_status` (`Primary` when the node is part of the primary component).
    pub cluster_status: Option<String>,
    /// `wsrep_ready` = ON: the node accepts queries.
    pub ready: bool,
}

impl GaleraState {
    /// True when the node is synced with a primary component and ready for queries.
    #[must_use]
    pub fn synced(&self) -> bool {
        self.state == "Synced"
            && self.ready
            && self
                .cluster_status
                .as_deref()
                .is_none_or(|s| s == "Primary")
    }
}

/// How much a [`Finding`] matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// As it should be.
    Ok,
    /// Worth knowing; nothing to do.
    Note,
    /// Works, but should be fixed (e.g. legacy tokens still minted).
    Warning,
    /// Broken or unsafe (e.g. every lookup scans the table).
    Problem,
}

impl Severity {
    /// `ok`, `note`, `warning`, `problem`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Problem => "problem",
        }
    }
}

/// One line of a diagnosis: what was checked, how it stands, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked (`table`, `index`, `clock`, …): stable, for machines.
    pub check: &'static str,
    /// How it stands.
    pub severity: Severity,
    /// What was found, and what to do when it is not ok.
    pub message: String,
}

/// Tiki's temporary user name, `userPrefix . sprintf('%06d', tokenId * 531441 % 1000000)`, of a
/// row with createUser = 'y' (PHP's `%` keeps the sign of the dividend, as Rust's does).
pub(crate) fn temp_user(create_user: bool, prefix: &str, token_id: i64) -> Option<String> {
    create_user.then(|| {
        let n = i128::from(token_id) * 531_441 % 1_000_000;
        format!("{prefix}{n:06}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_user_names_follow_php() {
        // Expected values printed by PHP 8.2: sprintf('%s%06d', $prefix, $id * 531441 % 1000000).
        let name = |p: &str, id| temp_user(true, p, id).unwrap();
        assert_eq!(name("_token", 3), "_token594323");
        assert_eq!(name("_token", 0), "_token000000");
        assert_eq!(name("p", 2), "p062882");
        assert_eq!(name("x", -5), "x-657205");
        assert_eq!(temp_user(false, "p", 2), None);
    }
}
