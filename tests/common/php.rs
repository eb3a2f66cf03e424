//! Real PHP as the oracle: run the PHP CLI on a script and read back PHP values.
//!
//! Values cross from PHP to Rust as `serialize()` output, which is binary safe (strings are
//! length-prefixed), so invalid UTF-8 and NUL bytes survive unchanged.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tiki_tokens::canon::{Key, PhpArray, Value};

/// The PHP CLI to use: `$PHP` or `php` on PATH.
pub fn php_binary() -> PathBuf {
    std::env::var_os("PHP").map_or_else(|| PathBuf::from("php"), PathBuf::from)
}

/// Runs `php -n -r <code>` with `stdin`, returns stdout. Panics (failing the test) when PHP is
/// missing or exits non-zero. `-n`: no php.ini, so PHP's built-in defaults apply
/// (`max_input_vars` 1000, `max_input_nesting_level` 64, `serialize_precision` -1).
pub fn run_php(code: &str, stdin: &[u8]) -> Vec<u8> {
    run_php_with(&["-n"], code, stdin)
}

/// As [`run_php`] with explicit leading arguments (e.g. `-d extension=…`).
pub fn run_php_with(args: &[&str], code: &str, stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(php_binary())
        .args(args)
        .arg("-r")
        .arg(code)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run PHP ({}): {e}", php_binary().display()));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("php output");
    writer.join().expect("stdin writer");
    assert!(
        out.status.success(),
        "php failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

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
