//! Params tree ↔ JSON text exactly as PHP's `json_encode` (default flags) writes it and
//! `json_decode($text, true)` reads it, so that Tiki's own PHP reads our rows back identically.
//!
//! The rules below were read off PHP 8.2 (`ext/json`) and are checked against the real PHP CLI
//! in `tests/php_oracle_encode.rs`:
//!
//! * strings: `"` `\` `/` escaped, `\b \f \n \r \t`, other bytes below 0x20 as `\u00xx`, DEL
//!   (0x7f) as is, every non-ASCII character as `\uxxxx` (lower-case hex, a surrogate pair for
//!   characters above U+FFFF); a string that is not valid UTF-8 makes the whole call fail;
//! * floats as `serialize_precision = -1` prints them **without** `JSON_PRESERVE_ZERO_FRACTION`:
//!   `1.0` → `1`, `-0.0` → `-0`, `1e25` → `1.0e+25`, `1e-5` → `1.0e-5`; NaN and ±INF fail;
//! * nesting: `json_encode` accepts 512 nested arrays and fails at 513; `json_decode` accepts
//!   511 and fails at 512 (PHP counts the two differently);
//! * `json_decode`: only ` \t\n\r` are whitespace; no leading zeros, no trailing commas, no
//!   `.5`/`1.`; `true`/`false`/`null` in lower case only; control bytes inside strings,
//!   invalid UTF-8 and unpaired `\ud800`-style surrogates are errors; an integer beyond `i64`
//!   becomes a float; object keys go through PHP's symbol table (`"1"` → `1`, `"01"` stays),
//!   and a repeated key keeps its first position with the last value.

use super::tree::{Key, Params, PhpArray, Value, integer_like};

/// Why a tree cannot be written as JSON, or a text cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JSON: {}", self.0)
    }
}

impl std::error::Error for JsonError {}

/// `json_encode`'s default `$depth`: 512 nested arrays are written, 513 fail.
pub const ENCODE_MAX_DEPTH: usize = 512;

/// The deepest nesting `json_decode($text, true)` (default `$depth` 512) accepts: 511 nested
/// arrays or objects; 512 fail with "Maximum stack depth exceeded".
pub const DECODE_MAX_NESTING: usize = 511;

/// `json_encode($params)`: insertion order, `\/` escaped, non-ASCII as `\uXXXX`, lists as JSON
/// arrays, other arrays as objects.
///
/// # Errors
/// A string that is not valid UTF-8 (PHP's `json_encode` returns false there), a float that is
/// NaN or infinite, or arrays nested deeper than [`ENCODE_MAX_DEPTH`].
pub fn encode_params(params: &Params) -> Result<String, JsonError> {
    let mut out = String::new();
    encode_array(params, 1, &mut out)?;
    Ok(out)
}

/// `json_encode` of any value.
///
/// # Errors
/// As [`encode_params`].
pub fn encode_value(value: &Value) -> Result<String, JsonError> {
    let mut out = String::new();
    encode_into(value, 0, &mut out)?;
    Ok(out)
}

