//! The whole request bound, over real HTTP (SPEC section 8, issue 12): each web server of the
//! harness (`php -S`, Apache with mod_php, nginx with PHP-FPM; a missing one is skipped with its
//! reason printed) with the extension and the token gate (`php/www/token_gate.php`, which does
//! what Tiki's perms.php does, also for uploads), requested with curl.
//!
//! Each bypass of the issue — a POST (form, `action=…`, multipart), the token only in the POST
//! body, a cookie over a bound name or `TOKEN`, query variables past `max_input_vars` — is denied
//! with its own reason, and the reason is in the server log; plain GET, HEAD, GET with a
//! session's cookies, and the allowed upload POST are granted; N hits still grant exactly N.
//! Under PHP's built-in `request_order` (unset: `variables_order` "EGPCS" lets cookies into
//! `$_REQUEST`) and under `request_order=GP` (cookies stay out, so they are harmless). Also: what
//! `request_order=` (set, empty) really does, the gate telling visitors nothing, and PHP's own
//! count of query variables (its `$_GET` and its warning) against ours.

use std::cell::Cell;
use testkit::db::{TRUNK_SQL, fresh_database, query_value, run_sql, store_config};
use testkit::web::{Backend, Setup, WebServer, install_token_site};
use tiki_tokens::canon::{Key, Params, Value};
use tiki_tokens::request::query_vars_dropped;
use tiki_tokens::store::{CreateOptions, Store};

/// How `$_REQUEST` is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestOrder {
    /// No `request_order` (PHP's built-in default): `variables_order` "EGPCS" applies, cookies
    /// reach `$_REQUEST` and override GET and POST.
    Unset,
    /// `request_order=GP` (php.ini-production's): cookies stay out of `$_REQUEST`.
    Gp,
    /// `request_order=` (set, empty): PHP then puts nothing at all into `$_REQUEST`.
    Empty,
}

impl RequestOrder {
    fn ini(self) -> Option<&'static str> {
        match self {
            RequestOrder::Unset => None,
            RequestOrder::Gp => Some("GP"),
            RequestOrder::Empty => Some(""),
        }
    }
}

/// A script that calls `Store::lookupRequest` itself with `$_GET['TOKEN']` (not Tiki's
/// `$_REQUEST['TOKEN']`), and shows `$_REQUEST`.
const PROBE_PHP: &str = r#"<?php
$params = $_GET;
unset($params['TOKEN']);
$r = (new TikiTokens\Store())->lookupRequest($_GET['TOKEN'] ?? 'x', $_SERVER['PHP_SELF'], $params);
header('X-Token-Result: ' . ($r instanceof TikiTokens\Grant ? 'granted' : 'denied ' . $r->reason));
echo json_encode(['request' => $_REQUEST]);
"#;

/// What PHP made of a query: whether it warned about `max_input_vars`, whether the last variable
/// survived, and what `lookupRequest` says of it.
const VARS_PHP: &str = r#"<?php
$e = error_get_last();
// A well-formed token (a malformed one is denied before the request is looked at).
$r = (new TikiTokens\Store())->lookupRequest(str_repeat('a', 32), $_SERVER['PHP_SELF'], []);
echo json_encode([
    'warned' => $e !== null && str_contains($e['message'], 'Input variables exceeded'),
    'last' => isset($_GET['zz_last']),
    'reason' => $r->reason,
]);
"#;

/// A web server serving the gate: the repository's `php/www/` (with `AuthTokens.php` beside
/// it) and the scripts above, PHP errors and `error_log` into the server's logs.
struct Gate {
    server: WebServer,
    denials_read: Cell<usize>,
    origin: String,
}

/// One response: status, the gate's debug header (when on) and the body.
struct Reply {
    status: u16,
    result: Option<String>,
    body: String,
}

