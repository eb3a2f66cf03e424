#!/usr/bin/env bash
# Load test of the extension in PHP-FPM behind nginx (Debian's php8.2-fpm and nginx, started
# here under target/fpm-load/, never the system services), wrk on loopback sending a mix of
# valid, invalid and garbage tokens, then floods. A test: it exits non-zero when a check fails.
#
#   scripts/fpm_load.sh
#
# What it does, what it checks and the results of past runs: benches/fpm/README.md.
# Helpers: scripts/lib/{packages,net,db,procs,web}.sh (shared), benches/fpm/lib.sh (the
# measurements), benches/fpm/mint.php (tokens, request lists), mix.lua (wrk), report.php (checks).
#
# Environment (defaults in brackets):
#   WORKERS [4]            FPM workers (pm=static)
#   THREADS [2], CONNECTIONS [32], DURATION [30]   wrk of the mixed run (seconds)
#   FLOOD_DURATION [10]    seconds of each flood (same THREADS/CONNECTIONS)
#   N_HITS [25], NHIT_CONNECTIONS [16], NHIT_DURATION [5]   the exactly-N run
#   ROWS [20000]           realistic rows in the table besides the minted ones (0 = none)
#   ENGINE [MyISAM]        MyISAM (Tiki's DDL) or InnoDB
#   PURGE_INTERVAL [10]    the purge interval of the mixed run (seconds)
#   RSS_GROWTH_MAX_KB [16384]  allowed RSS growth of a worker after the warm-up
#   NGINX_WORKERS [1]      nginx worker processes
#   POOL_MAX [DEFAULT_POOL_MAX of src/store/dsn.rs, 8]  connections a pool keeps at most (README, "The
#                          pool": at most 8 per process); the bound of one check
#   EXT_SO                 a built extension to use instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
here="$root/benches/fpm"
out="$root/target/fpm-load"

WORKERS="${WORKERS:-4}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-30}"
FLOOD_DURATION="${FLOOD_DURATION:-10}"
N_HITS="${N_HITS:-25}"
NHIT_CONNECTIONS="${NHIT_CONNECTIONS:-16}"
NHIT_DURATION="${NHIT_DURATION:-5}"
ROWS="${ROWS:-20000}"
ENGINE="${ENGINE:-MyISAM}"
PURGE_INTERVAL="${PURGE_INTERVAL:-10}"
RSS_GROWTH_MAX_KB="${RSS_GROWTH_MAX_KB:-16384}"
NGINX_WORKERS="${NGINX_WORKERS:-1}"
# The store's own default, read from its source rather than copied here.
POOL_MAX="${POOL_MAX:-$(sed -n 's/^const DEFAULT_POOL_MAX: usize = \([0-9]*\);.*/\1/p' src/store/dsn.rs)}"
[ -n "$POOL_MAX" ] || { echo "fpm_load: DEFAULT_POOL_MAX not found in src/store/dsn.rs" >&2; exit 2; }
EXT_SO="${EXT_SO:-}"
case "$ENGINE" in MyISAM|InnoDB) ;; *) echo "ENGINE must be MyISAM or InnoDB" >&2; exit 2 ;; esac

say() { printf '\n== %s\n' "$*"; }
die() { echo "fpm_load: $*" >&2; exit 1; }
for lib in packages net db procs web; do source "$root/scripts/lib/$lib.sh"; done
source "$here/lib.sh"

say "packages"
export PATH="$PATH:/usr/sbin:/sbin"
need=()
command -v php >/dev/null || need+=(php8.2-cli)
command -v php-fpm8.2 >/dev/null || need+=(php8.2-fpm)
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v curl >/dev/null || need+=(curl)
command -v ps >/dev/null || need+=(procps)
[ -n "$EXT_SO" ] || need_build_packages
install_packages "${need[@]}"
echo "php $(php -r 'echo PHP_VERSION;'), $(php-fpm8.2 -v | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(mariadbd --version | cut -d' ' -f4)"

# Everything started here is stopped on any exit.
fpm_pid=""; nginx_pid=""; sampler_pid=""; bg_pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${bg_pids[@]}" "$sampler_pid"; do stop_children "$p"; done
  stop_group "$nginx_pid" QUIT
  stop_group "$fpm_pid" QUIT
  TIKI_TOKENS_MARIADB_DIR="$out/mariadb" scripts/mariadb.sh stop >/dev/null 2>&1
  [ "$rc" = 0 ] || echo "fpm_load: FAILED (exit $rc); logs under $out" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$out"; mkdir -p "$out/fpm" "$out/nginx/tmp"

