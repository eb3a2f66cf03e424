//! SEF tokens end to end (issue 10, SPEC section 6) through real web servers: tokens minted
//! with `AuthTokens::includeToken` (PHP CLI with the extension, option `tikiRoot` = `/tiki/`)
//! for SEF URLs of a site under `/tiki/`, then requested through this project's front
//! controller (`php/www/route.php`, the port of Tiki 24.1's) and the token gate behind
//! * `php -S` with its router script (`php/php_s_router.php`, Tiki's `.htaccess` rules),
//! * Apache with mod_php and Tiki's `.htaccess`,
//! * Apache with `RewriteEngine on` at server level, where route.php reads the decoded
//!   `SCRIPT_URL`: its tokens are minted with `pathForm` = `decoded`,
//! * nginx with PHP-FPM and `try_files $uri $uri/ /tiki/route.php?$args`.
//!
//! Each token is requested on its own minted URL (granted), on the spellings route.php maps to
//! the same (entry, params) (granted), on its neighbours (denied, with the reason: another page,
//! id or object kind, a param added or changed), and, once its N hits (exactly the grants
//! planned) are used, once more: `denied exhausted`. The cases below are what Tiki's route.php
//! does with the raw path (`php -S`, nginx, Apache's `.htaccess`); where a server answers
//! otherwise, `tests/data/sef-token-differences.txt` names the server, the request, its answer
//! and why. A listed difference that does not happen fails the test, as does an unlisted one.
//! A backend is skipped only when its programs are missing, with the reason printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use testkit::db::{TRUNK_SQL, fresh_database, run_sql};
use testkit::web::{Backend, HttpResponse, Setup, WebServer, install_site};
use testkit::{ext, php, value::php_literal};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
/// Where the site is installed.
const BASE: &str = "/tiki/";
/// Target scripts of the cases that this site has no stand-in for in `php/www/`: written into
/// the site, so that their own URLs (`/tiki/tiki-read_article.php?articleId=7`) are served.
const STAND_INS: [&str; 3] = [
    "tiki-read_article.php",
    "tiki-view_tracker_item.php",
    "tiki-calendar.php",
];

/// A token for a SEF URL and what must happen to requests for it. Paths and queries are below
/// `/tiki/`, as sent (raw bytes, percent-encoding kept); `TOKEN` is added to each.
struct Case {
    /// What is minted.
    mint: &'static str,
    /// Other spellings of the same (entry, params): granted.
    granted: &'static [&'static str],
    /// Neighbours: denied, with the reason.
    denied: &'static [(&'static str, &'static str)],
}

/// The answer of a difference that makes minting the case's URL refused, for that server's
/// path form (then nothing is requested).
const REFUSED: &str = "refused at minting";
const PARAMS: &str = "params_mismatch";
const ENTRY: &str = "entry_mismatch";