impl Gate {
    fn start(
        backend: Backend,
        dsn: &str,
        order: RequestOrder,
        debug: bool,
        extra_ini: &[(&str, &str)],
    ) -> Gate {
        let mut setup = Setup::new(backend)
            .with_extension()
            .ini("tiki_tokens.dsn", dsn)
            .ini("display_errors", "0")
            .ini("log_errors", "1")
            .workers(4);
        if debug {
            setup = setup.env("TIKI_TOKENS_GATE_DEBUG", "1");
        }
        if let Some(value) = order.ini() {
            setup = setup.ini("request_order", value);
        }
        for (name, value) in extra_ini {
            setup = setup.ini(name, value);
        }
        let server = WebServer::start("request_binding", &setup);
        let www = server.docroot();
        install_token_site(www);
        std::fs::write(www.join("probe.php"), PROBE_PHP).unwrap();
        std::fs::write(www.join("vars.php"), VARS_PHP).unwrap();
        let origin = server.origin();
        Gate {
            server,
            denials_read: Cell::new(0),
            origin,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.origin)
    }

    fn label(&self) -> &str {
        self.server.label()
    }

    /// The denial lines the server logged since the last call. Taken from the log file that
    /// holds the most of them (nginx + FPM may log PHP's messages in two files).
    fn new_denials(&self) -> Vec<String> {
        let text = self.server.log_text();
        let lines: Vec<String> = text
            .split("\n--- ")
            .map(|file| {
                file.lines()
                    .filter(|l| l.contains("tiki-tokens: denied"))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .max_by_key(Vec::len)
            .unwrap_or_default();
        let new = lines.get(self.denials_read.get()..).unwrap_or(&[]).to_vec();
        self.denials_read.set(lines.len());
        new
    }
}

/// curl with `args` (method, body, cookies) for `url`; no globbing, no path normalisation.
fn curl(args: &[&str], url: &str) -> Reply {
    let out = testkit::procs::command("curl")
        .args(["-s", "-g", "--path-as-is", "--max-time", "30", "-i"])
        .args(args)
        .arg(url)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut rest = text.as_str();
    // Skip interim responses (`100 Continue` before a multipart body).
    let (head, body) = loop {
        let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
        if head.starts_with("HTTP/1.1 100") && !body.is_empty() {
            rest = body;
            continue;
        }
        break (head, body);
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status from curl {args:?} {url}: {text:?}"));
    let result = head.lines().find_map(|l| {
        l.strip_prefix("X-Token-Result: ")
            .map(|r| r.trim().to_string())
    });
    Reply {
        status,
        result,
        body: body.to_string(),
    }
}

/// What a request got, from the gate's debug header, checked against the status, the body and
/// the server log (a denial's reason must be logged, a grant must log no denial).
fn outcome(gate: &Gate, args: &[&str], url: &str) -> String {
    let reply = curl(args, url);
    let denied_lines = gate.new_denials();
    let log = denied_lines.join("\n");
    let result = reply
        .result
        .unwrap_or_else(|| panic!("no X-Token-Result for {args:?} {url} ({})", reply.status));
    match result.strip_prefix("denied ") {
        Some(reason) => {
            assert_eq!(reply.status, 403, "{args:?} {url}");
            let is_head = args.contains(&"-I");
            assert!(
                is_head || reply.body == "Your access to this page has expired\n",
                "the one message: {:?}",
                reply.body
            );
            assert_eq!(denied_lines.len(), 1, "one log line per denial: {log}");
            assert!(
                denied_lines[0].contains(&format!("({reason}: ")),
                "the reason {reason} is in the log: {log}"
            );
        }
        None => assert!(denied_lines.is_empty(), "{result}, but logged: {log}"),
    }
    result
}

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                Key::from_bytes(k.as_bytes()),
                Value::Str(v.as_bytes().to_vec()),
            )
        })
        .collect()
}

fn options(hits: i64, allow_post: bool) -> CreateOptions {
    CreateOptions {
        hits: Some(hits),
        timeout: Some(3600),
        allow_post,
        ..CreateOptions::default()
    }
}

fn mint_url(store: &Store, url: &str, hits: i64, allow_post: bool) -> String {
    store
        .include_token(
            url.as_bytes(),
            &["Registered".into()],
            &options(hits, allow_post),
        )
        .unwrap()
        .0
}