say "the extension"
if [ -n "$EXT_SO" ]; then
  [ -f "$EXT_SO" ] || die "EXT_SO=$EXT_SO does not exist"
  cp "$EXT_SO" "$out/tiki_tokens.so"
else
  cargo build --release --features extension
  cp target/release/libtiki_tokens.so "$out/tiki_tokens.so"
fi
ext="$out/tiki_tokens.so"
php -n -d "extension=$ext" -r 'exit(class_exists("TikiTokens\\Store") ? 0 : 1);' ||
  die "the extension $ext does not load into PHP"
echo "$ext (a copy; pool maximum per process assumed: $POOL_MAX)"

say "database"
export TIKI_TOKENS_MARIADB_DIR="$out/mariadb"
scripts/mariadb.sh start >/dev/null
sql() { db_client "$out/mariadb" -N -B "$@"; }
pw="$(php -r 'echo bin2hex(random_bytes(12));')"
sql -e "CREATE DATABASE tiki CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
  CREATE USER 'tiki'@'localhost' IDENTIFIED BY '$pw'; CREATE USER 'tiki'@'127.0.0.1' IDENTIFIED BY '$pw';
  GRANT ALL ON tiki.* TO 'tiki'@'localhost'; GRANT ALL ON tiki.* TO 'tiki'@'127.0.0.1';"
sed "s/ENGINE=MyISAM/ENGINE=$ENGINE/" tests/data/tiki24.sql | sql tiki
dsn="mysql://tiki:$pw@127.0.0.1:$(cat "$out/mariadb/port")/tiki"
if [ "$ROWS" -gt 0 ]; then
  # Realistic rows, the same mix as the e2e benchmark (benches/e2e/rows.sql).
  { sed -e "s/{numbers}/SELECT seq AS n FROM seq_0_to_$((ROWS - 1))/" -e "s/{rows}/$ROWS/" \
      benches/e2e/rows.sql | grep -v '^--'; echo ';'; echo 'ANALYZE TABLE tiki_auth_tokens;'; } | sql tiki
fi
echo "MariaDB on 127.0.0.1:$(cat "$out/mariadb/port"), database tiki, user tiki; tiki_auth_tokens ($ENGINE): $(sql tiki -e 'SELECT COUNT(*) FROM tiki_auth_tokens') rows"

say "tokens"
php -n -d "extension=$ext" "$here/mint.php" "$dsn" "$out" "$N_HITS"

say "php-fpm ($WORKERS workers, pm=static) and nginx"
cat >"$out/fpm/php-fpm.conf" <<CONF
[global]
pid = $out/fpm/php-fpm.pid
error_log = $out/fpm/php-fpm.log
log_level = notice
daemonize = no

[tiki]
$([ "$(id -u)" != 0 ] || printf 'user = root\ngroup = root')
listen = $out/fpm/fpm.sock
listen.mode = 0666
listen.backlog = 511
pm = static
pm.max_children = $WORKERS
pm.max_requests = 0
access.log = $out/fpm/access.log
access.format = "%{HTTP_X_KIND}e %s %{mili}d %p"
clear_env = yes
env[TIKI_TOKENS_PURGE_INTERVAL] = $PURGE_INTERVAL
catch_workers_output = yes
php_admin_value[tiki_tokens.dsn] = "$dsn"
php_admin_value[error_log] = $out/fpm/php-error.log
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
CONF
fpm_start "$out/fpm" "$ext" "$WORKERS" || die "php-fpm did not start"

port_mixed="$(free_port)"; port_flood="$(free_port)"
while [ "$port_flood" = "$port_mixed" ]; do port_flood="$(free_port)"; done
fastcgi_params "$out/nginx/fastcgi.conf"
php_location() { # extra fastcgi_param lines
  cat <<CONF
    location ~ \.php\$ {
      include $out/nginx/fastcgi.conf;
      $1
      fastcgi_pass unix:$out/fpm/fpm.sock;
      add_header X-Kind \$http_x_kind always;
    }
    location / { return 404; }
CONF
}
cat >"$out/nginx/nginx.conf" <<CONF
worker_processes $NGINX_WORKERS;
daemon off;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  default_type text/plain;
  keepalive_requests 100000;
  client_body_temp_path $out/nginx/tmp/body;
  fastcgi_temp_path $out/nginx/tmp/fastcgi;
  proxy_temp_path $out/nginx/tmp/proxy;
  uwsgi_temp_path $out/nginx/tmp/uwsgi;
  scgi_temp_path $out/nginx/tmp/scgi;
  server {  # "mixed": the purge runs as on a site (the pool's env[TIKI_TOKENS_PURGE_INTERVAL])
    listen 127.0.0.1:$port_mixed;
    root $root/php/www;
$(php_location "")
  }
  server {  # "flood": the purge disabled (a FastCGI parameter wins over the pool's env[])
    listen 127.0.0.1:$port_flood;
    root $root/php/www;
$(php_location "fastcgi_param TIKI_TOKENS_PURGE_INTERVAL 2000000000;")
  }
}
CONF
nginx_start "$out/nginx" "http://127.0.0.1:$port_flood/tiki-index.php" || die "nginx did not start"
echo "php-fpm master $fpm_pid, workers $(fpm_workers | paste -sd' '); nginx $nginx_pid on 127.0.0.1:$port_mixed (mixed) and :$port_flood (flood)"

