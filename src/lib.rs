//! # tiki-tokens
//!
//! Tiki Wiki CMS's token access (`TOKEN=<hex>` in a URL grants some groups' rights to whoever
//! requests exactly that URL) done right, as a PHP extension written in Rust.
//!
//! ## The flow of a lookup
//! ```text
//! PHP request ─► php/AuthTokens.php (Tiki's API, thin) ─► src/php (zvals → bytes/tree, errors → exceptions)
//!    ─► canon (entry bytes, params tree) ─► store: one SELECT by token ─► token value check
//!    ─► match (entry, params) ─► consume (one conditional UPDATE) ─► Grant | Denial(reason)
//! ```
//! Nothing flows back up: [`canon`] knows nothing of MySQL, [`store`] knows nothing of PHP, and
//! the binding (`src/php`, feature `extension`) makes no decisions.
//!
//! * [`canon`]: the canonical form of a URL (SPEC section 4) and the match rule.
//! * [`token`]: token values: payload, MD5 / HMAC-SHA256, constant-time check, secrets.
//! * [`store`]: the table `tiki_auth_tokens`: lookup, create, manage, migrate.
//! * [`request`]: the whole request beyond (entry, `$_GET`): method, cookies, dropped input,
//!   where the token came from (SPEC section 8).
//! * [`error`]: the error enum and the reasons of a denial.

pub mod canon;
pub mod error;
pub mod request;
pub mod store;
pub mod token;

#[cfg(feature = "extension")]
mod php;

pub use error::{Denial, DenialReason, Error, Result};
