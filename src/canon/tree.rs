//! The params tree: a PHP array as `$_GET` holds it, and the match rule of SPEC section 3 (steps 5–6).
//!
//! A PHP array is an ordered map whose keys are integers or byte strings. Order is kept because
//! `json_encode` and `http_build_query` write entries in insertion order, but two arrays *match*
//! regardless of order (SPEC: "arrays compare recursively as maps").

use indexmap::{Equivalent, IndexMap};
use rustc_hash::FxBuildHasher;
use std::hash::{Hash, Hasher};

/// A key of a PHP array. PHP turns decimal integer-like string keys (`"1"`, `"-3"`, not `"01"`,
/// not `"-0"`) into integer keys; [`Key::from_bytes`] does the same.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// An integer key (`a[1]`, or list positions).
    Int(i64),
    /// A string key, as raw bytes (PHP strings need not be UTF-8).
    Str(Vec<u8>),
}

impl Key {
    /// The key PHP's symbol table would use for these bytes (`ZEND_HANDLE_NUMERIC_STR`).
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        KeyRef::from_bytes(bytes).to_key()
    }

    /// The key as PHP prints it (`(string) $key`).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Key::Int(n) => n.to_string().into_bytes(),
            Key::Str(s) => s.clone(),
        }
    }
}

// Hashed by hand so that [`KeyRef`] hashes the same and can look keys up without allocating.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Int(n) => KeyRef::Int(*n).hash(state),
            Key::Str(s) => KeyRef::Str(s).hash(state),
        }
    }
}

/// A borrowed [`Key`]: looks up, and only allocates a [`Key`] when an entry is really inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyRef<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> KeyRef<'a> {
    /// As [`Key::from_bytes`], borrowing.
    pub(crate) fn from_bytes(bytes: &'a [u8]) -> Self {
        match integer_like(bytes) {
            Some(n) => KeyRef::Int(n),
            None => KeyRef::Str(bytes),
        }
    }

    pub(crate) fn to_key(self) -> Key {
        match self {
            KeyRef::Int(n) => Key::Int(n),
            KeyRef::Str(s) => Key::Str(s.to_vec()),
        }
    }
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyRef::Int(n) => {
                state.write_u8(0);
                state.write_i64(*n);
            }
            KeyRef::Str(s) => {
                state.write_u8(1);
                state.write_usize(s.len());
                state.write(s);
            }
        }
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        match (self, key) {
            (KeyRef::Int(a), Key::Int(b)) => a == b,
            (KeyRef::Str(a), Key::Str(b)) => *a == b.as_slice(),
            _ => false,
        }
    }
}

/// `Some(n)` when PHP treats `bytes` as the integer key `n`: an optional `-`, then decimal digits
/// with no leading zero (a lone `0` is fine, `-0` is not), within `i64`.
#[must_use]
pub fn integer_like(bytes: &[u8]) -> Option<i64> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || bytes.len() != digits.len()) {
        return None;
    }
    // Every byte is ASCII here, so this cannot fail; overflow is rejected by `parse`.
    std::str::from_utf8(bytes).ok()?.parse::<i64>().ok()
}

/// A value in a params tree.
///
/// Requests only ever produce [`Value::Str`] and [`Value::Array`]. The other variants exist
/// because stored parameters are JSON written by Tiki code (which stores e.g. `fileId` as an int).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string, as raw bytes.
    Str(Vec<u8>),
    /// A JSON integer from stored parameters; matches the request string that is its decimal form.
    Int(i64),
    /// A JSON float from stored parameters; never matches anything.
    Float(f64),
    /// A JSON boolean from stored parameters; never matches anything.
    Bool(bool),
    /// A JSON null from stored parameters; never matches anything.
    Null,
    /// A nested array.
    Array(PhpArray),
}

/// An ordered PHP array with PHP's insertion semantics: setting an existing key keeps its
/// position, appending (`$a[] = v`) uses the next free integer key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhpArray {
    entries: Entries,
    /// PHP's `nNextFreeElement`: one past the largest integer key ever inserted, or `None` when
    /// no integer key was ever inserted.
    next_free: Option<i64>,
}

