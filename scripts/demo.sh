#!/usr/bin/env bash
# The main job, as a newcomer's demo (about a minute):
#   builds the extension, starts a throw-away MariaDB with Tiki's table, mints a token for a
#   real-looking Tiki URL with AuthTokens::includeToken, serves it with PHP's built-in web server
#   through the same token gate Tiki's perms.php runs, and requests it: granted; a variant:
#   denied; again until its hits are used up: denied.
#
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

scripts/bootstrap.sh
say "1. Build the extension (cargo build --release --features extension)"
cargo build --release --features extension 2>&1 | tail -1
mkdir -p target/demo
cp target/release/libtiki_tokens.so target/demo/tiki_tokens.so
ext="$root/target/demo/tiki_tokens.so"
php -n -d extension="$ext" --ri tiki_tokens | sed -n '1,6p'

say "2. Start a throw-away MariaDB and create Tiki's table (Tiki 24 layout, then Tiki's own migration)"
export TIKI_TOKENS_MARIADB_DIR="$root/target/mariadb-demo"
server_dsn="$(scripts/mariadb.sh start)"
port_db="$(cat "$TIKI_TOKENS_MARIADB_DIR/port")"
trap 'kill "${web_pid:-0}" 2>/dev/null || true; scripts/mariadb.sh stop' EXIT
mariadb --no-defaults -uroot -h127.0.0.1 -P"$port_db" -e 'DROP DATABASE IF EXISTS tiki_demo; CREATE DATABASE tiki_demo'
mariadb --no-defaults -uroot -h127.0.0.1 -P"$port_db" tiki_demo < tests/data/tiki24.sql
dsn="mysql://root@127.0.0.1:$port_db/tiki_demo?prefer_socket=false"
echo "database: ${dsn}"
php -n -d extension="$ext" -r '
  $store = new TikiTokens\Store($argv[1]);
  $info = $store->schemeInfo();
  echo "before migration: new tokens would be ", $info["minting"], ($info["needsMigration"] ? " (table needs the migration)" : ""), "\n";
  $store->migrate();
  $info = $store->schemeInfo();
  echo "after migration:  new tokens are ", $info["minting"], "\n";' "$dsn"

say "3. Serve the site with PHP's built-in web server (php -S) and the extension loaded"
web_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
TIKI_TOKENS_GATE_DEBUG=1 php -n -d extension="$ext" -d "tiki_tokens.dsn=\"$dsn\"" -S "127.0.0.1:$web_port" -t php/www \
  >target/demo/web.log 2>&1 &
web_pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$web_port/tiki-index.php" && break; sleep 0.1; done
echo "http://127.0.0.1:$web_port/ serves php/www (token_gate.php does what Tiki's perms.php does)"

say "4. Mint a token for a tracker export URL (2 hits, 1 hour) with AuthTokens::includeToken"
base="http://127.0.0.1:$web_port/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[]=2&listfields[]=3"
echo "URL given:  $base"
url="$(php -n -d extension="$ext" -r '
  require "php/AuthTokens.php";
  $lib = new AuthTokens($argv[1], ["maxHits" => 10, "maxTimeout" => 604800]);
  echo $lib->includeToken($argv[2], ["Registered"], "demo@example.com", 3600, 2);' "$dsn" "$base")"
echo "URL minted: $url"

request() {
  local what="$1" u="$2"
  local body; body="$(curl -s -g -D target/demo/headers "$u")"
  local result; result="$(grep -i '^X-Token-Result:' target/demo/headers | cut -d' ' -f2- | tr -d '\r')"
  printf '  %-44s -> %s\n' "$what" "$result"
  printf '  %-44s    page says: %s\n' "" "$(echo "$body" | head -1)"
}

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
grep -o 'tiki-tokens: denied.*' target/demo/web.log || true
