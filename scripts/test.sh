#!/usr/bin/env bash
# The one test command: set-up, build, and every test suite.
#
#   scripts/test.sh
#
# On a fresh Debian machine it installs what is missing (scripts/bootstrap.sh), starts a
# throw-away MariaDB of its own unless TIKI_TOKENS_TEST_DSN names a server you configured,
# builds the extension and the Debian package (scripts/package.sh), runs the Rust unit, property
# and integration tests (real MariaDB, real PHP CLI, real web servers: php -S, Apache with mod_php,
# nginx with PHP-FPM, all started by the tests under target/; the admin command `tiki-tokens`, the
# package's contents), then a short smoke run of each fuzz target.
# FUZZ_SECONDS (default 10) sets the length of each fuzz smoke run; 0 skips them.
#
# Every process the tests start carries TIKI_TOKENS_TEST_RUN=<this run's id> (servers also run
# in $TIKI_TOKENS_SERVERS_DIR/<id>/, target/test-servers/ by default); after the tests, any such process still alive fails the run
# (scripts/lib/leftovers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/lib/leftovers.sh
run_id="test-$$-$(date +%s)"

# --galera: the cluster test (tests/galera.rs) runs a 3-node MariaDB Galera cluster.
scripts/bootstrap.sh --galera

started_db=""
if [ -z "${TIKI_TOKENS_TEST_DSN:-}" ]; then
  TIKI_TOKENS_TEST_DSN="$(scripts/mariadb.sh start)"
  export TIKI_TOKENS_TEST_DSN
  started_db=1
fi
cleanup() { [ -n "$started_db" ] && scripts/mariadb.sh stop || true; }
trap cleanup EXIT
echo "== test server: ${TIKI_TOKENS_TEST_DSN%%@*}@… (throw-away: ${started_db:-no})"

# As root, Apache's and PHP-FPM's workers (www-data) and the Galera nodes (mysql) must enter every
# directory above their files; a repository under a private directory (mode 700 /root, say) gets
# those files in a directory of this run under /tmp instead.
servers_root="$root/target"
if [ "$(id -u)" = 0 ]; then
  for d in "$root/target" "$root" $(p="$root"; while [ "$p" != / ]; do p="$(dirname "$p")"; echo "$p"; done); do
    if [ -d "$d" ] && [ $(( 0$(stat -c %a "$d") & 1 )) = 0 ]; then
      servers_root="$(mktemp -d /tmp/tiki-tokens-servers.XXXXXX)"
      chmod 755 "$servers_root"
      echo "== $d is not world-executable: the tests' servers live under $servers_root"
      break
    fi
  done
fi
export TIKI_TOKENS_SERVERS_DIR="$servers_root/test-servers"
export TIKI_TOKENS_GALERA_DIR="${TIKI_TOKENS_GALERA_DIR:-$servers_root/galera}"

echo "== build the extension (release)"
cargo build --release --features extension
# A copy: a build without the feature (cargo test) writes the same target/release path.
cp target/release/libtiki_tokens.so target/tiki_tokens.so
export TIKI_TOKENS_EXT="$root/target/tiki_tokens.so"

echo "== build the Debian package (scripts/package.sh: reuses the release build, adds the admin command)"
TIKI_TOKENS_DEB="$(scripts/package.sh)"
export TIKI_TOKENS_DEB

echo "== cargo test (unit, property, integration: MariaDB, PHP CLI, php -S, Apache, nginx + PHP-FPM, admin command, package contents)"
set +e
TIKI_TOKENS_TEST_RUN="$run_id" cargo test --release --features cli --no-fail-fast -- --show-output 2>&1 | tee target/test-output.txt
tests_status="${PIPESTATUS[0]}"
set -e
grep -E '^test result:' target/test-output.txt | awk '{p+=$4; f+=$6} END {print "rust tests: " p " passed, " f " failed"}'

echo "== no process of the tests left behind (run $run_id)"
leftovers_status=0
leftovers "$run_id" "$root" || leftovers_status=1
[ "$leftovers_status" = 1 ] || echo "none"
if [ "$tests_status" != 0 ] || [ "$leftovers_status" != 0 ]; then
  echo "== FAILED: cargo test exit $tests_status, processes left behind: $leftovers_status" \
    "(server files of failing tests: $TIKI_TOKENS_SERVERS_DIR/$run_id/)" >&2
  exit 1
fi
rm -rf "$TIKI_TOKENS_SERVERS_DIR/$run_id"

fuzz_seconds="${FUZZ_SECONDS:-10}"
if [ -d fuzz ] && [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzz smoke runs (${fuzz_seconds}s each)"
  for target in $(cd fuzz && cargo fuzz list); do
    scripts/fuzz.sh "$target" "$fuzz_seconds"
  done
fi
echo "== all test suites passed"
