//! Params tree ↔ JSON text exactly as PHP's `json_encode` (default flags) writes it and
//! `json_decode($text, true)` reads it, so that Tiki's own PHP reads our rows back identically.

use super::tree::{Params, Value};

/// Why a tree cannot be written as JSON, or a text cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JSON: {}", self.0)
    }
}

impl std::error::Error for JsonError {}

/// `json_encode($params)`: insertion order, `\/` escaped, non-ASCII as `\uXXXX`, lists as JSON
/// arrays, other arrays as objects.
///
/// # Errors
/// A string that is not valid UTF-8 (PHP's `json_encode` returns false there), or a float that is
/// NaN or infinite.
pub fn encode_params(params: &Params) -> Result<String, JsonError> {
    let _ = params;
    todo!("canon::json::encode_params")
}

/// `json_encode` of any value.
///
/// # Errors
/// As [`encode_params`].
pub fn encode_value(value: &Value) -> Result<String, JsonError> {
    let _ = value;
    todo!("canon::json::encode_value")
}

/// `json_decode($text, true)`: objects and lists become arrays (integer-like object keys become
/// integer keys), numbers become `Int` or `Float`.
///
/// # Errors
/// Text that PHP's `json_decode` would reject (returns null with an error).
pub fn decode(text: &[u8]) -> Result<Value, JsonError> {
    let _ = text;
    todo!("canon::json::decode")
}
