//! Params tree → query string, as PHP's `http_build_query($params, '', '&')` writes it.
//!
//! The rules, read off PHP 8.2 (`ext/standard/http.c`) and checked against the real PHP CLI in
//! `tests/php_oracle_encode.rs`:
//!
//! * keys and values are `urlencode`d (RFC 1738): ASCII letters, digits and `-_.` stay, space
//!   becomes `+`, every other byte `%XX` in upper case (so `~` is `%7E`);
//! * a nested entry is written as `outer%5Binner%5D=…` (the brackets themselves encoded),
//!   deeper ones as `a%5Bb%5D%5Bc%5D=…`; integer keys in decimal at every level;
//! * ints in decimal, `true` as `1`, `false` as `0`; null values and empty arrays write nothing;
//! * floats as `(string)` with `precision = 14` prints them (`1.5`, `-0`, `1.0E+25`, `NAN`,
//!   `INF`), then urlencoded (`1.0E%2B25`);
//! * pairs joined by `&`, in insertion order.

use super::json::{decimal_digits, php_gcvt_layout};
use super::tree::{Key, Params, PhpArray, Value};

/// PHP's default `precision` ini setting, which `(string) $float` (and so `http_build_query`)
/// uses.
const PHP_PRECISION: usize = 14;

/// `http_build_query($params, '', '&')` (RFC 1738 encoding: space as `+`).
#[must_use]
pub fn build_query(params: &Params) -> String {
    let mut out = String::new();
    // An explicit stack instead of recursion: no stack overflow whatever the tree's depth.
    // Each frame: the array's entries still to write, and the encoded name of the array
    // (`a%5Bb%5D`), `None` at the top level (a nested array under the key "" has the name "").
    let mut stack: Vec<(Entries<'_>, Option<String>)> = vec![(Box::new(params.iter()), None)];
    while let Some((entries, prefix)) = stack.last_mut() {
        let Some((key, value)) = entries.next() else {
            stack.pop();
            continue;
        };
        let name = match prefix {
            None => encode_key(key),
            Some(outer) => format!("{outer}%5B{}%5D", encode_key(key)),
        };
        let scalar = match value {
            Value::Null => continue,
            Value::Array(inner) => {
                stack.push((Box::new(PhpArray::iter(inner)), Some(name)));
                continue;
            }
            Value::Str(s) => urlencode(s),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Value::Float(f) => urlencode(php_float_to_string(*f).as_bytes()),
        };
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&name);
        out.push('=');
        out.push_str(&scalar);
    }
    out
}

/// The entries of one array still to be written.
type Entries<'a> = Box<dyn Iterator<Item = (&'a Key, &'a Value)> + 'a>;

fn encode_key(key: &Key) -> String {
    match key {
        Key::Int(n) => n.to_string(),
        Key::Str(s) => urlencode(s),
    }
}

/// PHP's `urlencode`: ASCII alphanumerics and `-_.` kept, space as `+`, any other byte as
/// `%XX` (upper-case hex).
#[must_use]
pub fn urlencode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

/// `(string) $float` with PHP's default `precision = 14` (`%.14G`): 14 significant digits,
/// trailing zeros dropped, exponent form `1.0E+25` past 14 integer digits or below `1e-4`.
#[must_use]
pub fn php_float_to_string(f: f64) -> String {
    if f.is_nan() {
        return "NAN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF" } else { "-INF" }.into();
    }
    let (digits, decpt) = precision_digits(f.abs());
    // PHP_PRECISION is a small constant: the cast is exact.
    #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
    let ndigit = PHP_PRECISION as i32;
    php_gcvt_layout(f.is_sign_negative(), &digits, decpt, ndigit, 'E')
}

/// The digits and `decpt` of `zend_dtoa(a, 2, 14)` for a non-negative finite float: correctly
/// rounded to 14 significant digits (ties to even), trailing zeros dropped, except for one
/// quirk: a 15-digit integer (`1e14 <= a < 1e15`) ending in an exact tie `…5` that rounds
/// *down* fails `zend_dtoa`'s fast path and takes its "small integer" path, which keeps the
/// 14 digits, zeros included (`123456789012305` → `1.2345678901230E+14`, while
/// `100000000000001` → `1.0E+14`: real PHP 8.2 output).
fn precision_digits(a: f64) -> (String, i32) {
    if a.fract() == 0.0 && (1e14..1e15).contains(&a) {
        // Exact: an integer below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = a as u64;
        let (q, r) = (n / 10, n % 10);
        if r == 5 && q % 2 == 0 {
            return (q.to_string(), 15);
        }
    }
    // `{:.13e}`: correctly rounded to 14 significant digits, ties to even, like zend_dtoa.
    decimal_digits(&format!("{:.*e}", PHP_PRECISION - 1, a))
}

#[cfg(test)]
mod tests {
    //! Expected texts below were produced by PHP 8.2.36 (`php -n`) with
    //! `http_build_query($p, '', '&')`.
    use super::*;

    fn s(v: &[u8]) -> Value {
        Value::Str(v.to_vec())
    }
    fn k(v: &[u8]) -> Key {
        Key::from_bytes(v)
    }
    fn arr(entries: Vec<(Key, Value)>) -> Value {
        Value::Array(entries.into_iter().collect())
    }

