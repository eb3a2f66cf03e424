//! The lookup (SPEC section 3) against a real server, on Tiki 24's table, trunk's table and
//! trunk's table in another column order, each on MyISAM and on InnoDB: the SPEC's vectors from
//! Tiki's fixture, tokens minted by Tiki's own rules (MD5 in SQL as Tiki 24 does, HMAC in real
//! PHP as trunk does), tampering, the expiry boundary, hits, every denial reason, malformed rows.

use std::time::Duration;
use testkit::db::*;
use tiki_tokens::canon::{Key, Params, PhpArray, Value};
use tiki_tokens::store::{Grant, Store};
use tiki_tokens::{Denial, DenialReason};

fn no_params() -> Params {
    Params::new()
}

fn reason(r: Result<Grant, Denial>) -> DenialReason {
    match r {
        Ok(g) => panic!("expected a denial, got a grant {g:?}"),
        Err(d) => d.reason,
    }
}

fn hits_in_db(dsn: &str, id: i64) -> i64 {
    query_value(
        dsn,
        &format!("SELECT hits FROM tiki_auth_tokens WHERE tokenId = {id}"),
    )
    .unwrap()
}

#[test]
fn fixture_vectors_on_every_table() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("fixture", variant, engine);
        run_sql(&dsn, FIXTURE_SQL);
        let store = store(&dsn);
        let ctx = format!("{variant:?}/{engine:?}");

        // Row 3: timeout -1, 10 hits, MD5 e2990f79…: grants Admins and Registered.
        let g = store
            .lookup(
                b"e2990f7983b7b6c46b3987536aa38d32",
                b"tiki-index.php",
                &no_params(),
            )
            .unwrap_or_else(|d| panic!("{ctx}: {d}"));
        assert_eq!(g.token_id, 3, "{ctx}");
        assert_eq!(
            g.groups,
            vec!["Admins".to_string(), "Registered".to_string()],
            "{ctx}"
        );
        assert_eq!(g.hits_left, 9, "{ctx}");
        assert_eq!(hits_in_db(&dsn, 3), 9, "{ctx}");
        assert!(!g.create_user && g.temp_user.is_none(), "{ctx}");

        // Row 2: its MD5 verifies, but it timed out in 2012.
        let r = store.lookup(
            b"91bba2f998b48fce0146016809886127",
            b"tiki-index.php",
            &no_params(),
        );
        assert_eq!(reason(r), DenialReason::Expired, "{ctx}");
        // Row 1: its token is not the MD5 of its row.
        let r = store.lookup(
            b"823bde97a717c55b2cfbf9fbd6c81816",
            b"tiki-index.php",
            &no_params(),
        );
        assert_eq!(reason(r), DenialReason::BadSignature, "{ctx}");
        // Row 3 for another script, or with a parameter.
        let r = store.lookup(
            b"e2990f7983b7b6c46b3987536aa38d32",
            b"tiki-admin.php",
            &no_params(),
        );
        assert_eq!(reason(r), DenialReason::EntryMismatch, "{ctx}");
        let r = store.lookup(
            b"e2990f7983b7b6c46b3987536aa38d32",
            b"tiki-index.php",
            &str_params(&[("page", "HomePage")]),
        );
        assert_eq!(reason(r), DenialReason::ParamsMismatch, "{ctx}");
        assert_eq!(hits_in_db(&dsn, 3), 9, "{ctx}: denials consume nothing");

        // The SPEC's row 4, with its MD5 and (on trunk tables, secret test-auth-token-secret)
        // HMAC vector: the value verifies, and the row has long timed out.
        let vectors: &[&str] = if variant == Variant::Tiki24 {
            &["0ae3b4b86286ab68f5a66fb8c49da163"]
        } else {
            &[
                "0ae3b4b86286ab68f5a66fb8c49da163",
                "3e688670095cba622a5390a39c8c23b0ca641faf6bdff0cfccd7b3c35253fe85",
            ]
        };
        for (i, v) in vectors.iter().enumerate() {
            exec(&dsn, "DELETE FROM tiki_auth_tokens WHERE tokenId = 4");
            exec(
                &dsn,
                &format!(
                    "INSERT INTO tiki_auth_tokens (tokenId, creation, timeout, hits, maxhits, token, entry, \
                     email, parameters, `groups`) VALUES (4, '2012-02-03 15:25:07', 5, 10, 10, '{v}', \
                     'tiki-index.php', '', '{{\"page\":\"HomePage\"}}', '[\"Registered\"]')"
                ),
            );
            let params = str_params(&[("page", "HomePage")]);
            let r = store.lookup(v.as_bytes(), b"tiki-index.php", &params);
            assert_eq!(reason(r), DenialReason::Expired, "{ctx}: vector {i}");
            assert_eq!(
                store.get(v.as_bytes()).unwrap().map(|r| r.token_id),
                Some(4),
                "{ctx}"
            );
            // One character off: not the row's value.
            let mut off = v.to_string().into_bytes();
            off[0] = if off[0] == b'0' { b'1' } else { b'0' };
            exec(
                &dsn,
                &format!(
                    "UPDATE tiki_auth_tokens SET token = '{}' WHERE tokenId = 4",
                    String::from_utf8_lossy(&off)
                ),
            );
            let r = store.lookup(&off, b"tiki-index.php", &params);
            assert_eq!(reason(r), DenialReason::BadSignature, "{ctx}: vector {i}");
        }
    }
}

