#!/usr/bin/env bash
# Load test of the extension in PHP-FPM behind nginx: Debian's php8.2-fpm with the extension
# loaded, a pool of a fixed number of workers, nginx in front (FastCGI over a unix socket), wrk on
# loopback sending a mix of valid, invalid and garbage tokens. It is a test: it exits non-zero when
# a check fails. One command:
#
#   scripts/fpm_load.sh
#
# What it does (everything lives under target/fpm-load/ and is stopped at the end, on any exit):
#  1. installs what is missing (php8.2-cli, php8.2-fpm, nginx, wrk, mariadb-server/-client, curl,
#     and for the build php8.2-dev and libclang; apt-get, as root or with sudo; on Debian, installing
#     nginx and php8.2-fpm also starts their system services, which this script never uses), builds
#     the extension (cargo build --release --features extension; Rust must be installed) unless
#     EXT_SO names a built one, starts a throw-away MariaDB under
#     target/fpm-load/mariadb, creates Tiki 24's tables (tests/data/tiki24.sql) in a database
#     `tiki` with a user `tiki`, and fills tiki_auth_tokens with ROWS realistic rows;
#  2. mints tokens with AuthTokens::includeToken (PHP CLI, same DSN): unlimited ones, ones with
#     10^9 hits, one with exactly N_HITS hits (benches/fpm/mint.php writes the request lists);
#  3. starts its own php-fpm (php-fpm8.2 -F -n -y <own conf>: never /etc/php, never the system
#     service) with pm=static and WORKERS workers, the extension via -d extension=, the DSN via
#     php_admin_value[tiki_tokens.dsn], and its own nginx (-p/-c under target/fpm-load/nginx) on
#     two free loopback ports, document root php/www (token_gate.php: 200 + "X-Token-Result:
#     granted", 403 + "denied <reason>", 200 + "none" without a token). Port "mixed" runs the
#     purge as a site would (env[TIKI_TOKENS_PURGE_INTERVAL]=PURGE_INTERVAL in the pool); port
#     "flood" passes TIKI_TOKENS_PURGE_INTERVAL=2000000000 as a FastCGI parameter (PHP's getenv()
#     reads FastCGI parameters first): the purge is disabled there, so that the statement counts
#     of the floods are exact (each worker purged once, at its first request, during the warm-up);
#  4. warm-up (3 s of the mix; every worker must then hold its one database connection), then the
#     mixed run: wrk -t THREADS -c CONNECTIONS -d DURATION (benches/fpm/mix.lua; kinds valid,
#     limited, invalid, garbage, unknown, none), and DURATION/3 into it a second wrk hammering the
#     N_HITS token from NHIT_CONNECTIONS connections for NHIT_DURATION s; meanwhile the number of
#     server connections is sampled every 0.2 s (information_schema.PROCESSLIST, Threads_connected,
#     Max_used_connections);
#  5. two floods on the "flood" port, FLOOD_DURATION s each: malformed tokens only (wrong length,
#     non-hex, arrays, SQL, NUL), then well-formed unknown 32-hex tokens only. Around each, the
#     server's global status (Questions, Com_*, Handler_*, Select_scan, Connections) is read, and
#     the cost of reading it (calibrated: three reads in a row) subtracted;
#  6. EXPLAINs the lookup SELECT exactly as the store sent it (from the general log), reads the
#     hits left in the database, and the RSS of every FPM worker (/proc: idle, after the warm-up,
#     every 5 s of the mixed run, after it, after each flood), stops everything and checks
#     (benches/fpm/report.php). FPM's access log ("<kind> <status> <ms> <pid>" per request PHP
#     served) gives the server-side counts: requests in flight when wrk stops are served by PHP
#     but not counted by wrk, so the exact checks count what PHP served.
#
# Checks (any failure → exit 1): no socket errors, no 5xx, every response the expected one for its
# kind (valid/limited → 200 granted; invalid → 403 params_mismatch|entry_mismatch|bad_signature;
# garbage → 403 malformed; unknown → 403 unknown; none → 200 none); the N_HITS token granted exactly
# N_HITS times (counted by wrk and by FPM's access log) and denied afterwards; the hits consumed in
# the database equal the grants FPM served for the 10^9-hit tokens; connections of the pool's user
# ≤ WORKERS (one per worker) and ≤ WORKERS × the pool's maximum (src/store/dsn.rs); the malformed
# flood sent nothing to the server (Questions, Com_select, Com_update, … deltas 0); the unknown
# flood cost exactly one SELECT per request PHP served (Com_select delta = requests, no writes,
# no table scan: Handler_read_rnd_next and Select_scan deltas 0), and EXPLAIN uses the index
# tiki_auth_tokens_token; the FPM workers neither died nor grew by more than RSS_GROWTH_MAX_KB
# after the warm-up; PHP logged nothing but denials.
#
# Environment (defaults in brackets):
#   WORKERS [4]            FPM workers (pm=static)
#   THREADS [2], CONNECTIONS [32], DURATION [30]   wrk of the mixed run (seconds)
#   FLOOD_DURATION [10]    seconds of each flood (same THREADS/CONNECTIONS)
#   N_HITS [25], NHIT_CONNECTIONS [16], NHIT_DURATION [5]   the exactly-N run
#   ROWS [20000]           realistic rows in the table besides the minted ones (0 = none)
#   ENGINE [MyISAM]        MyISAM (Tiki's DDL) or InnoDB
#   PURGE_INTERVAL [10]    the purge interval of the mixed run (seconds; shorter than DURATION, so
#                          that every worker purges during it, as on a busy site)
#   RSS_GROWTH_MAX_KB [16384]  allowed RSS growth of a worker from after the warm-up to the end
#   NGINX_WORKERS [1]      nginx worker processes
#   EXT_SO                 a built extension to use instead of building one
#
# Results: a summary on stdout and in target/fpm-load/results.txt, every number in
# target/fpm-load/results.json; raw data beside them (wrk-*.json, connections.tsv, status-*.tsv,
# rss.tsv, fpm/access.log, fpm/php-error.log, nginx/error.log, explain.tsv).
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
EXT_SO="${EXT_SO:-}"
case "$ENGINE" in MyISAM|InnoDB) ;; *) echo "ENGINE must be MyISAM or InnoDB" >&2; exit 2 ;; esac

