//! `Store::diagnose` and `Store::row_counts` against a real server, on Tiki 24's and trunk's
//! tables on both engines: the layout, the engine, the token index and the lookup's plan (also
//! with the index dropped), the scheme, the rows waiting for a purge (the count agrees with what
//! a purge then removes), the clock, a missing table, an unreachable server.

use mysql::prelude::Queryable;
use testkit::db::*;
use tiki_tokens::Error;
use tiki_tokens::store::{Severity, TableLayout};
use tiki_tokens::token::Scheme;

/// Inserts rows of every kind: 3 usable, 2 timed out, 1 out of hits, 1 half-written for an
/// hour; returns how many a purge should remove (4).
fn mixed_rows(dsn: &str) -> u64 {
    for hits in [5, -1, 1] {
        tiki24_mint(
            dsn,
            &TikiRow {
                hits,
                ..TikiRow::default()
            },
        );
    }
    for _ in 0..2 {
        tiki24_mint(
            dsn,
            &TikiRow {
                timeout: 1,
                ..TikiRow::default()
            },
        );
    }
    let (used_up, _) = tiki24_mint(dsn, &TikiRow::default());
    exec(
        dsn,
        &format!("UPDATE tiki_auth_tokens SET hits = 0 WHERE tokenId = {used_up}"),
    );
    let half = insert_row(dsn, &TikiRow::default());
    exec(
        dsn,
        &format!(
            "UPDATE tiki_auth_tokens SET creation = NOW() - INTERVAL 1 HOUR, timeout = 7200 \
             WHERE tokenId = {half}"
        ),
    );
    exec(
        dsn,
        "UPDATE tiki_auth_tokens SET creation = NOW() - INTERVAL 10 SECOND WHERE timeout = 1",
    );
    4
}

#[test]
fn a_diagnosis_tells_layout_engine_index_plan_scheme_and_rows() {
    for (variant, engine) in ALL_TABLES {
        let dsn = table_database("diag", variant, engine);
        let unusable = mixed_rows(&dsn);
        let s = store(&dsn);
        let d = s.diagnose().unwrap();
        let what = format!("{variant:?} {engine:?}: {d:#?}");
        assert!(d.database.starts_with("t_diag"), "{what}");
        assert!(!d.server_version.is_empty(), "{what}");
        assert!(d.clock_offset.abs() < 2.0, "{what}");
        assert_eq!(d.galera, None, "{what}");
        let t = d.table.as_ref().expect("table");
        let layout = match variant {
            Variant::Tiki24 => TableLayout::Tiki24,
            _ => TableLayout::Trunk,
        };
        assert_eq!(t.layout, layout, "{what}");
        let want_engine = match engine {
            Engine::MyIsam => "MyISAM",
            Engine::InnoDb => "InnoDB",
        };
        assert_eq!(t.engine.as_deref(), Some(want_engine), "{what}");
        assert_eq!(t.token_indexes, vec!["tiki_auth_tokens_token"], "{what}");
        assert_eq!(
            t.lookup_plan.key.as_deref(),
            Some("tiki_auth_tokens_token"),
            "{what}"
        );
        let scheme = if variant == Variant::Tiki24 {
            Scheme::Legacy
        } else {
            Scheme::Signed
        };
        assert_eq!(t.scheme.minting, scheme, "{what}");
        assert_eq!(
            t.scheme.needs_migration,
            variant == Variant::Tiki24,
            "{what}"
        );
        assert_eq!((t.rows.total, t.rows.unusable), (7, unusable), "{what}");
        assert_eq!(s.row_counts().unwrap(), t.rows, "{what}");
        let worst = d.worst();
        let expected = if variant == Variant::Tiki24 {
            Severity::Warning // legacy minting, migration pending
        } else {
            Severity::Note // rows waiting for a purge
        };
        assert_eq!(worst, expected, "{what}\n{:#?}", d.findings());
        // The count is what a purge removes.
        assert_eq!(s.purge(1000).unwrap().len(), 0, "no createUser rows");
        let after = s.row_counts().unwrap();
        assert_eq!((after.total, after.unusable), (7 - unusable, 0), "{what}");
    }
}