#[test]
fn tiki24_minted_tokens_grant_with_exact_params() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("t24mint", variant, engine);
        let ctx = format!("{variant:?}/{engine:?}");
        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                entry: "tiki-download_file.php",
                parameters: Some(r#"{"fileId":5,"display":"y","a":["x","y"]}"#),
                groups: Some(r#"["Editors","Registered"]"#),
                create_user: "y",
                user_prefix: "_tok",
                ..TikiRow::default()
            },
        );
        assert_eq!(token.len(), 32);
        let store = store(&dsn);
        let mut list = PhpArray::new();
        list.push(Value::Str(b"x".to_vec()));
        list.push(Value::Str(b"y".to_vec()));
        let mut params = str_params(&[("display", "y"), ("fileId", "5")]);
        params.insert(Key::from_bytes(b"a"), Value::Array(list.clone()));
        let g = store
            .lookup(token.as_bytes(), b"tiki-download_file.php", &params)
            .unwrap_or_else(|d| panic!("{ctx}: {d}"));
        assert_eq!(g.token_id, id);
        assert_eq!(
            g.groups,
            vec!["Editors".to_string(), "Registered".to_string()]
        );
        assert_eq!(g.email, "someone@example.org");
        assert!(g.create_user);
        assert_eq!(g.user_prefix, "_tok");
        // Expected name printed by PHP: sprintf('%s%06d', '_tok', $id * 531441 % 1000000).
        let php_name = String::from_utf8(testkit::php::eval(
            &format!("printf('%s%06d', '_tok', {id} * 531441 % 1000000);"),
            b"",
        ))
        .unwrap();
        assert_eq!(g.temp_user.as_deref(), Some(php_name.as_str()));
        assert_eq!(g.hits_left, 4);

        // Loose equality is not equality: "05" is not 5, and the list order matters.
        for (k, v) in [("fileId", "05"), ("fileId", "5.0"), ("display", "Y")] {
            let mut p = params.clone();
            p.insert(
                Key::from_bytes(k.as_bytes()),
                Value::Str(v.as_bytes().to_vec()),
            );
            let r = store.lookup(token.as_bytes(), b"tiki-download_file.php", &p);
            assert_eq!(reason(r), DenialReason::ParamsMismatch, "{ctx}: {k}={v}");
        }
        let mut reversed = PhpArray::new();
        reversed.push(Value::Str(b"y".to_vec()));
        reversed.push(Value::Str(b"x".to_vec()));
        let mut p = params.clone();
        p.insert(Key::from_bytes(b"a"), Value::Array(reversed));
        let r = store.lookup(token.as_bytes(), b"tiki-download_file.php", &p);
        assert_eq!(reason(r), DenialReason::ParamsMismatch, "{ctx}");
        let mut extra = params.clone();
        extra.insert(Key::from_bytes(b"token"), Value::Str(b"x".to_vec()));
        let r = store.lookup(token.as_bytes(), b"tiki-download_file.php", &extra);
        assert_eq!(reason(r), DenialReason::ParamsMismatch, "{ctx}");
        assert_eq!(hits_in_db(&dsn, id), 4, "{ctx}");
    }
}

