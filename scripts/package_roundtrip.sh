#!/usr/bin/env bash
# Installs the Debian package on THIS machine, shows it working, and removes it again:
# NOT part of scripts/test.sh, because it changes the machine's PHP (every SAPI loads the
# extension while it is installed). Run as root, on a machine where that is acceptable.
#
#   scripts/package_roundtrip.sh [path/to/php8.2-tiki-tokens_…deb]   # default: the newest built
#
# 1. apt-get install ./…deb; the files and the conf.d links phpenmod made.
# 2. php --ri tiki_tokens (CLI SAPI) and php-fpm8.2 -m / -i (FPM SAPI; no FPM is started).
# 3. On a throw-away MariaDB (target/mariadb-roundtrip) with Tiki trunk's table: tiki-tokens
#    doctor, tiki-tokens mint, and a lookup of the minted URL by the installed extension.
# 4. apt-get remove: what is left (Debian keeps the conffile until purge).
# 5. apt-get purge: nothing is left.
# On any failure the package is purged and the server stopped all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

deb="${1:-$(ls -t target/debian/php*-tiki-tokens_*.deb 2>/dev/null | head -1)}"
[ -n "$deb" ] && [ -f "$deb" ] || { echo "no package: run scripts/package.sh first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (it installs a package)" >&2; exit 1; }
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
name="$(dpkg-deb -f "$deb" Package)"
php_version="${name#php}"; php_version="${php_version%%-*}"
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q installed; then
  echo "$name is already installed here: not touching it" >&2; exit 1
fi

apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y "$@"; }
leftovers() {
  find /etc/php /usr/lib/php /usr/bin /usr/share/tiki-tokens "/usr/share/doc/$name" \
    /var/lib/php/modules -name '*tiki*' 2>/dev/null | sort || true
}
step() { printf '\n### %s\n' "$*"; }

db_dir="$root/target/mariadb-roundtrip"
cleanup() {
  if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -qE 'installed|config-files'; then
    apt_get purge "$name" >/dev/null 2>&1 || true
  fi
  TIKI_TOKENS_MARIADB_DIR="$db_dir" scripts/mariadb.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "throw-away MariaDB with Tiki trunk's table"
server="$(TIKI_TOKENS_MARIADB_DIR="$db_dir" scripts/mariadb.sh start)"
port="${server##*127.0.0.1:}"; port="${port%%/*}"
mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" \
  -e 'DROP DATABASE IF EXISTS roundtrip; CREATE DATABASE roundtrip'
mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" roundtrip <tests/data/trunk.sql
dsn="mysql://root@127.0.0.1:$port/roundtrip?prefer_socket=false"
echo "database: $dsn"

step "apt-get install $deb"
apt_get install "$deb" 2>&1 | grep -vE '^(Reading|Building|WARNING: apt does not)' || true
dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$name"
step "files of the package (dpkg -L $name)"
dpkg -L "$name"
step "phpenmod's links, one per SAPI"
ls -l /etc/php/"$php_version"/*/conf.d/*tiki_tokens.ini

step "CLI SAPI: php --ri tiki_tokens"
php --ri tiki_tokens
fpm="/usr/sbin/php-fpm$php_version"
if [ -x "$fpm" ]; then
  step "FPM SAPI: $fpm -m (modules) and -i (its tiki_tokens section); no FPM is started"
  "$fpm" -m | grep -x tiki_tokens
  "$fpm" -i | sed -n '/^tiki_tokens$/,/^stores (pools)/p'
fi

step "tiki-tokens doctor (TIKI_TOKENS_DSN=the throw-away database)"
TIKI_TOKENS_DSN="$dsn" tiki-tokens doctor || echo "(doctor exit code: $?)"
step "tiki-tokens mint, then the installed extension looks the URL up"
url="$(TIKI_TOKENS_DSN="$dsn" tiki-tokens mint \
  'https://tiki.example/tiki-index.php?page=HomePage' --group Registered --hits 2)"
echo "$url"
php -d "tiki_tokens.dsn=\"$dsn\"" -r '
  $url = $argv[1];
  parse_str(parse_url($url, PHP_URL_QUERY), $get);
  $token = $get["TOKEN"]; unset($get["TOKEN"]);
  $r = (new TikiTokens\Store())->lookup($token, parse_url($url, PHP_URL_PATH), $get);
  echo get_class($r), ": ", $r instanceof TikiTokens\Grant
      ? "groups " . json_encode($r->groups) . ", hits left " . $r->hitsLeft
      : $r->reason, "\n";' "$url"

step "apt-get remove $name"
apt_get remove "$name" 2>&1 | grep -vE '^(Reading|Building|WARNING: apt does not)' || true
dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$name"
echo "left on disk:"
leftovers
step "apt-get purge $name"
apt_get purge "$name" 2>&1 | grep -vE '^(Reading|Building|WARNING: apt does not)' || true
dpkg-query -W -f='${Package} ${Status}\n' "$name" 2>&1 || true
echo "left on disk:"
left="$(leftovers)"
echo "${left:-(nothing)}"
php -m | grep -x tiki_tokens && { echo "php still loads tiki_tokens" >&2; exit 1; }
[ -z "$left" ] || { echo "files left after purge" >&2; exit 1; }
echo
echo "round trip done: installed, used, removed, purged"
