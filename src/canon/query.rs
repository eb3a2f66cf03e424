//! Query string → params tree, following PHP's own `$_GET` construction
//! (php-src `main/php_variables.c`: `php_default_treat_data` and `php_register_variable_ex`),
//! not WHATWG and not `parse_url`. Real PHP is the oracle (`tests/php_oracle.rs`).
//!
//! The rules, as PHP 8.2 applies them (each one checked against real PHP):
//!
//! * The query is a C string to PHP: a raw NUL byte ends it.
//! * It is split on `&` only (`arg_separator.input`); empty pieces (`&&`) are skipped and do not
//!   count. Every other piece counts towards `max_input_vars`, even one whose name is then
//!   dropped (`=x`); the piece past the limit and all after it are dropped.
//! * The first `=` splits name and value; no `=` means the value `""`. Both are percent-decoded
//!   once (`+` → space, hex in either case, an invalid `%` stays literal).
//! * Name: a decoded NUL ends it; leading spaces are dropped; before the first `[`, `.` and space
//!   become `_`. An empty name is dropped (also `[x]=1`: nothing before the `[`).
//! * After the first `[` come the keys: `[]` (or `[` + one whitespace byte + `]`) appends, `[k]`
//!   sets key `k` verbatim (spaces, dots, even `[` kept) up to the next `]`. Keys chain only while
//!   a `]` is directly followed by `[`; anything else after a `]` is ignored.
//! * A `[` without a later `]` is not an index: as the first one, it becomes `_` and the rest of
//!   the name is kept with ` `, `.` and `[` turned into `_` (`a[b.c` → `a_b_c`); further in, the
//!   name simply ends before it (`a[x][y` → `a[x]`).
//! * A name or key that would pose as a `__Host-` / `__Secure-` cookie name is dropped, with
//!   the whole variable from that point on, unless the variable's own name (as sent, before
//!   mangling) starts with that prefix: `_.Host-a=1`, `a[__Host-x]=1` (leaving `a = []`).
//! * More than `max_input_nesting_level` (64) levels of `[…]` drop the variable **and delete any
//!   earlier variable of the same base name** (`a[x]=1&a[…65 levels…]=2` leaves no `a`).
//! * Integer-like keys (`1`, `-3`, not `01`) are integer keys, at every level and at the top.
//!   `[]` takes one past the largest integer key, even a negative one (`a[-5]=1&a[]=2` gives -4).
//! * Setting a key keeps its position; an existing non-array value met where an array is needed
//!   is replaced by an empty array in place (`a=1&a[]=2` → `a = [2]`); a string assigned over an
//!   array replaces it (`a[]=1&a=2` → `a = "2"`).

use super::tree::{Key, KeyRef, Params, PhpArray, Value};

/// PHP's limits that shape `$_GET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// `max_input_vars` (PHP default 1000): variables past this many are dropped.
    pub max_input_vars: usize,
    /// `max_input_nesting_level` (PHP default 64): a deeper variable is dropped.
    pub max_nesting: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_input_vars: 1000,
            max_nesting: 64,
        }
    }
}

/// The params tree PHP builds in `$_GET` for this raw query string (the part after `?`, without
/// the fragment), `TOKEN` included.
#[must_use]
pub fn parse_query(query: &[u8], limits: QueryLimits) -> Params {
    // Room for every piece up front: growing the map (rehash, moving entries) was a tenth of
    // the time of a typical query. Counting the `&` costs a fraction of that.
    let pieces = count_byte(query, b'&') + 1;
    let mut params = Params::with_capacity(pieces.min(limits.max_input_vars));
    // Scratch buffers shared by all variables: the decoded name (keys are copied out of it at
    // their final size) and the positions of its `[…]` keys.
    let mut name = Vec::with_capacity(64);
    let mut keys = Vec::with_capacity(4);
    let mut count = 0usize;
    let mut at = 0;
    // One pass over the query: each byte is looked at once to find the pieces, their `=` and
    // whether name or value need decoding at all.
    loop {
        let (piece, next, end_of_query) = next_piece(query, at);
        at = next;
        if !piece.bytes.is_empty() {
            count += 1;
            if count > limits.max_input_vars {
                break;
            }
            let (raw_name, raw_value) = match piece.eq {
                Some(eq) => (&piece.bytes[..eq], &piece.bytes[eq + 1..]),
                None => (piece.bytes, &b""[..]),
            };
            name.clear();
            if piece.name_escaped {
                decode_into(raw_name, &mut name, true);
            } else {
                name.extend_from_slice(raw_name);
            }
            let value = if piece.value_escaped {
                let mut v = Vec::with_capacity(raw_value.len());
                decode_into(raw_value, &mut v, false);
                v
            } else {
                raw_value.to_vec()
            };
            keys.clear();
            register(&mut params, &mut name, &mut keys, value, limits);
        }
        if end_of_query {
            break;
        }
    }
    params
}

