//! Minting for SEF URLs (issue 10, SPEC section 6) on the real database: with a site root, a
//! token for `/tiki/HomePage` is bound to what route.php serves there, granted on every spelling
//! route.php maps to the same (entry, params) and on nothing else; what route.php would not
//! serve is refused with nothing written; without a site root nothing is routed, as before.

use testkit::db::*;
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::route::{PathForm, Route, route};
use tiki_tokens::canon::{Params, take_token};
use tiki_tokens::store::{CreateOptions, Store};
use tiki_tokens::{DenialReason, Error};

fn store(dsn: &str, root: Option<&str>, form: PathForm) -> Store {
    let mut cfg = store_config(dsn);
    cfg.site_root = root.map(str::to_string);
    cfg.path_form = form;
    cfg.max_hits = -1;
    Store::new(cfg).unwrap()
}

fn count(dsn: &str) -> i64 {
    query_value(dsn, "SELECT COUNT(*) FROM tiki_auth_tokens").unwrap()
}

fn options(hits: i64) -> CreateOptions {
    CreateOptions {
        hits: Some(hits),
        ..CreateOptions::default()
    }
}

/// What PHP checks for a request of `target` (a path and query below `/tiki/`, as sent) served
/// through route.php: (`PHP_SELF`, `$_GET` without `TOKEN`), computed with the pure resolver
/// (the HTTP tests prove it equal to the real servers).
fn served(target: &str) -> (Vec<u8>, Params) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut get = parse_query(query.as_bytes(), QueryLimits::default());
    let below = path.strip_prefix("/tiki/").expect("below /tiki/");
    if below.ends_with(".php") && !below.contains('/') {
        take_token(&mut get);
        return (path.as_bytes().to_vec(), get);
    }
    match route(below.as_bytes(), &get) {
        Route::Routed(r) => {
            let mut get = r.get;
            take_token(&mut get);
            ([b"/tiki/", r.target.as_bytes()].concat(), get)
        }
        Route::NotFound => panic!("{target} is a 404"),
    }
}

/// Mints `url`, then requests each of `granted` (granted, in turn) and of `denied` (each
/// denied, with the reason wanted) as route.php would serve it.
fn check(s: &Store, url: &str, granted: &[&str], denied: &[(&str, DenialReason)]) {
    let (minted, _) = s
        .include_token(url.as_bytes(), &["G".to_string()], &options(-1))
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let token = minted.rsplit_once("TOKEN=").unwrap().1.to_string();
    for target in granted {
        let (entry, params) = served(target);
        let r = s.lookup(token.as_bytes(), &entry, &params);
        assert!(r.is_ok(), "{url}: {target} denied: {r:?}");
    }
    for (target, reason) in denied {
        let (entry, params) = served(target);
        let d = s
            .lookup(token.as_bytes(), &entry, &params)
            .expect_err(&format!("{url}: {target} granted"));
        assert_eq!(d.reason, *reason, "{url}: {target}: {d}");
    }
    // The minted URL itself, as a browser sends it.
    let path_and_query = minted.split_once("://").map_or(minted.as_str(), |(_, r)| {
        r.split_once('/').map_or("", |(_, p)| p)
    });
    let (entry, params) = served(&format!("/{path_and_query}"));
    assert!(
        s.lookup(token.as_bytes(), &entry, &params).is_ok(),
        "the minted URL {minted} itself"
    );
}

