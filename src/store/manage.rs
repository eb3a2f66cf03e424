//! Everything but the hot path: get, list, delete, purge, revoke all, secret rotation, Tiki's
//! migration, and what phpinfo reports about the scheme.

use super::cells::Cells;
use super::lookup::temp_user_name;
use super::schema::{PREFS, SECRET_PREF, Schema, TABLE};
use super::{MigrationReport, SchemeInfo, Store, TokenRow};
use crate::error::{Error, Result};
use crate::token::{self, PayloadFields, Scheme, Secret};
use mysql::prelude::Queryable;

/// The condition of an unusable row (SPEC section 3 "Clean-up"), with the database clock:
/// timed out, or out of hits, or half-written (token NULL) for more than a minute.
const UNUSABLE: &str = "((`timeout` <> -1 AND UNIX_TIMESTAMP(`creation`) + `timeout` < UNIX_TIMESTAMP()) \
     OR (`hits` <= 0 AND `hits` <> -1) \
     OR (`token` IS NULL AND `creation` < NOW() - INTERVAL 1 MINUTE))";

/// The stored secret (`None` when absent or empty).
pub(crate) fn stored_secret(conn: &mut impl Queryable) -> mysql::Result<Option<Secret>> {
    let row: Option<mysql::Row> = conn.exec_first(
        format!("SELECT `value` FROM `{PREFS}` WHERE `name` = ?"),
        (SECRET_PREF,),
    )?;
    Ok(row
        .map(Cells::new)
        .and_then(|c| c.bytes(0).map(<[u8]>::to_vec))
        .filter(|v| !v.is_empty())
        .map(Secret::from_text))
}

/// The select list of a [`TokenRow`], columns by name.
fn row_columns(schema: &Schema) -> String {
    let user = if schema.has("user") { "`user`" } else { "NULL" };
    let data = if schema.has("data") { "`data`" } else { "NULL" };
    format!(
        "`tokenId`, CAST(`creation` AS CHAR), `timeout`, `hits`, `maxhits`, `token`, `entry`, \
         `email`, `parameters`, `groups`, `createUser`, `userPrefix`, {user}, {data}"
    )
}

/// A [`TokenRow`] from the cells of [`row_columns`]; texts that are not UTF-8 are shown lossily
/// (an admin listing shows every row, even a damaged one).
fn token_row(c: &Cells) -> TokenRow {
    let text = |i: usize| c.bytes(i).map(|b| String::from_utf8_lossy(b).into_owned());
    TokenRow {
        token_id: c.int(0).unwrap_or_default(),
        creation: text(1).unwrap_or_default(),
        timeout: c.int(2).unwrap_or_default(),
        hits: c.int(3).unwrap_or_default(),
        max_hits: c.int(4).unwrap_or_default(),
        token: text(5),
        entry: c.bytes(6).map(<[u8]>::to_vec).unwrap_or_default(),
        email: text(7).unwrap_or_default(),
        parameters: text(8).unwrap_or_default(),
        groups: text(9).unwrap_or_default(),
        create_user: text(10).unwrap_or_default(),
        user_prefix: text(11).unwrap_or_default(),
        user: text(12),
        data: text(13),
    }
}

/// [`Store::get`].
pub(crate) fn get(store: &Store, presented: &[u8]) -> Result<Option<TokenRow>> {
    if token::precheck(presented).is_err() {
        return Ok(None);
    }
    let schema = store.schema()?;
    let presented_text = String::from_utf8_lossy(presented).into_owned();
    let sql = format!(
        "SELECT {} FROM `{TABLE}` WHERE `token` = ? ORDER BY `tokenId`",
        row_columns(&schema)
    );
    let (mut conn, rows) = store
        .conn
        .first(|c| c.exec::<mysql::Row, _, _>(sql.as_str(), (presented_text.as_str(),)))
        .map_err(|e| fail(store, &e))?;
    store.conn.ok();
    if rows.is_empty() {
        return Ok(None);
    }
    let secret = match (
        &store.config.secret,
        presented.len() == 64 && schema.has_preferences,
    ) {
        (Some(s), _) => Some(s.clone()),
        (None, false) => None,
        (None, true) => match stored_secret(&mut conn) {
            Ok(s) => s,
            Err(e) => {
                let err = fail(store, &e);
                store.conn.release(conn, &e);
                return Err(err);
            }
        },
    };
    for cells in rows.into_iter().map(Cells::new) {
        let (Some(id), Some(creation), Some(timeout), Some(stored)) =
            (cells.int(0), cells.text(1), cells.int(2), cells.bytes(5))
        else {
            continue;
        };
        let (Some(entry), Some(parameters), Some(groups)) = (
            cells.bytes_or_empty(6),
            cells.bytes_or_empty(8),
            cells.bytes_or_empty(9),
        ) else {
            continue;
        };
        let payload = token::payload(&PayloadFields {
            token_id: id,
            creation: &creation,
            timeout,
            entry,
            parameters,
            groups,
        });
        if token::verify(presented, stored, &payload, secret.as_ref()) {
            return Ok(Some(token_row(&cells)));
        }
    }
    Ok(None)
}