/// Arrays up to this many entries are searched linearly, with no hash table behind them: a
/// typical Tiki query has 5–10 params and its nested arrays a handful, and building a hash
/// table for each cost a third of the time of the canonical form.
const SMALL: usize = 8;

/// The entries of a [`PhpArray`], in insertion order.
#[derive(Clone, Debug)]
enum Entries {
    /// At most [`SMALL`] entries, found by a linear scan.
    Small(Vec<(Key, Value)>),
    /// More: an insertion-ordered hash map. FxHash: an array holds at most `max_input_vars`
    /// request keys (or what a stored JSON column holds), so worst-case collisions stay bounded,
    /// and SipHash dominated the parse time.
    Large(IndexMap<Key, Value, FxBuildHasher>),
}

impl Default for Entries {
    fn default() -> Self {
        Entries::Small(Vec::new())
    }
}

/// Map equality, as `IndexMap`'s: the same keys with equal values, in any order.
impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(k, v)| other.index_of(k).is_some_and(|i| other.at(i).1 == v))
    }
}

impl Entries {
    fn with_capacity(n: usize) -> Self {
        if n <= SMALL {
            Entries::Small(Vec::with_capacity(n))
        } else {
            Entries::Large(IndexMap::with_capacity_and_hasher(n, FxBuildHasher))
        }
    }

    fn len(&self) -> usize {
        match self {
            Entries::Small(v) => v.len(),
            Entries::Large(m) => m.len(),
        }
    }

    fn index_of<Q: Hash + Equivalent<Key> + ?Sized>(&self, key: &Q) -> Option<usize> {
        match self {
            Entries::Small(v) => v.iter().position(|(k, _)| key.equivalent(k)),
            Entries::Large(m) => m.get_index_of(key),
        }
    }

    fn at(&self, i: usize) -> (&Key, &Value) {
        match self {
            Entries::Small(v) => (&v[i].0, &v[i].1),
            Entries::Large(m) => m.get_index(i).expect("index from index_of"),
        }
    }

    fn at_mut(&mut self, i: usize) -> &mut Value {
        match self {
            Entries::Small(v) => &mut v[i].1,
            Entries::Large(m) => &mut m[i],
        }
    }

    /// Appends an entry whose key is known to be absent; returns its position.
    fn push_new(&mut self, key: Key, value: Value) -> usize {
        match self {
            Entries::Small(v) if v.len() < SMALL => {
                v.push((key, value));
                v.len() - 1
            }
            Entries::Small(v) => {
                let mut m = IndexMap::with_capacity_and_hasher(2 * SMALL, FxBuildHasher);
                m.extend(v.drain(..));
                let i = m.insert_full(key, value).0;
                *self = Entries::Large(m);
                i
            }
            Entries::Large(m) => m.insert_full(key, value).0,
        }
    }

    fn shift_remove_index(&mut self, i: usize) -> Value {
        match self {
            Entries::Small(v) => v.remove(i).1,
            Entries::Large(m) => m.shift_remove_index(i).expect("index from index_of").1,
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        let (small, large) = match self {
            Entries::Small(v) => (Some(v.iter().map(|(k, v)| (k, v))), None),
            Entries::Large(m) => (None, Some(m.iter())),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }
}

/// The request's or the token's parameters: the top-level PHP array.
pub type Params = PhpArray;

impl PhpArray {
    /// An empty array.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty array with room for `n` entries (no growing while a query of `n` pieces is read).
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Entries::with_capacity(n),
            next_free: None,
        }
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The value under `key`.
    #[must_use]
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.entries.index_of(key).map(|i| self.entries.at(i).1)
    }

