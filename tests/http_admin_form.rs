//! Tiki's "Admin Tokens" form, unmodified, with the drop-in (issue 16, SPEC section 9): the
//! page `php/www/tiki-admin_tokens.php` does what Tiki 24's form and trunk's form do with the
//! Full URL before they call `AuthTokens::createToken`. Each URL shape of the documentation and
//! of SPEC section 4 is POSTed to it as an admin would type it, for both forms; then the URL is
//! requested as a browser (and, where it differs, as a cron job with the URL as typed) would,
//! with `TOKEN=` added, through `php -S` and the token gate (`php/www/token_gate.php`): granted.
//! Its neighbours (another value, a parameter more or less) are denied.

use std::io::{Read, Write};
use testkit::db::{TIKI24_SQL, TRUNK_SQL, fresh_database, run_sql};
use testkit::web::{Backend, Setup, WebServer, install_token_site};
use tiki_tokens::canon::http_query::urlencode;

/// The URL shapes: (name, what the admin types below the site's origin).
const SHAPES: &[(&str, &str)] = &[
    (
        "documentation batch export",
        "/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&delimiterL=\"&delimiterR=\"&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
    ),
    ("spaces as +", "/tiki-index.php?page=My+Page"),
    ("spaces as %20", "/tiki-index.php?page=My%20Page"),
    ("UTF-8 encoded", "/tiki-index.php?page=Caf%C3%A9"),
    ("UTF-8 as typed", "/tiki-index.php?page=Café"),
    ("quotes as typed", "/tiki-index.php?page=It's&q=\"quoted\""),
    ("quotes encoded", "/tiki-index.php?q=%22x%22&a=%27"),
    (
        "arrays",
        "/tiki-index.php?filter[status][]=o&filter[status][]=p&filter[type]=x",
    ),
    ("%25", "/tiki-index.php?page=100%25+sure&x=%2526"),
    ("%2B", "/tiki-index.php?q=a%2Bb"),
    ("tags", "/tiki-index.php?q=<b>x</b>"),
    ("space in the path", "/my%20dir/tiki-index.php?page=Spaced"),
    ("no query", "/tiki-index.php"),
];

/// The two forms: (variant name of the page, table the site has).
const FORMS: [(&str, &str); 2] = [("tiki24", TIKI24_SQL), ("trunk", TRUNK_SQL)];

/// `php -S` with the extension on `dsn`, serving a copy of `php/www` (plus a directory with a
/// space in its name) with `AuthTokens.php` beside it.
fn start(dsn: &str) -> WebServer {
    let setup = Setup::new(Backend::PhpBuiltin)
        .with_extension()
        .ini("tiki_tokens.dsn", dsn)
        .ini("display_errors", "0");
    let server = WebServer::start("http_admin_form", &setup);
    let www = server.docroot();
    install_token_site(www);
    server
}

/// POSTs the form as a browser sends it; the response's status and body.
fn post_form(port: u16, variant: &str, typed: &str) -> (u16, String) {
    let groups = if variant == "trunk" {
        "groups%5B%5D=Registered"
    } else {
        "groups=Registered"
    };
    let body = format!(
        "action=add&variant={variant}&entry={}&{groups}&timeout=3600&maxhits=50",
        urlencode(typed.as_bytes())
    );
    let request = format!(
        "POST /tiki-admin_tokens.php HTTP/1.0\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// The token of the page's JSON answer.
fn token_of(body: &str) -> Option<String> {
    let rest = body.split_once("\"token\":\"")?.1;
    Some(rest.split('"').next()?.to_string())
}

/// The request target a browser sends for a typed URL (WHATWG): bytes of the path and query
/// percent-encode sets as `%XX` (space, `"`, `<`, `>`, non-ASCII; `'` in a query of a special
/// scheme; `` ` ``, `{`, `}` in the path).
fn browser_target(typed: &str) -> String {
    let (path, query) = match typed.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (typed, None),
    };
    let encode = |text: &str, extra: &[u8]| {
        let mut out = String::new();
        for &b in text.as_bytes() {
            if b <= b' ' || b >= 0x7f || b"\"<>".contains(&b) || extra.contains(&b) {
                out.push_str(&format!("%{b:02X}"));
            } else {
                out.push(char::from(b));
            }
        }
        out
    };
    let mut target = encode(path, b"`{}");
    if let Some(q) = query {
        target.push('?');
        target.push_str(&encode(q, b"'"));
    }
    target
}

/// `target` with `TOKEN=` added last.
fn with_token(target: &str, token: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}TOKEN={token}")
}