/// [`Store::list`].
pub(crate) fn list(store: &Store) -> Result<Vec<TokenRow>> {
    let schema = store.schema()?;
    let sql = format!(
        "SELECT {} FROM `{TABLE}` ORDER BY `creation`, `tokenId`",
        row_columns(&schema)
    );
    let (_conn, rows) = store
        .conn
        .first(|c| c.query::<mysql::Row, _>(sql.as_str()))
        .map_err(|e| fail(store, &e))?;
    store.conn.ok();
    Ok(rows
        .into_iter()
        .map(|r| token_row(&Cells::new(r)))
        .collect())
}

/// [`Store::delete`].
pub(crate) fn delete(store: &Store, token_id: i64) -> Result<Option<String>> {
    store.schema()?;
    let (mut conn, row) = store
        .conn
        .first(|c| {
            c.exec_first::<mysql::Row, _, _>(
                format!("SELECT `createUser`, `userPrefix` FROM `{TABLE}` WHERE `tokenId` = ?"),
                (token_id,),
            )
        })
        .map_err(|e| fail(store, &e))?;
    let Some(row) = row.map(Cells::new) else {
        return Ok(None);
    };
    if let Err(e) = conn.exec_drop(
        format!("DELETE FROM `{TABLE}` WHERE `tokenId` = ?"),
        (token_id,),
    ) {
        let err = fail(store, &e);
        store.conn.release(conn, &e);
        return Err(err);
    }
    store.conn.ok();
    Ok((conn.affected_rows() == 1)
        .then(|| temp_user(&row, token_id))
        .flatten())
}

/// The temporary user name of a row whose first two cells are `createUser`, `userPrefix`.
fn temp_user(c: &Cells, token_id: i64) -> Option<String> {
    (c.text(0).as_deref() == Some("y"))
        .then(|| temp_user_name(&c.text(1).unwrap_or_default(), token_id))
}

/// Rows a purge handles per batch. A purge of 100,000 rows once held every chosen id (and the
/// rows they came in) at once: megabytes that the allocator then kept for the life of the PHP
/// process. Batches bound that, and the DELETE's `IN` list, whatever the limit.
const PURGE_BATCH: u32 = 1000;

/// [`Store::purge`]: batches of [`purge_batch`] until `limit` rows went or none are left. A
/// failure in the first batch is an error; in a later one it ends the purge with what was
/// removed so far (the next purge goes on from there), so no temporary user name is lost.
pub(crate) fn purge(store: &Store, limit: u32) -> Result<Vec<String>> {
    store.schema()?;
    let mut users = Vec::new();
    let mut left = limit;
    let mut first = true;
    while left > 0 {
        let batch = left.min(PURGE_BATCH);
        let (chosen, removed, mut gone) = match purge_batch(store, batch) {
            Ok(done) => done,
            Err(e) if first => return Err(e),
            Err(_) => break,
        };
        first = false;
        users.append(&mut gone);
        left -= chosen;
        // Fewer chosen than asked: nothing more to purge. None removed: the chosen rows changed
        // meanwhile; stop rather than choose them again.
        if chosen < batch || removed == 0 {
            break;
        }
    }
    Ok(users)
}

