//! Token values (SPEC section 2): the payload of a row, legacy MD5 and signed HMAC-SHA256 tokens,
//! the constant-time check, the format pre-check, and new secrets.

use std::fmt;

/// The signing key: the *text* of the `auth_token_secret` preference as stored (its bytes are the
/// HMAC key; 64 hex characters are not decoded). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from the preference's text.
    #[must_use]
    pub fn from_text(text: impl Into<Vec<u8>>) -> Self {
        Self(text.into())
    }

    /// The key bytes (for HMAC and for storing it in `tiki_preferences`).
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The six texts a token value covers, as the database renders them (NULL = empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayloadFields<'a> {
    /// tokenId, decimal.
    pub token_id: i64,
    /// creation, `YYYY-MM-DD HH:MM:SS` in the session time zone.
    pub creation: &'a str,
    /// timeout, decimal.
    pub timeout: i64,
    /// entry as stored.
    pub entry: &'a [u8],
    /// parameters JSON text as stored.
    pub parameters: &'a [u8],
    /// groups JSON text as stored.
    pub groups: &'a [u8],
}

/// Which kind of token value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// MD5 of the payload, 32 hex characters (every Tiki up to 28).
    Legacy,
    /// HMAC-SHA256 of the payload keyed by the secret, 64 hex characters (Tiki trunk).
    Signed,
}
