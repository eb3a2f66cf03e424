//! Every statement the store sends, and a typed decoder for every row it reads back.
//!
//! Columns are named, never positional in the table (upgraded sites have another column
//! order); positions exist only inside this file, between a select list and the decoder of its
//! rows. Decoders never panic (the mysql crate's typed getters do on an unexpected type, and a
//! row of this table may hold anything): an unreadable cell reads as `None`.

use super::cells::{Cells, NamedCells};
use crate::token::{self, PayloadFields, Secret};
use mysql::prelude::FromRow;
use mysql::{FromRowError, Row};

/// `FromRow` for a typed row that keeps its cells and reads them through named accessors: the
/// decoding never fails (an unreadable cell reads as `None` when asked for).
macro_rules! cells_row {
    ($name:ident) => {
        impl FromRow for $name {
            fn from_row_opt(row: Row) -> Result<Self, FromRowError> {
                Ok(Self(Cells::new(row)))
            }
        }
    };
}

/// Tiki's token table.
pub(crate) const TABLE: &str = "tiki_auth_tokens";
/// Tiki's preference table, where trunk keeps the signing secret.
pub(crate) const PREFS: &str = "tiki_preferences";
/// The preference holding the signing secret.
pub(crate) const SECRET_PREF: &str = "auth_token_secret";

/// Which optional parts the database has, as far as statements care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The table has trunk's `user` column.
    pub user: bool,
    /// The table has trunk's `data` column.
    pub data: bool,
    /// `tiki_preferences(name, value)` exists.
    pub preferences: bool,
}

/// The statements whose text depends on the [`Layout`], built once per detected schema rather
/// than on every call (the mysql crate parses the text on each call).
#[derive(Clone, Debug)]
pub(crate) struct Statements {
    /// Rows holding a token value (the lookup's one SELECT).
    pub by_token: String,
    /// [`Statements::by_token`] that also brings the stored secret (64-character tokens).
    pub by_token_with_secret: String,
    /// The row of a tokenId.
    pub by_id: String,
    /// Every row, oldest first.
    pub list: String,
}

impl Statements {
    /// The statements for this layout.
    pub(crate) fn new(layout: Layout) -> Self {
        let plain = select_rows(layout, false);
        Self {
            by_token: format!("{plain} WHERE `token` = ?"),
            by_token_with_secret: format!("{} WHERE `token` = ?", select_rows(layout, true)),
            by_id: format!("{plain} WHERE `tokenId` = ?"),
            list: format!("{plain} ORDER BY `creation`, `tokenId`"),
        }
    }
}

/// The select list that [`StoredRow`] decodes: every column by name (`user`/`data` as NULL where
/// the table lacks them), `creation` rendered as text by the server (the payload needs it as the
/// server renders it), whether the token is still within its time (database clock), and with
/// `secret` the stored secret by a primary-key subquery.
fn select_rows(layout: Layout, secret: bool) -> String {
    let user = if layout.user { "`user`" } else { "NULL" };
    let data = if layout.data { "`data`" } else { "NULL" };
    let secret = if secret && layout.preferences {
        format!(", (SELECT `value` FROM `{PREFS}` WHERE `name` = '{SECRET_PREF}')")
    } else {
        String::new()
    };
    format!(
        "SELECT `tokenId`, CAST(`creation` AS CHAR), `timeout`, `hits`, `maxhits`, `token`, \
         `entry`, `parameters`, `groups`, `email`, `createUser`, `userPrefix`, {user}, {data}, \
         (`timeout` = -1 OR UNIX_TIMESTAMP(`creation`) + `timeout` >= UNIX_TIMESTAMP()){secret} \
         FROM `{TABLE}`"
    )
}

/// A row of the table as [`Statements`] select it.
pub(crate) struct StoredRow(Cells);

cells_row!(StoredRow);

