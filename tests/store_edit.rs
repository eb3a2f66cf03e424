//! Editing tokens (SPEC section 9) against the real MariaDB, on Tiki 24's and trunk's tables,
//! MyISAM and InnoDB: each field outside the value edited in place (the token and its link stay
//! and keep working), width refusals that write nothing, unknown ids, "add" on unlimited and
//! used-up tokens; re-issues that carry everything over and revoke the old token; and the two
//! races: 16 threads consuming a token while "add 10" lands (exactly initial + 10 grants), and a
//! re-issue under a load of lookups on the old token (never granted once `reissue` returned).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use testkit::db::*;
use tiki_tokens::canon::url::split_url;
use tiki_tokens::canon::{Key, Params, Value};
use tiki_tokens::store::{CreateOptions, HitsChange, Store, TokenChanges, TokenRow};
use tiki_tokens::{DenialReason, Error};

const ENTRY: &[u8] = b"/tiki/tiki-ajax_services.php";

/// Every variant with its own column layout on both engines (the reordered trunk table is
/// covered by the store's other tests; edits name columns the same way).
const TABLES: [(Variant, Engine); 4] = [
    (Variant::Tiki24, Engine::MyIsam),
    (Variant::Tiki24, Engine::InnoDb),
    (Variant::Trunk, Engine::MyIsam),
    (Variant::Trunk, Engine::InnoDb),
];

fn groups(g: &[&str]) -> Vec<String> {
    g.iter().map(|s| (*s).to_string()).collect()
}

/// The documentation's batch export, as PHP reads its query.
fn export_params() -> Params {
    split_url(
        b"/tiki/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3\
          &separator=%2C&delimiterL=\"&delimiterR=\"&CR=%25%25%25&listfields[]=2&listfields[]=3\
          &recordsMax=-1",
    )
    .unwrap()
    .params
}

/// A store without caps (edits are admin work; the tests choose their counts).
fn uncapped(dsn: &str) -> Store {
    let mut c = store_config(dsn);
    c.max_hits = -1;
    c.max_timeout = -1;
    Store::new(c).unwrap()
}

fn count(dsn: &str) -> i64 {
    query_value(dsn, "SELECT COUNT(*) FROM tiki_auth_tokens").unwrap()
}

/// Every column of a row as text, to compare before and after.
fn raw_row(dsn: &str, id: i64) -> String {
    query_value::<String>(
        dsn,
        &format!(
            "SELECT CONCAT_WS('|', tokenId, creation, timeout, hits, maxhits, IFNULL(token, 'NULL'), \
             entry, email, parameters, `groups`, createUser, userPrefix) \
             FROM tiki_auth_tokens WHERE tokenId = {id}"
        ),
    )
    .unwrap_or_default()
}

