//! The 3-node cluster of `scripts/galera.sh` for this test binary: started once, by the first
//! test that needs it; lent to one test at a time (the tests kill and pause nodes); healed
//! between tests (a killed node started again, a paused one resumed and waited for); stopped when
//! the process exits (an `atexit` handler, which also runs after a failed test) and, should the
//! process die of a signal, by the script's watchdog (`TIKI_TOKENS_GALERA_OWNER`).

use mysql::prelude::Queryable;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

/// Nodes of the cluster, numbered 1..=NODES as in `scripts/galera.sh`.
pub const NODES: usize = 3;

/// Where the cluster answers.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The root DSN of each node's `tiki_tokens_test` database (index 0 = node 1).
    pub dsns: Vec<String>,
    /// The SQL port of each node.
    pub ports: Vec<u16>,
}

impl Cluster {
    /// Node `node`'s DSN with database `db`.
    pub fn dsn(&self, node: usize, db: &str) -> String {
        testkit::db::with_database(&self.dsns[node - 1], db)
    }

    /// The multi-host DSN of database `db`, naming `first` first and the other nodes after it
    /// in turn (`mysql://root@127.0.0.1:P2,127.0.0.1:P3,127.0.0.1:P1/db?prefer_socket=false`).
    pub fn multi_dsn(&self, first: usize, db: &str) -> String {
        let hosts: Vec<String> = (0..NODES)
            .map(|k| format!("127.0.0.1:{}", self.ports[(first - 1 + k) % NODES]))
            .collect();
        format!("mysql://root@{}/{db}?prefer_socket=false", hosts.join(","))
    }
}

fn script() -> PathBuf {
    testkit::repo().join("scripts/galera.sh")
}

/// The Galera provider `scripts/galera.sh` loads (Debian's `galera-4`).
pub fn provider() -> PathBuf {
    std::env::var_os("TIKI_TOKENS_GALERA_PROVIDER")
        .map_or_else(|| "/usr/lib/galera/libgalera_smm.so".into(), PathBuf::from)
}

/// Runs `scripts/galera.sh args…`: its stdout, or its stderr as the error.
pub fn galera(args: &[&str]) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .env("TIKI_TOKENS_GALERA_OWNER", std::process::id().to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run scripts/galera.sh: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "scripts/galera.sh {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `kill N`, `pause N`, `resume N`: panics when the script refuses.
pub fn signal(what: &str, node: usize) {
    galera(&[what, &node.to_string()]).unwrap_or_else(|e| panic!("{e}"));
}

extern "C" fn stop_at_exit() {
    let _ = Command::new("bash")
        .arg(script())
        .arg("stop")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
}

/// What one test holds: the cluster, to itself.
pub struct Session {
    _serial: MutexGuard<'static, ()>,
    /// The cluster, healthy (3 nodes Synced in one primary component) at the start of the test.
    pub cluster: Cluster,
}

impl Session {
    /// Heals the cluster in the middle of a test (after a kill or a pause).
    pub fn heal(&mut self) {
        self.cluster = heal();
    }
}

/// The cluster for test `test`, to itself; `None`, after printing why, when galera-4 is not
/// installed (the only reason to skip: anything else that fails is a failed test).
pub fn take(test: &str) -> Option<Session> {
    if !provider().is_file() {
        eprintln!(
            "SKIPPED {test}: galera-4 is not installed ({} is missing); \
             install it with scripts/bootstrap.sh --galera (apt-get install galera-4 rsync)",
            provider().display()
        );
        return None;
    }
    static SERIAL: Mutex<()> = Mutex::new(());
    static STARTED: Mutex<bool> = Mutex::new(false);
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    let cluster = if *started { heal() } else { start() };
    *started = true;
    Some(Session {
        _serial: serial,
        cluster,
    })
}

/// The running cluster's DSNs (`galera.sh dsn`).
fn current() -> Cluster {
    let out = galera(&["dsn"]).unwrap_or_else(|e| panic!("{e}"));
    parse_dsns(&out)
}

fn parse_dsns(out: &str) -> Cluster {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), NODES + 1, "galera.sh printed {out}");
    let dsns: Vec<String> = lines[..NODES].iter().map(|l| l.to_string()).collect();
    let ports = dsns
        .iter()
        .map(|d| {
            let url = url::Url::parse(d).expect("node DSN");
            url.port().expect("node port")
        })
        .collect();
    Cluster { dsns, ports }
}

