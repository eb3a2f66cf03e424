//! End to end over real HTTP: PHP's built-in web server with the extension loaded and a front
//! script that does what Tiki's `lib/setup/perms.php` does (`php/www/token_gate.php`). URLs are
//! minted with `AuthTokens::includeToken` through the PHP CLI and requested with curl: the exact
//! URL is granted, every variant is denied, and N hits grant exactly N of 16 parallel requests.

use testkit::db::{TRUNK_SQL, fresh_database, run_sql};
use testkit::web::{Backend, Setup, WebServer, install_token_site};
use testkit::{ext, php, value::php_literal};

/// Lays out a docroot (php/www with php/AuthTokens.php beside it, plus a directory whose name
/// has a space) and starts `php -S` with 8 workers and the extension.
fn start_server(dsn: &str) -> WebServer {
    let setup = Setup::new(Backend::PhpBuiltin)
        .with_extension()
        .ini("tiki_tokens.dsn", dsn)
        .env("TIKI_TOKENS_PURGE_INTERVAL", "3600")
        .env("TIKI_TOKENS_GATE_DEBUG", "1")
        .workers(8);
    let server = WebServer::start("http_e2e", &setup);
    let www = server.docroot();
    install_token_site(www);
    server
}

/// Mints a URL with `AuthTokens::includeToken` through the PHP CLI with the extension.
fn mint(dsn: &str, url: &str, hits: i64) -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let code = format!(
        "require '{repo}/php/AuthTokens.php'; \
         $lib = new AuthTokens({dsn}, ['maxHits' => 100, 'maxTimeout' => 604800]); \
         echo $lib->includeToken({url}, ['Registered'], 'e2e@example.com', 3600, {hits});",
        dsn = php_literal(dsn.as_bytes()),
        url = php_literal(url.as_bytes()),
    );
    let out = php::eval_with(&["-n", "-d", &ext::extension_ini()], &code, b"");
    String::from_utf8(out).expect("minted URL is ASCII")
}

/// GET with curl (no globbing, no path normalisation): (status, X-Token-Result header).
fn get(url: &str) -> (u16, String) {
    let out = testkit::procs::command("curl")
        .args([
            "-s",
            "-g",
            "--path-as-is",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "--max-time",
            "20",
            url,
        ])
        .output()
        .expect("run curl");
    let head = String::from_utf8_lossy(&out.stdout).to_string();
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status from curl for {url}: {head:?}"));
    let result = head
        .lines()
        .find_map(|l| l.strip_prefix("X-Token-Result: "))
        .unwrap_or("")
        .trim()
        .to_string();
    (status, result)
}

fn granted(url: &str) -> bool {
    let (status, result) = get(url);
    assert!(
        (status == 200 && result == "granted")
            || (status == 403 && result.starts_with("denied"))
            || result == "none",
        "unexpected response {status} {result:?} for {url}"
    );
    status == 200 && result == "granted"
}

fn database() -> String {
    let dsn = fresh_database("http_e2e");
    run_sql(&dsn, TRUNK_SQL);
    dsn
}