    /// The value under `key`, mutable.
    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        let i = self.entries.index_of(key)?;
        Some(self.entries.at_mut(i))
    }

    /// The slot under a borrowed key, inserted at the end with `default()` when absent; the key
    /// is only copied when it is inserted.
    pub(crate) fn slot_or_insert_with(
        &mut self,
        key: KeyRef<'_>,
        default: impl FnOnce() -> Value,
    ) -> &mut Value {
        let i = match self.entries.index_of(&key) {
            Some(i) => i,
            None => {
                let key = key.to_key();
                self.note_key(&key);
                self.entries.push_new(key, default())
            }
        };
        self.entries.at_mut(i)
    }

    /// Removes a borrowed key, keeping the order of the others.
    pub(crate) fn remove_ref(&mut self, key: KeyRef<'_>) -> Option<Value> {
        let i = self.entries.index_of(&key)?;
        Some(self.entries.shift_remove_index(i))
    }

    /// The value under a borrowed key.
    pub(crate) fn get_ref(&self, key: KeyRef<'_>) -> Option<&Value> {
        self.entries.index_of(&key).map(|i| self.entries.at(i).1)
    }

    /// `$a[$key] = $value`: replaces in place when the key exists, else appends at the end.
    pub fn insert(&mut self, key: Key, value: Value) {
        self.note_key(&key);
        match self.entries.index_of(&key) {
            Some(i) => *self.entries.at_mut(i) = value,
            None => {
                self.entries.push_new(key, value);
            }
        }
    }

    /// `$a[] = $value` as PHP 8.2 does it on the arrays it builds for `$_GET` (`array_init`): the
    /// next key is one past the largest integer key, even when that is negative (`a[-5]=1&a[]=2`
    /// gives keys -5 and -4), or 0 when there is none. Returns the key used, or `None` when PHP
    /// would refuse ("the next element is already occupied": the largest key is `i64::MAX`).
    pub fn push(&mut self, value: Value) -> Option<Key> {
        let key = self.next_key()?;
        self.insert(key.clone(), value);
        Some(key)
    }

    /// The key `$a[] = …` would use next, as PHP 8.2 chooses it.
    #[must_use]
    pub fn next_key(&self) -> Option<Key> {
        match self.next_free {
            None => Some(Key::Int(0)),
            Some(n) if n == i64::MAX && self.entries.index_of(&KeyRef::Int(n)).is_some() => None,
            Some(n) => Some(Key::Int(n)),
        }
    }

    /// Removes `key` keeping the order of the others (used to drop `TOKEN`).
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let i = self.entries.index_of(key)?;
        Some(self.entries.shift_remove_index(i))
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.entries.iter()
    }

    /// True when the keys are exactly 0, 1, …, n-1 in that order: `json_encode` writes such an
    /// array as a JSON list, any other as an object.
    #[must_use]
    pub fn is_list(&self) -> bool {
        self.entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| matches!(k, Key::Int(n) if usize::try_from(*n) == Ok(i)))
    }

    fn note_key(&mut self, key: &Key) {
        if let Key::Int(n) = *key {
            // As PHP 8.2 builds `$_GET` (checked against real PHP): one past the largest integer
            // key, even a negative one, so `a[-5]=x&a[]=y` gives keys -5 and -4.
            let next = n.saturating_add(1);
            if self.next_free.is_none_or(|cur| next > cur) {
                self.next_free = Some(next);
            }
        }
    }
}

impl FromIterator<(Key, Value)> for PhpArray {
    fn from_iter<I: IntoIterator<Item = (Key, Value)>>(iter: I) -> Self {
        let mut a = PhpArray::new();
        for (k, v) in iter {
            a.insert(k, v);
        }
        a
    }
}

/// Why stored params and request params are not the same set. `path` leads from the top level
/// to the first differing place (e.g. `[listfields, 1]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsMismatch {
    /// Keys from the top level down to the differing entry.
    pub path: Vec<Key>,
    /// What differs there.
    pub kind: MismatchKind,
}

/// The kind of difference found by [`match_params`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MismatchKind {
    /// The token has this key, the request does not.
    MissingInRequest,
    /// The request has this key, the token does not.
    ExtraInRequest,
    /// Both have the key with different values (or different types).
    ValueDiffers,
}

