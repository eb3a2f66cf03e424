//! Concurrency (SPEC section 3 step 7): 16 threads, each with its own store (own pool, own
//! connection, as 16 PHP workers would be), hammer one token with N hits: exactly N grants,
//! every other answer Exhausted or LostRace, on MyISAM and InnoDB. And concurrent creates each
//! get their own tokenId and value, all of which verify.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use testkit::db::*;
use tiki_tokens::DenialReason;
use tiki_tokens::canon::Params;
use tiki_tokens::store::{CreateOptions, Store};

const THREADS: usize = 16;

#[test]
fn n_hits_grant_exactly_n_requests() {
    for variant in [Variant::Tiki24, Variant::Trunk] {
        for engine in [Engine::MyIsam, Engine::InnoDb] {
            let dsn = table_database("hammer", variant, engine);
            for n in [1_i64, 5, 50] {
                let (id, token) = tiki24_mint(
                    &dsn,
                    &TikiRow {
                        hits: n,
                        timeout: -1,
                        ..TikiRow::default()
                    },
                );
                // Every thread makes its connection before the start line.
                let stores: Vec<Store> = (0..THREADS)
                    .map(|_| {
                        let s = store(&dsn);
                        s.list().unwrap();
                        s
                    })
                    .collect();
                let barrier = Arc::new(Barrier::new(THREADS));
                let attempts_per_thread = usize::try_from(n).unwrap() / THREADS + 4;
                let handles: Vec<_> = stores
                    .into_iter()
                    .map(|s| {
                        let barrier = Arc::clone(&barrier);
                        let token = token.clone();
                        std::thread::spawn(move || {
                            barrier.wait();
                            (0..attempts_per_thread)
                                .map(|_| {
                                    s.lookup(token.as_bytes(), b"tiki-index.php", &Params::new())
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let mut grants = 0;
                let mut exhausted = 0;
                let mut lost = 0;
                let mut left = Vec::new();
                for h in handles {
                    for r in h.join().unwrap() {
                        match r {
                            Ok(g) => {
                                grants += 1;
                                left.push(g.hits_left);
                            }
                            Err(d) if d.reason == DenialReason::Exhausted => exhausted += 1,
                            Err(d) if d.reason == DenialReason::LostRace => lost += 1,
                            Err(d) => panic!("{variant:?}/{engine:?} N={n}: unexpected {d}"),
                        }
                    }
                }
                let total = THREADS * attempts_per_thread;
                println!(
                    "{variant:?}/{engine:?}: N={n:>2}: {total} lookups from {THREADS} threads → \
                     {grants} granted, {exhausted} exhausted, {lost} lost race"
                );
                assert_eq!(grants, n, "{variant:?}/{engine:?}: N={n}");
                assert_eq!(grants + exhausted + lost, i64::try_from(total).unwrap());
                // Each grant saw its own count of hits left: N-1, …, 0, each once.
                left.sort_unstable();
                assert_eq!(
                    left,
                    (0..n).collect::<Vec<_>>(),
                    "{variant:?}/{engine:?}: N={n}"
                );
                let hits: i64 = query_value(
                    &dsn,
                    &format!("SELECT hits FROM tiki_auth_tokens WHERE tokenId = {id}"),
                )
                .unwrap();
                assert_eq!(hits, 0);
            }
        }
    }
}

#[test]
fn concurrent_creates_get_their_own_rows() {
    const PER_THREAD: usize = 8;
    for (variant, engine) in [
        (Variant::Tiki24, Engine::MyIsam),
        (Variant::Trunk, Engine::InnoDb),
        (Variant::TrunkReordered, Engine::MyIsam),
    ] {
        let dsn = table_database("creates", variant, engine);
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let s = store(&dsn);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..PER_THREAD)
                        .map(|i| {
                            let entry = format!("/t{t}/e{i}.php");
                            let c = s
                                .create(
                                    entry.as_bytes(),
                                    &Params::new(),
                                    &["Registered".to_string()],
                                    &CreateOptions::default(),
                                )
                                .unwrap();
                            (entry, c)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let created: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        assert_eq!(created.len(), THREADS * PER_THREAD);
        let ids: HashSet<i64> = created.iter().map(|(_, c)| c.token_id).collect();
        let tokens: HashSet<&str> = created.iter().map(|(_, c)| c.token.as_str()).collect();
        assert_eq!(
            (ids.len(), tokens.len()),
            (created.len(), created.len()),
            "{variant:?}/{engine:?}"
        );
        let s = store(&dsn);
        for (entry, c) in &created {
            let g = s
                .lookup(c.token.as_bytes(), entry.as_bytes(), &Params::new())
                .unwrap();
            assert_eq!(g.token_id, c.token_id);
        }
        let nulls: i64 = query_value(
            &dsn,
            "SELECT COUNT(*) FROM tiki_auth_tokens WHERE token IS NULL",
        )
        .unwrap();
        assert_eq!(nulls, 0);
        println!(
            "{variant:?}/{engine:?}: {} concurrent creates, all distinct, all verify",
            created.len()
        );
    }
}