/// Variants of a minted URL that must all be denied (or, for a lower-case `token`, not granted).
fn variants(url: &str, base: &str) -> Vec<(String, String)> {
    let (before_frag, frag) = match url.split_once('#') {
        Some((a, f)) => (a.to_string(), format!("#{f}")),
        None => (url.to_string(), String::new()),
    };
    let (path, query) = before_frag.split_once('?').expect("minted URL has a query");
    let pairs: Vec<&str> = query.split('&').collect();
    let token_pair = *pairs.last().unwrap();
    assert!(token_pair.starts_with("TOKEN="), "TOKEN is last: {url}");
    let params = &pairs[..pairs.len() - 1];
    let join = |ps: &[String]| format!("{path}?{}{frag}", ps.join("&"));
    let owned: Vec<String> = params.iter().map(|s| (*s).to_string()).collect();
    let mut out = Vec::new();
    let with_token = |mut ps: Vec<String>| {
        ps.push(token_pair.to_string());
        ps
    };
    out.push((
        "param added".into(),
        join(&with_token(
            [owned.clone(), vec!["extra=1".into()]].concat(),
        )),
    ));
    if !owned.is_empty() {
        out.push((
            "param removed".into(),
            join(&with_token(owned[1..].to_vec())),
        ));
        let mut changed = owned.clone();
        let last = changed.last_mut().unwrap();
        let flipped = if last.ends_with('x') { 'y' } else { 'x' };
        last.push(flipped);
        out.push((
            "value changed by one byte".into(),
            join(&with_token(changed)),
        ));
    }
    // Another script that exists in the docroot: tiki-download_file.php, or tiki-index.php when
    // the token is for tiki-download_file.php.
    let origin_end = path.find("://").map_or(0, |i| i + 3);
    let origin = &path[..origin_end
        + path[origin_end..]
            .find('/')
            .unwrap_or(path.len() - origin_end)];
    let other = if base == "tiki-download_file.php" {
        "tiki-index.php"
    } else {
        "tiki-download_file.php"
    };
    let other_script = format!("{origin}/{other}");
    out.push((
        "another script".into(),
        format!(
            "{other_script}?{}{frag}",
            with_token(owned.clone()).join("&")
        ),
    ));
    let mut lower = owned.clone();
    lower.push(token_pair.replacen("TOKEN=", "token=", 1));
    out.push(("TOKEN in lower case".into(), join(&lower)));
    let mut arr = owned.clone();
    arr.push(token_pair.replacen("TOKEN=", "TOKEN[]=", 1));
    out.push(("TOKEN[]=".into(), join(&arr)));
    out
}

#[test]
fn exact_url_is_granted_and_every_variant_denied() {
    let dsn = database();
    let server = start_server(&dsn);
    let origin = server.origin();
    let cases: &[(&str, &str)] = &[
        (
            "tiki-ajax_services.php",
            "controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[]=2&listfields[]=3",
        ),
        ("tiki-index.php", "page=Percent%25Sign&x=%2526"),
        ("tiki-index.php", "page=Home+Page&q=a%20b&plus=%2B"),
        (
            "tiki-index.php",
            "filter[status][0]=o&filter[status][1]=p&filter[type]=x",
        ),
        ("tiki-index.php", "page=%C3%A9t%C3%A9&lang=fr"),
        ("tiki-index.php", "empty=&zero=0&page=A"),
        ("tiki-index.php", "token=lower&page=A"),
        ("tiki-download_file.php", "fileId=1"),
        ("my%20dir/tiki-index.php", "page=Spaced"),
        ("tiki-index.php", ""),
    ];
    let mut checked = 0;
    for (script, query) in cases {
        let base_url = if query.is_empty() {
            format!("{origin}/{script}#frag")
        } else {
            format!("{origin}/{script}?{query}")
        };
        let url = mint(&dsn, &base_url, 100);
        assert!(url.contains("TOKEN="), "minted: {url}");
        assert!(granted(&url), "exact URL denied: {url} (from {base_url})");
        checked += 1;
        let script_name = script.rsplit('/').next().unwrap();
        for (what, variant) in variants(&url, script_name) {
            if variant == url {
                continue;
            }
            assert!(
                !granted(&variant),
                "{what} was granted: {variant} (minted {url})"
            );
            checked += 1;
        }
        // `01` for `1`: numeric-looking values must compare as bytes.
        if url.contains("fileId=1&") {
            let v = url.replace("fileId=1&", "fileId=01&");
            assert!(!granted(&v), "01 for 1 was granted: {v}");
            checked += 1;
        }
        // The exact URL is still granted after all the denied variants.
        assert!(granted(&url), "exact URL denied after variants: {url}");
    }
    println!(
        "http e2e: {checked} requests checked, {} minted URLs",
        cases.len()
    );
}

#[test]
fn n_hits_grant_exactly_n_of_16_parallel_clients() {
    let dsn = database();
    let server = start_server(&dsn);
    for n in [1_usize, 5] {
        let url = mint(
            &dsn,
            &format!(
                "http://127.0.0.1:{}/tiki-index.php?page=Race&n={n}",
                server.port()
            ),
            n as i64,
        );
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let u = url.clone();
                std::thread::spawn(move || granted(&u))
            })
            .collect();
        let grants = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|g| *g)
            .count();
        println!("http e2e: hits={n}: {grants} of 16 parallel requests granted");
        assert_eq!(grants, n, "hits={n}");
        assert!(!granted(&url), "granted after its {n} hits were used");
    }
}
