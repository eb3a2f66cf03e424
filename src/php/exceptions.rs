//! The PHP exception hierarchy of the extension, the one place where a [`crate::Error`] becomes a
//! PHP exception, and the one panic guard that every entry point runs in.
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

use super::convert::ConvertError;
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

/// An exception message PHP can take: ext-php-rs refuses a message with a NUL byte (it would
/// throw a generic `\Error` "cannot throw …" instead of our class), and a message may quote
/// input bytes (a parameter path through an object's private property names holds NULs), so NUL
/// is written as the two characters `\0`.
fn php_message(message: &str) -> String {
    message.replace('\0', "\\0")
}

/// The one mapping from the crate's errors to PHP exceptions, so that every method ends in `?`.
impl From<Error> for PhpException {
    fn from(e: Error) -> Self {
        let message = php_message(&e.to_string());
        match e {
            Error::Config(_) => PhpException::from_class::<ConfigException>(message),
            Error::Database(_) => PhpException::from_class::<DatabaseException>(message),
            Error::Schema(_) => PhpException::from_class::<SchemaException>(message),
            Error::InvalidInput(_) => PhpException::from_class::<InvalidInputException>(message),
        }
    }
}

/// An argument the binding cannot convert is invalid input.
impl From<ConvertError> for PhpException {
    fn from(e: ConvertError) -> Self {
        Error::InvalidInput(e.0).into()
    }
}

/// A `TikiTokens\InvalidInputException` for an argument the binding cannot use.
pub fn invalid_input(message: impl Into<String>) -> PhpException {
    Error::InvalidInput(message.into()).into()
}

/// The one panic guard of the boundary: runs `f`, and turns a panic into `on_panic(message)`,
/// so that nothing unwinds into PHP. Every entry point (methods, functions, MINIT, MINFO)
/// runs in it.
pub fn boundary<T>(f: impl FnOnce() -> T, on_panic: impl FnOnce(String) -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let text = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        on_panic(text)
    })
}

/// [`boundary`] for a method that throws: a panic becomes a `TikiTokens\Exception`
/// ("internal error: …") instead of ext-php-rs' generic `\Error`.
pub fn guard<T>(f: impl FnOnce() -> PhpResult<T>) -> PhpResult<T> {
    boundary(f, |text| {
        Err(PhpException::from_class::<BaseException>(php_message(
            &format!("tiki_tokens internal error: {text}"),
        )))
    })
}

/// Adds the exception classes to the module, base class first.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .class::<BaseException>()
        .class::<ConfigException>()
        .class::<DatabaseException>()
        .class::<SchemaException>()
        .class::<InvalidInputException>()
}