/// A token for the batch export with 5 hits, an email, a temporary user and (trunk) data.
fn make(store: &Store) -> (i64, String) {
    let c = store
        .create(
            ENTRY,
            &export_params(),
            &groups(&["Registered"]),
            &CreateOptions {
                hits: Some(5),
                timeout: Some(3600),
                email: "first@example.org".into(),
                create_user: true,
                user_prefix: "_first".into(),
                user: Some("admin".into()),
                data: Some(r#"{"n":1}"#.into()),
                ..CreateOptions::default()
            },
        )
        .unwrap();
    (c.token_id, c.token)
}

fn lookup(store: &Store, token: &str) -> Result<tiki_tokens::store::Grant, tiki_tokens::Denial> {
    store.lookup(token.as_bytes(), ENTRY, &export_params())
}

fn edit(store: &Store, id: i64, changes: TokenChanges) -> TokenRow {
    store
        .edit(id, &changes)
        .unwrap_or_else(|e| panic!("edit {changes:?}: {e}"))
        .expect("the row exists")
}

#[test]
fn each_field_outside_the_value_is_edited_in_place() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("edit_fields", variant, engine);
        let store = uncapped(&dsn);
        let (id, token) = make(&store);
        let link_before = store.get(token.as_bytes()).unwrap().unwrap().link();

        let r = edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Set(7)),
                ..Default::default()
            },
        );
        assert_eq!(
            (r.hits, r.token.as_deref()),
            (7, Some(token.as_str())),
            "{ctx}"
        );
        assert_eq!(lookup(&store, &token).unwrap().hits_left, 6, "{ctx}");
        let r = edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Add(3)),
                ..Default::default()
            },
        );
        assert_eq!(r.hits, 9, "{ctx}");
        let r = edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Add(-4)),
                ..Default::default()
            },
        );
        assert_eq!(r.hits, 5, "{ctx}");
        let r = edit(
            &store,
            id,
            TokenChanges {
                max_hits: Some(20),
                ..Default::default()
            },
        );
        assert_eq!((r.max_hits, r.hits), (20, 5), "{ctx}");
        let r = edit(
            &store,
            id,
            TokenChanges {
                email: Some("second@example.org".into()),
                ..Default::default()
            },
        );
        assert_eq!(r.email, "second@example.org", "{ctx}");
        let r = edit(
            &store,
            id,
            TokenChanges {
                create_user: Some(false),
                ..Default::default()
            },
        );
        assert_eq!(r.create_user, "n", "{ctx}");
        let r = edit(
            &store,
            id,
            TokenChanges {
                create_user: Some(true),
                user_prefix: Some("_second".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            (r.create_user.as_str(), r.user_prefix.as_str()),
            ("y", "_second"),
            "{ctx}"
        );
        if variant == Variant::Tiki24 {
            let e = store.edit(
                id,
                &TokenChanges {
                    data: Some(Some("{}".into())),
                    email: Some("x@y".into()),
                    ..Default::default()
                },
            );
            assert!(
                matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("data")),
                "{ctx}: {e:?}"
            );
            assert_eq!(
                store.get(token.as_bytes()).unwrap().unwrap().email,
                "second@example.org",
                "{ctx}: nothing written"
            );
        } else {
            let r = edit(
                &store,
                id,
                TokenChanges {
                    data: Some(Some(r#"{"n":2,"é":[1]}"#.into())),
                    ..Default::default()
                },
            );
            assert_eq!(r.data.as_deref(), Some(r#"{"n":2,"é":[1]}"#), "{ctx}");
            let r = edit(
                &store,
                id,
                TokenChanges {
                    data: Some(None),
                    ..Default::default()
                },
            );
            assert_eq!(r.data, None, "{ctx}");
            let e = store.edit(
                id,
                &TokenChanges {
                    data: Some(Some("{not json".into())),
                    ..Default::default()
                },
            );
            assert!(matches!(e, Err(Error::InvalidInput(_))), "{ctx}: {e:?}");
            assert_eq!(r.user.as_deref(), Some("admin"), "{ctx}: the creator stays");
        }
        // The token, its value and its link are those of before, and it still grants, with
        // what the edits set.
        let row = store
            .get(token.as_bytes())
            .unwrap()
            .expect("still verifies");
        assert_eq!(row.link(), link_before, "{ctx}");
        let link = row.link().unwrap();
        let split = split_url(link.as_bytes()).unwrap();
        assert_eq!(
            (split.entry.as_slice(), &split.params),
            (ENTRY, &export_params()),
            "{ctx}: {link}"
        );
        let g = lookup(&store, &token).unwrap();
        assert_eq!(
            (g.email.as_str(), g.create_user, g.hits_left),
            ("second@example.org", true, 4),
            "{ctx}"
        );
        assert!(g.temp_user.unwrap().starts_with("_second"), "{ctx}");
        // An edit with no change writes nothing and returns the row.
        assert_eq!(edit(&store, id, TokenChanges::default()).hits, 4, "{ctx}");
    }
}

#[test]
fn refusals_write_nothing() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("edit_refusals", variant, engine);
        let store = uncapped(&dsn);
        let (id, _) = make(&store);
        let before = raw_row(&dsn, id);
        let refused = [
            // Each has a valid hits change too, which must not be written either.
            TokenChanges {
                email: Some("e".repeat(256)),
                ..Default::default()
            },
            TokenChanges {
                user_prefix: Some("p".repeat(201)),
                ..Default::default()
            },
            TokenChanges {
                email: Some("é".repeat(256)),
                ..Default::default()
            },
            TokenChanges {
                max_hits: Some(-2),
                ..Default::default()
            },
            TokenChanges {
                max_hits: Some(1 << 31),
                ..Default::default()
            },
            TokenChanges {
                timeout: Some(60),
                ..Default::default()
            },
            TokenChanges {
                groups: Some(groups(&["Admins"])),
                ..Default::default()
            },
            TokenChanges {
                entry: Some(b"/other.php".to_vec()),
                ..Default::default()
            },
            TokenChanges {
                params: Some(Params::new()),
                ..Default::default()
            },
        ];
        for mut changes in refused {
            changes.hits = Some(HitsChange::Add(100));
            let e = store.edit(id, &changes);
            assert!(
                matches!(e, Err(Error::InvalidInput(_))),
                "{ctx}: {changes:?} → {e:?}"
            );
            assert_eq!(
                raw_row(&dsn, id),
                before,
                "{ctx}: {changes:?} wrote something"
            );
        }
        for hits in [
            HitsChange::Set(-2),
            HitsChange::Set(1 << 31),
            HitsChange::Add(1 << 32),
        ] {
            let e = store.edit(
                id,
                &TokenChanges {
                    hits: Some(hits),
                    ..Default::default()
                },
            );
            assert!(
                matches!(e, Err(Error::InvalidInput(_))),
                "{ctx}: {hits:?} → {e:?}"
            );
        }
        // The message names the column and the sizes.
        let e = store.edit(
            id,
            &TokenChanges {
                email: Some("e".repeat(256)),
                ..Default::default()
            },
        );
        let m = e.unwrap_err().to_string();
        assert!(
            m.contains("`email`") && m.contains("256") && m.contains("255"),
            "{ctx}: {m}"
        );
        assert_eq!(raw_row(&dsn, id), before, "{ctx}");
    }
}

#[test]
fn an_unknown_id_is_none_and_writes_nothing() {
    for (variant, engine) in TABLES {
        let dsn = table_database("edit_unknown", variant, engine);
        let store = uncapped(&dsn);
        make(&store);
        let rows = count(&dsn);
        let set = TokenChanges {
            hits: Some(HitsChange::Add(3)),
            email: Some("x@y".into()),
            ..Default::default()
        };
        assert_eq!(store.edit(424_242, &set).unwrap(), None);
        let reissue = TokenChanges {
            groups: Some(groups(&["Admins"])),
            ..Default::default()
        };
        assert!(store.reissue(424_242, &reissue).unwrap().is_none());
        assert!(
            store
                .reissue(-1, &TokenChanges::default())
                .unwrap()
                .is_none()
        );
        assert_eq!(count(&dsn), rows, "{variant:?}/{engine:?}");
    }
}

#[test]
fn add_keeps_unlimited_unlimited_and_revives_a_used_up_token() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("edit_add", variant, engine);
        let store = uncapped(&dsn);
        let (id, token) = make(&store);
        let add = |n| TokenChanges {
            hits: Some(HitsChange::Add(n)),
            ..Default::default()
        };
        edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Set(-1)),
                ..Default::default()
            },
        );
        assert_eq!(
            edit(&store, id, add(10)).hits,
            -1,
            "{ctx}: unlimited stays unlimited"
        );
        assert_eq!(edit(&store, id, add(-10)).hits, -1, "{ctx}");
        assert_eq!(lookup(&store, &token).unwrap().hits_left, -1, "{ctx}");
        // Unlimited → limited only when set explicitly.
        assert_eq!(
            edit(
                &store,
                id,
                TokenChanges {
                    hits: Some(HitsChange::Set(1)),
                    ..Default::default()
                }
            )
            .hits,
            1
        );
        assert!(lookup(&store, &token).is_ok(), "{ctx}");
        let d = lookup(&store, &token).unwrap_err();
        assert_eq!(d.reason, DenialReason::Exhausted, "{ctx}");
        // A used-up token is revived by an add, and grants exactly what was added.
        assert_eq!(edit(&store, id, add(2)).hits, 2, "{ctx}");
        assert!(
            lookup(&store, &token).is_ok() && lookup(&store, &token).is_ok(),
            "{ctx}"
        );
        assert_eq!(
            lookup(&store, &token).unwrap_err().reason,
            DenialReason::Exhausted,
            "{ctx}"
        );
        // A count below -1 (a row frozen by a re-issue) stays as it is under an add; a
        // negative add never goes below 0; the INT maximum is the ceiling.
        exec(
            &dsn,
            &format!("UPDATE tiki_auth_tokens SET hits = -7 WHERE tokenId = {id}"),
        );
        assert_eq!(
            edit(&store, id, add(3)).hits,
            -7,
            "{ctx}: frozen rows stay frozen"
        );
        edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Set(3)),
                ..Default::default()
            },
        );
        assert_eq!(edit(&store, id, add(-100)).hits, 0, "{ctx}");
        edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Set(i64::from(i32::MAX) - 1)),
                ..Default::default()
            },
        );
        assert_eq!(
            edit(&store, id, add(100)).hits,
            i64::from(i32::MAX),
            "{ctx}"
        );
        // The token still verifies after all of it.
        assert!(store.get(token.as_bytes()).unwrap().is_some(), "{ctx}");
    }
}

