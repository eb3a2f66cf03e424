//! The route table of Tiki 24.1's `route.php` (SPEC section 6), rule by rule, and the PCRE
//! semantics its patterns rely on.
//!
//! Each pattern is matched by hand rather than by a regex engine, because the patterns are PCRE
//! without modifiers and a few PCRE details decide what the target sees:
//!
//! * `$` (no `D` modifier) matches at the very end **or just before a final `\n`**: `dl5\n` is
//!   `fileId = "5"`, and `articles\n` is the articles list. Only the decoded path form
//!   (`SCRIPT_URL`) can carry a newline, from `%0A`.
//! * `.` matches any byte except `\n` (so `robots.txt` matches `robotsXtxt`, and the catch-all
//!   `.*` stops at the first newline); `[^/]` does match `\n`.
//! * `\d` and `\w` are ASCII only (no `u` modifier, C locale); the subject is bytes, so invalid
//!   UTF-8 and NUL are ordinary bytes.
//!
//! Every matcher is one forward scan: the table is linear in the length of the path.

use super::super::query::url_decode;
use super::super::tree::{Key, Params, Value};

/// What a rule of the table gives when it matches.
pub(super) struct Hit {
    /// The row of SPEC section 6's table (1–17).
    pub row: u8,
    /// The script route.php includes.
    pub target: &'static str,
    /// The rule's callback result followed by its extra constants, or `None` for a rule without
    /// callback (row 1): route.php then leaves `$_GET` alone, not even renumbering it.
    pub added: Option<Params>,
}

