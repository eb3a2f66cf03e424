//! The PHP-level tests: every file of `php/tests/` runs through real PHP with the built extension
//! (`TIKI_TOKENS_EXT`), each with a fresh database of its own, and must end with
//! `N passed, 0 failed`. Plus: the IDE stubs match the loaded extension (reflection), and
//! `phpinfo()` shows neither the DSN password nor the signing secret.

use std::collections::BTreeSet;
use std::time::Duration;
use testkit::web::{Backend, Setup, WebServer};
use testkit::{db, ext};

/// Runs `php/tests/<file>` and checks its closing line.
fn run_php_test(file: &str) {
    let dsn = db::fresh_database(&format!("php_{}", file.trim_end_matches(".php")));
    let repo = testkit::repo();
    let path = repo.join("php/tests").join(file);
    let repo_text = repo.to_str().expect("UTF-8 repository path");
    let extension = ext::extension();
    let run = ext::run_test_file(
        &path,
        &[("tiki_tokens.dsn", &dsn)],
        &[
            ("TIKI_TOKENS_TEST_DB", &dsn),
            ("TIKI_TOKENS_REPO", repo_text),
            (
                "TIKI_TOKENS_EXT",
                extension.to_str().expect("UTF-8 extension path"),
            ),
        ],
    );
    let last = run.stdout.lines().last().unwrap_or("").to_string();
    let counts: Option<(u32, u32)> = last
        .strip_suffix(" failed")
        .and_then(|s| s.split_once(" passed, "))
        .and_then(|(p, f)| Some((p.parse().ok()?, f.parse().ok()?)));
    let failures: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    assert!(
        run.status.success() && matches!(counts, Some((p, 0)) if p > 0),
        "{file}: {last}\n{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        failures.join("\n"),
        run.stdout,
        run.stderr
    );
    // secrets.php checks what it sees itself; what reached stdout and stderr (warnings, notices,
    // anything printed) is checked here.
    if file == "secrets.php" {
        for secret in SECRETS_PHP_SECRETS {
            for (name, out) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                assert!(
                    !out.contains(secret),
                    "{file}: {name} shows the secret {secret:?}:\n{out}"
                );
            }
        }
    }
    eprintln!("{file}: {last}");
}

/// The secrets `php/tests/secrets.php` configures (password, its prefix, option and stored
/// secret), which must never reach its output.
const SECRETS_PHP_SECRETS: [&str; 4] = [
    "Pw-Secret-9137",
    "Opt-Secret-5521",
    "test-auth-token-secret",
    "Pw-Secret-9137%2Fx%40y%3Az%25",
];

macro_rules! php_test_files {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_php_test($file);
            }
        )*

        /// Every PHP test file has its #[test] above (a new file cannot be forgotten).
        #[test]
        fn every_php_test_file_is_run() {
            let listed: BTreeSet<&str> = [$($file),*].into_iter().collect();
            let on_disk: BTreeSet<String> = std::fs::read_dir(testkit::repo().join("php/tests"))
                .expect("php/tests")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".php"))
                .collect();
            let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
            assert_eq!(listed, on_disk, "php/tests/*.php and the list in tests/php_api.rs differ");
        }
    };
}

php_test_files! {
    native_api => "native_api.php",
    bad_input => "bad_input.php",
    tiki_suite => "tiki_suite.php",
    auth_tokens => "auth_tokens.php",
    auth_tokens_in_tiki => "auth_tokens_in_tiki.php",
    secrets => "secrets.php",
    fuzz_boundary => "fuzz_boundary.php",
    live_site => "live_site.php",
    edit_tokens => "edit_tokens.php",
}

