//! The site root, and what the web server does with a URL path below it before route.php runs:
//! serve a script directly, serve the root's directory index, or hand the rest to route.php.

use super::super::path::entry_from_url_path;
use std::fmt;

/// How the web server hands route.php the path (SPEC section 6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PathForm {
    /// `REQUEST_URI` cut at `?`: still percent-encoded, `//` and `./` kept, exactly as the client
    /// sent it. nginx, `php -S`, and Apache with Tiki's `.htaccess` (the default).
    #[default]
    Raw,
    /// `SCRIPT_URL`: Apache with `RewriteEngine on` at server level, which sets it to the request
    /// path after its own decoding (`%XX` decoded once, `+` kept, dot segments resolved, `//`
    /// merged).
    Decoded,
}

/// The URL path of the Tiki installation (`/tiki/`, or `/` at the document root): route.php's
/// `$base`, i.e. `PHP_SELF` minus `route.php`, as the web server decoded it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SiteRoot(Vec<u8>);

/// Where a URL path leads below a site root, before any routing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Below {
    /// The root itself (`/tiki/`). Tiki's rewrite rules never send it to route.php: Apache's
    /// per-directory `RewriteRule .` needs at least one byte below the directory, and nginx's
    /// `try_files $uri $uri/ …` finds the directory. The web server's directory index
    /// (`index.php`) serves it. (Given an empty path, route.php itself would serve
    /// `tiki-index.php` with `page = ""`: see [`super::route`].)
    Root,
    /// A script directly below the root (`tiki-index.php`): the web server runs it itself, with
    /// the request's own `$_GET`; route.php is not involved. The name is decoded as the server
    /// decodes it. Whether the file exists cannot be known here: a missing one goes to
    /// route.php, whose extension stop answers 404 (`php` is in its list) unless one of rows
    /// 2–14 matches first (`wiki-x.php`, `item7-x.php`).
    Script(Vec<u8>),
    /// Anything else: route.php's `$path`, in the server's [`PathForm`].
    Route(Vec<u8>),
}

/// Why a URL path cannot be resolved against a site root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootError {
    /// The configured site root is not a path of the form `/…/`.
    BadRoot(String),
    /// The path, as the web server resolves it, is not below the site root.
    Outside,
    /// Below the root only once decoded or resolved (`/tik%69/x`, `/x/../tiki/y`): route.php cuts
    /// `strlen($base)` bytes off the raw path without looking at them, so it would route garbage.
    RawNotBelow,
    /// The decoded path holds a NUL byte (`%00`): no web server passes it to PHP.
    Nul,
    /// A `%` not followed by two hex digits (`50%`, `%zz`): Apache and nginx answer 400 Bad
    /// Request (only `php -S` keeps it literal). A literal `%` is written `%25`.
    BadEscape,
    /// An encoded slash (`%2F`) in the decoded form: Apache (`AllowEncodedSlashes Off`, its
    /// default) answers 404 before any PHP runs.
    EncodedSlash,
}

impl fmt::Display for RootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootError::BadRoot(why) => write!(f, "invalid site root: {why}"),
            RootError::Outside => f.write_str("the URL's path is not below the site root"),
            RootError::RawNotBelow => f.write_str(
                "the URL's path reaches the site root only once decoded or resolved; \
                 Tiki's route.php cannot route it: write the path plainly",
            ),
            RootError::Nul => f.write_str(
                "the URL's path holds an encoded NUL byte (%00), which no web server passes to PHP",
            ),
            RootError::BadEscape => f.write_str(
                "the URL's path holds a '%' that does not start an escape (%XX), which Apache \
                 and nginx refuse with 400: write a literal '%' as %25",
            ),
            RootError::EncodedSlash => f.write_str(
                "the URL's path holds an encoded slash (%2F), which Apache refuses with 404",
            ),
        }
    }
}

impl std::error::Error for RootError {}

impl SiteRoot {
    /// The site root from its configured value (`/tiki/`; a missing final `/` is added, so
    /// `/tiki` is the same root).
    ///
    /// # Errors
    /// [`RootError::BadRoot`] unless the value starts with `/` and is a plain path: no NUL, no
    /// `?` or `#`, no empty, `.` or `..` segment.
    pub fn new(root: &[u8]) -> Result<Self, RootError> {
        let bad = |why: &str| Err(RootError::BadRoot(why.to_owned()));
        if root.first() != Some(&b'/') {
            return bad("it must start with '/'");
        }
        if root.iter().any(|b| matches!(b, 0 | b'?' | b'#')) {
            return bad("it must not hold NUL, '?' or '#'");
        }
        let mut bytes = root.to_vec();
        if bytes.last() != Some(&b'/') {
            bytes.push(b'/');
        }
        // Between the first and the last `/` (nothing to check for the root `/`).
        if bytes.len() > 1
            && bytes[1..bytes.len() - 1]
                .split(|&b| b == b'/')
                .any(|s| s.is_empty() || s == b"." || s == b"..")
        {
            return bad("it must not hold empty, '.' or '..' segments");
        }
        Ok(SiteRoot(bytes))
    }

    /// The root, with its final `/`.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The entry of a script below the root: the root followed by `script` (what route.php sets
    /// as `PHP_SELF`, and what the web server sets for a script it serves itself).
    #[must_use]
    pub fn entry(&self, script: &[u8]) -> Vec<u8> {
        [self.0.as_slice(), script].concat()
    }

    /// Where `url_path` (the path of a URL as written, percent-encoded, without `?query` or
    /// `#fragment`) leads below this root, for a server handing route.php the path in `form`.
    ///
    /// The web server decides on the decoded, resolved path (what it looks up on disk): that
    /// path must be below the root; the root itself and `*.php` directly below it (no further
    /// `/`, case-sensitive suffix) are served without route.php. Anything else goes to route.php
    /// as `$path`: in [`PathForm::Raw`], the raw path minus the root, which must then start with
    /// the root as written; in [`PathForm::Decoded`], the decoded path minus the root.
    ///
    /// # Errors
    /// A [`RootError`] naming why no request for this path can reach Tiki as this root.
    pub fn classify(&self, url_path: &[u8], form: PathForm) -> Result<Below, RootError> {
        if has_bad_escape(url_path) {
            return Err(RootError::BadEscape);
        }
        if form == PathForm::Decoded && has_encoded_slash(url_path) {
            return Err(RootError::EncodedSlash);
        }
        let served = entry_from_url_path(url_path);
        if served.contains(&0) {
            return Err(RootError::Nul);
        }
        let Some(rest) = served.strip_prefix(self.0.as_slice()) else {
            return Err(RootError::Outside);
        };
        if rest.is_empty() {
            return Ok(Below::Root);
        }
        if rest.ends_with(b".php") && !rest.contains(&b'/') {
            return Ok(Below::Script(rest.to_vec()));
        }
        match form {
            PathForm::Raw => url_path
                .strip_prefix(self.0.as_slice())
                .map(|raw| Below::Route(raw.to_vec()))
                .ok_or(RootError::RawNotBelow),
            PathForm::Decoded => Ok(Below::Route(rest.to_vec())),
        }
    }
}

/// A `%` not followed by two hex digits: Apache and nginx answer 400 Bad Request (only `php -S`
/// keeps it literal).
fn has_bad_escape(raw: &[u8]) -> bool {
    raw.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !(raw.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && raw.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

fn has_encoded_slash(raw: &[u8]) -> bool {
    raw.windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'2' && (w[2] == b'f' || w[2] == b'F'))
}
