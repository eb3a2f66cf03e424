//! Tiki's SEF URLs through real web servers and this project's front controller
//! (`php/www/route.php`, a port of Tiki 24.1's route.php): every row of
//! `tests/data/sef-vectors.tsv` (requests run through Tiki 24.1's real route.php, with what the
//! target script saw) is requested from
//! * `php -S` (a router script doing what Tiki's `.htaccess` does),
//! * Apache with mod_php and Tiki's `.htaccess` rules,
//! * the same Apache with `RewriteEngine on` at server level (mod_rewrite then sets
//!   `SCRIPT_URL`, the decoded path, which route.php reads instead of `REQUEST_URI`),
//! * nginx with PHP-FPM and `try_files $uri $uri/ /tiki/route.php?$args`,
//!
//! with the site installed under `/tiki/` as the vectors were. The target scripts print
//! `PHP_SELF` and `$_GET` as they see them; both (`$_GET` in order) and the HTTP status must
//! equal the row's, except the differences listed per server in
//! `tests/data/sef-server-differences.txt`, each with its reason; a listed difference that no
//! longer happens fails the test too. A backend is skipped only when its programs are missing,
//! with the reason printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use testkit::value::{as_array, identical, unserialize};
use testkit::web::{Backend, Setup, WebServer, install_site};
use tiki_tokens::canon::Value;
use tiki_tokens::canon::json::{decode, encode_value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
/// Where the vectors' Tiki was installed.
const BASE: &str = "/tiki/";
/// What the target scripts run instead of the token gate: what they saw, binary safe.
const DUMP: &str = "<?php echo serialize([$_SERVER['PHP_SELF'], $_GET]);";

/// One row of the vectors: the request and what Tiki's route.php gave its target.
struct Vector {
    request: String,
    status: u16,
    /// (PHP_SELF, $_GET) for a 200.
    seen: Option<(String, Value)>,
}

fn load_vectors() -> Vec<Vector> {
    let path = format!("{DATA}/sef-vectors.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "{path}: {l}");
            let status: u16 = cols[1].parse().expect("status");
            let seen = (status == 200).then(|| {
                let get = decode(cols[3].as_bytes())
                    .unwrap_or_else(|e| panic!("{path}: bad JSON {}: {e}", cols[3]));
                (cols[2].to_string(), get)
            });
            Vector {
                request: cols[0].to_string(),
                status,
                seen,
            }
        })
        .collect()
}

/// `tests/data/sef-server-differences.txt`: `server<TAB>request<TAB>reason` lines.
fn load_differences() -> BTreeMap<(String, String), String> {
    let path = format!("{DATA}/sef-server-differences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let (Some(server), Some(request), Some(reason)) =
            (parts.next(), parts.next(), parts.next())
        else {
            panic!("{path}:{}: expected server<TAB>request<TAB>reason", n + 1);
        };
        assert!(!reason.trim().is_empty(), "{path}:{}: give a reason", n + 1);
        map.insert((server.to_owned(), request.to_owned()), reason.to_owned());
    }
    map
}

/// Starts `setup` with the site (php/www and route.php) under /tiki/, its gate a dump.
fn start(setup: &Setup) -> WebServer {
    let server = WebServer::start("sef", setup);
    let site = server.docroot().join(BASE.trim_matches('/'));
    install_site(&site, server.docroot());
    std::fs::write(site.join("token_gate.php"), DUMP).expect("dump gate");
    server
}

/// What the server answered for `v`, or `None` when it is what Tiki's route.php gave.
fn difference(server: &WebServer, v: &Vector) -> Option<String> {
    let r = server.get(v.request.as_bytes());
    let body = String::from_utf8_lossy(&r.body).into_owned();
    match &v.seen {
        _ if r.status != v.status => Some(format!(
            "status {} (Tiki: {}); body {}",
            r.status,
            v.status,
            body.chars().take(120).collect::<String>()
        )),
        None => None,
        Some((self_, get)) => {
            let got = as_array(unserialize(&r.body));
            let mut got = got.iter().map(|(_, v)| v.clone());
            let (got_self, got_get) = (got.next(), got.next());
            let same_self = matches!(&got_self, Some(Value::Str(s)) if s == self_.as_bytes());
            let same_get = got_get.as_ref().is_some_and(|g| identical(g, get));
            (!same_self || !same_get).then(|| {
                format!(
                    "PHP_SELF {} $_GET {} (Tiki: {self_} {})",
                    got_self.as_ref().map_or("none".into(), show),
                    got_get.as_ref().map_or("none".into(), show),
                    show(get)
                )
            })
        }
    }
}

/// A value for a message: a string as text, anything else as JSON.
fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{:?}", String::from_utf8_lossy(s)),
        other => encode_value(other).unwrap_or_else(|e| format!("{other:?} ({e})")),
    }
}

#[test]
fn route_php_through_every_server_answers_as_tikis_route_php() {
    let vectors = load_vectors();
    assert!(vectors.len() >= 40, "{} vectors", vectors.len());
    let expected = load_differences();
    let mut found: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut servers = Vec::new();
    for (backend, server_level) in [
        (Backend::PhpBuiltin, false),
        (Backend::Apache, false),
        (Backend::Apache, true),
        (Backend::NginxFpm, false),
    ] {
        let setup = Setup::new(backend)
            .ini("display_errors", "0")
            .workers(2)
            .front_controller(BASE, server_level);
        if !backend.runs_here(&setup.label()) {
            continue;
        }
        let server = start(&setup);
        let mut passed = 0;
        for v in &vectors {
            match difference(&server, v) {
                None => passed += 1,
                Some(d) => {
                    found.insert((server.label().to_owned(), v.request.clone()), d);
                }
            }
        }
        println!(
            "sef vectors via {}: {} requests, {passed} as Tiki's route.php, {} different",
            server.label(),
            vectors.len(),
            vectors.len() - passed
        );
        servers.push(server.label().to_owned());
    }
    let mut report = String::new();
    for ((server, request), detail) in &found {
        let listed = expected.contains_key(&(server.clone(), request.clone()));
        if !listed {
            let _ = writeln!(report, "UNEXPECTED [{server}] {request}\n    {detail}");
        } else {
            println!("expected difference [{server}] {request}: {detail}");
        }
    }
    for (server, request) in expected.keys() {
        if servers.contains(server) && !found.contains_key(&(server.clone(), request.clone())) {
            let _ = writeln!(
                report,
                "NO LONGER DIFFERS [{server}] {request}: remove it from sef-server-differences.txt"
            );
        }
    }
    assert!(
        report.is_empty(),
        "route.php through the servers:\n{report}"
    );
}
