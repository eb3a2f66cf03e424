//! The `$options` arrays of `TikiTokens\Store` (and its INI defaults) → the core's
//! [`StoreConfig`] and [`CreateOptions`]. Types are checked, not juggled: an option of the wrong
//! PHP type, or an unknown option (a typo would otherwise be silently ignored), is an error.

use super::convert::{ConvertError, bytes_of, params_from_php, strings_from_php, type_name};
use super::ini;
use crate::canon::json::encode_params;
use crate::canon::route::PathForm;
use crate::error::Error;
use crate::store::{
    CausalReads, CreateOptions, HitsChange, PurgeDue, StoreConfig, TokenChanges, timeout_setting,
};
use crate::token::Secret;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, Zval};
use std::time::Duration;

/// The options `new TikiTokens\Store($dsn, $options)` knows.
pub const STORE_OPTIONS: &[&str] = &[
    "secret",
    "maxTimeout",
    "maxHits",
    "connectTimeout",
    "ioTimeout",
    "forceLegacy",
    "preferenceSecret",
    "causalReads",
    "tikiRoot",
    "pathForm",
];

/// The options `create()` and `includeToken()` know.
pub const CREATE_OPTIONS: &[&str] = &[
    "timeout",
    "hits",
    "email",
    "createUser",
    "userPrefix",
    "user",
    "data",
    "allowPost",
];

/// The keys of `$changes` that `edit()` and `reissue()` know: the first seven lie outside the
/// token's value (`edit()` changes them in place), the rest inside it (`reissue()` only).
pub const CHANGE_OPTIONS: &[&str] = &[
    "hits",
    "addHits",
    "maxHits",
    "email",
    "createUser",
    "userPrefix",
    "data",
    "timeout",
    "groups",
    "entry",
    "params",
    "url",
];

/// The configuration the INI entries describe (no secret: it then comes from
/// `tiki_preferences`).
///
/// # Errors
/// As [`store_config`].
pub fn ini_store_config() -> Result<StoreConfig, Error> {
    store_config(None, None)
}

/// `new TikiTokens\Store($dsn, $options)`: a `null` DSN is the INI one; options missing from
/// `$options` come from the INI entries.
///
/// # Errors
/// [`Error::Config`] for a missing or non-UTF-8 DSN or a bad INI value; [`Error::InvalidInput`]
/// for an unknown option or one of the wrong type or range.
pub fn store_config(
    dsn: Option<&[u8]>,
    options: Option<&ZendHashTable>,
) -> Result<StoreConfig, Error> {
    let dsn = match dsn {
        Some(d) => d.to_vec(),
        None => ini::bytes(ini::DSN).unwrap_or_default(),
    };
    let dsn =
        String::from_utf8(dsn).map_err(|_| Error::Config("the DSN is not valid UTF-8".into()))?;
    let dsn = dsn.trim().to_string();
    if dsn.is_empty() {
        return Err(Error::Config(
            "no DSN: set tiki_tokens.dsn (php.ini, or php_admin_value in PHP-FPM) or pass one to TikiTokens\\Store"
                .into(),
        ));
    }
    let mut config = StoreConfig {
        dsn,
        connect_timeout: ini::timeout(ini::CONNECT_TIMEOUT)?,
        io_timeout: ini::timeout(ini::IO_TIMEOUT)?,
        secret: None,
        max_timeout: ini::int(ini::MAX_TIMEOUT)?,
        max_hits: ini::int(ini::MAX_HITS)?,
        force_legacy: false,
        preference_secret: None,
        causal_reads: causal_reads(&ini::text(ini::CAUSAL_READS), ini::CAUSAL_READS)
            .map_err(Error::Config)?,
        site_root: Some(ini::text(ini::TIKI_ROOT)).filter(|r| !r.is_empty()),
        path_form: path_form(&ini::text(ini::PATH_FORM), ini::PATH_FORM).map_err(Error::Config)?,
    };
    let Some(options) = options else {
        return Ok(config);
    };
    for (name, value) in entries(options, "TikiTokens\\Store", STORE_OPTIONS)? {
        match name.as_str() {
            "secret" => config.secret = secret(value, "secret")?,
            "preferenceSecret" => config.preference_secret = secret(value, "preferenceSecret")?,
            "maxTimeout" => config.max_timeout = int(value, "maxTimeout")?,
            "maxHits" => config.max_hits = int(value, "maxHits")?,
            "connectTimeout" => config.connect_timeout = seconds(value, "connectTimeout")?,
            "ioTimeout" => config.io_timeout = seconds(value, "ioTimeout")?,
            "forceLegacy" => config.force_legacy = boolean(value, "forceLegacy")?,
            "tikiRoot" => {
                config.site_root = if value.is_null() {
                    None
                } else {
                    Some(text(value, "tikiRoot")?).filter(|r| !r.is_empty())
                };
            }
            "pathForm" => {
                let text = text(value, "pathForm")?;
                config.path_form =
                    path_form(&text, "option pathForm").map_err(Error::InvalidInput)?;
            }
            "causalReads" => {
                let text = text(value, "causalReads")?;
                config.causal_reads =
                    causal_reads(&text, "option causalReads").map_err(Error::InvalidInput)?;
            }
            _ => {}
        }
    }
    Ok(config)
}

