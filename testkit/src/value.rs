//! PHP values across the process boundary, and compared as PHP compares them.
//!
//! Values cross from PHP to Rust as `serialize()` output, which is binary safe (strings are
//! length-prefixed), so invalid UTF-8 and NUL bytes survive unchanged; trees built in Rust go to
//! PHP the same way. Pure code: nothing here runs a process.

use tiki_tokens::canon::{Key, PhpArray, Value};

/// Reads one value written by PHP's `serialize()` (arrays, strings, ints, floats, bools, null).
pub fn unserialize(bytes: &[u8]) -> Value {
    let mut p = Unserializer { b: bytes, i: 0 };
    let v = p.value();
    assert_eq!(p.i, bytes.len(), "trailing bytes after serialized value");
    v
}

/// Reads a sequence of serialized values written back to back.
pub fn unserialize_many(bytes: &[u8]) -> Vec<Value> {
    let mut p = Unserializer { b: bytes, i: 0 };
    let mut out = Vec::new();
    while p.i < bytes.len() {
        out.push(p.value());
    }
    out
}

/// The value as an array, panicking otherwise.
pub fn as_array(v: Value) -> PhpArray {
    match v {
        Value::Array(a) => a,
        other => panic!("expected an array, got {other:?}"),
    }
}

struct Unserializer<'a> {
    b: &'a [u8],
    i: usize,
}

impl Unserializer<'_> {
    fn expect(&mut self, c: u8) {
        assert_eq!(
            self.b.get(self.i),
            Some(&c),
            "serialize format at byte {}",
            self.i
        );
        self.i += 1;
    }
    fn until(&mut self, c: u8) -> &[u8] {
        let start = self.i;
        while self.b[self.i] != c {
            self.i += 1;
        }
        let s = &self.b[start..self.i];
        self.i += 1;
        s
    }
    fn num<T: std::str::FromStr>(&mut self, end: u8) -> T
    where
        T::Err: std::fmt::Debug,
    {
        std::str::from_utf8(self.until(end))
            .unwrap()
            .parse()
            .unwrap()
    }
    fn string(&mut self) -> Vec<u8> {
        let len: usize = self.num(b':');
        self.expect(b'"');
        let s = self.b[self.i..self.i + len].to_vec();
        self.i += len;
        self.expect(b'"');
        s
    }
    fn value(&mut self) -> Value {
        let tag = self.b[self.i];
        self.i += 1;
        if tag == b'N' {
            self.expect(b';');
            return Value::Null;
        }
        self.expect(b':');
        match tag {
            b'b' => Value::Bool(self.num::<u8>(b';') == 1),
            b'i' => Value::Int(self.num(b';')),
            b'd' => {
                let t = self.until(b';').to_vec();
                let t = String::from_utf8(t).unwrap();
                Value::Float(match t.as_str() {
                    "INF" => f64::INFINITY,
                    "-INF" => f64::NEG_INFINITY,
                    "NAN" => f64::NAN,
                    _ => t.parse().unwrap(),
                })
            }
            b's' => {
                let s = self.string();
                self.expect(b';');
                Value::Str(s)
            }
            b'a' => {
                let n: usize = self.num(b':');
                self.expect(b'{');
                let mut a = PhpArray::new();
                for _ in 0..n {
                    let key = match self.value() {
                        Value::Int(k) => Key::Int(k),
                        Value::Str(s) => Key::Str(s),
                        other => panic!("bad array key {other:?}"),
                    };
                    let v = self.value();
                    a.insert(key, v);
                }
                self.expect(b'}');
                Value::Array(a)
            }
            other => panic!("unsupported serialize tag {:?}", other as char),
        }
    }
}

/// Bytes as a PHP double-quoted string literal (every byte escaped as `\xNN`), to embed test
/// inputs in PHP code without quoting trouble.
pub fn php_literal(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 4 + 2);
    s.push('"');
    for b in bytes {
        s.push_str(&format!("\\x{b:02x}"));
    }
    s.push('"');
    s
}

/// PHP's `serialize()` text of a value, for handing trees built in Rust to PHP (`unserialize`),
/// binary safe. Floats are written with Rust's shortest round-trip form (`1e25`, `-0e0`), which
/// PHP's `unserialize` reads back to the same double; NaN and ±INF as PHP writes them.
pub fn serialize(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    serialize_into(v, &mut out);
    out
}

/// [`serialize`] of an array (`a:N:{…}`).
fn serialize_array(a: &PhpArray) -> Vec<u8> {
    let mut out = Vec::new();
    serialize_array_into(a, &mut out);
    out
}

/// `serialize()` of a PHP list of byte strings (`[0 => s0, 1 => s1, …]`).
pub fn serialize_strings<S: AsRef<[u8]>>(items: &[S]) -> Vec<u8> {
    let mut a = PhpArray::new();
    for s in items {
        a.push(Value::Str(s.as_ref().to_vec()));
    }
    serialize_array(&a)
}

fn serialize_bytes(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("s:{}:\"", s.len()).as_bytes());
    out.extend_from_slice(s);
    out.extend_from_slice(b"\";");
}

fn serialize_array_into(a: &PhpArray, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("a:{}:{{", a.len()).as_bytes());
    for (k, v) in a.iter() {
        match k {
            Key::Int(n) => out.extend_from_slice(format!("i:{n};").as_bytes()),
            Key::Str(s) => serialize_bytes(s, out),
        }
        serialize_into(v, out);
    }
    out.push(b'}');
}

fn serialize_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => serialize_bytes(s, out),
        Value::Int(n) => out.extend_from_slice(format!("i:{n};").as_bytes()),
        Value::Float(f) => {
            let text = if f.is_nan() {
                "NAN".to_string()
            } else if f.is_infinite() {
                if *f > 0.0 { "INF" } else { "-INF" }.to_string()
            } else {
                format!("{f:e}")
            };
            out.extend_from_slice(format!("d:{text};").as_bytes());
        }
        Value::Bool(b) => out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" }),
        Value::Null => out.extend_from_slice(b"N;"),
        Value::Array(a) => serialize_array_into(a, out),
    }
}

/// Order-sensitive structural equality of two values, as PHP's `===` sees arrays (same keys in
/// the same order, same types), with floats compared bit for bit (so `-0.0` ≠ `0.0`, and a NaN
/// equals the same NaN). `PartialEq` on [`PhpArray`] ignores order; this does not.
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
