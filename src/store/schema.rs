//! What the table looks like on this site, read from `information_schema` at first use: which
//! columns exist (by name: upgraded sites have another column order), their widths in
//! characters and bytes, the token column's width and collation (32 → Tiki 24, 64 → migrated),
//! and whether `tiki_preferences` can hold the secret. Also the migration plan.

use super::cells::Cells;
use mysql::prelude::Queryable;
use std::collections::HashMap;

/// Tiki's token table.
pub(crate) const TABLE: &str = "tiki_auth_tokens";
/// Tiki's preference table, where trunk keeps the signing secret.
pub(crate) const PREFS: &str = "tiki_preferences";
/// The preference holding the signing secret.
pub(crate) const SECRET_PREF: &str = "auth_token_secret";

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

/// One column as `information_schema.COLUMNS` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    /// The name as the table spells it.
    pub name: String,
    /// `varchar`, `mediumtext`, …
    pub data_type: String,
    /// `varchar(50)`, … (for messages).
    pub column_type: String,
    /// Width in characters (text columns).
    pub chars: Option<u64>,
    /// Width in bytes (text columns).
    pub octets: Option<u64>,
    /// Character set (text columns).
    pub charset: Option<String>,
    /// Collation (text columns).
    pub collation: Option<String>,
}

impl Column {
    /// Whether `value` can be stored whole in this column, as the value a connection in
    /// utf8mb4 sends: text columns need valid UTF-8; a VARCHAR/CHAR limit counts characters, a
    /// TEXT limit bytes (both are checked). The error names the column and both sizes.
    pub(crate) fn check(&self, what: &str, value: &[u8]) -> Result<(), String> {
        let (chars, stored_bytes) = match &self.charset {
            Some(cs) => {
                let text = std::str::from_utf8(value).map_err(|_| {
                    format!(
                        "{what} is not valid UTF-8, and the column `{}` ({}, character set {cs}) \
                         only stores text",
                        self.name, self.column_type
                    )
                })?;
                let chars = text.chars().count();
                // Single-byte character sets store one byte per character; UTF-8 ones (and,
                // conservatively, any other) the UTF-8 length.
                let single = matches!(
                    cs.as_str(),
                    "ascii"
                        | "latin1"
                        | "latin2"
                        | "latin5"
                        | "latin7"
                        | "cp1250"
                        | "cp1251"
                        | "cp1256"
                        | "cp1257"
                        | "binary"
                );
                (chars, if single { chars } else { value.len() })
            }
            None => (value.len(), value.len()),
        };
        let chars_ok = self.chars.is_none_or(|max| chars as u64 <= max);
        let bytes_ok = self.octets.is_none_or(|max| stored_bytes as u64 <= max);
        if chars_ok && bytes_ok {
            return Ok(());
        }
        let limit = match (self.chars, self.octets) {
            (Some(c), Some(o)) if c != o => format!("{c} characters and {o} bytes"),
            (Some(c), _) => format!("{c} characters"),
            (None, Some(o)) => format!("{o} bytes"),
            (None, None) => "less".into(),
        };
        Err(format!(
            "{what} is {chars} characters ({} bytes), too long for the column `{}` ({}), which \
             holds at most {limit}; nothing was written",
            value.len(),
            self.name,
            self.column_type
        ))
    }
}

/// The detected schema of one database.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    /// Columns of `tiki_auth_tokens` by lower-case name.
    columns: HashMap<String, Column>,
    /// `tiki_preferences` exists with `name` and `value` columns.
    pub has_preferences: bool,
    /// `VERSION()` of the server.
    pub server_version: String,
    /// The lookup's SELECT text without and with the secret subquery, built once here rather
    /// than on every lookup (the mysql crate parses the text on each call).
    lookup_sql: [String; 2],
}

impl Schema {
    /// The lookup's SELECT (see [`super::lookup::select_sql`]).
    pub(crate) fn lookup_sql(&self, with_secret: bool) -> &str {
        &self.lookup_sql[usize::from(with_secret)]
    }

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

    /// The clauses of Tiki's own migration (SPEC section 1) that this table still needs, in
    /// the order of one `ALTER TABLE`.
    pub(crate) fn migration_plan(&self) -> Vec<String> {
        let mut plan = Vec::new();
        let is = |name: &str, types: &[&str]| {
            self.column(name)
                .is_some_and(|c| types.contains(&c.data_type.as_str()))
        };
        if !is("entry", &["mediumtext", "longtext"]) {
            plan.push("MODIFY `entry` MEDIUMTEXT".to_string());
        }
        if !is("parameters", &["text", "mediumtext", "longtext"]) {
            plan.push("MODIFY `parameters` TEXT".to_string());
        }
        if !self.has("user") {
            plan.push("ADD COLUMN `user` VARCHAR(200) DEFAULT NULL".to_string());
        }
        if !self.has("data") {
            plan.push("ADD COLUMN `data` TEXT DEFAULT NULL".to_string());
        }
        let token_ok = self.column("token").is_some_and(|c| {
            c.chars.is_some_and(|w| w >= 64)
                && c.charset.as_deref() == Some("ascii")
                && c.collation.as_deref() == Some("ascii_bin")
        });
        if !token_ok {
            plan.push(
                "MODIFY `token` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin".to_string(),
            );
        }
        plan
    }
}

