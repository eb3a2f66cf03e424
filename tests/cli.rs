//! The admin command `tiki-tokens` (built with `--features cli`), run as a process against the
//! throw-away MariaDB: every subcommand with and without `--json`, the discovery of the
//! database (flag, environment, PHP's INI read by real PHP with the extension, a Tiki site's
//! `db/local.php` compared with `php/AuthTokens.php` itself), bad input (a clear message, the
//! documented exit code, nothing written), an unreachable database, the doctor, and never a
//! password or the signing secret in any output.

use mysql::prelude::Queryable;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::db::*;
use tiki_tokens::canon::url::split_url;
use tiki_tokens::store::redact;

const BIN: &str = env!("CARGO_BIN_EXE_tiki-tokens");

/// What one run printed, and its exit code.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// stdout as JSON.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// An empty directory under target/ (PHP's INI scan dir, PHP's conf root, Tiki roots).
fn temp_dir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("cli-tests")
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the command with a clean environment for discovery: no `TIKI_TOKENS_DSN`, PHP's INI
/// scan directory and PHP's configuration root empty (so the machine's PHP set-up plays no
/// part), then `env` on top.
fn tt(args: &[&str], env: &[(&str, &str)]) -> Run {
    let empty = temp_dir("empty");
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("TIKI_TOKENS_DSN")
        .env_remove("TIKI_TOKENS_PHP")
        .env_remove("TIKI_VIRTUAL")
        .env("PHP_INI_SCAN_DIR", &empty)
        .env("TIKI_TOKENS_PHP_CONF", &empty);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tiki-tokens");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the command on `dsn` (through `--dsn`).
fn on(dsn: &str, args: &[&str]) -> Run {
    let mut all = vec!["--dsn", dsn];
    all.extend_from_slice(args);
    tt(&all, &[])
}

fn row_count(dsn: &str) -> i64 {
    query_value(dsn, "SELECT COUNT(*) FROM tiki_auth_tokens").unwrap()
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn help_lists_every_subcommand_and_the_exit_codes() {
    let help = tt(&["--help"], &[]);
    ok(&help);
    for word in [
        "mint",
        "list",
        "show",
        "edit",
        "revoke",
        "purge",
        "migrate",
        "rotate-secret",
        "doctor",
        "config",
        "Exit codes:",
        "4  the database cannot be reached",
    ] {
        assert!(help.stdout.contains(word), "{word}: {}", help.stdout);
    }
    assert_eq!(tt(&[], &[]).code, 2, "no subcommand is a usage error");
    let no_group = tt(&["--dsn", "mysql://u@h/d", "mint", "/x.php"], &[]);
    assert_eq!(no_group.code, 2, "{no_group:?}");
    assert!(no_group.stderr.contains("--group"), "{no_group:?}");
}

#[test]
fn mint_list_show_revoke_on_every_table() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("cli_mint", variant, engine);
        let url = "https://site.example/tiki/tiki-index.php?page=Home%20Page&x[]=1&x[]=2#top";
        let minted = on(
            &dsn,
            &[
                "--json",
                "mint",
                url,
                "-g",
                "Registered",
                "--group",
                "Editors",
                "--hits",
                "3",
            ],
        );
        ok(&minted);
        let m = minted.json();
        let token = m["token"].as_str().unwrap().to_string();
        let id = m["tokenId"].as_i64().unwrap();
        let signed = variant != Variant::Tiki24;
        assert_eq!(m["scheme"], if signed { "signed" } else { "legacy" }, "{m}");
        assert_eq!(token.len(), if signed { 64 } else { 32 });
        assert_eq!(m["row"]["hits"], 3);
        assert_eq!(m["row"]["groups"], r#"["Registered","Editors"]"#);
        // The URL it printed opens with the token's groups, as a request would.
        let printed = m["url"].as_str().unwrap();
        assert!(
            printed.ends_with(&format!("TOKEN={token}#top")),
            "{printed}"
        );
        let split = split_url(printed.as_bytes()).unwrap();
        let grant = store(&dsn)
            .lookup(token.as_bytes(), &split.entry, &split.params)
            .expect("the minted URL is granted");
        assert_eq!(grant.groups, ["Registered", "Editors"]);
        // Without --json: the URL alone on stdout, the rest on stderr.
        let plain = on(&dsn, &["mint", "/tiki/tiki-index.php?page=B", "-g", "G"]);
        ok(&plain);
        assert_eq!(plain.stdout.lines().count(), 1, "{plain:?}");
        assert!(
            plain
                .stdout
                .starts_with("/tiki/tiki-index.php?page=B&TOKEN=")
        );
        assert!(plain.stderr.contains("10 hits"), "{plain:?}");

        let listed = on(&dsn, &["list", "--json"]).json();
        assert_eq!(listed["count"], 2);
        assert_eq!(listed["tokens"][0]["tokenId"], id);
        assert_eq!(listed["tokens"][0]["token"], token.as_str());
        let table = on(&dsn, &["list"]);
        ok(&table);
        assert!(table.stdout.starts_with("ID"), "{table:?}");
        assert!(table.stdout.contains(&format!("{}…", &token[..8])));
        assert!(!table.stdout.contains(&token), "the table shortens tokens");

        let by_id = on(&dsn, &["show", &id.to_string(), "--json"]).json();
        let by_token = on(&dsn, &["show", &token, "--json"]).json();
        assert_eq!(by_id, by_token);
        assert_eq!(by_id["entry"], "/tiki/tiki-index.php");
        let shown = on(&dsn, &["show", &id.to_string()]);
        assert!(
            shown.stdout.contains("hits:       2 of 3 left"),
            "{shown:?}"
        );

        let revoked = on(&dsn, &["revoke", &id.to_string(), "--json"]);
        ok(&revoked);
        assert_eq!(revoked.json()["revoked"], 1);
        assert_eq!(row_count(&dsn), 1);
        ok(&on(&dsn, &["revoke", "--all"]));
        assert_eq!(row_count(&dsn), 0, "{variant:?} {engine:?}");
    }
}

#[test]
fn bad_input_is_refused_with_its_exit_code_and_writes_nothing() {
    let dsn = table_database("cli_bad", Variant::Tiki24, Engine::InnoDb);
    let (kept, _) = tiki24_mint(&dsn, &TikiRow::default());
    let cases: [(&[&str], i32, &str); 10] = [
        (
            &["mint", "http://[oops/x.php", "-g", "G"],
            2,
            "cannot use this URL",
        ),
        (
            &["mint", "ftp://h/x.php", "-g", "G"],
            2,
            "not http or https",
        ),
        (
            &["mint", "/x.php", "-g", "G", "--hits", "-5"],
            2,
            "hits must be",
        ),
        (
            &["mint", &format!("/{}.php", "e".repeat(60)), "-g", "G"],
            2,
            "entry",
        ),
        (
            &["mint", "/x.php?TOKEN=1", "-g", "G", "--max-hits", "0"],
            3,
            "maximum hits",
        ),
        (
            &["revoke", "99", &kept.to_string()],
            1,
            "no token with id 99: nothing revoked",
        ),
        (&["revoke", "abc"], 2, "invalid value"),
        (&["show", "99"], 1, "no token with id 99"),
        (
            &["show", "0123456789abcdef0123456789abcdeX"],
            2,
            "expected a tokenId",
        ),
        (&["show", &"a".repeat(32)], 1, "no token has this value"),
    ];
    for (args, code, message) in cases {
        let run = on(&dsn, args);
        assert_eq!(run.code, code, "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {run:?}");
        assert_eq!(row_count(&dsn), 1, "{args:?} wrote something");
        assert!(!run.stdout.contains("TOKEN="), "{args:?}: {run:?}");
    }
    // With --json the error is JSON on stdout, with the same code.
    let run = on(&dsn, &["--json", "revoke", "99"]);
    assert_eq!(run.code, 1);
    let e = run.json();
    assert_eq!(e["error"]["exit"], 1);
    assert_eq!(e["error"]["kind"], "not_found");
    assert!(e["error"]["message"].as_str().unwrap().contains("99"));
    // A missing table: exit 5.
    let empty = fresh_database("cli_notable");
    let run = on(&empty, &["list"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stderr.contains("tiki_auth_tokens"), "{run:?}");
}

#[test]
fn an_unreachable_database_is_exit_4_and_never_shows_the_password() {
    let dsn = "mysql://tiki:Hunter2-never-shown@127.0.0.1:1/tiki";
    for args in [
        &["list"][..],
        &["mint", "/x.php", "-g", "G"],
        &["purge"],
        &["--json", "show", "5"],
        &["doctor"],
        &["doctor", "--json"],
        &["config"],
    ] {
        let started = std::time::Instant::now();
        let run = on(dsn, args);
        assert!(!run.all().contains("Hunter2"), "{args:?}: {run:?}");
        if args[0] == "config" {
            ok(&run);
            assert!(
                run.stdout.contains("mysql://tiki:***@127.0.0.1:1/tiki"),
                "{run:?}"
            );
            continue;
        }
        assert_eq!(run.code, 4, "{args:?}: {run:?}");
        assert!(
            run.all().contains("tiki:***@127.0.0.1:1"),
            "{args:?}: {run:?}"
        );
        assert!(
            started.elapsed().as_secs() < 10,
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    // A DSN that does not parse is not shown at all (where its password is cannot be told).
    let run = tt(&["--dsn", "mysql://u:pa/ss@h/db", "list"], &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!run.all().contains("pa/ss"), "{run:?}");
}

#[test]
fn no_configuration_is_exit_3() {
    let run = tt(&["list"], &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("no database configured"), "{run:?}");
    let doctor = tt(&["doctor", "--json"], &[]);
    assert_eq!(doctor.code, 3, "{doctor:?}");
    assert_eq!(doctor.json()["findings"][0]["check"], "config");
}

/// A PHP INI scan directory that loads the built extension with `tiki_tokens.dsn`.
fn ini_dir_with_dsn(dsn: &str) -> PathBuf {
    let dir = temp_dir("ini");
    std::fs::write(
        dir.join("tiki_tokens.ini"),
        format!(
            "extension={}\ntiki_tokens.dsn=\"{dsn}\"\n",
            testkit::ext::extension().display()
        ),
    )
    .unwrap();
    dir
}

#[test]
fn the_database_comes_from_the_flag_the_environment_or_phps_ini_in_that_order() {
    let (a, b, c) = (
        "mysql://a@127.0.0.1:1/flag",
        "mysql://b@127.0.0.1:1/env",
        "mysql://c@127.0.0.1:1/ini",
    );
    let ini = ini_dir_with_dsn(c);
    let ini = ini.to_str().unwrap();
    let source = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["config", "--json"];
        all.extend_from_slice(args);
        let run = tt(&all, env);
        ok(&run);
        let v = run.json();
        (
            v["dsn"].as_str().unwrap().to_string(),
            v["source"].as_str().unwrap().to_string(),
        )
    };
    let all_three = [("TIKI_TOKENS_DSN", b), ("PHP_INI_SCAN_DIR", ini)];
    assert_eq!(source(&["--dsn", a], &all_three), (a.into(), "flag".into()));
    assert_eq!(source(&[], &all_three), (b.into(), "env".into()));
    assert_eq!(
        source(&[], &[("PHP_INI_SCAN_DIR", ini)]),
        (c.into(), "ini".into())
    );
    // Another PHP binary by TIKI_TOKENS_PHP; none at all: no INI source.
    let missing_php = tt(
        &["config"],
        &[
            ("PHP_INI_SCAN_DIR", ini),
            ("TIKI_TOKENS_PHP", "/nonexistent/php"),
        ],
    );
    assert_eq!(missing_php.code, 3, "{missing_php:?}");
}

/// The DSN `php/AuthTokens.php` builds from the `db/local.php` under `root`.
fn php_dsn_from_local(root: &Path) -> String {
    let code = format!(
        "define('TIKI_PATH', {root}); require {file}; \
         $m = new ReflectionMethod('AuthTokens', 'dsnFromLocalPhp'); $m->setAccessible(true); \
         ob_start(); $dsn = $m->invoke(null); ob_end_clean(); echo $dsn;",
        root = testkit::value::php_literal(root.to_str().unwrap().as_bytes()),
        file = testkit::value::php_literal(
            testkit::repo()
                .join("php/AuthTokens.php")
                .to_str()
                .unwrap()
                .as_bytes()
        ),
    );
    String::from_utf8(testkit::php::eval_with(&["-n"], &code, b"")).unwrap()
}

fn tiki_root(local_php: &str) -> PathBuf {
    let root = temp_dir("tiki");
    std::fs::create_dir_all(root.join("db")).unwrap();
    std::fs::write(root.join("db/local.php"), local_php).unwrap();
    root
}

#[test]
fn a_tiki_sites_local_php_gives_the_dsn_auth_tokens_php_builds() {
    let sites = [
        "<?php\n$db_tiki='mysqli';\n$host_tiki='db.example:3307';\n$user_tiki='tiki';\n$pass_tiki='';\n$dbs_tiki='tiki_db';\n",
        "<?php\n$host_tiki='localhost:/run/mysqld/mysqld.sock';\n$user_tiki='ti ki';\n$dbs_tiki='a/b';\necho 'noise';\n",
        "<?php\n$host_tiki='';\n$user_tiki='u';\n$dbs_tiki='d';\n$socket_tiki='/tmp/my sql.sock';\n",
        "<?php\n$host_tiki='::1';\n$user_tiki='u';\n$dbs_tiki='d';\n$pass_tiki=12345;\n",
        "<?php\n$host_tiki='[fe80::1]:3307';\n$user_tiki='u';\n$dbs_tiki='d';\n",
        "<?php\n$host_tiki='db.example;port=3308';\n$user_tiki='u';\n$dbs_tiki='d';\n",
        "<?php\n$host_tiki='localhost;unix_socket=/run/a.sock';\n$socket_tiki='/run/b.sock';\n$user_tiki='u';\n$dbs_tiki='d';\n",
        "<?php\n$host_tiki='127.0.0.1';\n$user_tiki='tiki';\n$pass_tiki='S3cret p@ss/word?';\n$dbs_tiki='tiki';\n",
    ];
    for site in sites {
        let root = tiki_root(site);
        let php = php_dsn_from_local(&root);
        let run = tt(&["--tiki", root.to_str().unwrap(), "config", "--json"], &[]);
        ok(&run);
        let v = run.json();
        assert_eq!(v["source"], "local.php");
        assert_eq!(v["dsn"].as_str().unwrap(), redact::dsn(&php), "{site}");
        for secret in ["S3cret", "12345"] {
            assert!(!run.all().contains(secret), "{run:?}");
        }
    }
    // The password is really used: a local.php of a password user reaches the database.
    let (dsn, user, pass) = password_user("cli_local");
    let db = dsn
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let port = server_dsn()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Both spellings of a port: `host:port`, and PDO's `host;port=` that Tiki's connector takes.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("127.0.0.1;port={port}"),
    ] {
        let root = tiki_root(&format!(
            "<?php\n$host_tiki='{host}';\n$user_tiki='{user}';\n$pass_tiki='{pass}';\n$dbs_tiki='{db}';\n"
        ));
        let run = tt(&["--tiki", root.to_str().unwrap(), "list", "--json"], &[]);
        ok(&run);
        assert_eq!(run.json()["count"], 0);
    }
    // A MultiTiki: the main site's database is unreachable, the virtual site `other`'s is ours.
    let multi = tiki_root("<?php\n$host_tiki='127.0.0.1:1';\n$user_tiki='u';\n$dbs_tiki='d';\n");
    std::fs::create_dir_all(multi.join("db/other")).unwrap();
    std::fs::write(
        multi.join("db/other/local.php"),
        format!(
            "<?php\n$host_tiki='127.0.0.1;port={port}';\n$user_tiki='{user}';\n$pass_tiki='{pass}';\n$dbs_tiki='{db}';\n"
        ),
    )
    .unwrap();
    let multi = multi.to_str().unwrap();
    for (args, env) in [
        (vec!["--tiki", multi, "--site", "other"], vec![]),
        (vec!["--tiki", multi], vec![("TIKI_VIRTUAL", "other")]),
        (
            vec!["--tiki", multi, "--site", "other"],
            vec![("TIKI_VIRTUAL", "missing")],
        ),
    ] {
        let list = tt(&[&args[..], &["list", "--json"]].concat(), &env);
        ok(&list);
        assert_eq!(list.json()["count"], 0, "{args:?} {env:?}");
        let config = tt(&[&args[..], &["config", "--json"]].concat(), &env);
        ok(&config);
        assert!(
            config.json()["from"]
                .as_str()
                .unwrap()
                .ends_with("db/other/local.php"),
            "{config:?}"
        );
    }
    // No such site: refused, not the main site's database instead; a path is no site name.
    for (site, message) in [
        ("missing", "has no site \"missing\""),
        ("../db", "is not a site name"),
        ("..", "is not a site name"),
    ] {
        let run = tt(&["--tiki", multi, "--site", site, "list"], &[]);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(run.stderr.contains(message), "{run:?}");
    }
    let run = tt(&["--site", "other", "list"], &[]);
    assert_eq!(run.code, 2, "--site needs --tiki: {run:?}");
    // Not a Tiki root, a missing variable, a file PHP cannot parse: exit 3, no password.
    let not_tiki = tt(&["--tiki", "/nonexistent", "list"], &[]);
    assert_eq!(not_tiki.code, 3, "{not_tiki:?}");
    assert!(not_tiki.stderr.contains("not a Tiki root"));
    let no_db = tiki_root("<?php\n$host_tiki='h';\n$user_tiki='u';\n");
    let run = tt(&["--tiki", no_db.to_str().unwrap(), "list"], &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("$dbs_tiki is missing"), "{run:?}");
    let broken = tiki_root("<?php\n$pass_tiki = 'Pw-in-a-broken-file' oops;\n");
    let run = tt(&["--tiki", broken.to_str().unwrap(), "list"], &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!run.all().contains("Pw-in-a-broken"), "{run:?}");
}

/// A database with trunk's table, a user with a password on it: (its DSN, user, password).
fn password_user(hint: &str) -> (String, String, String) {
    let dsn = table_database(hint, Variant::Trunk, Engine::InnoDb);
    let db = dsn
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let user = format!("{hint}_{}", std::process::id());
    let pass = "Pw-ne4er-sh0wn!".to_string();
    let root = server_dsn();
    exec(&root, &format!("DROP USER IF EXISTS '{user}'@'127.0.0.1'"));
    exec(
        &root,
        &format!("CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{pass}'"),
    );
    exec(
        &root,
        &format!("GRANT ALL ON `{db}`.* TO '{user}'@'127.0.0.1'"),
    );
    let user_dsn = dsn.replacen("mysql://root@", &format!("mysql://{user}:{pass}@"), 1);
    (user_dsn, user, pass)
}

#[test]
fn no_output_ever_holds_the_password_or_the_secret() {
    let (dsn, _, pass) = password_user("cli_pw");
    let secret: String = query_value(
        &dsn,
        "SELECT value FROM tiki_preferences WHERE name = 'auth_token_secret'",
    )
    .unwrap();
    let mut outputs = Vec::new();
    let minted = on(
        &dsn,
        &[
            "--json",
            "mint",
            "/tiki-index.php?page=A",
            "-g",
            "G",
            "--create-user",
        ],
    );
    ok(&minted);
    let id = minted.json()["tokenId"].as_i64().unwrap().to_string();
    outputs.push(minted);
    for json in [false, true] {
        for args in [
            &["list"][..],
            &["show", &id],
            &["doctor"],
            &["config"],
            &["migrate"],
            &["purge"],
            &["show", "424242"],
        ] {
            let mut all = vec!["--dsn", dsn.as_str()];
            if json {
                all.push("--json");
            }
            all.extend_from_slice(args);
            outputs.push(tt(&all, &[]));
        }
    }
    outputs.push(on(&dsn, &["rotate-secret", "--keep-tokens"]));
    outputs.push(on(&dsn, &["--json", "rotate-secret"]));
    let rotated: String = query_value(
        &dsn,
        "SELECT value FROM tiki_preferences WHERE name = 'auth_token_secret'",
    )
    .unwrap();
    assert_ne!(rotated, secret);
    for run in &outputs {
        for hidden in [pass.as_str(), secret.as_str(), rotated.as_str()] {
            assert!(!run.all().contains(hidden), "{hidden} in {run:?}");
        }
    }
    assert!(
        outputs.iter().any(|r| r.all().contains(":***@")),
        "the DSN is shown masked"
    );
}

#[test]
fn purge_removes_every_unusable_row_in_batches() {
    let dsn = table_database("cli_purge", Variant::Trunk, Engine::MyIsam);
    let live = insert_row(&dsn, &TikiRow::default());
    trunk_sign(&dsn, live, TEST_SECRET);
    let mut conn = connect(&dsn);
    conn.query_drop(
        "INSERT INTO tiki_auth_tokens (timeout, hits, maxhits, token, entry, email, parameters, \
         `groups`, createUser, userPrefix, creation) \
         SELECT 60, 1, 1, LPAD(HEX(seq), 64, '0'), 'x.php', '', '[]', '[\"G\"]', \
         IF(seq <= 3, 'y', 'n'), '_token', NOW() - INTERVAL 1 HOUR FROM seq_1_to_2500",
    )
    .unwrap();
    let run = on(&dsn, &["purge", "--json"]);
    ok(&run);
    let v = run.json();
    assert_eq!(v["purged"], 2500, "{v}");
    assert_eq!(v["left"], 0);
    assert_eq!(v["tempUsers"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(row_count(&dsn), 1);
    let again = on(&dsn, &["purge"]);
    ok(&again);
    assert!(again.stdout.contains("purged 0"), "{again:?}");
    // On a terminal (a pty from `script`), a progress line on stderr.
    conn.query_drop(
        "INSERT INTO tiki_auth_tokens (timeout, hits, maxhits, token, entry, email, parameters, \
         `groups`) SELECT 60, 0, 1, LPAD(HEX(seq), 64, '0'), 'x.php', '', '[]', '[]' \
         FROM seq_1_to_1500",
    )
    .unwrap();
    let shell = format!("{BIN} --dsn '{dsn}' purge");
    let out = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("\rpurged 1000 of 1500 rows"), "{text:?}");
    assert!(text.contains("\rpurged 1500 of 1500 rows"), "{text:?}");
    assert_eq!(row_count(&dsn), 1);
}

#[test]
fn migrate_and_rotate_secret_follow_tiki() {
    let dsn = table_database("cli_migrate", Variant::Tiki24, Engine::MyIsam);
    let mint_unlimited = || {
        on(
            &dsn,
            &[
                "--json",
                "mint",
                "/tiki-index.php",
                "-g",
                "G",
                "--hits",
                "-1",
            ],
        )
        .json()
    };
    let legacy = mint_unlimited();
    assert_eq!(legacy["scheme"], "legacy");
    let m = on(&dsn, &["migrate", "--json"]);
    ok(&m);
    let m = m.json();
    assert_eq!(m["altered"].as_array().unwrap().len(), 5, "{m}");
    assert_eq!(
        (m["secretCreated"].clone(), m["scheme"].clone()),
        (true.into(), "signed".into())
    );
    let again = on(&dsn, &["migrate"]);
    assert!(again.stdout.contains("nothing to do"), "{again:?}");
    let signed = mint_unlimited();
    assert_eq!(signed["scheme"], "signed");
    let (legacy, signed) = (
        legacy["token"].as_str().unwrap(),
        signed["token"].as_str().unwrap(),
    );
    // --keep-tokens: the rows stay; signed tokens stop verifying, legacy ones do not.
    let kept = on(&dsn, &["rotate-secret", "--keep-tokens", "--json"]);
    ok(&kept);
    assert_eq!(kept.json()["revoked"], 0);
    assert_eq!(row_count(&dsn), 2);
    assert_eq!(on(&dsn, &["show", signed]).code, 1);
    ok(&on(&dsn, &["show", legacy]));
    // By default every token is revoked, as Tiki's tokens:rotate-secret does.
    let all = on(&dsn, &["rotate-secret"]);
    ok(&all);
    assert!(all.stdout.contains("revoked every token (2)"), "{all:?}");
    assert_eq!(row_count(&dsn), 0);
}

/// A PHP configuration root with the CLI SAPI only, the extension enabled there or not.
fn conf_root(enabled: bool) -> PathBuf {
    let root = temp_dir("etc-php");
    let conf_d = root.join("8.2/cli/conf.d");
    std::fs::create_dir_all(&conf_d).unwrap();
    if enabled {
        std::fs::write(
            conf_d.join("20-tiki_tokens.ini"),
            "extension=tiki_tokens.so\n",
        )
        .unwrap();
    }
    root
}

#[test]
fn the_doctor_tells_what_is_right_and_wrong() {
    let dsn = table_database("cli_doctor", Variant::Trunk, Engine::InnoDb);
    for _ in 0..3 {
        tiki24_mint(&dsn, &TikiRow::default());
    }
    let ini = ini_dir_with_dsn(&dsn);
    let etc = conf_root(true);
    let env = [
        ("PHP_INI_SCAN_DIR", ini.to_str().unwrap()),
        ("TIKI_TOKENS_PHP_CONF", etc.to_str().unwrap()),
    ];
    let healthy = tt(&["doctor", "--json"], &env);
    assert_eq!(healthy.code, 0, "{}", healthy.stdout);
    let v = healthy.json();
    assert_eq!(v["database"]["source"], "ini");
    assert_eq!(v["diagnosis"]["table"]["layout"], "trunk");
    assert_eq!(v["diagnosis"]["table"]["engine"], "InnoDB");
    assert_eq!(
        v["diagnosis"]["table"]["lookupPlan"]["key"],
        "tiki_auth_tokens_token"
    );
    let checks: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for check in [
        "config", "server", "table", "engine", "index", "plan", "scheme", "secret", "purge",
        "clock", "php",
    ] {
        assert!(checks.contains(&check), "{check}: {checks:?}");
    }
    let php: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "php")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(php, ["enabled for 8.2 cli", "php -m lists tiki_tokens"]);
    let screen = tt(&["doctor"], &env);
    assert_eq!(screen.code, 0);
    assert!(screen.stdout.contains("0 problem(s)"), "{}", screen.stdout);

    // Problems: no index (every lookup scans), the extension not enabled anywhere.
    exec(
        &dsn,
        "ALTER TABLE tiki_auth_tokens DROP INDEX tiki_auth_tokens_token",
    );
    let not_enabled = conf_root(false);
    let sick = tt(
        &["--dsn", &dsn, "doctor"],
        &[("TIKI_TOKENS_PHP_CONF", not_enabled.to_str().unwrap())],
    );
    assert_eq!(sick.code, 1, "{}", sick.stdout);
    for line in [
        "problem  index     no index on token",
        "problem  plan      the lookup reads the whole table",
        "warning  php       enabled for no SAPI",
        "warning  php       php does not load tiki_tokens",
    ] {
        assert!(sick.stdout.contains(line), "{line}\n{}", sick.stdout);
    }
    // Warnings alone: exit 0, or 1 with --strict (a Tiki 24 table mints legacy tokens).
    let t24 = table_database("cli_doctor24", Variant::Tiki24, Engine::MyIsam);
    let env = [("TIKI_TOKENS_PHP_CONF", etc.to_str().unwrap())];
    assert_eq!(tt(&["--dsn", &t24, "doctor"], &env).code, 0);
    let strict = tt(&["--dsn", &t24, "doctor", "--strict"], &env);
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(
        strict
            .stdout
            .contains("warning  scheme    new tokens are legacy MD5"),
        "{}",
        strict.stdout
    );
}

#[test]
fn edit_in_place_keeps_the_link_and_a_reissue_revokes_the_old_token() {
    let dsn = table_database("cli_edit", Variant::Trunk, Engine::InnoDb);
    let url = "https://site.example/tiki/tiki-index.php?page=Edit";
    let minted = on(
        &dsn,
        &["--json", "mint", url, "-g", "Registered", "--hits", "2"],
    );
    ok(&minted);
    let m = minted.json();
    let (id, token) = (
        m["tokenId"].as_i64().unwrap(),
        m["token"].as_str().unwrap().to_string(),
    );
    let split = split_url(url.as_bytes()).unwrap();

    // In place: the token and its link stay, the hits are added atomically.
    let edited = on(
        &dsn,
        &[
            "--json",
            "edit",
            &id.to_string(),
            "--add-hits",
            "3",
            "--email",
            "e@x.y",
        ],
    );
    ok(&edited);
    let e = edited.json();
    assert_eq!(e["reissued"], false, "{e}");
    assert_eq!(e["row"]["hits"], 5, "{e}");
    assert_eq!(e["row"]["email"], "e@x.y", "{e}");
    assert!(
        e["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("TOKEN={token}")),
        "{e}"
    );
    assert_eq!(row_count(&dsn), 1);

    // A re-issue: a new token and link; the old token stops working at once.
    let reissued = on(
        &dsn,
        &[
            "--json",
            "edit",
            &id.to_string(),
            "-g",
            "Editors",
            "--timeout",
            "600",
        ],
    );
    ok(&reissued);
    let r = reissued.json();
    assert_eq!(r["reissued"], true, "{r}");
    assert_eq!(r["revokedTokenId"], id, "{r}");
    let new = r["token"].as_str().unwrap().to_string();
    assert_ne!(new, token);
    assert_eq!(r["row"]["groups"], r#"["Editors"]"#, "{r}");
    assert_eq!(r["row"]["hits"], 5, "hits left carried over: {r}");
    let s = store(&dsn);
    assert!(
        s.lookup(token.as_bytes(), &split.entry, &split.params)
            .is_err()
    );
    let grant = s
        .lookup(new.as_bytes(), &split.entry, &split.params)
        .expect("the new token");
    assert_eq!(grant.groups, ["Editors"]);
    // Without --json: the new link on stdout, the warning on stderr.
    let again = on(
        &dsn,
        &[
            "edit",
            &r["tokenId"].to_string(),
            "--url",
            "https://site.example/tiki/tiki-index.php?page=Other",
        ],
    );
    ok(&again);
    assert!(
        again.stdout.trim().contains("page=Other&TOKEN="),
        "{again:?}"
    );
    assert!(
        again.stderr.contains("the old link no longer works"),
        "{again:?}"
    );

    // An unknown id: exit 1, nothing written; both kinds of edit.
    let rows = row_count(&dsn);
    for args in [&["--add-hits", "1"][..], &["-g", "X"][..]] {
        let mut all = vec!["edit", "987654"];
        all.extend_from_slice(args);
        let run = on(&dsn, &all);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.all().contains("no token with id 987654"), "{run:?}");
    }
    assert_eq!(row_count(&dsn), rows);
}

#[test]
fn mint_resolves_a_sef_url_against_the_site_root() {
    let dsn = table_database("cli_sef", Variant::Trunk, Engine::MyIsam);
    let minted = on(
        &dsn,
        &[
            "--json",
            "mint",
            "https://site.example/tiki/dl5",
            "-g",
            "G",
            "--tiki-root",
            "/tiki/",
        ],
    );
    ok(&minted);
    let token = minted.json()["token"].as_str().unwrap().to_string();
    let s = store(&dsn);
    let params = str_params(&[("fileId", "5")]);
    assert!(
        s.lookup(token.as_bytes(), b"/tiki/tiki-download_file.php", &params)
            .is_ok()
    );
    // The same through the environment; a 404 path refused with exit 2, nothing written.
    let rows = row_count(&dsn);
    let refused = tt(
        &[
            "--dsn",
            &dsn,
            "mint",
            "https://site.example/tiki/Notes.txt",
            "-g",
            "G",
        ],
        &[("TIKI_TOKENS_TIKI_ROOT", "/tiki/")],
    );
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.all().contains("404"), "{refused:?}");
    assert_eq!(row_count(&dsn), rows);
}