/// The expiry moment of a row (unix time, database clock).
fn expires_at(dsn: &str, id: i64) -> i64 {
    query_value(
        dsn,
        &format!(
            "SELECT UNIX_TIMESTAMP(creation) + timeout FROM tiki_auth_tokens WHERE tokenId = {id}"
        ),
    )
    .unwrap()
}

#[test]
fn a_reissue_carries_everything_over_and_revokes_the_old_token() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("reissue", variant, engine);
        let store = uncapped(&dsn);
        let (id, token) = make(&store);
        lookup(&store, &token).unwrap();
        lookup(&store, &token).unwrap();
        let old = store.get(token.as_bytes()).unwrap().unwrap();
        let old_expiry = expires_at(&dsn, id);
        let rows = count(&dsn);

        let r = store
            .reissue(
                id,
                &TokenChanges {
                    groups: Some(groups(&["Editors", "Registered"])),
                    ..Default::default()
                },
            )
            .unwrap()
            .expect("the row exists");
        assert_eq!(
            (r.revoked_token_id, count(&dsn)),
            (id, rows),
            "{ctx}: one row in, one out"
        );
        assert!(
            r.revoked_temp_user
                .as_deref()
                .is_some_and(|u| u.starts_with("_first")),
            "{ctx}"
        );
        assert_ne!(r.created.token_id, id);
        assert_eq!(
            r.created.token.len(),
            if variant == Variant::Tiki24 { 32 } else { 64 },
            "{ctx}"
        );
        // The old token is gone; the new one grants the new groups on the same URL.
        assert_eq!(
            lookup(&store, &token).unwrap_err().reason,
            DenialReason::Unknown,
            "{ctx}"
        );
        assert!(store.get(token.as_bytes()).unwrap().is_none(), "{ctx}");
        let new = &r.row;
        assert_eq!(
            new.token.as_deref(),
            Some(r.created.token.as_str()),
            "{ctx}"
        );
        assert_eq!(
            (
                new.hits,
                new.max_hits,
                new.email.as_str(),
                new.create_user.as_str(),
                new.user_prefix.as_str()
            ),
            (
                old.hits,
                old.max_hits,
                old.email.as_str(),
                old.create_user.as_str(),
                old.user_prefix.as_str()
            ),
            "{ctx}: carried over"
        );
        assert_eq!(
            (&new.user, &new.data, &new.entry, &new.parameters),
            (&old.user, &old.data, &old.entry, &old.parameters),
            "{ctx}"
        );
        assert_eq!(new.groups, r#"["Editors","Registered"]"#, "{ctx}");
        assert_eq!(
            expires_at(&dsn, r.created.token_id),
            old_expiry,
            "{ctx}: the same expiry moment"
        );
        let split = split_url(r.link.as_bytes()).unwrap();
        assert_eq!(
            (split.entry.as_slice(), &split.params),
            (ENTRY, &export_params()),
            "{ctx}: {}",
            r.link
        );
        assert!(
            r.link.ends_with(&format!("&TOKEN={}", r.created.token)),
            "{ctx}"
        );
        let g = lookup(&store, &r.created.token).unwrap();
        assert_eq!(
            (g.groups, g.hits_left),
            (groups(&["Editors", "Registered"]), 2),
            "{ctx}"
        );
        // Tiki's own check of the new value: MD5 by the server, or HMAC by PHP.
        let payload = sql_payload(&dsn, r.created.token_id);
        let want = if variant == Variant::Tiki24 {
            query_value::<String>(&dsn, &format!("SELECT MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`)) FROM tiki_auth_tokens WHERE tokenId = {}", r.created.token_id)).unwrap()
        } else {
            php_hmac(&payload, TEST_SECRET)
        };
        assert_eq!(want, r.created.token, "{ctx}");
    }
}