say() { printf '\n== %s\n' "$*"; }
die() { echo "fpm_load: $*" >&2; exit 1; }

say "packages"
export PATH="$PATH:/usr/sbin:/sbin"
source "$root/scripts/lib/packages.sh"
need=()
command -v php >/dev/null || need+=(php8.2-cli)
command -v php-fpm8.2 >/dev/null || need+=(php8.2-fpm)
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v curl >/dev/null || need+=(curl)
[ -n "$EXT_SO" ] || need_build_packages
install_packages "${need[@]}"
echo "php $(php -r 'echo PHP_VERSION;'), $(php-fpm8.2 -v | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(mariadbd --version | cut -d' ' -f4)"

children() { # the child processes of a pid, from /proc (no procps on a minimal Debian)
  local f line rest
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    rest="${line##*) }"        # after the command name: state, ppid, ...
    rest="${rest#* }"
    [ "${rest%% *}" = "$1" ] && { f="${f#/proc/}"; echo "${f%/stat}"; }
  done | sort -n
}

# Everything we start, stopped on any exit.
fpm_pid=""; nginx_pid=""; sampler_pid=""; bg_pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${bg_pids[@]}" "$sampler_pid"; do   # background subshells and their wrk
    [ -n "$p" ] || continue
    for c in $(children "$p"); do kill "$c" 2>/dev/null; done
    kill "$p" 2>/dev/null
  done
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -QUIT "$nginx_pid"; for _ in $(seq 1 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nginx_pid" 2>/dev/null
  fi
  if [ -n "$fpm_pid" ] && kill -0 "$fpm_pid" 2>/dev/null; then
    kill -QUIT "$fpm_pid"; for _ in $(seq 1 50); do kill -0 "$fpm_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$fpm_pid" 2>/dev/null
  fi
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
pool_max="$(sed -n 's/^const DEFAULT_POOL_MAX: usize = \([0-9]*\);.*/\1/p' src/store/dsn.rs)"
[ -n "$pool_max" ] || die "cannot read DEFAULT_POOL_MAX from src/store/dsn.rs"
echo "$ext (a copy; pool maximum per process: $pool_max)"

free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'; }

say "database"
export TIKI_TOKENS_MARIADB_DIR="$out/mariadb"
scripts/mariadb.sh start >/dev/null
dbport="$(cat "$out/mariadb/port")"
sql() { mariadb --no-defaults -uroot -h127.0.0.1 -P"$dbport" -N -B "$@"; }
pw="$(php -r 'echo bin2hex(random_bytes(12));')"
sql -e "CREATE DATABASE tiki CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
  CREATE USER 'tiki'@'localhost' IDENTIFIED BY '$pw'; CREATE USER 'tiki'@'127.0.0.1' IDENTIFIED BY '$pw';
  GRANT ALL ON tiki.* TO 'tiki'@'localhost'; GRANT ALL ON tiki.* TO 'tiki'@'127.0.0.1';"
sed "s/ENGINE=MyISAM/ENGINE=$ENGINE/" tests/data/tiki24.sql | sql tiki
dsn="mysql://tiki:$pw@127.0.0.1:$dbport/tiki"
if [ "$ROWS" -gt 0 ]; then
  # Realistic rows, the same mix as the e2e benchmark (benches/e2e/rows.sql).
  { sed -e "s/{numbers}/SELECT seq AS n FROM seq_0_to_$((ROWS - 1))/" -e "s/{rows}/$ROWS/" \
      benches/e2e/rows.sql | grep -v '^--'; echo ';'; echo 'ANALYZE TABLE tiki_auth_tokens;'; } | sql tiki
fi
echo "MariaDB on 127.0.0.1:$dbport, database tiki, user tiki; tiki_auth_tokens ($ENGINE): $(sql tiki -e 'SELECT COUNT(*) FROM tiki_auth_tokens') rows"

say "tokens"
php -n -d "extension=$ext" "$here/mint.php" "$dsn" "$out" "$N_HITS"

say "php-fpm ($WORKERS workers, pm=static) and nginx"
fpm_bin="$(command -v php-fpm8.2)"
fpm_args=(-n -d "extension=$ext" -d memory_limit=128M -y "$out/fpm/php-fpm.conf")
ext_dir="$(php -n -r 'echo ini_get("extension_dir");')"
if [ -f "$ext_dir/opcache.so" ]; then
  fpm_args+=(-d zend_extension=opcache -d opcache.enable=1 -d opcache.validate_timestamps=0)
fi
pool_user=""
if [ "$(id -u)" = 0 ]; then
  fpm_args+=(-R)
  pool_user="user = root
group = root"
fi
cat >"$out/fpm/php-fpm.conf" <<EOF
[global]
pid = $out/fpm/php-fpm.pid
error_log = $out/fpm/php-fpm.log
log_level = notice
daemonize = no

[tiki]
$pool_user
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
EOF
"$fpm_bin" "${fpm_args[@]}" -t >"$out/fpm/config-test.log" 2>&1 || { cat "$out/fpm/config-test.log" >&2; die "php-fpm rejects its configuration"; }
"$fpm_bin" "${fpm_args[@]}" -F >"$out/fpm/stdout.log" 2>&1 &
fpm_pid=$!
workers() { children "$fpm_pid"; }
for _ in $(seq 1 100); do
  [ -S "$out/fpm/fpm.sock" ] && [ "$(workers | wc -l)" = "$WORKERS" ] && break
  kill -0 "$fpm_pid" 2>/dev/null || { cat "$out/fpm/stdout.log" "$out/fpm/php-fpm.log" >&2 2>/dev/null; die "php-fpm died"; }
  sleep 0.1
done
[ "$(workers | wc -l)" = "$WORKERS" ] || die "php-fpm did not start $WORKERS workers"

port_mixed="$(free_port)"; port_flood="$(free_port)"
while [ "$port_flood" = "$port_mixed" ]; do port_flood="$(free_port)"; done
cat >"$out/nginx/fastcgi.conf" <<'EOF'
fastcgi_param  SCRIPT_FILENAME    $document_root$fastcgi_script_name;
fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  CONTENT_TYPE       $content_type;
fastcgi_param  CONTENT_LENGTH     $content_length;
fastcgi_param  SCRIPT_NAME        $fastcgi_script_name;
fastcgi_param  REQUEST_URI        $request_uri;
fastcgi_param  DOCUMENT_URI       $document_uri;
fastcgi_param  DOCUMENT_ROOT      $document_root;
fastcgi_param  SERVER_PROTOCOL    $server_protocol;
fastcgi_param  REQUEST_SCHEME     $scheme;
fastcgi_param  GATEWAY_INTERFACE  CGI/1.1;
fastcgi_param  SERVER_SOFTWARE    nginx/$nginx_version;
fastcgi_param  REMOTE_ADDR        $remote_addr;
fastcgi_param  REMOTE_PORT        $remote_port;
fastcgi_param  SERVER_ADDR        $server_addr;
fastcgi_param  SERVER_PORT        $server_port;
fastcgi_param  SERVER_NAME        $server_name;
fastcgi_param  REDIRECT_STATUS    200;
EOF
php_location() { # extra fastcgi_param lines
  cat <<EOF
    location ~ \.php\$ {
      include $out/nginx/fastcgi.conf;
      $1
      fastcgi_pass unix:$out/fpm/fpm.sock;
      add_header X-Kind \$http_x_kind always;
    }
    location / { return 404; }
EOF
}
cat >"$out/nginx/nginx.conf" <<EOF
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
EOF
nginx_args=(-p "$out/nginx/" -c "$out/nginx/nginx.conf" -e "$out/nginx/error.log")
nginx "${nginx_args[@]}" -t >"$out/nginx/config-test.log" 2>&1 || { cat "$out/nginx/config-test.log" >&2; die "nginx rejects its configuration"; }
nginx "${nginx_args[@]}" >"$out/nginx/stdout.log" 2>&1 &
nginx_pid=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port_flood/tiki-index.php" && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$out/nginx/error.log" >&2; die "nginx died"; }
  sleep 0.1
