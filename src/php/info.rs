//! The `phpinfo()` / `php --ri tiki_tokens` section: version, the DSN through the store's one
//! redactor, what the table allows (one call of the store), the connection state, the INI
//! values. Never a password, never a secret.

use super::exceptions::boundary;
use super::{ini, options, registry};
use crate::store::{SchemeInfo, redact};
use crate::token::Scheme;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

/// MINFO: prints the section. The rows are computed before anything is printed, so that a
/// failure cannot leave a half-printed table.
pub extern "C" fn module_info(_module: *mut ModuleEntry) {
    let rows = boundary(rows, |text| {
        vec![row(
            "tiki_tokens support",
            format!("enabled (info failed: {text})"),
        )]
    });
    info_table_start!();
    for (name, value) in &rows {
        // A NUL byte would cut the row short in C (and make the macro's CString fail): drop it.
        info_table_row!(name.replace('\0', ""), value.replace('\0', ""));
    }
    info_table_end!();
}

fn row(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
}

fn rows() -> Vec<(String, String)> {
    let mut rows = vec![
        row("tiki_tokens support", "enabled"),
        row("version", env!("CARGO_PKG_VERSION")),
    ];
    let dsn = ini::text(ini::DSN);
    if dsn.is_empty() {
        rows.push(row("DSN (tiki_tokens.dsn)", "(not set)"));
        rows.push(row("token scheme", "unknown: no DSN configured"));
        rows.push(row("connection state", "not configured"));
    } else {
        rows.push(row("DSN (tiki_tokens.dsn)", redact::dsn(&dsn)));
        rows.extend(store_rows());
    }
    for name in ini::names().filter(|n| *n != ini::DSN) {
        rows.push(row(name, ini::text(name)));
    }
    rows.push(row(
        "stores (pools) in this process",
        registry::len().to_string(),
    ));
    rows
}

/// What the store of the INI configuration says about the table and its connection.
fn store_rows() -> Vec<(String, String)> {
    let store = match options::ini_store_config().and_then(registry::get_or_create) {
        Ok(store) => store,
        Err(e) => {
            return vec![
                row("token scheme", format!("unknown: {e}")),
                row("connection state", "not configured"),
            ];
        }
    };
    let mut rows = match store.scheme_info() {
        Ok(info) => scheme_rows(&info),
        Err(e) => vec![row("token scheme", format!("unknown: {e}"))],
    };
    rows.push(row("connection state", store.connection_state()));
    rows
}

fn scheme_rows(info: &SchemeInfo) -> Vec<(String, String)> {
    let scheme = match info.minting {
        Scheme::Signed => "signed (HMAC-SHA256, 64 hex characters)",
        Scheme::Legacy => "legacy (MD5, 32 hex characters)",
    };
    let mut rows = vec![
        row("token scheme", scheme),
        row("token column width", info.token_width.to_string()),
        row(
            "signing secret",
            if info.has_secret {
                "configured"
            } else {
                "none"
            },
        ),
    ];
    match &info.cluster {
        None => rows.push(row("cluster", "not a Galera node")),
        Some(node) => {
            let size = node
                .state
                .cluster_size
                .map_or_else(|| "?".to_string(), |n| n.to_string());
            let synced = if node.state.synced() {
                "synced"
            } else {
                "NOT synced"
            };
            rows.push(row(
                "cluster",
                format!(
                    "Galera node {} of a cluster of {size}: {} ({synced})",
                    node.state.node_name, node.state.state
                ),
            ));
            if !node.replicated() {
                rows.push(row(
                    "WARNING",
                    format!(
                        "the table is {}, which Galera does not replicate: a token made on one \
                         node is unknown on the others (ALTER TABLE tiki_auth_tokens ENGINE=InnoDB)",
                        node.engine.as_deref().unwrap_or("of an unknown engine")
                    ),
                ));
            }
        }
    }
    if info.needs_migration {
        rows.push(row(
            "WARNING",
            "tiki_auth_tokens has not been migrated: new tokens are legacy MD5 tokens, which \
             anyone who knows roughly when they were made can guess. Apply Tiki's migration with \
             TikiTokens\\Store::migrate().",
        ));
    } else if info.minting == Scheme::Legacy {
        rows.push(row(
            "WARNING",
            "new tokens are legacy MD5 tokens (forceLegacy, or no signing secret)",
        ));
    }
    rows
}
