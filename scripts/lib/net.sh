# Sourced: network helpers of the scripts.

# Prints a free TCP port on 127.0.0.1 (the kernel's choice). PHP asks: every script needs PHP
# anyway (python3 is not installed by scripts/bootstrap.sh).
free_port() {
  php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'
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