/// Reads the schema. The outer error is the database's; the inner one says what is missing
/// ([`crate::Error::Schema`]) or that the DSN names no database.
pub(crate) fn detect(
    conn: &mut impl Queryable,
) -> Result<Result<Schema, crate::Error>, mysql::Error> {
    let head: Option<mysql::Row> = conn.query_first("SELECT DATABASE(), VERSION()")?;
    let head = head.map(Cells::new);
    let database = head.as_ref().and_then(|c| c.text(0));
    let server_version = head.as_ref().and_then(|c| c.text(1)).unwrap_or_default();
    let Some(database) = database else {
        return Ok(Err(crate::Error::Config(
            "the connection has no database selected".into(),
        )));
    };

    let tables: Vec<mysql::Row> = conn.query(format!(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('{TABLE}', '{PREFS}')"
    ))?;
    let mut table = false;
    let mut prefs_table = false;
    for t in tables.into_iter().map(Cells::new) {
        match t.text(0).as_deref() {
            Some(TABLE) => table = true,
            Some(PREFS) => prefs_table = true,
            _ => {}
        }
    }
    if !table {
        return Ok(Err(crate::Error::Schema(format!(
            "the table {TABLE} does not exist in the database `{database}`"
        ))));
    }

    let rows: Vec<mysql::Row> = conn.query(format!(
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, \
         CHARACTER_OCTET_LENGTH, CHARACTER_SET_NAME, COLLATION_NAME \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('{TABLE}', '{PREFS}')"
    ))?;
    let mut columns = HashMap::new();
    let mut pref_columns = Vec::new();
    for r in rows.into_iter().map(Cells::new) {
        let Some(name) = r.text(1) else { continue };
        if r.text(0).as_deref() == Some(PREFS) {
            pref_columns.push(name.to_ascii_lowercase());
            continue;
        }
        let col = Column {
            data_type: r.text(2).unwrap_or_default().to_ascii_lowercase(),
            column_type: r.text(3).unwrap_or_default().to_ascii_lowercase(),
            chars: r.int(4).and_then(|n| u64::try_from(n).ok()),
            octets: r.int(5).and_then(|n| u64::try_from(n).ok()),
            charset: r.text(6),
            collation: r.text(7),
            name: name.clone(),
        };
        columns.insert(name.to_ascii_lowercase(), col);
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(&c.to_ascii_lowercase()))
        .collect();
    if !missing.is_empty() {
        return Ok(Err(crate::Error::Schema(format!(
            "the table {TABLE} in `{database}` lacks the column(s) {}",
            missing
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))));
    }
    let has_preferences = prefs_table
        && pref_columns.iter().any(|c| c == "name")
        && pref_columns.iter().any(|c| c == "value");
    let mut schema = Schema {
        columns,
        has_preferences,
        server_version,
        lookup_sql: Default::default(),
    };
    schema.lookup_sql = [
        super::lookup::select_sql(&schema, false),
        super::lookup::select_sql(&schema, true),
    ];
    Ok(Ok(schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str, chars: u64, octets: u64, cs: &str) -> Column {
        Column {
            name: name.into(),
            data_type: ty.split('(').next().unwrap_or(ty).into(),
            column_type: ty.into(),
            chars: Some(chars),
            octets: Some(octets),
            charset: Some(cs.into()),
            collation: None,
        }
    }

    #[test]
    fn varchar_counts_characters_text_counts_bytes() {
        let entry = col("entry", "varchar(50)", 50, 200, "utf8mb4");
        assert!(entry.check("entry", "é".repeat(50).as_bytes()).is_ok());
        let e = entry.check("entry", "a".repeat(51).as_bytes()).unwrap_err();
        assert!(
            e.contains("51 characters") && e.contains("`entry`") && e.contains("50"),
            "{e}"
        );
        let text = col("parameters", "text", 65535, 65535, "utf8mb4");
        assert!(text.check("p", "a".repeat(65535).as_bytes()).is_ok());
        assert!(text.check("p", "é".repeat(40000).as_bytes()).is_err());
        assert!(entry.check("entry", b"\xff").unwrap_err().contains("UTF-8"));
        let ascii = col("token", "varchar(64)", 64, 64, "ascii");
        assert!(ascii.check("token", "a".repeat(64).as_bytes()).is_ok());
    }
}
