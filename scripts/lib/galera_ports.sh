# Sourced by scripts/galera.sh: free loopback TCP ports.
#
# (A shared free-port helper for every script is being written on another branch; until it is
# merged, the Galera cluster keeps its own here. Replace it by the shared one then.)

# Prints COUNT distinct TCP ports that are free on 127.0.0.1 right now, one per line. All of them
# are bound at once before any is released, so they are distinct; another program may still take
# one before the caller does (the caller's start then fails with "address in use" in its log).
galera_free_ports() {
  local count="$1"
  python3 - "$count" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
for s in socks:
    s.close()
PY
}
