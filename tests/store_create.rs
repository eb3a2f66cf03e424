//! Minting (SPEC section 2): create → lookup round trips on every table, tokens that verify under
//! Tiki's own rules (MD5 in SQL, HMAC in real PHP), caps, column-width errors that write
//! nothing, params no request can carry, cleanup of half-written rows, and `include_token`.

use testkit::db::*;
use tiki_tokens::Error;
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::{Key, Params, PhpArray, Value, take_token};
use tiki_tokens::store::{CreateOptions, Store};
use tiki_tokens::token::{Scheme, Secret};

fn groups(g: &[&str]) -> Vec<String> {
    g.iter().map(|s| (*s).to_string()).collect()
}

fn count(dsn: &str) -> i64 {
    query_value(dsn, "SELECT COUNT(*) FROM tiki_auth_tokens").unwrap()
}

/// Tiki's own check of a stored token: MD5 recomputed by the server (legacy) or HMAC by PHP
/// with the stored secret (signed).
fn tiki_recomputes(dsn: &str, id: i64, token: &str, secret: &str) -> bool {
    let want = if token.len() == 32 {
        query_value::<String>(
            dsn,
            &format!(
                "SELECT MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`)) \
                 FROM tiki_auth_tokens WHERE tokenId = {id}"
            ),
        )
        .unwrap()
    } else {
        php_hmac(&sql_payload(dsn, id), secret)
    };
    let stored: String = query_value(
        dsn,
        &format!("SELECT token FROM tiki_auth_tokens WHERE tokenId = {id}"),
    )
    .unwrap();
    want == token && stored == token
}

fn rich_params() -> Params {
    let mut list = PhpArray::new();
    list.push(Value::Str(b"2".to_vec()));
    list.push(Value::Str(b"3".to_vec()));
    let mut p = PhpArray::new();
    p.insert(
        Key::from_bytes(b"controller"),
        Value::Str(b"tracker".to_vec()),
    );
    p.insert(Key::from_bytes(b"trackerId"), Value::Int(3));
    p.insert(Key::from_bytes(b"listfields"), Value::Array(list));
    p.insert(
        Key::from_bytes(b"filter"),
        Value::Str("a,b%c é/\"'".as_bytes().to_vec()),
    );
    p.insert(Key::from_bytes(b"empty"), Value::Str(Vec::new()));
    p.insert(Key::from_bytes(b"zero"), Value::Str(b"0".to_vec()));
    p
}

/// What a request for those params carries: strings only.
fn rich_request() -> Params {
    let mut p = rich_params();
    p.insert(Key::from_bytes(b"trackerId"), Value::Str(b"3".to_vec()));
    p
}

