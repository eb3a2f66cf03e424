//! Helpers shared by the fuzz targets.
#![allow(dead_code)]

use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::{Params, PhpArray, Value, take_token};

/// The largest input a target looks at (the SPEC's bound for a query: 64 KiB).
pub const MAX_INPUT: usize = 64 * 1024;

/// The canonical params of a raw query: `$_GET` as PHP builds it, `TOKEN` removed.
pub fn canon(query: &[u8]) -> Params {
    let mut p = parse_query(query, QueryLimits::default());
    take_token(&mut p);
    p
}

/// Order-sensitive structural equality (PHP's `===` on arrays), floats bit for bit.
pub fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Array(x), Value::Array(y)) => identical_arrays(x, y),
        _ => false,
    }
}

/// [`identical`] for two arrays.
pub fn identical_arrays(x: &PhpArray, y: &PhpArray) -> bool {
    x.len() == y.len()
        && x.iter()
            .zip(y.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
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

/// Splits a fuzz input in two at its first `\n` (the second part may be empty).
pub fn split_two(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
