#!/usr/bin/env bash
# Builds the Debian package: target/debian/php<X.Y>-tiki-tokens_<version>-<rev>_<arch>.deb
#
#   scripts/package.sh            # prints the path of the .deb on stdout
#
# Two release builds with different features, in this order: the extension (`--features
# extension`, copied out at once: the CLI's build writes the same target/release path) and the
# admin command (`--features cli`; linked against a library built with `extension` it would need
# PHP's symbols). Then a staging tree under target/debian/ assembled with dpkg-deb (cargo-deb
# builds one feature set and takes fixed paths; PHP's extension directory and API version come
# from php-config at build time). Depends: the PHP API the extension was built for
# (phpapi-YYYYMMDD), php-common (phpenmod), and what dpkg-shlibdeps finds.
#
# Contents: the extension in `php-config --extension-dir`, /etc/php/X.Y/mods-available/
# tiki_tokens.ini (a conffile), maintainer scripts (phpenmod/phpdismod for every SAPI),
# /usr/bin/tiki-tokens, /usr/share/tiki-tokens/{AuthTokens.php,stubs/}, and the changelog and
# copyright under /usr/share/doc/. Sources of the packaging files: packaging/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

source scripts/lib/packages.sh
need=()
need_build_packages
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
install_packages "${need[@]}"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
revision="$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)"
if [ "${revision%-*}" != "$version" ]; then
  echo "package.sh: packaging/debian/changelog is at $revision, Cargo.toml at $version: add a changelog entry" >&2
  exit 1
fi
php_version="$(php-config --version | cut -d. -f1,2)"
ext_dir="$(php-config --extension-dir)"
phpapi="$(php-config --phpapi)"
arch="$(dpkg --print-architecture)"
name="php${php_version}-tiki-tokens"
deb="target/debian/${name}_${revision}_${arch}.deb"
stage="target/debian/stage"

echo "== build the extension (release, --features extension)" >&2
nice cargo build --release --features extension >&2
mkdir -p target/debian
cp target/release/libtiki_tokens.so target/debian/tiki_tokens.so
# The copy must be the extension (a build without the feature writes the same path).
if ! nm -D --defined-only target/debian/tiki_tokens.so | grep -qw get_module; then
  echo "package.sh: target/release/libtiki_tokens.so is not the PHP extension (no get_module)" >&2
  exit 1
fi
echo "== build the admin command (release, --features cli)" >&2
nice cargo build --release --features cli --bin tiki-tokens >&2

rm -rf "$stage"
install -d "$stage/DEBIAN" "$stage$ext_dir" "$stage/etc/php/$php_version/mods-available" \
  "$stage/usr/bin" "$stage/usr/share/tiki-tokens/stubs" "$stage/usr/share/doc/$name"
install -m 0644 target/debian/tiki_tokens.so "$stage$ext_dir/tiki_tokens.so"
install -m 0755 target/release/tiki-tokens "$stage/usr/bin/tiki-tokens"
sed "s/@PHPVER@/$php_version/g" packaging/debian/tiki_tokens.ini \
  >"$stage/etc/php/$php_version/mods-available/tiki_tokens.ini"
chmod 0644 "$stage/etc/php/$php_version/mods-available/tiki_tokens.ini"
install -m 0644 php/AuthTokens.php "$stage/usr/share/tiki-tokens/AuthTokens.php"
install -m 0644 php/stubs/tiki_tokens.stub.php "$stage/usr/share/tiki-tokens/stubs/"
install -m 0644 packaging/debian/copyright "$stage/usr/share/doc/$name/copyright"
gzip -9n <packaging/debian/changelog >"$stage/usr/share/doc/$name/changelog.Debian.gz"
chmod 0644 "$stage/usr/share/doc/$name/changelog.Debian.gz"
for script in postinst prerm postrm; do
  sed "s/@PHPVER@/$php_version/g" "packaging/debian/$script" >"$stage/DEBIAN/$script"
  chmod 0755 "$stage/DEBIAN/$script"
done
echo "/etc/php/$php_version/mods-available/tiki_tokens.ini" >"$stage/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control of the directory it runs in. The extension's undefined
# symbols are PHP's own (resolved by the PHP binary that loads it): not a dependency.
shlib_dir="target/debian/shlibdeps"
rm -rf "$shlib_dir" && mkdir -p "$shlib_dir/debian"
printf 'Source: tiki-tokens\n\nPackage: %s\nArchitecture: any\n' "$name" >"$shlib_dir/debian/control"
shlibs="$(cd "$shlib_dir" && dpkg-shlibdeps -O --warnings=0 \
  "$root/$stage$ext_dir/tiki_tokens.so" "$root/$stage/usr/bin/tiki-tokens" |
  sed -n 's/^shlibs:Depends=//p')"

installed_size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat >"$stage/DEBIAN/control" <<EOF
Package: $name
Version: $revision
Architecture: $arch
Maintainer: tiki-tokens developers <tiki-tokens@invalid.example>
Installed-Size: $installed_size
Depends: phpapi-$phpapi, php-common, $shlibs
Provides: php-tiki-tokens
Section: php
Priority: optional
Description: Tiki Wiki CMS token access for PHP $php_version (extension and admin command)
 A PHP extension written in Rust that takes over Tiki's token access (TOKEN=<hex> in a URL
 grants some groups to whoever requests exactly that URL) on Tiki's own table
 tiki_auth_tokens: exact URL matching, signed tokens, hits counted atomically, no table scan
 per request. It is enabled for every PHP SAPI by phpenmod.
 .
 Also: the admin command tiki-tokens (mint, list, show, revoke, purge, migrate,
 rotate-secret, doctor), and the drop-in AuthTokens.php for a Tiki site with the IDE stubs
 in /usr/share/tiki-tokens/.
EOF
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

dpkg-deb --root-owner-group --build "$stage" "$deb" >&2
echo "$root/$deb"