#[test]
fn trunk_minted_tokens_signed_by_php_grant() {
    for (variant, engine) in ALL_TABLES {
        if variant == Variant::Tiki24 {
            continue;
        }
        let dsn = table_database("trunkmint", variant, engine);
        let ctx = format!("{variant:?}/{engine:?}");
        let id = insert_row(
            &dsn,
            &TikiRow {
                entry: "/tiki/tiki-index.php",
                parameters: Some(r#"{"page":"Home \u00e9 \/ page"}"#),
                hits: -1,
                ..TikiRow::default()
            },
        );
        let token = trunk_sign(&dsn, id, TEST_SECRET);
        assert_eq!(token.len(), 64);
        let store = store(&dsn);
        let params = str_params(&[("page", "Home é / page")]);
        let g = store
            .lookup(token.as_bytes(), b"/tiki/tiki-index.php", &params)
            .unwrap_or_else(|d| panic!("{ctx}: {d}"));
        assert_eq!((g.token_id, g.hits_left), (id, -1));
        assert_eq!(
            hits_in_db(&dsn, id),
            -1,
            "{ctx}: unlimited hits are never decremented"
        );
        // The same with the secret from the configuration instead of the table.
        let mut cfg = store_config(&dsn);
        cfg.secret = Some(tiki_tokens::token::Secret::from_text(TEST_SECRET));
        let s2 = Store::new(cfg).unwrap();
        assert!(
            s2.lookup(token.as_bytes(), b"/tiki/tiki-index.php", &params)
                .is_ok(),
            "{ctx}"
        );
        // A wrong configured secret: bad signature.
        let mut cfg = store_config(&dsn);
        cfg.secret = Some(tiki_tokens::token::Secret::from_text("another secret"));
        let s3 = Store::new(cfg).unwrap();
        let r = s3.lookup(token.as_bytes(), b"/tiki/tiki-index.php", &params);
        assert_eq!(reason(r), DenialReason::BadSignature, "{ctx}");
        // Upper case is not the token (ascii_bin: no such row).
        let r = store.lookup(
            token.to_uppercase().as_bytes(),
            b"/tiki/tiki-index.php",
            &params,
        );
        assert_eq!(reason(r), DenialReason::Unknown, "{ctx}");
    }
}

#[test]
fn tampered_rows_are_bad_signatures() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("tamper", variant, engine);
        let ctx = format!("{variant:?}/{engine:?}");
        let store = store(&dsn);
        for (column, value) in [
            ("`groups`", r#"'["Admins"]'"#),
            ("entry", "'tiki-admin.php'"),
            ("parameters", r#"'{"page":"Other"}'"#),
            ("timeout", "-1"),
            ("creation", "creation - INTERVAL 1 SECOND"),
        ] {
            let (id, token) = tiki24_mint(&dsn, &TikiRow::default());
            exec(
                &dsn,
                &format!("UPDATE tiki_auth_tokens SET {column} = {value} WHERE tokenId = {id}"),
            );
            let entry: Vec<u8> = query_value(
                &dsn,
                &format!("SELECT entry FROM tiki_auth_tokens WHERE tokenId = {id}"),
            )
            .unwrap();
            let params = if column == "parameters" {
                str_params(&[("page", "Other")])
            } else {
                no_params()
            };
            let r = store.lookup(token.as_bytes(), &entry, &params);
            assert_eq!(reason(r), DenialReason::BadSignature, "{ctx}: {column}");
        }
        // Upper case hex passes the pre-check; on Tiki 24's case-insensitive column it finds
        // the row, and is refused because it is not the (lower-case) value.
        let (_, token) = tiki24_mint(&dsn, &TikiRow::default());
        let r = store.lookup(
            token.to_uppercase().as_bytes(),
            b"tiki-index.php",
            &no_params(),
        );
        let want = if variant == Variant::Tiki24 {
            DenialReason::BadSignature
        } else {
            DenialReason::Unknown
        };
        assert_eq!(reason(r), want, "{ctx}");
    }
}

#[test]
fn expiry_boundary_uses_the_database_clock() {
    for (variant, engine) in [
        (Variant::Tiki24, Engine::MyIsam),
        (Variant::Trunk, Engine::InnoDb),
    ] {
        let dsn = table_database("expiry", variant, engine);
        let store = store(&dsn);
        let id = insert_row(
            &dsn,
            &TikiRow {
                hits: -1,
                ..TikiRow::default()
            },
        );
        // creation + timeout = now: still valid. Retried when the database's second ticks
        // between setting the row and the lookup (then the boundary was not tested).
        let mut tested = false;
        for _ in 0..20 {
            let t0: i64 = query_value(&dsn, "SELECT UNIX_TIMESTAMP()").unwrap();
            exec(
                &dsn,
                &format!(
                    "UPDATE tiki_auth_tokens SET creation = FROM_UNIXTIME({}), timeout = 100 WHERE tokenId = {id}",
                    t0 - 100
                ),
            );
            let token = tiki24_sign(&dsn, id);
            let r = store.lookup(token.as_bytes(), b"tiki-index.php", &no_params());
            let t1: i64 = query_value(&dsn, "SELECT UNIX_TIMESTAMP()").unwrap();
            if t1 != t0 {
                continue;
            }
            assert!(
                r.is_ok(),
                "{variant:?}: creation + timeout = now must be valid: {r:?}"
            );
            tested = true;
            break;
        }
        assert!(tested, "the database clock ticked during every attempt");
        // One second later: expired.
        let t0: i64 = query_value(&dsn, "SELECT UNIX_TIMESTAMP()").unwrap();
        exec(
            &dsn,
            &format!(
                "UPDATE tiki_auth_tokens SET creation = FROM_UNIXTIME({}), timeout = 100 WHERE tokenId = {id}",
                t0 - 101
            ),
        );
        let token = tiki24_sign(&dsn, id);
        let r = store.lookup(token.as_bytes(), b"tiki-index.php", &no_params());
        assert_eq!(reason(r), DenialReason::Expired);
        // timeout -1 never expires, however old.
        exec(
            &dsn,
            &format!(
                "UPDATE tiki_auth_tokens SET creation = '2001-01-01 00:00:00', timeout = -1 WHERE tokenId = {id}"
            ),
        );
        let token = tiki24_sign(&dsn, id);
        assert!(
            store
                .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
                .is_ok()
        );
    }
}

#[test]
fn hits_count_down_to_exhausted_and_unlimited_stays() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("hits", variant, engine);
        let ctx = format!("{variant:?}/{engine:?}");
        let store = store(&dsn);
        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: 1,
                ..TikiRow::default()
            },
        );
        let g = store
            .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
            .unwrap();
        assert_eq!(g.hits_left, 0, "{ctx}");
        assert_eq!(hits_in_db(&dsn, id), 0, "{ctx}");
        let r = store.lookup(token.as_bytes(), b"tiki-index.php", &no_params());
        assert_eq!(reason(r), DenialReason::Exhausted, "{ctx}");
        assert_eq!(
            hits_in_db(&dsn, id),
            0,
            "{ctx}: never below 0 (Tiki 24's -1 = unlimited bug)"
        );

        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: 3,
                ..TikiRow::default()
            },
        );
        let left: Vec<i64> = (0..3)
            .map(|_| {
                store
                    .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
                    .unwrap()
                    .hits_left
            })
            .collect();
        assert_eq!(left, vec![2, 1, 0], "{ctx}");
        assert_eq!(
            reason(store.lookup(token.as_bytes(), b"tiki-index.php", &no_params())),
            DenialReason::Exhausted
        );
        assert_eq!(hits_in_db(&dsn, id), 0);

        let (id, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: -1,
                ..TikiRow::default()
            },
        );
        for _ in 0..5 {
            let g = store
                .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
                .unwrap();
            assert_eq!(g.hits_left, -1);
        }
        assert_eq!(hits_in_db(&dsn, id), -1, "{ctx}");

        // Other negative counts are not unlimited.
        let (_, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: -2,
                ..TikiRow::default()
            },
        );
        assert_eq!(
            reason(store.lookup(token.as_bytes(), b"tiki-index.php", &no_params())),
            DenialReason::Exhausted
        );
    }
}