#[test]
fn a_sef_token_is_granted_on_every_spelling_of_its_target_and_nothing_else() {
    let dsn = table_database("sef_spellings", Variant::Trunk, Engine::InnoDb);
    let s = store(&dsn, Some("/tiki/"), PathForm::Raw);
    use DenialReason::{EntryMismatch, ParamsMismatch};
    check(
        &s,
        "https://site.example/tiki/HomePage",
        &[
            "/tiki/HomePage",
            "/tiki/wiki-HomePage",
            "/tiki/page-HomePage",
            "/tiki/tiki-index.php?page=HomePage",
        ],
        &[
            ("/tiki/OtherPage", ParamsMismatch),
            ("/tiki/HomePage?x=1", ParamsMismatch),
            ("/tiki/dl5", EntryMismatch),
            ("/tiki/show:HomePage", EntryMismatch),
        ],
    );
    check(
        &s,
        "https://site.example/tiki/Home%20Page",
        &[
            "/tiki/Home+Page",
            "/tiki/tiki-index.php?page=Home+Page",
            "/tiki/tiki-index.php?page=Home%20Page",
        ],
        &[
            ("/tiki/wiki-Home%20Page", ParamsMismatch),
            ("/tiki/HomePage", ParamsMismatch),
        ],
    );
    check(
        &s,
        "https://site.example/tiki/Caf%C3%A9",
        &["/tiki/tiki-index.php?page=Caf%C3%A9"],
        &[("/tiki/Cafe", ParamsMismatch)],
    );
    check(
        &s,
        "https://site.example/tiki/dl5",
        &[
            "/tiki/tiki-download_file.php?fileId=5",
            "/tiki/dl5?fileId=9",
        ],
        &[
            ("/tiki/dl6", ParamsMismatch),
            ("/tiki/display5", ParamsMismatch),
            ("/tiki/tiki-download_file.php?fileId=05", ParamsMismatch),
            ("/tiki/item5", EntryMismatch),
        ],
    );
    check(
        &s,
        "https://site.example/tiki/item42-The-title",
        &[
            "/tiki/item42",
            "/tiki/item42-Another-title",
            "/tiki/tiki-view_tracker_item.php?itemId=42",
        ],
        &[("/tiki/item43", ParamsMismatch)],
    );
    check(
        &s,
        "https://site.example/tiki/cal1,2-Title",
        &[
            "/tiki/cal1,2",
            "/tiki/tiki-calendar.php?calIds[0]=1&calIds[1]=2",
        ],
        &[
            ("/tiki/cal1,3", ParamsMismatch),
            ("/tiki/cal2,1", ParamsMismatch),
        ],
    );
    check(
        &s,
        "https://site.example/tiki/tiki-tracker-export_items?trackerId=3&separator=%2C&listfields[]=2&listfields[]=3",
        &[
            "/tiki/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[0]=2&listfields[1]=3",
        ],
        &[
            (
                "/tiki/tiki-tracker-export_items?trackerId=4&separator=%2C&listfields[]=2&listfields[]=3",
                ParamsMismatch,
            ),
            (
                "/tiki/tiki-tracker-x?trackerId=3&separator=%2C&listfields[]=2&listfields[]=3",
                ParamsMismatch,
            ),
        ],
    );
    // A script below the root is not routed: bound as it is, as before.
    check(
        &s,
        "https://site.example/tiki/tiki-index.php?page=HomePage",
        &["/tiki/HomePage"],
        &[("/tiki/tiki-index.php?page=Other", ParamsMismatch)],
    );
}

#[test]
fn what_route_php_would_not_serve_is_refused_and_nothing_is_written() {
    let dsn = table_database("sef_refused", Variant::Trunk, Engine::MyIsam);
    let s = store(&dsn, Some("/tiki"), PathForm::Raw);
    let before = count(&dsn);
    for (url, why) in [
        ("https://site.example/tiki/Notes.txt", "404"),
        ("https://site.example/other/HomePage", "not below"),
        ("https://site.example/tiki/", "site root itself"),
        ("https://site.example/tiki/50%zz", "%"),
    ] {
        match s.include_token(url.as_bytes(), &["G".to_string()], &options(1)) {
            Err(Error::InvalidInput(m)) => assert!(
                m.to_ascii_lowercase().contains(&why.to_ascii_lowercase()),
                "{url}: {m}"
            ),
            other => panic!("{url}: {other:?}"),
        }
    }
    // Paths of any bytes: a result or a refusal, never a panic, never a row for a 404.
    let long = format!("/tiki/{}", "x".repeat(65536));
    for entry in [
        b"/tiki/\xff\xfe".as_slice(),
        b"/tiki/a\0b",
        long.as_bytes(),
        b"/tiki/../etc",
        b"/tiki//x.txt",
    ] {
        let r = s.create(entry, &Params::new(), &["G".to_string()], &options(1));
        if let Ok(c) = &r {
            let stored: Vec<u8> = query_value(
                &dsn,
                &format!(
                    "SELECT entry FROM tiki_auth_tokens WHERE tokenId = {}",
                    c.token_id
                ),
            )
            .unwrap();
            assert!(!stored.ends_with(b".txt"), "a row for a 404: {stored:?}");
        }
    }
    let created_ok = count(&dsn) - before;
    assert!(created_ok <= 2, "{created_ok} rows");
    // A custom route takes a path that reached the catch-all: refused while the feature is on.
    exec(
        &dsn,
        "CREATE TABLE tiki_custom_route (routeId INT AUTO_INCREMENT PRIMARY KEY, type VARCHAR(255), `from` VARCHAR(255), redirect TEXT, active CHAR(1))",
    );
    exec(
        &dsn,
        "INSERT INTO tiki_custom_route (type, `from`, active) VALUES ('Direct', 'Promo', 'y'), ('TrackerField', '|^dept-(\\\\d+)$|', 'y'), ('Direct', 'Old', 'n')",
    );
    let promo = b"https://site.example/tiki/Promo".as_slice();
    assert!(
        s.include_token(promo, &["G".to_string()], &options(1))
            .is_ok(),
        "feature off"
    );
    exec(
        &dsn,
        "INSERT INTO tiki_preferences (name, value) VALUES ('feature_sefurl_routes', 'y')",
    );
    for url in [
        "https://site.example/tiki/Promo",
        "https://site.example/tiki/dept-12",
    ] {
        match s.include_token(url.as_bytes(), &["G".to_string()], &options(1)) {
            Err(Error::InvalidInput(m)) => assert!(
                m.contains("custom route") && m.contains("target instead"),
                "{url}: {m}"
            ),
            other => panic!("{url}: {other:?}"),
        }
    }
    assert!(
        s.include_token(
            b"https://site.example/tiki/Old",
            &["G".to_string()],
            &options(1)
        )
        .is_ok(),
        "inactive route"
    );
    assert!(
        s.include_token(
            b"https://site.example/tiki/dl5",
            &["G".to_string()],
            &options(1)
        )
        .is_ok(),
        "a built-in route comes first"
    );
}

