//! Tiki's custom routes (`feature_sefurl_routes = y`, table `tiki_custom_route`): which of them
//! would take a path before route.php's catch-all.
//!
//! Minting refuses such a path (the token would be checked on whatever the route serves or
//! redirects to, not on the wiki page the catch-all names). The test is therefore conservative:
//! when it cannot be sure a route does *not* match, it says the route may match.
//!
//! * `Direct` and `TikiObject` rows match when `from` equals the path byte for byte.
//! * `TrackerField` rows hold a PCRE (`/^item-(\d+)$/i`, `|…|`, `{…}`, …) that must match and
//!   capture group 1. It is translated into the `regex` crate's syntax where the two agree; any
//!   construct, flag or escape whose meaning could differ (look-around, back-references,
//!   `\v`, `\h`, `\Q…\E`, the `x` flag, nested classes, class set operators, `{,n}`, …) makes
//!   the translation fail, and a pattern that does not translate or compile **may match**.
//!   PCRE's `$` also matching before a final `\n` is covered by trying the path without that
//!   newline too; a path over 4 KiB may match (matching costs its length times the pattern's
//!   size); the `n` flag (no auto-capture) is ignored, and group 1 counts as captured
//!   when any group takes part in the match: both only widen what counts as a match.

use regex::bytes::{Regex, RegexBuilder};

/// The type of a custom route (`tiki_custom_route.type`), in the order Tiki tries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CustomRouteKind {
    /// `from` is a path; the route redirects to a URL.
    Direct,
    /// `from` is a path; the route serves or redirects to a Tiki object.
    TikiObject,
    /// `from` is a PCRE; group 1 names a tracker item by a field's value.
    TrackerField,
}

impl CustomRouteKind {
    /// The kind stored in `tiki_custom_route.type` (`Direct`, `TikiObject` or its older name
    /// `Object`, `TrackerField`); `None` for anything else.
    #[must_use]
    pub fn from_type_name(name: &[u8]) -> Option<Self> {
        match name {
            b"Direct" => Some(Self::Direct),
            b"TikiObject" | b"Object" => Some(Self::TikiObject),
            b"TrackerField" => Some(Self::TrackerField),
            _ => None,
        }
    }
}

/// One active row of `tiki_custom_route`: what matters to tell whether it takes a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomRoute {
    /// `tiki_custom_route.type`.
    pub kind: CustomRouteKind,
    /// `tiki_custom_route.from`: a path, or a PCRE for [`CustomRouteKind::TrackerField`].
    pub from: Vec<u8>,
}

/// A custom route that takes (or may take) a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomRouteMatch<'a> {
    /// The route matches the path.
    Matches(&'a CustomRoute),
    /// A `TrackerField` pattern this crate cannot evaluate exactly: counted as a match.
    MayMatch {
        /// The route.
        route: &'a CustomRoute,
        /// Why its pattern could not be evaluated.
        reason: String,
    },
}

/// The first of `routes` (tried in Tiki's order: `Direct`, `TikiObject`, `TrackerField`, each
/// in slice order) that takes `path`, route.php's `$path` on its way to the catch-all. `None`
/// for the empty path: route.php tries custom routes only for a non-empty one.
///
/// Pass only active rows, and none at all when `feature_sefurl_routes` is off.
#[must_use]
pub fn match_custom_routes<'a>(
    path: &[u8],
    routes: &'a [CustomRoute],
) -> Option<CustomRouteMatch<'a>> {
    if path.is_empty() {
        return None;
    }
    let mut ordered: Vec<&CustomRoute> = routes.iter().collect();
    ordered.sort_by_key(|r| r.kind);
    ordered.into_iter().find_map(|route| match route.kind {
        CustomRouteKind::Direct | CustomRouteKind::TikiObject => {
            (route.from == path).then_some(CustomRouteMatch::Matches(route))
        }
        CustomRouteKind::TrackerField if path.len() > TRACKER_FIELD_MAX_PATH => {
            Some(CustomRouteMatch::MayMatch {
                route,
                reason: format!("paths over {TRACKER_FIELD_MAX_PATH} bytes are not evaluated"),
            })
        }
        CustomRouteKind::TrackerField => match TrackerPattern::compile(&route.from) {
            Ok(pattern) => pattern
                .captures_group(path)
                .then_some(CustomRouteMatch::Matches(route)),
            Err(reason) => Some(CustomRouteMatch::MayMatch { route, reason }),
        },
    })
}

/// A `TrackerField` PCRE translated into a `regex` that matches at least what PCRE matches.
struct TrackerPattern {
    regex: Regex,
    /// PCRE's `$` also matches before a final `\n` (no `D`, no `m` modifier).
    dollar_before_final_newline: bool,
}

