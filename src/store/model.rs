//! What the store hands out and takes in: a grant, a row, the options of a new token, what
//! creation, the migration and the scheme report.

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
