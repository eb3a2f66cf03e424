//! URL path → entry: what the web server hands PHP as `PHP_SELF` for that path.
//!
//! The reference is PHP's own built-in web server (`php -S`, `normalize_vpath` in
//! `sapi/cli/cli_server/php_cli_server.c`), checked request by request in `tests/php_oracle.rs`:
//!
//! * the path is percent-decoded once, `+` stays `+`, an invalid `%` escape stays literal;
//! * `%2F` decodes to `/` like any other escape and then separates segments (nginx does the same;
//!   Apache's default `AllowEncodedSlashes Off` refuses such a request with 404, so no request
//!   can present an entry made this way there);
//! * runs of `/` collapse to one (Apache's `MergeSlashes On` default and nginx's
//!   `merge_slashes on` do the same);
//! * `.` segments vanish and `..` removes the segment before it, never climbing above `/`;
//! * a decoded NUL is kept in the entry: no web server passes such a path to PHP (`php -S`
//!   answers 400, Apache 404), so an entry holding one can never match a request. A full URL with
//!   one is refused by `url::split_url`.

use super::query::hex;

/// The entry for a raw URL path (as it appears in the URL, e.g. `/tiki/tiki%20index.php`):
/// percent-decoded once (`+` stays `+`; invalid escapes stay literal) and with `.` and `..`
/// segments resolved and runs of `/` collapsed, as PHP's built-in web server does.
#[must_use]
pub fn entry_from_url_path(raw_path: &[u8]) -> Vec<u8> {
    normalize(&raw_url_decode(raw_path))
}

