//! The PHP clients of the cluster test: long-running PHP CLI processes with the built extension,
//! each running `php/tests/lib/galera_worker.php` with a DSN of its own (one node, or several),
//! driven over stdin and answering in JSON lines (read by a thread per process, so a worker
//! never blocks on a full pipe while the test reads another).

use super::cluster::now_us;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// One PHP process.
pub struct Worker {
    /// The node its DSN names (first).
    pub node: usize,
    /// Its first line: `{"ready":true}` or why its Store could not be made.
    pub ready: Value,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
}

impl Worker {
    /// Starts a worker on `dsn` (without waiting for it: see [`Worker::wait_ready`]), its Store
    /// made with the option `causalReads` = `causal_reads` (`auto`, `on`, `off`).
    fn spawn(
        dsn: &str,
        node: usize,
        io_timeout: f64,
        connect_timeout: f64,
        causal_reads: &str,
    ) -> Self {
        let script = testkit::repo().join("php/tests/lib/galera_worker.php");
        let mut child = Command::new(testkit::php::php_binary())
            .arg("-n")
            .arg("-d")
            .arg(format!("extension={}", testkit::ext::extension().display()))
            .arg(script)
            .arg(dsn)
            .arg(io_timeout.to_string())
            .arg(connect_timeout.to_string())
            .arg(causal_reads)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run PHP: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|_| Value::String(line.clone()));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Self {
            node,
            ready: Value::Null,
            child,
            stdin,
            lines,
        }
    }

    fn wait_ready(&mut self) {
        self.ready = self.recv(Duration::from_secs(20));
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("worker on node {} is gone: {e}", self.node));
    }

    fn recv(&mut self, limit: Duration) -> Value {
        match self.lines.recv_timeout(limit) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("worker on node {} silent for {limit:?}", self.node)
            }
            Err(RecvTimeoutError::Disconnected) => panic!(
                "worker on node {} exited: {:?}",
                self.node,
                self.child.try_wait()
            ),
        }
    }

    /// A new token for tiki-index.php with `hits` (-1: unlimited), made by this worker's Store:
    /// (token, tokenId).
    pub fn create(&mut self, hits: i64) -> (String, i64) {
        self.send(&format!("create {hits}"));
        let v = self.recv(Duration::from_secs(30));
        match (v["created"].as_str(), v["tokenId"].as_i64()) {
            (Some(t), Some(id)) => (t.to_string(), id),
            _ => panic!("create on node {}: {v}", self.node),
        }
    }

    /// `bench TOKEN COUNT`: the worker's latency summary line.
    pub fn bench(&mut self, token: &str, count: usize) -> Value {
        self.send(&format!("bench {token} {count}"));
        self.recv(Duration::from_secs(120))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How one lookup ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Granted, with the hits left after it.
    Grant(i64),
    /// Denied: reason and detail (empty for `exhausted`).
    Denial(String, String),
}

/// One lookup of one worker, on the common clock (µs).
#[derive(Clone, Debug)]
pub struct Lookup {
    /// Index of the worker in its pool.
    pub worker: usize,
    /// The node the worker's DSN names first.
    pub node: usize,
    /// When it was called.
    pub t0: i64,
    /// When it returned.
    pub t1: i64,
    /// Grant or denial.
    pub outcome: Outcome,
}

impl Lookup {
    /// Granted?
    pub fn granted(&self) -> bool {
        matches!(self.outcome, Outcome::Grant(_))
    }

    /// The denial's reason, if denied.
    pub fn reason(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Denial(r, _) => Some(r),
            Outcome::Grant(_) => None,
        }
    }

    /// How long it took, in ms.
    pub fn ms(&self) -> f64 {
        (self.t1 - self.t0) as f64 / 1000.0
    }
}

/// Worker processes spread over the nodes.
pub struct Pool {
    /// The workers, `per_node` for node 1, then for node 2, …
    pub workers: Vec<Worker>,
}

impl Pool {
    /// `per_node` workers on each of `nodes` nodes, worker of node n on `dsn_of(n)`; started
    /// together, then each waited for. Their Stores take `causalReads` from
    /// `TIKI_TOKENS_GALERA_CAUSAL_READS` (default `auto`, the extension's default).
    pub fn spread(
        nodes: usize,
        per_node: usize,
        dsn_of: impl Fn(usize) -> String,
        io_timeout: f64,
        connect_timeout: f64,
    ) -> Self {
        let dsns = (1..=nodes)
            .flat_map(|n| std::iter::repeat_n(n, per_node))
            .map(|n| (n, dsn_of(n)));
        let causal_reads = std::env::var("TIKI_TOKENS_GALERA_CAUSAL_READS");
        let causal_reads = causal_reads.as_deref().unwrap_or("auto");
        Self::start(dsns, io_timeout, connect_timeout, causal_reads)
    }

    /// One worker on `dsn` (counted as node 1) with the option `causalReads` = `causal_reads`.
    pub fn one(dsn: &str, io_timeout: f64, causal_reads: &str) -> Self {
        let dsns = std::iter::once((1, dsn.to_string()));
        Self::start(dsns, io_timeout, io_timeout, causal_reads)
    }

