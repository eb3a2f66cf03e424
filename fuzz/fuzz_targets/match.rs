//! Two byte strings (split at the first `\n`) → two request trees, and the first also read as
//! stored JSON: `match_params` is symmetric, reflexive for requests, and for requests agrees
//! with an independent order-insensitive equality of the trees.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testkit::fuzzing::{MAX_INPUT, canon, split_two};
use tiki_tokens::canon::json::decode;
use tiki_tokens::canon::{PhpArray, Value, match_params};

/// The same map, order aside (request trees hold only strings and arrays).
fn same_map(a: &PhpArray, b: &PhpArray) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, va)| match (va, b.get(k)) {
            (Value::Str(x), Some(Value::Str(y))) => x == y,
            (Value::Array(x), Some(Value::Array(y))) => same_map(x, y),
            _ => false,
        })
}

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    let (x, y) = split_two(data);
    let (a, b) = (canon(x), canon(y));
    assert_eq!(match_params(&a, &a), Ok(()));
    assert_eq!(match_params(&b, &b), Ok(()));
    let ab = match_params(&a, &b).is_ok();
    assert_eq!(ab, match_params(&b, &a).is_ok());
    assert_eq!(ab, same_map(&a, &b));
    if let Ok(Value::Array(stored)) = decode(x) {
        assert_eq!(
            match_params(&stored, &b).is_ok(),
            match_params(&b, &stored).is_ok()
        );
    }
});
