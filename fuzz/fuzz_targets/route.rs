//! Any bytes as a SEF path, a query and a custom route pattern (SPEC section 6): the resolver
//! never panics, answers the same twice, routes only to the table's scripts, answers 404 only
//! where route.php's extension stop applies, and merges every key the route adds into `$_GET`.
//!
//! Input: 2 bytes (little endian) = length of the path, the path (any bytes, newlines
//! included), then the query up to the first `\n`, then a `TrackerField` pattern.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testkit::fuzzing::{MAX_INPUT, split_two};
use testkit::value::{identical, identical_arrays};
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::route::{
    Below, CustomRoute, CustomRouteKind, PathForm, Route, SiteRoot, match_custom_routes, resolve,
    route, targets,
};

const STOP: &[&[u8]] = &[
    b"css", b"gif", b"jpg", b"png", b"php", b"html", b"js", b"htm", b"shtml", b"cgi", b"sql",
    b"phtml", b"txt", b"ihtml",
];

fn split(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let (len, rest) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        _ => (0, data),
    };
    let (path, rest) = rest.split_at(len.min(rest.len()));
    let (query, pattern) = split_two(rest);
    (path, query, pattern)
}

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    let (path, query, pattern) = split(data);
    let get = parse_query(query, QueryLimits::default());

    let first = route(path, &get);
    match (&first, &route(path, &get)) {
        (Route::NotFound, Route::NotFound) => {
            let dot = path
                .iter()
                .rposition(|&b| b == b'.')
                .expect("404 needs a dot");
            assert!(STOP.contains(&&path[dot + 1..]), "404 without the stop");
        }
        (Route::Routed(a), Route::Routed(b)) => {
            assert!(a.target == b.target && a.row == b.row);
            assert!(identical_arrays(&a.get, &b.get));
            assert!(targets().contains(&a.target));
            for (k, v) in a.added.iter() {
                let merged = a.get.get(k).expect("added key merged");
                assert!(identical(merged, v));
            }
        }
        _ => panic!("not deterministic"),
    }

    let routes = [
        CustomRoute {
            kind: CustomRouteKind::TrackerField,
            from: pattern.to_vec(),
        },
        CustomRoute {
            kind: CustomRouteKind::Direct,
            from: pattern.to_vec(),
        },
    ];
    let hit = match_custom_routes(path, &routes);
    assert_eq!(hit, match_custom_routes(path, &routes));

    let root = SiteRoot::new(b"/tiki/").expect("root");
    let url_path = [b"/tiki/".as_slice(), path].concat();
    for form in [PathForm::Raw, PathForm::Decoded] {
        if let (PathForm::Raw, Ok(Below::Route(p))) = (form, root.classify(&url_path, form)) {
            assert_eq!(p, path);
        }
        if let Ok(r) = resolve(&root, &url_path, form, &get, &routes) {
            assert!(r.entry.starts_with(b"/tiki/"));
        }
    }
});
