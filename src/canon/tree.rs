//! The params tree: a PHP array as `$_GET` holds it, and the match rule of SPEC section 3 (steps 5–6).
//!
//! A PHP array is an ordered map whose keys are integers or byte strings. Order is kept because
//! `json_encode` and `http_build_query` write entries in insertion order, but two arrays *match*
//! regardless of order (SPEC: "arrays compare recursively as maps").

use indexmap::IndexMap;
use indexmap::map::Entry;
use rustc_hash::FxBuildHasher;

/// A key of a PHP array. PHP turns decimal integer-like string keys (`"1"`, `"-3"`, not `"01"`,
/// not `"-0"`) into integer keys; [`Key::from_bytes`] does the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
        match integer_like(bytes) {
            Some(n) => Key::Int(n),
            None => Key::Str(bytes.to_vec()),
        }
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
    /// FxHash: an array holds at most `max_input_vars` request keys (or what a stored JSON column
    /// holds), so worst-case collisions stay bounded, and SipHash dominated the parse time.
    entries: IndexMap<Key, Value, FxBuildHasher>,
    /// PHP's `nNextFreeElement`: one past the largest integer key ever inserted, or `None` when
    /// no integer key was ever inserted.
    next_free: Option<i64>,
}

/// The request's or the token's parameters: the top-level PHP array.
pub type Params = PhpArray;

impl PhpArray {
    /// An empty array.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under `key`.
    #[must_use]
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.entries.get(key)
    }

    /// The value under `key`, mutable.
    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        self.entries.get_mut(key)
    }

    /// `$a[$key] = $value`: replaces in place when the key exists, else appends at the end.
    pub fn insert(&mut self, key: Key, value: Value) {
        self.note_key(&key);
        self.entries.insert(key, value);
    }

    /// The slot for `key`, inserted at the end with `default()` when absent (PHP's
    /// `zend_symtable_update` on a missing key).
    pub fn entry_or_insert_with(
        &mut self,
        key: Key,
        default: impl FnOnce() -> Value,
    ) -> &mut Value {
        self.note_key(&key);
        match self.entries.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default()),
        }
    }

    /// `$a[] = $value`. Returns the key used, or `None` when PHP would refuse ("the next element
    /// is already occupied": the largest integer key is `i64::MAX`).
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
            Some(n) if n == i64::MAX && self.entries.contains_key(&Key::Int(i64::MAX)) => None,
            Some(n) => Some(Key::Int(n)),
        }
    }

    /// Removes `key` keeping the order of the others (used to drop `TOKEN`).
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        self.entries.shift_remove(key)
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
            .keys()
            .enumerate()
            .all(|(i, k)| matches!(k, Key::Int(n) if usize::try_from(*n) == Ok(i)))
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
    let mut path = Vec::new();
    match_arrays(stored, request, &mut path).map_err(|kind| ParamsMismatch { path, kind })
}

fn match_arrays(a: &PhpArray, b: &PhpArray, path: &mut Vec<Key>) -> Result<(), MismatchKind> {
    for (key, av) in a.iter() {
        path.push(key.clone());
        let bv = b.get(key).ok_or(MismatchKind::MissingInRequest)?;
        match_values(av, bv, path)?;
        path.pop();
    }
    if a.len() != b.len() {
        // Every key of `a` is in `b`, so `b` has one more: name the first.
        let extra = b
            .iter()
            .find(|(k, _)| a.get(k).is_none())
            .map(|(k, _)| k.clone());
        path.extend(extra);
        return Err(MismatchKind::ExtraInRequest);
    }
    Ok(())
}

fn match_values(a: &Value, b: &Value, path: &mut Vec<Key>) -> Result<(), MismatchKind> {
    let same = match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(n), Value::Str(s)) | (Value::Str(s), Value::Int(n)) => {
            s.as_slice() == n.to_string().as_bytes()
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
}
