#!/usr/bin/env bash
# Soak and leak check of the extension (not part of scripts/test.sh: it takes minutes).
#
#   scripts/soak.sh [LOOKUPS] [CREATES]      # default 1000000 and 100000
#
# 1. One PHP process does LOOKUPS lookups (grants, denials of every cheap kind) and CREATES
#    creates against a throw-away MariaDB of its own, printing its RSS every 50,000 operations:
#    the curve must flatten (a leak grows it linearly).
# 2. valgrind (if installed) runs php/tests/native_api.php with USE_ZEND_ALLOC=0 and pcre.jit=0
#    (JIT code has no symbols and trips "uninitialised value" reports) and prints the
#    leak summary.
# Needs target/tiki_tokens.so (see scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/lib/db.sh
ext="$root/target/tiki_tokens.so"
[ -f "$ext" ] || { echo "build first: cargo build --release --features extension && cp target/release/libtiki_tokens.so target/tiki_tokens.so" >&2; exit 1; }
lookups="${1:-1000000}"
creates="${2:-100000}"
export TIKI_TOKENS_MARIADB_DIR="$root/target/mariadb-soak"
dsn="$(scripts/mariadb.sh start)"
trap 'scripts/mariadb.sh stop >/dev/null || true' EXIT
db="soak_$$"
db_client "$TIKI_TOKENS_MARIADB_DIR" -e "CREATE DATABASE $db"
dsn="${dsn/tiki_tokens_test/$db}"
db_client "$TIKI_TOKENS_MARIADB_DIR" "$db" < tests/data/trunk.sql

echo "== soak: $lookups lookups, $creates creates, RSS every 50000 operations"
php -n -d extension="$ext" -d memory_limit=1G -r '
$store = new TikiTokens\Store($argv[1], ["maxHits" => 1000000000]);
$lookups = (int) $argv[2]; $creates = (int) $argv[3];
$rss = static function () {
    preg_match("/VmRSS:\s+(\d+)/", file_get_contents("/proc/self/status"), $m);
    return (int) $m[1];
};
$unlimited = $store->create("tiki-index.php", ["page" => "Soak"], ["Registered"], ["hits" => -1, "timeout" => -1])["token"];
$limited = $store->create("tiki-index.php", [], ["Registered"], ["hits" => 1000000000, "timeout" => -1])["token"];
$total = $lookups + $creates; $every = max(1, intdiv($total, $creates ?: 1)); $c = 0; $l = 0;
$start = microtime(true); $first = null;
for ($op = 1; $op <= $total; $op++) {
    if ($c < $creates && $op % $every === 0) {
        $store->create("tiki-index.php", ["n" => (string) $op], ["G"], ["hits" => 1, "timeout" => 60]);
        if (++$c % 20000 === 0) {
            $store->purge(100000);
        }
    } else {
        switch ($op % 5) {
            case 0: $r = $store->lookup($unlimited, "tiki-index.php", ["page" => "Soak"]); break;
            case 1: $r = $store->lookup($limited, "tiki-index.php", []); break;
            case 2: $r = $store->lookup($unlimited, "tiki-index.php", ["page" => "Other"]); break;
            case 3: $r = $store->lookup(str_repeat("ab", 32), "tiki-index.php", []); break;
            default: $r = $store->lookup("not a token", "x.php", ["a" => ["b" => "c"]]);
        }
        $l++;
    }
    if ($op % 50000 === 0) {
        $now = $rss(); $first ??= $now;
        printf("%8d ops (%7d lookups, %6d creates) RSS %6d KiB (%+d) %.0f ops/s\n", $op, $l, $c, $now, $now - $first, $op / (microtime(true) - $start));
    }
}
' "$dsn" "$lookups" "$creates"

if command -v valgrind >/dev/null; then
  echo "== valgrind: php/tests/native_api.php (USE_ZEND_ALLOC=0)"
  vdb="valgrind_$$"
  db_client "$TIKI_TOKENS_MARIADB_DIR" -e "CREATE DATABASE $vdb"
  vdsn="${dsn/$db/$vdb}"
  USE_ZEND_ALLOC=0 TIKI_TOKENS_TEST_DB="$vdsn" TIKI_TOKENS_REPO="$root" \
    valgrind --leak-check=full --log-file="$root/target/valgrind.log" \
    php -n -d extension="$ext" -d pcre.jit=0 -d zend.assertions=1 -d assert.exception=1 -d "tiki_tokens.dsn=\"$vdsn\"" \
    php/tests/native_api.php | tail -1
  grep -E "==[0-9]+== +(definitely lost|indirectly lost|possibly lost|still reachable):|ERROR SUMMARY" "$root/target/valgrind.log"
  # "Possibly lost" and "still reachable" blocks are the per-process store registry (at most 16
  # configurations, src/php/registry.rs) and its pooled connections, alive until exit by design.
  echo "(definitely + indirectly lost must be 0; possibly lost / still reachable: the process-wide pools, kept on purpose)"
  echo "(full log: target/valgrind.log; stacks with tiki_tokens in them:)"
  grep -c "tiki_tokens" "$root/target/valgrind.log" || true
else
  echo "== valgrind is not installed: skipped (apt-get install valgrind)"
fi
