//! PHP values ↔ the core's types. Strings are bytes (never required to be UTF-8 unless the
//! target column needs text); arrays become [`PhpArray`] trees with PHP's int and string keys.
//!
//! Reading a PHP array is guarded: deeper than [`MAX_DEPTH`] nested arrays, a recursive reference,
//! more than [`MAX_VALUES`] values in all, or a value no request can carry (object, resource) is
//! a [`ConvertError`], never a stack overflow or a guess.

use crate::canon::{Key, Params, PhpArray, Value};
use crate::store::{Reissued, TokenRow};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ArrayKey, ZendHashTable, ZendStr, Zval};

/// PHP's own `max_input_nesting_level` default: `$_GET` never holds deeper arrays, so deeper
/// input is refused rather than recursed into.
pub const MAX_DEPTH: usize = 64;

/// Bound on the values read from one argument (all levels together): `$_GET` holds at most
/// `max_input_vars` (1000 by default) variables, and a bound keeps a shared sub-array repeated
/// at every level from costing exponential time.
pub const MAX_VALUES: usize = 100_000;

/// Why a PHP value cannot be converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError(pub String);

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An `array $x = []` parameter: ext-php-rs cannot give a borrowed `&ZendHashTable` a default,
/// so this wrapper declares the PHP type `array` with the default `[]` (an omitted argument is
/// `None`, which every user treats as an empty array).
pub struct ArrayArg<'a>(pub Option<&'a ZendHashTable>);

impl<'a> ArrayArg<'a> {
    /// The omitted argument (`[]`).
    #[must_use]
    pub fn empty() -> Self {
        ArrayArg(None)
    }

    /// The array, `None` when omitted.
    #[must_use]
    pub fn table(&self) -> Option<&'a ZendHashTable> {
        self.0
    }
}

impl<'a> FromZval<'a> for ArrayArg<'a> {
    const TYPE: DataType = DataType::Array;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.array().map(|a| ArrayArg(Some(a)))
    }
}

impl StubLiteral for ArrayArg<'_> {
    fn stub_literal(&self) -> String {
        "[]".to_string()
    }
}

/// The PHP type name of a value, for messages (`get_debug_type` style, without class names).
pub fn type_name(z: &Zval) -> &'static str {
    let z = z.dereference();
    match z.get_type() {
        DataType::Null | DataType::Undef => "null",
        DataType::False | DataType::True | DataType::Bool => "bool",
        DataType::Long => "int",
        DataType::Double => "float",
        DataType::String => "string",
        DataType::Array => "array",
        DataType::Object(_) => "object",
        DataType::Resource => "resource",
        _ => "unsupported value",
    }
}

/// The bytes of a PHP string (binary safe), or `None` for any other type.
pub fn bytes_of(z: &Zval) -> Option<&[u8]> {
    z.zend_str().map(ZendStr::as_bytes)
}

/// A PHP array → params tree (keys and order kept), with the guards described above.
///
/// # Errors
/// Too deep, recursive, too many values, or a value that is an object or resource.
pub fn params_from_php(ht: &ZendHashTable) -> Result<Params, ConvertError> {
    Walker {
        values: 0,
        path: Vec::new(),
    }
    .array(ht, 0, &mut Vec::new())
}

struct Walker {
    values: usize,
    /// The arrays being read, outermost first: meeting one again is a recursive reference.
    path: Vec<*const ZendHashTable>,
}

impl Walker {
    fn array(
        &mut self,
        ht: &ZendHashTable,
        depth: usize,
        keys: &mut Vec<Key>,
    ) -> Result<PhpArray, ConvertError> {
        let me: *const ZendHashTable = ht;
        if self.path.contains(&me) {
            return Err(ConvertError(format!(
                "recursive reference in array{}",
                at(keys)
            )));
        }
        self.path.push(me);
        let mut out = PhpArray::new();
        let mut iter = ht.iter();
        while let Some((key, value)) = iter.next_zval() {
            let value = value.dereference();
            if value.get_type() == DataType::Undef {
                continue; // an unset slot of a symbol table: foreach skips it too
            }
            self.values += 1;
            if self.values > MAX_VALUES {
                return Err(ConvertError(format!(
                    "more than {MAX_VALUES} values in one array"
                )));
            }
            let key = if let Some(n) = key.long() {
                Key::Int(n)
            } else if let Some(s) = key.zend_str() {
                Key::from_bytes(s.as_bytes())
            } else {
                return Err(ConvertError(format!(
                    "array key of an unsupported type{}",
                    at(keys)
                )));
            };
            keys.push(key.clone());
            let converted = self.value(value, depth, keys);
            keys.pop();
            out.insert(key, converted?);
        }
        self.path.pop();
        Ok(out)
    }