/// How a rule's pattern is matched and what its callback returns.
enum Pattern {
    /// `|^NAME$|`, no callback. The name is put into the pattern as is, so a `.` in it matches
    /// any byte but `\n` (`robots.txt`).
    Name(&'static [u8]),
    /// `|^PREFIX(\d+)$|`, or with `suffix` `|^PREFIX(\d+)(\-.*)?$|`: `KEY` = the digits, then
    /// the extra constant if any.
    Id {
        prefix: &'static [u8],
        suffix: bool,
        key: &'static str,
        extra: Option<(&'static str, &'static str)>,
    },
    /// `|^cal(\d+[\d,]*)(\-.*)?$|`: `calIds` = the ids split on `,`, then `array_filter`.
    Calendars,
    /// `|^imagescale(\d+)/(\d+)$|`: `id`, `scalesize`.
    ImageScale,
    /// `|^userinfo$|`: `view = " user"`.
    UserInfo,
    /// `/^(wiki|page)\-(.+)$/`: `page` = group 2, not decoded.
    WikiPage,
    /// `/^show:(.+)$/`: `page` = `urldecode(group 1)`.
    Slideshow,
    /// `/([^\/]+).xml$/`, unanchored: `file` = the whole match.
    Sitemap,
    /// `|^tiki\-(\w+)\-(\w+)$|`: `controller`, and `action` unless group 2 is `x`.
    Ajax,
    /// `|^api/(.*)$|`: `route` = group 1, raw.
    Api,
}

struct Rule {
    row: u8,
    target: &'static str,
    pattern: Pattern,
}

const fn name(name: &'static str, target: &'static str) -> Rule {
    Rule {
        row: 1,
        target,
        pattern: Pattern::Name(name.as_bytes()),
    }
}

const fn id(row: u8, prefix: &'static str, target: &'static str, key: &'static str) -> Rule {
    Rule {
        row,
        target,
        pattern: Pattern::Id {
            prefix: prefix.as_bytes(),
            suffix: false,
            key,
            extra: None,
        },
    }
}

/// As [`id`], with the optional title suffix `(\-.*)?`.
const fn titled(row: u8, prefix: &'static str, target: &'static str, key: &'static str) -> Rule {
    Rule {
        row,
        target,
        pattern: Pattern::Id {
            prefix: prefix.as_bytes(),
            suffix: true,
            key,
            extra: None,
        },
    }
}

/// As [`id`], with an extra constant merged after the id.
const fn id_extra(
    row: u8,
    prefix: &'static str,
    target: &'static str,
    key: &'static str,
    extra: (&'static str, &'static str),
) -> Rule {
    Rule {
        row,
        target,
        pattern: Pattern::Id {
            prefix: prefix.as_bytes(),
            suffix: false,
            key,
            extra: Some(extra),
        },
    }
}

const fn other(row: u8, target: &'static str, pattern: Pattern) -> Rule {
    Rule {
        row,
        target,
        pattern,
    }
}

/// Rows 1–17 in route.php's order (first match wins). Row 2's `(art|article)` is written as two
/// rules: the alternatives cannot both be followed by a digit, so the result is the same.
const RULES: &[Rule] = &[
    name("articles", "tiki-view_articles.php"),
    name("blogs", "tiki-list_blogs.php"),
    name("calendar", "tiki-calendar.php"),
    name("categories", "tiki-browse_categories.php"),
    name("contact", "tiki-contact.php"),
    name("directories", "tiki-directory_browse.php"),
    name("faqs", "tiki-list_faqs.php"),
    name("filelist", "tiki-list_file_gallery.php"),
    name("forums", "tiki-forums.php"),
    name("login", "tiki-login_scr.php"),
    name("logout", "tiki-logout.php"),
    name("me", "tiki-user_information.php"),
    name("my", "tiki-my_tiki.php"),
    name("newsletters", "tiki-newsletters.php"),
    name("quizzes", "tiki-list_quizzes.php"),
    name("register", "tiki-register.php"),
    name("sheets", "tiki-sheets.php"),
    name("statistics", "tiki-stats.php"),
    name("surveys", "tiki-list_surveys.php"),
    name("trackers", "tiki-list_trackers.php"),
    name("users", "tiki-list_users.php"),
    name("tiki-check", "tiki-check.php"),
    name("robots.txt", "tiki-robots.php"),
    titled(2, "art", "tiki-read_article.php", "articleId"),
    titled(2, "article", "tiki-read_article.php", "articleId"),
    titled(3, "blog", "tiki-view_blog.php", "blogId"),
    titled(3, "blogpost", "tiki-view_blog_post.php", "postId"),
    titled(3, "cat", "tiki-browse_categories.php", "parentId"),
    titled(3, "event", "tiki-calendar_edit_item.php", "viewcalitemId"),
    other(4, "tiki-calendar.php", Pattern::Calendars),
    id(5, "directory", "tiki-directory_browse.php", "parent"),
    id(5, "dirlink", "tiki-directory_redirect.php", "siteId"),
    id(5, "faq", "tiki-view_faq.php", "faqId"),
    id(5, "file", "tiki-list_file_gallery.php", "galleryId"),
    id(5, "forum", "tiki-view_forum.php", "forumId"),
    titled(
        6,
        "forumthread",
        "tiki-view_forum_thread.php",
        "comments_parentId",
    ),
    id(
        7,
        "calevent",
        "tiki-calendar_edit_item.php",
        "viewcalitemId",
    ),
    id(7, "img", "show_image.php", "id"),
    id(7, "image", "show_image.php", "id"),
    other(8, "show_image.php", Pattern::ImageScale),
    titled(9, "item", "tiki-view_tracker_item.php", "itemId"),
    id(10, "int", "tiki-integrator.php", "repID"),
    id_extra(
        10,
        "newsletter",
        "tiki-newsletters.php",
        "nlId",
        ("info", "1"),
    ),
    id_extra(10, "nl", "tiki-newsletters.php", "nlId", ("info", "1")),
    id(10, "poll", "tiki-poll_form.php", "pollId"),
    id(10, "quiz", "tiki-take_quiz.php", "quizId"),
    id(10, "survey", "tiki-take_survey.php", "surveyId"),
    id(10, "tracker", "tiki-view_tracker.php", "trackerId"),
    id(
        10,
        "trackerfields",
        "tiki-admin_tracker_fields.php",
        "trackerId",
    ),
    id(10, "sheet", "tiki-view_sheets.php", "sheetId"),
    id(10, "user", "tiki-user_information.php", "userId"),
    other(11, "tiki-view_tracker_item.php", Pattern::UserInfo),
    id(12, "dl", "tiki-download_file.php", "fileId"),
    id_extra(
        12,
        "thumbnail",
        "tiki-download_file.php",
        "fileId",
        ("thumbnail", ""),
    ),
    id_extra(
        12,
        "display",
        "tiki-download_file.php",
        "fileId",
        ("display", ""),
    ),
    id_extra(
        12,
        "preview",
        "tiki-download_file.php",
        "fileId",
        ("preview", ""),
    ),
    other(13, "tiki-index.php", Pattern::WikiPage),
    other(14, "tiki-slideshow.php", Pattern::Slideshow),
    other(15, "tiki-sitemap.php", Pattern::Sitemap),
    other(16, "tiki-ajax_services.php", Pattern::Ajax),
    other(17, "tiki-api.php", Pattern::Api),
];

/// The catch-all's row and target (`|.*|` → `tiki-index.php`).
pub(super) const CATCH_ALL_ROW: u8 = 18;
pub(super) const CATCH_ALL_TARGET: &str = "tiki-index.php";

/// The extensions that make route.php answer 404 instead of trying the catch-all
/// (case-sensitive, compared with everything after the last `.`).
const STOP_EXTENSIONS: &[&[u8]] = &[
    b"css", b"gif", b"jpg", b"png", b"php", b"html", b"js", b"htm", b"shtml", b"cgi", b"sql",
    b"phtml", b"txt", b"ihtml",
];

/// Every script the table can route to (rows 1–18), each once.
pub(super) fn targets() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = RULES.iter().map(|r| r.target).collect();
    all.push(CATCH_ALL_TARGET);
    let mut seen = Vec::with_capacity(all.len());
    for t in all {
        if !seen.contains(&t) {
            seen.push(t);
        }
    }
    seen
}

