#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, when it is missing:
# PHP 8.2 (CLI, headers), libclang (ext-php-rs' bindgen), MariaDB, curl, procps, Apache with
# mod_php, nginx with PHP-FPM (the HTTP tests' servers), dpkg-dev (the Debian package), and
# cargo-fuzz.
#
#   scripts/bootstrap.sh            # the test command's needs
#   scripts/bootstrap.sh --galera   # also the Galera cluster's (galera-4, rsync, …), for
#                                   # tests/galera.rs and scripts/galera_probe.sh; the same with
#                                   # TIKI_TOKENS_GALERA=1 in the environment
set -euo pipefail
source "$(dirname "$0")/lib/packages.sh"
need=()
command -v php >/dev/null || need+=(php8.2-cli)
need_build_packages
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v curl >/dev/null || need+=(curl)
command -v ps >/dev/null || need+=(procps)    # scripts/lib/procs.sh: process groups
# The web servers of the HTTP tests (testkit/src/web/): Apache with mod_php, nginx with PHP-FPM.
# On Debian, installing them may start their system services; the tests never use those.
export PATH="$PATH:/usr/sbin:/sbin"
command -v apache2 >/dev/null || need+=(apache2)
[ -f /usr/lib/apache2/modules/libphp8.2.so ] || need+=(libapache2-mod-php8.2)
command -v nginx >/dev/null || need+=(nginx)
command -v php-fpm8.2 >/dev/null || need+=(php8.2-fpm)
if [ "${1:-}" = --galera ] || [ "${TIKI_TOKENS_GALERA:-}" = 1 ]; then
  need_galera_packages
fi
# scripts/package.sh: dpkg-shlibdeps, dpkg-parsechangelog.
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
install_packages "${need[@]}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "bootstrap: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --quiet >&2
fi
