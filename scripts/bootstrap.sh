#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, when it is missing:
# PHP 8.2 (CLI, headers), libclang (ext-php-rs' bindgen), MariaDB, dpkg-dev (the Debian package),
# and cargo-fuzz.
set -euo pipefail
source "$(dirname "$0")/lib/packages.sh"
need=()
command -v php >/dev/null || need+=(php8.2-cli)
need_build_packages
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v curl >/dev/null || need+=(curl)
# scripts/package.sh: dpkg-shlibdeps, dpkg-parsechangelog.
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
install_packages "${need[@]}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "bootstrap: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --quiet >&2
fi
