#!/usr/bin/env bash
# A throw-away 3-node MariaDB Galera cluster on loopback (multi-primary, synchronous
# certification), for the cluster test (tests/galera.rs) and the probe (scripts/galera_probe.sh).
# Everything lives under target/galera/ (or $TIKI_TOKENS_GALERA_DIR); never a system database.
#
#   scripts/galera.sh start      # a new cluster (wipes the directory); prints the DSNs (as dsn)
#   scripts/galera.sh dsn        # one DSN per node, one per line, then the multi-host form
#                                #   mysql://root@127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/tiki_tokens_test?prefer_socket=false
#   scripts/galera.sh kill N     # SIGKILL node N (1..3): a crashed server
#   scripts/galera.sh pause N    # SIGSTOP node N: a hung server (the others evict it in ~2 s);
#                                # returns once every thread of it is stopped
#   scripts/galera.sh resume N   # SIGCONT node N (it then rejoins by itself)
#   scripts/galera.sh rejoin N   # node N back in the cluster: SIGCONT if paused, started again if
#                                # dead; waits until it reports Synced
#   scripts/galera.sh status     # one line per node: pid, process state, wsrep state, cluster size
#   scripts/galera.sh stop       # stops every node by PID, in reverse order; nothing is left running
#                                # (the directory, with each node's err.log, stays until a start)
#
# How (the measured recipe of /work/shared/notes/galera-recipe.md): MariaDB's mariadbd with
# Debian's galera-4 provider; mariadbd runs as user `mysql` when started as root and the node
# folders belong to it (as root, rsync SST fails: the joiner's rsync daemon drops to `nobody`);
# free ports chosen at start for SQL, gcomm, IST (`ist.recv_addr` set explicitly: by default it
# is the gcomm port + 1, which is another node's) and SST (rsync); the evs.* options evict a
# dead or hung node in about 2 s (measured 1.8-2.7 s) instead of about 5. Node 1 bootstraps the cluster
# (--wsrep-new-cluster), nodes 2 and 3 join one after the other once the previous one reports
# Synced (they get node 1's data by rsync SST). root logs in over TCP from 127.0.0.1 without a
# password on every node, so never let this listen beyond loopback.
#
# TIKI_TOKENS_GALERA_OWNER=PID with start: a watchdog (its own session) stops the cluster once
# process PID is gone, so that a test killed by a signal leaves no server behind.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/lib/net.sh"
dir="${TIKI_TOKENS_GALERA_DIR:-$root/target/galera}"
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
db="tiki_tokens_test"
nodes=(1 2 3)
provider="${TIKI_TOKENS_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"
# Evict a silent node after about 2 s instead of about 5 (keepalive must stay below a third of
# suspect_timeout, or galera refuses to start). inactive and install at 3 s, join messages resent
# every 0.3 s: with both at 2 s (the recipe's values), pausing a node right after another had
# joined split the cluster into three non-primary nodes of one (measured: 2 of 7 pauses), which
# stays so until the paused node comes back; with these, 14 of 14 pauses evicted the paused node
# within 1.8-2.7 s and the other two stayed primary. TIKI_TOKENS_GALERA_EVS replaces them.
evs="${TIKI_TOKENS_GALERA_EVS:-evs.keepalive_period=PT0.3S;evs.suspect_timeout=PT1S;evs.inactive_timeout=PT3S;evs.install_timeout=PT3S;evs.join_retrans_period=PT0.3S}"

die() { echo "galera.sh: $*" >&2; exit 1; }

node_dir() { echo "$dir/node$1"; }

# Port of kind (sql, gcomm, ist, sst) of node $1, from the file written at start.
port() { awk -v n="$1" -v k="$2" '$1 == n { print $(k == "sql" ? 2 : k == "gcomm" ? 3 : k == "ist" ? 4 : 5) }' "$dir/ports"; }

pid_of() { [ -f "$(node_dir "$1")/launch.pid" ] && cat "$(node_dir "$1")/launch.pid"; }