#[test]
fn malformed_and_unknown_tokens() {
    // A store whose server does not exist: a malformed token is refused before any round trip
    // (so the reason is Malformed, not DatabaseError, and it is immediate).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = store(&format!(
        "mysql://root@127.0.0.1:{port}/nothing?prefer_socket=false"
    ));
    for bad in [
        &b""[..],
        b"abc",
        b"e2990f7983b7b6c46b3987536aa38d3g",
        &[b'a'; 33],
        &[b'a'; 63],
        b"e2990f7983b7b6c46b3987536aa38d3\xff",
    ] {
        let t = std::time::Instant::now();
        assert_eq!(
            reason(nowhere.lookup(bad, b"tiki-index.php", &no_params())),
            DenialReason::Malformed
        );
        assert!(t.elapsed() < Duration::from_millis(50));
    }
    assert_eq!(nowhere.connection_state(), "not connected");

    let dsn = table_database("unknown", Variant::Trunk, Engine::MyIsam);
    run_sql(&dsn, FIXTURE_SQL);
    let store = store(&dsn);
    for unknown in [[b'0'; 32].as_slice(), [b'f'; 64].as_slice()] {
        let d = store
            .lookup(unknown, b"tiki-index.php", &no_params())
            .unwrap_err();
        assert_eq!(d.reason, DenialReason::Unknown);
        assert!(
            !d.detail.contains(std::str::from_utf8(unknown).unwrap()),
            "{d}"
        );
    }
}