const CASES: &[Case] = &[
    Case {
        mint: "HomePage",
        granted: &[
            "wiki-HomePage",
            "page-HomePage",
            "tiki-index.php?page=HomePage",
            // route.php's page replaces the query's.
            "HomePage?page=OtherPage",
        ],
        denied: &[
            ("OtherPage", PARAMS),
            ("homepage", PARAMS),
            ("wiki-OtherPage", PARAMS),
            ("HomePage?x=1", PARAMS),
            ("tiki-index.php?page=HomePage&x=1", PARAMS),
            ("show:HomePage", ENTRY),
            ("dl5", ENTRY),
        ],
    },
    Case {
        mint: "Home%20Page",
        granted: &[
            "Home+Page",
            "tiki-index.php?page=Home+Page",
            "tiki-index.php?page=Home%20Page",
        ],
        denied: &[
            // wiki- does not decode: page "Home%20Page".
            ("wiki-Home%20Page", PARAMS),
            // The catch-all decodes once: page "Home%20Page".
            ("Home%2520Page", PARAMS),
            ("HomePage", PARAMS),
        ],
    },
    Case {
        mint: "Home+Page",
        granted: &["Home%20Page", "tiki-index.php?page=Home%20Page"],
        denied: &[("wiki-Home+Page", PARAMS), ("Home-Page", PARAMS)],
    },
    Case {
        mint: "A%2BB",
        granted: &["wiki-A+B", "page-A+B", "tiki-index.php?page=A%2BB"],
        denied: &[
            ("A+B", PARAMS),
            ("A%20B", PARAMS),
            ("tiki-index.php?page=A+B", PARAMS),
        ],
    },
    Case {
        mint: "Discount%2550",
        granted: &["tiki-index.php?page=Discount%2550", "wiki-Discount%50"],
        denied: &[("Discount%50", PARAMS), ("DiscountP", PARAMS)],
    },
    Case {
        mint: "Caf%C3%A9",
        granted: &[
            "tiki-index.php?page=Caf%C3%A9",
            // Raw UTF-8 in the request line.
            "Caf\u{e9}",
            "wiki-Caf\u{e9}",
        ],
        denied: &[
            ("wiki-Caf%C3%A9", PARAMS),
            ("Cafe", PARAMS),
            ("Caf%C3%A8", PARAMS),
        ],
    },
    Case {
        mint: "Release%2024.1",
        granted: &["Release+24.1", "tiki-index.php?page=Release%2024.1"],
        denied: &[
            ("wiki-Release%2024.1", PARAMS),
            ("Release%2024.2", PARAMS),
            ("Release%2024", PARAMS),
        ],
    },
    Case {
        mint: "AC%2FDC",
        granted: &["tiki-index.php?page=AC%2FDC", "wiki-AC/DC"],
        denied: &[("AC", PARAMS), ("wiki-AC%2FDC", PARAMS)],
    },
    Case {
        mint: "dl5",
        granted: &["tiki-download_file.php?fileId=5", "dl5?fileId=9"],
        denied: &[
            ("dl6", PARAMS),
            ("display5", PARAMS),
            ("thumbnail5", PARAMS),
            ("dl5?display=1", PARAMS),
            ("tiki-download_file.php?fileId=05", PARAMS),
            ("item5", ENTRY),
            ("file5", ENTRY),
        ],
    },
    Case {
        mint: "display5",
        granted: &[
            "tiki-download_file.php?fileId=5&display=",
            "tiki-download_file.php?display=&fileId=5",
            // The route's extra display="" replaces the query's.
            "display5?display=1",
        ],
        denied: &[
            ("dl5", PARAMS),
            ("preview5", PARAMS),
            ("thumbnail5", PARAMS),
            ("display6", PARAMS),
        ],
    },
    Case {
        mint: "thumbnail5",
        granted: &[
            "tiki-download_file.php?fileId=5&thumbnail=",
            "thumbnail5?fileId=6",
        ],
        denied: &[
            ("thumbnail6", PARAMS),
            ("display5", PARAMS),
            ("tiki-download_file.php?fileId=5&thumbnail=1", PARAMS),
        ],
    },
    Case {
        mint: "item42-Some-Title",
        granted: &[
            "item42",
            "item42-Another-Title",
            "tiki-view_tracker_item.php?itemId=42",
        ],
        denied: &[
            ("item43-Some-Title", PARAMS),
            ("item42-Some-Title?view=1", PARAMS),
            ("tiki-view_tracker_item.php?itemId=42&trackerId=3", PARAMS),
            ("tracker42", ENTRY),
        ],
    },
    Case {
        mint: "article7-Title",
        granted: &[
            "art7",
            "article7",
            "art7-Other-Title",
            "tiki-read_article.php?articleId=7",
        ],
        denied: &[
            ("article8-Title", PARAMS),
            ("article7-Title?page=2", PARAMS),
            ("blog7", ENTRY),
        ],
    },
    Case {
        mint: "art7",
        granted: &["article7-Title", "tiki-read_article.php?articleId=7"],
        denied: &[("art8", PARAMS), ("art7?articleId=7&x=", PARAMS)],
    },
    Case {
        mint: "cal1,2-Title",
        granted: &[
            "cal1,2",
            "cal1,2-Other",
            // array_filter drops the empty id (keys 0 and 1 stay).
            "cal1,2,",
            "tiki-calendar.php?calIds[]=1&calIds[]=2",
            "tiki-calendar.php?calIds[0]=1&calIds[1]=2",
            // route.php's calIds replaces the query's.
            "cal1,2?calIds[]=3",
        ],
        denied: &[
            ("cal1,3", PARAMS),
            ("cal2,1", PARAMS),
            ("cal1", PARAMS),
            ("cal1,2,3", PARAMS),
            // array_filter keeps keys: ids 1 and 2 under keys 1 and 2.
            ("cal0,1,2", PARAMS),
            ("calendar", PARAMS),
            ("event1", ENTRY),
        ],
    },
    // The tracker export of the seed's batch example, in SEF form.
    Case {
        mint: "tiki-tracker-export_items?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
        granted: &[
            "tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
            "tiki-ajax_services.php?trackerId=3&separator=%2c&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[0]=2&listfields[1]=3&recordsMax=-1&action=export_items&controller=tracker",
            // route.php's controller and action replace the query's.
            "tiki-tracker-export_items?controller=user&action=x&trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
        ],
        denied: &[
            (
                "tiki-tracker-export_items?trackerId=4&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
                PARAMS,
            ),
            (
                "tiki-tracker-export_items?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
                PARAMS,
            ),
            (
                "tiki-tracker-export_items?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=3&listfields[]=2&recordsMax=-1",
                PARAMS,
            ),
            (
                "tiki-tracker-export_items?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1&format=csv",
                PARAMS,
            ),
            (
                "tiki-tracker-export_items?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3",
                PARAMS,
            ),
            (
                "tiki-tracker-x?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
                PARAMS,
            ),
            (
                "tiki-trackers-export_items?trackerId=3&separator=%2C&delimiterL=%22&delimiterR=%22&CR=%25%25%25&listfields[]=2&listfields[]=3&recordsMax=-1",
                PARAMS,
            ),
            ("tiki-tracker-export_items", PARAMS),
            ("tracker3", ENTRY),
        ],
    },
];