/// The options `lookup()` knows.
pub const LOOKUP_OPTIONS: &[&str] = &["purgeInterval", "purgeLimit"];

/// `lookup()` options: the purge to run first, if any (`purgeInterval` absent: none; null: the
/// INI `tiki_tokens.purge_interval`).
///
/// # Errors
/// [`Error::InvalidInput`] for an unknown option or one of the wrong type or range;
/// [`Error::Config`] for a bad INI value.
pub fn lookup_options(options: &ZendHashTable) -> Result<Option<PurgeDue>, Error> {
    let mut interval = None;
    let mut limit = 1000;
    for (name, value) in entries(options, "lookup options", LOOKUP_OPTIONS)? {
        match name.as_str() {
            "purgeInterval" => {
                interval = Some(match opt_int(value, "purgeInterval")? {
                    Some(n) => n,
                    None => ini::int(ini::PURGE_INTERVAL)?,
                });
            }
            "purgeLimit" => {
                limit = u32::try_from(int(value, "purgeLimit")?).map_err(|_| {
                    Error::InvalidInput(format!(
                        "option purgeLimit must be between 0 and {}",
                        u32::MAX
                    ))
                })?;
            }
            _ => {}
        }
    }
    match interval {
        Some(i) if i < 0 => Err(Error::InvalidInput(format!(
            "option purgeInterval must be 0 or more seconds, got {i}"
        ))),
        Some(interval) => Ok(Some(PurgeDue { interval, limit })),
        None => Ok(None),
    }
}

/// `create()` / `includeToken()` options (Tiki's `$arguments`), with `user_prefix` as given when
/// the option is absent.
///
/// # Errors
/// [`Error::InvalidInput`] for an unknown option, one of the wrong type, text that is not UTF-8,
/// or `data` that `json_encode` could not write.
pub fn create_options(options: &ZendHashTable, user_prefix: &str) -> Result<CreateOptions, Error> {
    let mut out = CreateOptions {
        user_prefix: user_prefix.to_string(),
        ..CreateOptions::default()
    };
    for (name, value) in entries(options, "create options", CREATE_OPTIONS)? {
        match name.as_str() {
            "timeout" => out.timeout = opt_int(value, "timeout")?,
            "hits" => out.hits = opt_int(value, "hits")?,
            "email" => out.email = text(value, "email")?,
            "createUser" => out.create_user = boolean(value, "createUser")?,
            "userPrefix" => out.user_prefix = text(value, "userPrefix")?,
            "user" => {
                out.user = if value.is_null() {
                    None
                } else {
                    Some(text(value, "user")?)
                }
            }
            "allowPost" => out.allow_post = boolean(value, "allowPost")?,
            "data" => out.data = data_json(value)?,
            _ => {}
        }
    }
    Ok(out)
}

/// `edit()` / `reissue()` changes: `hits` sets, `addHits` adds (not both); `data` null sets
/// the column to NULL; `groups` is a list of strings; `entry` and `url` are bytes.
///
/// # Errors
/// [`Error::InvalidInput`] for an unknown key, a value of the wrong type, or `hits` with
/// `addHits`.
pub fn token_changes(changes: &ZendHashTable) -> Result<TokenChanges, Error> {
    let mut out = TokenChanges::default();
    let bytes = |value: &Zval, name: &str| {
        bytes_of(value)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| wrong_type(name, "string", value))
    };
    for (name, value) in entries(changes, "changes", CHANGE_OPTIONS)? {
        match name.as_str() {
            "hits" | "addHits" => {
                if out.hits.is_some() {
                    return Err(Error::InvalidInput(
                        "give hits (set) or addHits (add), not both".into(),
                    ));
                }
                let n = int(value, &name)?;
                out.hits = Some(if name == "hits" {
                    HitsChange::Set(n)
                } else {
                    HitsChange::Add(n)
                });
            }
            "maxHits" => out.max_hits = Some(int(value, "maxHits")?),
            "email" => out.email = Some(text(value, "email")?),
            "createUser" => out.create_user = Some(boolean(value, "createUser")?),
            "userPrefix" => out.user_prefix = Some(text(value, "userPrefix")?),
            "data" => out.data = Some(data_json(value)?),
            "timeout" => out.timeout = Some(int(value, "timeout")?),
            "groups" => {
                out.groups = Some(
                    strings_from_php(array_of(value, "groups")?, "groups")
                        .map_err(|ConvertError(m)| Error::InvalidInput(m))?,
                );
            }
            "entry" => out.entry = Some(bytes(value, "entry")?),
            "params" => {
                out.params = Some(
                    params_from_php(array_of(value, "params")?)
                        .map_err(|ConvertError(m)| Error::InvalidInput(format!("params: {m}")))?,
                );
            }
            "url" => out.url = Some(bytes(value, "url")?),
            _ => {}
        }
    }
    Ok(out)
}

