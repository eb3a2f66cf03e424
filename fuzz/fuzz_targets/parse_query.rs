//! Any bytes as a query: `parse_query` never panics and its result is bounded by PHP's limits;
//! `build_query` and `encode_params` never panic on it either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testkit::fuzzing::{MAX_INPUT, shape};
use tiki_tokens::canon::http_query::build_query;
use tiki_tokens::canon::json::encode_params;
use tiki_tokens::canon::query::{QueryLimits, parse_query};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    let limits = QueryLimits::default();
    let p = parse_query(data, limits);
    let (leaves, depth) = shape(&p);
    // Each variable of the query makes at most one leaf; PHP keeps at most max_input_vars.
    assert!(leaves <= limits.max_input_vars, "{leaves} leaves");
    // The top level plus at most max_nesting levels of brackets.
    assert!(depth <= limits.max_nesting + 1, "depth {depth}");
    let q = build_query(&p);
    // Written back, every output byte is owed to input bytes: a byte becomes at most `%XX` (3),
    // a `[]` at most `%5B` + a 20-character integer key + `%5D` (26, i.e. 13 per input byte).
    assert!(
        q.len() <= 13 * data.len() + 2,
        "{} bytes from {}",
        q.len(),
        data.len()
    );
    let _ = encode_params(&p);
});