/// Limits on the compiled pattern: `from` is a `varchar(255)` in Tiki, so anything larger is
/// hostile; an oversized pattern fails to compile and then counts as "may match".
const REGEX_SIZE_LIMIT: usize = 1 << 18;
const REGEX_DFA_SIZE_LIMIT: usize = 1 << 21;

/// Longer paths are not run through `TrackerField` patterns: they may match. Matching with
/// captures costs the path length times the pattern's size, which a hostile pattern makes large
/// (a second for 64 KiB); no Tiki object name is this long (a wiki page name is at most 160).
const TRACKER_FIELD_MAX_PATH: usize = 4096;

impl TrackerPattern {
    fn compile(from: &[u8]) -> Result<Self, String> {
        let (body, flags) = split_delimiters(from)?;
        let f = Flags::parse(flags)?;
        let translated = translate(body, f.utf8)?;
        let source = if f.anchored {
            format!(r"\A(?:{translated})")
        } else {
            translated
        };
        let regex = RegexBuilder::new(&source)
            .unicode(f.utf8)
            .case_insensitive(f.caseless)
            .multi_line(f.multiline)
            .dot_matches_new_line(f.dotall)
            .swap_greed(f.ungreedy)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
            .build()
            .map_err(|e| format!("the pattern does not compile here: {e}"))?;
        Ok(Self {
            regex,
            dollar_before_final_newline: !f.dollar_endonly && !f.multiline,
        })
    }

    /// The pattern matches `subject` with some capture group taking part.
    fn captures_group(&self, subject: &[u8]) -> bool {
        let hit = |s: &[u8]| {
            self.regex
                .captures(s)
                .is_some_and(|c| c.iter().skip(1).any(|g| g.is_some()))
        };
        hit(subject)
            || (self.dollar_before_final_newline && subject.strip_suffix(b"\n").is_some_and(hit))
    }
}

/// PHP's delimiter rules (`pcre_get_compiled_regex_cache`): leading whitespace skipped; the
/// delimiter is any byte but alphanumerics, `\` and NUL; `(`, `[`, `{`, `<` close with their
/// bracket (nesting counted); a `\` skips the next byte. Returns (pattern, modifiers).
fn split_delimiters(from: &[u8]) -> Result<(&[u8], &[u8]), String> {
    // C's isspace: also the vertical tab, which `is_ascii_whitespace` leaves out.
    let start = from
        .iter()
        .position(|&b| !(b.is_ascii_whitespace() || b == 0x0B))
        .ok_or("empty pattern")?;
    let delimiter = from[start];
    if delimiter.is_ascii_alphanumeric() || delimiter == b'\\' || delimiter == 0 {
        return Err("PHP rejects this delimiter".into());
    }
    let closing = match delimiter {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        d => d,
    };
    let body_start = start + 1;
    let mut depth = 1usize;
    let mut i = body_start;
    while i < from.len() {
        let b = from[i];
        if b == b'\\' {
            i += 2;
            continue;
        }
        if b == closing && closing != delimiter {
            depth -= 1;
            if depth == 0 {
                break;
            }
        } else if b == closing {
            break;
        } else if b == delimiter {
            depth += 1;
        }
        i += 1;
    }
    if i >= from.len() {
        return Err("no ending delimiter".into());
    }
    Ok((&from[body_start..i], &from[i + 1..]))
}

/// The PCRE modifiers that change what matches.
#[derive(Default)]
struct Flags {
    caseless: bool,
    multiline: bool,
    dotall: bool,
    utf8: bool,
    ungreedy: bool,
    dollar_endonly: bool,
    anchored: bool,
}

impl Flags {
    fn parse(modifiers: &[u8]) -> Result<Self, String> {
        let mut f = Flags::default();
        for &m in modifiers {
            match m {
                b'i' => f.caseless = true,
                b'm' => f.multiline = true,
                b's' => f.dotall = true,
                b'u' => f.utf8 = true,
                b'U' => f.ungreedy = true,
                b'D' => f.dollar_endonly = true,
                b'A' => f.anchored = true,
                // S: study, X: no effect since PHP 7.3, J: duplicate names (regex refuses them
                // anyway), n: no auto-capture (ignoring it only adds captures); PHP skips
                // spaces and line breaks among modifiers.
                b'S' | b'X' | b'J' | b'n' | b' ' | b'\n' | b'\r' => {}
                other => {
                    return Err(format!(
                        "modifier {:?} is not supported here",
                        char::from(other)
                    ));
                }
            }
        }
        Ok(f)
    }
}

