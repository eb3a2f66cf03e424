//! A full URL (pasted into Tiki's admin form, or passed to `includeToken`) → its parts.

use super::tree::Params;

/// A URL split into what a token binds (entry, params) and what it does not (the rest, kept only
/// to rebuild the URL).
#[derive(Clone, Debug, PartialEq)]
pub struct SplitUrl {
    /// `scheme://host[:port]` (user info dropped), or empty for a path-only URL (`/tiki/x.php?…`).
    pub origin: String,
    /// The path as it must be written back into a URL (still percent-encoded).
    pub raw_path: String,
    /// The entry bound by a token: [`super::path::entry_from_url_path`] of the path.
    pub entry: Vec<u8>,
    /// The params bound by a token: [`super::query::parse_query`] of the query, `TOKEN` removed.
    pub params: Params,
    /// The fragment without `#`, if any.
    pub fragment: Option<String>,
}

/// Why a URL cannot be split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError(pub String);

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot use this URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

/// Splits a full URL. Accepts `http`/`https` absolute URLs and path-absolute URLs (`/…`); bytes
/// that are not UTF-8 are percent-encoded first (lossless: they are decoded once again later).
///
/// # Errors
/// A URL that cannot be parsed, has another scheme, or no path: a clear error, never a guess.
pub fn split_url(url: &[u8]) -> Result<SplitUrl, UrlError> {
    let _ = url;
    todo!("canon::url::split_url")
}