done
echo "php-fpm master $fpm_pid, workers $(workers | paste -sd' '); nginx $nginx_pid on 127.0.0.1:$port_mixed (mixed) and :$port_flood (flood)"

# One request of each kind with curl: a clear message early when the set-up is wrong.
probe() { # port kind path expected-status expected-result-prefix
  local head status result
  head="$(curl -s -g --path-as-is -D - -o /dev/null -H "X-Kind: $2" "http://127.0.0.1:$1$3")"
  status="$(head -1 <<<"$head" | cut -d' ' -f2)"
  result="$(grep -i '^X-Token-Result:' <<<"$head" | cut -d' ' -f2- | tr -d '\r')"
  if [ "$status" != "$4" ] || [[ "$result" != "$5"* ]]; then
    echo "probe $2: $3 answered $status '$result', expected $4 '$5…'" >&2
    tail -5 "$out/fpm/php-error.log" "$out/fpm/php-fpm.log" "$out/nginx/error.log" >&2 2>/dev/null
    die "the set-up does not answer as expected"
  fi
}
first() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$out/mixed.tsv"; }
probe "$port_flood" valid "$(first valid)" 200 granted
probe "$port_flood" invalid "$(first invalid)" 403 denied
probe "$port_flood" garbage "$(first garbage)" 403 "denied malformed"
probe "$port_flood" none "$(first none)" 200 none
echo "probes: granted, denied, malformed, none as expected"

