//! Exit codes scripts can use, and the failure of a command: a code and a message that never
//! holds a password or a secret.

use tiki_tokens::Error;

/// The exit codes of the command (also listed in `--help` and the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done; the doctor found no problem.
    Ok = 0,
    /// Not found (unknown id or token), or the doctor found a problem.
    Problem = 1,
    /// Bad usage or bad input (a malformed URL, a value too wide for its column): nothing
    /// written.
    Usage = 2,
    /// No database configured, or a configuration that cannot be used.
    Config = 3,
    /// The database cannot be reached, or a statement failed.
    Database = 4,
    /// The table is missing or lacks a required column.
    Schema = 5,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// A stable name for `--json` output.
    pub fn kind(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Problem => "not_found",
            Exit::Usage => "invalid_input",
            Exit::Config => "config",
            Exit::Database => "database",
            Exit::Schema => "schema",
        }
    }
}

/// The `--help` text on exit codes.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done (doctor: no problem found)
  1  not found: unknown id or token (doctor: a problem found)
  2  bad usage or bad input, e.g. a malformed URL (nothing written)
  3  no database configured, or a configuration that cannot be used
  4  the database cannot be reached, or a statement failed
  5  the table tiki_auth_tokens is missing or lacks a column";

/// Why a command stopped.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, for the admin.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let exit = match &e {
            Error::Config(_) => Exit::Config,
            Error::Database(_) => Exit::Database,
            Error::Schema(_) => Exit::Schema,
            _ => Exit::Usage,
        };
        Self::new(exit, e.to_string())
    }
}
