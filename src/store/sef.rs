//! Minting for SEF URLs (SPEC section 6): with a site root configured, the path of a URL (or
//! an entry given as a URL path) is resolved as Tiki's route.php will resolve it, and the token
//! is bound to what the target script checks. The lookup stays the exact match of SPEC section
//! 3: a token for `/tiki/HomePage` is then granted on every spelling route.php maps to the same
//! (entry, params), and on nothing else.
//!
//! Refused at minting (nothing written): a URL outside the site root, the root itself, a path
//! route.php answers with 404, and a path one of Tiki's custom routes takes when
//! `feature_sefurl_routes` is on (the token would be checked on the route's target, not here).

use super::handle::Store;
use super::pool::{Conn, Retry};
use super::sql::{self, CustomRouteRow};
use crate::canon::Params;
use crate::canon::route::{self, Below, CustomRoute, RootError};
use crate::error::{Error, Result};

/// What a token for a URL path binds.
pub(super) struct Bound {
    /// The entry (`PHP_SELF` of the script that checks the token).
    pub entry: Vec<u8>,
    /// The params (`$_GET` that script sees, `TOKEN` aside).
    pub params: Params,
}

impl Store {
    /// The (entry, params) a token for a URL with this raw path and query params binds: routed
    /// as route.php routes it when a site root is configured and the path is below it. `None`
    /// when nothing is routed: no site root, or (with `outside_ok`, for an entry given to
    /// `create`) a path outside it; the caller then binds what it has, as without SEF.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for what route.php would not serve (see the module docs).
    pub(super) fn route_binding(
        &self,
        conn: &mut Conn<'_>,
        raw_path: &[u8],
        params: &Params,
        outside_ok: bool,
    ) -> Result<Option<Bound>> {
        let Some(root) = &self.site_root else {
            return Ok(None);
        };
        let form = self.config.path_form;
        match root.classify(raw_path, form) {
            Err(RootError::Outside) if outside_ok => return Ok(None),
            Err(e) => return Err(refused(raw_path, &e)),
            Ok(Below::Script(_) | Below::Root | Below::Route(_)) => {}
        }
        let mut resolved = route::resolve(root, raw_path, form, params, &[]);
        if let Ok(r) = &resolved
            && r.routed_by == Some(route::CATCH_ALL_ROW)
        {
            let custom = self.custom_routes(conn)?;
            if !custom.is_empty() {
                resolved = route::resolve(root, raw_path, form, params, &custom);
            }
        }
        let resolved = resolved.map_err(|e| refused(raw_path, &e))?;
        Ok(Some(Bound {
            entry: resolved.entry,
            params: resolved.params,
        }))
    }

    /// Tiki's active custom routes when `feature_sefurl_routes` is on; none otherwise (and none
    /// on a database without the table).
    fn custom_routes(&self, conn: &mut Conn<'_>) -> Result<Vec<CustomRoute>> {
        let on: Option<sql::Text> =
            match conn.first(Retry::IfBroken, sql::PREFERENCE, (sql::SEF_ROUTES_PREF,)) {
                Ok(v) => v,
                Err(e) if e.code() == Some(sql::NO_SUCH_TABLE) => return Ok(Vec::new()),
                Err(e) => return Err(self.db_error(e)),
            };
        if !on.is_some_and(|v| v.is(b"y")) {
            return Ok(Vec::new());
        }
        match conn.text_rows::<CustomRouteRow>(sql::CUSTOM_ROUTES) {
            Ok(rows) => Ok(rows.into_iter().filter_map(CustomRouteRow::route).collect()),
            Err(e) if e.code() == Some(sql::NO_SUCH_TABLE) => Ok(Vec::new()),
            Err(e) => Err(self.db_error(e)),
        }
    }
}

/// The error of a path minting refuses, naming the path.
fn refused(raw_path: &[u8], why: &dyn std::fmt::Display) -> Error {
    Error::InvalidInput(format!(
        "cannot mint a token for the path {:?} of this site: {why}",
        String::from_utf8_lossy(raw_path)
    ))
}
