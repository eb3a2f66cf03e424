#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while, on stable Rust, without a sanitizer.
#
#   scripts/fuzz.sh TARGET SECONDS        (targets: cd fuzz && cargo fuzz list)
#
# The committed seeds (fuzz/seeds/TARGET) are copied into a scratch corpus (fuzz/corpus/TARGET,
# git-ignored) so that the inputs libFuzzer adds never pollute them. Exits non-zero when the
# target crashes (the input is left in fuzz/artifacts/TARGET/). Prints the number of executions.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${1:?usage: scripts/fuzz.sh TARGET SECONDS}"
seconds="${2:?usage: scripts/fuzz.sh TARGET SECONDS}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
[ -d "fuzz/seeds/$target" ] || { echo "no seeds for fuzz target '$target'" >&2; exit 2; }

corpus="$root/fuzz/corpus/$target"
mkdir -p "$corpus" "$root/fuzz/artifacts/$target"
cp -n "fuzz/seeds/$target"/* "$corpus"/

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# -s none: no sanitizer, so stable Rust works; -max_len: the 64 KiB bound of a query.
set +e
(cd fuzz && cargo fuzz run -s none "$target" "$corpus" -- \
  -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$root/fuzz/artifacts/$target/") >"$log" 2>&1
status=$?
set -e
grep -E '^(==[0-9]+==|stat::|Done|INFO: seed corpus|.*(panicked|SUMMARY|Test unit written))' "$log" || true
# Coverage at the start (seeds loaded) and at the end: edges (cov), features (ft), corpus size.
grep -E '^#[0-9]+[[:space:]]+INITED' "$log" | head -1 || true
grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -1 || true
execs="$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' | tail -1)"
echo "fuzz $target: ${execs:-?} executions in ${seconds}s, exit status $status"
if [ "$status" != 0 ]; then
  tail -40 "$log"
  exit "$status"
fi