    fn value(
        &mut self,
        z: &Zval,
        depth: usize,
        keys: &mut Vec<Key>,
    ) -> Result<Value, ConvertError> {
        if let Some(ht) = z.array() {
            if depth >= MAX_DEPTH {
                return Err(ConvertError(format!(
                    "arrays nested deeper than {MAX_DEPTH} levels{}",
                    at(keys)
                )));
            }
            return Ok(Value::Array(self.array(ht, depth + 1, keys)?));
        }
        if let Some(s) = z.zend_str() {
            return Ok(Value::Str(s.as_bytes().to_vec()));
        }
        if let Some(n) = z.long() {
            return Ok(Value::Int(n));
        }
        if let Some(f) = z.double() {
            return Ok(Value::Float(f));
        }
        if let Some(b) = z.bool() {
            return Ok(Value::Bool(b));
        }
        if z.is_null() {
            return Ok(Value::Null);
        }
        Err(ConvertError(format!(
            "a value of type {} cannot be a parameter{}",
            type_name(z),
            at(keys)
        )))
    }
}

/// ` at [a][0]` for messages: where in the array the problem is (keys shown lossily).
fn at(keys: &[Key]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let mut s = String::from(" at ");
    for k in keys.iter().take(8) {
        s.push('[');
        s.push_str(
            &String::from_utf8_lossy(&k.to_bytes())
                .chars()
                .take(40)
                .collect::<String>(),
        );
        s.push(']');
    }
    if keys.len() > 8 {
        s.push('…');
    }
    s
}

/// The values of a PHP list of names (groups), in order, as UTF-8 text (they are stored as JSON).
///
/// # Errors
/// A value that is not a string, or not valid UTF-8.
pub fn strings_from_php(ht: &ZendHashTable, what: &str) -> Result<Vec<String>, ConvertError> {
    let mut out = Vec::with_capacity(ht.len());
    let mut iter = ht.iter();
    while let Some((_, value)) = iter.next_zval() {
        let value = value.dereference();
        if value.get_type() == DataType::Undef {
            continue;
        }
        let bytes = bytes_of(value).ok_or_else(|| {
            ConvertError(format!("{what} must be strings, got {}", type_name(value)))
        })?;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ConvertError(format!("{what} must be valid UTF-8")))?;
        out.push(text.to_string());
    }
    Ok(out)
}

/// A PHP string zval holding exactly these bytes.
pub fn bytes_zval(bytes: &[u8]) -> Zval {
    let mut z = Zval::new();
    z.set_zend_string(ZendStr::new(bytes, false));
    z
}

/// A PHP value for one params-tree value.
///
/// # Errors
/// Only if ext-php-rs cannot build an array (out of memory and the like).
pub fn value_zval(v: &Value) -> Result<Zval, ConvertError> {
    let mut z = Zval::new();
    match v {
        Value::Str(s) => return Ok(bytes_zval(s)),
        Value::Int(n) => z.set_long(*n),
        Value::Float(f) => z.set_double(*f),
        Value::Bool(b) => z.set_bool(*b),
        Value::Null => z.set_null(),
        Value::Array(a) => z.set_hashtable(params_to_php(a)?),
    }
    Ok(z)
}

/// A params tree → a PHP array with the same keys, order and values.
///
/// # Errors
/// As [`value_zval`].
pub fn params_to_php(p: &PhpArray) -> Result<ZBox<ZendHashTable>, ConvertError> {
    let mut ht = ZendHashTable::new();
    for (key, value) in p.iter() {
        let value = value_zval(value)?;
        match key {
            Key::Int(n) => ht.insert(*n, value),
            Key::Str(s) => {
                let name = ZendStr::new(s, false);
                ht.insert(ArrayKey::from(&*name), value)
            }
        }
        .map_err(|e| ConvertError(format!("cannot build a PHP array: {e}")))?;
    }
    Ok(ht)
}