#[test]
fn a_reissue_changes_entry_params_timeout_and_hits() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("reissue_bound", variant, engine);
        let mut cfg = store_config(&dsn);
        cfg.max_timeout = 600;
        cfg.max_hits = 10;
        let store = Store::new(cfg).unwrap();
        let (id, token) = make(&store);
        let target =
            split_url(b"/tiki/tiki-index.php?page=Caf%C3%A9+au+lait&list[]=a&list[]=b").unwrap();
        let r = store
            .reissue(
                id,
                &TokenChanges {
                    entry: Some(target.entry.clone()),
                    params: Some(target.params.clone()),
                    timeout: Some(99_999),
                    hits: Some(HitsChange::Set(50)),
                    email: Some("new@example.org".into()),
                    ..Default::default()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.row.timeout, r.row.hits, r.row.max_hits),
            (600, 10, 5),
            "{ctx}: capped as at creation; maxhits carried"
        );
        assert_eq!(r.row.email, "new@example.org");
        assert!(
            r.link.starts_with(
                "/tiki/tiki-index.php?page=Caf%C3%A9+au+lait&list%5B0%5D=a&list%5B1%5D=b&TOKEN="
            ),
            "{ctx}: {}",
            r.link
        );
        assert_eq!(
            lookup(&store, &token).unwrap_err().reason,
            DenialReason::Unknown
        );
        assert!(
            store
                .lookup(r.created.token.as_bytes(), &target.entry, &target.params)
                .is_ok(),
            "{ctx}"
        );
        assert_eq!(
            store
                .lookup(r.created.token.as_bytes(), ENTRY, &export_params())
                .unwrap_err()
                .reason,
            DenialReason::EntryMismatch
        );
        // Params no request can carry and entries too wide are refused before anything is
        // written: the token stays as it was.
        let rows = count(&dsn);
        let mut bad = Params::new();
        bad.insert(Key::from_bytes(b"f"), Value::Float(1.5));
        let mut wide = Params::new();
        wide.insert(Key::from_bytes(b"x"), Value::Str(vec![b'a'; 70_000]));
        for changes in [
            TokenChanges {
                params: Some(bad),
                ..Default::default()
            },
            TokenChanges {
                params: Some(wide),
                ..Default::default()
            },
            TokenChanges {
                hits: Some(HitsChange::Set(0)),
                ..Default::default()
            },
            TokenChanges {
                email: Some("e".repeat(256)),
                ..Default::default()
            },
        ] {
            let e = store.reissue(r.created.token_id, &changes);
            assert!(
                matches!(e, Err(Error::InvalidInput(_))),
                "{ctx}: {changes:?} → {e:?}"
            );
        }
        if variant == Variant::Tiki24 {
            let e = store.reissue(
                r.created.token_id,
                &TokenChanges {
                    entry: Some(vec![b'a'; 51]),
                    ..Default::default()
                },
            );
            assert!(
                matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("`entry`")),
                "{ctx}: {e:?}"
            );
        }
        assert_eq!(count(&dsn), rows, "{ctx}");
        assert!(
            store
                .lookup(r.created.token.as_bytes(), &target.entry, &target.params)
                .is_ok(),
            "{ctx}: untouched"
        );
        // A URL, read as includeToken reads it; not together with an entry.
        let url = b"http://site.example/tiki/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&delimiterL=\"&delimiterR=\"&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1#top";
        let both = TokenChanges {
            url: Some(url.to_vec()),
            entry: Some(b"/x.php".to_vec()),
            ..Default::default()
        };
        assert!(matches!(
            store.reissue(r.created.token_id, &both),
            Err(Error::InvalidInput(_))
        ));
        let r2 = store
            .reissue(
                r.created.token_id,
                &TokenChanges {
                    url: Some(url.to_vec()),
                    ..Default::default()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (r2.row.entry.as_slice(), r2.revoked_token_id),
            (ENTRY, r.created.token_id),
            "{ctx}"
        );
        assert!(
            lookup(&store, &r2.created.token).is_ok(),
            "{ctx}: {}",
            r2.link
        );
        assert_eq!(
            split_url(r2.link.as_bytes()).unwrap().params,
            export_params(),
            "{ctx}"
        );
    }
}

