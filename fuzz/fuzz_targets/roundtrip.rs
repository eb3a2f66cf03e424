//! bytes → canonical params → `build_query` → canonical params is a fixed point, and the
//! stored form (`json_encode` → `json_decode`) gives the same tree back whenever PHP could
//! encode it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testkit::fuzzing::{MAX_INPUT, canon};
use testkit::value::identical_arrays;
use tiki_tokens::canon::http_query::build_query;
use tiki_tokens::canon::json::{decode, encode_params};
use tiki_tokens::canon::{Value, match_params};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    let p1 = canon(data);
    let q = build_query(&p1);
    let p2 = canon(q.as_bytes());
    assert!(
        identical_arrays(&p1, &p2),
        "query {data:?}\nrebuilt {q:?}\n{p1:?}\n{p2:?}"
    );
    assert_eq!(build_query(&p2), q);
    if let Ok(text) = encode_params(&p1) {
        let back = decode(text.as_bytes()).expect("our own JSON decodes");
        let Value::Array(stored) = &back else {
            panic!("not an array: {text}")
        };
        assert!(identical_arrays(stored, &p1), "{text}");
        assert_eq!(match_params(stored, &p1), Ok(()));
    }
});
