//! The canonical form (SPEC section 4): one canonicaliser for both sides of a token, so that the
//! (entry, params) bound at creation and the (entry, params) of the real request never diverge.
//!
//! * [`query`]: a query string → the params tree exactly as PHP builds `$_GET`.
//! * [`path`]: a URL path → the entry as the web server hands it to PHP (`PHP_SELF`).
//! * [`url`]: a full URL (admin form, `includeToken`) → its parts, entry and params.
//! * [`json`]: params tree ↔ the JSON text PHP's `json_encode` / `json_decode` write and read.
//! * [`http_query`]: params tree → the query string PHP's `http_build_query` writes.
//! * [`tree`]: the params tree itself and the match rule.
//! * [`route`]: SEF URLs: a path below the site root → what Tiki's `route.php` serves there.
//!
//! Everything here is pure: bytes in, bytes out, no PHP types, no database.

pub mod http_query;
pub mod json;
pub mod path;
pub mod query;
pub mod route;
pub mod tree;
pub mod url;

pub use tree::{
    Key, MismatchKind, Params, ParamsMismatch, PhpArray, Value, match_entry, match_params,
};

/// The only parameter that carries a token (upper case; `token` and `Token` are ordinary
/// parameters).
pub const TOKEN_PARAM: &[u8] = b"TOKEN";

/// Removes the `TOKEN` parameter (of any type) from `params`, returning it.
pub fn take_token(params: &mut Params) -> Option<Value> {
    params.remove_ref(tree::KeyRef::Str(TOKEN_PARAM))
}
