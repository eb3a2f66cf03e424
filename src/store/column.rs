//! One column of the table as `information_schema.COLUMNS` describes it, and the check that a
//! value fits it whole (SPEC section 1: never store a truncated value).

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