/// One `&`-separated piece of a query, as found by [`next_piece`].
struct Piece<'q> {
    bytes: &'q [u8],
    /// Position of the first `=`.
    eq: Option<usize>,
    /// The name (before the first `=`) holds a `%` or `+`.
    name_escaped: bool,
    /// The value holds a `%` or `+`.
    value_escaped: bool,
}

/// Byte classes for the one-pass scan: 0 for the bytes that need no attention.
const PLAIN: u8 = 0;
const AMP: u8 = 1;
const EQ: u8 = 2;
const ESCAPE: u8 = 3;
const NUL: u8 = 4;
const CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b'&' as usize] = AMP;
    t[b'=' as usize] = EQ;
    t[b'%' as usize] = ESCAPE;
    t[b'+' as usize] = ESCAPE;
    t[0] = NUL;
    t
};

/// The piece starting at `at`, where the next one starts, and whether the query ends with this
/// one (end of input, or a raw NUL: PHP reads the query as a C string).
fn next_piece(query: &[u8], at: usize) -> (Piece<'_>, usize, bool) {
    let mut eq = None;
    let (mut name_escaped, mut value_escaped) = (false, false);
    let mut i = at;
    loop {
        // Plain bytes (most of a query) are skipped eight at a time.
        i = next_special(query, i);
        let Some(&b) = query.get(i) else { break };
        match CLASS[usize::from(b)] {
            AMP => break,
            EQ if eq.is_none() => eq = Some(i - at),
            ESCAPE if eq.is_none() => name_escaped = true,
            ESCAPE => value_escaped = true,
            NUL => {
                let piece = Piece {
                    bytes: &query[at..i],
                    eq,
                    name_escaped,
                    value_escaped,
                };
                return (piece, i, true);
            }
            _ => {}
        }
        i += 1;
    }
    let piece = Piece {
        bytes: &query[at..i],
        eq,
        name_escaped,
        value_escaped,
    };
    (piece, i + 1, i >= query.len())
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `word` that equals `b`, and no other bit (exact: no false
/// positives from borrows, unlike the shorter `(x - ONES) & !x & HIGHS`).
const fn bytes_equal(word: u64, b: u8) -> u64 {
    let x = word ^ (ONES * b as u64);
    !(((x & LOWS) + LOWS) | x) & HIGHS
}

/// The first position from `i` on that holds a byte other than [`PLAIN`] (or `query.len()`).
fn next_special(query: &[u8], i: usize) -> usize {
    find_any(query, i, [b'&', b'=', b'%', b'+', 0])
}

/// The first position from `i` on whose byte is one of `set` (or `bytes.len()`), eight bytes
/// per step: the byte-at-a-time scans were the largest items of a parse.
fn find_any<const N: usize>(bytes: &[u8], mut i: usize, set: [u8; N]) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hits = set.iter().fold(0, |acc, &b| acc | bytes_equal(w, b));
        if hits != 0 {
            // Little-endian: the lowest set bit is the first such byte.
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !set.contains(&bytes[i]) {
        i += 1;
    }
    i
}

/// How many bytes of `bytes` equal `b`, eight at a time.
fn count_byte(bytes: &[u8], b: u8) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut n = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        n += bytes_equal(u64::from_le_bytes(word), b).count_ones() as usize;
    }
    n + chunks.remainder().iter().filter(|&&x| x == b).count()
}

/// PHP's `php_url_decode`: `+` → space, `%XX` (either case) → that byte, anything else (an
/// invalid or truncated `%` escape included) stays as it is.
#[must_use]
pub fn url_decode(raw: &[u8]) -> Vec<u8> {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(raw.len());
    decode_into(raw, &mut out, false);
    out
}

