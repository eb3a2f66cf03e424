//! The latency of one lookup through the Rust store against a real MariaDB (formerly the test
//! `lookup_latency` of tests/store_stats.rs, whose only timing check was "median under 20 ms":
//! a number to read, not a test). A plain bench harness: it prints the numbers.
//!
//!   cargo bench --bench store
//!
//! It starts a throw-away MariaDB of its own under `target/` (stopped at the end), fills
//! Tiki 24's table on MyISAM and trunk's on InnoDB with 1,000 rows each, and times 5,000
//! lookups of an unlimited and of a limited token on each (after 100 warm-up lookups).
//! `STORE_BENCH_LOOKUPS` changes the 5,000.

use std::time::{Duration, Instant};
use testkit::db::*;
use tiki_tokens::canon::Params;
use tiki_tokens::store::Store;

/// The goal the old test asserted; printed as met or missed.
const MEDIAN_GOAL: Duration = Duration::from_millis(20);

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// A table of `variant` on `engine` with 1,000 Tiki 24-minted rows; (dsn, unlimited token,
/// limited token, limited row id).
fn fill(server: &OwnServer, variant: Variant, engine: Engine) -> (String, String, String, i64) {
    let dsn = server.fresh_database(&format!("lat_{variant:?}_{engine:?}").to_lowercase());
    create_table(&dsn, variant, engine);
    for _ in 0..1000 {
        insert_row(&dsn, &TikiRow::default());
    }
    exec(
        &dsn,
        "UPDATE tiki_auth_tokens SET token = MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`))",
    );
    let (_, unlimited) = tiki24_mint(
        &dsn,
        &TikiRow {
            hits: -1,
            timeout: -1,
            ..TikiRow::default()
        },
    );
    let limited_id = insert_row(
        &dsn,
        &TikiRow {
            hits: 1_000_000,
            timeout: -1,
            ..TikiRow::default()
        },
    );
    let limited = if variant == Variant::Tiki24 {
        tiki24_sign(&dsn, limited_id)
    } else {
        trunk_sign(&dsn, limited_id, TEST_SECRET)
    };
    (dsn, unlimited, limited, limited_id)
}

fn main() {
    let n: usize = std::env::var("STORE_BENCH_LOOKUPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let server = OwnServer::start("bench-store");
    for (variant, engine) in [
        (Variant::Tiki24, Engine::MyIsam),
        (Variant::Trunk, Engine::InnoDb),
    ] {
        let (dsn, unlimited, limited, limited_id) = fill(&server, variant, engine);
        let mut cfg = store_config(&dsn);
        cfg.max_hits = -1;
        let s = Store::new(cfg).expect("store");
        for (what, token) in [("unlimited hits", &unlimited), ("limited hits", &limited)] {
            for _ in 0..100 {
                s.lookup(token.as_bytes(), b"tiki-index.php", &Params::new())
                    .expect("warm-up lookup grants");
            }
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                let r = s.lookup(token.as_bytes(), b"tiki-index.php", &Params::new());
                times.push(t.elapsed());
                assert!(r.is_ok(), "{r:?}");
            }
            times.sort_unstable();
            let median = percentile(&times, 50);
            println!(
                "{variant:?}/{engine:?}, {what} ({} token): {n} lookups, median {median:?}, p90 {:?}, p99 {:?}; median under {MEDIAN_GOAL:?}: {}",
                if token.len() == 64 { "signed" } else { "MD5" },
                percentile(&times, 90),
                percentile(&times, 99),
                if median < MEDIAN_GOAL { "yes" } else { "NO" }
            );
        }
        // Every timed lookup of the limited token consumed one hit (a lookup that did not would
        // make the numbers meaningless).
        let hits: i64 = query_value(
            &dsn,
            &format!("SELECT hits FROM tiki_auth_tokens WHERE tokenId = {limited_id}"),
        )
        .expect("the limited row");
        assert_eq!(hits, 1_000_000 - 100 - i64::try_from(n).expect("n fits"));
    }
}
