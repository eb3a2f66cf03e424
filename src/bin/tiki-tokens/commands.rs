//! The subcommands that work on tokens, each through the store's public API only: mint, list,
//! show, revoke, purge, migrate, rotate-secret, and config (where the database comes from).
//! Bad input is refused before anything is written.

use super::args::{Cli, EditArgs, MintArgs, SefArgs};
use super::config::{self, Found};
use super::exit::{Exit, Failure};
use super::output::{self, print_fields, print_json, row_json};
use serde_json::json;
use std::io::IsTerminal;
use tiki_tokens::Error;
use tiki_tokens::canon::route::PathForm;
use tiki_tokens::store::{CreateOptions, HitsChange, Store, StoreConfig, TokenChanges, TokenRow};

/// Rows one purge call removes at most (the store works in batches of this size too).
const PURGE_BATCH: u32 = 1000;

/// A store on the discovered database, and how to tell its failures.
pub struct Ctx {
    /// The database and where it came from.
    pub found: Found,
    /// The store.
    pub store: Store,
    /// `--json`.
    pub json: bool,
}

impl Ctx {
    /// The store on the database `cli` names; `adjust` may change the configuration (caps).
    pub fn open(cli: &Cli, adjust: impl FnOnce(&mut StoreConfig)) -> Result<Self, Failure> {
        let found = config::discover(cli.dsn.as_deref(), cli.tiki.as_deref(), cli.site.as_deref())?;
        let mut store_config = StoreConfig::new(found.dsn.clone());
        adjust(&mut store_config);
        let store = Store::new(store_config).map_err(|e| fail(e, &found))?;
        Ok(Self {
            found,
            store,
            json: cli.json,
        })
    }

    /// A store error as a failure that names the database (password masked).
    pub fn fail(&self, e: Error) -> Failure {
        fail(e, &self.found)
    }
}

/// A store error as a failure; database and schema errors name the database.
pub fn fail(e: Error, found: &Found) -> Failure {
    let mut f = Failure::from(e);
    if matches!(f.exit, Exit::Database | Exit::Schema | Exit::Config) {
        f.message = format!(
            "{} [database {} from {}]",
            f.message,
            found.shown(),
            found.source.describe()
        );
    }
    f
}

/// `mint`: the URL with `TOKEN=…` on stdout (a note on stderr), or JSON.
pub fn mint(cli: &Cli, a: &MintArgs) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |c| {
        c.max_hits = a.max_hits;
        c.max_timeout = a.max_timeout;
        a.sef.apply(c);
    })?;
    let options = CreateOptions {
        timeout: a.timeout,
        hits: a.hits,
        email: a.email.clone(),
        create_user: a.create_user,
        user_prefix: a.user_prefix.clone().unwrap_or_default(),
        ..CreateOptions::default()
    };
    let (url, created) = ctx
        .store
        .include_token(a.url.as_bytes(), &a.groups, &options)
        .map_err(|e| ctx.fail(e))?;
    let row = ctx
        .store
        .get(created.token.as_bytes())
        .map_err(|e| ctx.fail(e))?;
    if ctx.json {
        print_json(&json!({
            "url": url,
            "tokenId": created.token_id,
            "token": created.token,
            "scheme": created.scheme.as_str(),
            "row": row.as_ref().map(row_json),
        }));
        return Ok(Exit::Ok);
    }
    println!("{url}");
    if let Some(r) = &row {
        eprintln!(
            "token {} ({}), {} hits, expires {}",
            r.token_id,
            created.scheme.as_str(),
            if r.hits == -1 {
                "unlimited".into()
            } else {
                r.hits.to_string()
            },
            output::expires(&r.creation, r.timeout)
        );
        note_caps(a, r);
    }
    if created.scheme == tiki_tokens::token::Scheme::Legacy {
        eprintln!(
            "warning: a legacy MD5 token (the table has not been migrated): see `tiki-tokens doctor`"
        );
    }
    Ok(Exit::Ok)
}

/// Tells when the caps cut the hits or the timeout asked for.
fn note_caps(a: &MintArgs, r: &TokenRow) {
    if a.hits.is_some_and(|h| h > 0 && r.hits < h) {
        eprintln!("note: hits capped at {} (--max-hits)", r.hits);
    }
    if a.timeout.is_some_and(|t| t > 0 && r.timeout < t) {
        eprintln!("note: timeout capped at {} s (--max-timeout)", r.timeout);
    }
}

/// `list`: every row, oldest first.
pub fn list(cli: &Cli) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |_| {})?;
    let rows = ctx.store.list().map_err(|e| ctx.fail(e))?;
    if ctx.json {
        let tokens: Vec<_> = rows.iter().map(row_json).collect();
        print_json(&json!({ "count": rows.len(), "tokens": tokens }));
    } else if rows.is_empty() {
        println!("no tokens");
    } else {
        let cells: Vec<Vec<String>> = rows.iter().map(output::row_cells).collect();
        output::print_table(&output::ROW_HEADER, &cells);
    }
    Ok(Exit::Ok)
}

