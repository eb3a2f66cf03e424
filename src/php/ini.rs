//! The INI entries of the module: the one list of their names, defaults (taken from the core's
//! [`crate::store`] defaults, never written twice) and permissions; their registration at
//! MINIT; and reading their current values.
//!
//! | entry | default | changeable | meaning |
//! |---|---|---|---|
//! | `tiki_tokens.dsn` | `""` | SYSTEM | `mysql://user:pass@host:port/db` (FPM: `php_admin_value`) |
//! | `tiki_tokens.max_timeout` | `604800` | PERDIR, SYSTEM | cap on a token's timeout, seconds (Tiki's pref default) |
//! | `tiki_tokens.max_hits` | `10` | PERDIR, SYSTEM | cap on a token's hits (Tiki's pref default) |
//! | `tiki_tokens.purge_interval` | `60` | PERDIR, SYSTEM | seconds between purges per process (0 = every lookup) |
//! | `tiki_tokens.connect_timeout` | `2` | SYSTEM | TCP connect timeout, seconds |
//! | `tiki_tokens.io_timeout` | `5` | SYSTEM | read/write timeout of a statement and budget of a lookup, seconds |
//! | `tiki_tokens.causal_reads` | `auto` | SYSTEM | `wsrep_sync_wait = 1` on a Galera node: auto, on, off |
//! | `tiki_tokens.tiki_root` | `""` | PERDIR, SYSTEM | the site root (`/tiki/`) SEF URLs are resolved against (none: not resolved) |
//! | `tiki_tokens.path_form` | `raw` | PERDIR, SYSTEM | how the server hands route.php the path: `raw` (REQUEST_URI) or `decoded` (Apache's SCRIPT_URL) |
//!
//! No secret among them: `ini_get()` would show it to any script.

use crate::error::Error;
use crate::store;
use ext_php_rs::ffi::zend_ini_entry;
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{ExecutorGlobals, IniEntryDef};
use std::ffi::CString;

/// `tiki_tokens.dsn`.
pub const DSN: &str = "tiki_tokens.dsn";
/// `tiki_tokens.max_timeout`.
pub const MAX_TIMEOUT: &str = "tiki_tokens.max_timeout";
/// `tiki_tokens.max_hits`.
pub const MAX_HITS: &str = "tiki_tokens.max_hits";
/// `tiki_tokens.purge_interval`.
pub const PURGE_INTERVAL: &str = "tiki_tokens.purge_interval";
/// `tiki_tokens.connect_timeout`.
pub const CONNECT_TIMEOUT: &str = "tiki_tokens.connect_timeout";
/// `tiki_tokens.io_timeout`.
pub const IO_TIMEOUT: &str = "tiki_tokens.io_timeout";
/// `tiki_tokens.causal_reads`.
pub const CAUSAL_READS: &str = "tiki_tokens.causal_reads";
/// `tiki_tokens.tiki_root`.
pub const TIKI_ROOT: &str = "tiki_tokens.tiki_root";
/// `tiki_tokens.path_form`.
pub const PATH_FORM: &str = "tiki_tokens.path_form";

const PER_DIR: IniEntryPermission = IniEntryPermission::PerDir.union(IniEntryPermission::System);
const SYSTEM: IniEntryPermission = IniEntryPermission::System;

/// Every entry: name, default value, who may change it.
fn entries() -> [(&'static str, String, IniEntryPermission); 9] {
    let secs = |d: std::time::Duration| d.as_secs().to_string();
    [
        (DSN, String::new(), SYSTEM),
        (MAX_TIMEOUT, store::DEFAULT_MAX_TIMEOUT.to_string(), PER_DIR),
        (MAX_HITS, store::DEFAULT_MAX_HITS.to_string(), PER_DIR),
        (
            PURGE_INTERVAL,
            store::DEFAULT_PURGE_INTERVAL.to_string(),
            PER_DIR,
        ),
        (
            CONNECT_TIMEOUT,
            secs(store::DEFAULT_CONNECT_TIMEOUT),
            SYSTEM,
        ),
        (IO_TIMEOUT, secs(store::DEFAULT_IO_TIMEOUT), SYSTEM),
        (CAUSAL_READS, "auto".to_string(), SYSTEM),
        (TIKI_ROOT, String::new(), PER_DIR),
        (PATH_FORM, "raw".to_string(), PER_DIR),
    ]
}

/// Registers the entries (MINIT). The engine keeps the table for the life of the process, so it
/// is made once and leaked, like a C extension's static `zend_ini_entry_def[]`.
pub fn register(module_number: i32) {
    let leak = |s: String| -> &'static std::ffi::CStr {
        Box::leak(CString::new(s).unwrap_or_default().into_boxed_c_str())
    };
    let mut table: Vec<IniEntryDef> = entries()
        .into_iter()
        .map(|(name, default, permission)| {
            IniEntryDef::new(leak(name.to_string()), leak(default), permission)
        })
        .collect();
    table.push(IniEntryDef::end());
    IniEntryDef::register(Box::leak(table.into_boxed_slice()), module_number);
}

/// The current value of an INI entry (any extension's), as bytes. Reads one entry of
/// `EG(ini_directives)`, so it is cheap enough for every request and sees per-directory values.
pub fn bytes(name: &str) -> Option<Vec<u8>> {
    let globals = ExecutorGlobals::get();
    // SAFETY: `ini_directives` is set at engine start-up and lives as long as the request; it is
    // null only before start-up, which `as_ref` handles.
    let table = unsafe { globals.ini_directives.as_ref() }?;
    let slot = table.get(name)?;
    // SAFETY: the engine stores every entry of this table as a pointer to a `zend_ini_entry`;
    // `ptr` checks that the zval is a pointer, and `as_ref` that it is not null.
    let entry = unsafe { slot.ptr::<zend_ini_entry>()?.as_ref() }?;
    // SAFETY: `value` is null or a valid zend_string owned by the entry.
    let value = unsafe { entry.value.as_ref() }?;
    Some(value.as_bytes().to_vec())
}

/// An INI entry as text (empty when unset).
pub fn text(name: &str) -> String {
    bytes(name)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default()
}

/// An integer INI entry.
///
/// # Errors
/// [`Error::Config`] naming the entry when its value is not an integer.
pub fn int(name: &str) -> Result<i64, Error> {
    let text = text(name);
    text.parse::<i64>()
        .map_err(|_| Error::Config(format!("{name} must be an integer, got {text:?}")))
}

/// A timeout INI entry in seconds (integer or decimal) as a duration, within the core's range.
///
/// # Errors
/// [`Error::Config`] naming the entry when its value is not a number in range.
pub fn timeout(name: &str) -> Result<std::time::Duration, Error> {
    let text = text(name);
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => store::timeout_setting(s, name).map_err(Error::Config),
        _ => Err(Error::Config(format!(
            "{name} must be a number of seconds greater than 0, got {text:?}"
        ))),
    }
}

/// Every entry's name, for phpinfo.
pub fn names() -> impl Iterator<Item = &'static str> {
    entries().into_iter().map(|(name, _, _)| name)
}
