#!/usr/bin/env bash
# The Galera probe of issue 13: the cluster test (tests/galera.rs) in full, with every number it
# measures, on a 3-node MariaDB Galera cluster on loopback (scripts/galera.sh, under
# target/galera/). It is a test: it exits non-zero when a property fails. One command:
#
#   scripts/galera_probe.sh
#
# What it runs (about 5 minutes on 2 cores; everything it starts is stopped at the end):
#  1. installs what is missing (scripts/bootstrap.sh --galera: galera-4, rsync, …) and builds the
#     extension (cargo build --release --features extension) unless TIKI_TOKENS_EXT names a
#     built one;
#  2. the properties of issue 13, item 5 (every test of tests/galera.rs, as the test command runs
#     them, with the extension's default causal_reads = auto and the servers' default
#     wsrep_sync_wait = 0; 24 PHP processes, 8 per node, io_timeout 2 s): exactly N grants for
#     N = 1, 5, 50 (5 runs each); no denial while hits were left; a token deleted through node 1
#     never granted afterwards by nodes 2 and 3 (30 deletes: unlimited and limited tokens, with
#     and without write load on node 1); kill -9 of a node during load (single-host DSNs
#     measured, then the multi-host DSN asserted); a paused node (4 pauses): no grant of a token
#     revoked meanwhile, denials within io_timeout; the cluster state in phpinfo/schemeInfo;
#  3. the stale-read tests again with causal_reads = off, to show what causal reads prevent: a
#     measurement, expected to fail (wrong grants after a delete), not counted in the exit code;
#  4. p50/p90/p99 lookup latency of one PHP process: a standalone MariaDB (scripts/mariadb.sh) and
#     Galera node 1 with causal_reads = off and auto (wsrep_sync_wait = 0 and 1), an unlimited
#     token (SELECT only) and a limited one (SELECT + UPDATE).
# The logs go to target/galera-probe/; the summary at the end lists the measured lines.
#
# Environment: TIKI_TOKENS_EXT (a built extension), and the knobs of tests/galera.rs
# (TIKI_TOKENS_GALERA_IO_TIMEOUT, _ROUNDS, _TRIALS, _PAUSES, _BENCH).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/target/galera-probe"
mkdir -p "$out"

scripts/bootstrap.sh --galera || exit 1
if [ -z "${TIKI_TOKENS_EXT:-}" ]; then
  echo "== build the extension (release)"
  nice cargo build --release --features extension || exit 1
  cp target/release/libtiki_tokens.so target/tiki_tokens.so
  export TIKI_TOKENS_EXT="$root/target/tiki_tokens.so"
fi
# The tests stop their cluster and servers themselves; this is for an interrupted run.
trap 'scripts/galera.sh stop >/dev/null 2>&1 || true' EXIT

status=0
run() { # name, expected (pass|measure), then the arguments of the test binary
  local name="$1" expected="$2"; shift 2
  nice cargo test --release --test galera -- --include-ignored --nocapture --test-threads=1 "$@" \
    2>&1 | tee "$out/$name.log"
  local rc="${PIPESTATUS[0]}"
  # A filter that matches no test must not pass as "all properties hold".
  if grep -q "^running 0 tests" "$out/$name.log"; then
    status=1; echo "== $name: no test matched $*"
  elif [ "$expected" = pass ] && [ "$rc" != 0 ]; then
    status=1; echo "== $name: FAILED (exit $rc)"
  elif [ "$expected" = measure ]; then
    echo "== $name: exit $rc (a measurement: not counted)"
  fi
}

echo "== 2. the properties of issue 13, item 5 (causal_reads = auto, wsrep_sync_wait = 0 on the servers)"
run properties pass --skip probe
echo "== 3. the stale-read tests with causal_reads = off (a measurement: expected to find wrong grants)"
TIKI_TOKENS_GALERA_CAUSAL_READS=off run causal_reads_off measure \
  deleted_token_never_granted paused_node_never_grants
echo "== 4. lookup latency: standalone MariaDB vs Galera, causal reads off and on"
run latency pass probe_lookup_latency

echo
echo "== summary (logs in $out/)"
for name in properties causal_reads_off latency; do
  echo "-- $name"
  # (libtest prints a test's name and " ... " before what the test prints)
  sed -E 's/^test [a-z_0-9]+ \.\.\. //' "$out/$name.log" |
    grep -E "^(galera: |exact N|delete: |kill -9|pause [0-9]|latency: [A-Za-z]|test result|    [a-z_0-9]+$)" |
    cut -c1-700
done
[ "$status" = 0 ] && echo "== all properties hold" || echo "== some properties fail (see above)"
exit "$status"
