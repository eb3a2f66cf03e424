//! The servers a store may use (one, or the nodes of a Galera cluster named in one DSN), a
//! connection pool for each, and which one the process uses now.
//!
//! Failover: the process stays on the server it uses (`current`) while it works. When a
//! connection to it cannot be made, or a statement on it fails in a way that says the server
//! (not the statement) is in trouble — the connection broke or timed out, `1047 WSREP has not
//! yet prepared node`, a causal read that timed out — the server is marked failed and the next
//! one becomes current. A failed server is tried again later: after [`RETRY_FAILED_AFTER`], or
//! earlier when every other one failed more recently.
//!
//! A Galera node that failed is also not trusted to grant for [`RETRY_FAILED_AFTER`]
//! ([`Hosts::distrusted`]): a node that stalled (paused, swapped out, frozen by a hung disk) long
//! enough to be evicted answers, once it runs again, from before its eviction until it learns of
//! it — causal reads do not help, the node does not know it is behind — and the cluster test saw
//! it grant a token deleted on another node seconds before.

use mysql::{Opts, Pool};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long a server that failed is passed over while another one may work.
pub(crate) const RETRY_FAILED_AFTER: Duration = Duration::from_secs(10);

/// The servers, and the one in use.
pub(crate) struct Hosts {
    hosts: Vec<Host>,
    current: AtomicUsize,
}

/// One server: its options, its pool (made on first use), when it last failed.
struct Host {
    opts: Opts,
    slot: Mutex<Option<Slot>>,
    /// When it last failed, cleared when it works again (the failover order).
    failed_at: Mutex<Option<Instant>>,
    /// When it last failed, never cleared (the grants it is trusted with).
    troubled_at: Mutex<Option<Instant>>,
    /// Whether it is a Galera node (`@@GLOBAL.wsrep_on`), once asked.
    galera: OnceLock<bool>,
}

/// A pool and the fork generation of the process that made it.
struct Slot {
    generation: u64,
    pool: Pool,
}

impl Hosts {
    /// The servers, in the order the DSN names them; the first is used first.
    pub(crate) fn new(opts: Vec<Opts>) -> Self {
        Self {
            hosts: opts
                .into_iter()
                .map(|opts| Host {
                    opts,
                    slot: Mutex::new(None),
                    failed_at: Mutex::new(None),
                    troubled_at: Mutex::new(None),
                    galera: OnceLock::new(),
                })
                .collect(),
            current: AtomicUsize::new(0),
        }
    }

    /// The order to try the servers in now: the current one, then the others in DSN order,
    /// passing over those that failed less than [`RETRY_FAILED_AFTER`] ago; those come last,
    /// the one that failed longest ago first.
    pub(crate) fn order(&self) -> Vec<usize> {
        let n = self.hosts.len();
        let current = self.current.load(Ordering::Acquire) % n.max(1);
        let now = Instant::now();
        let (mut fine, mut failed): (Vec<usize>, Vec<(Instant, usize)>) = (Vec::new(), Vec::new());
        for i in (0..n).map(|k| (current + k) % n) {
            match *lock(&self.hosts[i].failed_at) {
                Some(at) if now.duration_since(at) < RETRY_FAILED_AFTER => failed.push((at, i)),
                _ => fine.push(i),
            }
        }
        failed.sort();
        fine.extend(failed.into_iter().map(|(_, i)| i));
        fine
    }

    /// The pool of server `i`, made now if there is none yet or if this is a forked child of
    /// the process that made it. A child never touches its parent's connections: the inherited
    /// pool is leaked (dropping it would send COM_QUIT on sockets the parent still uses).
    pub(crate) fn pool(&self, i: usize) -> Result<Pool, mysql::Error> {
        let host = &self.hosts[i];
        let generation = super::session::fork_generation();
        let mut slot = lock(&host.slot);
        if let Some(s) = slot.as_ref() {
            if s.generation == generation {
                return Ok(s.pool.clone());
            }
            if let Some(inherited) = slot.take() {
                std::mem::forget(inherited.pool);
            }
        }
        // With min 0 connections this opens nothing; with a `pool_min` in the DSN it connects,
        // and a failure is not kept: the next call tries again.
        let pool = Pool::new(host.opts.clone())?;
        *slot = Some(Slot {
            generation,
            pool: pool.clone(),
        });
        Ok(pool)
    }