rss() { # label: the RSS of every worker
  for p in $(workers); do
    printf '%s\t%s\t%s\n' "$1" "$p" "$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")"
  done >>"$out/rss.tsv"
}
# Waits until PHP has finished every request (FPM's access log stops growing).
quiesce() {
  local a b
  a="$(wc -l <"$out/fpm/access.log")"
  while sleep 0.5; b="$(wc -l <"$out/fpm/access.log")"; [ "$a" != "$b" ]; do a="$b"; done
}
mark() { printf '%s\t%s\n' "$1" "$(wc -l <"$out/fpm/access.log")" >>"$out/phases.tsv"; }
status_vars="'Questions','Com_select','Com_insert','Com_update','Com_delete','Com_stmt_execute','Com_stmt_prepare','Handler_read_key','Handler_read_next','Handler_read_rnd_next','Handler_read_first','Handler_read_rnd','Handler_update','Handler_delete','Handler_write','Select_scan','Select_full_join','Connections'"
snapshot() { sql -e "SHOW GLOBAL STATUS WHERE Variable_name IN ($status_vars)" >"$out/status-$1.tsv"; }
conn_sample() {
  sql -e "SELECT ROUND(UNIX_TIMESTAMP(NOW(3)), 1),
    (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'tiki'),
    (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED'),
    (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'MAX_USED_CONNECTIONS')"
}
run_wrk() { # name port list threads connections seconds
  echo "wrk $1: -t$4 -c$5 -d$6s, $(basename "$3")"
  WRK_PATHS="$3" WRK_OUT="$out/wrk-$1.json" wrk -t"$4" -c"$5" -d"$6s" --timeout 10s \
    -s "$here/mix.lua" "http://127.0.0.1:$2" >"$out/wrk-$1.txt" 2>&1 || { cat "$out/wrk-$1.txt" >&2; die "wrk $1 failed"; }
  sed -n '/requests in/,$p' "$out/wrk-$1.txt"
  [ -s "$out/wrk-$1.json" ] || die "wrk $1 wrote no result"
}

rss idle
: >"$out/phases.tsv"
say "warm-up (3 s): every worker connects and runs its first purge"
mark warmup
run_wrk warmup "$port_mixed" "$out/mixed.tsv" "$THREADS" "$CONNECTIONS" 3
quiesce
conns=0
for _ in $(seq 1 20); do
  conns="$(sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'tiki'")"
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
(
  t0=$SECONDS; next=0
  while [ ! -f "$out/sampler.stop" ]; do
    conn_sample >>"$out/connections.tsv" || true
    if [ $((SECONDS - t0)) -ge "$next" ]; then   # the workers' RSS every 5 s
      rss "mixed+$((SECONDS - t0))s:$(wc -l <"$out/fpm/access.log")"; next=$((next + 5))
    fi
    sleep 0.2
  done
) &
sampler_pid=$!
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
mark malformed
snapshot malformed-before
run_wrk malformed "$port_flood" "$out/malformed.tsv" "$THREADS" "$CONNECTIONS" "$FLOOD_DURATION"
quiesce
snapshot malformed-after
rss after_malformed
mark unknown
snapshot unknown-before
run_wrk unknown "$port_flood" "$out/unknown.tsv" "$THREADS" "$CONNECTIONS" "$FLOOD_DURATION"
quiesce
snapshot unknown-after
mark end
printf 'after_floods\t%s\n' "$(sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'tiki'")" >>"$out/connections-points.tsv"
rss end

