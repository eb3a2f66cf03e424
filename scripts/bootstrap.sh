#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, when it is missing:
# PHP 8.2 (CLI, headers), libclang (ext-php-rs' bindgen), MariaDB, and cargo-fuzz.
set -euo pipefail
need=()
command -v php >/dev/null || need+=(php8.2-cli)
command -v php-config >/dev/null || need+=(php8.2-dev)
{ ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; } || need+=(libclang-dev clang)
command -v clang >/dev/null || need+=(clang)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "bootstrap: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --quiet >&2
fi