/// What `show` was given.
enum Wanted {
    Id(i64),
    Token(String),
}

/// A token value is 32 or 64 hex characters; anything else made of digits is an id.
fn wanted(arg: &str) -> Result<Wanted, Failure> {
    let hex = arg.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && (arg.len() == 32 || arg.len() == 64) {
        return Ok(Wanted::Token(arg.to_string()));
    }
    match arg.parse::<i64>() {
        Ok(id) if arg.bytes().all(|b| b.is_ascii_digit()) => Ok(Wanted::Id(id)),
        _ => Err(Failure::new(
            Exit::Usage,
            "expected a tokenId (digits) or a token value (32 or 64 hex characters)",
        )),
    }
}

/// `show TOKEN|ID`.
pub fn show(cli: &Cli, arg: &str) -> Result<Exit, Failure> {
    let wanted = wanted(arg)?;
    let ctx = Ctx::open(cli, |_| {})?;
    let row = match &wanted {
        Wanted::Id(id) => ctx
            .store
            .list()
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .find(|r| r.token_id == *id),
        Wanted::Token(t) => ctx.store.get(t.as_bytes()).map_err(|e| ctx.fail(e))?,
    };
    let Some(row) = row else {
        return Err(Failure::new(
            Exit::Problem,
            match wanted {
                Wanted::Id(id) => format!("no token with id {id}"),
                Wanted::Token(_) => "no token has this value (or it does not verify)".into(),
            },
        ));
    };
    if ctx.json {
        print_json(&row_json(&row));
    } else {
        print_fields(&output::row_fields(&row));
    }
    Ok(Exit::Ok)
}

impl SefArgs {
    /// The site root and path form into a store's configuration.
    fn apply(&self, c: &mut StoreConfig) {
        c.site_root = self.tiki_root.clone().filter(|r| !r.is_empty());
        c.path_form = if self.path_form == "decoded" {
            PathForm::Decoded
        } else {
            PathForm::Raw
        };
    }
}

/// `edit ID`: in place when only fields outside the token's value change, else a re-issue.
pub fn edit(cli: &Cli, a: &EditArgs) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |c| {
        c.max_timeout = a.max_timeout;
        c.max_hits = -1;
        a.sef.apply(c);
    })?;
    let changes = TokenChanges {
        hits: a
            .hits
            .map(HitsChange::Set)
            .or(a.add_hits.map(HitsChange::Add)),
        max_hits: a.max_hits,
        email: a.email.clone(),
        create_user: a.create_user,
        user_prefix: a.user_prefix.clone(),
        timeout: a.timeout,
        groups: (!a.groups.is_empty()).then(|| a.groups.clone()),
        url: a.url.as_ref().map(|u| u.as_bytes().to_vec()),
        ..TokenChanges::default()
    };
    let none = || Failure::new(Exit::Problem, format!("no token with id {}", a.id));
    if changes.inside_value().is_empty() {
        let row = ctx
            .store
            .edit(a.id, &changes)
            .map_err(|e| ctx.fail(e))?
            .ok_or_else(none)?;
        if ctx.json {
            print_json(&json!({ "reissued": false, "row": row_json(&row), "url": row.link() }));
        } else {
            println!("token {} changed in place; its link stays:", row.token_id);
            println!("{}", row.link().unwrap_or_default());
        }
        return Ok(Exit::Ok);
    }
    let new = ctx
        .store
        .reissue(a.id, &changes)
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(none)?;
    if ctx.json {
        print_json(&json!({
            "reissued": true,
            "tokenId": new.created.token_id,
            "token": new.created.token,
            "url": new.link,
            "revokedTokenId": new.revoked_token_id,
            "revokedTempUser": new.revoked_temp_user,
            "row": row_json(&new.row),
        }));
    } else {
        println!("{}", new.link);
        eprintln!(
            "token {} re-issued as token {}: the old link no longer works; the new one is above",
            new.revoked_token_id, new.created.token_id
        );
        tell_temp_users(new.revoked_temp_user.as_slice());
    }
    Ok(Exit::Ok)
}

