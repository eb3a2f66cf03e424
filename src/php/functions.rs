//! Free functions for tools and the demo: the canonical form the extension binds a token to.

use super::convert::{array_zval, assoc, bytes_zval, params_to_php};
use super::exceptions::guard;
use super::ini;
use crate::canon::query::{QueryLimits, parse_query as canon_parse_query};
use crate::canon::url::split_url;
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

/// The (entry, params) a token made for this full URL is bound to:
/// `['entry' => string, 'params' => array]` (`TOKEN` removed, as on both sides of a lookup).
#[php_function]
#[php(name = "TikiTokens\\canonical_url")]
pub fn canonical_url(url: Binary<u8>) -> PhpResult<ZBox<ZendHashTable>> {
    guard(|| {
        let split = split_url(url.as_slice()).map_err(crate::Error::from)?;
        let params = params_to_php(&split.params)?;
        Ok(assoc(vec![
            ("entry", bytes_zval(&split.entry)),
            ("params", array_zval(params)),
        ])?)
    })
}

/// The array PHP builds in `$_GET` for this query string (the part after `?`), with this PHP's
/// `max_input_vars` and `max_input_nesting_level`. `TOKEN` is kept.
#[php_function]
#[php(name = "TikiTokens\\parse_query")]
pub fn parse_query(query: Binary<u8>) -> PhpResult<ZBox<ZendHashTable>> {
    guard(|| {
        let defaults = QueryLimits::default();
        let limits = QueryLimits {
            max_input_vars: ini::int("max_input_vars")
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(defaults.max_input_vars),
            max_nesting: ini::int("max_input_nesting_level")
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(defaults.max_nesting),
        };
        Ok(params_to_php(&canon_parse_query(query.as_slice(), limits))?)
    })
}

/// Adds the functions of this file to the module (the wrappers `#[php_function]` generates are
/// private to this file).
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(canonical_url))
        .function(wrap_function!(parse_query))
}
