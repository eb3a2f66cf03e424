# Sourced: network helpers of the scripts.

# Prints a free TCP port on 127.0.0.1 (the kernel's choice). PHP asks: every script needs PHP
# anyway (python3 is not installed by scripts/bootstrap.sh).
free_port() {
  php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'
}

# free_ports COUNT: COUNT distinct TCP ports free on 127.0.0.1 right now, one per line. All are
# bound at once before any is released, so they are distinct; another program may still take one
# before the caller does (the caller's start then fails with "address in use" in its log).
free_ports() {
  php -n -r '$n = (int) $argv[1]; $socks = [];
    for ($i = 0; $i < $n; $i++) { $socks[] = stream_socket_server("tcp://127.0.0.1:0"); }
    foreach ($socks as $s) { echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1), "\n"; }' "$1"
}

# wait_http URL [TRIES]: waits until URL answers (any HTTP status), 0.1 s between tries
# (default 100); non-zero when it never did.
wait_http() {
  local tries="${2:-100}"
  for _ in $(seq 1 "$tries"); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}