#[test]
fn a_missing_index_is_a_scan_and_a_problem() {
    for engine in [Engine::MyIsam, Engine::InnoDb] {
        let dsn = table_database("noindex", Variant::Trunk, engine);
        mixed_rows(&dsn);
        exec(
            &dsn,
            "ALTER TABLE tiki_auth_tokens DROP INDEX tiki_auth_tokens_token",
        );
        let d = store(&dsn).diagnose().unwrap();
        let t = d.table.as_ref().unwrap();
        assert!(t.token_indexes.is_empty(), "{d:#?}");
        assert_eq!(t.lookup_plan.access.as_deref(), Some("ALL"), "{d:#?}");
        let problems: Vec<&str> = d
            .findings()
            .iter()
            .filter(|f| f.severity == Severity::Problem)
            .map(|f| f.check)
            .collect();
        assert_eq!(problems, ["index", "plan"], "{:#?}", d.findings());
        // Another index on token is as good.
        exec(
            &dsn,
            "ALTER TABLE tiki_auth_tokens ADD INDEX by_token (token, hits)",
        );
        let d = store(&dsn).diagnose().unwrap();
        let t = d.table.as_ref().unwrap();
        assert_eq!(t.token_indexes, ["by_token"]);
        assert_eq!(t.lookup_plan.key.as_deref(), Some("by_token"), "{d:#?}");
        assert!(d.worst() < Severity::Problem, "{:#?}", d.findings());
    }
}

#[test]
fn an_empty_or_one_row_table_is_no_problem() {
    for engine in [Engine::MyIsam, Engine::InnoDb] {
        let dsn = table_database("small", Variant::Trunk, engine);
        for rows in 0..2 {
            let d = store(&dsn).diagnose().unwrap();
            let plan = d
                .findings()
                .into_iter()
                .find(|f| f.check == "plan")
                .unwrap();
            assert!(
                matches!(plan.severity, Severity::Ok | Severity::Note),
                "{engine:?} {rows} rows: {plan:?} {d:#?}"
            );
            tiki24_mint(&dsn, &TikiRow::default());
        }
    }
}

#[test]
fn other_layouts_and_a_migrated_tiki24_table_are_described() {
    let dsn = table_database("migrated", Variant::Tiki24, Engine::MyIsam);
    let s = store(&dsn);
    s.migrate().unwrap();
    let d = s.diagnose().unwrap();
    let t = d.table.as_ref().unwrap();
    // Tiki's migration leaves the columns in Tiki 24's order, with trunk's types.
    assert_eq!(t.layout, TableLayout::Trunk, "{d:#?}");
    assert_eq!(t.scheme.minting, Scheme::Signed);
    exec(
        &dsn,
        "ALTER TABLE tiki_auth_tokens MODIFY entry VARCHAR(100)",
    );
    let d = s.diagnose().unwrap();
    let TableLayout::Other(what) = &d.table.as_ref().unwrap().layout else {
        panic!("{d:#?}");
    };
    assert!(what.contains("entry varchar(100)"), "{what}");
}

#[test]
fn a_missing_table_is_a_finding_and_an_unreachable_server_an_error() {
    let dsn = fresh_database("notable");
    let d = store(&dsn).diagnose().unwrap();
    let missing = d.table.as_ref().unwrap_err();
    assert!(missing.contains("tiki_auth_tokens"), "{missing}");
    assert_eq!(d.worst(), Severity::Problem);
    assert!(matches!(store(&dsn).row_counts(), Err(Error::Schema(_))));
    let e = store("mysql://u:pw-never-shown@127.0.0.1:1/x")
        .diagnose()
        .unwrap_err();
    assert!(matches!(e, Error::Database(_)), "{e}");
    assert!(!e.to_string().contains("pw-never-shown"), "{e}");
}

#[test]
fn the_clock_offset_is_the_servers() {
    let dsn = table_database("clock", Variant::Trunk, Engine::InnoDb);
    let server: f64 = connect(&dsn)
        .query_first::<String, _>("SELECT UNIX_TIMESTAMP(NOW(6))")
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let d = store(&dsn).diagnose().unwrap();
    assert!(
        (d.clock_offset - (server - host)).abs() < 0.5,
        "{} vs {}",
        d.clock_offset,
        server - host
    );
}