/// A store on `dsn` whose caps let the cases mint 200 hits.
fn store(dsn: &str) -> Store {
    let mut config = store_config(dsn);
    config.max_hits = 1000;
    Store::new(config).expect("store")
}

fn trunk_database(hint: &str) -> String {
    let dsn = fresh_database(hint);
    run_sql(&dsn, TRUNK_SQL);
    dsn
}

/// The tokens of the cases.
struct Minted {
    page: String,
    page_token: String,
    other_token: String,
    posted: String,
    upload_token: String,
}

fn mint_all(store: &Store, gate: &Gate) -> Minted {
    let page = mint_url(store, &gate.url("/tiki-index.php?page=Home"), 200, false);
    let other = mint_url(store, &gate.url("/tiki-index.php?page=Other"), 10, false);
    let token_of = |url: &str| url.rsplit_once("TOKEN=").unwrap().1.to_string();
    let upload = store
        .create(
            b"/tiki-upload_file.php",
            &params(&[("galleryId", "5")]),
            &["Registered".into()],
            &options(50, false),
        )
        .unwrap();
    Minted {
        page_token: token_of(&page),
        other_token: token_of(&other),
        posted: mint_url(store, &gate.url("/tiki-index.php?page=Posted"), 50, true),
        upload_token: upload.token,
        page,
    }
}

