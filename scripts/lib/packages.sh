# Sourced by the scripts that set up a fresh Debian machine: what is missing, and installing it.

# Appends to the array `need` the packages the extension's build needs and lacks: PHP headers
# (php-config) and libclang for ext-php-rs' bindgen.
need_build_packages() {
  command -v php-config >/dev/null || need+=(php8.2-dev)
  { ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 ||
    ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; } || need+=(libclang-dev)
  command -v clang >/dev/null || need+=(clang)
}

# Installs the named Debian packages with apt-get (as root, or with sudo); nothing when none.
install_packages() {
  [ $# -gt 0 ] || return 0
  echo "installing $*" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" >&2
}

# Appends to `need` what the Galera cluster of scripts/galera.sh needs and lacks: Debian's
# galera-4 provider, rsync (state transfers) and ss from iproute2 (the rsync state-transfer
# script looks for its listening socket with ss or lsof).
need_galera_packages() {
  [ -f /usr/lib/galera/libgalera_smm.so ] || need+=(galera-4)
  command -v rsync >/dev/null || need+=(rsync)
  command -v ss >/dev/null || command -v lsof >/dev/null || need+=(iproute2)
}