impl StoredRow {
    pub(crate) fn id(&self) -> Option<i64> {
        self.0.int(0)
    }
    pub(crate) fn creation(&self) -> Option<String> {
        self.0.text(1)
    }
    pub(crate) fn timeout(&self) -> Option<i64> {
        self.0.int(2)
    }
    pub(crate) fn hits(&self) -> Option<i64> {
        self.0.int(3)
    }
    pub(crate) fn max_hits(&self) -> Option<i64> {
        self.0.int(4)
    }
    pub(crate) fn token(&self) -> Option<&[u8]> {
        self.0.bytes(5)
    }
    /// The entry; NULL reads as empty (the payload rule), another type as `None`.
    pub(crate) fn entry(&self) -> Option<&[u8]> {
        self.0.bytes_or_empty(6)
    }
    /// The parameters JSON text; `None` for NULL.
    pub(crate) fn parameters(&self) -> Option<&[u8]> {
        self.0.bytes(7)
    }
    /// The groups JSON text; `None` for NULL.
    pub(crate) fn groups(&self) -> Option<&[u8]> {
        self.0.bytes(8)
    }
    pub(crate) fn email(&self) -> Option<String> {
        self.0.text(9)
    }
    pub(crate) fn create_user(&self) -> bool {
        self.0.text(10).is_some_and(|c| c == "y")
    }
    /// `Some(None)` for NULL, `None` when not UTF-8.
    pub(crate) fn user_prefix(&self) -> Option<Option<String>> {
        self.0.opt_text(11)
    }
    pub(crate) fn user(&self) -> Option<Option<String>> {
        self.0.opt_text(12)
    }
    pub(crate) fn data(&self) -> Option<Option<String>> {
        self.0.opt_text(13)
    }
    /// Within its time by the database clock.
    pub(crate) fn fresh(&self) -> bool {
        self.0.int(14) == Some(1)
    }
    /// The stored secret (only selected by [`Statements::by_token_with_secret`]); `None` when
    /// absent or empty.
    pub(crate) fn secret(&self) -> Option<Secret> {
        self.0
            .bytes(15)
            .filter(|s| !s.is_empty())
            .map(Secret::from_text)
    }

    /// The payload of the row (SPEC section 2; NULL texts as empty), `None` when a cell of it
    /// cannot be read.
    pub(crate) fn payload(&self) -> Option<Vec<u8>> {
        let creation = self.creation()?;
        Some(token::payload(&PayloadFields {
            token_id: self.id()?,
            creation: &creation,
            timeout: self.timeout()?,
            entry: self.entry()?,
            parameters: self.0.bytes_or_empty(7)?,
            groups: self.0.bytes_or_empty(8)?,
        }))
    }

    /// True when `presented` is this row's value (SPEC section 2).
    pub(crate) fn verifies(&self, presented: &[u8], secret: Option<&Secret>) -> bool {
        match (self.token(), self.payload()) {
            (Some(stored), Some(payload)) => token::verify(presented, stored, &payload, secret),
            _ => false,
        }
    }

    /// Tiki's temporary user name of the row, when it has createUser = 'y'.
    pub(crate) fn temp_user(&self) -> Option<String> {
        let prefix = self.user_prefix().flatten().unwrap_or_default();
        super::model::temp_user(self.create_user(), &prefix, self.id()?)
    }