/// Every request shape and what it must get (`cookies` when cookies reach `$_REQUEST`).
fn cases(gate: &Gate, m: &Minted, cookies: bool) -> Vec<(String, Vec<String>, String, String)> {
    let by_cookie = |reason: &str| {
        if cookies {
            format!("denied {reason}")
        } else {
            "granted".to_string()
        }
    };
    let upload = gate.url("/tiki-upload_file.php");
    let upload_q = format!("{upload}?TOKEN={}", m.upload_token);
    let mut dropped = m.page.clone();
    dropped.push_str(&"&=x".repeat(998));
    let exactly_1000 = dropped.clone();
    dropped.push_str("&page=Evil");
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
    let t = &m.page_token;
    let home = gate.url("/tiki-index.php?page=Home");
    vec![
        ("plain GET".into(), s(&[]), m.page.clone(), "granted".into()),
        ("HEAD".into(), s(&["-I"]), m.page.clone(), "granted".into()),
        (
            "GET with PHPSESSID and Tiki cookies".into(),
            s(&[
                "-b",
                "PHPSESSID=0123abcd; tiki_cookie_jar=x; javascript_enabled=y; local_tz=UTC",
            ]),
            m.page.clone(),
            "granted".into(),
        ),
        (
            "GET with a body (PHP parses no body for GET)".into(),
            s(&["-X", "GET", "--data", "page=SecretPage"]),
            m.page.clone(),
            "granted".into(),
        ),
        (
            "POST page=SecretPage to the minted URL".into(),
            s(&["--data", "page=SecretPage"]),
            m.page.clone(),
            "denied method_not_allowed".into(),
        ),
        (
            "POST action=remove".into(),
            s(&["--data", "action=remove"]),
            m.page.clone(),
            "denied method_not_allowed".into(),
        ),
        (
            "POST multipart page=SecretPage".into(),
            s(&["-F", "page=SecretPage"]),
            m.page.clone(),
            "denied method_not_allowed".into(),
        ),
        (
            "POST with an empty body".into(),
            s(&["-X", "POST"]),
            m.page.clone(),
            "denied method_not_allowed".into(),
        ),
        (
            "PUT".into(),
            s(&["-X", "PUT", "--data", "page=SecretPage"]),
            m.page.clone(),
            "denied method_not_allowed".into(),
        ),
        (
            "DELETE".into(),
            s(&["-X", "DELETE"]),
            m.page.clone(),
            "denied method_not_allowed".into(),
        ),
        (
            "TOKEN only in the POST body".into(),
            s(&["--data", &format!("TOKEN={t}")]),
            home.clone(),
            "denied token_not_in_query".into(),
        ),
        (
            "TOKEN only in a multipart body".into(),
            s(&["-F", &format!("TOKEN={t}")]),
            home.clone(),
            "denied token_not_in_query".into(),
        ),
        (
            "cookie page=Evil".into(),
            s(&["-b", "page=Evil"]),
            m.page.clone(),
            by_cookie("cookie_override"),
        ),
        (
            "cookie page[x]=Evil (array over the bound name)".into(),
            s(&["-b", "page[x]=Evil"]),
            m.page.clone(),
            by_cookie("cookie_override"),
        ),
        (
            "cookie TOKEN=<the token>".into(),
            s(&["-b", &format!("TOKEN={t}")]),
            m.page.clone(),
            by_cookie("cookie_override"),
        ),
        (
            "cookie TOKEN=<another page's token>".into(),
            s(&["-b", &format!("TOKEN={}", m.other_token)]),
            m.page.clone(),
            by_cookie("token_not_in_query"),
        ),
        (
            "cookie Page=Evil (another name)".into(),
            s(&["-b", "Page=Evil; page_x=1"]),
            m.page.clone(),
            "granted".into(),
        ),
        (
            "minted URL + 998 x &=x (1000 variables)".into(),
            s(&[]),
            exactly_1000,
            "granted".into(),
        ),
        (
            "minted URL + 998 x &=x + &page=Evil".into(),
            s(&[]),
            dropped,
            "denied dropped_input".into(),
        ),
        (
            "upload: multipart POST galleryId=5, TOKEN in the URL".into(),
            s(&[
                "-F",
                "galleryId=5",
                "-F",
                "name=n",
                "-F",
                "userfile[]=@Cargo.toml",
            ]),
            upload_q.clone(),
            "granted".into(),
        ),
        (
            "upload: Tiki's form (TOKEN and galleryId[] in the body, ?upload)".into(),
            s(&[
                "-F",
                "galleryId[]=5",
                "-F",
                &format!("TOKEN={}", m.upload_token),
                "-F",
                "userfile[]=@Cargo.toml",
            ]),
            format!("{upload}?upload"),
            "granted".into(),
        ),
        (
            "upload: POST galleryId=6".into(),
            s(&["-F", "galleryId=6"]),
            upload_q.clone(),
            "denied params_mismatch".into(),
        ),
        (
            "upload: PUT".into(),
            s(&["-X", "PUT"]),
            format!("{upload_q}&galleryId=5"),
            "denied method_not_allowed".into(),
        ),
        (
            "upload: cookie galleryId=6 on the POST".into(),
            s(&["-b", "galleryId=6", "-F", "galleryId=5"]),
            upload_q.clone(),
            by_cookie("cookie_override"),
        ),
        (
            "allowPost token: POST page=SecretPage".into(),
            s(&["--data", "page=SecretPage"]),
            m.posted.clone(),
            "granted".into(),
        ),
        (
            "allowPost token: TOKEN only in the POST body".into(),
            s(&[
                "--data",
                &format!("TOKEN={}", m.posted.rsplit_once("TOKEN=").unwrap().1),
            ]),
            gate.url("/tiki-index.php?page=Posted"),
            "denied token_not_in_query".into(),
        ),
        (
            "allowPost token: PUT".into(),
            s(&["-X", "PUT"]),
            m.posted.clone(),
            "denied method_not_allowed".into(),
        ),
    ]
}

/// Runs every case on each web server with `order`; prints the table for the record.
fn every_case(order: RequestOrder) {
    let mut failures = Vec::new();
    for backend in Backend::runnable() {
        let dsn = trunk_database(&format!("binding_{order:?}_{}", backend.name()));
        let gate = Gate::start(backend, &dsn, order, true, &[]);
        let store = store(&dsn);
        let minted = mint_all(&store, &gate);
        let cookies = order == RequestOrder::Unset;
        for (what, args, url, expected) in cases(&gate, &minted, cookies) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let got = outcome(&gate, &args, &url);
            println!(
                "{} request_order {order:?}: {what:<62} -> {got}",
                gate.label()
            );
            if got != expected {
                failures.push(format!(
                    "{}: {what}: expected {expected}, got {got}",
                    gate.label()
                ));
            }
        }
        if failures.is_empty() {
            exactly_n(&gate, &store, &dsn);
        }
    }
    assert!(failures.is_empty(), "{order:?}:\n{}", failures.join("\n"));
}

