//! The differential suite: real PHP is the oracle for the canonical form (SPEC section 4).
//!
//! * CLI: every query of the corpus goes through `parse_str()` in one PHP process and is compared
//!   with [`parse_query`].
//! * HTTP: PHP's built-in web server (`php -S`) answers `serialize([PHP_SELF, $_GET])`; every
//!   query, every path of the path corpus and every URL of the URL corpus is requested over a raw
//!   TCP connection and compared with [`parse_query`], [`entry_from_url_path`] and [`split_url`].
//! * Corpus: `tests/data/{query,path,url}-corpus.txt` (hand-written edge cases) plus queries from
//!   a seeded generator (deterministic). Deliberate differences are listed, with a reason, in
//!   `tests/data/expected-deviations.txt`; an unlisted deviation fails the test, and so does a
//!   listed one that no longer happens.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use testkit::php::eval_with;
use testkit::rng::Rng;
use testkit::value::{as_array, unserialize, unserialize_many};
use testkit::web::{Backend, Setup, WebServer};
use tiki_tokens::canon::path::entry_from_url_path;
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::url::{request_target, split_url};
use tiki_tokens::canon::{Key, PhpArray, TOKEN_PARAM, Value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
/// Generated queries (on top of the hand-written corpus); `PHP_ORACLE_GENERATED` overrides.
const GENERATED: usize = 2000;
/// The seed of the generator, fixed so that every run compares the same queries;
/// `PHP_ORACLE_SEED` overrides it to explore (a deviation found that way belongs in the corpus).
const SEED: u64 = 0x7469_6b69_746f_6b6e;
/// PHP's built-in server refuses a request whose head exceeds 80 KiB (`PHP_HTTP_MAX_HEADER_SIZE`).
const MAX_REQUEST: usize = 80 * 1024 - 64;
/// The script every request runs: PHP_SELF and $_GET, binary safe.
const ECHO_SCRIPT: &str = "<?php echo serialize([$_SERVER['PHP_SELF'], $_GET]);";

/// One input to compare: where it came from (its corpus line, or `gen:N`) and its bytes.
struct Case {
    label: String,
    bytes: Vec<u8>,
}

/// The outcome of comparing one case in one suite, when it deviates.
struct Deviation {
    suite: &'static str,
    label: String,
    detail: String,
}

#[test]
fn php_is_the_oracle() {
    let started = std::time::Instant::now();
    let mut queries = load_corpus("query-corpus.txt");
    let handwritten = queries.len();
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let generated = env("PHP_ORACLE_GENERATED").map_or(GENERATED, |n| n as usize);
    let seed = env("PHP_ORACLE_SEED").unwrap_or(SEED);
    queries.extend(generate_queries(generated, seed));
    let paths = load_corpus("path-corpus.txt");
    let urls = load_corpus("url-corpus.txt");

    let mut deviations = Vec::new();
    let cli = compare_cli(&queries, &mut deviations);

    let server = WebServer::start(
        "oracle",
        &Setup::new(Backend::PhpBuiltin).ini("display_errors", "0"),
    );
    let docroot = server.docroot().to_path_buf();
    write_script(&docroot, b"/o.php");
    let mut http = 0;
    let mut too_long = 0;
    for case in &queries {
        match compare_http_query(&server, case, &mut deviations) {
            Some(()) => http += 1,
            None => too_long += 1,
        }
    }
    http += compare_http_paths(&server, &docroot, &paths, &mut deviations);
    http += compare_http_urls(&server, &docroot, &urls, &mut deviations);
    drop(server);

    let expected = load_expected();
    let mut unexpected = Vec::new();
    let mut seen = BTreeMap::new();
    for d in &deviations {
        let key = (d.suite.to_owned(), d.label.clone());
        if expected.contains_key(&key) {
            seen.insert(key, ());
        } else {
            unexpected.push(d);
        }
    }
    let vanished: Vec<_> = expected.keys().filter(|k| !seen.contains_key(*k)).collect();

    println!(
        "php oracle: {cli} cases via CLI, {http} via HTTP, {} deviations ({} expected) \
         [{handwritten} hand-written + {generated} generated queries (seed {seed:#x}), {} paths, {} URLs; \
         {too_long} queries too long for an HTTP request line; {:.1} s]",
        deviations.len(),
        expected.len(),
        paths.len(),
        urls.len(),
        started.elapsed().as_secs_f64()
    );
    let mut report = String::new();
    for d in &unexpected {
        let _ = writeln!(
            report,
            "UNEXPECTED [{}] {}\n    {}",
            d.suite, d.label, d.detail
        );
    }
    for (suite, label) in &vanished {
        let _ = writeln!(
            report,
            "NO LONGER DEVIATES [{suite}] {label}: remove it from expected-deviations.txt"
        );
    }
    assert!(
        cli >= 2000 && http >= 2000,
        "too few cases: {cli} via CLI, {http} via HTTP"
    );
    assert!(report.is_empty(), "deviations from PHP:\n{report}");
}

// ---------------------------------------------------------------------------------------------
// CLI: parse_str

fn compare_cli(queries: &[Case], deviations: &mut Vec<Deviation>) -> usize {
    // Length-framed queries in, serialized arrays out, back to back.
    let mut input = Vec::new();
    for q in queries {
        input.extend_from_slice(&u32::try_from(q.bytes.len()).unwrap().to_be_bytes());
        input.extend_from_slice(&q.bytes);
    }
    let code = r#"
        $in = stream_get_contents(STDIN);
        for ($o = 0, $n = strlen($in); $o < $n; $o += $len) {
            $len = unpack('N', $in, $o)[1];
            $o += 4;
            $r = [];
            parse_str(substr($in, $o, $len), $r);
            echo serialize($r);
        }
    "#;
    let out = eval_with(&["-n", "-d", "display_errors=0"], code, &input);
    let results = unserialize_many(&out);
    assert_eq!(results.len(), queries.len(), "one result per query");
    for (q, php) in queries.iter().zip(results) {
        let ours = parse_query(&q.bytes, QueryLimits::default());
        let php = as_array(php);
        if !same_array(&ours, &php) {
            deviations.push(Deviation {
                suite: "cli-query",
                label: q.label.clone(),
                detail: format!("PHP {}\n    we  {}", show_array(&php), show_array(&ours)),
            });
        }
    }
    queries.len()
}

// ---------------------------------------------------------------------------------------------
// HTTP: $_GET and PHP_SELF from the built-in web server

/// `None` when the request would be too long for the server.
fn compare_http_query(server: &WebServer, q: &Case, deviations: &mut Vec<Deviation>) -> Option<()> {
    let mut target = b"/o.php?".to_vec();
    target.extend(wire(&q.bytes, b"#"));
    if target.len() > MAX_REQUEST {
        return None;
    }
    let ours = parse_query(&q.bytes, QueryLimits::default());
    let detail = match fetch(server, &target) {
        Ok((self_, get)) if self_ == b"/o.php" && same_array(&ours, &get) => return Some(()),
        Ok((_, get)) => format!("PHP {}\n    we  {}", show_array(&get), show_array(&ours)),
        Err(e) => e,
    };
    deviations.push(Deviation {
        suite: "http-query",
        label: q.label.clone(),
        detail,
    });
    Some(())
}

fn compare_http_paths(
    server: &WebServer,
    docroot: &Path,
    paths: &[Case],
    deviations: &mut Vec<Deviation>,
) -> usize {
    let entries: Vec<_> = paths
        .iter()
        .map(|p| entry_from_url_path(&p.bytes))
        .collect();
    for e in &entries {
        write_script(docroot, e);
    }
    for (p, entry) in paths.iter().zip(&entries) {
        let target = wire(&p.bytes, b"?#");
        let got = fetch(server, &target);
        let detail = match got {
            // No server passes a NUL to PHP: the request must be refused.
            Err(e) if entry.contains(&0) && e.starts_with("HTTP status 4") => continue,
            Ok((self_, get)) if !entry.contains(&0) && &self_ == entry && get.is_empty() => {
                continue;
            }
            Ok((self_, _)) => {
                format!(
                    "PHP_SELF {}\n    entry    {}",
                    show_bytes(&self_),
                    show_bytes(entry)
                )
            }
            Err(e) => format!("{e}; entry {}", show_bytes(entry)),
        };
        deviations.push(Deviation {
            suite: "http-path",
            label: p.label.clone(),
            detail,
        });
    }
    paths.len()
}

fn compare_http_urls(
    server: &WebServer,
    docroot: &Path,
    urls: &[Case],
    deviations: &mut Vec<Deviation>,
) -> usize {
    let mut compared = 0;
    for u in urls {
        let split = match split_url(&u.bytes) {
            Ok(s) => s,
            Err(e) => {
                let detail = format!("split_url refused it: {e}");
                deviations.push(Deviation {
                    suite: "http-url",
                    label: u.label.clone(),
                    detail,
                });
                continue;
            }
        };
        write_script(docroot, &split.entry);
        let normalised = request_target(&u.bytes).expect("split_url accepted it");
        // What a browser sends for the URL; and, when the URL's own path and query can be sent
        // unchanged, those too.
        let mut targets = vec![("http-url", normalised.into_bytes())];
        if let Some(raw) = raw_target(&u.bytes)
            && raw.iter().all(|&b| (0x21..0x7f).contains(&b))
            && raw != targets[0].1
        {
            let raw_path = raw.split(|&b| b == b'?').next().unwrap_or_default();
            write_script(docroot, &entry_from_url_path(raw_path));
            targets.push(("http-url-raw", raw));
        }
        for (suite, target) in targets {
            compared += 1;
            let detail = match fetch(server, &target) {
                Ok((self_, mut get)) => {
                    get.remove(&Key::Str(TOKEN_PARAM.to_vec()));
                    if self_ == split.entry && same_array(&get, &split.params) {
                        continue;
                    }
                    format!(
                        "target {}\n    PHP_SELF {}\n    entry    {}\n    $_GET  {}\n    params {}",
                        show_bytes(&target),
                        show_bytes(&self_),
                        show_bytes(&split.entry),
                        show_array(&get),
                        show_array(&split.params)
                    )
                }
                Err(e) => format!("target {}: {e}", show_bytes(&target)),
            };
            deviations.push(Deviation {
                suite,
                label: u.label.clone(),
                detail,
            });
        }
    }
    compared
}

/// `(PHP_SELF, $_GET)` for a request, or why there is none.
fn fetch(server: &WebServer, target: &[u8]) -> Result<(Vec<u8>, PhpArray), String> {
    let resp = server.get(target);
    if resp.status != 200 {
        return Err(format!("HTTP status {}", resp.status));
    }
    let mut pair = as_array(unserialize(&resp.body))
        .iter()
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>();
    let get = match pair.pop() {
        Some(Value::Array(a)) => a,
        other => return Err(format!("unexpected $_GET {other:?}")),
    };
    match pair.pop() {
        Some(Value::Str(s)) => Ok((s, get)),
        other => Err(format!("unexpected PHP_SELF {other:?}")),
    }
}

/// The bytes as a request line can carry them: those it cannot (controls, space, DEL,
/// non-ASCII, and the delimiters in `also`) percent-encoded, which decodes to the same byte;
/// a raw NUL ends the input (PHP reads the query as a C string, which the CLI suite checks).
fn wire(bytes: &[u8], also: &[u8]) -> Vec<u8> {
    let bytes = bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |end| &bytes[..end]);
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if b <= 0x20 || b >= 0x7f || also.contains(&b) {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// The path and query of a URL exactly as written (fragment cut off), if it has the simple shape
/// `scheme://authority/path?query` or `/path?query`.
fn raw_target(url: &[u8]) -> Option<Vec<u8>> {
    let url = url.split(|&b| b == b'#').next()?;
    if url.starts_with(b"/") {
        return Some(url.to_vec());
    }
    let after_scheme = url.windows(3).position(|w| w == b"://")? + 3;
    let slash = url[after_scheme..].iter().position(|&b| b == b'/')? + after_scheme;
    Some(url[slash..].to_vec())
}

/// Puts the echo script where `entry` names a script: at the part up to the first segment that
/// ends in `.php` (anything after is PATH_INFO). Entries without one, or with a NUL, get none.
fn write_script(docroot: &Path, entry: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    if entry.contains(&0) || !entry.starts_with(b"/") {
        return;
    }
    let mut end = None;
    let mut pos = 0;
    for seg in entry.split(|&b| b == b'/') {
        pos += seg.len();
        if seg.len() > 4 && seg.ends_with(b".php") {
            end = Some(pos);
            break;
        }
        pos += 1;
    }
    let Some(end) = end else { return };
    let rel = std::ffi::OsStr::from_bytes(&entry[1..end]);
    let file = docroot.join(rel);
    if file.is_file() {
        return;
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    }
    std::fs::write(&file, ECHO_SCRIPT).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
}

// ---------------------------------------------------------------------------------------------
// The same HTTP requests through Apache (mod_php) and nginx + PHP-FPM, compared with php -S

/// One HTTP request of `php_is_the_oracle`: its suite and label (as in
/// expected-deviations.txt), the scripts to put in place just before it, and its target.
struct Request {
    suite: &'static str,
    label: String,
    scripts: Vec<Vec<u8>>,
    target: Vec<u8>,
}

/// Every HTTP request `php_is_the_oracle` sends, built as it builds them and in its order
/// (the echo script `/o.php` first, every path's script before the first path, each URL's
/// scripts just before it).
fn http_requests(queries: &[Case], paths: &[Case], urls: &[Case]) -> Vec<Request> {
    let mut out = Vec::new();
    let mut first_scripts = vec![b"/o.php".to_vec()];
    for q in queries {
        let mut target = b"/o.php?".to_vec();
        target.extend(wire(&q.bytes, b"#"));
        if target.len() <= MAX_REQUEST {
            out.push(Request {
                suite: "http-query",
                label: q.label.clone(),
                scripts: std::mem::take(&mut first_scripts),
                target,
            });
        }
    }
    let mut path_scripts: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| entry_from_url_path(&p.bytes))
        .collect();
    for p in paths {
        out.push(Request {
            suite: "http-path",
            label: p.label.clone(),
            scripts: std::mem::take(&mut path_scripts),
            target: wire(&p.bytes, b"?#"),
        });
    }
    for u in urls {
        let Ok(split) = split_url(&u.bytes) else {
            continue;
        };
        let normalised = request_target(&u.bytes).expect("split_url accepted it");
        out.push(Request {
            suite: "http-url",
            label: u.label.clone(),
            scripts: vec![split.entry.clone()],
            target: normalised.clone().into_bytes(),
        });
        if let Some(raw) = raw_target(&u.bytes)
            && raw.iter().all(|&b| (0x21..0x7f).contains(&b))
            && raw != normalised.as_bytes()
        {
            let raw_path = raw.split(|&b| b == b'?').next().unwrap_or_default();
            out.push(Request {
                suite: "http-url-raw",
                label: u.label.clone(),
                scripts: vec![entry_from_url_path(raw_path)],
                target: raw,
            });
        }
    }
    out
}

/// What `server` answers to each request (its scripts put in place first).
fn answers(server: &WebServer, requests: &[Request]) -> Vec<Result<(Vec<u8>, PhpArray), String>> {
    requests
        .iter()
        .map(|r| {
            for entry in &r.scripts {
                write_script(server.docroot(), entry);
            }
            fetch(server, &r.target)
        })
        .collect()
}

/// `server-differences.txt`: `server<TAB>suite<TAB>label<TAB>reason` lines.
fn load_server_differences() -> BTreeMap<(String, String, String), String> {
    let path = format!("{DATA}/server-differences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(4, '\t').collect();
        let [server, suite, label, reason] = parts[..] else {
            panic!(
                "{path}:{}: expected server<TAB>suite<TAB>label<TAB>reason",
                n + 1
            );
        };
        assert!(!reason.trim().is_empty(), "{path}:{}: give a reason", n + 1);
        map.insert((server.into(), suite.into(), label.into()), reason.into());
    }
    map
}

/// The HTTP requests of `php_is_the_oracle` (queries, paths, URLs) through Apache with mod_php
/// and nginx with PHP-FPM (each serving the same echo script; no rewriting): `PHP_SELF` and
/// `$_GET` (or the HTTP status when there is no answer) must be what `php -S` gives, except
/// the differences listed per server in `tests/data/server-differences.txt`, each with its
/// reason; an unlisted difference fails, and so does a listed one that no longer happens.
/// A server is skipped only when its programs are missing, with the reason printed.
#[test]
fn apache_and_nginx_answer_as_php_s() {
    let mut queries = load_corpus("query-corpus.txt");
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let generated = env("PHP_ORACLE_GENERATED").map_or(GENERATED, |n| n as usize);
    queries.extend(generate_queries(
        generated,
        env("PHP_ORACLE_SEED").unwrap_or(SEED),
    ));
    let requests = http_requests(
        &queries,
        &load_corpus("path-corpus.txt"),
        &load_corpus("url-corpus.txt"),
    );
    let setup = |b| Setup::new(b).ini("display_errors", "0").workers(2);
    let reference = answers(
        &WebServer::start("servers", &setup(Backend::PhpBuiltin)),
        &requests,
    );
    let expected = load_server_differences();
    let mut found = BTreeMap::new();
    let mut compared = Vec::new();
    for backend in [Backend::Apache, Backend::NginxFpm] {
        if !backend.runs_here(backend.name()) {
            continue;
        }
        let server = WebServer::start("servers", &setup(backend));
        let got = answers(&server, &requests);
        let mut same = 0;
        for ((r, theirs), ours) in requests.iter().zip(&got).zip(&reference) {
            let agree = match (theirs, ours) {
                (Ok((s1, g1)), Ok((s2, g2))) => s1 == s2 && same_array(g1, g2),
                (Err(e1), Err(e2)) => e1 == e2,
                _ => false,
            };
            if agree {
                same += 1;
                continue;
            }
            let show = |a: &Result<(Vec<u8>, PhpArray), String>| match a {
                Ok((s, g)) => format!("PHP_SELF {} $_GET {}", show_bytes(s), show_array(g)),
                Err(e) => e.clone(),
            };
            let detail = format!(
                "target {}\n    {}: {}\n    php -S: {}",
                show_bytes(&r.target),
                server.label(),
                show(theirs),
                show(ours)
            );
            found.insert(
                (
                    server.label().to_owned(),
                    r.suite.to_owned(),
                    r.label.clone(),
                ),
                detail,
            );
        }
        println!(
            "servers: {} answered {same} of {} requests as php -S, {} differently",
            server.label(),
            requests.len(),
            requests.len() - same
        );
        compared.push(server.label().to_owned());
    }
    let mut report = String::new();
    for (key, detail) in &found {
        if !expected.contains_key(key) {
            let _ = writeln!(
                report,
                "UNEXPECTED [{}] [{}] {}\n    {detail}",
                key.0, key.1, key.2
            );
        }
    }
    for key in expected.keys() {
        if compared.contains(&key.0) && !found.contains_key(key) {
            let _ = writeln!(
                report,
                "NO LONGER DIFFERS [{}] [{}] {}: remove it from server-differences.txt",
                key.0, key.1, key.2
            );
        }
    }
    assert!(report.is_empty(), "servers differ from php -S:\n{report}");
}

// ---------------------------------------------------------------------------------------------
// Comparison and display

/// Same entries in the same order, recursively (PHP arrays are ordered; `json_encode` and
/// `http_build_query` write that order).
fn same_array(a: &PhpArray, b: &PhpArray) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| {
            ka == kb
                && match (va, vb) {
                    (Value::Array(x), Value::Array(y)) => same_array(x, y),
                    (Value::Str(x), Value::Str(y)) => x == y,
                    _ => false,
                }
        })
}

