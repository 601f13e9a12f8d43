#!/usr/bin/env bash
# Builds target/debian/hypermesh_VERSION-1_ARCH.deb with dpkg-deb from a staged tree: the
# release binary (stripped), the systemd unit (deploy/systemd, pointed at /usr/bin and the
# hypermesh system user), /etc/default/hypermesh, the man pages and bash/zsh/fish completions
# that `cargo xtask dist` generates, copyright and changelog. Package metadata and maintainer
# scripts: deploy/debian/. Prints the .deb's path last. scripts/package-test.sh installs it.
#
# dpkg-deb rather than cargo-deb: every tool it needs ships with Debian (dpkg-dev), where
# installing cargo-deb would compile it on every fresh CI machine.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)-1"
arch="$(dpkg --print-architecture)"
# Reproducible: every timestamp is the last commit's.
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
export SOURCE_DATE_EPOCH

cargo build --release --locked -p hypermesh
cargo xtask dist target/dist >/dev/null

out=target/debian
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

install -D -m 755 target/release/hypermesh "$stage/usr/bin/hypermesh"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/hypermesh"

# One unit source: only the binary's path and the identity differ from a by-hand install.
unit="$stage/lib/systemd/system/hypermesh.service"
mkdir -p "$(dirname "$unit")"
sed -e 's|^ExecStart=/usr/local/bin/hypermesh |ExecStart=/usr/bin/hypermesh |' \
    -e 's|^DynamicUser=yes$|User=hypermesh\nGroup=hypermesh|' \
    deploy/systemd/hypermesh.service >"$unit"
grep -q '^ExecStart=/usr/bin/hypermesh ' "$unit" && grep -q '^User=hypermesh$' "$unit" \
    && ! grep -q '^DynamicUser=' "$unit" || { echo "unit not adapted: $unit" >&2; exit 1; }
chmod 644 "$unit"

install -D -m 644 deploy/debian/default "$stage/etc/default/hypermesh"
echo /etc/default/hypermesh >"$stage/DEBIAN/conffiles"

mkdir -p "$stage/usr/share/man/man1"
for page in target/dist/man/*.1; do
    gzip -9n <"$page" >"$stage/usr/share/man/man1/$(basename "$page").gz"
done
install -D -m 644 target/dist/completions/hypermesh.bash "$stage/usr/share/bash-completion/completions/hypermesh"
install -D -m 644 target/dist/completions/_hypermesh "$stage/usr/share/zsh/vendor-completions/_hypermesh"
install -D -m 644 target/dist/completions/hypermesh.fish "$stage/usr/share/fish/vendor_completions.d/hypermesh.fish"

doc="$stage/usr/share/doc/hypermesh"
install -D -m 644 deploy/debian/copyright "$doc/copyright"
printf 'hypermesh (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
    "$version" "$(git rev-parse --short HEAD)" \
    "$(sed -n 's/^Maintainer: //p' deploy/debian/control)" \
    "$(LC_ALL=C date -R -u -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$doc/changelog.Debian.gz"
install -D -m 644 deploy/debian/lintian-overrides "$stage/usr/share/lintian/overrides/hypermesh"

install -m 755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$stage/DEBIAN/"

# Library dependencies as dpkg-shlibdeps finds them (it wants a debian/control to run in).
shlibs_dir="$(mktemp -d)"
trap 'rm -rf "$shlibs_dir"' EXIT
mkdir "$shlibs_dir/debian"
printf 'Source: hypermesh\n\nPackage: hypermesh\nArchitecture: any\n' >"$shlibs_dir/debian/control"
binary="$(pwd)/$stage/usr/bin/hypermesh"
shlibs="$(cd "$shlibs_dir" && dpkg-shlibdeps -O "$binary")"
shlibs="${shlibs#shlibs:Depends=}"

(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
installed_size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$installed_size|" \
    -e "s|@SHLIBS@|$shlibs|" deploy/debian/control >"$stage/DEBIAN/control"

# Every file dated to the commit, so that the same commit gives the same package.
find "$stage" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
deb="$out/hypermesh_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