#[test]
fn the_first_row_that_verifies_wins() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("dups", variant, engine);
        let store = store(&dsn);
        // A forged row (lower id) carrying the value of a genuine row.
        let forged = insert_row(
            &dsn,
            &TikiRow {
                groups: Some(r#"["Admins"]"#),
                ..TikiRow::default()
            },
        );
        let (genuine, token) = tiki24_mint(&dsn, &TikiRow::default());
        assert!(forged < genuine);
        exec(
            &dsn,
            &format!("UPDATE tiki_auth_tokens SET token = '{token}' WHERE tokenId = {forged}"),
        );
        let g = store
            .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
            .unwrap();
        assert_eq!(
            (g.token_id, g.groups),
            (genuine, vec!["Registered".to_string()]),
            "{variant:?}/{engine:?}"
        );
    }
}

#[test]
fn malformed_rows_are_denied_never_granted() {
    for (variant, engine) in [
        (Variant::Tiki24, Engine::MyIsam),
        (Variant::TrunkReordered, Engine::InnoDb),
    ] {
        let dsn = table_database("badrows", variant, engine);
        let store = store(&dsn);
        let cases: [(TikiRow, DenialReason); 7] = [
            (
                TikiRow {
                    parameters: Some("{not json"),
                    ..TikiRow::default()
                },
                DenialReason::DatabaseError,
            ),
            (
                TikiRow {
                    parameters: Some("5"),
                    ..TikiRow::default()
                },
                DenialReason::DatabaseError,
            ),
            (
                TikiRow {
                    parameters: None,
                    ..TikiRow::default()
                },
                DenialReason::DatabaseError,
            ),
            (
                TikiRow {
                    groups: Some("[\"Admins\""),
                    ..TikiRow::default()
                },
                DenialReason::DatabaseError,
            ),
            (
                TikiRow {
                    groups: Some("[1,2]"),
                    ..TikiRow::default()
                },
                DenialReason::DatabaseError,
            ),
            (
                TikiRow {
                    groups: None,
                    ..TikiRow::default()
                },
                DenialReason::DatabaseError,
            ),
            // A stored float never matches anything a request carries.
            (
                TikiRow {
                    parameters: Some(r#"{"a":1.5}"#),
                    ..TikiRow::default()
                },
                DenialReason::ParamsMismatch,
            ),
        ];
        for (row, want) in cases {
            let (id, token) = tiki24_mint(&dsn, &row);
            let params = if row.parameters == Some(r#"{"a":1.5}"#) {
                str_params(&[("a", "1.5")])
            } else {
                no_params()
            };
            let d = store
                .lookup(token.as_bytes(), b"tiki-index.php", &params)
                .unwrap_err();
            assert_eq!(d.reason, want, "{variant:?}: {row:?}: {d}");
            assert!(!d.detail.contains(&token));
            assert_eq!(hits_in_db(&dsn, id), 5, "a malformed row consumes nothing");
        }
        // An empty groups list is a grant of no groups (the Tiki shim denies it, as Tiki does).
        let (_, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                groups: Some("[]"),
                ..TikiRow::default()
            },
        );
        let g = store
            .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
            .unwrap();
        assert!(g.groups.is_empty());
        // Groups stored as an object (json_encode of a non-list array) are read in order.
        let (_, token) = tiki24_mint(
            &dsn,
            &TikiRow {
                groups: Some(r#"{"1":"A","0":"B"}"#),
                ..TikiRow::default()
            },
        );
        let g = store
            .lookup(token.as_bytes(), b"tiki-index.php", &no_params())
            .unwrap();
        assert_eq!(g.groups, vec!["A".to_string(), "B".to_string()]);
    }
}

#[test]
fn lost_race_when_the_last_hit_goes_between_select_and_update() {
    // InnoDB: another transaction holds the row lock, so the lookup's UPDATE waits after its
    // SELECT saw one hit left; that transaction then takes the hit and commits.
    let dsn = table_database("race", Variant::Trunk, Engine::InnoDb);
    let (id, token) = tiki24_mint(
        &dsn,
        &TikiRow {
            hits: 1,
            ..TikiRow::default()
        },
    );
    let store = store(&dsn);
    let mut blocker = connect(&dsn);
    use mysql::prelude::Queryable;
    blocker.query_drop("START TRANSACTION").unwrap();
    blocker
        .query_drop(format!(
            "SELECT hits FROM tiki_auth_tokens WHERE tokenId = {id} FOR UPDATE"
        ))
        .unwrap();
    let t = std::thread::spawn(move || {
        store.lookup(token.as_bytes(), b"tiki-index.php", &Params::new())
    });
    // Wait until the lookup's UPDATE is waiting for the lock.
    let db: String = query_value(&dsn, "SELECT DATABASE()").unwrap();
    let mut waiting = false;
    for _ in 0..200 {
        let n: i64 = query_value(
            &dsn,
            &format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{db}' \
                 AND INFO LIKE 'UPDATE `tiki_auth_tokens` SET `hits`%'"
            ),
        )
        .unwrap();
        if n > 0 {
            waiting = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(waiting, "the lookup never reached its UPDATE");
    blocker
        .query_drop(format!(
            "UPDATE tiki_auth_tokens SET hits = 0 WHERE tokenId = {id}"
        ))
        .unwrap();
    blocker.query_drop("COMMIT").unwrap();
    let r = t.join().unwrap();
    assert_eq!(reason(r), DenialReason::LostRace);
}