/// SPEC section 3 step 5: the stored entry equals the request's entry byte for byte.
#[must_use]
pub fn match_entry(stored: &[u8], request: &[u8]) -> bool {
    stored == request
}

/// SPEC section 3 step 6: `stored` and `request` are the same set (every key of each present in
/// the other, values equal as exact bytes, arrays recursively as maps, a stored JSON int equal to
/// its decimal string; floats, bools and nulls never match). Symmetric in its arguments.
///
/// # Errors
/// The first difference found, with the path to it.
pub fn match_params(stored: &PhpArray, request: &PhpArray) -> Result<(), ParamsMismatch> {
    // The path is kept as borrowed keys and only copied out on a mismatch: cloning every
    // string key on the way down was most of the cost of a successful match.
    let mut path = Vec::new();
    match_arrays(stored, request, &mut path).map_err(|kind| ParamsMismatch {
        path: path.into_iter().cloned().collect(),
        kind,
    })
}

fn match_arrays<'a>(
    a: &'a PhpArray,
    b: &'a PhpArray,
    path: &mut Vec<&'a Key>,
) -> Result<(), MismatchKind> {
    for (key, av) in a.iter() {
        path.push(key);
        let bv = b.get(key).ok_or(MismatchKind::MissingInRequest)?;
        match_values(av, bv, path)?;
        path.pop();
    }
    if a.len() != b.len() {
        // Every key of `a` is in `b`, so `b` has one more: name the first.
        let extra = b.iter().find(|(k, _)| a.get(k).is_none()).map(|(k, _)| k);
        path.extend(extra);
        return Err(MismatchKind::ExtraInRequest);
    }
    Ok(())
}

