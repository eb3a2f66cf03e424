//! Params tree → query string, as PHP's `http_build_query($params, '', '&')` writes it.

use super::tree::Params;

/// `http_build_query($params, '', '&')` (RFC 1738 encoding: space as `+`).
#[must_use]
pub fn build_query(params: &Params) -> String {
    let _ = params;
    todo!("canon::http_query::build_query")
}