fn show_array(a: &PhpArray) -> String {
    let mut s = String::from("[");
    for (i, (k, v)) in a.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if i == 12 {
            let _ = write!(s, "… {} more", a.len() - i);
            break;
        }
        match k {
            Key::Int(n) => {
                let _ = write!(s, "{n}");
            }
            Key::Str(b) => s.push_str(&show_bytes(b)),
        }
        s.push_str(" => ");
        match v {
            Value::Array(x) => s.push_str(&show_array(x)),
            Value::Str(b) => s.push_str(&show_bytes(b)),
            other => {
                let _ = write!(s, "{other:?}");
            }
        }
    }
    s.push(']');
    s
}

/// Bytes as a quoted string with the corpus escapes, shortened when long.
fn show_bytes(b: &[u8]) -> String {
    let shown = &b[..b.len().min(80)];
    let mut s = format!("\"{}\"", escape(shown));
    if b.len() > shown.len() {
        let _ = write!(s, "…({} bytes)", b.len());
    }
    s
}

fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            0x21..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Corpus files

fn load_corpus(name: &str) -> Vec<Case> {
    let path = format!("{DATA}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(n, l)| Case {
            label: l.to_owned(),
            bytes: unescape(l).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1)),
        })
        .collect()
}

/// The corpus escapes: `\\`, `\xNN`, `\e` (nothing), `\{N}…\}` (repeat, `\i` = repetition).
fn unescape(line: &str) -> Result<Vec<u8>, String> {
    fn plain(s: &[u8], index: Option<usize>, out: &mut Vec<u8>) -> Result<(), String> {
        let mut i = 0;
        while i < s.len() {
            if s[i] != b'\\' {
                out.push(s[i]);
                i += 1;
                continue;
            }
            match s.get(i + 1) {
                Some(b'\\') => out.push(b'\\'),
                Some(b'e') => {}
                Some(b'i') => match index {
                    Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
                    None => return Err("\\i outside \\{N}…\\}".into()),
                },
                Some(b'x') => {
                    let hex = s.get(i + 2..i + 4).ok_or("truncated \\x")?;
                    let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                    out.push(u8::from_str_radix(hex, 16).map_err(|e| format!("\\x{hex}: {e}"))?);
                    i += 2;
                }
                other => {
                    return Err(format!(
                        "unknown escape \\{:?}",
                        other.map(|&c| char::from(c))
                    ));
                }
            }
            i += 2;
        }
        Ok(())
    }
    let s = line.as_bytes();
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.windows(2).position(|w| w == b"\\{") {
        // A `\{` preceded by an escaped backslash is not a repeat.
        let backslashes = rest[..open]
            .iter()
            .rev()
            .take_while(|&&c| c == b'\\')
            .count();
        if backslashes % 2 == 1 {
            return Err("ambiguous \\\\{: write \\x5c{".into());
        }
        plain(&rest[..open], None, &mut out)?;
        let body = &rest[open + 2..];
        let close_n = body
            .iter()
            .position(|&c| c == b'}')
            .ok_or("unclosed \\{N}")?;
        let n: usize = std::str::from_utf8(&body[..close_n])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or("bad repeat count")?;
        let body = &body[close_n + 1..];
        let end = body
            .windows(2)
            .position(|w| w == b"\\}")
            .ok_or("unclosed \\{N}…\\}")?;
        for k in 0..n {
            plain(&body[..end], Some(k), &mut out)?;
        }
        rest = &body[end + 2..];
    }
    plain(rest, None, &mut out)?;
    Ok(out)
}