#[test]
fn create_then_lookup_on_every_table() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("roundtrip", variant, engine);
        let ctx = format!("{variant:?}/{engine:?}");
        let store = store(&dsn);
        let options = CreateOptions {
            email: "a@example.org".into(),
            create_user: true,
            user_prefix: "_guest".into(),
            user: Some("admin".into()),
            data: Some(r#"{"note":"x"}"#.into()),
            ..CreateOptions::default()
        };
        let c = store
            .create(
                b"/tiki/tiki-ajax_services.php",
                &rich_params(),
                &groups(&["Registered", "Ed/itors é"]),
                &options,
            )
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let want = if variant == Variant::Tiki24 {
            Scheme::Legacy
        } else {
            Scheme::Signed
        };
        assert_eq!(c.scheme, want, "{ctx}");
        assert_eq!(c.token.len(), want.width(), "{ctx}");
        assert!(
            tiki_recomputes(&dsn, c.token_id, &c.token, TEST_SECRET),
            "{ctx}: Tiki's own rule"
        );
        let g = store
            .lookup(
                c.token.as_bytes(),
                b"/tiki/tiki-ajax_services.php",
                &rich_request(),
            )
            .unwrap_or_else(|d| panic!("{ctx}: {d}"));
        assert_eq!(g.token_id, c.token_id);
        assert_eq!(g.groups, groups(&["Registered", "Ed/itors é"]));
        assert_eq!(g.email, "a@example.org");
        assert!(
            g.create_user
                && g.temp_user
                    .as_deref()
                    .is_some_and(|u| u.starts_with("_guest"))
        );
        assert_eq!(g.hits_left, 9, "{ctx}: default cap of 10 hits, one used");
        if variant == Variant::Tiki24 {
            assert_eq!((g.user, g.data), (None, None));
        } else {
            assert_eq!(g.user.as_deref(), Some("admin"));
            assert_eq!(g.data.as_deref(), Some(r#"{"note":"x"}"#));
        }
        // Tiki's PHP reads the stored JSON back to the same values.
        let stored: String = query_value(
            &dsn,
            &format!("SELECT CONCAT(parameters, '\\n', `groups`) FROM tiki_auth_tokens WHERE tokenId = {}", c.token_id),
        )
        .unwrap();
        let out = testkit::php::eval(
            "[$p, $g] = explode(\"\\n\", stream_get_contents(STDIN)); \
             echo serialize([json_decode($p, true), json_decode($g, true)]);",
            stored.as_bytes(),
        );
        let back = testkit::value::as_array(testkit::value::unserialize(&out));
        assert_eq!(
            back.get(&Key::Int(0)),
            Some(&Value::Array(rich_params())),
            "{ctx}"
        );
        // A second token gets its own id and value.
        let c2 = store
            .create(
                b"/tiki/tiki-index.php",
                &Params::new(),
                &groups(&["Registered"]),
                &options,
            )
            .unwrap();
        assert_ne!((c2.token_id, &c2.token), (c.token_id, &c.token));
    }
}

#[test]
fn scheme_follows_the_column_and_the_configuration() {
    // Trunk table, secret from the configuration: signed with that secret.
    let dsn = table_database("cfgsecret", Variant::Trunk, Engine::MyIsam);
    let mut cfg = store_config(&dsn);
    cfg.secret = Some(Secret::from_text("configured-secret"));
    let c = Store::new(cfg.clone())
        .unwrap()
        .create(
            b"x.php",
            &Params::new(),
            &groups(&["G"]),
            &CreateOptions::default(),
        )
        .unwrap();
    assert_eq!(c.scheme, Scheme::Signed);
    assert!(tiki_recomputes(
        &dsn,
        c.token_id,
        &c.token,
        "configured-secret"
    ));
    // force_legacy: MD5 even where signing is possible.
    cfg.force_legacy = true;
    let c = Store::new(cfg)
        .unwrap()
        .create(
            b"x.php",
            &Params::new(),
            &groups(&["G"]),
            &CreateOptions::default(),
        )
        .unwrap();
    assert_eq!((c.scheme, c.token.len()), (Scheme::Legacy, 32));
    assert!(tiki_recomputes(&dsn, c.token_id, &c.token, ""));
    // Trunk table without any secret: legacy.
    exec(&dsn, "DELETE FROM tiki_preferences");
    let c = store(&dsn)
        .create(
            b"x.php",
            &Params::new(),
            &groups(&["G"]),
            &CreateOptions::default(),
        )
        .unwrap();
    assert_eq!(c.scheme, Scheme::Legacy);
    // Tiki 24's 32-character column with a configured secret: still legacy.
    let dsn = table_database("cfgsecret24", Variant::Tiki24, Engine::MyIsam);
    let mut cfg = store_config(&dsn);
    cfg.secret = Some(Secret::from_text("configured-secret"));
    let c = Store::new(cfg)
        .unwrap()
        .create(
            b"x.php",
            &Params::new(),
            &groups(&["G"]),
            &CreateOptions::default(),
        )
        .unwrap();
    assert_eq!(c.scheme, Scheme::Legacy);
}

#[test]
fn caps_apply() {
    let dsn = table_database("caps", Variant::Trunk, Engine::InnoDb);
    let mut cfg = store_config(&dsn);
    cfg.max_timeout = 3600;
    cfg.max_hits = 10;
    let store = Store::new(cfg).unwrap();
    for (timeout, hits, want_timeout, want_hits) in [
        (None, None, 3600, 10),
        (Some(0), Some(0), 3600, 10),
        (Some(60), Some(3), 60, 3),
        (Some(999_999), Some(500), 3600, 10),
        (Some(-1), Some(-1), -1, -1),
    ] {
        let opts = CreateOptions {
            timeout,
            hits,
            ..CreateOptions::default()
        };
        let c = store
            .create(b"x.php", &Params::new(), &groups(&["G"]), &opts)
            .unwrap();
        let row = timeout_hits_maxhits(&dsn, c.token_id);
        assert_eq!(
            row,
            (want_timeout, want_hits, want_hits),
            "{timeout:?} {hits:?}"
        );
    }
    let opts = CreateOptions {
        hits: Some(-5),
        ..CreateOptions::default()
    };
    assert!(matches!(
        store.create(b"x.php", &Params::new(), &[], &opts),
        Err(Error::InvalidInput(_))
    ));
}

fn timeout_hits_maxhits(dsn: &str, id: i64) -> (i64, i64, i64) {
    use mysql::prelude::Queryable;
    connect(dsn)
        .exec_first(
            "SELECT timeout, hits, maxhits FROM tiki_auth_tokens WHERE tokenId = ?",
            (id,),
        )
        .unwrap()
        .unwrap()
}

#[test]
fn too_wide_values_are_refused_before_anything_is_written() {
    for engine in [Engine::MyIsam, Engine::InnoDb] {
        let dsn = table_database("widths", Variant::Tiki24, engine);
        let store = store(&dsn);
        let next_id = || -> i64 {
            query_value(
                &dsn,
                "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = 'tiki_auth_tokens'",
            )
            .unwrap_or(1)
        };
        let before = next_id();
        // Tiki 24's entry is VARCHAR(50): 51 characters are refused, naming the column.
        let e = store.create(
            "a".repeat(51).as_bytes(),
            &Params::new(),
            &groups(&["G"]),
            &CreateOptions::default(),
        );
        match e {
            Err(Error::InvalidInput(m)) => {
                assert!(
                    m.contains("`entry`") && m.contains("51") && m.contains("50"),
                    "{m}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Parameters JSON over VARCHAR(255); email over 255; prefix over 200; entry not UTF-8.
        let long = str_params(&[("q", &"x".repeat(250))]);
        let cases: Vec<(Vec<u8>, Params, CreateOptions, &str)> = vec![
            (
                b"x.php".to_vec(),
                long,
                CreateOptions::default(),
                "`parameters`",
            ),
            (
                b"x.php".to_vec(),
                Params::new(),
                CreateOptions {
                    email: "e".repeat(256),
                    ..CreateOptions::default()
                },
                "`email`",
            ),
            (
                b"x.php".to_vec(),
                Params::new(),
                CreateOptions {
                    user_prefix: "p".repeat(201),
                    ..CreateOptions::default()
                },
                "`userPrefix`",
            ),
            (
                b"x\xff.php".to_vec(),
                Params::new(),
                CreateOptions::default(),
                "UTF-8",
            ),
        ];
        for (entry, params, opts, what) in cases {
            match store.create(&entry, &params, &groups(&["G"]), &opts) {
                Err(Error::InvalidInput(m)) => assert!(m.contains(what), "{what}: {m}"),
                other => panic!("{what}: {other:?}"),
            }
        }
        assert_eq!(count(&dsn), 0, "{engine:?}: nothing was written");
        assert_eq!(next_id(), before, "{engine:?}: not even an id was used");
        // Exactly 50 characters fit, also 50 four-byte ones (utf8mb4 counts characters).
        store
            .create(
                "a".repeat(50).as_bytes(),
                &Params::new(),
                &groups(&["G"]),
                &CreateOptions::default(),
            )
            .unwrap();
        let c = store
            .create(
                "😀".repeat(50).as_bytes(),
                &Params::new(),
                &groups(&["G"]),
                &CreateOptions::default(),
            )
            .unwrap();
        let g = store
            .lookup(
                c.token.as_bytes(),
                "😀".repeat(50).as_bytes(),
                &Params::new(),
            )
            .unwrap();
        assert_eq!(g.token_id, c.token_id);
        // The same long values fit trunk's wider columns.
        let dsn = table_database("widths_trunk", Variant::Trunk, engine);
        let c = testkit::db::store(&dsn)
            .create(
                "a".repeat(51).as_bytes(),
                &str_params(&[("q", &"x".repeat(250))]),
                &groups(&["G"]),
                &CreateOptions::default(),
            )
            .unwrap();
        assert_eq!(c.token.len(), 64);
    }
}

#[test]
fn params_no_request_can_carry_are_refused() {
    let dsn = table_database("uncarriable", Variant::Trunk, Engine::MyIsam);
    let store = store(&dsn);
    let mut cases: Vec<(&str, Params)> = Vec::new();
    for (name, v) in [
        ("float", Value::Float(1.5)),
        ("bool", Value::Bool(true)),
        ("null", Value::Null),
        ("empty array", Value::Array(PhpArray::new())),
    ] {
        let mut inner = PhpArray::new();
        inner.insert(Key::from_bytes(b"deep"), v);
        let mut p = PhpArray::new();
        p.insert(Key::from_bytes(b"a"), Value::Array(inner));
        cases.push((name, p));
    }
    cases.push(("TOKEN", str_params(&[("TOKEN", "x")])));
    cases.push(("a dot in a name", str_params(&[("a.b", "x")])));
    cases.push(("a space in a name", str_params(&[("a b", "x")])));
    for (what, p) in cases {
        match store.create(b"x.php", &p, &groups(&["G"]), &CreateOptions::default()) {
            Err(Error::InvalidInput(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    assert_eq!(count(&dsn), 0);
}

#[test]
fn a_failure_after_the_insert_leaves_no_row() {
    for engine in [Engine::MyIsam, Engine::InnoDb] {
        let dsn = table_database("halfwritten", Variant::Trunk, engine);
        // A trigger makes the token UPDATE fail for one email address.
        exec(
            &dsn,
            "CREATE TRIGGER fail_token BEFORE UPDATE ON tiki_auth_tokens FOR EACH ROW \
             BEGIN IF NEW.email = 'fail@example.org' AND NEW.token IS NOT NULL THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by test trigger'; END IF; END",
        );
        let store = store(&dsn);
        let opts = CreateOptions {
            email: "fail@example.org".into(),
            ..CreateOptions::default()
        };
        match store.create(b"x.php", &Params::new(), &groups(&["G"]), &opts) {
            Err(Error::Database(m)) => assert!(m.contains("refused by test trigger"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            count(&dsn),
            0,
            "{engine:?}: the half-written row was removed"
        );
        // Others still work on the same store.
        assert!(
            store
                .create(
                    b"x.php",
                    &Params::new(),
                    &groups(&["G"]),
                    &CreateOptions::default()
                )
                .is_ok()
        );
    }
}

#[test]
fn include_token_gives_a_url_that_matches() {
    for (variant, engine) in [
        (Variant::Tiki24, Engine::MyIsam),
        (Variant::Trunk, Engine::InnoDb),
    ] {
        let dsn = table_database("include", variant, engine);
        let store = store(&dsn);
        let url = b"https://user:pw@example.org:8443/tiki/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&filter=a%2Cb%25c&listfields[]=2&listfields[]=3#frag";
        let (out, c) = store
            .include_token(url, &groups(&["Registered"]), &CreateOptions::default())
            .unwrap();
        assert!(
            out.starts_with("https://example.org:8443/tiki/tiki-ajax_services.php?"),
            "{out}"
        );
        assert!(out.ends_with(&format!("&TOKEN={}#frag", c.token)), "{out}");
        // The query is what PHP writes: http_build_query of what PHP parses from it.
        let query = out.split_once('?').unwrap().1.split_once('#').unwrap().0;
        let php = testkit::php::eval(
            "parse_str(stream_get_contents(STDIN), $a); echo http_build_query($a, '', '&');",
            query.as_bytes(),
        );
        assert_eq!(String::from_utf8(php).unwrap(), query);
        // Requesting it: $_GET of the query, TOKEN taken out, entry = the path.
        let mut params = parse_query(query.as_bytes(), QueryLimits::default());
        let token = take_token(&mut params);
        assert_eq!(token, Some(Value::Str(c.token.clone().into_bytes())));
        let g = store
            .lookup(c.token.as_bytes(), b"/tiki/tiki-ajax_services.php", &params)
            .unwrap();
        assert_eq!(g.token_id, c.token_id);
        // A URL without a query.
        let (out, c) = store
            .include_token(
                b"/tiki/tiki-index.php",
                &groups(&["G"]),
                &CreateOptions::default(),
            )
            .unwrap();
        assert_eq!(out, format!("/tiki/tiki-index.php?TOKEN={}", c.token));
        // A URL that does not parse: an error, nothing written.
        let before = count(&dsn);
        assert!(
            store
                .include_token(b"ftp://x/y", &groups(&["G"]), &CreateOptions::default())
                .is_err()
        );
        assert_eq!(count(&dsn), before);
    }
}
