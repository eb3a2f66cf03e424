//! SEF URLs (SPEC section 6): what Tiki's front controller `route.php` makes of a path below the
//! site root, so that a token minted for `/tiki/HomePage` is bound to what the target script
//! will check: entry `/tiki/tiki-index.php`, params `{"page":"HomePage"}`.
//!
//! * [`SiteRoot::classify`]: a URL path → outside the root (error), the root itself, a script the
//!   web server runs directly, or route.php's `$path`, in the server's [`PathForm`].
//! * [`route`]: route.php on `$path` and the request's `$_GET` → the target script and the
//!   `$_GET` it sees, or 404 (the file-extension stop). The table and its PCRE details live in
//!   `table.rs`.
//! * [`match_custom_routes`]: whether one of Tiki's custom routes takes a path that reached the
//!   catch-all (minting refuses it).
//! * [`resolve`]: the three together, as minting needs them: (entry, params) or a [`Refusal`].
//!
//! `route` and `classify` are pure, total over any bytes (invalid UTF-8, NUL, newlines, 64 KiB)
//! and linear in the length of the path.
//!
//! One reading worth stating: route.php applies its own `urldecode` (catch-all, `show:`) to
//! `$path` whatever the server put there. In [`PathForm::Decoded`] Apache has already decoded
//! the path once, so those captures are decoded twice (`/tiki/A%2BB` → `page = "A B"`, where
//! the raw form gives `"A+B"`); [`route`] does exactly that, because that is what the target
//! sees.

mod custom;
mod site;
mod table;

pub use custom::{CustomRoute, CustomRouteKind, CustomRouteMatch, match_custom_routes};
pub use site::{Below, PathForm, RootError, SiteRoot};

use super::tree::{Key, Params};
use std::fmt;

/// What route.php does with a path.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// It includes [`Routed::target`] with [`Routed::get`] as `$_GET`.
    Routed(Routed),
    /// It answers 404: the path ends in one of the file extensions route.php refuses to treat as
    /// a wiki page name (`.txt`, `.php`, `.png`, …, case-sensitive) and no earlier rule took it.
    NotFound,
}

/// A path route.php serves.
#[derive(Clone, Debug, PartialEq)]
pub struct Routed {
    /// The script route.php includes, relative to the site root (`tiki-index.php`): the entry is
    /// [`SiteRoot::entry`] of it. Always one of [`targets`].
    pub target: &'static str,
    /// `$_GET` as the target sees it, in PHP's order: `array_merge($_GET, captures, constants)`.
    /// (`PartialEq` on [`Params`] ignores order; compare entries in order where it matters.)
    pub get: Params,
    /// What the rule merged into `$_GET`: its captures, then its constants. Empty for row 1
    /// (a fixed name such as `articles`), whose rule has no callback: route.php then leaves
    /// `$_GET` exactly as it was, integer keys included.
    pub added: Params,
    /// The row of SPEC section 6's table that matched: 1–17, or [`CATCH_ALL_ROW`].
    pub row: u8,
}

impl Routed {
    /// The path fell through to the catch-all wiki page (where custom routes would have been
    /// tried first).
    #[must_use]
    pub fn reached_catch_all(&self) -> bool {
        self.row == CATCH_ALL_ROW
    }
}

/// The row of the catch-all wiki page rule (`|.*|` → `tiki-index.php`).
pub const CATCH_ALL_ROW: u8 = table::CATCH_ALL_ROW;

/// Every script route.php can include (rows 1–18), each once.
#[must_use]
pub fn targets() -> Vec<&'static str> {
    table::targets()
}

/// What Tiki 24.1's route.php does with `path` (its `$path`: the request path minus the site
/// root, in the form the server hands it, see [`SiteRoot::classify`]) and the request's `$_GET`.
///
/// First matching rule of SPEC section 6's table wins (rows 1–17); then the file-extension stop
/// (→ [`Route::NotFound`]); then the catch-all wiki page (row 18, `page = urldecode(path)`).
/// Custom routes, which route.php tries between the stop and the catch-all for a non-empty path,
/// are not applied here: see [`match_custom_routes`] and [`resolve`].
///
/// The empty path (the site root, which web servers do not send to route.php) goes to the
/// catch-all: `tiki-index.php` with `page = ""`.
#[must_use]
pub fn route(path: &[u8], get: &Params) -> Route {
    if let Some(hit) = table::first_match(path) {
        let (get, added) = match hit.added {
            Some(added) => (array_merge(get, &added), added),
            None => (get.clone(), Params::new()),
        };
        return Route::Routed(Routed {
            target: hit.target,
            get,
            added,
            row: hit.row,
        });
    }
    if table::extension_stop(path) {
        return Route::NotFound;
    }
    let added = table::catch_all(path);
    Route::Routed(Routed {
        target: table::CATCH_ALL_TARGET,
        get: array_merge(get, &added),
        added,
        row: CATCH_ALL_ROW,
    })
}

