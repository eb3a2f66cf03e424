//! Management against a real server: get, list, delete, purge, revoke all, secret rotation,
//! Tiki's migration (idempotent; old MD5 tokens keep working, new ones are signed), scheme
//! info, schema errors, connection state, and `Debug` that never shows a password or secret.

use std::time::{Duration, Instant};
use testkit::db::*;
use tiki_tokens::canon::Params;
use tiki_tokens::store::{CreateOptions, Store, StoreConfig};
use tiki_tokens::token::{Scheme, Secret};
use tiki_tokens::{DenialReason, Error};

fn g(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

/// The temporary user name PHP computes for a row.
fn php_temp_user(prefix: &str, id: i64) -> String {
    let code = format!(
        "printf('%s%06d', {}, {id} * 531441 % 1000000);",
        testkit::value::php_literal(prefix.as_bytes())
    );
    String::from_utf8(testkit::php::eval(&code, b"")).unwrap()
}

fn ids(dsn: &str) -> Vec<i64> {
    use mysql::prelude::Queryable;
    connect(dsn)
        .query("SELECT tokenId FROM tiki_auth_tokens ORDER BY tokenId")
        .unwrap()
}

#[test]
fn get_returns_the_row_only_for_a_verifying_token() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("get", variant, engine);
        let s = store(&dsn);
        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                timeout: -1,
                ..TikiRow::default()
            },
        );
        let row = s.get(token.as_bytes()).unwrap().expect("verifying token");
        assert_eq!(row.token_id, id);
        assert_eq!(row.token.as_deref(), Some(token.as_str()));
        assert_eq!((row.timeout, row.hits, row.max_hits), (-1, 5, 5));
        assert_eq!(row.entry, b"tiki-index.php");
        assert_eq!(
            (row.parameters.as_str(), row.groups.as_str()),
            ("[]", r#"["Registered"]"#)
        );
        assert_eq!(row.creation.len(), 19, "YYYY-MM-DD HH:MM:SS");
        assert_eq!(s.get(b"nonsense").unwrap(), None);
        assert_eq!(s.get(&[b'0'; 32]).unwrap(), None);
        exec(
            &dsn,
            &format!("UPDATE tiki_auth_tokens SET `groups` = '[\"Admins\"]' WHERE tokenId = {id}"),
        );
        assert_eq!(
            s.get(token.as_bytes()).unwrap(),
            None,
            "{variant:?}/{engine:?}: tampered"
        );
        if variant != Variant::Tiki24 {
            let c = s
                .create(
                    b"x.php",
                    &Params::new(),
                    &g(&["G"]),
                    &CreateOptions::default(),
                )
                .unwrap();
            assert_eq!(
                s.get(c.token.as_bytes()).unwrap().map(|r| r.token_id),
                Some(c.token_id)
            );
        }
    }
}

#[test]
fn list_is_ordered_by_creation_then_id() {
    let dsn = table_database("list", Variant::TrunkReordered, Engine::InnoDb);
    let a = insert_row(&dsn, &TikiRow::default());
    let b = insert_row(&dsn, &TikiRow::default());
    let c = insert_row(&dsn, &TikiRow::default());
    exec(
        &dsn,
        &format!(
            "UPDATE tiki_auth_tokens SET creation = '2020-01-01 00:00:00' WHERE tokenId = {c}"
        ),
    );
    exec(
        &dsn,
        &format!(
            "UPDATE tiki_auth_tokens SET creation = '2021-01-01 00:00:00' WHERE tokenId IN ({a}, {b})"
        ),
    );
    let rows = store(&dsn).list().unwrap();
    assert_eq!(
        rows.iter().map(|r| r.token_id).collect::<Vec<_>>(),
        vec![c, a, b]
    );
    assert_eq!(rows[0].creation, "2020-01-01 00:00:00");
    assert_eq!(rows[0].token, None, "a row without token is listed as such");
}