/// The URL path a browser requests for `entry`: the inverse of [`entry_from_url_path`] for an
/// entry it produced. Every byte but ASCII letters, digits, `-._~` and `/` is percent-encoded
/// (`%XX`, upper case), so the web server's one decoding gives `entry` back byte for byte (a
/// space, `+`, `%`, `?`, `#` or a non-UTF-8 byte included).
#[must_use]
pub fn url_path_of_entry(entry: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(entry.len());
    for &b in entry {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

/// PHP's `php_raw_url_decode`: `%XX` (either case) → that byte, everything else (`+` included)
/// unchanged.
#[must_use]
pub fn raw_url_decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let mut b = raw[i];
        if b == b'%'
            && let (Some(hi), Some(lo)) =
                (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex))
        {
            b = hi << 4 | lo;
            i += 2;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// `normalize_vpath` of PHP's built-in server on an already decoded path, in one pass.
///
/// The output is built left to right; between segments it is empty, `/`, or ends with `/`.
fn normalize(d: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.len());
    let skip_slashes = |mut i: usize| {
        while i < d.len() && d[i] == b'/' {
            i += 1;
        }
        i
    };
    let mut i = 0;
    if d.first() == Some(&b'/') {
        out.push(b'/');
        i = skip_slashes(0);
    }
    while i < d.len() {
        let end = d[i..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(d.len(), |off| i + off);
        match &d[i..end] {
            b".." => {
                // Remove the last output segment (the output ends with `/` here); at the root
                // (or at the start of a relative path) there is nothing to remove.
                if !out.is_empty() {
                    let mut p = out.len() - 1;
                    loop {
                        if p == 0 {
                            if out[0] == b'/' {
                                p = 1;
                            }
                            break;
                        }
                        p -= 1;
                        if out[p] == b'/' {
                            p += 1;
                            break;
                        }
                    }
                    out.truncate(p);
                }
                i = skip_slashes(end);
            }
            b"." => i = skip_slashes(end),
            segment => {
                out.extend_from_slice(segment);
                if end < d.len() {
                    out.push(b'/');
                }
                i = skip_slashes(end);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(raw: &str) -> String {
        String::from_utf8(entry_from_url_path(raw.as_bytes())).unwrap()
    }

    // Each expectation below is the PHP_SELF that `php -n -S` (PHP 8.2) reported for the path
    // (see tests/php_oracle.rs, which re-checks them against the live server).
    #[test]
    fn an_entry_survives_its_url_path() {
        for e in [
            &b"/tiki/tiki-index.php"[..],
            b"/my dir/a+b%41?#.php",
            b"/caf\xc3\xa9/\xff.php",
            b"tiki-index.php",
        ] {
            let path = url_path_of_entry(e);
            assert!(path.is_ascii(), "{path}");
            assert_eq!(entry_from_url_path(path.as_bytes()), e, "{path}");
        }
        assert_eq!(url_path_of_entry(b"/a b+c.php"), "/a%20b%2Bc.php");
    }

    #[test]
    fn decodes_once_and_keeps_plus() {
        assert_eq!(entry("/tiki/a%20b.php"), "/tiki/a b.php");
        assert_eq!(entry("/tiki/a+b.php"), "/tiki/a+b.php");
        assert_eq!(entry("/%41%62.php"), "/Ab.php");
        assert_eq!(entry("/%2541.php"), "/%41.php");
        assert_eq!(entry("/a%zz%4.php%"), "/a%zz%4.php%");
    }

    #[test]
    fn resolves_dot_segments_without_climbing_above_root() {
        assert_eq!(entry("/sub/../index.php"), "/index.php");
        assert_eq!(entry("/sub/%2e%2E/index.php"), "/index.php");
        assert_eq!(entry("/sub/./x.php"), "/sub/x.php");
        assert_eq!(entry("/../../index.php"), "/index.php");
        assert_eq!(entry("/sub/x.php/extra/../y"), "/sub/x.php/y");
        assert_eq!(entry("/sub/x.php/."), "/sub/x.php/");
        assert_eq!(entry("/sub/x.php/.."), "/sub/");
        assert_eq!(entry("/.."), "/");
        assert_eq!(entry("/..."), "/...");
        assert_eq!(entry("/.a/..b/x.php"), "/.a/..b/x.php");
    }

    #[test]
    fn collapses_slashes_and_decodes_encoded_slash() {
        assert_eq!(entry("//sub//x.php"), "/sub/x.php");
        assert_eq!(entry("/sub%2Fx.php"), "/sub/x.php");
        assert_eq!(entry("/sub/x.php/p%2Fq"), "/sub/x.php/p/q");
        assert_eq!(entry("/a/%2e%2e%2fb.php"), "/b.php");
        assert_eq!(entry("/a//../b.php"), "/b.php");
    }

    #[test]
    fn keeps_nul_and_raw_bytes() {
        assert_eq!(entry_from_url_path(b"/x%00y.php"), b"/x\0y.php");
        assert_eq!(entry_from_url_path(b"/%FF\xfe.php"), b"/\xff\xfe.php");
        assert_eq!(entry("/a\\b.php"), "/a\\b.php");
    }

    #[test]
    fn total_on_odd_inputs() {
        assert_eq!(entry(""), "");
        assert_eq!(entry("/"), "/");
        assert_eq!(entry("a/../b"), "b");
        assert_eq!(entry("../b"), "b");
        assert_eq!(entry("a/b/../c"), "a/c");
    }

    #[test]
    fn linear_on_long_hostile_paths() {
        let raw = "/./..".repeat(50_000) + "/x.php";
        let start = std::time::Instant::now();
        assert_eq!(entry(&raw), "/x.php");
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    proptest::proptest! {
        /// Any bytes: no panic; and an entry without `%` (nothing left to decode) is already
        /// normal: no `.`/`..` segment, no `//` (normalising is idempotent).
        #[test]
        fn normal_form_is_stable(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let e = entry_from_url_path(&raw);
            if !e.contains(&b'%') {
                proptest::prop_assert_eq!(entry_from_url_path(&e), e);
            }
        }

        #[test]
        fn normal_form_is_stable_on_dot_soup(raw in "[/.a%2eE]{0,60}") {
            let e = entry_from_url_path(raw.as_bytes());
            if !e.contains(&b'%') {
                proptest::prop_assert_eq!(entry_from_url_path(&e), e.clone());
            }
            if raw.starts_with('/') {
                proptest::prop_assert!(e.starts_with(b"/"));
            }
        }
    }
}
