#!/usr/bin/env bash
# The end-to-end benchmark: token lookups through real PHP against a real MariaDB, for the
# extension, a hand-written floor, and Tiki 24's own algorithm. One command:
#
#   benches/e2e/run.sh
#
# It installs what it needs when missing (php8.2-mysql for PDO, gnuplot-nox for the plot; apt-get,
# as root or with sudo), starts a throw-away MariaDB under target/mariadb-bench (stopped at the end)
# unless TIKI_TOKENS_BENCH_DSN names a server, builds the extension (release), and for each table
# size, engine and table kind fills tiki_auth_tokens with realistic rows (Tiki 24's table with
# MD5 tokens; trunk's migrated table with signed tokens), then runs one long-lived PHP process
# per implementation. Results: a table on stdout, target/bench-e2e/results.csv and
# target/bench-e2e/latency.png. See benches/e2e/README.md for what each number means.
#
# Environment:
#   SIZES=1000,100000,1000000   table sizes (rows)
#   ENGINES=MyISAM,InnoDB       storage engines
#   TABLES=tiki24,trunk         Tiki 24's table (legacy MD5 tokens) and trunk's migrated table
#                               (signed tokens, the secret in tiki_preferences). Tiki 24's
#                               algorithm runs on its own table only; the implementations that
#                               take the secret from Tiki's preferences (-prefs) on trunk's only
#   QUICK=1                     a short development run (2,000 calls, 2 s per implementation)
#   ITERATIONS=20000            calls per implementation (lookups; creates get a quarter)
#   BUDGET=10                   seconds per implementation at most (but at least MIN calls)
#   ROUNDS=4                    the indexed implementations run in this many interleaved rounds
#                               (ITERATIONS and BUDGET are split between them; samples pooled)
#   MIN=20                      calls per implementation at least (Tiki 24 at 1M rows: a scan each)
#   IMPLS=...                   only these implementations (comma-separated; see bench.php)
#   EXT=0                       skip the extension (build and rows): the PHP-only rows
#   PIN=0                       the CPU that the throw-away server and every PHP process are pinned to
#                               (taskset), so that each call is a wake-up on one CPU; PIN=none: no
#                               pinning (on this 2-vCPU VM a client and a server thread that the
#                               scheduler happens to put on different CPUs take 60-100 µs a round
#                               trip instead of 28 µs, per connection, for seconds: noise far larger
#                               than the effects measured). Not applied to a server given by DSN.
#   TIKI_TOKENS_BENCH_DSN=mysql://user:pass@host:port/db   use this server (it gets a database
#                               `tiki_tokens_bench`, dropped and re-created; its status counters
#                               are global, so other clients on it spoil the per-call counts)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
here="$root/benches/e2e"
out="$root/target/bench-e2e"
mkdir -p "$out"

SIZES="${SIZES:-1000,100000,1000000}"
ENGINES="${ENGINES:-MyISAM,InnoDB}"
TABLES="${TABLES:-tiki24,trunk}"
for table in ${TABLES//,/ }; do
  case "$table" in tiki24|trunk) ;; *) echo "TABLES: unknown table '$table' (tiki24, trunk)" >&2; exit 2 ;; esac
done
if [ "${QUICK:-0}" = 1 ]; then
  ITERATIONS="${ITERATIONS:-2000}"; BUDGET="${BUDGET:-2}"; MIN="${MIN:-5}"
fi
ITERATIONS="${ITERATIONS:-20000}"
BUDGET="${BUDGET:-10}"
MIN="${MIN:-20}"
EXT="${EXT:-1}"
all_impls="floor-select,floor-select-star,ext-native-unlimited,ext-native-unlimited-prefs,ext-unlimited,ext-unlimited-prefs,ext-unknown,ext-unknown-prefs,floor-select-update,ext-native-limited,ext-native-limited-prefs,ext-limited,ext-limited-prefs,ext-malformed,ext-create,ext-create-prefs,side-by-side,tiki24-create,tiki24-unlimited,tiki24-limited"
IMPLS="${IMPLS:-$all_impls}"

echo "== packages"
source "$root/scripts/lib/packages.sh"
need=()
php -m | grep -qx pdo_mysql || need+=(php8.2-mysql)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
install_packages "${need[@]}"

echo "== database server"
started_db=""
if [ -n "${TIKI_TOKENS_BENCH_DSN:-}" ]; then
  dsn="$TIKI_TOKENS_BENCH_DSN"
else
  export TIKI_TOKENS_MARIADB_DIR="$root/target/mariadb-bench"
  dsn="$(scripts/mariadb.sh start)"
  started_db=1
fi
cleanup() { if [ -n "$started_db" ]; then scripts/mariadb.sh stop || true; fi; }
# The server's own CPU time per call is measured when it runs here (the throw-away one), and the
# server and the PHP processes are pinned to one CPU (see PIN above).
server_pid=(); pin=()
PIN="${PIN:-0}"
if [ -n "$started_db" ]; then
  server_pid=(--server-pid="$(cat "$TIKI_TOKENS_MARIADB_DIR/pid")")
  if [ "$PIN" != none ]; then
    taskset -a -p -c "$PIN" "$(cat "$TIKI_TOKENS_MARIADB_DIR/pid")" >/dev/null
    pin=(taskset -c "$PIN")
    echo "server and PHP pinned to CPU $PIN"
  fi