    /// The row for get/list; texts that are not UTF-8 are shown lossily (an admin listing shows
    /// every row, even a damaged one).
    pub(crate) fn to_token_row(&self) -> super::model::TokenRow {
        let text = |i: usize| {
            self.0
                .bytes(i)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        super::model::TokenRow {
            token_id: self.id().unwrap_or_default(),
            creation: text(1).unwrap_or_default(),
            timeout: self.timeout().unwrap_or_default(),
            hits: self.hits().unwrap_or_default(),
            max_hits: self.max_hits().unwrap_or_default(),
            token: text(5),
            entry: self.0.bytes(6).map(<[u8]>::to_vec).unwrap_or_default(),
            email: text(9).unwrap_or_default(),
            parameters: text(7).unwrap_or_default(),
            groups: text(8).unwrap_or_default(),
            create_user: text(10).unwrap_or_default(),
            user_prefix: text(11).unwrap_or_default(),
            user: text(12),
            data: text(13),
        }
    }
}

/// The UPDATE that consumes one hit, while a hit is left and only within the lookup's time
/// left: `SYSDATE(6)` is the time the row is evaluated, after any lock wait, and `NOW(6)` the
/// time the statement started, so an UPDATE that waited longer than the time left for a lock —
/// whose client has already given up and denied — changes nothing. `LAST_INSERT_ID(expr)` hands
/// the new count back in the same round trip (the OK packet's insert id), so the grant reports
/// the hits really left. Parameters: tokenId, the seconds left.
pub(crate) const CONSUME: &str = "UPDATE `tiki_auth_tokens` SET `hits` = LAST_INSERT_ID(`hits` - 1) \
                                  WHERE `tokenId` = ? AND `hits` > 0 \
                                  AND SYSDATE(6) <= NOW(6) + INTERVAL ? MICROSECOND";

/// The INSERT of a new row, columns by name; `token` NULL, `creation` by its default. Values:
/// timeout, hits, maxhits, entry, email, parameters, groups, createUser, userPrefix, then
/// `user` and `data` when given.
pub(crate) fn insert(user: bool, data: bool) -> String {
    let mut cols = String::from(
        "`timeout`, `hits`, `maxhits`, `token`, `entry`, `email`, `parameters`, `groups`, \
         `createUser`, `userPrefix`",
    );
    let mut marks = String::from("?, ?, ?, NULL, ?, ?, ?, ?, ?, ?");
    for (has, col) in [(user, "`user`"), (data, "`data`")] {
        if has {
            cols.push_str(", ");
            cols.push_str(col);
            marks.push_str(", ?");
        }
    }
    format!("INSERT INTO `{TABLE}` ({cols}) VALUES ({marks})")
}

/// Writes the token of a new row, only while it has none (so a second run changes nothing).
pub(crate) const SET_TOKEN: &str =
    "UPDATE `tiki_auth_tokens` SET `token` = ? WHERE `tokenId` = ? AND `token` IS NULL";

/// Deletes one row.
pub(crate) const DELETE_BY_ID: &str = "DELETE FROM `tiki_auth_tokens` WHERE `tokenId` = ?";

/// Deletes every row up to an id (revoke all: rows minted meanwhile stay).
pub(crate) const DELETE_UP_TO: &str = "DELETE FROM `tiki_auth_tokens` WHERE `tokenId` <= ?";

// ---- Editing a token (`edit.rs`): in place, or re-issued ------------------------------------

/// One column an in-place edit sets, each with one `?` for its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Assignment {
    /// `hits` = a value.
    SetHits,
    /// `hits` plus a value, in the UPDATE itself (never read-modify-write): unlimited (-1)
    /// stays unlimited, a row frozen by a re-issue (< -1) stays frozen, a used-up one (0) is
    /// revived, and the result stays between 0 and the INT maximum (the sum is computed as
    /// BIGINT, so it cannot overflow).
    AddHits,
    /// `maxhits`.
    MaxHits,
    /// `email`.
    Email,
    /// `createUser` ('y'/'n').
    CreateUser,
    /// `userPrefix`.
    UserPrefix,
    /// `data` (trunk).
    Data,
}

impl Assignment {
    fn sql(self) -> &'static str {
        match self {
            Assignment::SetHits => "`hits` = ?",
            Assignment::AddHits => {
                "`hits` = IF(`hits` < 0, `hits`, LEAST(GREATEST(`hits` + ?, 0), 2147483647))"
            }
            Assignment::MaxHits => "`maxhits` = ?",
            Assignment::Email => "`email` = ?",
            Assignment::CreateUser => "`createUser` = ?",
            Assignment::UserPrefix => "`userPrefix` = ?",
            Assignment::Data => "`data` = ?",
        }
    }

    /// True when running the assignment twice changes more than running it once.
    pub(crate) fn repeats_differently(self) -> bool {
        self == Assignment::AddHits
    }
}