    fn start(
        dsns: impl Iterator<Item = (usize, String)>,
        io_timeout: f64,
        connect_timeout: f64,
        causal_reads: &str,
    ) -> Self {
        let mut workers: Vec<Worker> = dsns
            .map(|(n, dsn)| Worker::spawn(&dsn, n, io_timeout, connect_timeout, causal_reads))
            .collect();
        for w in &mut workers {
            w.wait_ready();
        }
        // PHP's hrtime() and this process's clock must be one time line.
        let before = now_us();
        workers[0].send("now");
        let theirs = workers[0].recv(Duration::from_secs(10))["now"]
            .as_i64()
            .expect("now");
        let after = now_us();
        assert!(
            before <= theirs && theirs <= after,
            "PHP's hrtime ({theirs} µs) is not CLOCK_MONOTONIC ({before}..{after} µs)"
        );
        Self { workers }
    }

    /// The workers whose Store could not be made, with their first line.
    pub fn not_ready(&self) -> Vec<(usize, &Value)> {
        self.workers
            .iter()
            .enumerate()
            .filter(|(_, w)| w.ready["ready"] != Value::Bool(true))
            .map(|(i, w)| (i, &w.ready))
            .collect()
    }

    /// Indexes of the workers on `node`.
    pub fn on_node(&self, node: usize) -> Vec<usize> {
        (0..self.workers.len())
            .filter(|&i| self.workers[i].node == node)
            .collect()
    }

    /// Sends `run TOKEN START STOP K PACE` to each (worker, token) of `jobs`; collect with
    /// [`Pool::collect`]. `k` > 0: a worker stops after `k` `exhausted` denials; `pace` µs > 0:
    /// it starts a lookup at most that often.
    pub fn begin(&mut self, jobs: &[(usize, &str)], start: i64, stop: i64, k: u32, pace: u32) {
        for (i, token) in jobs {
            self.workers[*i].send(&format!("run {token} {start} {stop} {k} {pace}"));
        }
    }

    /// Every lookup of the workers of `jobs` until each says `done`.
    pub fn collect(&mut self, jobs: &[(usize, &str)], stop: i64) -> Vec<Lookup> {
        let mut all = Vec::new();
        for (i, _) in jobs {
            let w = &mut self.workers[*i];
            loop {
                let left = (stop - now_us()).max(0).unsigned_abs();
                let v = w.recv(Duration::from_micros(left) + Duration::from_secs(30));
                if v.get("done").is_some() {
                    assert!(
                        v.get("error").is_none(),
                        "worker {i} on node {} could not run: {v}",
                        w.node
                    );
                    break;
                }
                all.push(parse_lookup(*i, w.node, &v));
            }
        }
        all.sort_by_key(|l| l.t0);
        all
    }

    /// [`Pool::begin`] (no pacing) then [`Pool::collect`].
    pub fn run(&mut self, jobs: &[(usize, &str)], start: i64, stop: i64, k: u32) -> Vec<Lookup> {
        self.begin(jobs, start, stop, k, 0);
        self.collect(jobs, stop)
    }
}

fn parse_lookup(worker: usize, node: usize, v: &Value) -> Lookup {
    let t = |k: &str| {
        v[k].as_i64()
            .unwrap_or_else(|| panic!("worker {worker}: no {k} in {v}"))
    };
    let outcome = if v["g"] == 1 {
        Outcome::Grant(v["left"].as_i64().unwrap_or(i64::MIN))
    } else {
        Outcome::Denial(
            v["d"]
                .as_str()
                .unwrap_or_else(|| panic!("worker {worker}: not a lookup: {v}"))
                .to_string(),
            v["detail"].as_str().unwrap_or("").to_string(),
        )
    };
    Lookup {
        worker,
        node,
        t0: t("t0"),
        t1: t("t1"),
        outcome,
    }
}

/// Denials by reason, with one detail of each (what the extension said).
pub fn denials_by_reason<'a>(
    lookups: impl IntoIterator<Item = &'a Lookup>,
) -> BTreeMap<String, (usize, String)> {
    let mut by = BTreeMap::new();
    for l in lookups {
        if let Outcome::Denial(reason, detail) = &l.outcome {
            let e = by
                .entry(reason.clone())
                .or_insert_with(|| (0, detail.clone()));
            e.0 += 1;
        }
    }
    by
}

/// The longest time (ms) in `[from, to]` during which worker `worker` got no grant: between
/// `from` and its first grant, between two grants (by their end), and after its last one.
pub fn longest_gap(lookups: &[Lookup], worker: usize, from: i64, to: i64) -> f64 {
    let mut ends: Vec<i64> = lookups
        .iter()
        .filter(|l| l.worker == worker && l.granted() && l.t1 >= from && l.t1 <= to)
        .map(|l| l.t1)
        .collect();
    ends.sort_unstable();
    let mut last = from;
    let mut gap = 0;
    for t in ends {
        gap = gap.max(t - last);
        last = t;
    }
    gap = gap.max(to - last);
    gap as f64 / 1000.0
}

/// The median and the maximum of `values` (0 when empty).
pub fn median_max(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    (values[values.len() / 2], values[values.len() - 1])
}