#[test]
fn a_reissue_needs_a_live_token_and_new_time_or_hits_when_they_ran_out() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("reissue_dead", variant, engine);
        let store = uncapped(&dsn);
        let same = TokenChanges {
            groups: Some(groups(&["G"])),
            ..Default::default()
        };
        // Expired: refused without a timeout, re-issued with one.
        let (id, _) = make(&store);
        exec(
            &dsn,
            &format!(
                "UPDATE tiki_auth_tokens SET creation = creation - INTERVAL 2 HOUR WHERE tokenId = {id}"
            ),
        );
        // (the value no longer verifies after that change: sign it again, as if made so)
        resign(&dsn, id, variant);
        let e = store.reissue(id, &same);
        assert!(
            matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("expired")),
            "{ctx}: {e:?}"
        );
        let r = store
            .reissue(
                id,
                &TokenChanges {
                    timeout: Some(60),
                    ..same.clone()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(r.row.timeout, 60, "{ctx}");
        // Used up: refused without hits, re-issued with some.
        let (id, token) = make(&store);
        edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Set(0)),
                ..Default::default()
            },
        );
        let e = store.reissue(id, &same);
        assert!(
            matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("no hits")),
            "{ctx}: {e:?}"
        );
        let r = store
            .reissue(
                id,
                &TokenChanges {
                    hits: Some(HitsChange::Add(3)),
                    ..same.clone()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(r.row.hits, 3, "{ctx}");
        assert!(store.get(token.as_bytes()).unwrap().is_none(), "{ctx}");
        // A count below -1 (frozen by another re-issue, or damaged) is refused.
        let (id, _) = make(&store);
        exec(
            &dsn,
            &format!("UPDATE tiki_auth_tokens SET hits = -7 WHERE tokenId = {id}"),
        );
        let e = store.reissue(id, &same);
        assert!(
            matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("-7")),
            "{ctx}: {e:?}"
        );
        // Unlimited: carried over as unlimited.
        let (id, _) = make(&store);
        edit(
            &store,
            id,
            TokenChanges {
                hits: Some(HitsChange::Set(-1)),
                ..Default::default()
            },
        );
        let r = store
            .reissue(
                id,
                &TokenChanges {
                    hits: Some(HitsChange::Add(5)),
                    ..same.clone()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(r.row.hits, -1, "{ctx}");
        // A row whose value does not verify (altered), or half-written, is no live token.
        let (id, _) = make(&store);
        exec(
            &dsn,
            &format!("UPDATE tiki_auth_tokens SET `groups` = '[\"Admins\"]' WHERE tokenId = {id}"),
        );
        let e = store.reissue(id, &same);
        assert!(
            matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("does not verify")),
            "{ctx}: {e:?}"
        );
        exec(
            &dsn,
            &format!("UPDATE tiki_auth_tokens SET token = NULL WHERE tokenId = {id}"),
        );
        let e = store.reissue(id, &same);
        assert!(
            matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("half-written")),
            "{ctx}: {e:?}"
        );
        // Data on Tiki 24's table is refused, as by edit.
        if variant == Variant::Tiki24 {
            let (id, _) = make(&store);
            let e = store.reissue(
                id,
                &TokenChanges {
                    data: Some(None),
                    ..same.clone()
                },
            );
            assert!(
                matches!(e, Err(Error::InvalidInput(ref m)) if m.contains("data")),
                "{ctx}: {e:?}"
            );
        }
    }
}