    /// Server `i` works: it is the one to use.
    pub(crate) fn worked(&self, i: usize) {
        *lock(&self.hosts[i].failed_at) = None;
        self.current.store(i, Ordering::Release);
    }

    /// Server `i` is in trouble: passed over for a while, and the next one becomes current (if
    /// `i` still is).
    pub(crate) fn failed(&self, i: usize) {
        let now = Instant::now();
        *lock(&self.hosts[i].failed_at) = Some(now);
        *lock(&self.hosts[i].troubled_at) = Some(now);
        let next = (i + 1) % self.hosts.len().max(1);
        let _ = self
            .current
            .compare_exchange(i, next, Ordering::AcqRel, Ordering::Acquire);
    }

    /// True while server `i` is not trusted to grant: it failed less than
    /// [`RETRY_FAILED_AFTER`] ago and is a Galera node (`galera` is asked, once per server,
    /// only then; `None` from it: not known, so not trusted).
    pub(crate) fn distrusted(&self, i: usize, galera: impl FnOnce() -> Option<bool>) -> bool {
        let host = &self.hosts[i];
        let recent = lock(&host.troubled_at).is_some_and(|at| at.elapsed() < RETRY_FAILED_AFTER);
        if !recent {
            return false;
        }
        if let Some(&known) = host.galera.get() {
            return known;
        }
        match galera() {
            Some(known) => *host.galera.get_or_init(|| known),
            None => true,
        }
    }

    /// Forgets every pool (after a panic inside the mysql crate): the next use makes new ones.
    pub(crate) fn reset(&self) {
        for host in &self.hosts {
            *lock(&host.slot) = None;
        }
    }

    /// How many servers there are.
    pub(crate) fn len(&self) -> usize {
        self.hosts.len()
    }

    /// The `host:port` of server `i`, for the connection state (never a password).
    pub(crate) fn name(&self, i: usize) -> String {
        let o = &self.hosts[i].opts;
        match o.get_socket() {
            Some(socket) => socket.to_string(),
            None => format!("{}:{}", o.get_ip_or_hostname(), o.get_tcp_port()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(n: u16) -> Hosts {
        Hosts::new(
            (0..n)
                .map(|k| {
                    mysql::OptsBuilder::new()
                        .ip_or_hostname(Some("127.0.0.1"))
                        .tcp_port(3306 + k)
                        .into()
                })
                .collect(),
        )
    }

    #[test]
    fn the_current_server_first_failed_ones_last() {
        let h = hosts(3);
        assert_eq!(h.order(), vec![0, 1, 2]);
        h.failed(0);
        assert_eq!(h.order(), vec![1, 2, 0], "moved on, the failed one last");
        h.failed(1);
        assert_eq!(
            h.order(),
            vec![2, 0, 1],
            "the one that failed longest ago before the other"
        );
        h.worked(0);
        assert_eq!(
            h.order(),
            vec![0, 2, 1],
            "a server that works again is current"
        );
        assert_eq!(h.name(2), "127.0.0.1:3308");
    }

    #[test]
    fn a_failure_of_another_server_does_not_move_the_process() {
        let h = hosts(3);
        h.worked(2);
        h.failed(0);
        assert_eq!(h.order(), vec![2, 1, 0]);
        let one = hosts(1);
        one.failed(0);
        assert_eq!(one.order(), vec![0], "a single server is always tried");
    }

    #[test]
    fn a_galera_node_that_failed_is_distrusted_even_after_it_works_again() {
        let h = hosts(2);
        let asked = std::cell::Cell::new(0);
        let galera = |answer: Option<bool>| {
            let asked = &asked;
            move || {
                asked.set(asked.get() + 1);
                answer
            }
        };
        assert!(!h.distrusted(0, galera(Some(true))), "never failed");
        assert_eq!(asked.get(), 0, "not asked while it never failed");
        h.failed(0);
        h.worked(0);
        assert!(!h.distrusted(1, galera(Some(true))), "the other server");
        assert!(h.distrusted(0, galera(None)), "not known: not trusted");
        assert!(h.distrusted(0, galera(Some(true))), "a Galera node");
        assert!(
            h.distrusted(0, galera(Some(false))),
            "known now: not asked again"
        );
        assert_eq!(asked.get(), 2);
        h.failed(1);
        assert!(!h.distrusted(1, galera(Some(false))), "not a Galera node");
    }
}
