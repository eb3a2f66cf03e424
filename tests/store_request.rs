//! The whole request bound by the store (SPEC section 8), on Tiki 24's table and trunk's, each
//! on MyISAM and InnoDB: the method is judged with the row after the binding check and before
//! the hit is consumed (a denied POST costs no hit), `allowPost` is kept in `data` (and refused
//! where there is none, except for the upload script), the request-only rules deny before the
//! row is read, and `Store::lookup` (no request) is unchanged.

use testkit::db::*;
use tiki_tokens::DenialReason;
use tiki_tokens::canon::Params;
use tiki_tokens::request::RequestFacts;
use tiki_tokens::store::{CreateOptions, Grant, LookupRequest, PresentedToken, Store};

const TABLES: [(Variant, Engine); 4] = [
    (Variant::Tiki24, Engine::MyIsam),
    (Variant::Tiki24, Engine::InnoDb),
    (Variant::Trunk, Engine::MyIsam),
    (Variant::Trunk, Engine::InnoDb),
];

fn hits_in_db(dsn: &str, id: i64) -> i64 {
    query_value(
        dsn,
        &format!("SELECT hits FROM tiki_auth_tokens WHERE tokenId = {id}"),
    )
    .unwrap()
}

/// A request with `method` for the query `page=<page>&TOKEN=<token>`.
fn facts(method: &str, page: &str, token: &str) -> RequestFacts {
    RequestFacts {
        method: method.as_bytes().to_vec(),
        query_string: format!("page={page}&TOKEN={token}").into_bytes(),
        ..RequestFacts::default()
    }
}

fn look(
    store: &Store,
    token: &str,
    entry: &str,
    params: &Params,
    request: &RequestFacts,
) -> Result<Grant, DenialReason> {
    store
        .lookup_request(LookupRequest {
            token: PresentedToken::Text(token.as_bytes()),
            entry: entry.as_bytes(),
            params: Ok(params.clone()),
            purge: None,
            facts: Some(request),
        })
        .result
        .map_err(|d| d.reason)
}

fn mint(store: &Store, entry: &str, params: &Params, allow_post: bool) -> (i64, String) {
    mint_checked(store, entry, params, allow_post).unwrap()
}

#[test]
fn a_denied_method_costs_no_hit_and_comes_after_the_binding_check() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("request_method", variant, engine);
        let store = store(&dsn);
        let home = str_params(&[("page", "Home")]);
        let (id, token) = mint(&store, "/tiki-index.php", &home, false);
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "post", ""] {
            let r = look(
                &store,
                &token,
                "/tiki-index.php",
                &home,
                &facts(method, "Home", &token),
            );
            assert_eq!(
                r.err(),
                Some(DenialReason::MethodNotAllowed),
                "{ctx} {method}"
            );
        }
        assert_eq!(
            hits_in_db(&dsn, id),
            5,
            "{ctx}: denied methods consumed hits"
        );
        // The binding check comes first: a POST for other params is a params mismatch.
        let other = str_params(&[("page", "Other")]);
        let r = look(
            &store,
            &token,
            "/tiki-index.php",
            &other,
            &facts("POST", "Other", &token),
        );
        assert_eq!(r.err(), Some(DenialReason::ParamsMismatch), "{ctx}");
        for method in ["GET", "HEAD"] {
            let g = look(
                &store,
                &token,
                "/tiki-index.php",
                &home,
                &facts(method, "Home", &token),
            );
            assert!(g.is_ok(), "{ctx} {method}: {g:?}");
        }
        assert_eq!(hits_in_db(&dsn, id), 3, "{ctx}");
        // Without a request to bind, the lookup is what it was.
        assert!(
            store
                .lookup(token.as_bytes(), b"/tiki-index.php", &home)
                .is_ok()
        );
        assert_eq!(hits_in_db(&dsn, id), 2, "{ctx}");
    }
}