say "after the load"
nhit_url="$(cut -f2 "$out/nhit.tsv")"
head="$(curl -s -g --path-as-is -D - -o /dev/null "http://127.0.0.1:$port_flood$nhit_url")"
printf 'nhit_after\t%s\t%s\n' "$(head -1 <<<"$head" | cut -d' ' -f2)" \
  "$(grep -i '^X-Token-Result:' <<<"$head" | cut -d' ' -f2- | tr -d '\r')" >"$out/db-facts.tsv"
nhit_id="$(php -r 'echo json_decode(file_get_contents($argv[1]), true)["nhit"]["tokenId"];' "$out/tokens.json")"
limited_ids="$(php -r 'echo implode(",", array_column(json_decode(file_get_contents($argv[1]), true)["limited"], "tokenId"));' "$out/tokens.json")"
printf 'nhit_hits_left\t%s\n' "$(sql tiki -e "SELECT IFNULL((SELECT hits FROM tiki_auth_tokens WHERE tokenId = $nhit_id), 'gone')")" >>"$out/db-facts.tsv"
sql tiki -e "SELECT tokenId, hits FROM tiki_auth_tokens WHERE tokenId IN ($limited_ids)" |
  sed 's/^/limited_hits\t/' >>"$out/db-facts.tsv"
printf 'rows\t%s\n' "$(sql tiki -e 'SELECT COUNT(*) FROM tiki_auth_tokens')" >>"$out/db-facts.tsv"

# The lookup SELECT exactly as the store sends it: from the general log of one request each for
# an unknown and a valid token (on the flood port: no purge); the general log shows the prepared
# text with its `?`, so EXPLAIN runs it with each of the two tokens in place of the `?`.
unknown_token="$(php -r 'echo bin2hex(random_bytes(16));')"
valid_url="$(first valid)"
valid_token="${valid_url##*TOKEN=}"
sql -e "SET GLOBAL log_output = 'TABLE'; TRUNCATE TABLE mysql.general_log; SET GLOBAL general_log = 1"
curl -s -o /dev/null "http://127.0.0.1:$port_flood/tiki-index.php?page=HomePage&TOKEN=$unknown_token"
curl -s -o /dev/null -g --path-as-is "http://127.0.0.1:$port_flood$valid_url"
sql -e "SET GLOBAL general_log = 0"
sql -e "SELECT DISTINCT REPLACE(REPLACE(CONVERT(argument USING utf8mb4), '\n', ' '), '\t', ' ') FROM mysql.general_log
  WHERE command_type IN ('Execute', 'Query') AND user_host LIKE 'tiki[%' AND argument LIKE 'SELECT%tiki_auth_tokens%'" >"$out/lookup-statements.txt"
: >"$out/explain.tsv"
while IFS= read -r stmt; do
  for t in "unknown:$unknown_token" "valid:$valid_token"; do
    literal="'${t#*:}'"
    sql tiki -e "EXPLAIN ${stmt%\?}$literal" | sed "s/^/${t%%:*}\t/" >>"$out/explain.tsv"
  done
done <"$out/lookup-statements.txt"
echo "lookup statements seen in the general log: $(wc -l <"$out/lookup-statements.txt")"

say "stopping nginx and php-fpm"
kill -QUIT "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
kill -QUIT "$fpm_pid"; wait "$fpm_pid" 2>/dev/null || true; fpm_pid=""

say "results"
cat >"$out/facts.tsv" <<EOF
workers	$WORKERS
pool_max	$pool_max
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
opcache	$([ -f "$ext_dir/opcache.so" ] && echo on || echo off)
EOF
php "$here/report.php" "$out"
