//! Any bytes as JSON: `decode` never panics; what it accepts, `encode_value` writes back (it
//! may refuse only where PHP does too: an infinite float from `1e999`) and decoding that
//! gives the same value, except that a float PHP writes without `.` or exponent (`0e5` → `0`,
//! `1.0` → `1`: no `JSON_PRESERVE_ZERO_FRACTION`) comes back as an int, as in PHP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testkit::fuzzing::MAX_INPUT;
use testkit::value::identical;
use tiki_tokens::canon::Value;
use tiki_tokens::canon::json::{decode, encode_value, php_float_repr};
use tiki_tokens::canon::{PhpArray, Value as V};

/// `v` as PHP's `json_decode(json_encode(v))` gives it back.
fn as_reread(v: &V) -> V {
    match v {
        V::Float(f) if f.is_finite() => php_float_repr(*f)
            .parse::<i64>()
            .map_or(V::Float(*f), V::Int),
        V::Array(a) => V::Array(
            a.iter()
                .map(|(k, v)| (k.clone(), as_reread(v)))
                .collect::<PhpArray>(),
        ),
        other => other.clone(),
    }
}

fn has_infinite(v: &Value) -> bool {
    match v {
        Value::Float(f) => !f.is_finite(),
        Value::Array(a) => a.iter().any(|(_, v)| has_infinite(v)),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    if let Ok(v) = decode(data) {
        match encode_value(&v) {
            Ok(text) => {
                let back = decode(text.as_bytes()).expect("our own JSON decodes");
                assert!(identical(&as_reread(&v), &back), "{text}");
            }
            Err(e) => assert!(has_infinite(&v), "{e}"),
        }
    }
});
