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

/// PHP's built-in web server (`php -S`) on a free loopback port, serving `docroot`; stopped and
/// its docroot removed when dropped, so a failing test never leaves it running.
pub struct PhpServer {
    child: std::process::Child,
    port: u16,
    docroot: PathBuf,
}

/// One HTTP response: status code and body.
pub struct HttpResponse {
    /// The status code (`200`, `404`, …).
    pub status: u16,
    /// The body, as bytes.
    pub body: Vec<u8>,
}

impl PhpServer {
    /// A fresh, empty docroot for [`PhpServer::start`] (under the system temp directory).
    pub fn temp_docroot(hint: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("tiki-tokens-{hint}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create docroot");
        dir
    }

    /// Starts `php <args> -S 127.0.0.1:<free port> -t <docroot>` and waits until it accepts
    /// connections. `args` come first (e.g. `["-n", "-d", "display_errors=0"]`). The docroot is
    /// owned from now on: it is deleted with the server.
    pub fn start(args: &[&str], docroot: PathBuf) -> PhpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(php_binary())
            .args(args)
            .arg("-S")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-t")
            .arg(&docroot)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run PHP ({}): {e}", php_binary().display()));
        let server = PhpServer {
            child,
            port,
            docroot,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "php -S did not start on port {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends `GET <target> HTTP/1.0` over a raw TCP connection (nothing re-encodes `target`)
    /// and reads the whole response.
    pub fn get(&self, target: &[u8]) -> HttpResponse {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(target);
        req.extend_from_slice(b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        s.write_all(&req).expect("send request");
        let mut resp = Vec::new();
        // The server may close early on a request it refuses: keep what was read.
        let _ = s.read_to_end(&mut resp);
        let head_end = resp.windows(4).position(|w| w == b"\r\n\r\n");
        let (head, body) = match head_end {
            Some(i) => (&resp[..i], resp[i + 4..].to_vec()),
            None => (&resp[..], Vec::new()),
        };
        let status = head
            .split(|&b| b == b' ')
            .nth(1)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        HttpResponse { status, body }
    }
}

impl Drop for PhpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.docroot);
    }
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
pub fn serialize_array(a: &PhpArray) -> Vec<u8> {
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
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
        }
        _ => false,
    }
}
