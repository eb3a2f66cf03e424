# Sourced: the client of a throw-away MariaDB of scripts/mariadb.sh.

# db_client DIR [ARGS…]: the mariadb client as root over TCP to the server whose directory is DIR
# (its port in DIR/port), with ARGS (e.g. -N -B, a database, -e SQL).
db_client() {
  local dir="$1"; shift
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$(cat "$dir/port")" "$@"
}