/// Decodes `raw` into `out`; with `stop_at_nul`, stops at a decoded NUL (PHP handles names as
/// C strings).
fn decode_into(raw: &[u8], out: &mut Vec<u8>, stop_at_nul: bool) {
    out.reserve(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = match raw[i] {
            b'+' => b' ',
            b'%' => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    i += 2;
                    hi << 4 | lo
                }
                _ => b'%',
            },
            other => other,
        };
        if b == 0 && stop_at_nul {
            return;
        }
        out.push(b);
        i += 1;
    }
}

/// The value of one hex digit.
pub(crate) fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// C's `isspace` in the "C" locale (PHP 8 keeps `LC_CTYPE` at "C").
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// What the name of a variable asks for, once its brackets are read.
enum Shape {
    /// `name=value` at the top level: the whole (re-mangled) name buffer is the name.
    Plain,
    /// `base[k1]…[km]=value`: `m >= 1` keys, `None` for `[]`.
    Nested,
    /// Deeper than allowed: delete `base` from the top level.
    TooDeep,
}

/// PHP drops a variable when a name or key would pose as a `__Host-` / `__Secure-` cookie name
/// (`php_is_forbidden_variable_name`): a key with that prefix is only allowed when the
/// variable's whole name (leading spaces dropped, before any mangling) has the same prefix.
#[derive(Clone, Copy)]
struct CookiePrefixes {
    host: bool,
    secure: bool,
}

impl CookiePrefixes {
    fn of(original_name: &[u8]) -> Self {
        Self {
            host: original_name.starts_with(b"__Host-"),
            secure: original_name.starts_with(b"__Secure-"),
        }
    }

    fn forbids(self, key: &[u8]) -> bool {
        (key.starts_with(b"__Host-") && !self.host)
            || (key.starts_with(b"__Secure-") && !self.secure)
    }
}

/// `php_register_variable_ex` for one decoded name (mangled in place) and its value.
fn register(
    params: &mut Params,
    name: &mut [u8],
    keys: &mut Vec<Option<(usize, usize)>>,
    value: Vec<u8>,
    limits: QueryLimits,
) {
    let start = name.iter().position(|&b| b != b' ').unwrap_or(name.len());
    let name = &mut name[start..];
    let prefixes = CookiePrefixes::of(name);
    let mut bracket = None;
    let mut i = 0;
    loop {
        i = find_any(name, i, [b' ', b'.', b'[']);
        match name.get(i) {
            Some(b'[') => {
                bracket = Some(i);
                break;
            }
            Some(_) => name[i] = b'_',
            None => break,
        }
        i += 1;
    }
    let base = &name[..bracket.unwrap_or(name.len())];
    if base.is_empty() || prefixes.forbids(base) {
        return;
    }
    let Some(open) = bracket else {
        params.insert(Key::from_bytes(base), Value::Str(value));
        return;
    };
    let shape = read_keys(name, open, limits.max_nesting, keys);
    let name = &*name;
    let key_at = |k: &Option<(usize, usize)>| k.map(|(a, b)| &name[a..b]);
    match shape {
        Shape::Plain => {
            if !prefixes.forbids(name) {
                params.insert(Key::from_bytes(name), Value::Str(value));
            }
        }
        Shape::Nested => {
            let (last, path) = keys.split_last().map_or((None, &[][..]), |(l, p)| (*l, p));
            let Some(slot) = descend(params, &name[..open], path.iter().map(key_at), prefixes)
            else {
                return;
            };
            match key_at(&last) {
                // PHP silently drops the value when no next key is free.
                None => drop(slot.push(Value::Str(value))),
                Some(k) if !prefixes.forbids(k) => {
                    slot.insert(Key::from_bytes(k), Value::Str(value));
                }
                Some(_) => {}
            }
        }
        Shape::TooDeep => {
            let containers = keys.len().saturating_sub(1);
            let path = keys[..containers].iter().map(key_at);
            // PHP builds the levels it read before it notices the depth, then deletes the whole
            // variable; building first matters in that a failed `[]` or a forbidden key stops
            // it earlier, and then nothing is deleted.
            if limits.max_nesting == 0 || descend(params, &name[..open], path, prefixes).is_some() {
                params.remove_ref(KeyRef::from_bytes(&name[..open]));
            }
        }
    }
}

