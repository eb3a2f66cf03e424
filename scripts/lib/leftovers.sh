# Sourced: finds the processes a test run left behind.
#
# The Rust harness (testkit/src/procs.rs) starts every process with TIKI_TOKENS_TEST_RUN=<run id>
# in its environment and every server with its working directory under
# target/test-servers/<run id>/ (nginx and PHP-FPM overwrite their environment area with their
# process titles, so /proc/<pid>/environ alone would miss them).

# leftovers RUN_ID ROOT: prints "pid command" for every live process of run RUN_ID (repository
# ROOT; the servers' files under $TIKI_TOKENS_SERVERS_DIR when set), kills them, and returns
# non-zero when there was any.
leftovers() {
  local run="$1" root="$2" dir pid cwd found=()
  local servers="${TIKI_TOKENS_SERVERS_DIR:-$root/target/test-servers}/$run"
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    [ "$pid" = "$$" ] && continue
    # A zombie has finished: only its parent's bookkeeping is left.
    [ "$(sed 's/.*) //' "$dir/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] && continue
    cwd="$(readlink "$dir/cwd" 2>/dev/null || true)"
    if { [ -n "$cwd" ] && [[ "$cwd" == "$servers"* ]]; } ||
      { tr '\0' '\n' <"$dir/environ"; } 2>/dev/null | grep -qxF "TIKI_TOKENS_TEST_RUN=$run"; then
      found+=("$pid")
    fi
  done
  [ "${#found[@]}" = 0 ] && return 0
  echo "these processes of test run $run are still alive:" >&2
  for pid in "${found[@]}"; do
    printf '  %s %s\n' "$pid" "$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" >&2
  done
  kill -KILL "${found[@]}" 2>/dev/null || true
  echo "(killed them)" >&2
  return 1
}