/// The one UPDATE of an in-place edit: the assignments' values in order, then the tokenId.
pub(crate) fn edit_in_place(sets: &[Assignment]) -> String {
    let sets: Vec<&str> = sets.iter().map(|a| a.sql()).collect();
    format!(
        "UPDATE `{TABLE}` SET {} WHERE `tokenId` = ?",
        sets.join(", ")
    )
}

/// What a re-issue needs to know of the old row that the row itself does not say: its hits
/// left and when it expires (unix time, NULL when it never does), by the database clock.
pub(crate) const STANDING: &str = "SELECT `hits`, \
     IF(`timeout` = -1, NULL, UNIX_TIMESTAMP(`creation`) + `timeout`), UNIX_TIMESTAMP() \
     FROM `tiki_auth_tokens` WHERE `tokenId` = ?";

/// A row of [`STANDING`].
pub(crate) struct Standing(Cells);

cells_row!(Standing);

impl Standing {
    pub(crate) fn hits(&self) -> Option<i64> {
        self.0.int(0)
    }
    /// `None` when the token never expires (or the cell cannot be read).
    pub(crate) fn expires_at(&self) -> Option<i64> {
        self.0.int(1)
    }
    pub(crate) fn now(&self) -> Option<i64> {
        self.0.int(2)
    }
}

/// Freezes the old row of a re-issue and hands its hits left back in the same statement: `hits`
/// becomes `-(hits + 3)` (at most -2: no lookup grants it, no consumption changes it, an add
/// leaves it), and `LAST_INSERT_ID(hits + 3)` puts the old count, plus 3, into the OK packet.
/// Only a row that is not frozen already (`hits >= -1`) is frozen, so it changes exactly one row
/// or none; never retried (a lost answer would lose the count).
pub(crate) const FREEZE: &str = "UPDATE `tiki_auth_tokens` SET `hits` = -LAST_INSERT_ID(`hits` + 3) \
     WHERE `tokenId` = ? AND `hits` >= -1";

/// The offset [`FREEZE`] adds to the count it hands back.
pub(crate) const FREEZE_OFFSET: i64 = 3;

/// Undoes [`FREEZE`] when a re-issue fails after it.
pub(crate) const UNFREEZE: &str = "UPDATE `tiki_auth_tokens` SET `hits` = -`hits` - 3 \
     WHERE `tokenId` = ? AND `hits` <= -2";

/// Sets the hits of a re-issued row that nobody has been given yet.
pub(crate) const SET_HITS_OF_NEW: &str =
    "UPDATE `tiki_auth_tokens` SET `hits` = ? WHERE `tokenId` = ?";

/// Makes a new row (token still NULL) expire at a given unix time: its timeout counts from
/// its own `creation`, which only the server knows exactly.
pub(crate) const EXPIRE_NEW_AT: &str = "UPDATE `tiki_auth_tokens` \
     SET `timeout` = ? - UNIX_TIMESTAMP(`creation`) WHERE `tokenId` = ? AND `token` IS NULL";

/// What a deletion needs to know of a row: its id and temporary user.
const USER_COLUMNS: &str = "SELECT `tokenId`, `createUser`, `userPrefix` FROM `tiki_auth_tokens`";

/// [`UserOfRow`] of one row.
pub(crate) fn user_of_row() -> String {
    format!("{USER_COLUMNS} WHERE `tokenId` = ?")
}

/// [`UserOfRow`] of every row.
pub(crate) fn users_of_all_rows() -> &'static str {
    USER_COLUMNS
}

/// The condition of an unusable row (SPEC section 3 "Clean-up"), with the database clock:
/// timed out, or out of hits, or half-written (token NULL) for more than a minute.
const UNUSABLE: &str = "((`timeout` <> -1 AND UNIX_TIMESTAMP(`creation`) + `timeout` < UNIX_TIMESTAMP()) \
     OR (`hits` <= 0 AND `hits` <> -1) \
     OR (`token` IS NULL AND `creation` < NOW() - INTERVAL 1 MINUTE))";