running() { local p; p="$(pid_of "$1")" && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# The process state letter of node $1 (R, S, D, T = stopped by a signal, Z, or "-" when gone).
proc_state() {
  local p; p="$(pid_of "$1")" || { echo -; return; }
  awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null || echo -
}

# Runs SQL on node $1 through its socket as root (no name resolution, no TCP user needed),
# giving up after 3 s (a paused node never answers).
sql() {
  timeout 3 mariadb --no-defaults -uroot -S "$(node_dir "$1")/sock" -N -B -e "$2" 2>/dev/null
}

wsrep_status() { sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | awk '{ print $2 }'; }

check_installed() {
  command -v mariadbd >/dev/null || die "mariadb-server is not installed (scripts/bootstrap.sh)"
  [ -f "$provider" ] || die "galera-4 is not installed ($provider missing): apt-get install galera-4"
  command -v rsync >/dev/null || die "rsync is not installed (SST by rsync): apt-get install rsync"
}

write_config() {
  local i="$1" d; d="$(node_dir "$i")"
  local cluster="" n
  for n in "${nodes[@]}"; do cluster+="${cluster:+,}127.0.0.1:$(port "$n" gcomm)"; done
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user=mysql"
  cat >"$d/my.cnf" <<EOF
[mysqld]
datadir=$d/data
socket=$d/sock
pid-file=$d/pid
log-error=$d/err.log
port=$(port "$i" sql)
bind-address=127.0.0.1
$user_line
skip-name-resolve
max_connections=300
default_storage_engine=InnoDB
innodb_buffer_pool_size=64M
innodb_log_file_size=48M
innodb_flush_log_at_trx_commit=2
innodb_autoinc_lock_mode=2
binlog_format=ROW
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=tiki_tokens_test
wsrep_cluster_address=gcomm://$cluster
wsrep_node_name=node$i
wsrep_node_address=127.0.0.1:$(port "$i" gcomm)
wsrep_node_incoming_address=127.0.0.1:$(port "$i" sql)
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$(port "$i" gcomm);ist.recv_addr=127.0.0.1:$(port "$i" ist);gcache.size=64M;$evs"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(port "$i" sst)
wsrep_slave_threads=2
EOF
}

# Starts mariadbd for node $1 (extra arguments after), in its own session, output to its log.
launch() {
  local i="$1"; shift
  local d; d="$(node_dir "$i")"
  setsid mariadbd --defaults-file="$d/my.cnf" "$@" >>"$d/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/launch.pid"
}

# Waits until node $1 reports Synced (or fails, showing its log, when it dies or takes > 180 s).
wait_synced() {
  local i="$1" state=""
  for _ in $(seq 1 900); do
    running "$i" || { tail -n 40 "$(node_dir "$i")/err.log" >&2; die "node $i died while starting"; }
    state="$(wsrep_status "$i" wsrep_local_state_comment || true)"
    [ "$state" = Synced ] && return 0
    sleep 0.2
  done
  tail -n 40 "$(node_dir "$i")/err.log" >&2
  die "node $i is not Synced after 180 s (state: ${state:-no answer})"
}

dsn() {
  [ -f "$dir/ports" ] || die "no cluster in $dir (start it)"
  local n multi="" up=0
  for n in "${nodes[@]}"; do running "$n" && up=1; done
  [ "$up" = 1 ] || die "the cluster in $dir is not running (start it)"
  for n in "${nodes[@]}"; do
    echo "mysql://root@127.0.0.1:$(port "$n" sql)/$db?prefer_socket=false"
    multi+="${multi:+,}127.0.0.1:$(port "$n" sql)"
  done
  echo "mysql://root@$multi/$db?prefer_socket=false"
}

start() {
  check_installed
  stop_all
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 755 "$dir"
  local ports=() n
  mapfile -t ports < <(free_ports 12)
  [ "${#ports[@]}" = 12 ] || die "could not find 12 free ports"
  for n in "${nodes[@]}"; do
    local b=$(((n - 1) * 4))
    echo "$n ${ports[b]} ${ports[b + 1]} ${ports[b + 2]} ${ports[b + 3]}" >>"$dir/ports"
    mkdir -p "$(node_dir "$n")/data"
    write_config "$n"
  done
  local user_flag=()
  [ "$(id -u)" = 0 ] && user_flag=(--user=mysql)
  # Only node 1 needs system tables: the joiners receive node 1's data directory by SST.
  mariadb-install-db --no-defaults --datadir="$(node_dir 1)/data" "${user_flag[@]}" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  [ "$(id -u)" = 0 ] && chown -R mysql:mysql "$dir"/node*
  launch 1 --wsrep-new-cluster
  wait_synced 1
  sql 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
         CREATE DATABASE IF NOT EXISTS $db" || die "could not create the root user and database"
  for n in 2 3; do
    launch "$n"
    wait_synced "$n"
  done
  if [ -n "${TIKI_TOKENS_GALERA_OWNER:-}" ]; then
    setsid bash "$root/scripts/galera.sh" watch "$TIKI_TOKENS_GALERA_OWNER" \
      >>"$dir/watchdog.log" 2>&1 </dev/null &
    echo $! >"$dir/watchdog.pid"
  fi
  dsn
}

# Stops node $1 by its PID: SIGCONT first (a stopped process handles no SIGTERM), SIGTERM, and
# SIGKILL if it is still there after 60 s.
stop_node() {
  local i="$1" p
  p="$(pid_of "$i")" || return 0
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
  kill -CONT "$p" 2>/dev/null || true
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  echo "galera.sh: node $i (pid $p) ignored SIGTERM for 60 s: SIGKILL" >&2
  kill -KILL "$p" 2>/dev/null || true
}

# Every node, reverse order (the last one stopped can bootstrap next time); then whatever a node
# started and left behind (an SST's rsync daemon), found by the cluster directory in its command
# line and ended by its PID.
stop_all() {
  [ -d "$dir" ] || return 0
  if [ -f "$dir/watchdog.pid" ] && [ "${GALERA_WATCHDOG:-}" != 1 ]; then
    kill "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
    rm -f "$dir/watchdog.pid"
  fi
  local n
  for n in 3 2 1; do [ -d "$(node_dir "$n")" ] && stop_node "$n"; done
  local p
  for p in $(pgrep -f -- "(rsync|wsrep_sst).*$dir/node" || true); do
    [ "$p" = "$$" ] && continue
    echo "galera.sh: ending leftover process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
    kill -KILL "$p" 2>/dev/null || true
  done
}

signal_node() {
  local sig="$1" i="$2" p
  case "$i" in 1 | 2 | 3) ;; *) die "no node $i (1..3)" ;; esac
  p="$(pid_of "$i")" || die "node $i was never started"
  kill -0 "$p" 2>/dev/null || die "node $i (pid $p) is not running"
  kill "-$sig" "$p"
}