/// Reads the `[…]` keys of a name whose first `[` is at `open`, following PHP's loop step by
/// step. Mangles `name` in place where PHP does (an unmatched first `[`).
fn read_keys(
    name: &mut [u8],
    open: usize,
    max_nesting: usize,
    keys: &mut Vec<Option<(usize, usize)>>,
) -> Shape {
    let len = name.len();
    let mut ip = open; // at a `[`
    let mut level = 0usize;
    loop {
        level += 1;
        if level > max_nesting {
            return Shape::TooDeep;
        }
        ip += 1;
        let index_start = ip;
        if ip < len && is_c_space(name[ip]) {
            ip += 1;
        }
        let key = if ip < len && name[ip] == b']' {
            None
        } else {
            match name[ip.min(len)..].iter().position(|&b| b == b']') {
                Some(off) => {
                    let close = ip + off;
                    let key = Some((index_start, close));
                    ip = close;
                    key
                }
                None => {
                    if level == 1 {
                        // Not an index: the `[` becomes `_`, the rest stays part of the name.
                        name[index_start - 1] = b'_';
                        for b in &mut name[index_start..] {
                            if matches!(*b, b' ' | b'.' | b'[') {
                                *b = b'_';
                            }
                        }
                        return Shape::Plain;
                    }
                    // The name ends before this `[`: the keys read so far stand.
                    return Shape::Nested;
                }
            }
        };
        keys.push(key);
        ip += 1; // past the `]`
        if !(ip < len && name[ip] == b'[') {
            return Shape::Nested;
        }
    }
}

/// Walks from the top level through `base` and then each key of `path` (`None` = `[]`),
/// creating arrays where missing and replacing non-arrays by empty arrays in place, as PHP does.
/// `None` when PHP gives up on the variable there: a `[]` finds no free key, or a key is
/// forbidden (see [`CookiePrefixes`]).
fn descend<'a, 'k>(
    top: &'a mut PhpArray,
    base: &'k [u8],
    path: impl Iterator<Item = Option<&'k [u8]>>,
    prefixes: CookiePrefixes,
) -> Option<&'a mut PhpArray> {
    let mut cur = top;
    let mut index = Some(base);
    for next in path {
        cur = child_array(cur, index, prefixes)?;
        index = next;
    }
    child_array(cur, index, prefixes)
}