/// `revoke ID…` (every id must exist, else nothing is deleted) or `revoke --all`.
pub fn revoke(cli: &Cli, ids: &[i64], all: bool) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |_| {})?;
    let (count, users) = if all {
        let revoked = ctx.store.revoke_all().map_err(|e| ctx.fail(e))?;
        (revoked.count, revoked.temp_users)
    } else {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let existing: Vec<i64> = ctx
            .store
            .list()
            .map_err(|e| ctx.fail(e))?
            .iter()
            .map(|r| r.token_id)
            .collect();
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !existing.contains(id))
            .map(i64::to_string)
            .collect();
        if !unknown.is_empty() {
            return Err(Failure::new(
                Exit::Problem,
                format!("no token with id {}: nothing revoked", unknown.join(", ")),
            ));
        }
        let mut users = Vec::new();
        for id in &ids {
            users.extend(ctx.store.delete(*id).map_err(|e| ctx.fail(e))?);
        }
        (ids.len() as u64, users)
    };
    if ctx.json {
        print_json(&json!({ "revoked": count, "all": all, "tempUsers": users }));
    } else {
        println!("revoked {count} token(s)");
        tell_temp_users(&users);
    }
    Ok(Exit::Ok)
}

/// Temporary users stay in Tiki's user table: the command cannot reach Tiki's user library.
fn tell_temp_users(users: &[String]) {
    if !users.is_empty() {
        println!(
            "Tiki's temporary users of those tokens remain; remove them in Tiki (Admin → Users): {}",
            users.join(", ")
        );
    }
}

/// `purge`: removes unusable rows in batches until none are left, with a progress line on a
/// terminal.
pub fn purge(cli: &Cli) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |_| {})?;
    let total = ctx.store.row_counts().map_err(|e| ctx.fail(e))?.unusable;
    let progress = !ctx.json && std::io::stderr().is_terminal();
    let (mut left, mut users) = (total, Vec::new());
    while left > 0 {
        match ctx.store.purge(PURGE_BATCH) {
            Ok(gone) => users.extend(gone),
            Err(e) => {
                // What was removed so far is gone for good: tell its users before failing.
                tell_temp_users(&users);
                return Err(ctx.fail(e));
            }
        }
        let now = ctx.store.row_counts().map_err(|e| ctx.fail(e))?.unusable;
        if progress {
            eprint!("\rpurged {} of {total} rows", total.saturating_sub(now));
        }
        if now >= left {
            break; // no progress: rows changed meanwhile, or another purge runs
        }
        left = now;
    }
    if progress && total > 0 {
        eprintln!();
    }
    let purged = total.saturating_sub(left);
    if ctx.json {
        print_json(&json!({ "purged": purged, "left": left, "tempUsers": users }));
    } else {
        println!("purged {purged} expired or used-up token(s)");
        tell_temp_users(&users);
    }
    Ok(Exit::Ok)
}

/// `migrate`: Tiki's migration, idempotent.
pub fn migrate(cli: &Cli) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |_| {})?;
    let report = ctx.store.migrate().map_err(|e| ctx.fail(e))?;
    let info = ctx.store.scheme_info().map_err(|e| ctx.fail(e))?;
    if ctx.json {
        print_json(&json!({
            "altered": report.altered,
            "secretCreated": report.secret_created,
            "scheme": info.minting.as_str(),
        }));
        return Ok(Exit::Ok);
    }
    if report.altered.is_empty() && !report.secret_created {
        println!("nothing to do: the table is migrated and a secret exists");
    }
    for clause in &report.altered {
        println!("applied: {clause}");
    }
    if report.secret_created {
        println!("stored a new signing secret in tiki_preferences");
    }
    println!("new tokens are {}", info.minting.as_str());
    Ok(Exit::Ok)
}

/// `rotate-secret [--keep-tokens]`.
pub fn rotate_secret(cli: &Cli, keep_tokens: bool) -> Result<Exit, Failure> {
    let ctx = Ctx::open(cli, |_| {})?;
    let revoked = ctx
        .store
        .rotate_secret(!keep_tokens)
        .map_err(|e| ctx.fail(e))?;
    let (before, users) = (revoked.count, revoked.temp_users);
    if ctx.json {
        print_json(&json!({
            "rotated": true,
            "keptTokens": keep_tokens,
            "revoked": before,
            "tempUsers": users,
        }));
        return Ok(Exit::Ok);
    }
    println!("stored a new signing secret in tiki_preferences");
    if keep_tokens {
        println!("kept the tokens: signed ones made before no longer verify; legacy MD5 ones do");
    } else {
        println!("revoked every token ({before})");
        tell_temp_users(&users);
    }
    Ok(Exit::Ok)
}

/// `config`: the database that would be used and where it comes from; connects to nothing.
pub fn show_config(cli: &Cli) -> Result<Exit, Failure> {
    let found = config::discover(cli.dsn.as_deref(), cli.tiki.as_deref(), cli.site.as_deref())?;
    if cli.json {
        print_json(&json!({
            "dsn": found.shown(),
            "source": found.source.kind(),
            "from": found.source.describe(),
        }));
    } else {
        print_fields(&[
            ("database", found.shown()),
            ("from", found.source.describe()),
        ]);
    }
    Ok(Exit::Ok)
}