/// Builds a PHP array with string keys from `(name, value)` pairs.
///
/// # Errors
/// If ext-php-rs cannot insert (out of memory and the like).
pub fn assoc(pairs: Vec<(&str, Zval)>) -> Result<ZBox<ZendHashTable>, ConvertError> {
    let mut ht = ZendHashTable::with_capacity(u32::try_from(pairs.len()).unwrap_or(u32::MAX));
    for (name, value) in pairs {
        ht.insert(name, value)
            .map_err(|e| ConvertError(format!("cannot build a PHP array: {e}")))?;
    }
    Ok(ht)
}

/// A PHP list of strings.
///
/// # Errors
/// As [`assoc`].
pub fn string_list(items: &[String]) -> Result<ZBox<ZendHashTable>, ConvertError> {
    let mut ht = ZendHashTable::with_capacity(u32::try_from(items.len()).unwrap_or(u32::MAX));
    for item in items {
        ht.push(bytes_zval(item.as_bytes()))
            .map_err(|e| ConvertError(format!("cannot build a PHP array: {e}")))?;
    }
    Ok(ht)
}

/// An integer zval.
pub fn int_zval(n: i64) -> Zval {
    let mut z = Zval::new();
    z.set_long(n);
    z
}

/// A boolean zval.
pub fn bool_zval(b: bool) -> Zval {
    let mut z = Zval::new();
    z.set_bool(b);
    z
}

/// A string zval, or null for `None`.
pub fn opt_str_zval(s: Option<&str>) -> Zval {
    s.map_or_else(Zval::null, |s| bytes_zval(s.as_bytes()))
}

/// A zval holding a PHP array.
pub fn array_zval(ht: ZBox<ZendHashTable>) -> Zval {
    let mut z = Zval::new();
    z.set_hashtable(ht);
    z
}

/// A row of `tiki_auth_tokens` as a PHP array keyed by Tiki's column names. Numbers are PHP ints
/// (what PDO MySQL returns since PHP 8.1); `user` and `data` appear only when not NULL, so a
/// Tiki 24 row has exactly Tiki 24's columns.
///
/// # Errors
/// As [`assoc`].
pub fn row_to_php(row: &TokenRow) -> Result<ZBox<ZendHashTable>, ConvertError> {
    let mut pairs = vec![
        ("tokenId", int_zval(row.token_id)),
        ("creation", bytes_zval(row.creation.as_bytes())),
        ("timeout", int_zval(row.timeout)),
        ("hits", int_zval(row.hits)),
        ("maxhits", int_zval(row.max_hits)),
        ("token", opt_str_zval(row.token.as_deref())),
        ("entry", bytes_zval(&row.entry)),
        ("email", bytes_zval(row.email.as_bytes())),
        ("parameters", bytes_zval(row.parameters.as_bytes())),
        ("groups", bytes_zval(row.groups.as_bytes())),
        ("createUser", bytes_zval(row.create_user.as_bytes())),
        ("userPrefix", bytes_zval(row.user_prefix.as_bytes())),
    ];
    if let Some(user) = &row.user {
        pairs.push(("user", bytes_zval(user.as_bytes())));
    }
    if let Some(data) = &row.data {
        pairs.push(("data", bytes_zval(data.as_bytes())));
    }
    assoc(pairs)
}

/// An edited row for PHP: [`row_to_php`] plus `url`, the token's path-only link (unchanged by
/// an edit; null for a half-written row).
///
/// # Errors
/// A PHP array that cannot be built.
pub fn edited_to_php(row: &TokenRow) -> Result<ZBox<ZendHashTable>, ConvertError> {
    let mut out = row_to_php(row)?;
    out.insert("url", opt_str_zval(row.link().as_deref()))
        .map_err(|e| ConvertError(format!("cannot build a PHP array: {e}")))?;
    Ok(out)
}

/// A re-issue for PHP: `['tokenId', 'token', 'scheme', 'url', 'revokedTokenId',
/// 'revokedTempUser', 'row']`.
///
/// # Errors
/// A PHP array that cannot be built.
pub fn reissued_to_php(r: &Reissued) -> Result<ZBox<ZendHashTable>, ConvertError> {
    assoc(vec![
        ("tokenId", int_zval(r.created.token_id)),
        ("token", bytes_zval(r.created.token.as_bytes())),
        ("scheme", bytes_zval(r.created.scheme.as_str().as_bytes())),
        ("url", bytes_zval(r.link.as_bytes())),
        ("revokedTokenId", int_zval(r.revoked_token_id)),
        (
            "revokedTempUser",
            opt_str_zval(r.revoked_temp_user.as_deref()),
        ),
        ("row", array_zval(row_to_php(&r.row)?)),
    ])
}
