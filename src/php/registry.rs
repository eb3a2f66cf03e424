//! One [`Store`] (so one connection pool) per configuration per PHP process, reused across
//! requests: `new TikiTokens\Store($dsn)` in every request finds the store the first request
//! made. Never filled in MINIT (FPM forks its workers after MINIT, and a pool must not be shared
//! across a fork); the store itself connects lazily, at first use.

use crate::error::Result;
use crate::store::{Store, StoreConfig};
use indexmap::IndexMap;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bound on the configurations kept per process. Past it, the least recently used one leaves
/// the registry (objects still holding it keep working; its pool closes with the last of them),
/// so a script that makes stores with ever new DSNs, secrets or caps cannot grow it without
/// bound.
pub const MAX_STORES: usize = 16;

/// A store shared by every `TikiTokens\Store` object with the same configuration, with the
/// process-wide time of its last purge (for `purgeIfDue`).
pub struct Shared {
    /// The store and its pool.
    pub store: Store,
    /// Unix time of the last purge started through `purge_due`, `i64::MIN` = never.
    last_purge: AtomicI64,
}

impl Shared {
    /// True, and the purge time set to now, when no purge started in the last `interval`
    /// seconds (0 = always). Only one caller wins per interval, even with threads (ZTS).
    pub fn claim_purge(&self, interval: i64) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let last = self.last_purge.load(Ordering::Acquire);
        if interval > 0 && last != i64::MIN && now.saturating_sub(last) < interval && now >= last {
            return false;
        }
        self.last_purge
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// What makes two configurations the same store. The secret is kept only as its SHA-256 here.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    dsn: String,
    connect_timeout_ns: u128,
    io_timeout_ns: u128,
    secret_digest: Option<[u8; 32]>,
    max_timeout: i64,
    max_hits: i64,
    force_legacy: bool,
}

impl Key {
    fn of(c: &StoreConfig) -> Self {
        Self {
            dsn: c.dsn.clone(),
            connect_timeout_ns: c.connect_timeout.as_nanos(),
            io_timeout_ns: c.io_timeout.as_nanos(),
            secret_digest: c.secret.as_ref().map(|s| Sha256::digest(s.expose()).into()),
            max_timeout: c.max_timeout,
            max_hits: c.max_hits,
            force_legacy: c.force_legacy,
        }
    }
}

/// The stores, least recently used first.
fn registry() -> &'static Mutex<IndexMap<Key, Arc<Shared>>> {
    static REGISTRY: OnceLock<Mutex<IndexMap<Key, Arc<Shared>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(IndexMap::new()))
}

/// The shared store for this configuration, made on first use.
///
/// # Errors
/// [`crate::Error::Config`] from [`Store::new`] (a DSN that does not parse).
pub fn get_or_create(config: StoreConfig) -> Result<Arc<Shared>> {
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
    let shared = Arc::new(Shared {
        store: Store::new(config)?,
        last_purge: AtomicI64::new(i64::MIN),
    });
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