/// [`UserOfRow`] of at most `?` unusable rows.
pub(crate) fn purge_candidates() -> String {
    format!("{USER_COLUMNS} WHERE {UNUSABLE} LIMIT ?")
}

/// Deletes the listed rows that are still unusable (a row that changed meanwhile stays).
pub(crate) fn purge_delete(ids: &[i64]) -> String {
    format!(
        "DELETE FROM `{TABLE}` WHERE `tokenId` IN ({}) AND {UNUSABLE}",
        id_list(ids)
    )
}

/// Which of the listed rows exist.
pub(crate) fn existing_ids(ids: &[i64]) -> String {
    format!(
        "SELECT `tokenId` FROM `{TABLE}` WHERE `tokenId` IN ({})",
        id_list(ids)
    )
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// A row's id and temporary user, as [`user_of_row`] and friends select them.
pub(crate) struct UserOfRow(Cells);

cells_row!(UserOfRow);

impl UserOfRow {
    pub(crate) fn id(&self) -> Option<i64> {
        self.0.int(0)
    }
    /// The temporary user name when the row has createUser = 'y'.
    pub(crate) fn temp_user(&self) -> Option<String> {
        let create = self.0.text(1).as_deref() == Some("y");
        super::model::temp_user(create, &self.0.text(2).unwrap_or_default(), self.id()?)
    }
}

/// A preference of Tiki's (the stored secret, `feature_sefurl_routes`).
pub(crate) const PREFERENCE: &str = "SELECT `value` FROM `tiki_preferences` WHERE `name` = ?";
/// Replaces the stored secret (rotation).
pub(crate) const REPLACE_SECRET: &str =
    "REPLACE INTO `tiki_preferences` (`name`, `value`) VALUES (?, ?)";
/// Stores a secret unless one exists (Tiki's migration).
pub(crate) const INSERT_SECRET: &str =
    "INSERT IGNORE INTO `tiki_preferences` (`name`, `value`) VALUES (?, ?)";

/// One cell that may be text, read without panics.
pub(crate) struct Text(Option<Vec<u8>>);

impl FromRow for Text {
    fn from_row_opt(row: Row) -> Result<Self, FromRowError> {
        Ok(Self(Cells::new(row).bytes(0).map(<[u8]>::to_vec)))
    }
}

impl Text {
    /// True when the cell holds exactly `value`.
    pub(crate) fn is(&self, value: &[u8]) -> bool {
        self.0.as_deref() == Some(value)
    }

    /// A secret from the cell; `None` when NULL or empty.
    pub(crate) fn secret(self) -> Option<Secret> {
        self.0.filter(|s| !s.is_empty()).map(Secret::from_text)
    }
}

/// The database and the server version.
pub(crate) const HEAD: &str = "SELECT DATABASE(), VERSION()";

/// A row of [`HEAD`].
pub(crate) struct Head {
    /// The selected database, `None` when the connection has none.
    pub database: Option<String>,
    /// `VERSION()`.
    pub version: String,
}

impl FromRow for Head {
    fn from_row_opt(row: Row) -> Result<Self, FromRowError> {
        let c = Cells::new(row);
        Ok(Self {
            database: c.text(0),
            version: c.text(1).unwrap_or_default(),
        })
    }
}

/// Schema detection in one round trip: a first row with the selected database and the server
/// version (and NULLs), then each column of the two tables (with the same two values in front).
/// `create` and `scheme_info` run it every time, so that a table migrated (or dropped and
/// created again) by another process is seen at once. The conditions stand in a `WHERE` on
/// `information_schema.COLUMNS`, which MariaDB turns into a lookup of that one schema's tables;
/// in an outer join's `ON` it scanned every database on the server ("Scanned all databases":
/// 12–40 ms a creation, growing with the server).
pub(crate) fn detect() -> String {
    format!(
        "SELECT DATABASE(), VERSION(), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
         UNION ALL \
         SELECT DATABASE(), VERSION(), TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, \
         CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH, CHARACTER_SET_NAME, COLLATION_NAME \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('{TABLE}', '{PREFS}')"
    )
}

/// A row of [`detect`].
pub(crate) struct SchemaRow(Cells);

cells_row!(SchemaRow);

impl SchemaRow {
    /// The selected database, `None` when the connection has none.
    pub(crate) fn database(&self) -> Option<String> {
        self.0.text(0)
    }
    /// `VERSION()`.
    pub(crate) fn version(&self) -> String {
        self.0.text(1).unwrap_or_default()
    }
    pub(crate) fn table(&self) -> Option<String> {
        self.0.text(2)
    }
    pub(crate) fn column(&self) -> Option<String> {
        self.0.text(3)
    }
    pub(crate) fn data_type(&self) -> String {
        self.0.text(4).unwrap_or_default().to_ascii_lowercase()
    }
    pub(crate) fn column_type(&self) -> String {
        self.0.text(5).unwrap_or_default().to_ascii_lowercase()
    }
    pub(crate) fn chars(&self) -> Option<u64> {
        self.0.int(6).and_then(|n| u64::try_from(n).ok())
    }
    pub(crate) fn octets(&self) -> Option<u64> {
        self.0.int(7).and_then(|n| u64::try_from(n).ok())
    }
    pub(crate) fn charset(&self) -> Option<String> {
        self.0.text(8)
    }
    pub(crate) fn collation(&self) -> Option<String> {
        self.0.text(9)
    }
}

/// Tiki's migration of the table (SPEC section 1): the missing clauses in one statement.
pub(crate) fn alter(clauses: &[String]) -> String {
    format!("ALTER TABLE `{TABLE}` {}", clauses.join(", "))
}

// ---- Diagnosis (the admin command's doctor, phpinfo) ----------------------------------------

/// The engine of the token table.
pub(crate) fn table_engine() -> String {
    format!(
        "SELECT ENGINE FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{TABLE}'"
    )
}

/// The indexes whose first column is `token`.
pub(crate) fn token_indexes() -> String {
    format!(
        "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{TABLE}' \
         AND COLUMN_NAME = 'token' AND SEQ_IN_INDEX = 1 ORDER BY INDEX_NAME"
    )
}

/// The server's plan of a statement (prepared, so that a `?` plays the value it will have).
pub(crate) fn explain(sql: &str) -> String {
    format!("EXPLAIN {sql}")
}

/// Every row, and the rows a purge would remove ([`UNUSABLE`]), with the database clock.
pub(crate) fn row_counts() -> String {
    format!("SELECT COUNT(*), COALESCE(SUM({UNUSABLE}), 0) FROM `{TABLE}`")
}

/// The database clock as Unix time with microseconds.
pub(crate) const CLOCK: &str = "SELECT UNIX_TIMESTAMP(NOW(6))";

/// Whether the server is a Galera node, and its name. MySQL (no wsrep) answers with an error
/// (ER_UNKNOWN_SYSTEM_VARIABLE), which means "no".
pub(crate) const WSREP: &str = "SELECT @@wsrep_on, @@wsrep_node_name";

/// ER_UNKNOWN_SYSTEM_VARIABLE: the answer of a server without wsrep to [`WSREP`].
pub(crate) const UNKNOWN_VARIABLE: u16 = 1193;

/// ER_NO_SUCH_TABLE.
pub(crate) const NO_SUCH_TABLE: u16 = 1146;

/// The preference that turns Tiki's custom routes on.
pub(crate) const SEF_ROUTES_PREF: &str = "feature_sefurl_routes";

/// Tiki's custom routes (columns read by name: their order and set differ between versions).
pub(crate) const CUSTOM_ROUTES: &str = "SELECT * FROM `tiki_custom_route`";

/// A row of [`CUSTOM_ROUTES`]: its `type`, `from` and `active` columns, found by name.
pub(crate) struct CustomRouteRow {
    kind: Option<Vec<u8>>,
    from: Option<Vec<u8>>,
    active: Option<Vec<u8>>,
}

impl FromRow for CustomRouteRow {
    fn from_row_opt(row: Row) -> Result<Self, FromRowError> {
        let cells = NamedCells::new(row);
        let cell = |name: &str| cells.bytes(name).map(<[u8]>::to_vec);
        Ok(Self {
            kind: cell("type"),
            from: cell("from"),
            active: cell("active"),
        })
    }
}

impl CustomRouteRow {
    /// The route, when the row is active (no `active` column: every row is) and of a known type.
    pub(crate) fn route(self) -> Option<crate::canon::route::CustomRoute> {
        if self.active.is_some_and(|a| a != b"y") {
            return None;
        }
        Some(crate::canon::route::CustomRoute {
            kind: crate::canon::route::CustomRouteKind::from_type_name(&self.kind?)?,
            from: self.from?,
        })
    }
}

/// The Galera status variables a diagnosis shows.
pub(crate) const WSREP_STATUS: &str = "SHOW GLOBAL STATUS WHERE Variable_name IN \
     ('wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_ready')";

/// One row of a statement whose cells are read by position: numbers and texts.
pub(crate) struct Plain(Cells);

cells_row!(Plain);

impl Plain {
    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        self.0.int(i)
    }
    pub(crate) fn text(&self, i: usize) -> Option<String> {
        self.0.text(i)
    }
    /// A number cell that may have a fraction (`UNIX_TIMESTAMP(NOW(6))`).
    pub(crate) fn float(&self, i: usize) -> Option<f64> {
        match self.0.bytes(i) {
            Some(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            None => self.0.int(i).map(|n| n as f64),
        }
    }
}

/// A row of [`explain`], read by column name: the columns differ between MySQL and MariaDB
/// versions (`partitions`, `filtered`), and only a few are needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PlanRow {
    /// `table`.
    pub table: Option<String>,
    /// `type`.
    pub access: Option<String>,
    /// `key`.
    pub key: Option<String>,
    /// `rows`.
    pub rows: Option<u64>,
    /// `Extra`.
    pub extra: Option<String>,
}