/// `json_decode($text, true)`: objects and lists become arrays (integer-like object keys become
/// integer keys), numbers become `Int` or `Float`.
///
/// Never panics; time and memory are linear in `text.len()` and recursion is bounded by
/// [`DECODE_MAX_NESTING`].
///
/// # Errors
/// Text that PHP's `json_decode` would reject (returns null with an error).
pub fn decode(text: &[u8]) -> Result<Value, JsonError> {
    let mut p = Parser {
        b: text,
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.i != text.len() {
        return Err(p.err("syntax error after the value"));
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn encode_into(value: &Value, depth: usize, out: &mut String) -> Result<(), JsonError> {
    match value {
        Value::Str(s) => encode_string(s, out),
        Value::Int(n) => {
            out.push_str(&n.to_string());
            Ok(())
        }
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(JsonError("Inf and NaN cannot be JSON encoded".into()));
            }
            out.push_str(&php_float_repr(*f));
            Ok(())
        }
        Value::Bool(true) => {
            out.push_str("true");
            Ok(())
        }
        Value::Bool(false) => {
            out.push_str("false");
            Ok(())
        }
        Value::Null => {
            out.push_str("null");
            Ok(())
        }
        Value::Array(a) => encode_array(a, depth + 1, out),
    }
}

fn encode_array(a: &PhpArray, depth: usize, out: &mut String) -> Result<(), JsonError> {
    if depth > ENCODE_MAX_DEPTH {
        return Err(JsonError("Maximum stack depth exceeded".into()));
    }
    let list = a.is_list();
    out.push(if list { '[' } else { '{' });
    for (i, (key, value)) in a.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if !list {
            match key {
                Key::Int(n) => {
                    out.push('"');
                    out.push_str(&n.to_string());
                    out.push('"');
                }
                Key::Str(s) => encode_string(s, out)?,
            }
            out.push(':');
        }
        encode_into(value, depth, out)?;
    }
    out.push(if list { ']' } else { '}' });
    Ok(())
}

