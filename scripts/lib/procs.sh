# Sourced: servers started by the scripts run in a process group of their own and are stopped
# as a whole group (workers they fork included), never with `kill 0` or an empty pid.
# Needs ps (procps; scripts/bootstrap.sh installs it).

# start_group VAR LOG COMMAND [ARGS…]: starts COMMAND in a new session (setsid: it leads its own
# process group), stdin from /dev/null, stdout and stderr to LOG; sets the variable VAR to its
# pid, which is also its process-group id.
start_group() {
  local var="$1" log="$2"; shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  printf -v "$var" '%s' "$!"
}

# group_alive PGID: true while a live (not zombie) process of group PGID exists.
group_alive() {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# stop_group PGID [SIGNAL]: sends SIGNAL (default TERM) to the whole group PGID, waits up to 5 s,
# then sends KILL to what is left and waits again. Does nothing for an empty or invalid PGID,
# so an unset variable can never become `kill 0` (the caller's own group).
stop_group() {
  local pgid="${1:-}" sig="${2:-TERM}"
  [[ "$pgid" =~ ^[0-9]+$ ]] && [ "$pgid" -gt 1 ] || return 0
  group_alive "$pgid" || return 0
  kill -"$sig" -- "-$pgid" 2>/dev/null || true
  for _ in $(seq 1 50); do group_alive "$pgid" || return 0; sleep 0.1; done
  kill -KILL -- "-$pgid" 2>/dev/null || true
  for _ in $(seq 1 50); do group_alive "$pgid" || return 0; sleep 0.1; done
  echo "process group $pgid survived SIGKILL" >&2
  return 1
}

# group_members PGID: the pids of the live processes of group PGID, one a line.
group_members() {
  ps -e -o pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# stop_children PID: stops a background subshell of this script and the commands it runs (its
# direct children, e.g. wrk), for jobs that share the script's process group.
stop_children() {
  local pid="${1:-}"
  [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || return 0
  pkill -P "$pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
}
