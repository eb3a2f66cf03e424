//! One [`Store`] (so one connection pool) per configuration per PHP process, reused across
//! requests: `new TikiTokens\Store($dsn)` in every request finds the store the first request
//! made. Never filled in MINIT (FPM forks its workers after MINIT, and a pool must not be shared
//! across a fork); the store itself connects lazily, at first use.

use crate::error::Result;
use crate::store::{Store, StoreConfig};
use indexmap::IndexMap;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, OnceLock};

/// Bound on the configurations kept per process. Past it, the least recently used one leaves
/// the registry (objects still holding it keep working; its pool closes with the last of them),
/// so a script that makes stores with ever new DSNs, secrets or caps cannot grow it without
/// bound.
pub const MAX_STORES: usize = 16;

/// What makes two configurations the same store. The secret is kept only as its SHA-256 here.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    dsn: String,
    connect_timeout_ns: u128,
    io_timeout_ns: u128,
    secret_digest: Option<[u8; 32]>,
    preference_secret_digest: Option<[u8; 32]>,
    max_timeout: i64,
    max_hits: i64,
    force_legacy: bool,
    causal_reads: crate::store::CausalReads,
    site_root: Option<String>,
    path_form: crate::canon::route::PathForm,
}

impl Key {
    fn of(c: &StoreConfig) -> Self {
        Self {
            dsn: c.dsn.clone(),
            connect_timeout_ns: c.connect_timeout.as_nanos(),
            io_timeout_ns: c.io_timeout.as_nanos(),
            secret_digest: c.secret.as_ref().map(|s| Sha256::digest(s.expose()).into()),
            preference_secret_digest: c
                .preference_secret
                .as_ref()
                .map(|s| Sha256::digest(s.expose()).into()),
            max_timeout: c.max_timeout,
            max_hits: c.max_hits,
            force_legacy: c.force_legacy,
            causal_reads: c.causal_reads,
            site_root: c.site_root.clone(),
            path_form: c.path_form,
        }
    }
}

/// The stores, least recently used first.
fn registry() -> &'static Mutex<IndexMap<Key, Arc<Store>>> {
    static REGISTRY: OnceLock<Mutex<IndexMap<Key, Arc<Store>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(IndexMap::new()))
}

/// The shared store for this configuration, made on first use.
///
/// # Errors
/// [`crate::Error::Config`] from [`Store::new`] (a DSN that does not parse).
pub fn get_or_create(config: StoreConfig) -> Result<Arc<Store>> {
    let key = Key::of(&config);
    // A panic while the lock was held (caught at the PHP boundary) leaves a usable map.
    let mut map = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(index) = map.get_index_of(&key) {
        let last = map.len() - 1;
        map.move_index(index, last);
        if let Some((_, shared)) = map.get_index(last) {
            return Ok(Arc::clone(shared));
        }
    }
    let shared = Arc::new(Store::new(config)?);
    while map.len() >= MAX_STORES {
        map.shift_remove_index(0);
    }
    map.insert(key, Arc::clone(&shared));
    Ok(shared)
}

/// How many stores (pools) this process keeps, for phpinfo.
pub fn len() -> usize {
    registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len()
}
