//! Property tests of the canonical form (SPEC section 4) and of the JSON / `http_build_query`
//! writers that store and rebuild it.
//!
//! "Canonical params" of a query = `parse_query` with PHP's default limits, `TOKEN` removed.

use proptest::prelude::*;
use proptest::test_runner::Config;
use tiki_tokens::canon::http_query::build_query;
use tiki_tokens::canon::json::{decode, encode_params};
use tiki_tokens::canon::query::QueryLimits;
use tiki_tokens::canon::{Key, Params, PhpArray, Value, match_params};

use testkit::fuzzing::canon;
use testkit::value::identical;

fn same(a: &Params, b: &Params) -> bool {
    identical(&Value::Array(a.clone()), &Value::Array(b.clone()))
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Raw bytes of a query: fragments that exercise PHP's rules (escapes in either case, invalid
/// escapes, `+`, brackets, dots and spaces in names, `TOKEN`, non-ASCII, NUL) glued together.
fn raw_query() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        4 => "[a-z]{1,3}".prop_map(String::into_bytes),
        2 => Just(b"&".to_vec()),
        2 => Just(b"=".to_vec()),
        1 => Just(b"[]".to_vec()),
        1 => "\\[[a-z0-9 ]{0,3}\\]".prop_map(String::into_bytes),
        1 => prop_oneof![Just(b"[".to_vec()), Just(b"]".to_vec()), Just(b".".to_vec()), Just(b" ".to_vec())],
        1 => Just(b"+".to_vec()),
        2 => any::<u8>().prop_map(|b| format!("%{b:02x}").into_bytes()),
        2 => any::<u8>().prop_map(|b| format!("%{b:02X}").into_bytes()),
        1 => prop_oneof![Just(b"%".to_vec()), Just(b"%4".to_vec()), Just(b"%zz".to_vec()), Just(b"%2c".to_vec()), Just(b"%2C".to_vec())],
        1 => prop_oneof![Just(b"TOKEN=".to_vec()), Just(b"token=".to_vec()), Just(b"0=".to_vec()), Just(b"-1".to_vec()), Just(b"01".to_vec())],
        1 => prop_oneof![Just("é".as_bytes().to_vec()), Just(b"\xff".to_vec()), Just(b"\x00".to_vec()), Just(b"%00".to_vec())],
    ];
    proptest::collection::vec(fragment, 0..40).prop_map(|v| v.concat())
}

/// A decoded name or value: any bytes, biased to the interesting ones.
fn decoded_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            6 => proptest::char::range('a', 'z').prop_map(|c| c as u8),
            2 => proptest::sample::select(b"0123456789,%+&=/?#;: \"'\\-_.~".to_vec()),
            1 => any::<u8>(),
        ],
        0..10,
    )
}

/// A top-level parameter name PHP can produce: no `.`/space (PHP makes them `_`), no `[`/`]`,
/// no NUL (PHP ends the name there), not empty, not `TOKEN`.
fn plain_name() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            6 => proptest::char::range('a', 'z').prop_map(|c| c as u8),
            2 => proptest::sample::select(b"0123456789_-,%+&=/?#;:~".to_vec()),
            1 => 0x80u8..=0xff,
        ],
        1..8,
    )
    .prop_filter("not TOKEN", |n| n.as_slice() != b"TOKEN")
}

/// Percent-encodes every byte (hex case chosen per byte) or leaves it literal where that is
/// safe in a query, so that one decoded text has many raw spellings.
fn spell(bytes: &[u8], choices: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        let choice = choices.get(i % choices.len().max(1)).copied().unwrap_or(0);
        let literal_ok = b.is_ascii_alphanumeric() || b"-_.~!*'(),:@/".contains(&b) || b >= 0x80;
        if b == b' ' && choice % 3 == 0 {
            out.push(b'+');
        } else if literal_ok && choice % 3 == 1 {
            out.push(b);
        } else if choice % 2 == 0 {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

/// A request-like tree (strings and arrays only; what `$_GET` holds), not too deep.
fn request_tree() -> impl Strategy<Value = Params> {
    let leaf = decoded_bytes().prop_map(Value::Str);
    let value = leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(|vs| {
                let mut a = PhpArray::new();
                for v in vs {
                    a.push(v);
                }
                Value::Array(a)
            }),
            proptest::collection::vec((decoded_bytes(), inner), 0..5).prop_map(|kvs| Value::Array(
                kvs.into_iter()
                    .map(|(k, v)| (Key::from_bytes(&k), v))
                    .collect()
            )),
        ]
    });
    proptest::collection::vec((plain_name(), value), 0..6).prop_map(|kvs| {
        kvs.into_iter()
            .map(|(k, v)| (Key::from_bytes(&k), v))
            .collect()
    })
}

