//! A full URL (pasted into Tiki's admin form, or passed to `includeToken`) → its parts.
//!
//! The URL is first read the way a browser reads it (the `url` crate implements the WHATWG URL
//! standard): tabs and newlines vanish, `\` counts as `/` in the path, bytes that a request line
//! cannot carry are percent-encoded, dot segments are resolved. The entry and params are then
//! computed from that normalised path and query, i.e. from exactly what a browser sends for the
//! URL and what the web server and PHP then decode (`tests/php_oracle.rs` requests each such URL
//! from PHP's built-in server and compares `PHP_SELF` and `$_GET`).

use super::path::entry_from_url_path;
use super::query::{QueryLimits, parse_query};
use super::take_token;
use super::tree::Params;

/// A URL split into what a token binds (entry, params) and what it does not (the rest, kept only
/// to rebuild the URL).
#[derive(Clone, Debug, PartialEq)]
pub struct SplitUrl {
    /// `scheme://host[:port]` (user info dropped), or empty for a path-only URL (`/tiki/x.php?…`).
    pub origin: String,
    /// The path as it must be written back into a URL (still percent-encoded).
    pub raw_path: String,
    /// The entry bound by a token: [`super::path::entry_from_url_path`] of the path.
    pub entry: Vec<u8>,
    /// The params bound by a token: [`super::query::parse_query`] of the query, `TOKEN` removed.
    pub params: Params,
    /// The fragment without `#`, if any.
    pub fragment: Option<String>,
}

/// Why a URL cannot be split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError(pub String);

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot use this URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

/// Splits a full URL. Accepts `http`/`https` absolute URLs and path-absolute URLs (`/…`); bytes
/// that are not UTF-8 are percent-encoded first (lossless: they are decoded once again later).
///
/// # Errors
/// A URL that cannot be parsed, has another scheme, or no path: a clear error, never a guess.
pub fn split_url(url: &[u8]) -> Result<SplitUrl, UrlError> {
    let parsed = parse(url)?;
    let u = &parsed.url;
    let entry = entry_from_url_path(u.path().as_bytes());
    if entry.contains(&0) {
        return Err(UrlError(
            "the path holds an encoded NUL byte (%00), which no web server passes to PHP".into(),
        ));
    }
    let mut params = parse_query(u.query().unwrap_or("").as_bytes(), QueryLimits::default());
    take_token(&mut params);
    let origin = if parsed.path_only {
        String::new()
    } else {
        let host = u.host_str().unwrap_or("");
        match u.port() {
            Some(port) => format!("{}://{host}:{port}", u.scheme()),
            None => format!("{}://{host}", u.scheme()),
        }
    };
    Ok(SplitUrl {
        origin,
        raw_path: u.path().to_owned(),
        entry,
        params,
        fragment: u.fragment().map(str::to_owned),
    })
}

/// The request target (path, and `?query` when the URL has one) that a browser sends for this
/// URL: what the web server and PHP decode into `PHP_SELF` and `$_GET`. Useful to show an admin
/// what a token is really bound to, and to test [`split_url`] against a real server.
///
/// # Errors
/// As [`split_url`].
pub fn request_target(url: &[u8]) -> Result<String, UrlError> {
    let parsed = parse(url)?;
    let u = &parsed.url;
    Ok(match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    })
}

/// The path-only link of a token bound to `entry` and `params`:
/// `url_path(entry) + '?' + http_build_query(params) + '&TOKEN=' + token` (no `&` before
/// `TOKEN` when there are no params), the shape [`crate::store::Store::include_token`] gives
/// for a path-only URL. Requesting it (below the site's origin) presents exactly `entry` and
/// `params`.
#[must_use]
pub fn entry_link(entry: &[u8], params: &Params, token: &str) -> String {
    let query = super::http_query::build_query(params);
    let mut out = super::path::url_path_of_entry(entry);
    out.push('?');
    if !query.is_empty() {
        out.push_str(&query);
        out.push('&');
    }
    out.push_str("TOKEN=");
    out.push_str(token);
    out
}

/// A URL as the WHATWG parser normalised it.
struct Parsed {
    url: url::Url,
    /// The input was path-absolute (`/…`); `url` carries a placeholder origin.
    path_only: bool,
}

/// Placeholder origin for path-only URLs; never shown.
const PATH_ONLY_BASE: &str = "http://path-only.invalid/";

