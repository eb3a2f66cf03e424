//! What the fuzz targets and the property tests both need: the canonical params of a raw query,
//! the shape of a tree, and the split of one input into two.

use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::{Params, PhpArray, Value, take_token};

/// The largest input a fuzz target looks at (the SPEC's bound for a query: 64 KiB).
pub const MAX_INPUT: usize = 64 * 1024;

/// The canonical params of a raw query: `$_GET` as PHP builds it (default limits), `TOKEN`
/// removed.
pub fn canon(query: &[u8]) -> Params {
    let mut p = parse_query(query, QueryLimits::default());
    take_token(&mut p);
    p
}

/// (number of leaves, deepest nesting) of a tree.
pub fn shape(a: &PhpArray) -> (usize, usize) {
    let mut leaves = 0;
    let mut depth = 0;
    for (_, v) in a.iter() {
        match v {
            Value::Array(inner) => {
                let (l, d) = shape(inner);
                leaves += l;
                depth = depth.max(d);
            }
            _ => leaves += 1,
        }
    }
    (leaves, depth + 1)
}

/// Splits an input in two at its first `\n` (the second part may be empty).
pub fn split_two(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
