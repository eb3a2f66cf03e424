//! Minting (SPEC section 2 "Minting"): caps, checks against the real columns before anything
//! is written, INSERT with token NULL → the new row read back by its own insert id on the same
//! connection → token computed from the row exactly as the server renders it → UPDATE. On any
//! failure after the INSERT the half-written row is deleted (and `purge` removes any that
//! survive, once older than a minute).

use super::cells::Cells;
use super::pool::{Fault, fault};
use super::schema::TABLE;
use super::{CreateOptions, Created, Store};
use crate::canon::query::{QueryLimits, parse_query};
use crate::canon::{
    Key, Params, PhpArray, TOKEN_PARAM, Value, http_query, json, match_params, url,
};
use crate::error::{Error, Result};
use crate::token::{self, PayloadFields, Scheme, Secret};
use mysql::prelude::Queryable;

/// Tiki's default prefix of temporary user names, used when none is given.
const DEFAULT_USER_PREFIX: &str = "_token";

/// [`Store::create`].
pub(crate) fn create(
    store: &Store,
    entry: &[u8],
    params: &Params,
    groups: &[String],
    options: &CreateOptions,
) -> Result<Created> {
    let timeout = cap(options.timeout, store.config.max_timeout, "timeout")?;
    let hits = cap(options.hits, store.config.max_hits, "hits")?;
    carriable(params)?;
    let parameters = json::encode_params(params)?;
    let group_list: PhpArray = groups
        .iter()
        .map(|g| Value::Str(g.as_bytes().to_vec()))
        .enumerate()
        .map(|(i, v)| (Key::Int(i64::try_from(i).unwrap_or(i64::MAX)), v))
        .collect();
    let groups_json = json::encode_value(&Value::Array(group_list))?;
    let user_prefix = if options.user_prefix.is_empty() {
        DEFAULT_USER_PREFIX
    } else {
        options.user_prefix.as_str()
    };
    if let Some(data) = &options.data {
        json::decode(data.as_bytes())
            .map_err(|e| Error::InvalidInput(format!("data must be JSON text: {e}")))?;
    }

    let schema = store.schema()?;
    let check = |column: &str, what: &str, value: &[u8]| -> Result<()> {
        match schema.column(column) {
            Some(c) => c.check(what, value).map_err(Error::InvalidInput),
            None => Ok(()),
        }
    };
    check("entry", "the entry", entry)?;
    check(
        "parameters",
        "the parameters as JSON",
        parameters.as_bytes(),
    )?;
    check("groups", "the groups as JSON", groups_json.as_bytes())?;
    check("email", "the email", options.email.as_bytes())?;
    check("userPrefix", "the user prefix", user_prefix.as_bytes())?;
    let user = options.user.as_deref().filter(|_| schema.has("user"));
    let data = options.data.as_deref().filter(|_| schema.has("data"));
    if let Some(u) = user {
        check("user", "the user", u.as_bytes())?;
    }
    if let Some(d) = data {
        check("data", "the data", d.as_bytes())?;
    }

    let insert = insert_sql(user.is_some(), data.is_some());
    let mut values: Vec<mysql::Value> = vec![
        timeout.into(),
        hits.into(),
        hits.into(),
        entry.to_vec().into(),
        options.email.as_str().into(),
        parameters.as_str().into(),
        groups_json.as_str().into(),
        (if options.create_user { "y" } else { "n" }).into(),
        user_prefix.into(),
    ];
    values.extend(user.map(mysql::Value::from));
    values.extend(data.map(mysql::Value::from));

    let may_sign = schema.can_sign() && !store.config.force_legacy;
    let read_stored_secret = may_sign && store.config.secret.is_none() && schema.has_preferences;
    let (mut conn, (stored_secret, id)) = store
        .conn
        .first(|c| {
            let stored = if read_stored_secret {
                super::manage::stored_secret(c)?
            } else {
                None
            };
            c.exec_drop(insert.as_str(), values.clone())?;
            Ok((stored, c.last_insert_id()))
        })
        .map_err(|e| {
            store.forget_schema_on(&e);
            store.conn.error(&e)
        })?;
    store.conn.ok();
    let Ok(id) = i64::try_from(id) else {
        return Err(Error::Database(format!("the INSERT returned the id {id}")));
    };
    if id == 0 {
        return Err(Error::Database(
            "the INSERT returned no id: is tokenId AUTO_INCREMENT?".into(),
        ));
    }
    let secret = store
        .config
        .secret
        .clone()
        .or(stored_secret)
        .filter(|_| may_sign);
    let scheme = if secret.is_some() {
        Scheme::Signed
    } else {
        Scheme::Legacy
    };

    match finish(&mut conn, id, scheme, secret.as_ref()) {
        Ok(token) => Ok(Created {
            token_id: id,
            token,
            scheme,
        }),
        Err(step) => {
            let err = match &step {
                Step::Db(e) => store.conn.error(e),
                Step::Other(e) => Error::Database(e.clone()),
            };
            // Remove the half-written row, on this connection if it is sound.
            let conn = match &step {
                Step::Db(e) if fault(e) != Fault::Statement => {
                    store.conn.release(conn, e);
                    store.conn.conn().ok()
                }
                _ => Some(conn),
            };
            if let Some(mut c) = conn {
                let sql = format!("DELETE FROM `{TABLE}` WHERE `tokenId` = ?");
                if let Err(e) = c.exec_drop(sql, (id,)) {
                    store.conn.release(c, &e);
                }
            }
            Err(err)
        }
    }
}