/// `tests/data/sef-token-differences.txt`: (server, minted, request) → (answer, reason).
type Differences = BTreeMap<(String, String, String), (String, String)>;

fn load_differences() -> Differences {
    let path = format!("{DATA}/sef-token-differences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut map = Differences::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.splitn(5, '\t').collect();
        let [server, mint, request, answer, reason] = cols[..] else {
            panic!(
                "{path}:{}: expected server<TAB>minted<TAB>request<TAB>answer<TAB>reason",
                n + 1
            );
        };
        assert!(!reason.trim().is_empty(), "{path}:{}: give a reason", n + 1);
        let known = CASES.iter().any(|c| {
            c.mint == mint
                && (request == mint
                    || c.granted.contains(&request)
                    || c.denied.iter().any(|(d, _)| *d == request))
        });
        assert!(known, "{path}:{}: no such request in CASES", n + 1);
        let key = (server.to_owned(), mint.to_owned(), request.to_owned());
        let old = map.insert(key, (answer.to_owned(), reason.to_owned()));
        assert!(old.is_none(), "{path}:{}: listed twice", n + 1);
    }
    map
}

/// One request of a case: what is sent (below `/tiki/`, without `TOKEN`), the answer wanted.
struct Step {
    request: String,
    wanted: String,
}

/// The requests of `case` on `server`, in order: the minted URL, the requests to be denied, the
/// requests to be granted (the answers of the cases, or of the differences listed for `server`).
fn plan(case: &Case, server: &str, differences: &Differences) -> Vec<Step> {
    let wanted = |request: &str, default: String| {
        differences
            .get(&(server.to_owned(), case.mint.to_owned(), request.to_owned()))
            .map_or(default, |(answer, _)| answer.clone())
    };
    let mut steps = vec![Step {
        request: case.mint.to_owned(),
        wanted: wanted(case.mint, "granted".into()),
    }];
    let mut rest: Vec<Step> = case
        .denied
        .iter()
        .map(|(request, reason)| Step {
            request: (*request).to_owned(),
            wanted: wanted(request, format!("denied {reason}")),
        })
        .chain(case.granted.iter().map(|request| Step {
            request: (*request).to_owned(),
            wanted: wanted(request, "granted".into()),
        }))
        .collect();
    // What is not granted while hits are left (a used-up token is denied as `exhausted` before
    // its entry and params are compared), then the grants.
    rest.sort_by_key(|s| s.wanted == "granted");
    steps.extend(rest);
    steps
}