/// Rows 1–17: the first rule whose pattern matches `path`.
pub(super) fn first_match(path: &[u8]) -> Option<Hit> {
    RULES.iter().find_map(|rule| {
        attempt(&rule.pattern, path).map(|added| Hit {
            row: rule.row,
            target: rule.target,
            added,
        })
    })
}

/// route.php's file-extension stop: the text after the last `.` is one of [`STOP_EXTENSIONS`].
pub(super) fn extension_stop(path: &[u8]) -> bool {
    path.iter()
        .rposition(|&b| b == b'.')
        .is_some_and(|dot| STOP_EXTENSIONS.contains(&&path[dot + 1..]))
}

/// Row 18, `|.*|`: `page = urldecode(whole match)`; the match runs from the start to the first
/// `\n` (`.` does not match it).
pub(super) fn catch_all(path: &[u8]) -> Params {
    let end = first_newline(path, 0);
    params([("page", Value::Str(url_decode(&path[..end])))])
}

/// `Some(added)` when `pattern` matches (`added` as in [`Hit::added`]), `None` when it does not.
fn attempt(pattern: &Pattern, p: &[u8]) -> Option<Option<Params>> {
    let added = match *pattern {
        Pattern::Name(name) => return exact(p, name).then_some(None),
        Pattern::Id {
            prefix,
            suffix,
            key,
            extra,
        } => {
            let digits = numbered(p, prefix, suffix)?;
            let mut a = params([(key, Value::Str(digits.to_vec()))]);
            if let Some((k, v)) = extra {
                a.insert(str_key(k), Value::Str(v.as_bytes().to_vec()));
            }
            a
        }
        Pattern::Calendars => params([("calIds", Value::Array(calendars(p)?))]),
        Pattern::ImageScale => {
            let (id, size) = image_scale(p)?;
            params([("id", bytes(id)), ("scalesize", bytes(size))])
        }
        Pattern::UserInfo => {
            exact(p, b"userinfo").then_some(())?;
            params([("view", bytes(b" user"))])
        }
        Pattern::WikiPage => {
            let rest = p
                .strip_prefix(b"wiki-")
                .or_else(|| p.strip_prefix(b"page-"))?;
            params([("page", bytes(dot_plus_to_end(rest)?))])
        }
        Pattern::Slideshow => {
            let page = dot_plus_to_end(p.strip_prefix(b"show:")?)?;
            params([("page", Value::Str(url_decode(page)))])
        }
        Pattern::Sitemap => params([("file", bytes(sitemap(p)?))]),
        Pattern::Ajax => ajax(p)?,
        Pattern::Api => params([("route", bytes(dot_star_to_end(p.strip_prefix(b"api/")?)?))]),
    };
    Some(Some(added))
}

// ---------------------------------------------------------------------------------------------
// PCRE pieces

/// PCRE's `$` without the `D` modifier: at the end, or before a `\n` that ends the subject.
fn dollar(p: &[u8], at: usize) -> bool {
    at == p.len() || (at + 1 == p.len() && p[at] == b'\n')
}