/// Why finishing a new row failed.
enum Step {
    Db(mysql::Error),
    Other(String),
}

impl From<mysql::Error> for Step {
    fn from(e: mysql::Error) -> Self {
        Step::Db(e)
    }
}

/// Reads the new row back, computes its token from the row as stored and rendered by the
/// server, and writes it.
fn finish(
    conn: &mut mysql::PooledConn,
    id: i64,
    scheme: Scheme,
    secret: Option<&Secret>,
) -> Result<String, Step> {
    let row: Option<mysql::Row> = conn.exec_first(
        format!(
            "SELECT `tokenId`, CAST(`creation` AS CHAR), `timeout`, `entry`, `parameters`, \
             `groups` FROM `{TABLE}` WHERE `tokenId` = ?"
        ),
        (id,),
    )?;
    let row = row
        .map(Cells::new)
        .ok_or_else(|| Step::Other(format!("the new row {id} is gone")))?;
    let unreadable = || Step::Other(format!("the new row {id} cannot be read back"));
    let creation = row.text(1).ok_or_else(unreadable)?;
    let payload = token::payload(&PayloadFields {
        token_id: row.int(0).ok_or_else(unreadable)?,
        creation: &creation,
        timeout: row.int(2).ok_or_else(unreadable)?,
        entry: row.bytes_or_empty(3).ok_or_else(unreadable)?,
        parameters: row.bytes_or_empty(4).ok_or_else(unreadable)?,
        groups: row.bytes_or_empty(5).ok_or_else(unreadable)?,
    });
    let token = token::compute(scheme, &payload, secret)
        .ok_or_else(|| Step::Other("cannot sign: no secret".into()))?;
    conn.exec_drop(
        format!("UPDATE `{TABLE}` SET `token` = ? WHERE `tokenId` = ? AND `token` IS NULL"),
        (token.as_str(), id),
    )?;
    if conn.affected_rows() != 1 {
        return Err(Step::Other(format!(
            "the new row {id} changed before its token was written"
        )));
    }
    Ok(token)
}

/// The INSERT of a new row, columns by name; `token` NULL, `creation` by its default.
fn insert_sql(user: bool, data: bool) -> String {
    let mut cols = String::from(
        "`timeout`, `hits`, `maxhits`, `token`, `entry`, `email`, `parameters`, `groups`, \
         `createUser`, `userPrefix`",
    );
    let mut marks = String::from("?, ?, ?, NULL, ?, ?, ?, ?, ?, ?");
    for (has, col) in [(user, "`user`"), (data, "`data`")] {
        if has {
            cols.push_str(", ");
            cols.push_str(col);
            marks.push_str(", ?");
        }
    }
    format!("INSERT INTO `{TABLE}` ({cols}) VALUES ({marks})")
}

/// Tiki's caps: `None` or 0 → the maximum; -1 → unlimited; else at most the maximum (a
/// maximum of -1 means no cap). The result fits the INT column.
fn cap(requested: Option<i64>, max: i64, what: &str) -> Result<i64> {
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

/// [`Store::include_token`].
pub(crate) fn include_token(
    store: &Store,
    url_text: &[u8],
    groups: &[String],
    options: &CreateOptions,
) -> Result<(String, Created)> {
    let split = url::split_url(url_text)?;
    let created = create(store, &split.entry, &split.params, groups, options)?;
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