/// N hits grant exactly N of 16 parallel GETs while 8 POSTs are denied; the POSTs consume
/// nothing.
fn exactly_n(gate: &Gate, store: &Store, dsn: &str) {
    const N: i64 = 3;
    let url = mint_url(store, &gate.url("/tiki-index.php?page=Race"), N, false);
    let hits = || -> i64 {
        query_value(
            dsn,
            "SELECT hits FROM tiki_auth_tokens WHERE parameters = '{\"page\":\"Race\"}'",
        )
        .unwrap()
    };
    let run = |gets: usize, posts: usize| -> (usize, usize) {
        let spawn = |post: bool| {
            let u = url.clone();
            std::thread::spawn(move || {
                let args: &[&str] = if post {
                    &["--data", "page=SecretPage"]
                } else {
                    &[]
                };
                (post, curl(args, &u).result.unwrap_or_default())
            })
        };
        let handles: Vec<_> = (0..gets.max(posts))
            .flat_map(|i| {
                let mut h = Vec::new();
                if i < gets {
                    h.push(spawn(false));
                }
                if i < posts {
                    h.push(spawn(true));
                }
                h
            })
            .collect();
        let results: Vec<(bool, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for (post, r) in &results {
            // Once the GETs used the hits up, a POST meets an exhausted token first.
            let denied = r == "denied method_not_allowed" || r == "denied exhausted";
            assert!(!post || denied, "a POST got {r}");
        }
        let granted = results.iter().filter(|(p, r)| !p && r == "granted").count();
        let denied_posts = results.iter().filter(|(p, _)| *p).count();
        (granted, denied_posts)
    };
    assert_eq!(run(0, 8), (0, 8));
    let logged = gate.new_denials();
    assert!(
        logged.len() == 8 && logged.iter().all(|l| l.contains("(method_not_allowed: ")),
        "{}: every denied POST is logged with its reason: {logged:?}",
        gate.label()
    );
    assert_eq!(hits(), N, "8 denied POSTs consumed hits");
    let (granted, posts) = run(16, 8);
    println!(
        "{}: exactly N: {granted} of 16 parallel GETs granted with N = {N}, {posts} POSTs denied",
        gate.label()
    );
    assert_eq!(granted, usize::try_from(N).unwrap());
    assert_eq!(hits(), 0);
    assert_eq!(curl(&[], &url).result.as_deref(), Some("denied exhausted"));
    gate.new_denials();
}

#[test]
fn every_bypass_denied_under_php_default_request_order() {
    every_case(RequestOrder::Unset);
}

#[test]
fn every_bypass_denied_under_request_order_gp() {
    every_case(RequestOrder::Gp);
}

/// `request_order=` (set, empty) is not "unset": PHP then builds an empty `$_REQUEST` (PHP
/// 8.2.36, measured), so Tiki's perms.php sees no TOKEN at all, and cookies reach nothing.
#[test]
fn request_order_set_empty_leaves_request_empty() {
    for backend in Backend::runnable() {
        let dsn = trunk_database(&format!("binding_empty_{}", backend.name()));
        let gate = Gate::start(backend, &dsn, RequestOrder::Empty, true, &[]);
        let label = gate.label();
        let store = store(&dsn);
        let url = mint_url(&store, &gate.url("/probe.php?page=Home"), 10, false);
        let probe = curl(&["-b", "page=Evil; TOKEN=zz"], &url);
        assert_eq!(
            probe.result.as_deref(),
            Some("granted"),
            "{label}: {}",
            probe.body
        );
        assert!(
            probe.body.contains(r#""request":[]"#),
            "{label}: {}",
            probe.body
        );
        let page = mint_url(&store, &gate.url("/tiki-index.php?page=Home"), 10, false);
        assert_eq!(curl(&[], &page).result.as_deref(), Some("none"), "{label}");
    }
}

/// The gate tells a visitor nothing: no header, the one message; the reason is in the log.
#[test]
fn the_gate_tells_visitors_nothing() {
    for backend in Backend::runnable() {
        let dsn = trunk_database(&format!("binding_quiet_{}", backend.name()));
        let gate = Gate::start(backend, &dsn, RequestOrder::Unset, false, &[]);
        let label = gate.label();
        let store = store(&dsn);
        let url = mint_url(&store, &gate.url("/tiki-index.php?page=Home"), 10, false);
        let granted = curl(&[], &url);
        assert_eq!((granted.status, granted.result), (200, None), "{label}");
        assert!(
            granted.body.starts_with("granted"),
            "{label}: {}",
            granted.body
        );
        for (args, reason) in [
            (&["--data", "page=SecretPage"][..], "method_not_allowed"),
            (&["-b", "page=Evil"], "cookie_override"),
        ] {
            let denied = curl(args, &url);
            assert_eq!(
                (denied.status, denied.result),
                (403, None),
                "{label} {args:?}"
            );
            assert_eq!(
                denied.body, "Your access to this page has expired\n",
                "{label}"
            );
            let log = gate.new_denials();
            assert!(
                log.len() == 1 && log[0].contains(&format!("({reason}: ")),
                "{label}: {log:?}"
            );
        }
    }
}

/// Our count of query variables against PHP's own: for generated queries around
/// `max_input_vars`, PHP warns and drops the last variable exactly when
/// [`query_vars_dropped`] says so, and `lookupRequest` (reading `max_input_vars` and
/// `arg_separator.input` from PHP) denies exactly then with `dropped_input`.
#[test]
fn php_counts_query_variables_as_we_do() {
    let dsn = trunk_database("binding_vars");
    for (backend, separators) in Backend::runnable()
        .into_iter()
        .flat_map(|b| [(b, "&"), (b, "&;")])
    {
        let extra = [
            ("max_input_vars", "20"),
            ("arg_separator.input", separators),
        ];
        let gate = Gate::start(backend, &dsn, RequestOrder::Gp, true, &extra);
        let label = gate.label();
        let mut seed = 0x2545_f491_u64 + separators.len() as u64;
        let mut dropped = 0;
        for _ in 0..150 {
            let query = generated_query(&mut seed, separators.as_bytes());
            let reply = curl(&[], &gate.url(&format!("/vars.php?{query}")));
            let ours = query_vars_dropped(query.as_bytes(), separators.as_bytes(), 20);
            let expected = format!(
                r#"{{"warned":{ours},"last":{},"reason":"{}"}}"#,
                !ours,
                if ours {
                    "dropped_input"
                } else {
                    "token_not_in_query"
                }
            );
            assert_eq!(reply.body, expected, "{label} {separators:?} {query}");
            dropped += usize::from(ours);
        }
        println!(
            "{label}: separators {separators:?}: 150 queries, {dropped} over max_input_vars = 20"
        );
        assert!(
            dropped > 20 && dropped < 130,
            "both sides of the limit: {dropped}"
        );
    }
}

/// A query of 14–27 pieces of every kind PHP counts or skips, ending in `zz_last=1`.
fn generated_query(seed: &mut u64, separators: &[u8]) -> String {
    let mut next = |n: u64| {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        usize::try_from(*seed % n).unwrap()
    };
    let kinds = [
        "a{}=1",
        "=x",
        "",
        "b[]=2",
        "%20c{}=3",
        "d{}",
        "e{}=",
        "f%5B{}%5D=1",
        "=",
        "g.{}=1",
    ];
    let mut query = String::new();
    for i in 0..14 + next(14) {
        if i > 0 {
            query.push(char::from(separators[next(separators.len() as u64)]));
        }
        query.push_str(&kinds[next(kinds.len() as u64)].replace("{}", &i.to_string()));
    }
    query.push(char::from(separators[next(separators.len() as u64)]));
    query.push_str("zz_last=1");
    query
}