/// A stored-like tree: request trees plus ints (Tiki stores e.g. `fileId` as an int).
fn stored_tree() -> impl Strategy<Value = Params> {
    (
        request_tree(),
        proptest::collection::vec((plain_name(), any::<i64>()), 0..3),
    )
        .prop_map(|(mut p, ints)| {
            for (k, n) in ints {
                p.insert(Key::from_bytes(&k), Value::Int(n));
            }
            p
        })
}

/// The paths to every leaf (string or int) of a tree.
fn leaf_paths(a: &PhpArray, prefix: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    for (k, v) in a.iter() {
        prefix.push(k.clone());
        match v {
            Value::Array(inner) => leaf_paths(inner, prefix, out),
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

fn leaf_mut<'a>(a: &'a mut PhpArray, path: &[Key]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let v = a.get_mut(first)?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Array(inner) => leaf_mut(inner, rest),
        _ => None,
    }
}

/// One byte of `bytes` changed, inserted or removed (selected by `op`, `at`, `byte`).
fn change_one_byte(bytes: &mut Vec<u8>, op: u8, at: usize, byte: u8) {
    match op % 3 {
        0 if !bytes.is_empty() => {
            let i = at % bytes.len();
            bytes[i] = if bytes[i] == byte {
                byte.wrapping_add(1)
            } else {
                byte
            };
        }
        1 if !bytes.is_empty() => {
            bytes.remove(at % bytes.len());
        }
        _ => bytes.insert(at % (bytes.len() + 1), byte),
    }
}

// ---------------------------------------------------------------------------------------------
// Properties of the canonical form (they need `parse_query`)

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    /// Canonicalisation is idempotent: parse → build → parse is a fixed point.
    #[test]
    fn canonical_form_is_a_fixed_point(q in raw_query()) {
        let p1 = canon(&q);
        let rebuilt = build_query(&p1);
        let p2 = canon(rebuilt.as_bytes());
        prop_assert!(same(&p1, &p2), "query {:?}\nrebuilt {rebuilt:?}\n{p1:?}\n{p2:?}", String::from_utf8_lossy(&q));
        // And building again gives the same text.
        prop_assert_eq!(build_query(&p2), rebuilt);
    }

    /// Parameter order never matters (distinct names).
    #[test]
    fn parameter_order_never_matters(
        pairs in proptest::collection::btree_map(plain_name(), decoded_bytes(), 1..8),
        shuffle in any::<proptest::sample::Index>(),
        spellings in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let mut raw: Vec<Vec<u8>> = pairs
            .iter()
            .map(|(n, v)| [spell(n, &spellings), b"=".to_vec(), spell(v, &spellings)].concat())
            .collect();
        let a = canon(&raw.join(&b'&'));
        // Rotate by a random amount and reverse: together they reach many orders.
        let by = shuffle.index(raw.len());
        raw.rotate_left(by);
        let b = canon(&raw.join(&b'&'));
        prop_assert_eq!(match_params(&a, &b), Ok(()));
        raw.reverse();
        let c = canon(&raw.join(&b'&'));
        prop_assert_eq!(match_params(&a, &c), Ok(()));
        prop_assert_eq!(a.len(), pairs.len());
    }

    /// `%2c` and `%2C` are the same, and so is every other spelling of the same decoded bytes
    /// (hex case, literal or escaped, `+` or `%20`).
    #[test]
    fn spelling_never_matters(
        pairs in proptest::collection::vec((plain_name(), decoded_bytes()), 1..8),
        s1 in proptest::collection::vec(any::<u8>(), 1..16),
        s2 in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let query = |s: &[u8]| -> Vec<u8> {
            pairs.iter().map(|(n, v)| [spell(n, s), b"=".to_vec(), spell(v, s)].concat()).collect::<Vec<_>>().join(&b'&')
        };
        let (a, b) = (canon(&query(&s1)), canon(&query(&s2)));
        prop_assert!(same(&a, &b), "{a:?}\n{b:?}");
        prop_assert!(same(&canon(b"separator=%2c"), &canon(b"separator=%2C")));
    }

    /// Any change to a decoded name or value changes the result: a canonical tree whose one
    /// name or value has one byte changed, written with `build_query` and read back, no longer
    /// matches the original.
    #[test]
    fn one_byte_change_flips_match_to_mismatch(
        p in request_tree(),
        which in any::<proptest::sample::Index>(),
        op in any::<u8>(), at in any::<usize>(), byte in any::<u8>(), in_name in any::<bool>(),
    ) {
        // Start from what PHP really produces for the tree's query.
        let p = canon(build_query(&p).as_bytes());
        let mut paths = Vec::new();
        leaf_paths(&p, &mut Vec::new(), &mut paths);
        prop_assume!(!paths.is_empty());
        let path = paths[which.index(paths.len())].clone();
        prop_assert_eq!(match_params(&p, &canon(build_query(&p).as_bytes())), Ok(()));

        let mut changed = p.clone();
        if in_name && path.len() == 1 {
            // Rename a top-level parameter to a name PHP can produce.
            let mut name = path[0].to_bytes();
            let byte = if b" .[]\0".contains(&byte) { b'x' } else { byte };
            change_one_byte(&mut name, op, at, byte);
            prop_assume!(!name.is_empty() && name != b"TOKEN" && name[0] != b' ');
            let key = Key::from_bytes(&name);
            prop_assume!(p.get(&key).is_none());
            let v = changed.remove(&path[0]).unwrap();
            changed.insert(key, v);
        } else {
            let Some(Value::Str(s)) = leaf_mut(&mut changed, &path) else {
                return Err(TestCaseError::fail("leaf is not a string"));
            };
            change_one_byte(s, op, at, byte);
        }
        prop_assert!(match_params(&p, &changed).is_err());
        let back = canon(build_query(&changed).as_bytes());
        prop_assert!(same(&back, &changed), "{changed:?} came back as {back:?}");
        prop_assert!(match_params(&p, &back).is_err());
        prop_assert!(match_params(&back, &p).is_err());
    }

    /// The canonical params survive being stored as JSON: decode(encode(p)) matches p.
    #[test]
    fn stored_json_matches_the_request(q in raw_query()) {
        let p = canon(&q);
        match encode_params(&p) {
            Ok(text) => {
                let stored = decode(text.as_bytes()).unwrap();
                let Value::Array(stored) = stored else { panic!("not an array: {text}") };
                prop_assert_eq!(match_params(&stored, &p), Ok(()));
            }
            // PHP's json_encode refuses exactly the trees holding bytes that are not UTF-8.
            Err(_) => prop_assert!(has_invalid_utf8(&p)),
        }
    }

    /// No panic and bounded output on any bytes.
    #[test]
    fn parse_query_is_total_and_bounded(q in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let p = canon(&q);
        prop_assert!(p.len() <= QueryLimits::default().max_input_vars);
        let _ = build_query(&p);
        let _ = encode_params(&p);
    }
}

