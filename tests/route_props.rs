//! Property tests of the SEF resolver (`canon::route`, SPEC section 6): total and deterministic
//! over any bytes, targets only from the table, 404 only from the extension stop, and `$_GET`
//! merged as PHP's `array_merge` merges it.

use proptest::prelude::*;
use proptest::test_runner::Config;
use testkit::value::{identical, identical_arrays};
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::route::{
    Below, CATCH_ALL_ROW, CustomRoute, CustomRouteKind, CustomRouteMatch, PathForm, Route,
    SiteRoot, match_custom_routes, resolve, route, targets,
};
use tiki_tokens::canon::{Key, Params, Value, take_token};

/// route.php's stop list, written out again here: the text after the last `.`.
const STOP: &[&str] = &[
    "css", "gif", "jpg", "png", "php", "html", "js", "htm", "shtml", "cgi", "sql", "phtml", "txt",
    "ihtml",
];

fn stop_applies(path: &[u8]) -> bool {
    match path.iter().rposition(|&b| b == b'.') {
        Some(dot) => STOP.iter().any(|e| e.as_bytes() == &path[dot + 1..]),
        None => false,
    }
}

fn same_route(a: &Route, b: &Route) -> bool {
    match (a, b) {
        (Route::NotFound, Route::NotFound) => true,
        (Route::Routed(x), Route::Routed(y)) => {
            x.target == y.target
                && x.row == y.row
                && identical_arrays(&x.get, &y.get)
                && identical_arrays(&x.added, &y.added)
        }
        _ => false,
    }
}

fn get(query: &[u8]) -> Params {
    parse_query(query, QueryLimits::default())
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Paths built from the pieces the table looks at, so that every row is reached often.
fn route_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => proptest::sample::select(vec![
            "art", "article", "blog", "blogpost", "cat", "event", "cal", "directory", "dirlink",
            "faq", "file", "forum", "forumthread", "calevent", "img", "image", "imagescale",
            "item", "int", "newsletter", "nl", "poll", "quiz", "survey", "tracker",
            "trackerfields", "sheet", "user", "userinfo", "dl", "thumbnail", "display", "preview",
            "wiki-", "page-", "show:", "tiki-", "api/", "articles", "robots.txt", "tiki-check",
            "me", "x", "xml", ".xml", "-x", "-",
        ]).prop_map(|s| s.as_bytes().to_vec()),
        3 => "[0-9]{1,4}".prop_map(String::into_bytes),
        1 => proptest::sample::select(vec![
            ",", "/", ".", "..", "\n", "%20", "%2B", "%25", "+", "%", "é", "\u{0}", ".txt", ".php",
            ".PNG", ".js", "_", " ",
        ]).prop_map(|s| s.as_bytes().to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

/// Any path: anything at all, or route-like.
fn any_path() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..64), route_like(),]
}