/// Mints every `(url, hits)` with one PHP CLI run of `AuthTokens::includeToken`: the minted
/// URLs, or `ERROR …` lines, in order.
fn mint_all(dsn: &str, path_form: &str, urls: &[(String, usize)]) -> Vec<String> {
    let repo = env!("CARGO_MANIFEST_DIR");
    let code = format!(
        "require '{repo}/php/AuthTokens.php'; \
         $lib = new AuthTokens({dsn}, ['maxHits' => 100, 'maxTimeout' => 604800, \
             'tikiRoot' => '{BASE}', 'pathForm' => '{path_form}']); \
         foreach (explode(\"\\n\", rtrim(stream_get_contents(STDIN))) as $line) {{ \
             [$hits, $url] = explode(\"\\t\", $line, 2); \
             try {{ echo $lib->includeToken($url, ['Registered'], 'sef@example.com', 3600, (int) $hits), \"\\n\"; }} \
             catch (Throwable $e) {{ echo 'ERROR ', get_class($e), ': ', strtr($e->getMessage(), \"\\n\", ' '), \"\\n\"; }} \
         }}",
        dsn = php_literal(dsn.as_bytes()),
    );
    let input: String = urls.iter().map(|(u, h)| format!("{h}\t{u}\n")).collect();
    let out = php::eval_with(
        &["-n", "-d", &ext::extension_ini()],
        &code,
        input.as_bytes(),
    );
    let out = String::from_utf8(out).expect("minted URLs are ASCII");
    let lines: Vec<String> = out.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), urls.len(), "minting printed:\n{out}");
    lines
}

/// The answer to a request, as the token gate's debug header gives it (`granted`,
/// `denied <reason>`, `none`), with the status when it is not the one that goes with it;
/// `http <status>` when no token gate answered.
fn answer(r: &HttpResponse) -> String {
    match r.header("X-Token-Result") {
        Some(h)
            if (h == "granted" && r.status == 200)
                || (h.starts_with("denied") && r.status == 403) =>
        {
            h
        }
        Some(h) => format!("{h} (http {})", r.status),
        None => format!("http {}", r.status),
    }
}

/// `request` (below `/tiki/`) with `TOKEN=token` added to its query.
fn with_token(request: &str, token: &str) -> String {
    let sep = if request.contains('?') { '&' } else { '?' };
    format!("{BASE}{request}{sep}TOKEN={token}")
}

/// Starts `setup` with the site under `/tiki/` and the stand-ins.
fn start(setup: &Setup) -> WebServer {
    let server = WebServer::start("sef_tokens", setup);
    let site = server.docroot().join(BASE.trim_matches('/'));
    install_site(&site, server.docroot());
    for script in STAND_INS {
        std::fs::write(
            site.join(script),
            "<?php require __DIR__ . '/token_gate.php';\n",
        )
        .expect("stand-in script");
    }
    server
}

/// What one server run found: checks made (requests, and mints to be refused), those as
/// wanted, and the report of the rest.
#[derive(Default)]
struct Tally {
    checks: usize,
    as_wanted: usize,
    report: String,
}

impl Tally {
    /// Minting `mint` was to be refused (`InvalidInputException`, nothing to request).
    fn refusal(&mut self, server: &str, mint: &str, minted: &str) {
        self.checks += 1;
        if minted.starts_with("ERROR TikiTokens\\InvalidInputException") {
            self.as_wanted += 1;
        } else {
            let _ = writeln!(
                self.report,
                "[{server}] mint {mint}: {minted}, wanted a refusal"
            );
        }
    }

    fn check(&mut self, server: &WebServer, what: &str, target: &str, wanted: &str) {
        let got = answer(&server.get(target.as_bytes()));
        self.checks += 1;
        if got == wanted {
            self.as_wanted += 1;
        } else {
            let _ = writeln!(
                self.report,
                "[{}] {what}: GET {target}: {got}, wanted {wanted}",
                server.label()
            );
        }
    }
}

