//! Reading the cells of a result row without panics: the mysql crate's typed getters panic on
//! a value of an unexpected type, and a row of this table may hold anything (NULLs, a column
//! changed by hand). Every reader here says `None` instead.

use mysql::Value;

/// The cells of a row, by position in *our* select list (never the table's column order).
pub(crate) struct Cells(Vec<Value>);

impl Cells {
    /// Takes the row apart.
    pub(crate) fn new(row: mysql::Row) -> Self {
        Self(row.unwrap())
    }

    /// True when the cell is SQL NULL (or missing).
    pub(crate) fn is_null(&self, i: usize) -> bool {
        matches!(self.0.get(i), None | Some(Value::NULL))
    }

    /// An integer cell (binary or text protocol).
    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        match self.0.get(i)? {
            Value::Int(n) => Some(*n),
            Value::UInt(n) => i64::try_from(*n).ok(),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// A string cell's bytes; `None` for NULL or a non-string value.
    pub(crate) fn bytes(&self, i: usize) -> Option<&[u8]> {
        match self.0.get(i)? {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A string cell's bytes with NULL as empty (the payload rule).
    pub(crate) fn bytes_or_empty(&self, i: usize) -> Option<&[u8]> {
        if self.is_null(i) {
            Some(&[])
        } else {
            self.bytes(i)
        }
    }

    /// A UTF-8 string cell; `None` for NULL, a non-string or invalid UTF-8.
    pub(crate) fn text(&self, i: usize) -> Option<String> {
        self.bytes(i)
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
    }

    /// A nullable UTF-8 string cell: `Some(None)` for NULL, `None` when unreadable.
    pub(crate) fn opt_text(&self, i: usize) -> Option<Option<String>> {
        if self.is_null(i) {
            Some(None)
        } else {
            self.text(i).map(Some)
        }
    }
}

/// The cells of a row read by column name (case-insensitive), for statements whose columns are
/// not ours to order: `SELECT *` of another table, `EXPLAIN` (its columns differ between MySQL
/// and MariaDB versions). A missing column reads as `None`.
pub(crate) struct NamedCells {
    names: Vec<String>,
    cells: Cells,
}

impl NamedCells {
    /// Takes the row apart, keeping its column names.
    pub(crate) fn new(row: mysql::Row) -> Self {
        let names = row
            .columns_ref()
            .iter()
            .map(|c| c.name_str().to_ascii_lowercase())
            .collect();
        Self {
            names,
            cells: Cells::new(row),
        }
    }

    fn at(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// [`Cells::int`] of the column `name`.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.cells.int(self.at(name)?)
    }

    /// [`Cells::bytes`] of the column `name`.
    pub(crate) fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.cells.bytes(self.at(name)?)
    }

    /// [`Cells::text`] of the column `name`.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.cells.text(self.at(name)?)
    }
}