#[test]
fn create_routes_a_sef_entry_and_without_a_root_nothing_is_routed() {
    let dsn = table_database("sef_create", Variant::Trunk, Engine::MyIsam);
    let s = store(&dsn, Some("/tiki/"), PathForm::Raw);
    let c = s
        .create(
            b"/tiki/dl7",
            &Params::new(),
            &["G".to_string()],
            &options(2),
        )
        .unwrap();
    let (entry, params) = served("/tiki/tiki-download_file.php?fileId=7");
    assert!(s.lookup(c.token.as_bytes(), &entry, &params).is_ok());
    // Entries outside the root (Tiki's own code passes 'tiki-index.php') are bound as given.
    let c = s
        .create(
            b"tiki-index.php",
            &str_params(&[("page", "X")]),
            &["G".to_string()],
            &options(2),
        )
        .unwrap();
    assert!(
        s.lookup(
            c.token.as_bytes(),
            b"tiki-index.php",
            &str_params(&[("page", "X")])
        )
        .is_ok()
    );
    // No site root: a URL's path is bound as it is (the token only opens that path).
    let plain = store(&dsn, None, PathForm::Raw);
    let (url, c) = plain
        .include_token(
            b"https://site.example/tiki/HomePage",
            &["G".to_string()],
            &options(2),
        )
        .unwrap();
    assert!(url.ends_with(&c.token));
    assert!(
        plain
            .lookup(c.token.as_bytes(), b"/tiki/HomePage", &Params::new())
            .is_ok()
    );
    let (entry, params) = served("/tiki/HomePage");
    assert!(plain.lookup(c.token.as_bytes(), &entry, &params).is_err());
}

#[test]
fn the_decoded_path_form_decodes_as_apache_then_route_php_do() {
    let dsn = table_database("sef_decoded", Variant::Trunk, Engine::MyIsam);
    let raw = store(&dsn, Some("/tiki/"), PathForm::Raw);
    let decoded = store(&dsn, Some("/tiki/"), PathForm::Decoded);
    for (s, page) in [(&raw, "A+B"), (&decoded, "A B")] {
        let (_, c) = s
            .include_token(
                b"https://site.example/tiki/A%2BB",
                &["G".to_string()],
                &options(2),
            )
            .unwrap();
        let params = str_params(&[("page", page)]);
        assert!(
            s.lookup(c.token.as_bytes(), b"/tiki/tiki-index.php", &params)
                .is_ok(),
            "page {page:?}"
        );
    }
    assert!(
        Store::new({
            let mut cfg = store_config(&dsn);
            cfg.site_root = Some("tiki".into());
            cfg
        })
        .is_err(),
        "a root that is not a path"
    );
}
