//! The whole request, not only (entry, `$_GET`) (SPEC section 8): what else PHP read from the
//! request, and whether a token may grant a request that carries it.
//!
//! A token binds the entry and `$_GET`. PHP and Tiki read more: `$_POST` overrides `$_GET` in
//! `$_REQUEST` (which Tiki pages read); cookies do too when `request_order` (or, while it is
//! unset, `variables_order`) lets them in; and PHP silently drops query variables past
//! `max_input_vars`, so `QUERY_STRING` can carry more than `$_GET` shows. Each rule below is a
//! denial with a reason of its own:
//!
//! 1. **Dropped input** (`dropped_input`): the query string held more variables than PHP kept,
//!    counted as PHP counts them towards `max_input_vars` ([`count_query_vars`]).
//! 2. **Token source** (`token_not_in_query`): the token PHP used must be the query string's
//!    `TOKEN` — not a cookie's, not the POST body's. One exception: a POST to Tiki's upload
//!    script, whose own upload form sends the token as a hidden form field.
//! 3. **Cookies** (`cookie_override`): when cookies reach `$_REQUEST`, no cookie may have the
//!    (top-level, PHP-mangled) name of a bound parameter or `TOKEN`. Other cookies (a session
//!    id, Tiki's own cookies) are fine: sites always send them.
//! 4. **Method** (`method_not_allowed`, [`allow_method`], judged with the token's row): GET and
//!    HEAD; POST only for a token minted to allow it (the flag `allowPost` in the row's `data`)
//!    or bound to Tiki's upload script (`…/tiki-upload_file.php`, Tiki's one POST use of tokens,
//!    minted by Tiki code that knows no flag); any other method never.
//!
//! Rules 1–3 need no row and are checked by [`RequestFacts::check`] before any database round
//! trip; rule 4 needs the row and is checked by the store after the binding check and before the
//! hit is consumed, so a denied POST costs no hit.
//!
//! Pure: the facts come in as bytes (the PHP binding reads them from the SAPI and PHP's own
//! globals); nothing here knows PHP or MySQL.

use crate::canon::query::{QueryLimits, parse_query};
use crate::canon::{Key, Params, PhpArray, TOKEN_PARAM, Value, json, take_token};
use crate::error::{Denial, DenialReason, Error};

/// The key of the row's `data` JSON that marks a token minted to allow POST.
pub const ALLOW_POST_KEY: &[u8] = b"allowPost";

/// Tiki's upload script: the one entry where POST is Tiki's own use of tokens.
pub const UPLOAD_SCRIPT: &[u8] = b"tiki-upload_file.php";

/// What PHP saw of the current request, beyond the entry and `$_GET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    /// `REQUEST_METHOD` as the SAPI gave it (empty when it gave none).
    pub method: Vec<u8>,
    /// The raw query string PHP built `$_GET` from (`QUERY_STRING`).
    pub query_string: Vec<u8>,
    /// The top-level names of `$_COOKIE`, as PHP mangled them (`a.b` → `a_b`, `a[x]` → `a`);
    /// integer keys as their decimal text.
    pub cookie_names: Vec<Vec<u8>>,
    /// Cookies reach `$_REQUEST` ([`cookies_reach_request`]).
    pub cookies_in_request: bool,
    /// `max_input_vars`.
    pub max_input_vars: i64,
    /// `arg_separator.input`: the bytes PHP splits the query string on (default `&`).
    pub arg_separators: Vec<u8>,
    /// The `TOKEN` field of the POST body as PHP parsed it, when it is a string.
    pub post_token: Option<Vec<u8>>,
}

impl Default for RequestFacts {
    /// A GET with an empty query, no cookies and PHP's default limits.
    fn default() -> Self {
        Self {
            method: b"GET".to_vec(),
            query_string: Vec::new(),
            cookie_names: Vec::new(),
            cookies_in_request: false,
            max_input_vars: 1000,
            arg_separators: b"&".to_vec(),
            post_token: None,
        }
    }
}

/// Whether cookies reach `$_REQUEST`, PHP's rule (`php_auto_globals_create_request`): the
/// letters of `request_order` when it is set — even to the empty string, which leaves
/// `$_REQUEST` empty — else those of `variables_order`; a `C` or `c` lets cookies in.
#[must_use]
pub fn cookies_reach_request(request_order: Option<&[u8]>, variables_order: &[u8]) -> bool {
    request_order
        .unwrap_or(variables_order)
        .iter()
        .any(|b| b.eq_ignore_ascii_case(&b'c'))
}

