//! What the table looks like on this site, read from `information_schema`: which columns exist
//! (by name: upgraded sites have another column order) and how wide they are, whether
//! `tiki_preferences` can hold the secret, and the statements built for that layout.

use super::column::Column;
use super::pool::{Conn, DbError};
use super::sql::{self, Layout, PREFS, SchemaRow, Statements, TABLE};
use std::collections::HashMap;

/// Columns every variant has.
const REQUIRED: [&str; 12] = [
    "tokenId",
    "creation",
    "timeout",
    "hits",
    "maxhits",
    "token",
    "entry",
    "email",
    "parameters",
    "groups",
    "createUser",
    "userPrefix",
];

/// The detected schema of one database.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    /// Columns of `tiki_auth_tokens` by lower-case name.
    columns: HashMap<String, Column>,
    /// `tiki_preferences` exists with `name` and `value` columns.
    pub has_preferences: bool,
    /// `VERSION()` of the server.
    pub server_version: String,
    /// The statements for this layout.
    pub sql: Statements,
}

impl Schema {
    /// The column named `name` (case-insensitively, as MySQL compares column names).
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns.get(&name.to_ascii_lowercase())
    }

    /// True when the table has the column (trunk's `user` and `data` are optional).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    /// Width of the token column in characters (32 on Tiki 24, 64 once migrated).
    pub(crate) fn token_width(&self) -> u32 {
        self.column("token")
            .and_then(|c| c.chars)
            .and_then(|w| u32::try_from(w).ok())
            .unwrap_or(0)
    }

    /// True when the token column can hold a signed (64-character) token.
    pub(crate) fn can_sign(&self) -> bool {
        self.token_width() >= 64
    }

    /// Checks that `value` fits the column `column` whole (a column the table lacks takes
    /// anything: it is not written).
    pub(crate) fn check(&self, column: &str, what: &str, value: &[u8]) -> crate::Result<()> {
        match self.column(column) {
            Some(c) => c.check(what, value).map_err(crate::Error::InvalidInput),
            None => Ok(()),
        }
    }
}

/// Reads the schema (one round trip). The outer error is the database's; the inner one says
/// what is missing ([`crate::Error::Schema`]) or that the DSN names no database.
pub(crate) fn detect(conn: &mut Conn<'_>) -> Result<crate::Result<Schema>, DbError> {
    let rows: Vec<SchemaRow> = conn.text_rows(&sql::detect())?;
    let server_version = rows.first().map(SchemaRow::version).unwrap_or_default();
    let Some(database) = rows.first().and_then(SchemaRow::database) else {
        return Ok(Err(crate::Error::Config(
            "the connection has no database selected".into(),
        )));
    };
    let has = |name: &str| rows.iter().any(|r| r.table().as_deref() == Some(name));
    if !has(TABLE) {
        return Ok(Err(crate::Error::Schema(format!(
            "the table {TABLE} does not exist in the database `{database}`"
        ))));
    }
    let prefs_table = has(PREFS);
    let (columns, pref_columns) = read_columns(rows);
    if let Some(e) = missing_columns(&columns, &database) {
        return Ok(Err(e));
    }
    let has_preferences =
        prefs_table && ["name", "value"].iter().all(|c| pref_columns.contains(*c));
    let layout = Layout {
        user: columns.contains_key("user"),
        data: columns.contains_key("data"),
        preferences: has_preferences,
    };
    Ok(Ok(Schema {
        columns,
        has_preferences,
        server_version,
        sql: Statements::new(layout),
    }))
}

/// The columns of the token table by lower-case name, and the lower-case names of the
/// preference table's columns.
fn read_columns(
    rows: Vec<SchemaRow>,
) -> (HashMap<String, Column>, std::collections::HashSet<String>) {
    let mut columns = HashMap::new();
    let mut pref_columns = std::collections::HashSet::new();
    for r in rows {
        let Some(name) = r.column() else { continue };
        if r.table().as_deref() == Some(PREFS) {
            pref_columns.insert(name.to_ascii_lowercase());
            continue;
        }
        let col = Column {
            data_type: r.data_type(),
            column_type: r.column_type(),
            chars: r.chars(),
            octets: r.octets(),
            charset: r.charset(),
            collation: r.collation(),
            name: name.clone(),
        };
        columns.insert(name.to_ascii_lowercase(), col);
    }
    (columns, pref_columns)
}

/// The error naming the required columns the table lacks, if any.
fn missing_columns(columns: &HashMap<String, Column>, database: &str) -> Option<crate::Error> {
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|c| !columns.contains_key(&c.to_ascii_lowercase()))
        .map(|c| format!("`{c}`"))
        .collect();
    (!missing.is_empty()).then(|| {
        crate::Error::Schema(format!(
            "the table {TABLE} in `{database}` lacks the column(s) {}",
            missing.join(", ")
        ))
    })
}