/// Neighbours of a target (before `TOKEN` is added): a parameter more, a parameter less, the
/// last value changed by one byte.
fn neighbours(target: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![("a parameter more", with_extra(target))];
    if let Some((path, query)) = target.split_once('?') {
        let pieces: Vec<&str> = query.split('&').collect();
        let less = pieces[1..].join("&");
        out.push((
            "a parameter less",
            if less.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{less}")
            },
        ));
        let last = pieces.last().unwrap();
        let changed = if last.contains('=') {
            format!("{last}x")
        } else {
            format!("{last}=x")
        };
        let mut other = pieces[..pieces.len() - 1].to_vec();
        other.push(&changed);
        out.push(("another value", format!("{path}?{}", other.join("&"))));
    }
    out
}

fn with_extra(target: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}extra=1")
}

/// Granted by the token gate (200 and its "granted" body), or denied (403).
fn granted(server: &WebServer, target: &str) -> bool {
    let r = server.get(target.as_bytes());
    assert!(
        r.status == 200 || r.status == 403,
        "{target}: status {} body {:?}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.status == 200 && r.body.starts_with(b"granted")
}

#[test]
fn tokens_made_in_tikis_admin_form_grant_the_typed_url_and_nothing_else() {
    let mut table = vec![format!(
        "| URL shape | Tiki 24 form (Tiki 24 table) | trunk form (trunk table) |\n|---|---|---|"
    )];
    let mut results: Vec<Vec<String>> = vec![Vec::new(); SHAPES.len()];
    for (variant, ddl) in FORMS {
        let dsn = fresh_database(&format!("admin_form_{variant}"));
        run_sql(&dsn, ddl);
        let server = start(&dsn);
        for (i, (name, path)) in SHAPES.iter().enumerate() {
            let typed = format!("http://127.0.0.1:{}{path}", server.port());
            let (status, body) = post_form(server.port(), variant, &typed);
            let token = token_of(&body)
                .unwrap_or_else(|| panic!("{variant} form, {name}: {status} {body}"));
            let target = browser_target(path);
            assert!(
                granted(&server, &with_token(&target, &token)),
                "{variant} form, {name}: the URL as a browser sends it is denied: {target} \
                 (the form passed {body})"
            );
            let mut requests = 1;
            // A cron job (curl, wget) sends the URL as typed where a request line can carry it.
            if target != *path && path.bytes().all(|b| b > b' ' && b < 0x7f) {
                assert!(
                    granted(&server, &with_token(path, &token)),
                    "{variant} form, {name}: the URL as typed is denied: {path}"
                );
                requests += 1;
            }
            let near = neighbours(&target);
            for (what, other) in &near {
                assert!(
                    !granted(&server, &with_token(other, &token)),
                    "{variant} form, {name}: {what} was granted: {other}"
                );
            }
            results[i].push(format!(
                "granted ({requests} spelling{}), {} neighbours denied",
                if requests == 1 { "" } else { "s" },
                near.len()
            ));
        }
    }
    for ((name, _), r) in SHAPES.iter().zip(&results) {
        table.push(format!("| {name} | {} | {} |", r[0], r[1]));
    }
    println!("{}", table.join("\n"));
}

/// The form's own answer when the typed URL cannot be used: a clear error, no token, no row.
#[test]
fn a_relative_url_in_the_form_is_a_clear_error() {
    let dsn = fresh_database("admin_form_relative");
    run_sql(&dsn, TRUNK_SQL);
    let server = start(&dsn);
    for variant in ["tiki24", "trunk"] {
        let (status, body) = post_form(server.port(), variant, "tiki-index.php?page=X");
        assert_eq!(status, 500, "{variant}: {body}");
        assert!(
            body.contains("InvalidInputException") && body.contains("relative"),
            "{variant}: {body}"
        );
    }
    let rows: i64 =
        testkit::db::query_value(&dsn, "SELECT COUNT(*) FROM tiki_auth_tokens").unwrap();
    assert_eq!(rows, 0);
}