/// Four threads re-issue one token at once: exactly one succeeds, and exactly one live token
/// remains (the others see it gone, frozen, or frozen under them, and leave nothing behind).
#[test]
fn concurrent_reissues_of_one_token_leave_exactly_one() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("reissue_twice", variant, engine);
        for round in 0..5 {
            let (id, _) = make(&uncapped(&dsn));
            let stores: Vec<Store> = (0..4).map(|_| uncapped(&dsn)).collect();
            let barrier = Arc::new(Barrier::new(4));
            let handles: Vec<_> = stores
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let barrier = Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        let changes = TokenChanges {
                            groups: Some(vec![format!("G{i}")]),
                            ..Default::default()
                        };
                        barrier.wait();
                        s.reissue(id, &changes)
                    })
                })
                .collect();
            let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let won: Vec<_> = outcomes
                .iter()
                .filter_map(|o| o.as_ref().ok().and_then(Option::as_ref))
                .collect();
            assert_eq!(won.len(), 1, "{ctx} round {round}: {outcomes:?}");
            let live: i64 = query_value(
                &dsn,
                &format!("SELECT COUNT(*) FROM tiki_auth_tokens WHERE tokenId >= {id}"),
            )
            .unwrap();
            assert_eq!(live, 1, "{ctx} round {round}: {outcomes:?}");
            assert!(
                lookup(&uncapped(&dsn), &won[0].created.token).is_ok(),
                "{ctx}"
            );
        }
    }
}