/// One batch: one bounded SELECT of unusable rows, one DELETE of those ids that re-checks the
/// condition (a row that changed meanwhile stays), and, only when fewer rows went than were
/// chosen, one SELECT to learn which. Returns (rows chosen, rows removed, temporary users of
/// the removed createUser = 'y' rows).
fn purge_batch(store: &Store, limit: u32) -> Result<(u32, u64, Vec<String>)> {
    let (mut conn, rows) = store
        .conn
        .first(|c| {
            c.exec::<mysql::Row, _, _>(
                format!(
                    "SELECT `tokenId`, `createUser`, `userPrefix` FROM `{TABLE}` \
                     WHERE {UNUSABLE} LIMIT ?"
                ),
                (limit,),
            )
        })
        .map_err(|e| fail(store, &e))?;
    let chosen: Vec<(i64, Option<String>)> = rows
        .into_iter()
        .map(Cells::new)
        .filter_map(|c| {
            let id = c.int(0)?;
            let user = (c.text(1).as_deref() == Some("y"))
                .then(|| temp_user_name(&c.text(2).unwrap_or_default(), id));
            Some((id, user))
        })
        .collect();
    if chosen.is_empty() {
        store.conn.ok();
        return Ok((0, 0, Vec::new()));
    }
    // At most `limit` rows came back.
    let count = u32::try_from(chosen.len()).unwrap_or(limit);
    let ids = chosen
        .iter()
        .map(|(id, _)| id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let result = conn
        .query_drop(format!(
            "DELETE FROM `{TABLE}` WHERE `tokenId` IN ({ids}) AND {UNUSABLE}"
        ))
        .and_then(|()| {
            let removed = conn.affected_rows();
            if usize::try_from(removed).ok() == Some(chosen.len()) {
                let users = chosen.iter().filter_map(|(_, u)| u.clone()).collect();
                return Ok((count, removed, users));
            }
            let left: Vec<i64> = conn.query(format!(
                "SELECT `tokenId` FROM `{TABLE}` WHERE `tokenId` IN ({ids})"
            ))?;
            let users = chosen
                .iter()
                .filter(|(id, _)| !left.contains(id))
                .filter_map(|(_, u)| u.clone())
                .collect();
            Ok((count, removed, users))
        });
    match result {
        Ok(done) => {
            store.conn.ok();
            Ok(done)
        }
        Err(e) => {
            let err = fail(store, &e);
            store.conn.release(conn, &e);
            Err(err)
        }
    }
}

/// [`Store::revoke_all`]: every row that exists now goes (rows minted meanwhile, with a higher
/// id, stay); the temporary users of the removed createUser = 'y' rows are returned.
pub(crate) fn revoke_all(store: &Store) -> Result<Vec<String>> {
    store.schema()?;
    let (mut conn, rows) = store
        .conn
        .first(|c| {
            c.query::<mysql::Row, _>(format!(
                "SELECT `createUser`, `userPrefix`, `tokenId` FROM `{TABLE}`"
            ))
        })
        .map_err(|e| fail(store, &e))?;
    let rows: Vec<Cells> = rows.into_iter().map(Cells::new).collect();
    let Some(max) = rows.iter().filter_map(|c| c.int(2)).max() else {
        store.conn.ok();
        return Ok(Vec::new());
    };
    if let Err(e) = conn.exec_drop(
        format!("DELETE FROM `{TABLE}` WHERE `tokenId` <= ?"),
        (max,),
    ) {
        let err = fail(store, &e);
        store.conn.release(conn, &e);
        return Err(err);
    }
    store.conn.ok();
    Ok(rows
        .iter()
        .filter_map(|c| c.int(2).and_then(|id| temp_user(c, id)))
        .collect())
}

/// [`Store::rotate_secret`].
pub(crate) fn rotate_secret(store: &Store, revoke: bool) -> Result<Vec<String>> {
    if store.config.secret.is_some() {
        return Err(Error::Config(
            "the signing secret comes from the configuration: change it there".into(),
        ));
    }
    let schema = store.schema()?;
    if !schema.has_preferences {
        return Err(Error::Schema(format!(
            "there is no table {PREFS}(name, value) to keep the secret in"
        )));
    }
    let secret = token::new_secret()?;
    let (_conn, ()) = store
        .conn
        .first(|c| {
            c.exec_drop(
                format!("REPLACE INTO `{PREFS}` (`name`, `value`) VALUES (?, ?)"),
                (SECRET_PREF, secret.expose()),
            )
        })
        .map_err(|e| fail(store, &e))?;
    store.conn.ok();
    if revoke {
        revoke_all(store)
    } else {
        Ok(Vec::new())
    }
}

/// [`Store::migrate`]: detects the schema afresh, applies the missing clauses in one ALTER
/// TABLE, inserts a secret with INSERT IGNORE, and keeps the new schema.
pub(crate) fn migrate(store: &Store) -> Result<MigrationReport> {
    let schema = store.detect_schema()?;
    let plan = schema.migration_plan();
    if !schema.has_preferences {
        return Err(Error::Schema(format!(
            "there is no table {PREFS}(name, value) to keep the secret in"
        )));
    }
    let secret = token::new_secret()?;
    let (mut conn, ()) = store
        .conn
        .first(|c| {
            if plan.is_empty() {
                Ok(())
            } else {
                c.query_drop(format!("ALTER TABLE `{TABLE}` {}", plan.join(", ")))
            }
        })
        .map_err(|e| fail(store, &e))?;
    let inserted = conn
        .exec_drop(
            format!("INSERT IGNORE INTO `{PREFS}` (`name`, `value`) VALUES (?, ?)"),
            (SECRET_PREF, secret.expose()),
        )
        .map(|()| conn.affected_rows() == 1);
    let secret_created = match inserted {
        Ok(b) => b,
        Err(e) => {
            let err = fail(store, &e);
            store.conn.release(conn, &e);
            return Err(err);
        }
    };
    drop(conn);
    store.detect_schema()?;
    Ok(MigrationReport {
        altered: plan,
        secret_created,
    })
}

/// [`Store::scheme_info`].
pub(crate) fn scheme_info(store: &Store) -> Result<crate::store::SchemeInfo> {
    let schema = store.schema()?;
    let has_secret = match &store.config.secret {
        Some(_) => true,
        None if schema.has_preferences => {
            let (_conn, s) = store
                .conn
                .first(stored_secret)
                .map_err(|e| fail(store, &e))?;
            s.is_some()
        }
        None => false,
    };
    store.conn.ok();
    let minting = if schema.can_sign() && has_secret && !store.config.force_legacy {
        Scheme::Signed
    } else {
        Scheme::Legacy
    };
    Ok(SchemeInfo {
        minting,
        needs_migration: !schema.migration_plan().is_empty() || !has_secret,
        token_width: schema.token_width(),
        has_secret,
    })
}

/// A mysql error as this crate's error; forgets the schema when the error says it changed.
fn fail(store: &Store, e: &mysql::Error) -> Error {
    store.forget_schema_on(e);
    store.conn.error(e)
}