# Returns once every thread of node $1 is stopped: SIGSTOP takes effect thread by thread, and a
# query thread was seen answering up to 5 ms after kill -STOP had returned.
wait_stopped() {
  local p t all line state
  p="$(pid_of "$1")"
  for _ in $(seq 1 200); do
    all=1
    for t in /proc/"$p"/task/*/stat; do
      # The state follows the ")" that ends the thread's name.
      read -r line <"$t" 2>/dev/null || continue
      state="${line##*) }"
      [ "${state%% *}" = T ] || { all=0; break; }
    done
    [ "$all" = 1 ] && return 0
    sleep 0.01
  done
  die "node $1 (pid $p) is not stopped 2 s after SIGSTOP"
}

rejoin() {
  local i="$1"
  case "$i" in 1 | 2 | 3) ;; *) die "no node $i (1..3)" ;; esac
  if running "$i"; then
    kill -CONT "$(pid_of "$i")"
  else
    launch "$i"
  fi
  wait_synced "$i"
}

status() {
  [ -f "$dir/ports" ] || die "no cluster in $dir"
  local n
  for n in "${nodes[@]}"; do
    local st; st="$(proc_state "$n")"
    local wsrep="-" size="-" primary="-"
    if running "$n" && [ "$st" != T ]; then
      wsrep="$(wsrep_status "$n" wsrep_local_state_comment || true)"
      size="$(wsrep_status "$n" wsrep_cluster_size || true)"
      primary="$(wsrep_status "$n" wsrep_cluster_status || true)"
    fi
    echo "node$n pid=$(pid_of "$n" || echo -) proc=$st port=$(port "$n" sql) state=${wsrep:-?} cluster_size=${size:-?} component=${primary:-?}"
  done
}

# The watchdog of TIKI_TOKENS_GALERA_OWNER: stops the cluster once process $1 is gone.
watch() {
  local owner="$1"
  while kill -0 "$owner" 2>/dev/null; do sleep 1; done
  echo "owner $owner gone: stopping the cluster" >&2
  GALERA_WATCHDOG=1 stop_all
  rm -f "$dir/watchdog.pid"
}

case "${1:-}" in
  start) start ;;
  dsn) dsn ;;
  stop) stop_all ;;
  kill) signal_node KILL "${2:?node number}" ;;
  pause) signal_node STOP "${2:?node number}"; wait_stopped "${2}" ;;
  resume) signal_node CONT "${2:?node number}" ;;
  rejoin) rejoin "${2:?node number}" ;;
  status) status ;;
  watch) watch "${2:?owner pid}" ;;
  *) echo "usage: $0 start|dsn|stop|kill N|pause N|resume N|rejoin N|status" >&2; exit 2 ;;
esac
