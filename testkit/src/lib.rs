//! The test harness of tiki-tokens, shared by the integration tests (`tests/`), the benches and
//! the fuzz targets (`fuzz/`).
//!
//! Pure helpers (no process, usable from a fuzz target):
//! * [`rng`]: a seeded SplitMix64 for generated cases;
//! * [`value`]: PHP values across the process boundary (`serialize`/`unserialize`, PHP string
//!   literals) and PHP's `===` on them ([`value::identical`]);
//! * [`fuzzing`]: the canonical params of a raw query, the shape of a tree, input splitting.
//!
//! Real parts (processes, all on loopback, all under `target/`):
//! * [`php`]: the one PHP locator (`$PHP`), evaluating PHP code as an oracle;
//! * [`ext`]: the one extension locator (`$TIKI_TOKENS_EXT`), running PHP with it loaded;
//! * [`db`]: a real MariaDB (the shared throw-away server, or a test's own);
//! * [`web`]: the one web-server type;
//! * [`procs`]: process groups stopped as a whole, the run's marker, free ports.
//!
//! A library rather than a `mod common;` in every test file: each test binary uses a part of
//! the harness, and a module compiled into every binary made the rest "dead code" there (which a
//! blanket `#![allow(dead_code)]` hid, along with code that really was dead).

pub mod db;
pub mod ext;
pub mod fuzzing;
pub mod php;
pub mod procs;
pub mod rng;
pub mod value;
pub mod web;

/// The repository root (the main crate's directory).
pub fn repo() -> std::path::PathBuf {
    let kit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    kit.parent()
        .expect("testkit/ lies in the repository")
        .to_path_buf()
}
