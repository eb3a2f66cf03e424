//! Real PHP 8.2 as the oracle for `canon::json` (`json_encode`, `json_decode($t, true)`) and
//! `canon::http_query` (`http_build_query($p, '', '&')`).
//!
//! Deterministic generated cases (a seeded SplitMix64, so a failure names a case that can be
//! reproduced) plus hand-written edge cases go to one PHP process per batch as `serialize()`
//! text; PHP answers with `serialize()` text. Every case must agree byte for byte, except the
//! labels listed in [`EXPECTED_DEVIATIONS`] (like rust-url's expected failures: a listed case
//! that starts to agree fails the test too, so the list never goes stale). Goal: empty.

use testkit::php;
use testkit::rng::Rng;
use testkit::value::{identical, serialize, serialize_strings, unserialize};
use tiki_tokens::canon::http_query::build_query;
use tiki_tokens::canon::json::{decode, encode_params, encode_value};
use tiki_tokens::canon::{Key, PhpArray, Value};

/// Case labels known to differ from PHP, with the reason. Empty: no known deviation.
const EXPECTED_DEVIATIONS: &[(&str, &str)] = &[];

// ---------------------------------------------------------------------------------------------
// Generators

const PUNCT: &[u8] = b"/\"\\ +&=%[]._-~:,{}'#?;!*()<>@$^`|";
const BMP: &[char] = &[
    'é', '€', 'ß', '\u{80}', '\u{7ff}', '\u{800}', '\u{fffd}', '\u{ffff}', '\u{2028}', '\u{feff}',
];
const ASTRAL: &[char] = &['😀', '\u{10000}', '\u{10ffff}', '𝄞'];
const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc0\xaf",
    b"\xc1\xbf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xf4\x90\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xe0\x80\x80",
];

fn gen_string(rng: &mut Rng, invalid: bool) -> Vec<u8> {
    let mut s = Vec::new();
    for _ in 0..rng.below(10) {
        match rng.below(if invalid { 9 } else { 8 }) {
            0 | 1 => s.push(*rng.pick(b"abcXYZ0123456789")),
            2 => s.push(*rng.pick(PUNCT)),
            3 => s.push(u8::try_from(rng.below(0x20)).unwrap()),
            4 => s.push(0x7f),
            5 => {
                let c = if rng.chance(50) {
                    *rng.pick(BMP)
                } else {
                    char::from_u32(0x80 + u32::try_from(rng.below(0xd800 - 0x80)).unwrap()).unwrap()
                };
                s.extend_from_slice(c.to_string().as_bytes());
            }
            6 => {
                let c = if rng.chance(50) {
                    *rng.pick(ASTRAL)
                } else {
                    char::from_u32(0x10000 + u32::try_from(rng.below(0x100000)).unwrap()).unwrap()
                };
                s.extend_from_slice(c.to_string().as_bytes());
            }
            7 => s.extend_from_slice(
                rng.pick(&["1", "-1", "01", "0", "-0", "9223372036854775808", " 1"])
                    .as_bytes(),
            ),
            _ => s.extend_from_slice(rng.pick_bytes(INVALID_UTF8)),
        }
    }
    s
}

fn gen_int(rng: &mut Rng) -> i64 {
    *rng.pick(&[
        0,
        1,
        2,
        3,
        -1,
        7,
        42,
        100,
        1_000_000,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
    ])
}

fn gen_float(rng: &mut Rng) -> f64 {
    match rng.below(4) {
        0 => *rng.pick(&[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.5,
            2.5,
            100.0,
            1e25,
            1e22,
            1e21,
            1e17,
            1e16,
            1e15,
            1e14,
            1e-4,
            1e-5,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            123_456_789_012_345.0,
            1_234_567_890_123.25,
            12_345_678_901_234.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]),
        1 => loop {
            let f = f64::from_bits(rng.next_u64());
            if f.is_finite() {
                break f;
            }
        },
        2 => {
            // "Nice" decimals: n / 10^k and n * 10^k.
            let n = (rng.next_u64() % 1_000_000_000) as f64;
            let k = i32::try_from(rng.below(30)).unwrap();
            if rng.chance(50) {
                n / 10f64.powi(k)
            } else {
                n * 10f64.powi(k)
            }
        }
        _ => (rng.next_u64() >> 11) as f64 * if rng.chance(50) { 1.0 } else { -1.0 },
    }
}