/// Whether a PHP SAPI serves HTTP requests. The command line (`cli`, `phpdbg`, `embed`) has no
/// request to bind; every other SAPI (`cli-server`, `fpm-fcgi`, `apache2handler`, `cgi-fcgi`,
/// …) has, and a request it describes without a method is denied.
#[must_use]
pub fn sapi_serves_http(sapi_name: &[u8]) -> bool {
    !matches!(sapi_name, b"cli" | b"phpdbg" | b"embed")
}

/// The number of variables PHP counts in a query string towards `max_input_vars`
/// (`php_default_treat_data`): the pieces between separator bytes, empty pieces (`&&`) skipped,
/// every other piece counted — also one whose name PHP then drops (`=x`). The query is a C
/// string to PHP: a NUL byte ends it.
#[must_use]
pub fn count_query_vars(query: &[u8], separators: &[u8]) -> u64 {
    let end = query.iter().position(|&b| b == 0).unwrap_or(query.len());
    let is_separator = |b: &u8| separators.contains(b);
    let pieces = query[..end].split(is_separator).filter(|p| !p.is_empty());
    // At most one piece per byte: the count fits.
    u64::try_from(pieces.count()).unwrap_or(u64::MAX)
}

/// True when PHP dropped query variables: more pieces than `max_input_vars`.
#[must_use]
pub fn query_vars_dropped(query: &[u8], separators: &[u8], max_input_vars: i64) -> bool {
    let count = count_query_vars(query, separators);
    i64::try_from(count).map_or(true, |c| c > max_input_vars)
}

impl RequestFacts {
    /// The rules that need no row (1–3 of the module docs), for a request presenting `token`
    /// for `entry` with `params` (`$_GET` without `TOKEN`, or what the caller checks instead of
    /// it, e.g. with a POSTed `galleryId` for an upload).
    ///
    /// # Errors
    /// A [`DenialReason::DroppedInput`], [`DenialReason::TokenNotInQuery`] or
    /// [`DenialReason::CookieOverride`] denial; its detail never holds the token.
    pub fn check(&self, token: &[u8], entry: &[u8], params: &Params) -> Result<(), Denial> {
        self.all_input_kept()?;
        self.token_from_query(token, entry)?;
        self.no_cookie_over(params)
    }

    fn all_input_kept(&self) -> Result<(), Denial> {
        if !query_vars_dropped(
            &self.query_string,
            &self.arg_separators,
            self.max_input_vars,
        ) {
            return Ok(());
        }
        Err(Denial::new(
            DenialReason::DroppedInput,
            format!(
                "the query string holds {} variables, PHP kept only max_input_vars = {}: \
                 QUERY_STRING carries more than $_GET shows",
                count_query_vars(&self.query_string, &self.arg_separators),
                self.max_input_vars
            ),
        ))
    }

    /// The token PHP used is the query string's `TOKEN` (or, for a POST to the upload script,
    /// the POST body's).
    fn token_from_query(&self, token: &[u8], entry: &[u8]) -> Result<(), Denial> {
        let mut get = parse_query(&self.query_for_parsing(), unbounded());
        let in_query = take_token(&mut get);
        if matches!(&in_query, Some(Value::Str(t)) if t == token) {
            return Ok(());
        }
        let from_body = self.post_token.as_deref() == Some(token);
        if from_body && self.method == b"POST" && is_upload_entry(entry) {
            return Ok(());
        }
        let query_has = match in_query {
            None => "no TOKEN",
            Some(Value::Str(_)) => "another TOKEN",
            Some(_) => "a TOKEN that is not a string",
        };
        let came_from = if from_body {
            "the POST body"
        } else if self.cookie_names.iter().any(|n| n == TOKEN_PARAM) {
            "a cookie"
        } else {
            "outside the query string"
        };
        Err(Denial::new(
            DenialReason::TokenNotInQuery,
            format!("the token came from {came_from}; the query string holds {query_has}"),
        ))
    }

    /// The query with every separator byte turned into `&`, the one separator of the parser.
    fn query_for_parsing(&self) -> Vec<u8> {
        if self.arg_separators == b"&" {
            return self.query_string.clone();
        }
        self.query_string
            .iter()
            .map(|b| {
                if self.arg_separators.contains(b) {
                    b'&'
                } else {
                    *b
                }
            })
            .collect()
    }