/// The array under `index` in `cur` (appended for `None`), created or reset as needed.
fn child_array<'a>(
    cur: &'a mut PhpArray,
    index: Option<&[u8]>,
    prefixes: CookiePrefixes,
) -> Option<&'a mut PhpArray> {
    let slot = match index {
        None => {
            let key = cur.push(Value::Array(PhpArray::new()))?;
            cur.get_mut(&key)?
        }
        Some(k) if prefixes.forbids(k) => return None,
        Some(k) => cur.slot_or_insert_with(KeyRef::from_bytes(k), || Value::Array(PhpArray::new())),
    };
    if !matches!(slot, Value::Array(_)) {
        *slot = Value::Array(PhpArray::new());
    }
    match slot {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_scans_agree_with_byte_scans() {
        // Every byte value at every offset of a 0..=20-byte window (tails and full words).
        let special = |b: u8| CLASS[usize::from(b)] != PLAIN;
        for len in 0..=20usize {
            for pos in 0..len.max(1) {
                for b in 0..=255u8 {
                    let mut q = vec![b'a'; len];
                    if pos < len {
                        q[pos] = b;
                    }
                    for from in 0..=len {
                        let want = (from..len).find(|&i| special(q[i])).unwrap_or(len);
                        assert_eq!(next_special(&q, from), want, "{q:?} from {from}");
                    }
                    let want = (0..len)
                        .find(|&i| matches!(q[i], b' ' | b'.' | b'['))
                        .unwrap_or(len);
                    assert_eq!(find_any(&q, 0, [b' ', b'.', b'[']), want, "{q:?}");
                    for c in [b'&', b'=', 0, 0x80, 0xff, b] {
                        let want = q.iter().filter(|&&x| x == c).count();
                        assert_eq!(count_byte(&q, c), want, "{q:?} count {c}");
                    }
                }
            }
        }
        // Several specials in one word, and high bytes next to them.
        let q = b"\xff&\x80=%+\x00\x7fa&&b";
        assert_eq!(next_special(q, 0), 1);
        assert_eq!(next_special(q, 2), 3);
        assert_eq!(next_special(q, 7), 9);
        assert_eq!(count_byte(q, b'&'), 3);
    }

    /// The same compact dump as the PHP function that produced the expectations below:
    /// `[int=>…,'str'=>…]`, strings in single quotes with `'`/`\` escaped and bytes outside
    /// printable ASCII as `\xNN`.
    fn dump(a: &PhpArray) -> String {
        fn s(b: &[u8]) -> String {
            let mut o = String::from("'");
            for &c in b {
                match c {
                    b'\'' | b'\\' => {
                        o.push('\\');
                        o.push(char::from(c));
                    }
                    0x20..=0x7e => o.push(char::from(c)),
                    _ => o.push_str(&format!("\\x{c:02x}")),
                }
            }
            o.push('\'');
            o
        }
        let parts: Vec<String> = a
            .iter()
            .map(|(k, v)| {
                let k = match k {
                    Key::Int(n) => n.to_string(),
                    Key::Str(b) => s(b),
                };
                let v = match v {
                    Value::Array(x) => dump(x),
                    Value::Str(b) => s(b),
                    other => format!("{other:?}"),
                };
                format!("{k}=>{v}")
            })
            .collect();
        format!("[{}]", parts.join(","))
    }

    fn check(limits: QueryLimits, table: &[(&[u8], &str)]) {
        for (query, php) in table {
            let ours = dump(&parse_query(query, limits));
            assert_eq!(&ours, php, "query {:?}", String::from_utf8_lossy(query));
        }
    }

    // Expectations: `parse_str()` of PHP 8.2 (`php -n`), dumped as above. The whole rule set is
    // re-checked against live PHP, over the CLI and HTTP, by tests/php_oracle.rs.
    #[test]
    fn follows_php_rule_by_rule() {
        check(
            QueryLimits::default(),
            &[
            (&b"a=1&b=2"[..], r"['a'=>'1','b'=>'2']"),
            (&b"a&b=&=c&&d"[..], r"['a'=>'','b'=>'','d'=>'']"),
            (&b"a=1;b=2"[..], r"['a'=>'1;b=2']"),
            (&b"a=%2c%2C%41+%20%2B"[..], r"['a'=>',,A  +']"),
            (&b"a=%&b=%4&c=%zz&d=100%"[..], r"['a'=>'%','b'=>'%4','c'=>'%zz','d'=>'100%']"),
            (&b"a=%2526&b=%26%3D%23"[..], r"['a'=>'%26','b'=>'&=#']"),
            (&b"a=x%00y"[..], r"['a'=>'x\x00y']"),
            (&b"a.b=1&a b=2&+c=3& d.e=4"[..], r"['a_b'=>'2','c'=>'3','d_e'=>'4']"),
            (&b"a b[c d.e]=1"[..], r"['a_b'=>['c d.e'=>'1']]"),
            (&b"a%00b=1&c[x%00y]=2"[..], r"['a'=>'1','c_x'=>'2']"),
            (&b"a[]=1&a[]=2&a[5]=3&a[]=4"[..], r"['a'=>[0=>'1',1=>'2',5=>'3',6=>'4']]"),
            (&b"a[ ]=1&a[  ]=2&a[\x09]=3&a[ x]=4&c[ 0]=5"[..], r"['a'=>[0=>'1','  '=>'2',1=>'3',' x'=>'4'],'c'=>[' 0'=>'5']]"),
            (&b"a[x][y]=1&a[x][]=2&a[][z]=3"[..], r"['a'=>['x'=>['y'=>'1',0=>'2'],0=>['z'=>'3']]]"),
            (&b"j[k]l=1&m[n]o[p]=2&q[r[s]=3"[..], r"['j'=>['k'=>'1'],'m'=>['n'=>'2'],'q'=>['r[s'=>'3']]"),
            (&b"a[b=1&a[b.c d[e=2"[..], r"['a_b'=>'1','a_b_c_d_e'=>'2']"),
            (&b"a[x][y=1&b[][y=2"[..], r"['a'=>['x'=>'1'],'b'=>[0=>'2']]"),
            (&b"[a]=1&[=2&]=3"[..], r"[']'=>'3']"),
            (&b"a=1&a[]=2&b[]=1&b=2&c[x]=1&c[x][y]=2"[..], r"['a'=>[0=>'2'],'b'=>'2','c'=>['x'=>['y'=>'2']]]"),
            (&b"1=a&01=b&-1=c&-0=d&a[1]=e&a[01]=f&9223372036854775808=g"[..], r"[1=>'a','01'=>'b',-1=>'c','-0'=>'d','a'=>[1=>'e','01'=>'f'],'9223372036854775808'=>'g']"),
            (&b"a=1&b=2&a=3"[..], r"['a'=>'3','b'=>'2']"),
            (&b"_.Host-a=1&__Host-b=2&a[__Host-x]=1&a[y]=2&__Secure-c[__Secure-x]=3&_[Host-x=4"[..], r"['__Host-b'=>'2','a'=>['y'=>'2'],'__Secure-c'=>['__Secure-x'=>'3']]"),
            (&b"a[-5]=1&a[]=2&b[x]=1&b[]=2"[..], r"['a'=>[-5=>'1',-4=>'2'],'b'=>['x'=>'1',0=>'2']]"),
            (&b"a[9223372036854775807]=1&a[]=2"[..], r"['a'=>[9223372036854775807=>'1']]"),
            ],
        );
    }

    #[test]
    fn raw_nul_ends_the_query() {
        check(
            QueryLimits::default(),
            &[(&b"a=1&b=x\0y&c=3"[..], r"['a'=>'1','b'=>'x']")],
        );
    }

    // `php -n -d max_input_vars=3`: every non-empty piece counts, even one whose name is dropped.
    #[test]
    fn max_input_vars_counts_pieces() {
        let limits = QueryLimits {
            max_input_vars: 3,
            ..QueryLimits::default()
        };
        check(
            limits,
            &[
                (&b"a=1&&b=2&=x&c=3&d=4"[..], r"['a'=>'1','b'=>'2']"),
                (&b"a=1&b=2&c=3"[..], r"['a'=>'1','b'=>'2','c'=>'3']"),
                (&b"&&&a=1&b=2&c=3&d=4"[..], r"['a'=>'1','b'=>'2','c'=>'3']"),
            ],
        );
    }

    // `php -n -d max_input_nesting_level=2` (and 0): too deep deletes the whole variable.
    #[test]
    fn too_deep_deletes_the_variable() {
        let limits = QueryLimits {
            max_nesting: 2,
            ..QueryLimits::default()
        };
        check(
            limits,
            &[
                (&b"a[x][y]=1&b[x][y][z]=2"[..], r"['a'=>['x'=>['y'=>'1']]]"),
                (&b"b=0&b[x][y][z]=2"[..], r"[]"),
                (&b"b[x]=1&b[x][y][z]=2&b[w]=3"[..], r"['b'=>['w'=>'3']]"),
            ],
        );
        let none = QueryLimits {
            max_nesting: 0,
            ..QueryLimits::default()
        };
        check(none, &[(&b"a[x]=1&a[y][z]=2"[..], r"[]")]);
    }

    #[test]
    fn url_decode_is_phps() {
        assert_eq!(url_decode(b"a+b%20c%2B%2b%zz%4%"), b"a b c++%zz%4%");
        assert_eq!(url_decode(b"%00%FF%ff"), b"\0\xff\xff");
        assert_eq!(url_decode(b"plain"), b"plain");
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for q in [
            &b"["[..],
            b"]",
            b"[[",
            b"a[",
            b"a[ ",
            b"a[\t",
            b"=",
            b"%",
            b"%[",
            b"a[%",
            b"\xff[\xff",
        ] {
            let _ = parse_query(q, QueryLimits::default());
            let _ = parse_query(
                q,
                QueryLimits {
                    max_input_vars: 0,
                    max_nesting: 0,
                },
            );
        }
    }

    proptest::proptest! {
        /// Any bytes at all: no panic, and the limits hold.
        #[test]
        fn total_on_any_bytes(q in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let p = parse_query(&q, QueryLimits::default());
            proptest::prop_assert!(p.len() <= 1000);
            let _ = parse_query(&q, QueryLimits { max_input_vars: 2, max_nesting: 1 });
        }

        /// Built from the bytes that matter most: no panic.
        #[test]
        fn total_on_bracket_soup(q in "[a-c\\[\\] .=&%+0-9_-]{0,80}") {
            let _ = parse_query(q.as_bytes(), QueryLimits::default());
            let _ = parse_query(q.as_bytes(), QueryLimits { max_input_vars: 3, max_nesting: 2 });
        }
    }
}
