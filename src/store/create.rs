//! Minting (SPEC section 2 "Minting"), in named steps: [`Row::new`] (caps, params a request
//! can carry, JSON texts), [`Row::check`] (against the real columns, before anything is
//! written), [`Store::insert`] (INSERT with token NULL; never retried, so a lost answer cannot
//! leave a second row), [`Store::finish`] (the new row read back by its own insert id, its token
//! computed from the row exactly as the server renders it, then written). On any failure after
//! the INSERT the half-written row is deleted (and `purge` removes any that survive, once older
//! than a minute).

use super::config::StoreConfig;
use super::handle::Store;
use super::model::{CreateOptions, Created};
use super::pool::{Conn, Retry};
use super::schema::Schema;
use super::sql::{self, StoredRow};
use crate::canon::query::{QueryLimits, parse_query};
use crate::canon::{
    Key, Params, PhpArray, TOKEN_PARAM, Value, http_query, json, match_params, url,
};
use crate::error::{Error, Result};
use crate::request;
use crate::token::{self, Scheme, Secret};

/// Tiki's default prefix of temporary user names, used when none is given.
const DEFAULT_USER_PREFIX: &str = "_token";

impl Store {
    /// Creates a token bound to `entry` and `params` for `groups` (SPEC section 2, "Minting"):
    /// signed when the table's token column is 64 wide and a secret exists (and not
    /// `force_legacy`), legacy MD5 otherwise. With a site root configured, an entry that is a
    /// SEF path below it (`/tiki/HomePage`, written as in a URL) is bound to what Tiki's router
    /// serves there (SPEC section 6).
    ///
    /// # Errors
    /// Input too wide for its column or not storable ([`Error::InvalidInput`], nothing written),
    /// params no request can carry, a missing table or column ([`Error::Schema`]), database
    /// failure ([`Error::Database`]; a half-written row is removed).
    pub fn create(
        &self,
        entry: &[u8],
        params: &Params,
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<Created> {
        self.guarded(|| {
            let mut conn = self.conn.checkout();
            // An entry given as a SEF path below the site root is bound to what Tiki's router
            // serves there (src/store/sef.rs); anything else as given.
            match self.route_binding(&mut conn, entry, params, true)? {
                Some(b) => self.mint(&mut conn, &b.entry, &b.params, groups, options),
                None => self.mint(&mut conn, entry, params, groups, options),
            }
        })
    }

    /// The steps of minting on `conn`, for exactly this (entry, params).
    fn mint(
        &self,
        conn: &mut Conn<'_>,
        entry: &[u8],
        params: &Params,
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<Created> {
        let row = Row::new(&self.config, entry, params, groups, options)?;
        // The table as it is now, not as this process first saw it: a migration (or a table
        // dropped and created again) by another process must change what is minted.
        let schema = self.detect_schema(conn)?;
        row.check(&schema)?;
        let (id, secret) = self.insert(conn, &schema, &row)?;
        let scheme = if secret.is_some() {
            Scheme::Signed
        } else {
            Scheme::Legacy
        };
        match self.finish(conn, &schema, id, scheme, secret.as_ref()) {
            Ok(token) => Ok(Created {
                token_id: id,
                token,
                scheme,
            }),
            Err(e) => {
                // Remove the half-written row (on a fresh connection if this one broke).
                let _ = conn.write(Retry::IfBroken, sql::DELETE_BY_ID, (id,));
                Err(e)
            }
        }
    }

    /// Creates a token for a full URL and returns the URL with `TOKEN=…` appended as the last
    /// query parameter (SPEC section 4; a SEF URL stays as it was given, its token bound to what
    /// Tiki's router serves there): `origin + path + '?' + http_build_query(params) + '&' +
    /// 'TOKEN=' + token + '#' + fragment`. Requesting that URL matches the token.
    ///
    /// # Errors
    /// As [`Store::create`], and a URL that cannot be split.
    pub fn include_token(
        &self,
        url_text: &[u8],
        groups: &[String],
        options: &CreateOptions,
    ) -> Result<(String, Created)> {
        let split = url::split_url(url_text)?;
        let created = self.guarded(|| {
            let mut conn = self.conn.checkout();
            // A SEF URL is bound to what Tiki's router serves there (src/store/sef.rs); with a
            // site root, a URL outside it is refused.
            match self.route_binding(&mut conn, split.raw_path.as_bytes(), &split.params, false)? {
                Some(b) => self.mint(&mut conn, &b.entry, &b.params, groups, options),
                None => self.mint(&mut conn, &split.entry, &split.params, groups, options),
            }
        })?;
        let query = http_query::build_query(&split.params);
        let mut out = String::with_capacity(
            split.origin.len() + split.raw_path.len() + query.len() + created.token.len() + 16,
        );
        out.push_str(&split.origin);
        out.push_str(&split.raw_path);
        out.push('?');
        if !query.is_empty() {
            out.push_str(&query);
            out.push('&');
        }
        out.push_str("TOKEN=");
        out.push_str(&created.token);
        if let Some(fragment) = &split.fragment {
            out.push('#');
            out.push_str(fragment);
        }
        Ok((out, created))
    }

    /// Inserts the row with token NULL, never twice; returns its id and the secret to sign it
    /// with (`None`: a legacy token).
    pub(super) fn insert(
        &self,
        conn: &mut Conn<'_>,
        schema: &Schema,
        row: &Row<'_>,
    ) -> Result<(i64, Option<Secret>)> {
        let may_sign = schema.can_sign() && !self.config.force_legacy;
        let given = self.given_secret().cloned();
        let stored = if may_sign && given.is_none() && schema.has_preferences {
            self.stored_secret(conn)?
        } else {
            None
        };
        let user = row.user.filter(|_| schema.has("user"));
        let data = row.data.as_deref().filter(|_| schema.has("data"));
        let mut values: Vec<mysql::Value> = vec![
            row.timeout.into(),
            row.hits.into(),
            row.max_hits.into(),
            row.entry.to_vec().into(),
            row.email.into(),
            row.parameters.as_str().into(),
            row.groups.as_str().into(),
            (if row.create_user { "y" } else { "n" }).into(),
            row.user_prefix.into(),
        ];
        values.extend(user.map(mysql::Value::from));
        values.extend(data.map(mysql::Value::from));
        let written = conn
            .write(
                Retry::Never,
                &sql::insert(user.is_some(), data.is_some()),
                values,
            )
            .map_err(|e| self.db_error(e))?;
        let id = i64::try_from(written.last_insert_id).map_err(|_| {
            Error::Database(format!(
                "the INSERT returned the id {}",
                written.last_insert_id
            ))
        })?;
        if id == 0 {
            return Err(Error::Database(
                "the INSERT returned no id: is tokenId AUTO_INCREMENT?".into(),
            ));
        }
        let secret = given.or(stored).filter(|_| may_sign);
        Ok((id, secret))
    }

    /// Reads the new row back, computes its token from the row as stored and rendered by the
    /// server, and writes it.
    pub(super) fn finish(
        &self,
        conn: &mut Conn<'_>,
        schema: &Schema,
        id: i64,
        scheme: Scheme,
        secret: Option<&Secret>,
    ) -> Result<String> {
        let row: Option<StoredRow> = conn
            .first(Retry::IfBroken, &schema.sql.by_id, (id,))
            .map_err(|e| self.db_error(e))?;
        let row = row.ok_or_else(|| Error::Database(format!("the new row {id} is gone")))?;
        let payload = row
            .payload()
            .ok_or_else(|| Error::Database(format!("the new row {id} cannot be read back")))?;
        let token = token::compute(scheme, &payload, secret)
            .ok_or_else(|| Error::Database("cannot sign: no secret".into()))?;
        let written = conn
            .write(Retry::IfBroken, sql::SET_TOKEN, (token.as_str(), id))
            .map_err(|e| self.db_error(e))?;
        if written.affected != 1 {
            return Err(Error::Database(format!(
                "the new row {id} changed before its token was written"
            )));
        }
        Ok(token)
    }
}

/// The values of a new row, capped and encoded, before anything is written.
pub(super) struct Row<'a> {
    entry: &'a [u8],
    timeout: i64,
    hits: i64,
    max_hits: i64,
    parameters: String,
    groups: String,
    email: &'a str,
    create_user: bool,
    user_prefix: &'a str,
    user: Option<&'a str>,
    /// The caller's data, with `allowPost` merged in when asked for.
    data: Option<String>,
    allow_post: bool,
}

impl<'a> Row<'a> {
    /// Applies Tiki's caps and refuses what no request can carry or no column can hold as JSON.
    fn new(
        config: &StoreConfig,
        entry: &'a [u8],
        params: &Params,
        groups: &[String],
        options: &'a CreateOptions,
    ) -> Result<Self> {
        let timeout = cap(options.timeout, config.max_timeout, "timeout")?;
        let hits = cap(options.hits, config.max_hits, "hits")?;
        let parameters = encode_params(params)?;
        let groups = encode_groups(groups)?;
        // The caller's data with the POST flag merged in (a caller's own `allowPost` refused).
        let data = request::data_to_store(options.data.as_deref(), options.allow_post)?;
        let mut row = Self::of(entry, timeout, hits, hits, parameters, groups, options)?;
        row.data = data;
        if row.user_prefix.is_empty() {
            row.user_prefix = DEFAULT_USER_PREFIX;
        }
        Ok(row)
    }