/// Mints every case for `server` and requests its plan; returns the tally.
fn run_server(server: &WebServer, dsn: &str, path_form: &str, differences: &Differences) -> Tally {
    let plans: Vec<Vec<Step>> = CASES
        .iter()
        .map(|c| plan(c, server.label(), differences))
        .collect();
    let urls: Vec<(String, usize)> = CASES
        .iter()
        .zip(&plans)
        .map(|(c, steps)| {
            let grants = steps.iter().filter(|s| s.wanted == "granted").count();
            let refused = steps[0].wanted == REFUSED;
            assert!(
                refused || grants > 0,
                "{}: nothing granted on {}",
                c.mint,
                server.label()
            );
            (
                format!("{}{BASE}{}", server.origin(), c.mint),
                grants.max(1),
            )
        })
        .collect();
    let minted = mint_all(dsn, path_form, &urls);
    let mut tally = Tally::default();
    for ((case, steps), minted) in CASES.iter().zip(&plans).zip(&minted) {
        if steps[0].wanted == REFUSED {
            tally.refusal(server.label(), case.mint, minted);
            continue;
        }
        let Some(token) = minted
            .rsplit_once("&TOKEN=")
            .or(minted.rsplit_once("?TOKEN="))
        else {
            let _ = writeln!(
                tally.report,
                "[{}] mint {}: {minted}",
                server.label(),
                case.mint
            );
            continue;
        };
        let token = token.1.to_owned();
        let own = minted
            .strip_prefix(&server.origin())
            .unwrap_or_else(|| panic!("minted {minted} is not on {}", server.origin()));
        // The minted URL as includeToken wrote it, then the plan (its first step is the minted
        // URL as given to includeToken: the same request).
        let first = &steps[0];
        tally.check(server, case.mint, own, &first.wanted);
        for step in &steps[1..] {
            tally.check(
                server,
                case.mint,
                &with_token(&step.request, &token),
                &step.wanted,
            );
        }
        // Its hits are used: the first granted request again.
        let again = steps
            .iter()
            .find(|s| s.wanted == "granted")
            .expect("a grant");
        let target = if std::ptr::eq(again, first) {
            own.to_owned()
        } else {
            with_token(&again.request, &token)
        };
        tally.check(server, case.mint, &target, "denied exhausted");
    }
    tally
}

#[test]
fn sef_tokens_grant_their_spellings_and_nothing_else_through_every_server() {
    let differences = load_differences();
    let dsn = fresh_database("sef_tokens");
    run_sql(&dsn, TRUNK_SQL);
    let mut report = String::new();
    let mut ran = Vec::new();
    for (backend, server_level) in [
        (Backend::PhpBuiltin, false),
        (Backend::Apache, false),
        (Backend::Apache, true),
        (Backend::NginxFpm, false),
    ] {
        let setup = Setup::new(backend)
            .with_extension()
            .ini("tiki_tokens.dsn", &dsn)
            .ini("display_errors", "0")
            .env("TIKI_TOKENS_GATE_DEBUG", "1")
            .env("TIKI_TOKENS_PURGE_INTERVAL", "3600")
            .workers(2)
            .front_controller(BASE, server_level);
        if !backend.runs_here(&setup.label()) {
            continue;
        }
        let path_form = if server_level { "decoded" } else { "raw" };
        let server = start(&setup);
        let tally = run_server(&server, &dsn, path_form, &differences);
        let listed = differences.keys().filter(|k| k.0 == server.label()).count();
        println!(
            "sef tokens via {} (pathForm {path_form}): {} tokens, {} checks (requests and \
             refusals), {} as wanted ({listed} listed server differences)",
            server.label(),
            CASES.len(),
            tally.checks,
            tally.as_wanted
        );
        report.push_str(&tally.report);
        ran.push(server.label().to_owned());
    }
    for (server, _, _) in differences.keys() {
        assert!(
            ["php-S", "apache", "apache+server-rewrite", "nginx-fpm"].contains(&server.as_str()),
            "sef-token-differences.txt: unknown server {server}"
        );
    }
    assert!(
        report.is_empty(),
        "SEF tokens through the servers:\n{report}"
    );
    println!("servers run: {ran:?}");
}