impl FromRow for PlanRow {
    fn from_row_opt(row: Row) -> Result<Self, FromRowError> {
        let cells = NamedCells::new(row);
        Ok(Self {
            table: cells.text("table"),
            access: cells.text("type"),
            key: cells.text("key"),
            rows: cells.int("rows").and_then(|n| u64::try_from(n).ok()),
            extra: cells.text("extra"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_optional_columns_only_where_they_exist() {
        let t24 = Statements::new(Layout::default());
        assert!(t24.by_token.contains("NULL, NULL"), "{}", t24.by_token);
        assert!(!t24.by_token_with_secret.contains(PREFS));
        let trunk = Statements::new(Layout {
            user: true,
            data: true,
            preferences: true,
        });
        assert!(trunk.by_token.contains("`user`, `data`"));
        assert!(trunk.by_token_with_secret.contains(SECRET_PREF));
        assert!(trunk.by_id.ends_with("WHERE `tokenId` = ?"));
        assert!(
            !trunk.by_token.contains("ORDER BY"),
            "no filesort on MyISAM"
        );
    }

    #[test]
    fn in_place_edits_set_what_they_name() {
        let sql = edit_in_place(&[Assignment::AddHits, Assignment::Email]);
        assert!(
            sql.starts_with("UPDATE `tiki_auth_tokens` SET `hits` = IF("),
            "{sql}"
        );
        assert!(sql.ends_with(", `email` = ? WHERE `tokenId` = ?"), "{sql}");
        assert_eq!(sql.matches('?').count(), 3);
        assert!(Assignment::AddHits.repeats_differently());
        assert!(!Assignment::SetHits.repeats_differently());
    }

    #[test]
    fn inserts_list_values_in_order() {
        assert!(insert(false, false).ends_with("VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)"));
        assert!(insert(true, true).contains("`userPrefix`, `user`, `data`)"));
        assert_eq!(purge_delete(&[3, 5]).matches("IN (3,5)").count(), 1);
    }
}