/// One line per class, method, parameter, property and function, as PHP's reflection sees them,
/// either of the loaded extension or of the stub file (loaded without the extension).
fn reflect(of_stub: bool) -> BTreeSet<String> {
    let script = testkit::repo().join("php/tests/lib/reflect.php");
    let stub = testkit::repo().join("php/stubs/tiki_tokens.stub.php");
    let script = script.to_str().expect("UTF-8 path");
    let stub = stub.to_str().expect("UTF-8 path");
    let run = if of_stub {
        // Without the extension: the stub declares the classes itself.
        let out = testkit::php::command()
            .args(["-n", script, "stub", stub])
            .output()
            .expect("run php");
        ext::PhpRun {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    } else {
        ext::run(&[script, "ext"], &[], &[], Duration::from_secs(60))
    };
    assert!(
        run.status.success(),
        "reflect.php failed: {}\n{}",
        run.stdout,
        run.stderr
    );
    run.stdout.lines().map(str::to_string).collect()
}

#[test]
fn stubs_match_the_extension() {
    let ext = reflect(false);
    let stub = reflect(true);
    assert!(
        ext.iter().any(|l| l.starts_with("class TikiTokens\\Store")),
        "no Store class in {ext:?}"
    );
    assert!(ext.len() > 40, "too little reflected: {ext:?}");
    let missing: Vec<&String> = ext.difference(&stub).collect();
    let extra: Vec<&String> = stub.difference(&ext).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the stub differs from the extension\nin the extension, not in the stub:\n  {}\nin the stub, not in the extension:\n  {}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        extra
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    eprintln!("stubs: {} reflected items match", ext.len());
}

/// `php --ri tiki_tokens` and `php -i` with a DSN that holds a password, and with a working DSN
/// whose database stores a signing secret: neither the password nor the secret appears.
#[test]
fn phpinfo_shows_neither_password_nor_secret() {
    const PASSWORD: &str = "Pw-Never-Shown-7731";
    const SECRET: &str = "test-auth-token-secret";
    let dsn = db::fresh_database("phpinfo");
    db::run_sql(&dsn, db::TRUNK_SQL);
    let secret_in_db: String = {
        use mysql::prelude::Queryable;
        let mut conn = db::connect(&dsn);
        conn.query_first("SELECT value FROM tiki_preferences WHERE name = 'auth_token_secret'")
            .expect("query")
            .expect("the trunk table seeds a secret")
    };
    assert_eq!(secret_in_db, SECRET);

    // A password in the DSN (root has none here, so the connection is refused), in the user
    // info or as a query parameter.
    let with_password = dsn.replacen("root@", &format!("root:{PASSWORD}@"), 1);
    assert_ne!(with_password, dsn, "DSN without root@: {dsn}");
    let sep = if dsn.contains('?') { '&' } else { '?' };
    let in_query = format!("{dsn}{sep}password={PASSWORD}");
    for (bad, masked) in [(&with_password, "root:***@"), (&in_query, "password=***")] {
        for args in [&["--ri", "tiki_tokens"][..], &["-i"][..]] {
            let run = ext::run(
                args,
                &[("tiki_tokens.dsn", bad)],
                &[],
                Duration::from_secs(60),
            );
            assert!(run.status.success(), "{args:?}: {}", run.stderr);
            assert!(
                run.stdout.contains("tiki_tokens support"),
                "{args:?}: no section:\n{}",
                run.stdout
            );
            assert!(
                run.stdout.contains(masked),
                "{args:?}: the masked DSN is missing:\n{}",
                run.stdout
            );
            for out in [&run.stdout, &run.stderr] {
                assert!(
                    !out.contains(PASSWORD),
                    "{args:?} shows the password:\n{out}"
                );
            }
        }
    }

    // A working DSN: the scheme is shown, the secret is not.
    for args in [&["--ri", "tiki_tokens"][..], &["-i"][..]] {
        let run = ext::run(
            args,
            &[("tiki_tokens.dsn", &dsn)],
            &[],
            Duration::from_secs(60),
        );
        assert!(run.status.success(), "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.contains("token scheme => signed"),
            "{args:?}: scheme missing:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("connection state"),
            "{args:?}: state missing:\n{}",
            run.stdout
        );
        for out in [&run.stdout, &run.stderr] {
            assert!(!out.contains(SECRET), "{args:?} shows the secret:\n{out}");
        }
    }

    // Tiki 24's table: legacy tokens and the loud warning.
    let legacy = db::fresh_database("phpinfo_legacy");
    db::run_sql(&legacy, db::TIKI24_SQL);
    let run = ext::run(
        &["--ri", "tiki_tokens"],
        &[("tiki_tokens.dsn", &legacy)],
        &[],
        Duration::from_secs(60),
    );
    assert!(
        run.stdout.contains("token scheme => legacy"),
        "legacy scheme missing:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("WARNING => tiki_auth_tokens has not been migrated"),
        "warning missing:\n{}",
        run.stdout
    );
}

/// `php --ri tiki_tokens` and `php -i` with DSNs that do not parse because their passwords hold
/// the URL's own delimiters: no part of the password is shown (the one redactor shows no DSN it
/// cannot parse), and neither is it on stderr.
#[test]
fn phpinfo_never_shows_the_password_of_an_unparsable_dsn() {
    for (dsn, pieces) in [
        (
            "mysql://u:Pa/ss-Unparsable-41@h/db",
            &["Pa/ss", "ss-Unparsable-41"][..],
        ),
        (
            "mysql://u:P@ss:W0rd?x-Unparsable-42@h/db",
            &["ss:W0rd", "W0rd?x-Unparsable-42"][..],
        ),
    ] {
        for args in [&["--ri", "tiki_tokens"][..], &["-i"][..]] {
            let run = ext::run(
                args,
                &[("tiki_tokens.dsn", dsn)],
                &[],
                Duration::from_secs(60),
            );
            assert!(run.status.success(), "{args:?}: {}", run.stderr);
            assert!(
                run.stdout
                    .contains("DSN (tiki_tokens.dsn) => <a DSN that does not parse>"),
                "{args:?}: the DSN row is missing:\n{}",
                run.stdout
            );
            for piece in pieces {
                for out in [&run.stdout, &run.stderr] {
                    assert!(!out.contains(piece), "{args:?} shows {piece:?}:\n{out}");
                }
            }
        }
    }
}

/// The ids of the server connections open on `db`.
fn connection_ids(dsn: &str, db: &str) -> BTreeSet<u64> {
    use mysql::prelude::Queryable;
    let mut conn = db::connect(dsn);
    conn.exec(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
        (db,),
    )
    .expect("processlist")
    .into_iter()
    .collect()
}

/// One pool per PHP process, reused across requests: five requests to `php -S` (one process),
/// each making `new TikiTokens\Store()` and a lookup, use the same server connection.
#[test]
fn one_pool_per_process_across_requests() {
    let dsn = db::fresh_database("pool_reuse");
    db::run_sql(&dsn, db::TIKI24_SQL);
    db::run_sql(&dsn, db::FIXTURE_SQL);
    db::run_sql(
        &dsn,
        "UPDATE tiki_auth_tokens SET hits = -1 WHERE tokenId = 3;",
    );
    let db_name = dsn
        .rsplit_once('/')
        .map(|(_, d)| d.split('?').next().unwrap_or(d))
        .expect("db name")
        .to_string();

    let setup = Setup::new(Backend::PhpBuiltin)
        .with_extension()
        .ini("tiki_tokens.dsn", &dsn);
    let mut server = WebServer::start("pool_reuse", &setup);
    std::fs::write(
        server.docroot().join("index.php"),
        "<?php $s = new TikiTokens\\Store(); \
         $r = $s->lookup('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []); \
         echo get_class($r), ' ', getmypid();",
    )
    .expect("index.php");

    let mut seen: Option<(String, BTreeSet<u64>)> = None;
    for i in 0..5 {
        let body = String::from_utf8_lossy(&server.get(b"/index.php").body).into_owned();
        let (class, pid) = body.split_once(' ').unwrap_or_else(|| {
            // Say whether php -S died (a crash would be a bug of the extension) and what it logged.
            std::thread::sleep(Duration::from_millis(200));
            let status = server.exited();
            let log = server.log_text();
            panic!("request {i}: {body:?}; php -S status {status:?}; its log:\n{log}")
        });
        assert_eq!(class, "TikiTokens\\Grant", "request {i}: {body}");
        let ids = connection_ids(&dsn, &db_name);
        assert!(
            !ids.is_empty(),
            "request {i}: no connection of the pool is open"
        );
        match &seen {
            None => seen = Some((pid.to_string(), ids)),
            Some((first_pid, first_ids)) => {
                assert_eq!(
                    pid, first_pid,
                    "php -S serves every request from one process"
                );
                assert_eq!(
                    &ids, first_ids,
                    "request {i} used other connections: a new pool?"
                );
            }
        }
    }
}