fn has_invalid_utf8(a: &PhpArray) -> bool {
    a.iter().any(|(k, v)| {
        matches!(k, Key::Str(s) if std::str::from_utf8(s).is_err())
            || match v {
                Value::Str(s) => std::str::from_utf8(s).is_err(),
                Value::Array(inner) => has_invalid_utf8(inner),
                _ => false,
            }
    })
}

// ---------------------------------------------------------------------------------------------
// Properties of the match rule and the writers alone (no `parse_query`)

proptest! {
    #![proptest_config(Config { cases: 1024, ..Config::default() })]

    /// `match_params` is symmetric, also for near-misses (a second tree derived from the first).
    #[test]
    fn match_params_is_symmetric(a in stored_tree(), b in stored_tree(), mix in any::<u8>()) {
        let b = match mix % 3 {
            0 => a.clone(),
            1 => {
                let mut c = a.clone();
                for (k, v) in b.iter().take(1) {
                    c.insert(k.clone(), v.clone());
                }
                c
            }
            _ => b,
        };
        prop_assert_eq!(match_params(&a, &b).is_ok(), match_params(&b, &a).is_ok());
    }

    /// A request tree matches itself (reflexive); so does a reordered copy.
    #[test]
    fn match_params_is_reflexive_for_requests(a in request_tree()) {
        prop_assert_eq!(match_params(&a, &a), Ok(()));
        let mut entries: Vec<_> = a.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries.reverse();
        let reversed: PhpArray = entries.into_iter().collect();
        prop_assert_eq!(match_params(&a, &reversed), Ok(()));
    }

    /// A single-byte change to a decoded name or value of a tree flips a match to a mismatch
    /// (tree level: whatever the bytes).
    #[test]
    fn one_byte_change_in_tree_mismatches(
        p in stored_tree(),
        which in any::<proptest::sample::Index>(),
        op in any::<u8>(), at in any::<usize>(), byte in any::<u8>(), in_name in any::<bool>(),
    ) {
        let mut paths = Vec::new();
        leaf_paths(&p, &mut Vec::new(), &mut paths);
        prop_assume!(!paths.is_empty());
        let path = paths[which.index(paths.len())].clone();
        let mut changed = p.clone();
        if in_name {
            // Rebuild the array holding the leaf with the leaf's key changed.
            let (last, parent) = path.split_last().unwrap();
            let holder = if parent.is_empty() {
                &mut changed
            } else {
                match leaf_mut(&mut changed, parent) {
                    Some(Value::Array(a)) => a,
                    _ => return Err(TestCaseError::fail("no parent")),
                }
            };
            let mut name = last.to_bytes();
            change_one_byte(&mut name, op, at, byte);
            let key = Key::from_bytes(&name);
            prop_assume!(holder.get(&key).is_none());
            let v = holder.remove(last).unwrap();
            holder.insert(key, v);
        } else {
            match leaf_mut(&mut changed, &path) {
                Some(Value::Str(s)) => change_one_byte(s, op, at, byte),
                Some(Value::Int(n)) => *n = n.wrapping_add(1 + i64::from(byte)),
                _ => return Err(TestCaseError::fail("not a leaf")),
            }
        }
        prop_assert!(match_params(&p, &changed).is_err());
        prop_assert!(match_params(&changed, &p).is_err());
    }

    /// JSON encode → decode gives the tree back exactly (keys, order, types) for trees of
    /// strings, ints and arrays, and encode fails exactly when a string is not UTF-8.
    #[test]
    fn json_round_trip(p in stored_tree()) {
        match encode_params(&p) {
            Ok(text) => {
                let back = decode(text.as_bytes()).unwrap();
                prop_assert!(identical(&back, &Value::Array(p.clone())), "{text}\n{back:?}\n{p:?}");
            }
            Err(_) => prop_assert!(has_invalid_utf8(&p)),
        }
    }

    /// `json_decode` never panics, on any bytes.
    #[test]
    fn json_decode_is_total(text in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&text);
    }

    /// `build_query` writes only what a URL query may hold unescaped, and one pair per leaf.
    #[test]
    fn build_query_writes_safe_text(p in stored_tree()) {
        let q = build_query(&p);
        prop_assert!(q.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.%+=&".contains(&b)), "{q}");
        let mut leaves = Vec::new();
        leaf_paths(&p, &mut Vec::new(), &mut leaves);
        let pairs = if q.is_empty() { 0 } else { q.split('&').count() };
        prop_assert_eq!(pairs, leaves.len());
    }
}