/// Rewrites a PCRE body into `regex` syntax with the same meaning, or says why it cannot.
///
/// Literal bytes the two engines could read differently are written as `\xHH` (escaped
/// punctuation, control bytes, and in byte mode every byte above 0x7F); `{`/`}` that are not a
/// PCRE quantifier (`{n}`, `{n,}`, `{n,m}`) are literal in PCRE, so they are escaped.
fn translate(body: &[u8], utf8: bool) -> Result<String, String> {
    if utf8 && std::str::from_utf8(body).is_err() {
        return Err("the pattern is not valid UTF-8 under the u modifier".into());
    }
    let mut out = String::with_capacity(body.len() * 2);
    let mut in_class = false;
    // The last token was a quantifier: a `+` after it is possessive in PCRE, a repetition of
    // the repetition to regex.
    let mut after_quantifier = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        let quantifier = !in_class && matches!(b, b'*' | b'+' | b'?' | b'{');
        if b == b'+' && after_quantifier && !in_class {
            return Err("possessive quantifiers are not supported by regex".into());
        }
        after_quantifier = quantifier;
        match b {
            b'\\' => i = escape(body, i, in_class, utf8, &mut out)?,
            b'[' if in_class => i = posix_class(body, i, &mut out)?,
            b'[' => {
                in_class = true;
                out.push('[');
                i = class_start(body, i, &mut out);
            }
            b']' if in_class => {
                in_class = false;
                out.push(']');
            }
            b'&' | b'-' | b'~' if in_class && body.get(i) == Some(&b) => {
                return Err(
                    "doubled '&', '-' or '~' in a class means a set operation to regex".into(),
                );
            }
            b'(' if !in_class && body.get(i) == Some(&b'?') => i = group_start(body, i, &mut out)?,
            b'{' if !in_class => i = brace(body, i, &mut out)?,
            b'}' => out.push_str(r"\}"),
            b'{' => out.push_str(r"\{"),
            _ => i = literal(body, i - 1, utf8, &mut out),
        }
    }
    if in_class {
        return Err("unterminated character class".into());
    }
    Ok(out)
}

