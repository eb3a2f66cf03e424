//! The token store on Tiki's own table `tiki_auth_tokens` (SPEC sections 1–3), over MySQL/MariaDB.
//!
//! Pure Rust: no PHP types. One [`Store`] per process holds the connection pool and the detected
//! schema; every method is safe to call from several threads.
//!
//! Layout, following the flow of a call:
//! * `config`, `dsn`, `redact`: the configuration (and its defaults) → connection options; the
//!   one redactor of DSNs and passwords.
//! * `handle`: the [`Store`] itself (pool, cached schema, shared helpers).
//! * `pool`: connections; [`pool::Conn`], the guard every statement runs through (it keeps the
//!   books on broken connections and retries only what may run twice); `hosts` and `hostlist`:
//!   the servers of a DSN that names several (a Galera cluster) and failover between them.
//! * `sql`: every statement and the typed decoder of every row (`cells` reads cells without
//!   panics).
//! * `schema`, `column`: the detected layout of the table and the width check of a value.
//! * the operations, each an `impl Store` block: `lookup` (the hot path), `create`, `edit`
//!   (in place, or re-issued), `manage` (get, list, delete, purge, revoke), `secret`
//!   (rotation), `migrate` (Tiki's migration and what the table allows), `diagnose` (the
//!   doctor's look at server and table, and its judgement).
//! * `model`: what the operations take and give.

mod cells;
mod column;
mod config;
mod create;
mod diagnose;
mod dsn;
mod edit;
mod handle;
mod hostlist;
mod hosts;
mod lookup;
mod manage;
mod migrate;
mod model;
mod pool;
pub mod redact;
mod schema;
mod secret;
mod sef;
mod session;
mod sql;

pub use config::{
    CausalReads, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IO_TIMEOUT, DEFAULT_MAX_HITS,
    DEFAULT_MAX_TIMEOUT, DEFAULT_PURGE_INTERVAL, MAX_CONFIGURED_TIMEOUT, StoreConfig,
    timeout_setting,
};
pub use handle::Store;
pub use lookup::{LookupOutcome, LookupRequest, PresentedToken, PurgeDue};
pub use model::{
    ClusterNode, CreateOptions, Created, Diagnosis, Finding, GaleraState, Grant, HitsChange,
    LookupPlan, MigrationReport, Reissued, Revoked, RowCounts, SchemeInfo, Severity,
    TableDiagnosis, TableLayout, TokenChanges, TokenRow,
};
