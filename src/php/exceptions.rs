//! The PHP exception hierarchy of the extension, the one place where a [`crate::Error`] becomes a
//! PHP exception, and the panic guard that every entry point runs in.
//!
//! ```text
//! \Exception
//!  └─ TikiTokens\Exception                (also: internal errors, caught panics)
//!      ├─ TikiTokens\ConfigException      (DSN, INI, options)
//!      ├─ TikiTokens\DatabaseException    (connection, statement, timeout)
//!      ├─ TikiTokens\SchemaException      (missing table or columns, unexpected shape)
//!      └─ TikiTokens\InvalidInputException (arguments that cannot be used or stored)
//! ```
//!
//! Messages come from [`crate::Error`]'s `Display`, which never holds a password or a secret.

use crate::error::Error;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ce;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// `TikiTokens\Exception`: the base class, so that `catch (TikiTokens\Exception $e)` catches
/// everything the extension throws.
#[php_class]
#[php(name = "TikiTokens\\Exception")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct BaseException;

/// `TikiTokens\ConfigException`: a bad DSN, INI value or option.
#[php_class]
#[php(name = "TikiTokens\\ConfigException")]
#[php(extends(BaseException))]
#[derive(Default)]
pub struct ConfigException;

/// `TikiTokens\DatabaseException`: the database could not be reached or a statement failed.
#[php_class]
#[php(name = "TikiTokens\\DatabaseException")]
#[php(extends(BaseException))]
#[derive(Default)]
pub struct DatabaseException;

/// `TikiTokens\SchemaException`: the table is missing, lacks a column or has an unexpected shape.
#[php_class]
#[php(name = "TikiTokens\\SchemaException")]
#[php(extends(BaseException))]
#[derive(Default)]
pub struct SchemaException;

/// `TikiTokens\InvalidInputException`: an argument of the wrong PHP type, or input that cannot
/// be stored (too wide, not UTF-8 where the column needs it, nested too deep, …).
#[php_class]
#[php(name = "TikiTokens\\InvalidInputException")]
#[php(extends(BaseException))]
#[derive(Default)]
pub struct InvalidInputException;

/// The one mapping from the crate's errors to PHP exceptions.
pub fn to_php(e: Error) -> PhpException {
    let message = e.to_string();
    match e {
        Error::Config(_) => PhpException::from_class::<ConfigException>(message),
        Error::Database(_) => PhpException::from_class::<DatabaseException>(message),
        Error::Schema(_) => PhpException::from_class::<SchemaException>(message),
        Error::InvalidInput(_) => PhpException::from_class::<InvalidInputException>(message),
    }
}

/// A `TikiTokens\InvalidInputException` for an argument the binding cannot convert.
pub fn invalid_input(message: impl Into<String>) -> PhpException {
    to_php(Error::InvalidInput(message.into()))
}

/// The text of a caught panic, for the "internal error" message.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Runs one entry point so that no panic reaches PHP: a panic becomes a
/// `TikiTokens\Exception` ("internal error: …") instead of ext-php-rs' generic `\Error`.
pub fn guard<T>(f: impl FnOnce() -> PhpResult<T>) -> PhpResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(PhpException::from_class::<BaseException>(format!(
            "tiki_tokens internal error: {}",
            panic_text(payload.as_ref())
        ))),
    }
}