fn gen_key(rng: &mut Rng, invalid: bool) -> Key {
    if rng.chance(35) {
        Key::Int(gen_int(rng))
    } else {
        Key::from_bytes(&gen_string(rng, invalid))
    }
}

fn gen_value(rng: &mut Rng, depth: usize, invalid: bool) -> Value {
    if depth > 0 && rng.chance(25) {
        return Value::Array(gen_array(rng, depth - 1, invalid));
    }
    match rng.below(20) {
        0..=11 => Value::Str(gen_string(rng, invalid)),
        12..=14 => Value::Int(gen_int(rng)),
        15 | 16 => Value::Float(gen_float(rng)),
        17 => Value::Bool(rng.chance(50)),
        18 => Value::Null,
        _ => Value::Array(PhpArray::new()),
    }
}

fn gen_array(rng: &mut Rng, depth: usize, invalid: bool) -> PhpArray {
    let mut a = PhpArray::new();
    let n = rng.below(7);
    match rng.below(4) {
        // A list: what `a[]=x&a[]=y` or a JSON array gives.
        0 | 1 => {
            for _ in 0..n {
                a.push(gen_value(rng, depth, invalid));
            }
        }
        // A list with a hole or out of order: an object in JSON.
        2 => {
            for i in 0..n {
                a.insert(
                    Key::Int(i64::try_from(n - i).unwrap()),
                    gen_value(rng, depth, invalid),
                );
            }
        }
        _ => {
            for _ in 0..n {
                a.insert(gen_key(rng, invalid), gen_value(rng, depth, invalid));
            }
        }
    }
    a
}

fn nested(levels: usize) -> PhpArray {
    let mut a = PhpArray::new();
    for _ in 1..levels {
        let mut outer = PhpArray::new();
        outer.push(Value::Array(a));
        a = outer;
    }
    a
}

