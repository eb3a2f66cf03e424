//! The ext-php-rs binding (feature `extension`): the PHP module `tiki_tokens`.
//!
//! Thin on purpose: it converts PHP values to bytes and params trees, calls [`crate::store`] and
//! [`crate::canon`], and converts the answers and errors back. It makes no decisions.
//!
//! * `module`: MINIT and the registration of everything below.
//! * `ini`: the INI entries (names, defaults from the core, reading them).
//! * `info`: the `phpinfo()` section.
//! * `registry`: one [`crate::store::Store`] (one pool) per configuration per PHP process.
//! * `convert`: zvals ↔ bytes, params trees and row arrays (binary safe, depth guarded).
//! * `options`: the `$options` arrays of `TikiTokens\Store`.
//! * `request`: the current request's method, query string, cookies and settings, for
//!   `Store::lookupRequest` (the rules are the core's [`crate::request`]).
//! * `classes`: `TikiTokens\Store`, `TikiTokens\Grant`, `TikiTokens\Denial`.
//! * `functions`: `TikiTokens\canonical_url`, `TikiTokens\parse_query`.
//! * `exceptions`: the exception classes, the one mapping from [`crate::Error`], and the one
//!   panic guard every entry point runs in.

// `delete(int $tokenId)`: ext-php-rs names PHP parameters after the Rust ones, and Tiki's is
// `$tokenId` (the generated code does not see an item-level allow).
#[allow(non_snake_case)]
mod classes;
mod convert;
mod exceptions;
mod functions;
mod info;
mod ini;
mod module;
mod options;
mod registry;
mod request;
