//! One error enum for everything that can fail, and the reason carried by every denial.

use std::fmt;

/// Why a lookup did not grant access (SPEC section 3 step 9). Logs and tests see the reason; a
/// visitor only ever sees [`VISITOR_MESSAGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenialReason {
    /// Not a string, wrong length or a non-hex character: refused before any database round trip.
    Malformed,
    /// No row holds this token value.
    Unknown,
    /// A row holds this value but it is not the MD5/HMAC of the row (row altered, or the secret
    /// rotated).
    BadSignature,
    /// The token timed out (database clock).
    Expired,
    /// The token has no hits left.
    Exhausted,
    /// The request is for another script than the token's entry.
    EntryMismatch,
    /// The request's parameters are not exactly the token's.
    ParamsMismatch,
    /// Another request consumed the last hit between our read and our update.
    LostRace,
    /// The database could not be reached or a statement failed: fail closed.
    DatabaseError,
    /// The lookup itself failed (a caught panic): fail closed.
    InternalError,
    /// The token verified and was usable but grants no groups. The core reports such a lookup
    /// as a grant of no groups; Tiki's API (`AuthTokens::getGroups`) turns it into this denial,
    /// as Tiki does.
    NoGroups,
    /// The request's method is not one the token may serve: only GET and HEAD, and POST for a
    /// token minted with `allowPost` or bound to Tiki's upload script (SPEC section 8).
    MethodNotAllowed,
    /// A cookie that reaches `$_REQUEST` has the name of a bound parameter or of `TOKEN`.
    CookieOverride,
    /// The query string held more variables than PHP kept (`max_input_vars`).
    DroppedInput,
    /// The token PHP used did not come from the query string (a cookie, the POST body).
    TokenNotInQuery,
}

impl DenialReason {
    /// A stable lower-case name for logs, tests and the PHP API (`"bad_signature"`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DenialReason::Malformed => "malformed",
            DenialReason::Unknown => "unknown",
            DenialReason::BadSignature => "bad_signature",
            DenialReason::Expired => "expired",
            DenialReason::Exhausted => "exhausted",
            DenialReason::EntryMismatch => "entry_mismatch",
            DenialReason::ParamsMismatch => "params_mismatch",
            DenialReason::LostRace => "lost_race",
            DenialReason::DatabaseError => "database_error",
            DenialReason::InternalError => "internal_error",
            DenialReason::NoGroups => "no_groups",
            DenialReason::MethodNotAllowed => "method_not_allowed",
            DenialReason::CookieOverride => "cookie_override",
            DenialReason::DroppedInput => "dropped_input",
            DenialReason::TokenNotInQuery => "token_not_in_query",
        }
    }

    /// Every reason, in the order above: the one list of reasons for logs, tests and the PHP
    /// API.
    pub const ALL: [DenialReason; 15] = [
        DenialReason::Malformed,
        DenialReason::Unknown,
        DenialReason::BadSignature,
        DenialReason::Expired,
        DenialReason::Exhausted,
        DenialReason::EntryMismatch,
        DenialReason::ParamsMismatch,
        DenialReason::LostRace,
        DenialReason::DatabaseError,
        DenialReason::InternalError,
        DenialReason::NoGroups,
        DenialReason::MethodNotAllowed,
        DenialReason::CookieOverride,
        DenialReason::DroppedInput,
        DenialReason::TokenNotInQuery,
    ];
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one message a visitor sees on any denial, as Tiki shows it.
pub const VISITOR_MESSAGE: &str = "Your access to this page has expired";

/// A denial: its reason and a detail for logs (never a secret, never the presented token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// Why.
    pub reason: DenialReason,
    /// What exactly, for logs (e.g. which parameter differed).
    pub detail: String,
}

impl Denial {
    /// A denial with a detail.
    pub fn new(reason: DenialReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            write!(f, "denied: {}", self.reason)
        } else {
            write!(f, "denied: {} ({})", self.reason, self.detail)
        }
    }
}

/// Everything else that can fail (creation, management, configuration).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Bad configuration: a DSN that does not parse, an option out of range.
    Config(String),
    /// The database failed (connection, statement, timeout). The text never holds a password.
    Database(String),
    /// The table is missing, lacks a required column, or has an unexpected shape.
    Schema(String),
    /// The caller's input cannot be stored or used (too wide for its column, not UTF-8 where the
    /// column needs it, a URL that does not parse, params no request can carry).
    InvalidInput(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "configuration error: {m}"),
            Error::Database(m) => write!(f, "database error: {m}"),
            Error::Schema(m) => write!(f, "schema error: {m}"),
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::canon::url::UrlError> for Error {
    fn from(e: crate::canon::url::UrlError) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

impl From<crate::canon::json::JsonError> for Error {
    fn from(e: crate::canon::json::JsonError) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
