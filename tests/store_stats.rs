//! What a lookup costs, measured by the server itself: the statements each kind of lookup sends
//! (from MariaDB's general log of the store's own connection), the query plan of the lookup's
//! SELECT (EXPLAIN of the very statement the store prepared: the index, never a scan). On servers
//! of the tests' own (the general log is global), printed for the README. The latency of a
//! lookup is measured by `cargo bench --bench store` (benches/store.rs).

use mysql::prelude::Queryable;
use testkit::db::*;
use tiki_tokens::canon::Params;

/// The store's connection ids: every connection to `db` but the inspecting one.
fn store_threads(admin: &mut mysql::Conn, db: &str) -> Vec<u64> {
    let me: u64 = admin
        .query_first("SELECT CONNECTION_ID()")
        .unwrap()
        .unwrap();
    admin
        .query(format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{db}' AND ID <> {me}"
        ))
        .unwrap()
}

/// The commands the store's connections sent while `f` ran: (command type, statement).
fn logged(admin: &mut mysql::Conn, db: &str, f: impl FnOnce()) -> Vec<(String, String)> {
    admin
        .query_drop("TRUNCATE TABLE mysql.general_log")
        .unwrap();
    f();
    let threads = store_threads(admin, db);
    if threads.is_empty() {
        return Vec::new();
    }
    let ids = threads
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    admin
        .query(format!(
            "SELECT command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log \
             WHERE thread_id IN ({ids}) ORDER BY event_time"
        ))
        .unwrap()
}

fn kinds(log: &[(String, String)]) -> Vec<String> {
    log.iter()
        .map(|(cmd, arg)| format!("{cmd} {}", arg.split_whitespace().next().unwrap_or("")))
        .collect()
}

#[test]
fn statements_per_lookup_and_the_query_plan() {
    let server = OwnServer::start("stats-log");
    let mut admin = connect(&server.dsn);
    admin.query_drop("SET GLOBAL log_output = 'TABLE'").unwrap();
    admin.query_drop("SET GLOBAL general_log = 'ON'").unwrap();
    for (variant, engine) in ALL_TABLES {
        let ctx = format!("{variant:?}/{engine:?}");
        let name = format!("st_{variant:?}_{engine:?}").to_lowercase();
        let dsn = server.fresh_database(&name);
        create_table(&dsn, variant, engine);
        // Enough rows that the optimizer has a choice.
        for _ in 0..200 {
            tiki24_mint(&dsn, &TikiRow::default());
        }
        let (_, limited) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: 100,
                ..TikiRow::default()
            },
        );
        let (_, unlimited) = tiki24_mint(
            &dsn,
            &TikiRow {
                hits: -1,
                ..TikiRow::default()
            },
        );
        let signed = if variant == Variant::Tiki24 {
            None
        } else {
            let id = insert_row(
                &dsn,
                &TikiRow {
                    hits: 100,
                    ..TikiRow::default()
                },
            );
            Some(trunk_sign(&dsn, id, TEST_SECRET))
        };
        let s = store(&dsn);
        let mut db_conn = connect(&dsn);
        let db: String = db_conn.query_first("SELECT DATABASE()").unwrap().unwrap();
        let look = |t: &[u8]| s.lookup(t, b"tiki-index.php", &Params::new());
        // Warm up: schema detection, statement preparation.
        assert!(look(limited.as_bytes()).is_ok());
        assert!(look(unlimited.as_bytes()).is_ok());
        if let Some(t) = &signed {
            assert!(look(t.as_bytes()).is_ok());
        }

        let log = logged(&mut admin, &db, || {
            assert!(look(limited.as_bytes()).is_ok())
        });
        assert_eq!(
            kinds(&log),
            ["Execute SELECT", "Execute UPDATE"],
            "{ctx}: limited hits: {log:?}"
        );
        let log = logged(&mut admin, &db, || {
            assert!(look(unlimited.as_bytes()).is_ok())
        });
        assert_eq!(
            kinds(&log),
            ["Execute SELECT"],
            "{ctx}: unlimited hits: {log:?}"
        );
        let log = logged(&mut admin, &db, || assert!(look(b"not-a-token").is_err()));
        assert!(log.is_empty(), "{ctx}: malformed: {log:?}");
        let log = logged(&mut admin, &db, || assert!(look(&[b'0'; 32]).is_err()));
        assert_eq!(kinds(&log), ["Execute SELECT"], "{ctx}: unknown: {log:?}");
        if let Some(t) = &signed {
            let log = logged(&mut admin, &db, || assert!(look(t.as_bytes()).is_ok()));
            assert_eq!(
                kinds(&log),
                ["Execute SELECT", "Execute UPDATE"],
                "{ctx}: signed: {log:?}"
            );
        }

        // The plan of the statements the store prepared, prepared the same way here.
        let mut selects: Vec<String> = Vec::new();
        // Re-prepare on a fresh store to see its Prepare commands in the log.
        let fresh = store(&dsn);
        let log = logged(&mut admin, &db, || {
            let _ = fresh.lookup(limited.as_bytes(), b"tiki-index.php", &Params::new());
            if let Some(t) = &signed {
                let _ = fresh.lookup(t.as_bytes(), b"tiki-index.php", &Params::new());
            }
        });
        for (cmd, arg) in &log {
            if cmd == "Prepare" && arg.contains("WHERE `token` = ?") {
                selects.push(arg.clone());
            }
        }
        // The session set-up of a new connection: strict mode added, the time zone untouched.
        let setup: Vec<&String> = log
            .iter()
            .filter(|(cmd, arg)| cmd == "Query" && arg.starts_with("SET"))
            .map(|(_, arg)| arg)
            .collect();
        assert_eq!(setup.len(), 1, "{ctx}: {log:?}");
        assert!(setup[0].contains("STRICT_ALL_TABLES"), "{ctx}: {setup:?}");
        assert!(
            log.iter()
                .all(|(_, arg)| !arg.to_lowercase().contains("time_zone")),
            "{ctx}: {log:?}"
        );
        assert_eq!(
            selects.len(),
            if signed.is_some() { 2 } else { 1 },
            "{ctx}: {log:?}"
        );
        for sql in &selects {
            let plan: Vec<mysql::Row> = db_conn
                .exec(format!("EXPLAIN {sql}"), (limited.as_str(),))
                .unwrap();
            let mut used_index = false;
            for row in plan {
                let table: Option<String> = row.get("table").flatten();
                let access: Option<String> = row.get("type").flatten();
                let key: Option<String> = row.get("key").flatten();
                assert_ne!(
                    access.as_deref(),
                    Some("ALL"),
                    "{ctx}: a table scan in {sql}"
                );
                if table.as_deref() == Some("tiki_auth_tokens") {
                    assert_eq!(
                        key.as_deref(),
                        Some("tiki_auth_tokens_token"),
                        "{ctx}: {sql}"
                    );
                    assert_eq!(access.as_deref(), Some("ref"), "{ctx}: {sql}");
                    used_index = true;
                }
            }
            assert!(used_index, "{ctx}: {sql}");
        }
        println!(
            "{ctx}: limited lookup = 1 SELECT + 1 UPDATE, unlimited = 1 SELECT, malformed = 0, unknown = 1 SELECT; plan: ref on tiki_auth_tokens_token"
        );
    }
    admin.query_drop("SET GLOBAL general_log = 'OFF'").unwrap();
}