fn start() -> Cluster {
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn()` without arguments, as atexit(3) wants.
        let rc = unsafe { libc::atexit(stop_at_exit) };
        assert_eq!(rc, 0, "atexit");
    });
    let began = Instant::now();
    let out = galera(&["start"]).unwrap_or_else(|e| panic!("{e}"));
    let cluster = parse_dsns(&out);
    eprintln!(
        "galera: 3 nodes Synced in {:.1} s; multi-host DSN {}",
        began.elapsed().as_secs_f64(),
        out.lines().last().unwrap_or_default()
    );
    apply_sync_wait(&cluster);
    cluster
}

/// `TIKI_TOKENS_GALERA_SYNC_WAIT=N`: `SET GLOBAL wsrep_sync_wait = N` on every node (a global
/// does not survive a node's restart: applied again after healing). For measuring what causal
/// reads change while the extension cannot set the session variable itself.
fn apply_sync_wait(cluster: &Cluster) {
    let Ok(value) = std::env::var("TIKI_TOKENS_GALERA_SYNC_WAIT") else {
        return;
    };
    let value: u32 = value
        .parse()
        .expect("TIKI_TOKENS_GALERA_SYNC_WAIT: a number");
    for node in 1..=NODES {
        conn(&cluster.dsns[node - 1])
            .query_drop(format!("SET GLOBAL wsrep_sync_wait = {value}"))
            .expect("SET GLOBAL wsrep_sync_wait");
    }
    eprintln!("galera: wsrep_sync_wait = {value} on every node");
}

/// One node's state from `galera.sh status`.
fn healthy(line: &str) -> bool {
    line.contains("state=Synced")
        && line.contains(&format!("cluster_size={NODES}"))
        && line.contains("component=Primary")
}

/// Back to 3 Synced nodes in one primary component: every node that is not is rejoined (started
/// again when dead, resumed when paused, waited for); when that fails, a new cluster.
fn heal() -> Cluster {
    let status = galera(&["status"]).unwrap_or_default();
    if status.lines().filter(|l| healthy(l)).count() == NODES {
        return current();
    }
    let began = Instant::now();
    for (i, line) in status.lines().enumerate() {
        if line.contains("state=Synced") && line.contains("component=Primary") {
            continue;
        }
        if let Err(e) = galera(&["rejoin", &(i + 1).to_string()]) {
            eprintln!("galera: node {} did not rejoin ({e}); a new cluster", i + 1);
            return start();
        }
    }
    // The others learn of the rejoined node within a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = galera(&["status"]).unwrap_or_default();
        if status.lines().filter(|l| healthy(l)).count() == NODES {
            break;
        }
        if Instant::now() > deadline {
            eprintln!("galera: not healthy after rejoining:\n{status}\na new cluster");
            return start();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("galera: healed in {:.1} s", began.elapsed().as_secs_f64());
    let cluster = current();
    apply_sync_wait(&cluster);
    cluster
}

/// A direct connection to `dsn` for set-up and inspection, with timeouts (a paused node must
/// not hang the test).
pub fn conn(dsn: &str) -> mysql::Conn {
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(dsn).expect("DSN"))
        .tcp_connect_timeout(Some(Duration::from_secs(3)))
        .read_timeout(Some(Duration::from_secs(20)))
        .write_timeout(Some(Duration::from_secs(20)));
    mysql::Conn::new(opts).unwrap_or_else(|e| panic!("connect to {dsn}: {e}"))
}

/// A database `name` with Tiki trunk's tables as InnoDB (Galera replicates InnoDB only: a
/// MyISAM table would exist on every node, its rows on one), created through node 1 and
/// replicated to all.
pub fn create_database(cluster: &Cluster, name: &str) {
    let mut root = conn(&cluster.dsns[0]);
    root.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
        .expect("drop database");
    root.query_drop(format!("CREATE DATABASE `{name}`"))
        .expect("create database");
    let sql = testkit::db::TRUNK_SQL.replace("ENGINE=MyISAM", "ENGINE=InnoDB");
    assert!(!sql.contains("MyISAM"), "trunk.sql names another engine");
    testkit::db::run_sql(&cluster.dsn(1, name), &sql);
    wait_replicated(cluster, name);
}

/// Returns once every node has applied every write committed anywhere before the call: a causal
/// read (`wsrep_sync_wait = 1`, this session only) on each node.
pub fn wait_replicated(cluster: &Cluster, db: &str) {
    for node in 1..=NODES {
        let mut c = conn(&cluster.dsn(node, db));
        c.query_drop("SET SESSION wsrep_sync_wait = 1")
            .expect("causal read");
        let _: Option<i64> = c
            .query_first("SELECT COUNT(*) FROM tiki_auth_tokens")
            .expect("causal read");
    }
}

/// The hits of token `id` as node `node` has them after a causal read; `None` without the row.
pub fn hits(cluster: &Cluster, node: usize, db: &str, id: i64) -> Option<i64> {
    let mut c = conn(&cluster.dsn(node, db));
    c.query_drop("SET SESSION wsrep_sync_wait = 1")
        .expect("causal read");
    c.exec_first("SELECT hits FROM tiki_auth_tokens WHERE tokenId = ?", (id,))
        .expect("read hits")
}

/// CLOCK_MONOTONIC in microseconds: the clock of PHP's `hrtime()`, so the workers' times and the
/// test's are comparable.
pub fn now_us() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec on the stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
}

/// Sleeps until `at` (µs of [`now_us`]).
pub fn sleep_until(at: i64) {
    let wait = at - now_us();
    if wait > 0 {
        std::thread::sleep(Duration::from_micros(wait.unsigned_abs()));
    }
}