    #[test]
    fn mixed_tree_as_php_writes_it() {
        // ['a'=>['b'=>['c'=>'d', 0=>'x'], 5=>'y'], 3=>'z', 'e'=>[], 'f'=>null, 'g'=>true,
        //  'h'=>false, ''=>'', 'k k[]'=>'~ *-_.!\'()/?', "\xff\x00é" => "\xff\x00é", 'n'=>[null],
        //  'm'=>[[]], 'i'=>-5, 'fl'=>[1.5, -0.0, 1e100, NAN, INF, -INF, 0.1+0.2]]
        let params: Params = [
            (
                k(b"a"),
                arr(vec![
                    (
                        k(b"b"),
                        arr(vec![(k(b"c"), s(b"d")), (Key::Int(0), s(b"x"))]),
                    ),
                    (Key::Int(5), s(b"y")),
                ]),
            ),
            (Key::Int(3), s(b"z")),
            (k(b"e"), arr(vec![])),
            (k(b"f"), Value::Null),
            (k(b"g"), Value::Bool(true)),
            (k(b"h"), Value::Bool(false)),
            (k(b""), s(b"")),
            (k(b"k k[]"), s(b"~ *-_.!'()/?")),
            (k(b"\xff\x00\xc3\xa9"), s(b"\xff\x00\xc3\xa9")),
            (k(b"n"), arr(vec![(Key::Int(0), Value::Null)])),
            (k(b"m"), arr(vec![(Key::Int(0), arr(vec![]))])),
            (k(b"i"), Value::Int(-5)),
            (
                k(b"fl"),
                arr([
                    1.5,
                    -0.0,
                    1e100,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    0.1 + 0.2,
                ]
                .into_iter()
                .enumerate()
                .map(|(i, f)| (Key::Int(i64::try_from(i).unwrap_or(0)), Value::Float(f)))
                .collect()),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            build_query(&params),
            "a%5Bb%5D%5Bc%5D=d&a%5Bb%5D%5B0%5D=x&a%5B5%5D=y&3=z&g=1&h=0&=&k+k%5B%5D=%7E+%2A-_.%21%27%28%29%2F%3F&%FF%00%C3%A9=%FF%00%C3%A9&i=-5&fl%5B0%5D=1.5&fl%5B1%5D=-0&fl%5B2%5D=1.0E%2B100&fl%5B3%5D=NAN&fl%5B4%5D=INF&fl%5B5%5D=-INF&fl%5B6%5D=0.3"
        );
    }

    #[test]
    fn nested_under_the_empty_key_keeps_its_brackets() {
        // http_build_query(['' => [2 => 'x', 'k' => ['y']]], '', '&')
        let inner = arr(vec![
            (Key::Int(2), s(b"x")),
            (k(b"k"), arr(vec![(Key::Int(0), s(b"y"))])),
        ]);
        let params: Params = [(k(b""), inner)].into_iter().collect();
        assert_eq!(build_query(&params), "%5B2%5D=x&%5Bk%5D%5B0%5D=y");
    }

    #[test]
    fn nothing_to_write_gives_empty() {
        let params: Params = [(k(b"e"), arr(vec![])), (k(b"f"), Value::Null)]
            .into_iter()
            .collect();
        assert_eq!(build_query(&params), "");
        assert_eq!(build_query(&Params::new()), "");
        let params: Params = [(k(b"e"), arr(vec![])), (k(b"a"), s(b"b"))]
            .into_iter()
            .collect();
        assert_eq!(build_query(&params), "a=b");
    }

    #[test]
    fn floats_with_precision_14() {
        // php -n -r 'foreach ([...] as $f) echo http_build_query(["a"=>$f]), "\n";'
        for (f, want) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e25, "1.0E+25"),
            (1e16, "1.0E+16"),
            (1e15, "1.0E+15"),
            (1e-5, "1.0E-5"),
            (0.0001, "0.0001"),
            (123_456_789_012_345_678.0, "1.2345678901235E+17"),
            (5e-324, "4.9406564584125E-324"),
            (100.0, "100"),
            (-1.5e-7, "-1.5E-7"),
            // Exact ties at the 15th digit round half to even, as zend_dtoa does.
            (123_456_789_012_345.0, "1.2345678901234E+14"),
            (1_234_567_890_123.25, "1234567890123.2"),
            (12_345_678_901_234.5, "12345678901234"),
            (2.5, "2.5"),
            // zend_dtoa's small-integer path keeps the zeros of a 15-digit integer rounded down.
            (123_456_789_012_305.0, "1.2345678901230E+14"),
            (123_456_789_012_005.0, "1.2345678901200E+14"),
            (123_456_789_012_300.0, "1.234567890123E+14"),
            (123_456_789_012_995.0, "1.23456789013E+14"),
            (999_999_999_999_995.0, "1.0E+15"),
            (123_456_789_012_315.0, "1.2345678901232E+14"),
            (100_000_000_000_001.0, "1.0E+14"),
        ] {
            assert_eq!(php_float_to_string(f), want, "{f:e}");
        }
    }

    #[test]
    fn tiki_issue_query_round_trips_its_escapes() {
        // http_build_query(['separator' => ',', 'listfields' => ['2', '3']], '', '&')
        let params: Params = [
            (k(b"separator"), s(b",")),
            (
                k(b"listfields"),
                arr(vec![(Key::Int(0), s(b"2")), (Key::Int(1), s(b"3"))]),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            build_query(&params),
            "separator=%2C&listfields%5B0%5D=2&listfields%5B1%5D=3"
        );
    }
}