fn match_values<'a>(
    a: &'a Value,
    b: &'a Value,
    path: &mut Vec<&'a Key>,
) -> Result<(), MismatchKind> {
    let same = match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(n), Value::Str(s)) | (Value::Str(s), Value::Int(n)) => {
            integer_like(s) == Some(*n)
        }
        (Value::Array(x), Value::Array(y)) => return match_arrays(x, y, path),
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(MismatchKind::ValueDiffers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.as_bytes().to_vec())
    }
    fn k(v: &str) -> Key {
        Key::from_bytes(v.as_bytes())
    }

    #[test]
    fn integer_like_keys_follow_php() {
        for (text, want) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("01", None),
            ("-0", None),
            ("", None),
            ("-", None),
            ("1a", None),
            (" 1", None),
            ("+1", None),
        ] {
            assert_eq!(integer_like(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn push_uses_next_free_like_php_8_2() {
        let mut a = PhpArray::new();
        a.insert(k("-5"), s("x"));
        assert_eq!(a.push(s("y")), Some(Key::Int(-4)));
        a.insert(k("7"), s("z"));
        assert_eq!(a.push(s("w")), Some(Key::Int(8)));
        a.insert(Key::Int(i64::MAX), s("max"));
        assert_eq!(a.push(s("no")), None);
    }

    #[test]
    fn insert_existing_key_keeps_position() {
        let mut a: PhpArray = [(k("a"), s("1")), (k("b"), s("2"))].into_iter().collect();
        a.insert(k("a"), s("3"));
        let keys: Vec<_> = a.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec![k("a"), k("b")]);
        assert_eq!(a.get(&k("a")), Some(&s("3")));
    }

    #[test]
    fn match_ignores_order_but_not_bytes() {
        let a: PhpArray = [(k("a"), s("1")), (k("b"), s("2"))].into_iter().collect();
        let b: PhpArray = [(k("b"), s("2")), (k("a"), s("1"))].into_iter().collect();
        assert_eq!(match_params(&a, &b), Ok(()));
        let c: PhpArray = [(k("b"), s("2")), (k("a"), s("01"))].into_iter().collect();
        assert_eq!(
            match_params(&a, &c),
            Err(ParamsMismatch {
                path: vec![k("a")],
                kind: MismatchKind::ValueDiffers
            })
        );
    }

    #[test]
    fn stored_int_matches_its_decimal_string_only() {
        let stored: PhpArray = [(k("fileId"), Value::Int(5))].into_iter().collect();
        let ok: PhpArray = [(k("fileId"), s("5"))].into_iter().collect();
        assert_eq!(match_params(&stored, &ok), Ok(()));
        assert_eq!(match_params(&ok, &stored), Ok(()));
        for bad in ["05", "5.0", "5e0", " 5", ""] {
            let req: PhpArray = [(k("fileId"), s(bad))].into_iter().collect();
            assert!(match_params(&stored, &req).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn float_bool_null_never_match() {
        for v in [Value::Float(1.0), Value::Bool(true), Value::Null] {
            let stored: PhpArray = [(k("a"), v.clone())].into_iter().collect();
            assert!(match_params(&stored, &stored).is_err());
        }
    }

    #[test]
    fn missing_and_extra_are_named() {
        let a: PhpArray = [(k("a"), s("1"))].into_iter().collect();
        let b: PhpArray = [(k("a"), s("1")), (k("x"), s(""))].into_iter().collect();
        assert_eq!(
            match_params(&a, &b),
            Err(ParamsMismatch {
                path: vec![k("x")],
                kind: MismatchKind::ExtraInRequest
            })
        );
        assert_eq!(
            match_params(&b, &a),
            Err(ParamsMismatch {
                path: vec![k("x")],
                kind: MismatchKind::MissingInRequest
            })
        );
    }

    #[test]
    fn empty_and_zero_match_themselves() {
        for v in ["", "0"] {
            let a: PhpArray = [(k("a"), s(v))].into_iter().collect();
            assert_eq!(match_params(&a, &a.clone()), Ok(()));
        }
    }

    #[test]
    fn small_and_large_arrays_behave_alike() {
        // Across the switch from a linear vector to a hash map: order kept, keys found,
        // replacement in place, removal keeping order, equality as maps.
        for n in [0usize, 1, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL] {
            let mut a = PhpArray::new();
            for i in 0..n {
                a.insert(k(&format!("k{i}")), s("x"));
                a.push(s("p"));
            }
            assert_eq!(a.len(), 2 * n);
            let keys: Vec<Key> = a.iter().map(|(k, _)| k.clone()).collect();
            for (i, key) in keys.iter().enumerate() {
                assert!(a.get(key).is_some(), "n={n} key {key:?}");
                assert_eq!(a.get_ref(KeyRef::from_bytes(&key.to_bytes())), a.get(key));
                let want = if i % 2 == 0 {
                    key.clone()
                } else {
                    Key::Int((i / 2) as i64)
                };
                assert_eq!(*key, want);
            }
            if n > 0 {
                a.insert(k("k0"), s("replaced"));
                assert_eq!(a.iter().next(), Some((&k("k0"), &s("replaced"))));
                assert_eq!(a.remove_ref(KeyRef::Str(b"k0")), Some(s("replaced")));
                assert_eq!(a.iter().next().map(|(k, _)| k.clone()), Some(Key::Int(0)));
                assert!(a.get(&k("k0")).is_none());
            }
            let reversed: PhpArray = {
                let mut r: Vec<(Key, Value)> =
                    a.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                r.reverse();
                r.into_iter().collect()
            };
            assert_eq!(a, reversed, "n={n}: equality ignores order");
            assert_eq!(match_params(&a, &reversed), Ok(()));
        }
    }

    #[test]
    fn borrowed_keys_hash_like_owned_ones() {
        use std::hash::BuildHasher;
        let h = FxBuildHasher;
        for bytes in [&b""[..], b"a", b"1", b"-7", b"01", b"TOKEN", b"\xff\x00"] {
            let owned = Key::from_bytes(bytes);
            let borrowed = KeyRef::from_bytes(bytes);
            assert_eq!(h.hash_one(&owned), h.hash_one(borrowed));
            assert!(borrowed.equivalent(&owned));
            assert_eq!(borrowed.to_key(), owned);
        }
    }
}
