//! bytes → canonical params → `build_query` → canonical params is a fixed point, and the
//! stored form (`json_encode` → `json_decode`) gives the same tree back whenever PHP could
//! encode it.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use tiki_tokens::canon::http_query::build_query;
use tiki_tokens::canon::json::{decode, encode_params};
use tiki_tokens::canon::{Value, match_params};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(common::MAX_INPUT)];
    let p1 = common::canon(data);
    let q = build_query(&p1);
    let p2 = common::canon(q.as_bytes());
    assert!(
        common::identical_arrays(&p1, &p2),
        "query {data:?}\nrebuilt {q:?}\n{p1:?}\n{p2:?}"
    );
    assert_eq!(build_query(&p2), q);
    if let Ok(text) = encode_params(&p1) {
        let back = decode(text.as_bytes()).expect("our own JSON decodes");
        let Value::Array(stored) = &back else {
            panic!("not an array: {text}")
        };
        assert!(common::identical_arrays(stored, &p1), "{text}");
        assert_eq!(match_params(stored, &p1), Ok(()));
    }
});