fi
trap cleanup EXIT
echo "server: ${dsn%%@*}@${dsn#*@} (throw-away: ${started_db:-no})"

ext_args=()
if [ "$EXT" != 0 ]; then
  echo "== build the extension (release)"
  cargo build --release --features extension
  cp target/release/libtiki_tokens.so target/tiki_tokens.so
  ext_args=(-d "extension=$root/target/tiki_tokens.so")
  php "${ext_args[@]}" -r 'exit(class_exists("TikiTokens\\Store") ? 0 : 1);' ||
    { echo "the built extension does not load into PHP" >&2; exit 1; }
else
  IMPLS="$(tr ',' '\n' <<<"$IMPLS" | grep -v '^ext-\|^side-by-side$' | paste -sd, -)"
fi

# A record of the conditions: the machine is shared, so say how busy it was.
{
  echo "{\"started\":\"$(date -u +%FT%TZ)\",\"nproc\":$(nproc),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "\"php\":\"$(php -r 'echo PHP_VERSION;')\",\"server\":\"$(php -r 'require $argv[1]; echo bench_pdo($argv[2], null)->query("SELECT VERSION()")->fetchColumn();' "$here/lib.php" "$dsn")\","
  echo "\"own_server\":${started_db:-0},\"sizes\":\"$SIZES\",\"engines\":\"$ENGINES\",\"tables\":\"$TABLES\",\"iterations\":$ITERATIONS,\"pin\":\"${pin[*]:-none}\",\"budget\":$BUDGET,\"min\":$MIN}"
} | tr -d '\n' >"$out/run.json"
echo >>"$out/run.json"
: >"$out/results.jsonl"
: >"$out/fills.jsonl"

# One run of bench.php: one PHP process, one implementation.
bench() { # impl iterations budget round
  local impl="$1" iters="$2" budget="$3" round="$4" args=()
  case "$impl" in ext-*|side-by-side) args=("${ext_args[@]}") ;; esac
  printf '%-28s r%-2s ' "$impl" "$round"
  "${pin[@]}" php "${args[@]}" "$here/bench.php" --dsn="$dsn" --impl="$impl" --iterations="$iters" \
    --budget="$budget" --min="$MIN" --size="$size" --engine="$engine" --table="$table" --round="$round" \
    --samples="$out/samples/$size-$engine-$table-$impl-$round.txt" "${server_pid[@]}" | tee -a "$out/results.jsonl" |
    php -r 'foreach (file("php://stdin", FILE_SKIP_EMPTY_LINES) as $line) { $r = json_decode($line, true);
      if ($r["impl"] !== $argv[1]) { printf("\n  %-35s", $r["impl"]); } // side-by-side: one line per member
      printf("%6d calls  %9.1f /s  p50 %9.1f us  p99 %9.1f us  %s queries/call  load %s", $r["n"], $r["ops_per_s"],
        $r["p50_us"], $r["p99_us"], $r["per_op"]["Questions"], $r["load1"]); } echo "\n";' "$impl"
}

# The indexed implementations run in ROUNDS short rounds, in alternating order (the machine's
# load drifts; each implementation gets its share of quiet and busy moments), and the report
# pools their samples. Tiki 24's lookups (table scans; they delete the expired rows) run once,
# last, on each table.
rm -rf "$out/samples"; mkdir -p "$out/samples"
ROUNDS="${ROUNDS:-4}"
# Which implementations run on a table: Tiki 24's algorithm computes MD5 tokens (its own table
# only); the secret from Tiki's preferences exists on trunk's table only.
runs_on() { # impl table
  case "$1:$2" in tiki24-*:trunk|*-prefs:tiki24) return 1 ;; esac
}
per_round=$(( (ITERATIONS + ROUNDS - 1) / ROUNDS ))
budget_round=$(php -r "echo max(1, $BUDGET / $ROUNDS);")
t0=$SECONDS
for size in ${SIZES//,/ }; do
  for engine in ${ENGINES//,/ }; do
    for table in ${TABLES//,/ }; do
      rounds_impls=(); last_impls=()
      for impl in ${IMPLS//,/ }; do
        runs_on "$impl" "$table" || continue
        case "$impl" in tiki24-unlimited|tiki24-limited) last_impls+=("$impl") ;; *) rounds_impls+=("$impl") ;; esac
      done
      echo "== $size rows, $engine, $table table: fill"
      "${pin[@]}" php "$here/fill.php" "$dsn" "$size" "$engine" "$table" | tee -a "$out/fills.jsonl"
      for round in $(seq 1 "$ROUNDS"); do
        order=("${rounds_impls[@]}")
        if [ $((round % 2)) = 0 ]; then
          order=(); for ((i=${#rounds_impls[@]}-1; i>=0; i--)); do order+=("${rounds_impls[$i]}"); done
        fi
        for impl in "${order[@]}"; do
          iters="$per_round"
          case "$impl" in *-create*) iters=$((per_round / 4)) ;; esac
          bench "$impl" "$iters" "$budget_round" "$round"
        done
      done
      for impl in "${last_impls[@]}"; do
        bench "$impl" "$ITERATIONS" "$BUDGET" 1
      done
    done
  done
done
echo "== done in $((SECONDS - t0)) s"

php "$here/report.php" "$out"