    fn no_cookie_over(&self, params: &Params) -> Result<(), Denial> {
        if !self.cookies_in_request {
            return Ok(());
        }
        let over = self
            .cookie_names
            .iter()
            .find(|n| n.as_slice() == TOKEN_PARAM || params.get(&Key::from_bytes(n)).is_some());
        match over {
            None => Ok(()),
            Some(name) => Err(Denial::new(
                DenialReason::CookieOverride,
                format!(
                    "a cookie named {:?} reaches $_REQUEST (request_order/variables_order) and \
                     would override the {} there",
                    shown(name),
                    if name.as_slice() == TOKEN_PARAM {
                        "token"
                    } else {
                        "bound parameter"
                    }
                ),
            )),
        }
    }
}

/// PHP's nesting limit with no limit on the number of variables: [`RequestFacts::check`] counts
/// those itself, first.
fn unbounded() -> QueryLimits {
    QueryLimits {
        max_input_vars: usize::MAX,
        ..QueryLimits::default()
    }
}

/// True for Tiki's upload script: `tiki-upload_file.php` as the whole entry or its last segment.
#[must_use]
pub fn is_upload_entry(entry: &[u8]) -> bool {
    entry == UPLOAD_SCRIPT
        || (entry.ends_with(UPLOAD_SCRIPT)
            && entry[..entry.len() - UPLOAD_SCRIPT.len()].ends_with(b"/"))
}

/// Rule 4, with the token's row: may a request with `method` use the token `token_id` bound to
/// `entry`, whose `data` column holds `data`?
///
/// # Errors
/// A [`DenialReason::MethodNotAllowed`] denial.
pub fn allow_method(
    token_id: i64,
    method: &[u8],
    entry: &[u8],
    data: Option<&[u8]>,
) -> Result<(), Denial> {
    let why = match method {
        b"GET" | b"HEAD" => return Ok(()),
        b"POST" if is_upload_entry(entry) || data_allows_post(data) => return Ok(()),
        b"POST" => "POST needs a token minted with allowPost (or bound to tiki-upload_file.php)",
        _ => "only GET, HEAD and (where allowed) POST are ever granted",
    };
    Err(Denial::new(
        DenialReason::MethodNotAllowed,
        format!("token {token_id}: method {:?}: {why}", shown(method)),
    ))
}

/// True when the row's `data` JSON holds `allowPost: true`.
#[must_use]
pub fn data_allows_post(data: Option<&[u8]>) -> bool {
    let Some(Ok(Value::Array(data))) = data.map(json::decode) else {
        return false;
    };
    matches!(
        data.get(&Key::Str(ALLOW_POST_KEY.to_vec())),
        Some(Value::Bool(true))
    )
}

/// The `data` JSON to store for a new token: the caller's `data` (JSON text) as it is, or with
/// `allowPost: true` merged in when the token is to allow POST.
///
/// # Errors
/// [`Error::InvalidInput`] when `data` is not JSON, holds an `allowPost` key of its own (the flag
/// is this option's, not the caller's data), or is a JSON scalar that cannot take the flag.
pub fn data_to_store(data: Option<&str>, allow_post: bool) -> Result<Option<String>, Error> {
    let decoded = match data {
        None => None,
        Some(text) => Some(
            json::decode(text.as_bytes())
                .map_err(|e| Error::InvalidInput(format!("data must be JSON text: {e}")))?,
        ),
    };
    let flag = Key::Str(ALLOW_POST_KEY.to_vec());
    if let Some(Value::Array(a)) = &decoded
        && a.get(&flag).is_some()
    {
        return Err(Error::InvalidInput(
            "data must not hold the key allowPost: it is the extension's POST flag, set with \
             the allowPost option"
                .into(),
        ));
    }
    if !allow_post {
        return Ok(data.map(str::to_string));
    }
    let mut merged = match decoded {
        None => PhpArray::new(),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(Error::InvalidInput(
                "data must be an array (a JSON object or list) to take allowPost".into(),
            ));
        }
    };
    merged.insert(flag, Value::Bool(true));
    Ok(Some(json::encode_value(&Value::Array(merged))?))
}