fn encode_string(bytes: &[u8], out: &mut String) -> Result<(), JsonError> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let text = std::str::from_utf8(bytes).map_err(|_| {
        JsonError("Malformed UTF-8 characters, possibly incorrectly encoded".into())
    })?;
    out.push('"');
    let mut units = [0u16; 2];
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' || !c.is_ascii() => {
                for unit in c.encode_utf16(&mut units).iter() {
                    out.push_str("\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// A finite float as `json_encode` writes it (`serialize_precision = -1`: the shortest digits
/// that read back to the same double, laid out by PHP's `php_gcvt` with precision 17 and `e`).
#[must_use]
pub fn php_float_repr(f: f64) -> String {
    let (digits, decpt) = shortest_digits(f.abs());
    php_gcvt_layout(f.is_sign_negative(), &digits, decpt, 17, 'e')
}

/// The digits `zend_dtoa` mode 0 gives for a non-negative finite float: the fewest significant
/// digits that read back to the same double and, among those, the closest to it, a tie going
/// to the even digit. Rust's `{:e}` gives the fewest digits but breaks a tie upwards
/// (`1754837709210424.25` → `…424.3`, PHP `…424.2`), so the candidate of that length that is
/// correctly rounded (`{:.N e}` rounds half to even) is preferred when it also reads back.
fn shortest_digits(a: f64) -> (String, i32) {
    let (digits, decpt) = decimal_digits(&format!("{a:e}"));
    let rounded = format!("{:.*e}", digits.len().saturating_sub(1), a);
    if rounded
        .parse::<f64>()
        .is_ok_and(|back| back.to_bits() == a.to_bits())
    {
        return decimal_digits(&rounded);
    }
    (digits, decpt)
}

/// Splits Rust's `{:e}` output (`d.ddde-7`) of a non-negative finite float into significant
/// digits without trailing zeros (`"0"` for zero) and the decimal point position (`zend_dtoa`'s
/// `decpt`: the value is `0.digits × 10^decpt`).
pub(crate) fn decimal_digits(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once(['e', 'E']).unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    if digits.is_empty() || digits == "0" {
        return ("0".into(), 1);
    }
    (digits, exp + 1)
}

/// The layout part of PHP's `php_gcvt(value, ndigit, '.', exp_char)` (main/snprintf.c), given
/// the digits and `decpt` of the value: exponential (`1.0e+25`, `1.5e-7`) when
/// `decpt < -3` or `decpt > ndigit`, else plain (`0.0001`, `100`).
pub(crate) fn php_gcvt_layout(
    negative: bool,
    digits: &str,
    decpt: i32,
    ndigit: i32,
    exp_char: char,
) -> String {
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    let exponential = if decpt < 0 {
        decpt < -3
    } else {
        decpt > ndigit
    };
    if exponential {
        let e = decpt - 1;
        let mut chars = digits.chars();
        out.extend(chars.next());
        out.push('.');
        let rest = chars.as_str();
        out.push_str(if rest.is_empty() { "0" } else { rest });
        out.push(exp_char);
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.unsigned_abs().to_string());
    } else if decpt < 0 {
        out.push_str("0.");
        for _ in decpt..0 {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let decpt = usize::try_from(decpt).unwrap_or(0);
        if digits.len() > decpt {
            if decpt == 0 {
                out.push('0');
            } else {
                out.push_str(&digits[..decpt]);
            }
            out.push('.');
            out.push_str(&digits[decpt..]);
        } else {
            out.push_str(digits);
            for _ in digits.len()..decpt {
                out.push('0');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> JsonError {
        JsonError(format!("{what} at byte {}", self.i))
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.list(),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(_) => Err(self.err("syntax error")),
            None => Err(self.err("unexpected end of text")),
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, JsonError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("syntax error"))
        }
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > DECODE_MAX_NESTING {
            return Err(self.err("Maximum stack depth exceeded"));
        }
        self.i += 1;
        Ok(())
    }

    fn list(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        let mut a = PhpArray::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::Array(a));
        }
        loop {
            self.skip_ws();
            let v = self.value()?;
            if a.push(v).is_none() {
                // Unreachable: a list has fewer than i64::MAX elements.
                return Err(self.err("list too long"));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(a));
                }
                _ => return Err(self.err("syntax error in a list")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        let mut a = PhpArray::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::Array(a));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("syntax error: object key expected"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("syntax error: ':' expected"));
            }
            self.i += 1;
            self.skip_ws();
            let v = self.value()?;
            // PHP's symbol table: "1" becomes the integer key 1 (as `Key::from_bytes`, no copy).
            let key = match integer_like(&key) {
                Some(n) => Key::Int(n),
                None => Key::Str(key),
            };
            a.insert(key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(a));
                }
                _ => return Err(self.err("syntax error in an object")),
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; an integer that does not fit `i64`
    /// becomes a float, as PHP does without `JSON_BIGINT_AS_STRING`.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("syntax error in a number")),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("syntax error in a number"));
            }
            self.digits();
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("syntax error in a number"));
            }
            self.digits();
            float = true;
        }
        // Only ASCII digits, signs, '.', 'e' were consumed.
        let text = std::str::from_utf8(&self.b[start..self.i])
            .map_err(|_| self.err("syntax error in a number"))?;
        if !float && let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Int(n));
        }
        text.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.err("syntax error in a number"))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    /// A string starting at `"`: its decoded bytes (UTF-8; `\u0000` gives a NUL byte).
    fn string(&mut self) -> Result<Vec<u8>, JsonError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            // Copy the longest run of plain bytes at once, validating its UTF-8.
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            let run = &self.b[start..self.i];
            if std::str::from_utf8(run).is_err() {
                return Err(JsonError(format!(
                    "Malformed UTF-8 characters in a string after byte {start}"
                )));
            }
            out.extend_from_slice(run);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("control character in a string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
        self.i += 1;
        let simple = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xd800..=0xdbff => {
                        // A high surrogate must be followed at once by `\u` + a low one.
                        if self.b.get(self.i..self.i + 2) != Some(b"\\u".as_slice()) {
                            return Err(self.err("Single unpaired UTF-16 surrogate"));
                        }
                        self.i += 2;
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(self.err("Single unpaired UTF-16 surrogate"));
                        }
                        0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00)
                    }
                    0xdc00..=0xdfff => {
                        return Err(self.err("Single unpaired UTF-16 surrogate"));
                    }
                    u => u32::from(u),
                };
                let ch = char::from_u32(code).ok_or_else(|| self.err("bad \\u escape"))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => return Err(self.err("syntax error: bad escape")),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let mut n: u16 = 0;
        for _ in 0..4 {
            let c = self
                .peek()
                .ok_or_else(|| self.err("unterminated \\u escape"))?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.err("syntax error: bad \\u escape")),
            };
            n = (n << 4) | u16::from(d);
            self.i += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    //! Expected texts below were produced by PHP 8.2.36 (`php -n`), e.g.
    //! `php -n -r 'echo json_encode(1e25);'`.
    use super::*;

    fn s(v: &[u8]) -> Value {
        Value::Str(v.to_vec())
    }
    fn arr(entries: Vec<(Key, Value)>) -> Value {
        Value::Array(entries.into_iter().collect())
    }
    fn ks(v: &str) -> Key {
        Key::from_bytes(v.as_bytes())
    }

    #[test]
    fn floats_as_php_json_encode_writes_them() {
        for (f, want) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e25, "1.0e+25"),
            (-0.0, "-0"),
            (1e17, "1.0e+17"),
            (1e16, "10000000000000000"),
            (1e-5, "1.0e-5"),
            (0.0001, "0.0001"),
            (123_456_789_012_345_678.0, "1.2345678901234568e+17"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5.0e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100"),
            (-1.5e-7, "-1.5e-7"),
            // A tie between two shortest candidates goes to the even digit.
            (1_754_837_709_210_424.2, "1754837709210424.2"),
        ] {
            assert_eq!(encode_value(&Value::Float(f)).as_deref(), Ok(want), "{f:e}");
        }
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(encode_value(&Value::Float(f)).is_err());
        }
    }

    #[test]
    fn strings_escape_like_php() {
        // php -n -r 'echo json_encode("\x00\x01\x1f\x7f\"\\/\x08\x0c\n\r\t é€😀");'
        let got = encode_value(&s(
            "\u{0}\u{1}\u{1f}\u{7f}\"\\/\u{8}\u{c}\n\r\t é€😀".as_bytes()
        ));
        let want = concat!(
            r#""\u0000\u0001\u001f"#,
            "\u{7f}",
            r#"\"\\\/\b\f\n\r\t \u00e9\u20ac\ud83d\ude00""#
        );
        assert_eq!(got.as_deref(), Ok(want));
        for bad in [
            &b"\xff"[..],
            b"\xed\xa0\x80",
            b"\xc0\xaf",
            b"\xf4\x90\x80\x80",
        ] {
            assert!(encode_value(&s(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn arrays_as_lists_or_objects() {
        // php -n -r 'echo json_encode([]), json_encode([1=>1]), json_encode(["a"=>[]]),
        //   json_encode([0=>"a",1=>"b"]), json_encode([1=>"a",0=>"b"]), json_encode([-1=>2]);'
        let cases = [
            (arr(vec![]), "[]"),
            (arr(vec![(Key::Int(1), Value::Int(1))]), r#"{"1":1}"#),
            (arr(vec![(ks("a"), arr(vec![]))]), r#"{"a":[]}"#),
            (
                arr(vec![(Key::Int(0), s(b"a")), (Key::Int(1), s(b"b"))]),
                r#"["a","b"]"#,
            ),
            (
                arr(vec![(Key::Int(1), s(b"a")), (Key::Int(0), s(b"b"))]),
                r#"{"1":"a","0":"b"}"#,
            ),
            (arr(vec![(Key::Int(-1), Value::Int(2))]), r#"{"-1":2}"#),
        ];
        for (v, want) in cases {
            assert_eq!(encode_value(&v).as_deref(), Ok(want));
        }
        // A key that is not UTF-8 fails like a value.
        assert!(encode_value(&arr(vec![(Key::Str(b"\xff".to_vec()), Value::Int(1))])).is_err());
    }

    #[test]
    fn encode_depth_512_ok_513_fails() {
        fn nested(n: usize) -> Value {
            let mut v = arr(vec![]);
            for _ in 1..n {
                v = arr(vec![(Key::Int(0), v)]);
            }
            v
        }
        assert!(encode_value(&nested(512)).is_ok());
        assert!(encode_value(&nested(513)).is_err());
    }

    #[test]
    fn decode_accepts_what_php_accepts() {
        let ok: Vec<(&[u8], Value)> = vec![
            (b"true", Value::Bool(true)),
            (b"null", Value::Null),
            (b" 1 ", Value::Int(1)),
            (b"-0", Value::Int(0)),
            (b"0e5", Value::Float(0.0)),
            (b"1E+2", Value::Float(100.0)),
            (b"1e01", Value::Float(10.0)),
            (b"9223372036854775807", Value::Int(i64::MAX)),
            (b"-9223372036854775808", Value::Int(i64::MIN)),
            (
                b"9223372036854775808",
                Value::Float(9.223_372_036_854_776e18),
            ),
            (b"1e999", Value::Float(f64::INFINITY)),
            (b"\"\x7f\"", s(b"\x7f")),
            (b"\"\xef\xbf\xbf\"", s(b"\xef\xbf\xbf")),
            (br#""\ud83d\ude00""#, s("😀".as_bytes())),
            (br#""\uD83D\uDE00""#, s("😀".as_bytes())),
            (br#""\u0000""#, s(b"\0")),
            (
                b"[\n1\r,\t2 ]",
                arr(vec![
                    (Key::Int(0), Value::Int(1)),
                    (Key::Int(1), Value::Int(2)),
                ]),
            ),
            (br#"{"":1}"#, arr(vec![(ks(""), Value::Int(1))])),
            (
                br#"{"1":1,"01":2,"a":3,"1":4}"#,
                arr(vec![
                    (Key::Int(1), Value::Int(4)),
                    (ks("01"), Value::Int(2)),
                    (ks("a"), Value::Int(3)),
                ]),
            ),
        ];
        for (text, want) in ok {
            let got = decode(text);
            assert_eq!(got, Ok(want.clone()), "{:?}", String::from_utf8_lossy(text));
        }
        // -0.0 keeps its sign.
        assert!(matches!(decode(b"-0.0"), Ok(Value::Float(f)) if f == 0.0 && f.is_sign_negative()));
    }

    #[test]
    fn decode_rejects_what_php_rejects() {
        for text in [
            &b"TRUE"[..],
            b"True",
            b"NULL",
            b"01",
            b"-01",
            b"00",
            b"1.",
            b".5",
            b"[1,]",
            b"{\"a\":1,}",
            br#""\ud800""#,
            br#""\udc00""#,
            br#""\ud800x""#,
            br#""\ud800\u0041""#,
            br#""\udc00\ud800""#,
            b"\"a\x00\"",
            b"\"\x01\"",
            b"\x0c1",
            b"\x0b1",
            b"\x001",
            b"1\x00",
            b"",
            b"  ",
            b"\"\xff\"",
            b"\"\xc0\xaf\"",
            b"\"\xed\xa0\x80\"",
            b"\"\xf4\x90\x80\x80\"",
            b"\"\xe0\x80\x80\"",
            b"\xef\xbb\xbf1",
            br#""\U00e9""#,
            br#""\u00e""#,
            br#""\u00eg""#,
            b"[",
            b"{",
            b"{\"a\"}",
            b"{\"a\":}",
            b"[,]",
            b"[1,,2]",
            b"{,}",
            b"\"abc",
            b"\"\\\"",
            b"1 2",
            b"-",
            b"--1",
            b"+1",
            b"0x10",
            b"1e",
            b"1e+",
            b"[-]",
            br#""\'""#,
            br#""\a""#,
            b"{1:1}",
            b"'a'",
            b"nul",
            b"truex",
            b"[1]x",
            b"123abc",
        ] {
            assert!(decode(text).is_err(), "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn decode_nesting_511_ok_512_fails() {
        let nest = |n: usize| [b"[".repeat(n), b"]".repeat(n)].concat();
        assert!(decode(&nest(511)).is_ok());
        assert!(decode(&nest(512)).is_err());
        let obj = |n: usize| [b"{\"a\":".repeat(n), b"1".to_vec(), b"}".repeat(n)].concat();
        assert!(decode(&obj(511)).is_ok());
        assert!(decode(&obj(512)).is_err());
        // Far deeper input is refused without deep recursion.
        assert!(decode(&b"[".repeat(1_000_000)).is_err());
    }
}
