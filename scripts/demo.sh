#!/usr/bin/env bash
# The main job, as a newcomer's demo (about a minute):
#   builds the extension, starts a throw-away MariaDB with Tiki's table, mints a token for a
#   real-looking Tiki URL with AuthTokens::includeToken, serves it with PHP's built-in web server
#   through the same token gate Tiki's perms.php runs, and requests it: granted; a variant:
#   denied; again until its hits are used up: denied.
#
#   scripts/demo.sh
#
# Everything lives under DEMO_DIR (default target/demo): the extension's copy, the MariaDB, the
# web server's log. On any exit, success or failure, the web server (its whole process group)
# and the MariaDB are stopped; a failing step prints its error and the demo exits non-zero.
#
# Environment:
#   TIKI_TOKENS_EXT=<path>  use this built extension instead of building one (the test of this
#                           script uses it: a cargo build inside cargo test waits on the lock)
#   DEMO_DIR=<dir>          where its files live (default target/demo)
#   DEMO_FAIL_AT=<step>     make step <step> fail once its work is done (extension, database,
#                           migrate, web, mint, requests): tests/scripts.rs checks that a failing
#                           demo cleans up and leaves its caller alone
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/lib/net.sh
source scripts/lib/db.sh
source scripts/lib/procs.sh
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

out="${DEMO_DIR:-$root/target/demo}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
step=""
web_pid=""
db_dir=""
cleanup() {
  local rc=$?
  set +e
  stop_group "$web_pid"
  [ -z "$db_dir" ] || TIKI_TOKENS_MARIADB_DIR="$db_dir" scripts/mariadb.sh stop
  [ "$rc" = 0 ] || echo "demo: FAILED in step '$step' (exit $rc); files in $out" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Marks the work of step $1 done; fails it when DEMO_FAIL_AT names it.
done_step() {
  if [ "${DEMO_FAIL_AT:-}" = "$1" ]; then
    echo "demo: step '$1' fails on purpose (DEMO_FAIL_AT=$1)" >&2
    return 1
  fi
}

mkdir -p "$out"
scripts/bootstrap.sh
ext="$out/tiki_tokens.so"
step=extension
if [ -n "${TIKI_TOKENS_EXT:-}" ]; then
  say "1. The extension: $TIKI_TOKENS_EXT (TIKI_TOKENS_EXT; not built here)"
  cp "$TIKI_TOKENS_EXT" "$ext"
else
  say "1. Build the extension (cargo build --release --features extension)"
  if ! cargo build --release --features extension >"$out/build.log" 2>&1; then
    cat "$out/build.log" >&2
    exit 1
  fi
  tail -1 "$out/build.log"
  cp target/release/libtiki_tokens.so "$ext"
fi
php -n -d extension="$ext" --ri tiki_tokens | sed -n '1,6p'
done_step extension

step=database
say "2. Start a throw-away MariaDB and create Tiki's table (Tiki 24 layout, then Tiki's own migration)"
db_dir="$out/mariadb"
TIKI_TOKENS_MARIADB_DIR="$db_dir" scripts/mariadb.sh start >/dev/null
db_client "$db_dir" -e 'DROP DATABASE IF EXISTS tiki_demo; CREATE DATABASE tiki_demo'
db_client "$db_dir" tiki_demo < tests/data/tiki24.sql
dsn="mysql://root@127.0.0.1:$(cat "$db_dir/port")/tiki_demo?prefer_socket=false"
echo "database: ${dsn}"
done_step database

step=migrate
php -n -d extension="$ext" -r '
  $store = new TikiTokens\Store($argv[1]);
  $info = $store->schemeInfo();
  echo "before migration: new tokens would be ", $info["minting"], ($info["needsMigration"] ? " (table needs the migration)" : ""), "\n";
  $store->migrate();
  $info = $store->schemeInfo();
  echo "after migration:  new tokens are ", $info["minting"], "\n";' "$dsn"
done_step migrate

step=web
say "3. Serve the site with PHP's built-in web server (php -S) and the extension loaded"
web_port="$(free_port)"
start_group web_pid "$out/web.log" \
  env TIKI_TOKENS_GATE_DEBUG=1 php -n -d extension="$ext" -d "tiki_tokens.dsn=\"$dsn\"" -S "127.0.0.1:$web_port" -t php/www
if ! wait_http "http://127.0.0.1:$web_port/tiki-index.php" 50; then
  cat "$out/web.log" >&2
  echo "demo: php -S did not answer on port $web_port" >&2
  exit 1
fi
echo "http://127.0.0.1:$web_port/ serves php/www (token_gate.php does what Tiki's perms.php does)"
done_step web

step=mint
say "4. Mint a token for a tracker export URL (2 hits, 1 hour) with AuthTokens::includeToken"
base="http://127.0.0.1:$web_port/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[]=2&listfields[]=3"
echo "URL given:  $base"
url="$(php -n -d extension="$ext" -r '
  require "php/AuthTokens.php";
  $lib = new AuthTokens($argv[1], ["maxHits" => 10, "maxTimeout" => 604800]);
  echo $lib->includeToken($argv[2], ["Registered"], "demo@example.com", 3600, 2);' "$dsn" "$base")"
echo "URL minted: $url"
done_step mint

request() {
  local what="$1" u="$2"
  local body; body="$(curl -s -g -D "$out/headers" "$u")"
  local result; result="$(grep -i '^X-Token-Result:' "$out/headers" | cut -d' ' -f2- | tr -d '\r')"
  printf '  %-44s -> %s\n' "$what" "$result"
  printf '  %-44s    page says: %s\n' "" "$(echo "$body" | head -1)"
}

step=requests
say "5. Request it"
request "the minted URL (hit 1 of 2)" "$url"
say "6. Request variants"
request "trackerId=4 instead of 3" "${url/trackerId=3/trackerId=4}"
request "trackerId=03 (PHP's == would say equal)" "${url/trackerId=3/trackerId=03}"
request "a parameter added" "${url/\&TOKEN=/\&extra=1\&TOKEN=}"
request "listfields in another order" "${url/listfields%5B0%5D=2&listfields%5B1%5D=3/listfields%5B0%5D=3&listfields%5B1%5D=2}"
request "another script" "${url/tiki-ajax_services.php/tiki-index.php}"
say "7. Use up its hits"
request "the minted URL (hit 2 of 2)" "$url"
request "the minted URL (no hits left)" "$url"

say "What the server logged (denial reasons are for logs only; visitors see one message):"
grep -o 'tiki-tokens: denied.*' "$out/web.log" || true
done_step requests
