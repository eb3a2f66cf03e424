# Sourced (after procs.sh): PHP-FPM and nginx of a script's own, every file under one directory,
# never the system services or /etc. Both run in a process group of their own (start_group);
# stop them with `stop_group "$fpm_pid" QUIT` and `stop_group "$nginx_pid" QUIT` (graceful).

# fastcgi_params FILE: writes the FastCGI parameters nginx hands PHP (an own copy of Debian's
# fastcgi.conf, scripts/lib/fastcgi.conf, so that nothing is read from /etc).
fastcgi_params() {
  cp "$(dirname "${BASH_SOURCE[0]}")/fastcgi.conf" "$1"
}

# fpm_start DIR EXT WORKERS: starts php-fpm8.2 in the foreground (-F) without php.ini (-n), the
# extension EXT loaded, opcache when PHP has it, on the configuration DIR/php-fpm.conf (written
# by the caller: its pool must be pm = static with WORKERS workers); as root with -R (the pool
# then needs `user = root`). Sets fpm_pid; waits until the WORKERS workers run. Logs in DIR.
fpm_start() {
  local dir="$1" ext="$2" workers="$3" bin ext_dir
  bin="$(command -v php-fpm8.2)"
  fpm_args=(-n -d "extension=$ext" -d memory_limit=128M -y "$dir/php-fpm.conf")
  ext_dir="$(php -n -r 'echo ini_get("extension_dir");')"
  if [ -f "$ext_dir/opcache.so" ]; then
    fpm_args+=(-d zend_extension=opcache -d opcache.enable=1 -d opcache.validate_timestamps=0)
  fi
  [ "$(id -u)" != 0 ] || fpm_args+=(-R)
  "$bin" "${fpm_args[@]}" -t >"$dir/config-test.log" 2>&1 || {
    cat "$dir/config-test.log" >&2; echo "php-fpm rejects its configuration" >&2; return 1; }
  start_group fpm_pid "$dir/stdout.log" "$bin" "${fpm_args[@]}" -F
  for _ in $(seq 1 100); do
    [ "$(fpm_workers | wc -l)" = "$workers" ] && return 0
    group_alive "$fpm_pid" || break
    sleep 0.1
  done
  cat "$dir/stdout.log" "$dir/php-fpm.log" >&2 2>/dev/null
  echo "php-fpm did not start $workers workers" >&2
  return 1
}

# fpm_workers: the pids of the FPM workers of fpm_start, one a line.
fpm_workers() {
  ps -o pid= --ppid "$fpm_pid" | tr -d ' '
}

# fpm_opcache: "on" when fpm_start loaded opcache.
fpm_opcache() {
  [[ " ${fpm_args[*]} " == *" zend_extension=opcache "* ]] && echo on || echo off
}

# nginx_start DIR URL: starts nginx -p DIR/ -c DIR/nginx.conf (written by the caller, with
# `daemon off;` and its pid file and logs in DIR) after a configuration test; sets nginx_pid;
# waits until URL answers.
nginx_start() {
  local dir="$1" url="$2"
  local args=(-p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log")
  nginx "${args[@]}" -t >"$dir/config-test.log" 2>&1 || {
    cat "$dir/config-test.log" >&2; echo "nginx rejects its configuration" >&2; return 1; }
  start_group nginx_pid "$dir/stdout.log" nginx "${args[@]}"
  wait_http "$url" 100 && return 0
  cat "$dir/error.log" >&2
  echo "nginx does not answer on $url" >&2
  return 1
}
