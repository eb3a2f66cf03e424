//! The module `tiki_tokens`: its INI entries, its `phpinfo()` section, and the registration of
//! every class and function.
//!
//! INI entries (no secret among them: `ini_get()` would show it to any script):
//!
//! | entry | default | changeable | meaning |
//! |---|---|---|---|
//! | `tiki_tokens.dsn` | `""` | SYSTEM | `mysql://user:pass@host:port/db` (FPM: `php_admin_value`) |
//! | `tiki_tokens.max_timeout` | `604800` | PERDIR, SYSTEM | cap on a token's timeout, seconds (Tiki's pref default) |
//! | `tiki_tokens.max_hits` | `10` | PERDIR, SYSTEM | cap on a token's hits (Tiki's pref default) |
//! | `tiki_tokens.purge_interval` | `60` | PERDIR, SYSTEM | seconds between purges per process (0 = every lookup) |
//! | `tiki_tokens.connect_timeout` | `2` | SYSTEM | TCP connect timeout, seconds |
//! | `tiki_tokens.io_timeout` | `5` | SYSTEM | read/write timeout of a statement, seconds |
//!
//! `purge_interval` defaults to 60 s, not Tiki's "before every lookup": a lookup checks expiry
//! itself, so the purge is housekeeping only (table size, temporary users); once a minute per
//! worker keeps the table small without a DELETE on every token request.

use super::classes::{Denial, Grant, Store};
use super::exceptions::{
    BaseException, ConfigException, DatabaseException, InvalidInputException, SchemaException,
    panic_text,
};
use super::functions;
use super::registry;
use crate::error::Error;
use crate::token::Scheme;
use ext_php_rs::ffi::zend_ini_entry;
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::{ExecutorGlobals, IniEntryDef, IniEntryDefs, ModuleEntry};
use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// `tiki_tokens.dsn`.
pub const INI_DSN: &str = "tiki_tokens.dsn";
/// `tiki_tokens.max_timeout`.
pub const INI_MAX_TIMEOUT: &str = "tiki_tokens.max_timeout";
/// `tiki_tokens.max_hits`.
pub const INI_MAX_HITS: &str = "tiki_tokens.max_hits";
/// `tiki_tokens.purge_interval`.
pub const INI_PURGE_INTERVAL: &str = "tiki_tokens.purge_interval";
/// `tiki_tokens.connect_timeout`.
pub const INI_CONNECT_TIMEOUT: &str = "tiki_tokens.connect_timeout";
/// `tiki_tokens.io_timeout`.
pub const INI_IO_TIMEOUT: &str = "tiki_tokens.io_timeout";

const PER_DIR: IniEntryPermission = IniEntryPermission::PerDir.union(IniEntryPermission::System);

static INI_ENTRIES: IniEntryDefs<7> = IniEntryDefs::new([
    IniEntryDef::new(c"tiki_tokens.dsn", c"", IniEntryPermission::System),
    IniEntryDef::new(c"tiki_tokens.max_timeout", c"604800", PER_DIR),
    IniEntryDef::new(c"tiki_tokens.max_hits", c"10", PER_DIR),
    IniEntryDef::new(c"tiki_tokens.purge_interval", c"60", PER_DIR),
    IniEntryDef::new(
        c"tiki_tokens.connect_timeout",
        c"2",
        IniEntryPermission::System,
    ),
    IniEntryDef::new(c"tiki_tokens.io_timeout", c"5", IniEntryPermission::System),
    IniEntryDef::end(),
]);