/// `expected-deviations.txt`: `suite<TAB>label<TAB>reason` lines.
fn load_expected() -> BTreeMap<(String, String), String> {
    let path = format!("{DATA}/expected-deviations.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let (Some(suite), Some(label), Some(reason)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("{path}:{}: expected suite<TAB>label<TAB>reason", n + 1);
        };
        assert!(!reason.trim().is_empty(), "{path}:{}: give a reason", n + 1);
        map.insert((suite.to_owned(), label.to_owned()), reason.to_owned());
    }
    map
}

// ---------------------------------------------------------------------------------------------
// Generated queries

const NAME_ATOMS: &[&[u8]] = &[
    b"a",
    b"a",
    b"a",
    b"b",
    b"b",
    b"c",
    b"page",
    b"TOKEN",
    b"token",
    b"x.y",
    b"x y",
    b"x+y",
    b"_",
    b".",
    b" ",
    b"+",
    b"%20",
    b"%2e",
    b"%2E",
    b"%5B",
    b"%5D",
    b"%5b%5d",
    b"0",
    b"1",
    b"01",
    b"-1",
    b"-0",
    b"9223372036854775807",
    b"9223372036854775808",
    b"%41",
    b"%61",
    b"%00",
    b"%",
    b"%4",
    b"%zz",
    b"\xc3\xa9",
    b"%C3%A9",
    b"\xff",
    b"%FF",
    b"__Host-",
    b"_.Host-",
    b"__Secure-",
    b"..Secure-",
    b"[",
    b"]",
    b"=",
    b"%3D",
    b"%26",
    b"\t",
    b"%09",
    b";",
];
const KEY_ATOMS: &[&[u8]] = &[
    b"",
    b"",
    b"",
    b"0",
    b"1",
    b"01",
    b"-1",
    b"x",
    b"y",
    b" ",
    b"  ",
    b" 0",
    b"0 ",
    b"%20",
    b"+",
    b"%09",
    b"%0A",
    b"\t",
    b".",
    b"x.y",
    b"x y",
    b"[",
    b"%5B",
    b"%5D",
    b"\xc3\xa9",
    b"%FF",
    b"%00",
    b"9223372036854775807",
    b"TOKEN",
];
const VALUE_ATOMS: &[&[u8]] = &[
    b"",
    b"1",
    b"x",
    b"Home",
    b"%2c",
    b"%2C",
    b"%26",
    b"%3D",
    b"%23",
    b"%2526",
    b"%25",
    b"+",
    b"%20",
    b"%2B",
    b"%",
    b"%g1",
    b"%4",
    b"\xc3\xa9",
    b"%C3%A9",
    b"\xff\xfe",
    b"%FF",
    b"%00",
    b"=",
    b"a=b",
    b";",
    b"%0A",
    b" ",
    b"[]",
    b"\\",
    b"\"'<>",
    b"%e2%82%ac",
    b"\xc0\xaf",
];
const SEPARATORS: &[&[u8]] = &[b"&", b"&", b"&", b"&", b"&", b"&&", b";", b"&;", b"&=&"];
const TIKI_NAMES: &[&[u8]] = &[
    b"page",
    b"trackerId",
    b"itemId",
    b"fileId",
    b"galleryId",
    b"controller",
    b"action",
    b"listfields[]",
    b"filter[status]",
    b"filter[categories][]",
    b"sort_mode",
    b"offset",
    b"TOKEN",
    b"display",
    b"structure",
    b"fields[title]",
];
const TIKI_VALUES: &[&[u8]] = &[
    b"HomePage",
    b"Home+Page",
    b"Home%20Page",
    b"3",
    b"03",
    b"12",
    b"tracker",
    b"export_items",
    b"created_desc",
    b"0",
    b"",
    b"a%2Cb",
    b"%2526",
    b"e2990f7983b7b6c46b3987536aa38d32",
    b"%C3%A9t%C3%A9",
];