#[test]
fn delete_returns_the_temporary_user() {
    for variant in [Variant::Tiki24, Variant::Trunk] {
        let dsn = table_database("delete", variant, Engine::MyIsam);
        let s = store(&dsn);
        let (with_user, _) = tiki24_mint(
            &dsn,
            &TikiRow {
                create_user: "y",
                user_prefix: "_tmp",
                ..TikiRow::default()
            },
        );
        let (without, _) = tiki24_mint(&dsn, &TikiRow::default());
        assert_eq!(
            s.delete(with_user).unwrap(),
            Some(php_temp_user("_tmp", with_user))
        );
        assert_eq!(s.delete(without).unwrap(), None);
        assert_eq!(s.delete(with_user).unwrap(), None, "already gone");
        assert!(ids(&dsn).is_empty());
    }
}

#[test]
fn purge_removes_unusable_rows_within_its_limit() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("purge", variant, engine);
        let ctx = format!("{variant:?}/{engine:?}");
        let s = store(&dsn);
        let usable = [
            insert_row(
                &dsn,
                &TikiRow {
                    timeout: 3600,
                    hits: 1,
                    ..TikiRow::default()
                },
            ),
            insert_row(
                &dsn,
                &TikiRow {
                    timeout: -1,
                    hits: -1,
                    ..TikiRow::default()
                },
            ),
        ];
        let expired = insert_row(
            &dsn,
            &TikiRow {
                create_user: "y",
                ..TikiRow::default()
            },
        );
        exec(
            &dsn,
            &format!(
                "UPDATE tiki_auth_tokens SET creation = NOW() - INTERVAL 2 HOUR WHERE tokenId = {expired}"
            ),
        );
        let used_up = insert_row(
            &dsn,
            &TikiRow {
                hits: 0,
                create_user: "y",
                user_prefix: "_u",
                ..TikiRow::default()
            },
        );
        let negative = insert_row(
            &dsn,
            &TikiRow {
                hits: -2,
                ..TikiRow::default()
            },
        );
        let old_half = insert_row(&dsn, &TikiRow::default());
        exec(
            &dsn,
            &format!(
                "UPDATE tiki_auth_tokens SET creation = NOW() - INTERVAL 2 MINUTE WHERE tokenId = {old_half}"
            ),
        );
        // Every row so far but old_half gets a token; a fresh half-written row stays.
        for id in [usable[0], usable[1], expired, used_up, negative] {
            tiki24_sign(&dsn, id);
        }
        let new_half = insert_row(&dsn, &TikiRow::default());

        let first = s.purge(2).unwrap();
        let after_first = ids(&dsn);
        assert_eq!(after_first.len(), 7 - 2, "{ctx}: at most the limit");
        let rest = s.purge(100).unwrap();
        let mut users = first;
        users.extend(rest);
        users.sort();
        let mut want = vec![
            php_temp_user("_token", expired),
            php_temp_user("_u", used_up),
        ];
        want.sort();
        assert_eq!(users, want, "{ctx}");
        assert_eq!(ids(&dsn), vec![usable[0], usable[1], new_half], "{ctx}");
        assert!(s.purge(100).unwrap().is_empty());
        assert!(s.purge(0).unwrap().is_empty());
    }
}

#[test]
fn purge_goes_past_one_batch_and_stops_at_its_limit() {
    // More unusable rows than one batch of the purge (1,000): the limit still holds exactly,
    // and every temporary user of a removed row is reported.
    let dsn = table_database("purge_batches", Variant::Trunk, Engine::InnoDb);
    let s = store(&dsn);
    exec(
        &dsn,
        "INSERT INTO tiki_auth_tokens (timeout, hits, token, entry, parameters, `groups`, email, createUser, userPrefix) \
         SELECT -1, 0, MD5(seq), 'tiki-index.php', '[]', '[\"G\"]', '', IF(seq % 2, 'y', 'n'), '_p' \
         FROM seq_1_to_2500",
    );
    let keep = insert_row(
        &dsn,
        &TikiRow {
            timeout: -1,
            hits: -1,
            ..TikiRow::default()
        },
    );
    tiki24_sign(&dsn, keep);
    let first = s.purge(2200).unwrap();
    assert_eq!(ids(&dsn).len(), 2500 - 2200 + 1, "exactly the limit went");
    let rest = s.purge(100_000).unwrap();
    assert_eq!(ids(&dsn), vec![keep]);
    assert_eq!(
        first.len() + rest.len(),
        1250,
        "one user per createUser = 'y' row"
    );
    let mut all: Vec<String> = first.into_iter().chain(rest).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1250, "no user reported twice");
}