    /// A row of values already decided (capped, encoded): timeout and hits as stored, the
    /// JSON texts of the parameters and groups, the rest from `options` as given (`data` must
    /// be JSON text, and is stored as given: a re-issue carries a row's data, POST flag
    /// included, over as it was).
    pub(super) fn of(
        entry: &'a [u8],
        timeout: i64,
        hits: i64,
        max_hits: i64,
        parameters: String,
        groups: String,
        options: &'a CreateOptions,
    ) -> Result<Self> {
        let data = match &options.data {
            Some(text) => {
                json::decode(text.as_bytes())
                    .map_err(|e| Error::InvalidInput(format!("data must be JSON text: {e}")))?;
                Some(text.clone())
            }
            None => None,
        };
        Ok(Self {
            entry,
            timeout,
            hits,
            max_hits,
            parameters,
            groups,
            email: &options.email,
            create_user: options.create_user,
            user_prefix: &options.user_prefix,
            user: options.user.as_deref(),
            data,
            allow_post: options.allow_post,
        })
    }

    /// Every value against the real column it goes into: nothing is ever stored truncated.
    pub(super) fn check(&self, schema: &Schema) -> Result<()> {
        schema.check("entry", "the entry", self.entry)?;
        schema.check(
            "parameters",
            "the parameters as JSON",
            self.parameters.as_bytes(),
        )?;
        schema.check("groups", "the groups as JSON", self.groups.as_bytes())?;
        schema.check("email", "the email", self.email.as_bytes())?;
        schema.check("userPrefix", "the user prefix", self.user_prefix.as_bytes())?;
        if let Some(u) = self.user {
            schema.check("user", "the user", u.as_bytes())?;
        }
        if let Some(d) = &self.data {
            schema.check("data", "the data", d.as_bytes())?;
        }
        // The POST flag lives in `data`; the upload script needs none (POST is allowed there).
        if self.allow_post && !schema.has("data") && !request::is_upload_entry(self.entry) {
            return Err(Error::InvalidInput(
                "allowPost needs the data column of Tiki trunk's table, which this table lacks \
                 (Tiki 24's layout): apply the migration (TikiTokens\\Store::migrate()) first"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The params of a new token as their JSON text, once they are known to be carriable.
pub(super) fn encode_params(params: &Params) -> Result<String> {
    carriable(params)?;
    Ok(json::encode_params(params)?)
}

/// The groups of a new token as their JSON text (a list of strings).
pub(super) fn encode_groups(groups: &[String]) -> Result<String> {
    let group_list: PhpArray = groups
        .iter()
        .map(|g| Value::Str(g.as_bytes().to_vec()))
        .enumerate()
        .map(|(i, v)| (Key::Int(i64::try_from(i).unwrap_or(i64::MAX)), v))
        .collect();
    Ok(json::encode_value(&Value::Array(group_list))?)
}

/// Tiki's caps: `None` or 0 → the maximum; -1 → unlimited; else at most the maximum (a
/// maximum of -1 means no cap). The result fits the INT column.
pub(super) fn cap(requested: Option<i64>, max: i64, what: &str) -> Result<i64> {
    if max != -1 && max <= 0 {
        return Err(Error::Config(format!(
            "the maximum {what} must be positive or -1 (no cap), not {max}"
        )));
    }
    let v = match requested {
        None | Some(0) => max,
        Some(-1) => -1,
        Some(n) if n < 0 => {
            return Err(Error::InvalidInput(format!(
                "{what} must be positive, 0 (the maximum) or -1 (unlimited), not {n}"
            )));
        }
        Some(n) if max == -1 => n,
        Some(n) => n.min(max),
    };
    i32::try_from(v)
        .map(i64::from)
        .map_err(|_| Error::InvalidInput(format!("{what} {v} does not fit the INT column")))
}

/// Refuses params that no request can carry, so that no token is minted that can never be
/// used: floats, booleans and nulls (a request only has strings, and the match rule never
/// matches them), empty arrays (`http_build_query` drops them, so no URL carries them), a
/// `TOKEN` parameter, and anything else that does not come back unchanged from
/// `http_build_query` → PHP's `$_GET` parser (names with `.`, spaces or brackets, too many
/// variables, …).
fn carriable(params: &Params) -> Result<()> {
    fn walk(a: &PhpArray, path: &mut Vec<String>) -> Result<()> {
        for (k, v) in a.iter() {
            path.push(String::from_utf8_lossy(&k.to_bytes()).into_owned());
            let what = match v {
                Value::Float(_) => Some("a float"),
                Value::Bool(_) => Some("a boolean"),
                Value::Null => Some("null"),
                Value::Array(inner) if inner.is_empty() => Some("an empty array"),
                Value::Array(inner) => {
                    walk(inner, path)?;
                    None
                }
                Value::Str(_) | Value::Int(_) => None,
            };
            if let Some(what) = what {
                return Err(Error::InvalidInput(format!(
                    "the parameter [{}] is {what}: no request can carry it",
                    path.join("][")
                )));
            }
            path.pop();
        }
        Ok(())
    }
    walk(params, &mut Vec::new())?;
    if params
        .get_ref(crate::canon::tree::KeyRef::Str(TOKEN_PARAM))
        .is_some()
    {
        return Err(Error::InvalidInput(
            "a parameter named TOKEN cannot be bound: it carries the token".into(),
        ));
    }
    let query = http_query::build_query(params);
    let back = parse_query(query.as_bytes(), QueryLimits::default());
    match_params(params, &back).map_err(|m| {
        let path: Vec<String> = m
            .path
            .iter()
            .map(|k| String::from_utf8_lossy(&k.to_bytes()).into_owned())
            .collect();
        Error::InvalidInput(format!(
            "the parameter [{}] does not survive a URL (PHP would read the query `{query}` \
             differently): no request can carry it",
            path.join("][")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_follow_tiki() {
        assert_eq!(cap(None, 604_800, "timeout").unwrap(), 604_800);
        assert_eq!(cap(Some(0), 10, "hits").unwrap(), 10);
        assert_eq!(cap(Some(-1), 10, "hits").unwrap(), -1);
        assert_eq!(cap(Some(5), 10, "hits").unwrap(), 5);
        assert_eq!(cap(Some(50), 10, "hits").unwrap(), 10);
        assert_eq!(cap(Some(50), -1, "hits").unwrap(), 50);
        assert_eq!(cap(None, -1, "hits").unwrap(), -1);
        assert!(matches!(
            cap(Some(-2), 10, "hits"),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            cap(Some(1 << 40), -1, "timeout"),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(cap(None, 0, "hits"), Err(Error::Config(_))));
    }

    #[test]
    fn uncarriable_params_are_named() {
        let mut inner = PhpArray::new();
        inner.insert(Key::Str(b"x".to_vec()), Value::Float(1.5));
        let mut p = PhpArray::new();
        p.insert(Key::Str(b"a".to_vec()), Value::Str(b"1".to_vec()));
        p.insert(Key::Str(b"b".to_vec()), Value::Array(inner));
        let e = carriable(&p).unwrap_err().to_string();
        assert!(e.contains("[b][x]") && e.contains("float"), "{e}");
        for v in [
            Value::Bool(true),
            Value::Null,
            Value::Array(PhpArray::new()),
        ] {
            let mut p = PhpArray::new();
            p.insert(Key::Str(b"a".to_vec()), v);
            assert!(carriable(&p).is_err());
        }
    }
}