fn generate_queries(n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let bytes = if i % 4 == 3 {
                tiki_query(&mut rng)
            } else {
                odd_query(&mut rng)
            };
            Case {
                label: format!("gen:{i}"),
                bytes,
            }
        })
        .collect()
}

fn odd_query(rng: &mut Rng) -> Vec<u8> {
    let mut q = Vec::new();
    if rng.chance(10) {
        q.extend_from_slice(rng.pick_bytes(SEPARATORS));
    }
    let pairs = rng.below(9);
    for p in 0..pairs {
        if p > 0 {
            q.extend_from_slice(rng.pick_bytes(SEPARATORS));
        }
        for _ in 0..1 + rng.below(3) {
            q.extend_from_slice(rng.pick_bytes(NAME_ATOMS));
        }
        if rng.chance(45) {
            let depth = if rng.chance(5) {
                62 + rng.below(5)
            } else {
                1 + rng.below(4)
            };
            for _ in 0..depth {
                q.push(b'[');
                q.extend_from_slice(rng.pick_bytes(KEY_ATOMS));
                if !rng.chance(7) {
                    q.push(b']');
                }
            }
            if rng.chance(10) {
                q.extend_from_slice(rng.pick_bytes(NAME_ATOMS));
            }
        }
        if rng.chance(85) {
            q.push(b'=');
            for _ in 0..rng.below(4) {
                q.extend_from_slice(rng.pick_bytes(VALUE_ATOMS));
            }
        }
    }
    if rng.chance(10) {
        q.extend_from_slice(rng.pick_bytes(SEPARATORS));
    }
    q
}

fn tiki_query(rng: &mut Rng) -> Vec<u8> {
    let mut q = Vec::new();
    for p in 0..1 + rng.below(10) {
        if p > 0 {
            q.push(b'&');
        }
        q.extend_from_slice(rng.pick_bytes(TIKI_NAMES));
        q.push(b'=');
        q.extend_from_slice(rng.pick_bytes(TIKI_VALUES));
    }
    q
}

#[test]
fn corpus_escapes_read_as_documented() {
    assert_eq!(unescape(r"a=\x20b\\c").unwrap(), b"a= b\\c");
    assert_eq!(unescape(r"\e").unwrap(), b"");
    assert_eq!(unescape(r"x\{3}v\i&\}y").unwrap(), b"xv0&v1&v2&y");
    assert_eq!(unescape(r"a\{2}[x]\}=1").unwrap(), b"a[x][x]=1");
    assert!(unescape(r"\q").is_err());
    assert!(unescape(r"\{2}x").is_err());
}