fn parse(input: &[u8]) -> Result<Parsed, UrlError> {
    let text = utf8_lossless(input);
    // What the WHATWG parser ignores anyway: tabs and newlines anywhere, C0 controls and spaces
    // at both ends. Removing them here lets us see how the URL really starts.
    let text: String = text
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let text = text.trim_matches(|c: char| c <= ' ');
    if text.is_empty() {
        return Err(UrlError("the URL is empty".into()));
    }
    let path_only = text.starts_with('/');
    let url = if path_only {
        if text[1..].starts_with(['/', '\\']) {
            return Err(UrlError(format!(
                "{text:?} starts with two slashes, which names a host: give the full URL (https://host/path) or a path with one leading slash"
            )));
        }
        let base = url::Url::parse(PATH_ONLY_BASE).map_err(|e| UrlError(e.to_string()))?;
        base.join(text)
            .map_err(|e| UrlError(format!("{text:?}: {e}")))?
    } else {
        url::Url::parse(text).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => UrlError(format!(
                "{text:?} is relative: give the full URL (https://host/path) or a path starting with /"
            )),
            other => UrlError(format!("{text:?}: {other}")),
        })?
    };
    if !path_only {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlError(format!(
                "scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(UrlError(format!("{text:?} has no host")));
        }
    }
    Ok(Parsed { url, path_only })
}

/// The input as a `String`: valid UTF-8 kept, every other byte percent-encoded (`%FF`), so that
/// decoding gives back the original bytes.
fn utf8_lossless(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len());
    for chunk in input.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canon::{Key, PhpArray, Value};

    fn k(s: &str) -> Key {
        Key::from_bytes(s.as_bytes())
    }
    fn s(v: &str) -> Value {
        Value::Str(v.as_bytes().to_vec())
    }

    #[test]
    fn an_entry_link_presents_its_entry_and_params() {
        let u = split_url(
            b"/my%20dir/x.php?separator=%2C&CR=%25%25%25&listfields[]=2&listfields[]=3&p=Caf%C3%A9",
        )
        .unwrap();
        let link = entry_link(&u.entry, &u.params, "abc");
        assert!(link.ends_with("&TOKEN=abc"), "{link}");
        let back = split_url(link.as_bytes()).unwrap();
        assert_eq!(back.entry, u.entry);
        assert_eq!(back.params, u.params);
        assert_eq!(
            entry_link(b"/x.php", &PhpArray::new(), "t"),
            "/x.php?TOKEN=t"
        );
    }

    #[test]
    fn splits_a_full_url() {
        let u = split_url(
            b"https://user:pw@Example.COM:8443/tiki/tiki-index.php?page=Home%2cPage&TOKEN=abc#top",
        )
        .unwrap();
        assert_eq!(u.origin, "https://example.com:8443");
        assert_eq!(u.raw_path, "/tiki/tiki-index.php");
        assert_eq!(u.entry, b"/tiki/tiki-index.php");
        assert_eq!(u.params.len(), 1);
        assert_eq!(u.params.get(&k("page")), Some(&s("Home,Page")));
        assert_eq!(u.fragment.as_deref(), Some("top"));
    }

    #[test]
    fn default_port_is_dropped_and_path_only_has_no_origin() {
        assert_eq!(split_url(b"http://h:80/x.php").unwrap().origin, "http://h");
        let u = split_url(b"/tiki/x.php?a=1").unwrap();
        assert_eq!(u.origin, "");
        assert_eq!(u.entry, b"/tiki/x.php");
        assert_eq!(u.params.get(&k("a")), Some(&s("1")));
    }

    #[test]
    fn path_is_normalised_as_a_browser_sends_it() {
        let u = split_url(b"http://h/tiki/./a/../b\\c%20d.php?x").unwrap();
        assert_eq!(u.raw_path, "/tiki/b/c%20d.php");
        assert_eq!(u.entry, b"/tiki/b/c d.php");
        assert_eq!(
            request_target(b"http://h/a b.php?q=\"x y\"#f").unwrap(),
            "/a%20b.php?q=%22x%20y%22"
        );
    }

    #[test]
    fn invalid_utf8_survives() {
        let u = split_url(b"http://h/\xff.php?\xfe=\xfd").unwrap();
        assert_eq!(u.raw_path, "/%FF.php");
        assert_eq!(u.entry, b"/\xff.php");
        assert_eq!(
            u.params.get(&Key::Str(vec![0xfe])),
            Some(&Value::Str(vec![0xfd]))
        );
    }

    #[test]
    fn refuses_what_it_cannot_bind() {
        for bad in [
            &b""[..],
            b"   ",
            b"ftp://h/x.php",
            b"javascript:alert(1)",
            b"http://",
            b"http:///",
            b"tiki-index.php?page=x",
            b"//evil.example/x.php",
            b"/\\evil.example/x.php",
            b"/x%00.php",
            b"http://a b/x.php",
        ] {
            assert!(
                split_url(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest::proptest! {
        /// Any bytes: an answer (split or error), never a panic; a split URL's entry is an
        /// absolute path without NUL.
        #[test]
        fn total_on_any_bytes(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            for prefix in [&b""[..], b"http://h", b"https://h:8/", b"/"] {
                let mut url = prefix.to_vec();
                url.extend_from_slice(&tail);
                if let Ok(u) = split_url(&url) {
                    proptest::prop_assert!(u.entry.starts_with(b"/"));
                    proptest::prop_assert!(!u.entry.contains(&0));
                    proptest::prop_assert!(request_target(&url).is_ok());
                }
            }
        }
    }
}