probe "$port_flood" valid "$(first valid)" 200 granted
probe "$port_flood" invalid "$(first invalid)" 403 denied
probe "$port_flood" garbage "$(first garbage)" 403 "denied malformed"
probe "$port_flood" none "$(first none)" 200 none
echo "probes: granted, denied, malformed, none as expected"

rss idle
: >"$out/phases.tsv"
say "warm-up (3 s): every worker connects and runs its first purge"
mark warmup
run_wrk warmup "$port_mixed" "$out/mixed.tsv" "$THREADS" "$CONNECTIONS" 3
quiesce
conns=0
for _ in $(seq 1 20); do
  conns="$(tiki_connections)"
  [ "$conns" -ge "$WORKERS" ] && break
  run_wrk warmup-more "$port_mixed" "$out/mixed.tsv" "$THREADS" "$CONNECTIONS" 1 >/dev/null
  quiesce
done
echo "connections of user tiki after the warm-up: $conns (workers: $WORKERS)"
printf 'after_warmup\t%s\n' "$conns" >"$out/connections-points.tsv"
rss warm

say "mixed run ($DURATION s) with the exactly-$N_HITS run inside it"
sql -e "FLUSH STATUS"   # Max_used_connections from here on
snapshot mixed-before
mark mixed
sampler & sampler_pid=$!
run_wrk mixed "$port_mixed" "$out/mixed.tsv" "$THREADS" "$CONNECTIONS" "$DURATION" &
mixed_pid=$!; bg_pids+=("$mixed_pid")
sleep $((DURATION / 3)) & wait $!   # (wait: a signal is handled at once)
run_wrk nhit "$port_mixed" "$out/nhit.tsv" 1 "$NHIT_CONNECTIONS" "$NHIT_DURATION" &
nhit_pid=$!; bg_pids+=("$nhit_pid")
wait "$nhit_pid" || die "the exactly-N run failed"
wait "$mixed_pid" || die "the mixed run failed"
bg_pids=()
quiesce
touch "$out/sampler.stop"; wait "$sampler_pid" || true; sampler_pid=""
mark after_mixed
snapshot mixed-after
rss after_mixed
echo "connection samples: $(wc -l <"$out/connections.tsv")"

say "floods (purge disabled on this port; status read before and after each)"
quiesce
snapshot calib0; snapshot calib1; snapshot calib2
for flood in malformed unknown; do
  mark "$flood"
  snapshot "$flood-before"
  run_wrk "$flood" "$port_flood" "$out/$flood.tsv" "$THREADS" "$CONNECTIONS" "$FLOOD_DURATION"
  quiesce
  snapshot "$flood-after"
  [ "$flood" = unknown ] || rss "after_$flood"
done
mark end
printf 'after_floods\t%s\n' "$(tiki_connections)" >>"$out/connections-points.tsv"
rss end

say "after the load"
db_facts "$port_flood"
explain_lookup "$port_flood"

say "stopping nginx and php-fpm"
stop_group "$nginx_pid" QUIT; nginx_pid=""
stop_group "$fpm_pid" QUIT; fpm_pid=""

say "results"
cat >"$out/facts.tsv" <<EOF_FACTS
workers	$WORKERS
pool_max	$POOL_MAX
threads	$THREADS
connections	$CONNECTIONS
duration	$DURATION
flood_duration	$FLOOD_DURATION
n_hits	$N_HITS
nhit_connections	$NHIT_CONNECTIONS
nhit_duration	$NHIT_DURATION
rows_filled	$ROWS
engine	$ENGINE
purge_interval	$PURGE_INTERVAL
rss_growth_max_kb	$RSS_GROWTH_MAX_KB
nginx_workers	$NGINX_WORKERS
nproc	$(nproc)
loadavg	$(cut -d' ' -f1-3 /proc/loadavg)
php	$(php -r 'echo PHP_VERSION;')
mariadb	$(sql -e 'SELECT VERSION()' 2>/dev/null || mariadbd --version | cut -d' ' -f4)
opcache	$(fpm_opcache)
EOF_FACTS
php "$here/report.php" "$out"
