#!/usr/bin/env bash
# The end-to-end benchmark: token lookups through real PHP against a real MariaDB, for the
# extension, a hand-written floor, and Tiki 24's own algorithm. One command:
#
#   benches/e2e/run.sh
#
# It installs what it needs when missing (php8.2-mysql for PDO, gnuplot-nox for the plot; apt-get,
# as root or with sudo), starts a throw-away MariaDB under target/mariadb-bench (stopped at the end)
# unless TIKI_TOKENS_BENCH_DSN names a server, builds the extension (release), and for each table
# size and engine fills Tiki 24's tiki_auth_tokens with realistic rows, then runs one long-lived
# PHP process per implementation. Results: a table on stdout, target/bench-e2e/results.csv and
# target/bench-e2e/latency.png. See benches/e2e/README.md for what each number means.
#
# Environment:
#   SIZES=1000,100000,1000000   table sizes (rows)
#   ENGINES=MyISAM,InnoDB       storage engines
#   QUICK=1                     a short development run (2,000 calls, 2 s per implementation)
#   ITERATIONS=20000            calls per implementation (lookups; creates get a quarter)
#   BUDGET=10                   seconds per implementation at most (but at least MIN calls)
#   MIN=20                      calls per implementation at least (Tiki 24 at 1M rows: a scan each)
#   IMPLS=...                   only these implementations (comma-separated; see bench.php)
#   EXT=0                       skip the extension (build and rows): the PHP-only rows
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
if [ "${QUICK:-0}" = 1 ]; then
  ITERATIONS="${ITERATIONS:-2000}"; BUDGET="${BUDGET:-2}"; MIN="${MIN:-5}"
fi
ITERATIONS="${ITERATIONS:-20000}"
BUDGET="${BUDGET:-10}"
MIN="${MIN:-20}"
EXT="${EXT:-1}"
all_impls="floor-select,ext-native-unlimited,ext-unlimited,ext-unknown,floor-select-update,ext-native-limited,ext-limited,ext-malformed,ext-create,tiki24-create,tiki24-unlimited,tiki24-limited"
IMPLS="${IMPLS:-$all_impls}"

echo "== packages"
need=()
php -m | grep -qx pdo_mysql || need+=(php8.2-mysql)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

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
  IMPLS="$(tr ',' '\n' <<<"$IMPLS" | grep -v '^ext-' | paste -sd, -)"
fi

# A record of the conditions: the machine is shared, so say how busy it was.
{
  echo "{\"started\":\"$(date -u +%FT%TZ)\",\"nproc\":$(nproc),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
  echo "\"php\":\"$(php -r 'echo PHP_VERSION;')\",\"server\":\"$(php -r 'require $argv[1]; echo bench_pdo($argv[2], null)->query("SELECT VERSION()")->fetchColumn();' "$here/lib.php" "$dsn")\","
  echo "\"own_server\":${started_db:-0},\"sizes\":\"$SIZES\",\"engines\":\"$ENGINES\",\"iterations\":$ITERATIONS,\"budget\":$BUDGET,\"min\":$MIN}"
} | tr -d '\n' >"$out/run.json"
echo >>"$out/run.json"
: >"$out/results.jsonl"
: >"$out/fills.jsonl"

t0=$SECONDS
for size in ${SIZES//,/ }; do
  for engine in ${ENGINES//,/ }; do
    echo "== $size rows, $engine: fill"
    php "$here/fill.php" "$dsn" "$size" "$engine" | tee -a "$out/fills.jsonl"
    for impl in ${IMPLS//,/ }; do
      iters="$ITERATIONS"
      case "$impl" in *-create) iters=$((ITERATIONS / 4)) ;; esac
      args=()
      case "$impl" in ext-*) args=("${ext_args[@]}") ;; esac
      printf '%-22s ' "$impl"
      php "${args[@]}" "$here/bench.php" --dsn="$dsn" --impl="$impl" --iterations="$iters" \
        --budget="$BUDGET" --min="$MIN" --size="$size" --engine="$engine" | tee -a "$out/results.jsonl" |
        php -r '$r = json_decode(stream_get_contents(STDIN), true);
          printf("%6d calls  %9.1f /s  p50 %9.1f us  p99 %9.1f us  %s queries/call\n",
            $r["n"], $r["ops_per_s"], $r["p50_us"], $r["p99_us"], $r["per_op"]["Questions"]);'
    done
  done
done
echo "== done in $((SECONDS - t0)) s"

php "$here/report.php" "$out"
