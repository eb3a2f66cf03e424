#!/usr/bin/env bash
# A throw-away MariaDB server for tests and the demo: its own data directory, socket and port
# under target/mariadb-test, never a system database.
#
#   scripts/mariadb.sh start   # starts it if it is not running; prints the root DSN on stdout
#   scripts/mariadb.sh dsn     # prints the DSN of the running server
#   scripts/mariadb.sh stop    # stops it (the data directory stays until the next start)
#   scripts/mariadb.sh resume  # starts a stopped server again on the same port and data
#                              # directory (tests that stop a server mid-run); prints the DSN
#
# The server listens on 127.0.0.1 only; root logs in over TCP without a password, so never
# point this at a server that listens beyond loopback.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/lib/net.sh"
source "$root/scripts/lib/db.sh"
dir="${TIKI_TOKENS_MARIADB_DIR:-$root/target/mariadb-test}"
# A relative directory is taken from where the command was run (mariadbd needs absolute paths).
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
db="tiki_tokens_test"

alive() {
  [ -f "$dir/pid" ] && [ -f "$dir/port" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null &&
    db_client "$dir" -e 'select 1' >/dev/null 2>&1
}

dsn() { echo "mysql://root@127.0.0.1:$(cat "$dir/port")/$db?prefer_socket=false"; }

start() {
  if alive; then dsn; return 0; fi
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || {
    echo "mariadb-server is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
  [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -rf "$dir"; mkdir -p "$dir/tmp"
  local user_flag=(); [ "$(id -u)" = 0 ] && user_flag=(--user=root)
  # Its own tmpdir: /tmp is shared, and a bootstrap once failed there deleting its temporary table.
  mariadb-install-db --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" "${user_flag[@]}" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 || {
    cat "$dir/install.log" >&2; exit 1; }
  free_port >"$dir/port"
  launch
}

# Starts the server on the data directory and port already in $dir, waits until it answers.
launch() {
  local server; server="$(command -v mariadbd || command -v mysqld)"
  local user_flag=(); [ "$(id -u)" = 0 ] && user_flag=(--user=root)
  local port; port="$(cat "$dir/port")"
  mkdir -p "$dir/tmp"
  setsid "$server" --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" "${user_flag[@]}" --port="$port" \
    --bind-address=127.0.0.1 --socket="$dir/sock" --pid-file="$dir/pid" --skip-log-bin \
    --max-connections=500 --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
    >>"$dir/server.log" 2>&1 < /dev/null &
  for _ in $(seq 1 150); do
    if db_client "$dir" -e 'select 1' >/dev/null 2>&1; then
      db_client "$dir" -e "CREATE DATABASE IF NOT EXISTS $db"
      dsn; return 0
    fi
    sleep 0.2
  done
  echo "MariaDB did not start; log follows" >&2; cat "$dir/server.log" >&2; exit 1
}

resume() {
  if alive; then dsn; return 0; fi
  [ -d "$dir/data" ] && [ -f "$dir/port" ] || { echo "no stopped server in $dir: use start" >&2; exit 1; }
  launch
}

stop() {
  if [ -f "$dir/pid" ]; then
    local pid; pid="$(cat "$dir/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "MariaDB ($pid) did not stop within 10 s: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

case "${1:-start}" in
  start) start ;;
  dsn) alive && dsn ;;
  stop) stop ;;
  resume) resume ;;
  *) echo "usage: $0 start|dsn|stop|resume" >&2; exit 2 ;;
esac