/// Request bytes for a log line: lossy UTF-8, at most 40 characters.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    Key::from_bytes(k.as_bytes()),
                    Value::Str(v.as_bytes().to_vec()),
                )
            })
            .collect()
    }

    fn facts(query: &str) -> RequestFacts {
        RequestFacts {
            query_string: query.as_bytes().to_vec(),
            ..RequestFacts::default()
        }
    }

    fn reason(r: Result<(), Denial>) -> Option<&'static str> {
        r.err().map(|d| d.reason.as_str())
    }

    const Q: &str = "page=Home&TOKEN=0123456789abcdef0123456789abcdef";

    #[test]
    fn a_plain_get_passes() {
        let home = params(&[("page", "Home")]);
        assert_eq!(
            reason(facts(Q).check(TOKEN, b"/tiki-index.php", &home)),
            None
        );
    }

    #[test]
    fn counts_as_php_counts() {
        assert_eq!(count_query_vars(b"", b"&"), 0);
        assert_eq!(count_query_vars(b"a=1&b=2", b"&"), 2);
        assert_eq!(
            count_query_vars(b"&&a=1&&&b&", b"&"),
            2,
            "empty pieces do not count"
        );
        assert_eq!(count_query_vars(b"=x&=y&a", b"&"), 3, "empty names count");
        assert_eq!(count_query_vars(b"a=1;b=2&c", b"&;"), 3);
        assert_eq!(count_query_vars(b"a=1;b=2", b"&"), 1);
        assert_eq!(
            count_query_vars(b"a=1&b\0&c&d", b"&"),
            2,
            "NUL ends the query"
        );
        assert!(!query_vars_dropped(b"a&b", b"&", 2));
        assert!(query_vars_dropped(b"a&b&c", b"&", 2));
        assert!(query_vars_dropped(b"a", b"&", 0));
    }

    #[test]
    fn dropped_input_is_denied() {
        let mut q = String::from(Q);
        q.push_str(&"&=x".repeat(998));
        let home = params(&[("page", "Home")]);
        assert_eq!(
            reason(facts(&q).check(TOKEN, b"/i.php", &home)),
            None,
            "1000 pieces"
        );
        q.push_str("&page=Evil");
        let d = facts(&q).check(TOKEN, b"/i.php", &home).unwrap_err();
        assert_eq!(d.reason, DenialReason::DroppedInput);
        assert!(d.detail.contains("1001"), "{}", d.detail);
        let limited = RequestFacts {
            max_input_vars: 2,
            ..facts(Q)
        };
        assert_eq!(reason(limited.check(TOKEN, b"/i.php", &home)), None);
        let semicolons = RequestFacts {
            max_input_vars: 2,
            arg_separators: b"&;".to_vec(),
            ..facts(&format!("{Q};x=1"))
        };
        assert_eq!(
            reason(semicolons.check(TOKEN, b"/i.php", &home)),
            Some("dropped_input")
        );
    }

    #[test]
    fn the_token_must_come_from_the_query() {
        let home = params(&[("page", "Home")]);
        let none = facts("page=Home");
        let d = none.check(TOKEN, b"/i.php", &home).unwrap_err();
        assert_eq!(d.reason, DenialReason::TokenNotInQuery);
        assert!(!d.detail.contains("0123456789abcdef"), "no token in logs");
        let other = facts("page=Home&TOKEN=ffffffffffffffffffffffffffffffff");
        assert_eq!(
            reason(other.check(TOKEN, b"/i.php", &home)),
            Some("token_not_in_query")
        );
        let array = facts("page=Home&TOKEN[]=0123456789abcdef0123456789abcdef");
        assert_eq!(
            reason(array.check(TOKEN, b"/i.php", &home)),
            Some("token_not_in_query")
        );
        // PHP's own mangling finds the token: leading spaces, a NUL ending the name.
        for q in [
            "page=Home&%20TOKEN=0123456789abcdef0123456789abcdef",
            "page=Home&TOKEN%00x=0123456789abcdef0123456789abcdef",
            "page=Home;TOKEN=0123456789abcdef0123456789abcdef",
        ] {
            let f = RequestFacts {
                arg_separators: b"&;".to_vec(),
                ..facts(q)
            };
            assert_eq!(reason(f.check(TOKEN, b"/i.php", &home)), None, "{q}");
        }
        let body = RequestFacts {
            method: b"POST".to_vec(),
            post_token: Some(TOKEN.to_vec()),
            ..facts("page=Home")
        };
        let d = body.check(TOKEN, b"/i.php", &home).unwrap_err();
        assert!(d.detail.contains("POST body"), "{}", d.detail);
        // Tiki's upload form sends the token as a form field.
        let gallery = params(&[("galleryId", "5")]);
        assert_eq!(
            reason(body.check(TOKEN, b"/tiki/tiki-upload_file.php", &gallery)),
            None
        );
        let get_upload = RequestFacts {
            method: b"GET".to_vec(),
            ..body.clone()
        };
        assert_eq!(
            reason(get_upload.check(TOKEN, b"/tiki-upload_file.php", &gallery)),
            Some("token_not_in_query")
        );
    }

    #[test]
    fn cookies_over_bound_names_are_denied_when_they_reach_request() {
        let home = params(&[("page", "Home"), ("1", "x")]);
        let with = |names: &[&str], reach: bool| RequestFacts {
            cookie_names: names.iter().map(|n| n.as_bytes().to_vec()).collect(),
            cookies_in_request: reach,
            ..facts(&format!("{Q}&1=x"))
        };
        for names in [&["page"][..], &["TOKEN"], &["PHPSESSID", "1"]] {
            let d = with(names, true)
                .check(TOKEN, b"/i.php", &home)
                .unwrap_err();
            assert_eq!(d.reason, DenialReason::CookieOverride, "{names:?}");
            assert_eq!(
                reason(with(names, false).check(TOKEN, b"/i.php", &home)),
                None
            );
        }
        let unrelated = with(
            &["PHPSESSID", "tiki_cookie_jar", "javascript_enabled", "Page"],
            true,
        );
        assert_eq!(reason(unrelated.check(TOKEN, b"/i.php", &home)), None);
    }

    #[test]
    fn cookies_reach_request_as_php_decides() {
        assert!(
            cookies_reach_request(None, b"EGPCS"),
            "PHP's built-in default"
        );
        assert!(!cookies_reach_request(Some(b"GP"), b"EGPCS"));
        assert!(
            !cookies_reach_request(Some(b""), b"EGPCS"),
            "set but empty: $_REQUEST is empty"
        );
        assert!(cookies_reach_request(Some(b"gpc"), b"GP"));
        assert!(!cookies_reach_request(None, b"GPS"));
    }

    #[test]
    fn methods() {
        let allow = |m: &str, entry: &str, data: Option<&str>| {
            allow_method(7, m.as_bytes(), entry.as_bytes(), data.map(str::as_bytes))
        };
        for m in ["GET", "HEAD"] {
            assert!(allow(m, "/tiki-index.php", None).is_ok());
        }
        let d = allow("POST", "/tiki-index.php", None).unwrap_err();
        assert_eq!(d.reason, DenialReason::MethodNotAllowed);
        assert!(d.detail.contains("token 7"), "{}", d.detail);
        assert!(allow("POST", "/tiki-index.php", Some(r#"{"allowPost":true}"#)).is_ok());
        assert!(allow("POST", "/tiki/tiki-upload_file.php", None).is_ok());
        assert!(allow("POST", "tiki-upload_file.php", None).is_ok());
        assert!(allow("POST", "/my-tiki-upload_file.php", None).is_err());
        for data in [
            r#"{"allowPost":1}"#,
            r#"{"allowPost":"true"}"#,
            "[true]",
            "not json",
        ] {
            assert!(allow("POST", "/i.php", Some(data)).is_err(), "{data}");
        }
        for m in ["PUT", "DELETE", "post", "get", "OPTIONS", ""] {
            assert!(
                allow(m, "/tiki-upload_file.php", Some(r#"{"allowPost":true}"#)).is_err(),
                "{m}"
            );
        }
    }

    #[test]
    fn the_flag_is_merged_into_data() {
        assert_eq!(data_to_store(None, false).unwrap(), None);
        assert_eq!(
            data_to_store(None, true).unwrap().as_deref(),
            Some(r#"{"allowPost":true}"#)
        );
        assert_eq!(
            data_to_store(Some(r#"{"a":"b"}"#), true)
                .unwrap()
                .as_deref(),
            Some(r#"{"a":"b","allowPost":true}"#)
        );
        assert_eq!(
            data_to_store(Some("[1]"), false).unwrap().as_deref(),
            Some("[1]")
        );
        assert!(data_to_store(Some(r#"{"allowPost":true}"#), false).is_err());
        assert!(data_to_store(Some(r#"{"allowPost":false}"#), true).is_err());
        assert!(data_to_store(Some("5"), true).is_err());
        assert!(data_to_store(Some("{"), false).is_err());
        assert!(data_allows_post(Some(br#"{"a":"b","allowPost":true}"#)));
    }

    #[test]
    fn sapis() {
        assert!(!sapi_serves_http(b"cli"));
        assert!(sapi_serves_http(b"cli-server"));
        assert!(sapi_serves_http(b"fpm-fcgi"));
        assert!(sapi_serves_http(b"apache2handler"));
    }
}