#[test]
fn allow_post_on_trunk_and_the_upload_script_on_both_tables() {
    for (variant, engine) in TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let dsn = table_database("request_post", variant, engine);
        let store = store(&dsn);
        let home = str_params(&[("page", "Home")]);
        let made = mint_checked(&store, "/tiki-index.php", &home, true);
        match variant {
            Variant::Tiki24 => {
                let e = made.unwrap_err();
                assert!(e.contains("data column"), "{ctx}: {e}");
                assert_eq!(
                    query_value::<i64>(&dsn, "SELECT COUNT(*) FROM tiki_auth_tokens"),
                    Some(0),
                    "{ctx}: nothing written"
                );
            }
            _ => {
                let (id, token) = made.unwrap();
                let data: Option<String> = query_value(
                    &dsn,
                    &format!("SELECT data FROM tiki_auth_tokens WHERE tokenId = {id}"),
                );
                assert_eq!(data.as_deref(), Some(r#"{"allowPost":true}"#), "{ctx}");
                let g = look(
                    &store,
                    &token,
                    "/tiki-index.php",
                    &home,
                    &facts("POST", "Home", &token),
                );
                assert_eq!(g.map(|g| g.hits_left), Ok(4), "{ctx}");
                let r = look(
                    &store,
                    &token,
                    "/tiki-index.php",
                    &home,
                    &facts("PUT", "Home", &token),
                );
                assert_eq!(r.err(), Some(DenialReason::MethodNotAllowed), "{ctx}");
            }
        }
        // Tiki's upload script: POST without the flag, on both tables (Tiki's own code mints
        // these tokens and knows no flag).
        let gallery = str_params(&[("galleryId", "5")]);
        let (id, token) = mint(&store, "/tiki/tiki-upload_file.php", &gallery, false);
        let upload = RequestFacts {
            method: b"POST".to_vec(),
            query_string: Vec::new(),
            post_token: Some(token.clone().into_bytes()),
            ..RequestFacts::default()
        };
        let g = look(
            &store,
            &token,
            "/tiki/tiki-upload_file.php",
            &gallery,
            &upload,
        );
        assert!(g.is_ok(), "{ctx}: {g:?}");
        assert_eq!(hits_in_db(&dsn, id), 4, "{ctx}");
    }
}

fn mint_checked(
    store: &Store,
    entry: &str,
    params: &Params,
    allow_post: bool,
) -> Result<(i64, String), String> {
    let options = CreateOptions {
        hits: Some(5),
        allow_post,
        ..CreateOptions::default()
    };
    store
        .create(entry.as_bytes(), params, &["Registered".into()], &options)
        .map(|m| (m.token_id, m.token))
        .map_err(|e| e.to_string())
}

#[test]
fn request_rules_deny_before_the_row_is_read() {
    let dsn = table_database("request_rules", Variant::Trunk, Engine::InnoDb);
    let store = store(&dsn);
    let home = str_params(&[("page", "Home")]);
    let (id, token) = mint(&store, "/tiki-index.php", &home, true);
    let mut dropped = facts("GET", "Home", &token);
    dropped.query_string.extend(b"&=x".repeat(998));
    dropped.query_string.extend(b"&page=Evil");
    let cookie = RequestFacts {
        cookie_names: vec![b"PHPSESSID".to_vec(), b"page".to_vec()],
        cookies_in_request: true,
        ..facts("GET", "Home", &token)
    };
    let elsewhere = RequestFacts {
        query_string: b"page=Home".to_vec(),
        post_token: Some(token.clone().into_bytes()),
        ..facts("POST", "Home", &token)
    };
    for (what, request, reason) in [
        ("dropped", &dropped, DenialReason::DroppedInput),
        ("cookie", &cookie, DenialReason::CookieOverride),
        ("body token", &elsewhere, DenialReason::TokenNotInQuery),
    ] {
        let r = look(&store, &token, "/tiki-index.php", &home, request);
        assert_eq!(r.err(), Some(reason), "{what}");
    }
    // The request is judged before the token: a token that is not the query's is denied so.
    let unknown = "f".repeat(64);
    let r = look(
        &store,
        &unknown,
        "/tiki-index.php",
        &home,
        &facts("GET", "Home", &token),
    );
    assert_eq!(r.err(), Some(DenialReason::TokenNotInQuery));
    assert_eq!(hits_in_db(&dsn, id), 5, "no denied request consumed a hit");
    let same_cookie_off = RequestFacts {
        cookies_in_request: false,
        ..cookie
    };
    assert!(look(&store, &token, "/tiki-index.php", &home, &same_cookie_off).is_ok());
}