/// Signs row `id` again as it now is (MD5 on Tiki 24's table, HMAC with the stored secret on
/// trunk's).
fn resign(dsn: &str, id: i64, variant: Variant) {
    if variant == Variant::Tiki24 {
        tiki24_sign(dsn, id);
    } else {
        trunk_sign(dsn, id, TEST_SECRET);
    }
}

const THREADS: usize = 16;

/// 16 threads (each its own store and connection, as PHP workers) consume a token with 300
/// hits while another thread adds 10 in the middle: exactly 310 grants.
#[test]
fn add_10_while_16_threads_consume_grants_exactly_initial_plus_10() {
    const INITIAL: i64 = 300;
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("edit_race", variant, engine);
        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: INITIAL,
                timeout: -1,
                ..TikiRow::default()
            },
        );
        let stores: Vec<Store> = (0..=THREADS)
            .map(|_| {
                let s = store(&dsn);
                s.list().unwrap();
                s
            })
            .collect();
        let granted = Arc::new(AtomicUsize::new(0));
        let added = Arc::new(AtomicBool::new(false));
        let barrier = Arc::new(Barrier::new(THREADS + 1));
        let mut stores = stores.into_iter();
        let editor = stores.next().unwrap();
        let consumers: Vec<_> = stores
            .map(|s| {
                let (token, granted, added, barrier) = (
                    token.clone(),
                    Arc::clone(&granted),
                    Arc::clone(&added),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    let (mut mine, mut denied) = (0_i64, 0_i64);
                    for _ in 0..10_000 {
                        // A denial only ends the loop when it came after the add.
                        let after_add = added.load(Ordering::SeqCst);
                        match s.lookup(token.as_bytes(), b"tiki-index.php", &Params::new()) {
                            Ok(_) => {
                                mine += 1;
                                granted.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(d)
                                if matches!(
                                    d.reason,
                                    DenialReason::Exhausted | DenialReason::LostRace
                                ) =>
                            {
                                denied += 1;
                                if after_add {
                                    break;
                                }
                            }
                            Err(d) => panic!("unexpected {d}"),
                        }
                    }
                    (mine, denied)
                })
            })
            .collect();
        barrier.wait();
        while granted.load(Ordering::SeqCst) < 30 {
            std::thread::yield_now();
        }
        let at_add = granted.load(Ordering::SeqCst);
        let row = editor
            .edit(
                id,
                &TokenChanges {
                    hits: Some(HitsChange::Add(10)),
                    ..Default::default()
                },
            )
            .unwrap()
            .unwrap();
        added.store(true, Ordering::SeqCst);
        let results: Vec<(i64, i64)> = consumers.into_iter().map(|h| h.join().unwrap()).collect();
        let grants: i64 = results.iter().map(|r| r.0).sum();
        let denials: i64 = results.iter().map(|r| r.1).sum();
        println!(
            "{ctx}: {INITIAL} hits, add 10 after ~{at_add} grants (hits then {}): {grants} grants, \
             {denials} denials from {THREADS} threads",
            row.hits
        );
        assert_eq!(grants, INITIAL + 10, "{ctx}");
        assert_eq!(
            query_value::<i64>(
                &dsn,
                &format!("SELECT hits FROM tiki_auth_tokens WHERE tokenId = {id}")
            ),
            Some(0)
        );
    }
}