/// Copies one literal character starting at `at`; returns the index after it.
fn literal(body: &[u8], at: usize, utf8: bool, out: &mut String) -> usize {
    let b = body[at];
    if b.is_ascii_graphic() || b == b' ' {
        out.push(char::from(b));
        return at + 1;
    }
    if utf8 && b >= 0x80 {
        // Valid UTF-8 (checked up front): copy the whole character.
        let len = utf8_len(b);
        let end = (at + len).min(body.len());
        out.push_str(std::str::from_utf8(&body[at..end]).unwrap_or("\u{FFFD}"));
        return end;
    }
    push_hex(out, b);
    at + 1
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn push_hex(out: &mut String, b: u8) {
    out.push_str(&format!(r"\x{b:02X}"));
}

/// After `[` (and an optional `^`), a `]` is a literal member in both engines: copy it.
fn class_start(body: &[u8], mut i: usize, out: &mut String) -> usize {
    if body.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    if body.get(i) == Some(&b']') {
        out.push_str(r"\]");
        i += 1;
    }
    i
}

/// A `[` inside a class: PCRE reads `[:name:]` as a POSIX class and any other `[` as a literal,
/// regex reads the latter as a nested class. Only the POSIX form is copied.
fn posix_class(body: &[u8], i: usize, out: &mut String) -> Result<usize, String> {
    if body.get(i) != Some(&b':') {
        return Err("'[' inside a class is a nested class to regex, a literal to PCRE".into());
    }
    let rest = &body[i + 1..];
    let end = rest
        .windows(2)
        .position(|w| w == b":]")
        .ok_or("unterminated POSIX class")?;
    let name = &rest[..end];
    if !name.iter().all(|&c| c.is_ascii_alphabetic() || c == b'^') {
        return Err("unknown POSIX class".into());
    }
    out.push_str("[:");
    out.push_str(std::str::from_utf8(name).unwrap_or_default());
    out.push_str(":]");
    Ok(i + 1 + end + 2)
}

/// After `(?`: only non-capturing groups, named groups and the flags both engines read alike
/// (`i`, `m`, `s`, `U`) are copied; everything else (look-around, atomic groups, comments,
/// recursion, `x`, …) fails. `i` points at the `?`.
fn group_start(body: &[u8], i: usize, out: &mut String) -> Result<usize, String> {
    let rest = &body[i + 1..];
    let named = |prefix: &[u8]| {
        rest.starts_with(prefix)
            && rest
                .get(prefix.len())
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    };
    if rest.first() == Some(&b':') || named(b"<") || named(b"P<") {
        out.push_str("(?");
        return Ok(i + 1);
    }
    let flags_end = rest
        .iter()
        .position(|c| !matches!(c, b'i' | b'm' | b's' | b'U' | b'-'))
        .unwrap_or(rest.len());
    if flags_end > 0 && matches!(rest.get(flags_end), Some(b':' | b')')) {
        out.push_str("(?");
        out.push_str(std::str::from_utf8(&rest[..flags_end]).unwrap_or_default());
        return Ok(i + 1 + flags_end);
    }
    Err("a '(?' group regex does not read as PCRE does".into())
}

/// A `{` outside a class: a quantifier when PCRE reads one (`{n}`, `{n,}`, `{n,m}`), else a
/// literal brace. `{,m}` fails: a literal to PHP 8.2's PCRE2 (10.40/10.42), a quantifier from
/// PCRE2 10.43 on. `i` points after the `{`.
fn brace(body: &[u8], i: usize, out: &mut String) -> Result<usize, String> {
    let rest = &body[i..];
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    if rest.first() == Some(&b',') {
        return Err("'{,n}' depends on the PCRE2 version".into());
    }
    let n = digits(rest);
    let quantifier_len = if n == 0 {
        None
    } else if rest.get(n) == Some(&b'}') {
        Some(n + 1)
    } else if rest.get(n) == Some(&b',') {
        let m = digits(&rest[n + 1..]);
        (rest.get(n + 1 + m) == Some(&b'}')).then_some(n + 1 + m + 1)
    } else {
        None
    };
    match quantifier_len {
        Some(len) => {
            out.push('{');
            // Digits, `,` and `}` only: ASCII.
            out.push_str(std::str::from_utf8(&rest[..len]).unwrap_or_default());
            Ok(i + len)
        }
        None => {
            out.push_str(r"\{");
            Ok(i)
        }
    }
}

/// A `\` escape; `i` points after the `\`. Returns the index after the escape.
fn escape(
    body: &[u8],
    i: usize,
    in_class: bool,
    utf8: bool,
    out: &mut String,
) -> Result<usize, String> {
    let Some(&c) = body.get(i) else {
        return Err("the pattern ends with '\\'".into());
    };
    if !c.is_ascii_alphanumeric() {
        // An escaped non-alphanumeric is that character, literally, in PCRE.
        return Ok(literal_escaped(body, i, utf8, out));
    }
    match c {
        b'd' | b'D' | b'w' | b'W' | b's' | b'S' | b'n' | b't' | b'r' | b'f' => {
            out.push('\\');
            out.push(char::from(c));
            Ok(i + 1)
        }
        b'b' | b'B' | b'A' | b'z' if !in_class => {
            out.push('\\');
            out.push(char::from(c));
            Ok(i + 1)
        }
        // Backspace inside a class; ESC; BEL.
        b'b' => Ok(push_byte(out, 0x08, i)),
        b'e' => Ok(push_byte(out, 0x1B, i)),
        b'a' => Ok(push_byte(out, 0x07, i)),
        b'x' => hex_escape(body, i + 1, utf8, out),
        _ => Err(format!(
            "the escape \\{} does not mean the same to regex",
            char::from(c)
        )),
    }
}

fn push_byte(out: &mut String, b: u8, i: usize) -> usize {
    push_hex(out, b);
    i + 1
}

/// An escaped non-alphanumeric character at `at`, as a literal.
fn literal_escaped(body: &[u8], at: usize, utf8: bool, out: &mut String) -> usize {
    let b = body[at];
    if utf8 && b >= 0x80 {
        return literal(body, at, utf8, out);
    }
    push_hex(out, b);
    at + 1
}

/// PCRE's `\x`: `\x{h…}` or up to two hex digits (none is NUL). `i` points after the `x`.
fn hex_escape(body: &[u8], i: usize, utf8: bool, out: &mut String) -> Result<usize, String> {
    let (value, next) = if body.get(i) == Some(&b'{') {
        let digits = body[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if digits == 0 || digits > 8 || body.get(i + 1 + digits) != Some(&b'}') {
            return Err("malformed \\x{…}".into());
        }
        let text = std::str::from_utf8(&body[i + 1..i + 1 + digits]).unwrap_or("0");
        let value = u32::from_str_radix(text, 16).map_err(|e| e.to_string())?;
        (value, i + 1 + digits + 1)
    } else {
        let digits = body[i..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let text = std::str::from_utf8(&body[i..i + digits]).unwrap_or("0");
        (u32::from_str_radix(text, 16).unwrap_or(0), i + digits)
    };
    match (value, utf8) {
        (0..=0xFF, false) => push_hex(out, value as u8),
        (_, true) if char::from_u32(value).is_some() => out.push_str(&format!(r"\x{{{value:X}}}")),
        _ => return Err("\\x value out of range".into()),
    }
    Ok(next)
}