fn array_of<'z>(value: &'z Zval, name: &str) -> Result<&'z ZendHashTable, Error> {
    value
        .array()
        .ok_or_else(|| wrong_type(name, "array", value))
}

/// The `data` option: an array stored as the JSON text `json_encode` writes, or null.
fn data_json(value: &Zval) -> Result<Option<String>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    let ht = value
        .array()
        .ok_or_else(|| wrong_type("data", "array or null", value))?;
    let tree =
        params_from_php(ht).map_err(|ConvertError(m)| Error::InvalidInput(format!("data: {m}")))?;
    Ok(Some(
        encode_params(&tree).map_err(|e| Error::InvalidInput(format!("data: {e}")))?,
    ))
}

/// The `(name, value)` entries of an options array; every name must be one of `known`.
fn entries<'a>(
    ht: &'a ZendHashTable,
    what: &str,
    known: &[&str],
) -> Result<Vec<(String, &'a Zval)>, Error> {
    let mut out = Vec::new();
    let mut iter = ht.iter();
    while let Some((key, value)) = iter.next_zval() {
        let value = value.dereference();
        if value.get_type() == DataType::Undef {
            continue;
        }
        let name = match (key.long(), key.zend_str()) {
            (Some(n), _) => n.to_string(),
            (None, Some(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            (None, None) => String::new(),
        };
        if !known.contains(&name.as_str()) {
            let shown: String = name.chars().take(60).collect();
            return Err(Error::InvalidInput(format!(
                "unknown option {shown:?} of {what} (known: {})",
                known.join(", ")
            )));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// `raw` or `decoded`.
fn path_form(text: &str, what: &str) -> Result<PathForm, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "raw" | "" => Ok(PathForm::Raw),
        "decoded" => Ok(PathForm::Decoded),
        _ => Err(format!("{what} must be raw or decoded, got {text:?}")),
    }
}

/// `auto`, `on` or `off`.
fn causal_reads(text: &str, what: &str) -> Result<CausalReads, String> {
    CausalReads::parse(text).ok_or_else(|| format!("{what} must be auto, on or off, got {text:?}"))
}

/// A preference secret given to `withPreferenceSecret()`: empty means none.
///
/// # Errors
/// Never today; a `Result` like every other option reader.
pub fn preference_secret(bytes: &[u8]) -> Result<Option<Secret>, Error> {
    Ok((!bytes.is_empty()).then(|| Secret::from_text(bytes)))
}

/// A secret option: a non-empty string, or null for none.
fn secret(value: &Zval, name: &str) -> Result<Option<Secret>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    let bytes = bytes_of(value).ok_or_else(|| wrong_type(name, "string or null", value))?;
    if bytes.is_empty() {
        return Err(Error::InvalidInput(format!(
            "option {name} must not be empty"
        )));
    }
    Ok(Some(Secret::from_text(bytes)))
}

fn wrong_type(name: &str, expected: &str, value: &Zval) -> Error {
    Error::InvalidInput(format!(
        "option {name} must be {expected}, got {}",
        type_name(value)
    ))
}

fn int(value: &Zval, name: &str) -> Result<i64, Error> {
    value.long().ok_or_else(|| wrong_type(name, "int", value))
}

fn opt_int(value: &Zval, name: &str) -> Result<Option<i64>, Error> {
    if value.is_null() {
        Ok(None)
    } else {
        int(value, name).map(Some)
    }
}

fn boolean(value: &Zval, name: &str) -> Result<bool, Error> {
    value.bool().ok_or_else(|| wrong_type(name, "bool", value))
}

fn text(value: &Zval, name: &str) -> Result<String, Error> {
    let bytes = bytes_of(value).ok_or_else(|| wrong_type(name, "string", value))?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::InvalidInput(format!("option {name} must be valid UTF-8")))
}

fn seconds(value: &Zval, name: &str) -> Result<Duration, Error> {
    let secs = match (value.long(), value.double()) {
        #[allow(clippy::cast_precision_loss)]
        (Some(n), _) => n as f64,
        (None, Some(f)) => f,
        _ => return Err(wrong_type(name, "int or float (seconds)", value)),
    };
    timeout_setting(secs, name).map_err(Error::InvalidInput)
}