/// Lookups on one token from 8 threads; the main thread re-issues it meanwhile. No lookup that
/// started after `reissue` returned is granted; the old and the new token together grant the
/// hits the old one had, never more; the new one works.
#[test]
fn a_reissue_under_load_never_grants_the_old_token_after_it_returned() {
    const LOADERS: usize = 8;
    const INITIAL: i64 = 1000;
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("reissue_race", variant, engine);
        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: INITIAL,
                timeout: 3600,
                ..TikiRow::default()
            },
        );
        let loaders_stores: Vec<Store> = (0..LOADERS)
            .map(|_| {
                let s = store(&dsn);
                s.list().unwrap();
                s
            })
            .collect();
        let granted = Arc::new(AtomicUsize::new(0));
        let returned = Arc::new(AtomicBool::new(false));
        let loaders: Vec<_> = loaders_stores
            .into_iter()
            .map(|s| {
                let (token, granted, returned) =
                    (token.clone(), Arc::clone(&granted), Arc::clone(&returned));
                std::thread::spawn(move || {
                    let (mut before, mut after_denied, mut late_grants, mut after_n) =
                        (0_i64, 0_i64, 0_i64, 0);
                    while after_n < 200 {
                        let after = returned.load(Ordering::SeqCst);
                        let r = s.lookup(token.as_bytes(), b"tiki-index.php", &Params::new());
                        match (after, r) {
                            (false, Ok(_)) => {
                                before += 1;
                                granted.fetch_add(1, Ordering::SeqCst);
                            }
                            (false, Err(d)) => assert!(
                                matches!(
                                    d.reason,
                                    DenialReason::Unknown
                                        | DenialReason::LostRace
                                        | DenialReason::Exhausted
                                ),
                                "{d}"
                            ),
                            (true, Ok(_)) => late_grants += 1,
                            (true, Err(d)) => {
                                assert!(matches!(d.reason, DenialReason::Unknown), "{d}");
                                after_denied += 1;
                            }
                        }
                        if after {
                            after_n += 1;
                        }
                    }
                    (before, after_denied, late_grants)
                })
            })
            .collect();
        while granted.load(Ordering::SeqCst) < 50 {
            std::thread::yield_now();
        }
        let r = store(&dsn)
            .reissue(
                id,
                &TokenChanges {
                    groups: Some(groups(&["Reissued"])),
                    ..Default::default()
                },
            )
            .unwrap()
            .unwrap();
        returned.store(true, Ordering::SeqCst);
        let results: Vec<(i64, i64, i64)> =
            loaders.into_iter().map(|h| h.join().unwrap()).collect();
        let old_grants: i64 = results.iter().map(|r| r.0).sum();
        let denied_after: i64 = results.iter().map(|r| r.1).sum();
        let late: i64 = results.iter().map(|r| r.2).sum();
        println!(
            "{ctx}: {INITIAL} hits; {old_grants} grants of the old token before the re-issue \
             returned, {late} after it ({denied_after} lookups denied after it); the new token \
             got {} hits",
            r.row.hits
        );
        assert_eq!(
            late, 0,
            "{ctx}: the old token was granted after the re-issue returned"
        );
        assert_eq!(
            old_grants + r.row.hits,
            INITIAL,
            "{ctx}: old grants + new hits = the old hits"
        );
        assert!(
            old_grants >= 50 && r.row.hits > 0,
            "{ctx}: the re-issue happened under load"
        );
        let g = store(&dsn)
            .lookup(
                r.created.token.as_bytes(),
                b"tiki-index.php",
                &Params::new(),
            )
            .unwrap();
        assert_eq!(
            (g.groups, g.hits_left),
            (groups(&["Reissued"]), r.row.hits - 1),
            "{ctx}"
        );
    }
}