/// The position of the first `\n` at or after `from`, or the end.
fn first_newline(p: &[u8], from: usize) -> usize {
    p[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(p.len(), |i| from + i)
}

/// `.*$` on all of `s`: what `.*` captures (everything up to a final `\n`), or `None` when a
/// `\n` stands elsewhere.
fn dot_star_to_end(s: &[u8]) -> Option<&[u8]> {
    let end = first_newline(s, 0);
    dollar(s, end).then(|| &s[..end])
}

/// `.+$` on all of `s`: as [`dot_star_to_end`], at least one byte.
fn dot_plus_to_end(s: &[u8]) -> Option<&[u8]> {
    dot_star_to_end(s).filter(|m| !m.is_empty())
}

/// The end of the run of ASCII digits starting at `from`.
fn digits_end(p: &[u8], from: usize) -> usize {
    p[from..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(p.len(), |i| from + i)
}

/// `(\-.*)?$` at `at`.
fn title_suffix(p: &[u8], at: usize) -> bool {
    dollar(p, at) || (p.get(at) == Some(&b'-') && dot_star_to_end(&p[at + 1..]).is_some())
}

/// `^NAME$`, a `.` in `name` matching any byte but `\n`.
fn exact(p: &[u8], name: &[u8]) -> bool {
    p.len() >= name.len()
        && p.iter()
            .zip(name)
            .all(|(&b, &n)| b == n || (n == b'.' && b != b'\n'))
        && dollar(p, name.len())
}

/// `^PREFIX(\d+)$` (or with the title suffix): the digits. `\d+` is greedy and a shorter run
/// would be followed by a digit, which neither `-` nor `$` accepts: no backtracking needed.
fn numbered<'a>(p: &'a [u8], prefix: &[u8], suffix: bool) -> Option<&'a [u8]> {
    let start = prefix.len();
    if !p.starts_with(prefix) {
        return None;
    }
    let end = digits_end(p, start);
    let tail_ok = if suffix {
        title_suffix(p, end)
    } else {
        dollar(p, end)
    };
    (end > start && tail_ok).then(|| &p[start..end])
}

/// `^cal(\d+[\d,]*)(\-.*)?$`, then `array_filter(explode(',', $1))`: the ids, keyed by their
/// place in the list, without the empty ones and `"0"` (PHP's falsy strings; `"00"` stays).
fn calendars(p: &[u8]) -> Option<Params> {
    let rest = p.strip_prefix(b"cal")?;
    if !rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let end = rest
        .iter()
        .position(|&b| !(b.is_ascii_digit() || b == b','))
        .unwrap_or(rest.len());
    if !title_suffix(rest, end) {
        return None;
    }
    let mut ids = Params::new();
    for (i, piece) in rest[..end].split(|&b| b == b',').enumerate() {
        if !piece.is_empty() && piece != b"0" {
            // `end` is at most the path length, so the index fits an i64.
            ids.insert(Key::Int(i as i64), bytes(piece));
        }
    }
    Some(ids)
}

/// `^imagescale(\d+)/(\d+)$`: (id, size).
fn image_scale(p: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = p.strip_prefix(b"imagescale")?;
    let id_end = digits_end(rest, 0);
    if id_end == 0 || rest.get(id_end) != Some(&b'/') {
        return None;
    }
    let size_end = digits_end(rest, id_end + 1);
    (size_end > id_end + 1 && dollar(rest, size_end))
        .then(|| (&rest[..id_end], &rest[id_end + 1..size_end]))
}

/// `/([^\/]+).xml$/`, unanchored: the whole match. `$` fixes where `xml` ends (the end, or
/// before a final `\n`), hence where `.` stands; the leftmost start is just after the last `/`
/// before that `.` (the `[^/]+` run may hold `\n`, the `.` may be a `/`).
fn sitemap(p: &[u8]) -> Option<&[u8]> {
    let end = if p.last() == Some(&b'\n') {
        p.len() - 1
    } else {
        p.len()
    };
    let dot = end.checked_sub(4)?;
    if &p[dot + 1..end] != b"xml" || p[dot] == b'\n' {
        return None;
    }
    let start = p[..dot]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    (start < dot).then(|| &p[start..end])
}

/// `^tiki\-(\w+)\-(\w+)$` (`\w` = ASCII letters, digits, `_`): `controller`, plus `action`
/// unless it is `x`. `\w+` cannot take a `-`, so group 1 ends at the first `-`.
fn ajax(p: &[u8]) -> Option<Params> {
    let rest = p.strip_prefix(b"tiki-")?;
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let g1_end = rest.iter().position(|b| !is_word(b)).unwrap_or(rest.len());
    if g1_end == 0 || rest.get(g1_end) != Some(&b'-') {
        return None;
    }
    let tail = &rest[g1_end + 1..];
    let g2_end = tail.iter().position(|b| !is_word(b)).unwrap_or(tail.len());
    if g2_end == 0 || !dollar(tail, g2_end) {
        return None;
    }
    let (controller, action) = (&rest[..g1_end], &tail[..g2_end]);
    let mut a = params([("controller", bytes(controller))]);
    if action != b"x" {
        a.insert(str_key("action"), bytes(action));
    }
    Some(a)
}

// ---------------------------------------------------------------------------------------------
// Building the added params

fn str_key(k: &str) -> Key {
    Key::Str(k.as_bytes().to_vec())
}

fn bytes(b: &[u8]) -> Value {
    Value::Str(b.to_vec())
}

fn params<const N: usize>(entries: [(&str, Value); N]) -> Params {
    entries.into_iter().map(|(k, v)| (str_key(k), v)).collect()
}
