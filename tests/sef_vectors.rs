//! Every row of `tests/data/sef-vectors.tsv` (requests run through Tiki 24.1's real route.php,
//! with what the target script saw) against the SEF resolver of `canon::route`.
//!
//! Each request is taken as a web server with Tiki's rewrite rules takes it, under the site root
//! `/tiki/`, path form raw (`REQUEST_URI`): [`SiteRoot::classify`] says whether the server runs a
//! script itself or hands the path to route.php, [`route`] does what route.php does, and the
//! query is `$_GET` as PHP builds it ([`parse_query`]). Compared with the row: the HTTP status,
//! `PHP_SELF`, and `$_GET` in PHP's order (keys, order and string values exactly).
//!
//! A script path (`tiki-index.php`, `NoSuch.php`) is served by the web server when the file
//! exists, and goes to route.php when it does not; the pure core cannot know which. So a script
//! row expecting 200 must be the direct serving (`PHP_SELF` = the path, `$_GET` = the query), and
//! one expecting 404 must be what route.php answers for the missing file.
//!
//! Rows that are expected to fail are listed, with a reason, in
//! `tests/data/sef-expected-failures.txt`; the test fails on any unlisted failure and on any
//! listed row that passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use testkit::value::identical_arrays;
use tiki_tokens::canon::json::decode;
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::route::{Below, PathForm, Route, SiteRoot, route};
use tiki_tokens::canon::{Params, Value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const ROOT: &[u8] = b"/tiki/";

/// What the target saw: `None` for 404, else (`PHP_SELF`, `$_GET`).
type Served = Option<(Vec<u8>, Params)>;

struct Row {
    request: String,
    expected: Served,
}

#[test]
fn every_vector_row() {
    let rows = load_rows();
    let expected_failures = load_expected_failures();
    let root = SiteRoot::new(ROOT).expect("root");
    let mut failures = BTreeMap::new();
    for row in &rows {
        if let Err(detail) = check_row(&root, row) {
            failures.insert(row.request.clone(), detail);
        }
    }
    let mut report = String::new();
    for (request, detail) in &failures {
        if !expected_failures.contains_key(request) {
            let _ = writeln!(report, "UNEXPECTED {request}\n    {detail}");
        }
    }
    for request in expected_failures.keys() {
        if !failures.contains_key(request) {
            let _ = writeln!(
                report,
                "NOW PASSES {request}: remove it from sef-expected-failures.txt"
            );
        }
    }
    println!(
        "sef vectors: {} rows, {} pass, {} fail ({} expected)",
        rows.len(),
        rows.len() - failures.len(),
        failures.len(),
        expected_failures.len()
    );
    assert!(rows.len() >= 40, "only {} rows read", rows.len());
    assert!(report.is_empty(), "SEF vectors:\n{report}");
}

/// The row's request as the resolver serves it, compared with what Tiki served.
fn check_row(root: &SiteRoot, row: &Row) -> Result<(), String> {
    let (path, query) = match row.request.split_once('?') {
        Some((p, q)) => (p, q),
        None => (row.request.as_str(), ""),
    };
    let get = parse_query(query.as_bytes(), QueryLimits::default());
    let below = root
        .classify(path.as_bytes(), PathForm::Raw)
        .map_err(|e| format!("refused: {e}"))?;
    let served: Served = match below {
        Below::Root => return Err("the site root is not served by route.php".into()),
        // The file exists: the server runs it itself.
        Below::Script(name) if row.expected.is_some() => Some((root.entry(&name), get)),
        // It does not: route.php gets it.
        Below::Script(name) => through_route_php(root, &name, &get),
        Below::Route(p) => through_route_php(root, &p, &get),
    };
    if same(&served, &row.expected) {
        Ok(())
    } else {
        Err(format!(
            "got {}, Tiki served {}",
            show(&served),
            show(&row.expected)
        ))
    }
}

fn through_route_php(root: &SiteRoot, path: &[u8], get: &Params) -> Served {
    match route(path, get) {
        Route::NotFound => None,
        Route::Routed(r) => Some((root.entry(r.target.as_bytes()), r.get)),
    }
}

/// Same status, same `PHP_SELF`, same `$_GET` in the same order.
fn same(a: &Served, b: &Served) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some((sa, ga)), Some((sb, gb))) => sa == sb && identical_arrays(ga, gb),
        _ => false,
    }
}

fn show(s: &Served) -> String {
    match s {
        None => "404".into(),
        Some((self_, get)) => format!(
            "200 {} {}",
            String::from_utf8_lossy(self_),
            tiki_tokens::canon::json::encode_params(get)
                .unwrap_or_else(|e| format!("<unencodable: {e}>"))
        ),
    }
}

fn load_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(format!("{DATA}/sef-vectors.tsv")).expect("vectors");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "4 columns expected: {line:?}");
            let expected = match cols[1] {
                "404" => None,
                "200" => {
                    let Ok(Value::Array(get)) = decode(cols[3].as_bytes()) else {
                        panic!("$_GET column is not a JSON object: {line:?}")
                    };
                    Some((cols[2].as_bytes().to_vec(), get))
                }
                other => panic!("unknown status {other}: {line:?}"),
            };
            Row {
                request: cols[0].to_owned(),
                expected,
            }
        })
        .collect()
}

fn load_expected_failures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(format!("{DATA}/sef-expected-failures.txt"))
        .expect("expected failures");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (request, reason) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("request<TAB>reason expected: {line:?}"));
            assert!(!reason.trim().is_empty(), "a reason is required: {line:?}");
            (request.to_owned(), reason.to_owned())
        })
        .collect()
}