fn params(pairs: &[(&str, Value)]) -> PhpArray {
    pairs
        .iter()
        .map(|(k, v)| (Key::from_bytes(k.as_bytes()), v.clone()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::Str(v.as_bytes().to_vec())
}

fn list(items: &[Value]) -> Value {
    let mut a = PhpArray::new();
    for v in items {
        a.push(v.clone());
    }
    Value::Array(a)
}

/// Hand-written trees: the SPEC's and the Tiki issue's examples, and depth limits.
fn hand_trees() -> Vec<Value> {
    let mut t = vec![
        Value::Array(params(&[
            ("controller", s("tracker")),
            ("action", s("export_items")),
            ("trackerId", s("3")),
            ("separator", s(",")),
            ("listfields", list(&[s("2"), s("3")])),
            ("sort_mode", s("created_desc")),
        ])),
        Value::Array(params(&[("page", s("HomePage"))])),
        Value::Array(params(&[("fileId", Value::Int(5))])),
        Value::Array(params(&[
            ("a", s("%2C")),
            ("b", s("50%")),
            ("c d", s("e+f")),
            ("g/h", s("i/j")),
        ])),
        Value::Array(params(&[("a", list(&[])), ("b", Value::Null)])),
        Value::Array(params(&[("", s("")), ("0", s("0")), ("x", s(""))])),
        Value::Array(PhpArray::new()),
        Value::Array(nested(511)),
        Value::Array(nested(512)),
        Value::Array(nested(513)),
        Value::Array(params(&[("deep", Value::Array(nested(65)))])),
        Value::Array(params(&[("k", Value::Array(nested(511)))])),
    ];
    for v in [
        s(""),
        s("/"),
        s("é"),
        Value::Str(b"\xff".to_vec()),
        Value::Int(i64::MIN),
        Value::Float(1e25),
        Value::Float(-0.0),
        Value::Float(f64::NAN),
        Value::Bool(true),
        Value::Null,
    ] {
        t.push(v);
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Outcome bookkeeping

#[derive(Default)]
struct Outcome {
    checked: usize,
    failures: Vec<(String, String)>,
}

impl Outcome {
    fn check(&mut self, label: String, agree: bool, detail: impl FnOnce() -> String) {
        self.checked += 1;
        if !agree {
            self.failures.push((label, detail()));
        }
    }

    /// Fails on any disagreement not listed in [`EXPECTED_DEVIATIONS`], and on any listed one
    /// that now agrees.
    fn finish(self, what: &str) {
        let unexpected: Vec<_> = self
            .failures
            .iter()
            .filter(|(l, _)| !EXPECTED_DEVIATIONS.iter().any(|(d, _)| d == l))
            .collect();
        let fixed: Vec<_> = EXPECTED_DEVIATIONS
            .iter()
            .filter(|(d, _)| d.starts_with(what) && !self.failures.iter().any(|(l, _)| l == d))
            .collect();
        println!(
            "{what}: {} checks against PHP, {} disagree ({} expected)",
            self.checked,
            self.failures.len(),
            self.failures.len() - unexpected.len()
        );
        for (label, detail) in unexpected.iter().take(25) {
            println!("  DIFF {label}: {detail}");
        }
        assert!(
            unexpected.is_empty(),
            "{what}: {} unexpected differences from PHP",
            unexpected.len()
        );
        assert!(
            fixed.is_empty(),
            "{what}: expected deviations that now agree, remove them: {fixed:?}"
        );
    }
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Str(b) => show(b),
        other => format!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Trees: json_encode, json_decode(json_encode), http_build_query

const TREES_PHP: &str = r#"
$cases = unserialize(stream_get_contents(STDIN));
$out = [];
foreach ($cases as $c) {
    $e = json_encode($c);
    $ok = false; $d = null;
    if ($e !== false) { $d = json_decode($e, true); $ok = json_last_error() === 0; }
    $h = is_array($c) ? http_build_query($c, '', '&') : null;
    $out[] = [$e, $ok, $d, $h];
}
echo serialize($out);
"#;

#[test]
fn trees_encode_like_php() {
    let mut rng = Rng(0x7469_6b69_2d74_6f6b);
    let mut trees = hand_trees();
    let hand = trees.len();
    for _ in 0..1500 {
        let invalid = rng.chance(15);
        let depth = rng.below(5);
        trees.push(Value::Array(gen_array(&mut rng, depth, invalid)));
    }
    let labels: Vec<String> = (0..trees.len())
        .map(|i| {
            if i < hand {
                format!("tree/hand#{i}")
            } else {
                format!("tree/gen#{}", i - hand)
            }
        })
        .collect();

    let mut all = PhpArray::new();
    for t in &trees {
        all.push(t.clone());
    }
    let answers = match unserialize(&php::eval(TREES_PHP, &serialize(&Value::Array(all)))) {
        Value::Array(a) => a,
        other => panic!("PHP answered {other:?}"),
    };
    assert_eq!(answers.len(), trees.len());

    let mut out = Outcome::default();
    let (mut encodable, mut http) = (0, 0);
    for ((tree, label), (_, answer)) in trees.iter().zip(&labels).zip(answers.iter()) {
        let Value::Array(answer) = answer else {
            panic!("bad answer {answer:?}")
        };
        let field = |i: i64| answer.get(&Key::Int(i)).unwrap();
        let ours = match tree {
            Value::Array(a) => encode_params(a),
            v => encode_value(v),
        };
        // json_encode: the same bytes, or both fail.
        let php_e = field(0);
        let agree = match (&ours, php_e) {
            (Ok(text), Value::Str(p)) => text.as_bytes() == p.as_slice(),
            (Err(_), Value::Bool(false)) => true,
            _ => false,
        };
        out.check(format!("{label}/json_encode"), agree, || {
            format!("ours {ours:?}, PHP {}", show_value(php_e))
        });

        // json_decode(json_encode(x), true) where both encodings agree.
        if let (Ok(text), Value::Str(_)) = (&ours, php_e) {
            encodable += 1;
            let php_ok = matches!(field(1), Value::Bool(true));
            let mine = decode(text.as_bytes());
            let agree = match &mine {
                Ok(v) => php_ok && identical(v, field(2)),
                Err(_) => !php_ok,
            };
            out.check(format!("{label}/json_decode"), agree, || {
                format!(
                    "text {}, ours {mine:?}, PHP ok={php_ok} {:?}",
                    show(text.as_bytes()),
                    field(2)
                )
            });
        }

        // http_build_query.
        if let Value::Array(a) = tree {
            http += 1;
            let mine = build_query(a);
            let php_h = field(3);
            let agree = matches!(php_h, Value::Str(p) if p == mine.as_bytes());
            out.check(format!("{label}/http_build_query"), agree, || {
                format!("ours {mine:?}, PHP {}", show_value(php_h))
            });
        }
    }
    println!(
        "trees: {} ({} hand-written), {encodable} encodable, {http} arrays",
        trees.len(),
        hand
    );
    out.finish("tree");
}

// ---------------------------------------------------------------------------------------------
// Texts: json_decode on hand-written, generated and mutated JSON

const TEXTS_PHP: &str = r#"
$texts = unserialize(stream_get_contents(STDIN));
$out = [];
foreach ($texts as $t) {
    $v = json_decode($t, true);
    $out[] = [json_last_error(), $v];
}
echo serialize($out);
"#;

fn hand_texts() -> Vec<Vec<u8>> {
    let mut t: Vec<Vec<u8>> = [
        &b"true"[..], b"false", b"null", b"TRUE", b"True", b"NULL", b"Null", b"nul", b"truex",
        b" 1 ", b"01", b"-0", b"-0.0", b"0", b"-", b"--1", b"+1", b"1.", b".5", b"1.5e3", b"-1E-2",
        b"1e01", b"00", b"-01", b"0.0e-0", b"0e5", b"1E+2", b"1e", b"1e+", b"0x10", b"123abc",
        b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
        b"-9223372036854775809", b"18446744073709551616", b"1e999", b"-1e999", b"1e-999",
        b"1e99999999999999999999", b"123456789012345678901234567890", b"0.1e1", b"2.5e-324",
        b"[]", b"{}", b"[[]]", b"[1,]", b"{\"a\":1,}", b"[,]", b"[1,,2]", b"{,}", b"[", b"{", b"]",
        b"{\"a\"}", b"{\"a\":}", b"{1:1}", b"{'a':1}", b"'a'", b"[1] ", b"[1]x", b"1 2",
        b"[\n1\r,\t2 ]", b"{\"a\" : 1}", b"{\"a\":1 \"b\":2}", b"\x0c1", b"\x0b1", b"\x001", b"1\x00",
        b"", b"  ", b"\xef\xbb\xbf1", b"\xc2\xa01",
        br#""\ud800""#, br#""\udc00""#, br#""\ud800x""#, br#""\ud800\u0041""#, br#""\udc00\ud800""#,
        br#""\ud800\udc00""#, br#""\ud83d\ude00""#, br#""\uD83D\uDE00""#, br#""\udbff\udfff""#,
        br#""\ud800\\udc00""#, br#""\u0000""#, br#""\u00e9""#, br#""\u00E9""#, br#""\U00e9""#,
        br#""\u00e""#, br#""\u00eg""#, br#""\'""#, br#""\a""#, br#""\/""#, br#""\b\f\n\r\t\"\\""#,
        b"\"a\x00\"", b"\"\x01\"", b"\"\x1f\"", b"\"\x7f\"", b"\"\xff\"", b"\"\xc0\xaf\"",
        b"\"\xed\xa0\x80\"", b"\"\xf4\x90\x80\x80\"", b"\"\xef\xbf\xbf\"", b"\"\xf0\x9f\x98\x80\"",
        b"\"\xe0\x80\x80\"", b"\"abc", b"\"\\\"", b"\"\t\"",
        br#"{"1":1,"01":2,"a":3,"1":4}"#, br#"{"":1}"#, br#"{"\u0000a":1}"#, br#"{"\u0031":1}"#,
        br#"{"-0":1,"-1":2,"9223372036854775807":3,"9223372036854775808":4}"#,
        br#"{"a":1,"a":2}"#, br#"{"b":1,"a":2,"b":3}"#, br#"[1,{"a":[true,false,null]},"x"]"#,
        br#"{"page":"HomePage"}"#, br#"["Admins","Registered"]"#,
        br#"{"controller":"tracker","action":"export_items","trackerId":"3","separator":",","listfields":["2","3"]}"#,
    ]
    .iter()
    .map(|t| t.to_vec())
    .collect();
    for n in [510, 511, 512, 513] {
        t.push([b"[".repeat(n), b"]".repeat(n)].concat());
        t.push([b"{\"a\":".repeat(n), b"1".to_vec(), b"}".repeat(n)].concat());
        t.push([b"[".repeat(n), b"1".to_vec(), b"]".repeat(n)].concat());
    }
    t.push(b"[".repeat(100_000));
    t
}

fn gen_number_text(rng: &mut Rng) -> Vec<u8> {
    let mut t = Vec::new();
    if rng.chance(40) {
        t.push(b'-');
    }
    if rng.chance(3) {
        t.push(b'+');
    }
    if rng.chance(15) {
        t.push(b'0');
    } else {
        t.push(*rng.pick(b"123456789"));
    }
    let len = if rng.chance(30) { 25 } else { 8 };
    for _ in 0..rng.below(len) {
        t.push(*rng.pick(b"0123456789"));
    }
    if rng.chance(40) {
        t.push(b'.');
        for _ in 0..rng.below(20) {
            t.push(*rng.pick(b"0123456789"));
        }
    }
    if rng.chance(30) {
        t.push(*rng.pick(b"eE"));
        if rng.chance(60) {
            t.push(*rng.pick(b"+-"));
        }
        for _ in 0..rng.below(4) {
            t.push(*rng.pick(b"0123456789"));
        }
    }
    if rng.chance(5) {
        t.push(*rng.pick(b" .e-x0"));
    }
    t
}

fn gen_string_text(rng: &mut Rng) -> Vec<u8> {
    let mut t = vec![b'"'];
    for _ in 0..rng.below(8) {
        match rng.below(10) {
            0 | 1 => {
                let invalid = rng.chance(10);
                t.extend_from_slice(&gen_string(rng, invalid));
            }
            2 => t.extend_from_slice(rng.pick_bytes(&[
                &b"\\\""[..],
                b"\\\\",
                b"\\/",
                b"\\b",
                b"\\f",
                b"\\n",
                b"\\r",
                b"\\t",
            ])),
            3 | 4 => {
                let hex = b"0123456789abcdefABCDEF";
                t.extend_from_slice(b"\\u");
                let lead = *rng.pick(&[
                    &b"00"[..],
                    b"0",
                    b"d8",
                    b"dB",
                    b"DC",
                    b"df",
                    b"fe",
                    b"ff",
                    b"20",
                ]);
                t.extend_from_slice(lead);
                for _ in lead.len()..4 {
                    t.push(*rng.pick(hex));
                }
            }
            5 => t.extend_from_slice(rng.pick_bytes(&[
                &b"\\ud83d\\ude00"[..],
                b"\\uD800\\uDC00",
                b"\\udbff\\udfff",
            ])),
            6 => t.extend_from_slice(rng.pick_bytes(&[
                &b"\\ud800"[..],
                b"\\udc00",
                b"\\ud800\\ud800",
                b"\\udc00\\ud800",
            ])),
            7 => t.extend_from_slice(rng.pick_bytes(&[
                &b"\\x41"[..],
                b"\\U0041",
                b"\\u12",
                b"\\u12g4",
                b"\\",
                b"\\'",
                b"\\0",
            ])),
            8 => t.push(u8::try_from(rng.below(0x20)).unwrap()),
            _ => t.extend_from_slice("é€😀".as_bytes()),
        }
    }
    if rng.chance(95) {
        t.push(b'"');
    }
    if rng.chance(30) {
        // As an object key too (escapes that spell "1" become integer keys).
        t = [b"{".to_vec(), t, b":1}".to_vec()].concat();
    }
    t
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8] =
        b"{}[]\",:\\ 0123456789eE+-.tfnrulsaud\x00\x01\x7f\xff\xc3\xa9\t\n\r\x0c";
    let mut t = base.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = if t.is_empty() {
            0
        } else {
            rng.below(t.len() + 1)
        };
        match rng.below(5) {
            0 if !t.is_empty() && at < t.len() => {
                t.remove(at);
            }
            1 => t.insert(at, *rng.pick(ALPHABET)),
            2 if at < t.len() => t[at] = *rng.pick(ALPHABET),
            3 if at < t.len() => {
                let end = (at + 1 + rng.below(6)).min(t.len());
                let piece = t[at..end].to_vec();
                t.splice(at..at, piece);
            }
            _ => t.truncate(at),
        }
    }
    t
}

#[test]
fn texts_decode_like_php() {
    let mut rng = Rng(0x6a73_6f6e_6465_636f);
    let hand = hand_texts();
    let mut texts: Vec<(String, Vec<u8>)> = hand
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("text/hand#{i}"), t.clone()))
        .collect();
    for i in 0..400 {
        texts.push((format!("text/number#{i}"), gen_number_text(&mut rng)));
    }
    for i in 0..400 {
        texts.push((format!("text/string#{i}"), gen_string_text(&mut rng)));
    }
    // Valid JSON to mutate: encodings of generated trees and the valid hand-written texts.
    let mut bases: Vec<Vec<u8>> = hand
        .iter()
        .filter(|t| decode(t).is_ok() && t.len() < 2000)
        .cloned()
        .collect();
    while bases.len() < 200 {
        let depth = rng.below(4);
        if let Ok(text) = encode_params(&gen_array(&mut rng, depth, false)) {
            texts.push((
                format!("text/encoded#{}", bases.len()),
                text.clone().into_bytes(),
            ));
            bases.push(text.into_bytes());
        }
    }
    for i in 0..1500 {
        let base = rng.pick(&bases).clone();
        texts.push((format!("text/mutated#{i}"), mutate(&mut rng, &base)));
    }

    let raw: Vec<&[u8]> = texts.iter().map(|(_, t)| t.as_slice()).collect();
    let answers = match unserialize(&php::eval(TEXTS_PHP, &serialize_strings(&raw))) {
        Value::Array(a) => a,
        other => panic!("PHP answered {other:?}"),
    };
    assert_eq!(answers.len(), texts.len());

    let mut out = Outcome::default();
    let mut valid = 0;
    for ((label, text), (_, answer)) in texts.iter().zip(answers.iter()) {
        let Value::Array(answer) = answer else {
            panic!("bad answer {answer:?}")
        };
        let php_ok = matches!(answer.get(&Key::Int(0)), Some(Value::Int(0)));
        let php_v = answer.get(&Key::Int(1)).unwrap();
        let mine = decode(text);
        valid += usize::from(php_ok);
        let agree = match &mine {
            Ok(v) => php_ok && identical(v, php_v),
            Err(_) => !php_ok,
        };
        out.check(label.clone(), agree, || {
            format!(
                "text {}, ours {mine:?}, PHP error {:?} value {php_v:?}",
                show(text),
                answer.get(&Key::Int(0))
            )
        });
    }
    println!(
        "texts: {} ({} hand-written), {valid} valid for PHP",
        texts.len(),
        hand.len()
    );
    out.finish("text");
}

// ---------------------------------------------------------------------------------------------
// Floats: json_encode (serialize_precision -1) and http_build_query (precision 14)

const FLOATS_PHP: &str = r#"
$floats = unserialize(stream_get_contents(STDIN));
$out = [];
foreach ($floats as $f) {
    $out[] = [json_encode($f), http_build_query(['f' => $f], '', '&')];
}
echo serialize($out);
"#;

#[test]
fn floats_print_like_php() {
    let mut rng = Rng(0x666c_6f61_7473_2121);
    let mut floats: Vec<f64> = (0..3000).map(|_| gen_float(&mut rng)).collect();
    // Ties between two shortest candidates (ulp 0.25 just above 2^50) and at the 15th digit.
    for i in 0..200u32 {
        floats.push(1_125_899_906_842_624.0 + f64::from(i) * 0.25 + 0.25);
        floats.push(123_456_789_012_300.0 + f64::from(i) * 5.0);
        floats.push(-(1_234_567_890_123.0 + f64::from(i) * 0.25));
        floats.push(100_000_000_000_000.0 + f64::from(i) * 4_999_999_999_999.0);
        floats.push(f64::from(i) * 1_000_000_000_000.5);
    }
    // 15-digit integers ending in 5 (zend_dtoa's small-integer path).
    for _ in 0..500 {
        let n = 10_000_000_000_000 + rng.next_u64() % 90_000_000_000_000;
        #[allow(clippy::cast_precision_loss)]
        floats.push((n * 10 + 5) as f64);
    }
    let list: PhpArray = floats
        .iter()
        .map(|f| Value::Float(*f))
        .enumerate()
        .map(|(i, v)| (Key::Int(i64::try_from(i).unwrap()), v))
        .collect();
    let answers = match unserialize(&php::eval(FLOATS_PHP, &serialize(&Value::Array(list)))) {
        Value::Array(a) => a,
        other => panic!("PHP answered {other:?}"),
    };
    assert_eq!(answers.len(), floats.len());
    let mut out = Outcome::default();
    for (i, (f, (_, answer))) in floats.iter().zip(answers.iter()).enumerate() {
        let Value::Array(answer) = answer else {
            panic!("bad answer {answer:?}")
        };
        let php_e = answer.get(&Key::Int(0)).unwrap();
        let ours = encode_value(&Value::Float(*f));
        let agree = match (&ours, php_e) {
            (Ok(t), Value::Str(p)) => t.as_bytes() == p.as_slice(),
            (Err(_), Value::Bool(false)) => true,
            _ => false,
        };
        out.check(format!("float#{i}/json_encode"), agree, || {
            format!("{f:e}: ours {ours:?}, PHP {}", show_value(php_e))
        });
        let php_h = answer.get(&Key::Int(1)).unwrap();
        let mine = build_query(&params(&[("f", Value::Float(*f))]));
        let agree = matches!(php_h, Value::Str(p) if p == mine.as_bytes());
        out.check(format!("float#{i}/http_build_query"), agree, || {
            format!("{f:e}: ours {mine:?}, PHP {}", show_value(php_h))
        });
    }
    println!("floats: {}", floats.len());
    out.finish("float");
}
