//! Query string → params tree, following PHP's own `$_GET` construction
//! (php-src `main/php_variables.c`: `php_default_treat_data` and `php_register_variable_ex`),
//! not WHATWG and not `parse_url`. Real PHP is the oracle (`tests/php_oracle.rs`).

use super::tree::Params;

/// PHP's limits that shape `$_GET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// `max_input_vars` (PHP default 1000): variables past this many are dropped.
    pub max_input_vars: usize,
    /// `max_input_nesting_level` (PHP default 64): a deeper variable is dropped.
    pub max_nesting: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_input_vars: 1000,
            max_nesting: 64,
        }
    }
}

/// The params tree PHP builds in `$_GET` for this raw query string (the part after `?`, without
/// the fragment), `TOKEN` included.
#[must_use]
pub fn parse_query(query: &[u8], limits: QueryLimits) -> Params {
    let _ = (query, limits);
    todo!("canon::query::parse_query")
}