/// MINIT: registers the INI entries. Nothing else happens here (no pool: FPM forks after MINIT).
fn startup(_ty: i32, module_number: i32) -> i32 {
    match catch_unwind(|| IniEntryDef::register(INI_ENTRIES.as_slice(), module_number)) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// The current value of an INI entry (any extension's), as bytes. Reads one entry of
/// `EG(ini_directives)`, so it is cheap enough for every request and sees per-directory values.
pub fn ini_bytes(name: &str) -> Option<Vec<u8>> {
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
pub fn ini_text(name: &str) -> String {
    ini_bytes(name)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default()
}

/// An integer INI entry.
///
/// # Errors
/// [`Error::Config`] naming the entry when its value is not an integer.
pub fn ini_int(name: &str) -> Result<i64, Error> {
    let text = ini_text(name);
    text.parse::<i64>()
        .map_err(|_| Error::Config(format!("{name} must be an integer, got {text:?}")))
}

/// A duration INI entry in seconds (integer or decimal, more than 0).
///
/// # Errors
/// [`Error::Config`] naming the entry when its value is not a positive number.
pub fn ini_seconds(name: &str) -> Result<f64, Error> {
    let text = ini_text(name);
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(Error::Config(format!(
            "{name} must be a number of seconds greater than 0, got {text:?}"
        ))),
    }
}

/// The DSN with its password (and any `password=`/`secret=`-like query value) replaced by `***`,
/// for display.
pub fn mask_dsn(dsn: &str) -> String {
    let (base, query) = match dsn.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (dsn, None),
    };
    let mut out = String::new();
    let (scheme, rest) = match base.find("://") {
        Some(i) => (&base[..i + 3], &base[i + 3..]),
        None => ("", base),
    };
    out.push_str(scheme);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split('=').next().unwrap_or("");
                let lower = name.to_ascii_lowercase();
                if lower.contains("pass") || lower.contains("secret") || lower.contains("pwd") {
                    format!("{name}=***")
                } else {
                    pair.to_string()
                }
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// The rows of the phpinfo section, computed before anything is printed (so that a failure
/// cannot leave a half-printed table).
fn info_rows() -> Vec<(String, String)> {
    let mut rows = vec![
        ("tiki_tokens support".to_string(), "enabled".to_string()),
        ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
    ];
    let dsn = ini_text(INI_DSN);
    if dsn.is_empty() {
        rows.push(("DSN (tiki_tokens.dsn)".into(), "(not set)".into()));
        rows.push(("token scheme".into(), "unknown: no DSN configured".into()));
        rows.push(("connection state".into(), "not configured".into()));
    } else {
        rows.push(("DSN (tiki_tokens.dsn)".into(), mask_dsn(&dsn)));
        match super::options::ini_store_config() {
            Err(e) => {
                rows.push(("token scheme".into(), format!("unknown: {e}")));
                rows.push(("connection state".into(), "not configured".into()));
            }
            Ok(cfg) => match registry::get_or_create(cfg) {
                Err(e) => {
                    rows.push(("token scheme".into(), format!("unknown: {e}")));
                    rows.push(("connection state".into(), "not configured".into()));
                }
                Ok(shared) => {
                    match shared.store.scheme_info() {
                        Ok(info) => {
                            let scheme = match info.minting {
                                Scheme::Signed => "signed (HMAC-SHA256, 64 hex characters)",
                                Scheme::Legacy => "legacy (MD5, 32 hex characters)",
                            };
                            rows.push(("token scheme".into(), scheme.into()));
                            rows.push(("token column width".into(), info.token_width.to_string()));
                            rows.push((
                                "signing secret".into(),
                                if info.has_secret {
                                    "configured"
                                } else {
                                    "none"
                                }
                                .into(),
                            ));
                            if info.needs_migration {
                                rows.push((
                                    "WARNING".into(),
                                    "tiki_auth_tokens has not been migrated: new tokens are legacy MD5 tokens, \
                                     which anyone who knows roughly when they were made can guess. Apply Tiki's \
                                     migration with TikiTokens\\Store::migrate()."
                                        .into(),
                                ));
                            } else if info.minting == Scheme::Legacy {
                                rows.push((
                                    "WARNING".into(),
                                    "new tokens are legacy MD5 tokens (forceLegacy, or no signing secret)".into(),
                                ));
                            }
                        }
                        Err(e) => rows.push(("token scheme".into(), format!("unknown: {e}"))),
                    }
                    rows.push(("connection state".into(), shared.store.connection_state()));
                }
            },
        }
    }
    for name in [
        INI_MAX_TIMEOUT,
        INI_MAX_HITS,
        INI_PURGE_INTERVAL,
        INI_CONNECT_TIMEOUT,
        INI_IO_TIMEOUT,
    ] {
        rows.push((name.to_string(), ini_text(name)));
    }
    rows.push((
        "stores (pools) in this process".into(),
        registry::len().to_string(),
    ));
    rows
}

fn c_text(s: &str) -> CString {
    // A NUL byte would cut the row short in C: drop it (display only).
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// MINFO: the `phpinfo()` / `php --ri tiki_tokens` section. Shows no password and no secret.
pub extern "C" fn php_module_info(_module: *mut ModuleEntry) {
    let rows = catch_unwind(AssertUnwindSafe(info_rows)).unwrap_or_else(|p| {
        vec![(
            "tiki_tokens support".into(),
            format!("enabled (info failed: {})", panic_text(p.as_ref())),
        )]
    });
    // SAFETY: plain calls into PHP's info printer with NUL-terminated strings that outlive them.
    unsafe {
        ext_php_rs::ffi::php_info_print_table_start();
        for (name, value) in &rows {
            let name = c_text(name);
            let value = c_text(value);
            ext_php_rs::ffi::php_info_print_table_row(2, name.as_ptr(), value.as_ptr());
        }
        ext_php_rs::ffi::php_info_print_table_end();
    }
}

/// The module entry PHP loads.
#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = module
        .name("tiki_tokens")
        .version(env!("CARGO_PKG_VERSION"))
        .class::<BaseException>()
        .class::<ConfigException>()
        .class::<DatabaseException>()
        .class::<SchemaException>()
        .class::<InvalidInputException>()
        .class::<Grant>()
        .class::<Denial>()
        .class::<Store>()
        .info_function(php_module_info);
    functions::register(module)
}