/// A query with integer keys, string keys that routes set, nested arrays and `TOKEN`.
fn query() -> impl Strategy<Value = Vec<u8>> {
    let pair = prop_oneof![
        proptest::sample::select(vec![
            "page",
            "fileId",
            "info",
            "thumbnail",
            "itemId",
            "route",
            "TOKEN",
            "calIds",
            "a",
            "b",
            "0",
            "5",
            "-3",
            "a[]",
            "a[7]",
            "calIds[]",
            "01",
        ])
        .prop_map(str::to_owned),
        "[a-z0-9]{1,3}",
    ];
    proptest::collection::vec((pair, "[a-z0-9%+]{0,3}"), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    })
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(Config::with_cases(4000))]

    /// Any path and query: no panic, the same answer twice, a target from the table, and a 404
    /// only where the extension stop applies.
    #[test]
    fn total_deterministic_and_closed(path in any_path(), q in query()) {
        let g = get(&q);
        let a = route(&path, &g);
        prop_assert!(same_route(&a, &route(&path, &g)));
        match &a {
            Route::NotFound => prop_assert!(stop_applies(&path)),
            Route::Routed(r) => {
                prop_assert!(targets().contains(&r.target), "{}", r.target);
                prop_assert!((1..=CATCH_ALL_ROW).contains(&r.row));
                // The stop stands before the catch-all: a stopped path is never a wiki page.
                if r.row == CATCH_ALL_ROW {
                    prop_assert!(!stop_applies(&path));
                    prop_assert_eq!(r.target, "tiki-index.php");
                }
            }
        }
    }

    /// The merged `$_GET` holds every key the route added, with the route's value; the request's
    /// integer keys become 0, 1, … in order; its other string keys keep value and order; the
    /// added keys not in the request follow. Row 1 (no callback) leaves `$_GET` exactly alone.
    #[test]
    fn merge_is_array_merge(path in route_like(), q in query()) {
        let g = get(&q);
        let Route::Routed(r) = route(&path, &g) else { return Ok(()) };
        if r.row == 1 {
            prop_assert!(r.added.is_empty());
            prop_assert!(identical_arrays(&r.get, &g));
            return Ok(());
        }
        prop_assert!(!r.added.is_empty());
        for (k, v) in r.added.iter() {
            prop_assert!(matches!(k, Key::Str(_)));
            let merged = r.get.get(k);
            prop_assert!(merged.is_some_and(|m| identical(m, v)), "{:?}", k);
        }
        let ints_in: Vec<&Value> = g.iter().filter(|(k, _)| matches!(k, Key::Int(_))).map(|(_, v)| v).collect();
        let ints_out: Vec<(&Key, &Value)> = r.get.iter().filter(|(k, _)| matches!(k, Key::Int(_))).collect();
        prop_assert_eq!(ints_in.len(), ints_out.len());
        for (i, ((k, v), want)) in ints_out.iter().zip(&ints_in).enumerate() {
            prop_assert_eq!(*k, &Key::Int(i as i64));
            prop_assert!(identical(v, want));
        }
        let strs_out: Vec<&Key> = r.get.iter().map(|(k, _)| k).filter(|k| matches!(k, Key::Str(_))).collect();
        let mut strs_want: Vec<&Key> = g.iter().map(|(k, _)| k).filter(|k| matches!(k, Key::Str(_))).collect();
        strs_want.extend(r.added.iter().map(|(k, _)| k).filter(|k| g.get(k).is_none()));
        prop_assert_eq!(strs_out, strs_want);
        for (k, v) in g.iter() {
            if matches!(k, Key::Str(_)) && r.added.get(k).is_none() {
                prop_assert!(r.get.get(k).is_some_and(|m| identical(m, v)));
            }
        }
    }

    /// Removing `TOKEN` before routing or after gives the same `$_GET`.
    #[test]
    fn token_removal_commutes(path in route_like(), q in query()) {
        let mut without = get(&q);
        take_token(&mut without);
        match (route(&path, &get(&q)), route(&path, &without)) {
            (Route::Routed(mut a), Route::Routed(b)) => {
                take_token(&mut a.get);
                prop_assert!(identical_arrays(&a.get, &b.get));
            }
            (Route::NotFound, Route::NotFound) => {}
            _ => prop_assert!(false, "TOKEN changed the routing"),
        }
    }

    /// Any URL path: classify and resolve never panic; a raw route path is the raw bytes below
    /// the root; a script has no `/` and ends in `.php`; a resolved entry is the root and a
    /// target (or the script).
    #[test]
    fn site_root_cuts_consistently(rest in any_path(), q in query(), decoded in any::<bool>()) {
        let root = SiteRoot::new(b"/tiki/").unwrap();
        let url_path = [b"/tiki/".as_slice(), &rest].concat();
        let form = if decoded { PathForm::Decoded } else { PathForm::Raw };
        let g = get(&q);
        match root.classify(&url_path, form) {
            Ok(Below::Route(p)) if form == PathForm::Raw => prop_assert_eq!(p, rest.clone()),
            Ok(Below::Route(p)) => prop_assert!(!p.contains(&0)),
            Ok(Below::Script(name)) => {
                prop_assert!(name.ends_with(b".php") && !name.contains(&b'/'));
            }
            Ok(Below::Root) | Err(_) => {}
        }
        let routes = [CustomRoute { kind: CustomRouteKind::TrackerField, from: b"/^(x.*)$/".to_vec() }];
        if let Ok(r) = resolve(&root, &url_path, form, &g, &routes) {
            prop_assert!(r.entry.starts_with(b"/tiki/"));
            let name = &r.entry[b"/tiki/".len()..];
            match r.routed_by {
                Some(_) => prop_assert!(targets().iter().any(|t| t.as_bytes() == name)),
                None => prop_assert!(name.ends_with(b".php")),
            }
        }
    }

    /// Custom routes: no panic on any pattern or path; Direct matches exactly its own path.
    #[test]
    fn custom_routes_total(pattern in proptest::collection::vec(any::<u8>(), 0..24),
                           regexish in "[/|#]\\^?[a-z(\\\\)\\[\\]{}0-9,.*+?|$-]{0,12}[/|#][imsxuUDA]{0,2}",
                           path in any_path()) {
        for from in [pattern.clone(), regexish.into_bytes()] {
            let routes = [
                CustomRoute { kind: CustomRouteKind::TrackerField, from: from.clone() },
                CustomRoute { kind: CustomRouteKind::Direct, from },
            ];
            let first = match_custom_routes(&path, &routes);
            prop_assert_eq!(&first, &match_custom_routes(&path, &routes));
            if path.is_empty() {
                prop_assert!(first.is_none());
            }
            if !path.is_empty() && routes[1].from == path {
                prop_assert!(first.is_some());
            }
            if let Some(CustomRouteMatch::Matches(r) | CustomRouteMatch::MayMatch { route: r, .. }) = first {
                prop_assert!(routes.contains(r));
            }
        }
    }
}

/// Every row of the table is reached by the route-like strategy's kind of input (so the
/// properties above are not all about the catch-all).
#[test]
fn route_like_inputs_reach_every_row() {
    let mut seen = [false; CATCH_ALL_ROW as usize + 1];
    for p in [
        "articles",
        "art1",
        "blog1",
        "cal1",
        "faq1",
        "forumthread1",
        "img1",
        "imagescale1/2",
        "item1",
        "nl1",
        "userinfo",
        "dl1",
        "wiki-x",
        "show:x",
        "x.xml",
        "tiki-a-b",
        "api/x",
        "x",
    ] {
        if let Route::Routed(r) = route(p.as_bytes(), &Params::new()) {
            seen[r.row as usize] = true;
        }
    }
    assert!(seen[1..].iter().all(|&s| s), "{seen:?}");
}