#[test]
fn revoke_all_removes_everything() {
    let dsn = table_database("revoke", Variant::Trunk, Engine::InnoDb);
    let s = store(&dsn);
    let (a, _) = tiki24_mint(
        &dsn,
        &TikiRow {
            create_user: "y",
            ..TikiRow::default()
        },
    );
    tiki24_mint(&dsn, &TikiRow::default());
    let c = s
        .create(
            b"x.php",
            &Params::new(),
            &g(&["G"]),
            &CreateOptions {
                create_user: true,
                user_prefix: "_p".into(),
                ..CreateOptions::default()
            },
        )
        .unwrap();
    let revoked = s.revoke_all().unwrap();
    assert_eq!(revoked.count, 3, "three rows were revoked");
    let mut users = revoked.temp_users;
    users.sort();
    let mut want = vec![php_temp_user("_token", a), php_temp_user("_p", c.token_id)];
    want.sort();
    assert_eq!(users, want);
    assert!(ids(&dsn).is_empty());
    let again = s.revoke_all().unwrap();
    assert!(again.temp_users.is_empty() && again.count == 0);
}

#[test]
fn rotation_invalidates_signed_tokens_only() {
    for engine in [Engine::MyIsam, Engine::InnoDb] {
        let dsn = table_database("rotate", Variant::Trunk, engine);
        let s = store(&dsn);
        let signed = s
            .create(
                b"x.php",
                &Params::new(),
                &g(&["G"]),
                &CreateOptions::default(),
            )
            .unwrap();
        let (_, legacy) = tiki24_mint(
            &dsn,
            &TikiRow {
                entry: "x.php",
                ..TikiRow::default()
            },
        );
        assert!(
            s.lookup(signed.token.as_bytes(), b"x.php", &Params::new())
                .is_ok()
        );
        let kept = s.rotate_secret(false).unwrap();
        assert!(kept.temp_users.is_empty() && kept.count == 0, "{kept:?}");
        let secret = stored_secret(&dsn).unwrap();
        assert_ne!(secret, TEST_SECRET);
        assert!(
            secret.len() == 64
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        let d = s
            .lookup(signed.token.as_bytes(), b"x.php", &Params::new())
            .unwrap_err();
        assert_eq!(d.reason, DenialReason::BadSignature);
        assert!(
            s.lookup(legacy.as_bytes(), b"x.php", &Params::new())
                .is_ok(),
            "MD5 tokens are unkeyed"
        );
        // New tokens are signed with the new secret (PHP recomputes them).
        let c = s
            .create(
                b"x.php",
                &Params::new(),
                &g(&["G"]),
                &CreateOptions::default(),
            )
            .unwrap();
        assert_eq!(c.token, php_hmac(&sql_payload(&dsn, c.token_id), &secret));
        assert!(
            s.lookup(c.token.as_bytes(), b"x.php", &Params::new())
                .is_ok()
        );
        // Rotation with revocation empties the table.
        s.rotate_secret(true).unwrap();
        assert!(ids(&dsn).is_empty());
        // A secret from the configuration cannot be rotated here.
        let mut cfg = store_config(&dsn);
        cfg.secret = Some(Secret::from_text("x"));
        assert!(matches!(
            Store::new(cfg).unwrap().rotate_secret(false),
            Err(Error::Config(_))
        ));
    }
}

#[test]
fn migration_is_tikis_own_and_idempotent() {
    for engine in [Engine::MyIsam, Engine::InnoDb] {
        let dsn = table_database("migrate", Variant::Tiki24, engine);
        let s = store(&dsn);
        let old = s
            .create(
                b"tiki-index.php",
                &Params::new(),
                &g(&["Registered"]),
                &CreateOptions {
                    hits: Some(-1),
                    ..CreateOptions::default()
                },
            )
            .unwrap();
        assert_eq!(old.scheme, Scheme::Legacy);
        let info = s.scheme_info().unwrap();
        assert_eq!(
            (
                info.minting,
                info.needs_migration,
                info.token_width,
                info.has_secret
            ),
            (Scheme::Legacy, true, 32, false)
        );

        let report = s.migrate().unwrap();
        assert_eq!(report.altered.len(), 5, "{report:?}");
        assert!(report.secret_created);
        let cols: Vec<(String, String)> = {
            use mysql::prelude::Queryable;
            connect(&dsn)
                .query(
                    "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                     AND TABLE_NAME = 'tiki_auth_tokens' AND COLUMN_NAME IN ('entry','parameters','user','data','token') ORDER BY COLUMN_NAME",
                )
                .unwrap()
        };
        let want: Vec<(String, String)> = [
            ("data", "text"),
            ("entry", "mediumtext"),
            ("parameters", "text"),
            ("token", "varchar(64)"),
            ("user", "varchar(200)"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
        assert_eq!(cols, want);
        let collation: String = query_value(&dsn, "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tiki_auth_tokens' AND COLUMN_NAME = 'token'").unwrap();
        assert_eq!(collation, "ascii_bin");
        let secret = stored_secret(&dsn).unwrap();
        assert_eq!(secret.len(), 64);

        // Twice: nothing more to do.
        let again = s.migrate().unwrap();
        assert!(
            again.altered.is_empty() && !again.secret_created,
            "{again:?}"
        );
        assert_eq!(stored_secret(&dsn).unwrap(), secret);

        // The old MD5 token still works; new tokens are signed and PHP recomputes them.
        assert!(
            s.lookup(old.token.as_bytes(), b"tiki-index.php", &Params::new())
                .is_ok()
        );
        let info = s.scheme_info().unwrap();
        assert_eq!(
            (
                info.minting,
                info.needs_migration,
                info.token_width,
                info.has_secret
            ),
            (Scheme::Signed, false, 64, true)
        );
        let new = s
            .create(
                "a".repeat(60).as_bytes(),
                &Params::new(),
                &g(&["Registered"]),
                &CreateOptions::default(),
            )
            .unwrap();
        assert_eq!(new.scheme, Scheme::Signed);
        assert_eq!(
            new.token,
            php_hmac(&sql_payload(&dsn, new.token_id), &secret)
        );
        assert!(
            s.lookup(
                new.token.as_bytes(),
                "a".repeat(60).as_bytes(),
                &Params::new()
            )
            .is_ok()
        );
        // A store started after the migration sees the same.
        assert_eq!(store(&dsn).scheme_info().unwrap().minting, Scheme::Signed);
    }
    // A trunk table is already migrated.
    let dsn = table_database("migrated", Variant::TrunkReordered, Engine::MyIsam);
    let r = store(&dsn).migrate().unwrap();
    assert!(r.altered.is_empty() && !r.secret_created);
}

#[test]
fn schema_problems_are_named() {
    let dsn = fresh_database("noschema");
    let s = store(&dsn);
    match s.list() {
        Err(Error::Schema(m)) => assert!(m.contains("tiki_auth_tokens"), "{m}"),
        other => panic!("{other:?}"),
    }
    let d = s.lookup(&[b'a'; 32], b"x.php", &Params::new()).unwrap_err();
    assert_eq!(d.reason, DenialReason::DatabaseError);
    assert!(d.detail.contains("tiki_auth_tokens"), "{d}");

    create_table(&dsn, Variant::Trunk, Engine::MyIsam);
    exec(
        &dsn,
        "ALTER TABLE tiki_auth_tokens DROP COLUMN hits, DROP COLUMN userPrefix",
    );
    let s = store(&dsn);
    match s.create(b"x.php", &Params::new(), &[], &CreateOptions::default()) {
        Err(Error::Schema(m)) => assert!(m.contains("`hits`") && m.contains("`userPrefix`"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The table is repaired: a store that saw it broken notices (the failed detection is not
    // cached).
    exec(
        &dsn,
        "ALTER TABLE tiki_auth_tokens ADD COLUMN hits INT NOT NULL DEFAULT 1, ADD COLUMN userPrefix VARCHAR(200) DEFAULT '_token'",
    );
    assert!(s.list().unwrap().is_empty());
    // A column dropped under a running store: the error names it and the schema is read again.
    exec(&dsn, "ALTER TABLE tiki_auth_tokens DROP COLUMN maxhits");
    assert!(matches!(s.list(), Err(Error::Database(_))));
    assert!(matches!(s.list(), Err(Error::Schema(m)) if m.contains("`maxhits`")));
}

#[test]
fn nothing_shows_a_password_or_a_secret() {
    let mut cfg = StoreConfig::new("mysql://tiki:hunter2pass@127.0.0.1:1/tiki?prefer_socket=false");
    cfg.secret = Some(Secret::from_text("the-very-secret"));
    cfg.connect_timeout = std::time::Duration::from_millis(500);
    let text = format!("{cfg:?}");
    assert!(
        !text.contains("hunter2pass") && !text.contains("the-very-secret"),
        "{text}"
    );
    assert!(text.contains("tiki:***@127.0.0.1:1/tiki"), "{text}");
    let s = Store::new(cfg).unwrap();
    assert_eq!(s.connection_state(), "not connected");
    let d = s.lookup(&[b'a'; 64], b"x.php", &Params::new()).unwrap_err();
    assert_eq!(d.reason, DenialReason::DatabaseError);
    let state = s.connection_state();
    assert!(state.starts_with("error: "), "{state}");
    for shown in [
        format!("{s:?}"),
        state,
        d.detail,
        s.list().unwrap_err().to_string(),
    ] {
        assert!(
            !shown.contains("hunter2pass") && !shown.contains("the-very-secret"),
            "{shown}"
        );
    }
}

#[test]
fn connection_state_reports_the_server() {
    let dsn = table_database("state", Variant::Trunk, Engine::MyIsam);
    let s = store(&dsn);
    assert_eq!(s.connection_state(), "not connected");
    s.list().unwrap();
    let version: String = query_value(&dsn, "SELECT VERSION()").unwrap();
    assert_eq!(
        s.connection_state(),
        format!("connected (server version {version})")
    );
    assert!(matches!(
        Store::new(StoreConfig::new("mysql://u@h")),
        Err(Error::Config(_))
    ));
}

/// The secret from the table is kept for a second between lookups (a subquery on
/// `tiki_preferences` in every lookup cost as much as the lookup's own SELECT): after a
/// rotation made by another process, a token signed with the new secret is granted at once (a
/// token that does not verify with the kept secret makes the lookup read the table), and one
/// signed with the old secret is denied once the kept secret is a second old.
#[test]
fn a_rotation_by_another_process_counts_within_a_second() {
    let dsn = table_database("rotation_elsewhere", Variant::Trunk, Engine::InnoDb);
    let s = store(&dsn);
    let params = Params::new();
    let old = s
        .create(b"/r.php", &params, &g(&["G"]), &CreateOptions::default())
        .unwrap();
    assert!(s.lookup(old.token.as_bytes(), b"/r.php", &params).is_ok());
    // Another process rotates the secret behind this store's back.
    exec(
        &dsn,
        "REPLACE INTO tiki_preferences (name, value) VALUES ('auth_token_secret', 'rotated-elsewhere-0123456789')",
    );
    let rotated = Instant::now();
    let new = s
        .create(b"/r.php", &params, &g(&["G"]), &CreateOptions::default())
        .unwrap();
    assert!(
        s.lookup(new.token.as_bytes(), b"/r.php", &params).is_ok(),
        "a token of the new secret is granted at once"
    );
    std::thread::sleep(Duration::from_millis(1100).saturating_sub(rotated.elapsed()));
    let d = s
        .lookup(old.token.as_bytes(), b"/r.php", &params)
        .expect_err("a token of the old secret, a second after the rotation");
    assert_eq!(d.reason, DenialReason::BadSignature, "{d}");
}