/// PHP's `array_merge($first, $second)` on two arrays: string keys keep the place of their first
/// appearance and take the last value; integer keys are renumbered 0, 1, 2, … in order of
/// appearance. Nested arrays are taken as they are.
fn array_merge(first: &Params, second: &Params) -> Params {
    let mut out = Params::with_capacity(first.len() + second.len());
    for (key, value) in first.iter().chain(second.iter()) {
        match key {
            Key::Int(_) => {
                // Renumbered from 0 in a fresh array: the next key is the count so far, far
                // from `i64::MAX`, so `push` cannot refuse.
                out.push(value.clone());
            }
            Key::Str(_) => out.insert(key.clone(), value.clone()),
        }
    }
    out
}

/// A URL path resolved as the web server and route.php will serve it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The entry a token for it binds: `PHP_SELF` of the script that runs.
    pub entry: Vec<u8>,
    /// The params a token for it binds: `$_GET` as that script sees it.
    pub params: Params,
    /// `Some(row)` when route.php routed it (the row of SPEC section 6's table), `None` for a
    /// script the web server runs directly.
    pub routed_by: Option<u8>,
}

/// Why a URL path cannot be bound to what the web server and route.php serve there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The path cannot reach Tiki under this site root.
    Path(RootError),
    /// The site root itself: served by the web server's directory index, not by route.php.
    SiteRoot,
    /// route.php answers 404 (file-extension stop).
    NotFound,
    /// A custom route takes (or may take) the path.
    CustomRoute {
        /// The route's type.
        kind: CustomRouteKind,
        /// The route's `from`.
        from: Vec<u8>,
        /// Why it only *may* match (its pattern could not be evaluated), if so.
        uncertain: Option<String>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Path(e) => e.fmt(f),
            Refusal::SiteRoot => f.write_str(
                "the site root itself is served by the web server's directory index, not by \
                 Tiki's router: mint the target script's URL instead (e.g. …/tiki-index.php)",
            ),
            Refusal::NotFound => f.write_str(
                "Tiki's router answers 404 for this path (it ends in a file extension such as \
                 .txt, .php or .png that route.php refuses to treat as a page name)",
            ),
            Refusal::CustomRoute {
                kind,
                from,
                uncertain,
            } => {
                write!(
                    f,
                    "a custom route ({kind:?}, from {:?}) ",
                    String::from_utf8_lossy(from)
                )?;
                match uncertain {
                    None => f.write_str("takes this path")?,
                    Some(why) => write!(f, "may take this path ({why})")?,
                }
                f.write_str(": mint the URL of the route's target instead")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// Resolves `url_path` (the path of a URL as written, percent-encoded) with the request's
/// `$_GET` (`get`) as the web server and route.php will serve it under `root`: a script directly
/// below the root keeps its path and `get`; anything else is routed.
///
/// `custom_routes` are the active rows of `tiki_custom_route` when `feature_sefurl_routes` is on
/// (empty otherwise). Removing `TOKEN` from `get` before or after makes no difference: no route
/// adds that key, and a string key does not take part in renumbering.
///
/// # Errors
/// A [`Refusal`]: a path not below the root, the root itself, a 404, or a custom route's path.
pub fn resolve(
    root: &SiteRoot,
    url_path: &[u8],
    form: PathForm,
    get: &Params,
    custom_routes: &[CustomRoute],
) -> Result<Resolved, Refusal> {
    let path = match root.classify(url_path, form).map_err(Refusal::Path)? {
        Below::Root => return Err(Refusal::SiteRoot),
        Below::Script(name) => {
            return Ok(Resolved {
                entry: root.entry(&name),
                params: get.clone(),
                routed_by: None,
            });
        }
        Below::Route(path) => path,
    };
    let routed = match route(&path, get) {
        Route::NotFound => return Err(Refusal::NotFound),
        Route::Routed(r) => r,
    };
    if routed.reached_catch_all()
        && let Some(hit) = match_custom_routes(&path, custom_routes)
    {
        let (r, uncertain) = match hit {
            CustomRouteMatch::Matches(r) => (r, None),
            CustomRouteMatch::MayMatch { route, reason } => (route, Some(reason)),
        };
        return Err(Refusal::CustomRoute {
            kind: r.kind,
            from: r.from.clone(),
            uncertain,
        });
    }
    Ok(Resolved {
        entry: root.entry(routed.target.as_bytes()),
        params: routed.get,
        routed_by: Some(routed.row),
    })
}

#[cfg(test)]
mod tests;
