#!/usr/bin/env bash
# The README's two commands on a fresh machine: in a new Debian 12 root without the tools the
# tests compare with (no bpftool, hwloc, iproute2, libbpf-tools, prometheus, tmux, python3, not
# even procps' kill) and without tracefs or bpffs mounted, a fresh clone of this repository's HEAD
# runs `cargo run --release -- profile`, then `cargo test --workspace` as root and again as an
# unprivileged user. Every test that lacks a tool, mount or privilege must skip with its printed
# reason ("SKIP: ..."); none may fail. Exits non-zero if any of the three does.
#
#   sudo bash scripts/fresh-check.sh [ROOTFS]    # ROOTFS defaults to /var/tmp/hypermesh-fresh
#
# Needs root (debootstrap, chroot, mounts) and the Debian mirror. The root is a minbase
# debootstrap of bookworm plus gcc, libc6-dev (cargo links through cc) and ca-certificates (cargo
# reaches crates.io); it is made once (1.5 min, 470 MB) and reused. The host's Rust toolchain is
# bound in read-only and its crates.io cache copied in (70 MB), so no crate is downloaded again.
# The clone is new each run, so both builds are cold: 9 min in all on this 2-vCPU VM (release
# build 2-4 min, the rest the test build and the two test runs), 3 GB of target.
# Everything runs in a private mount namespace: the root bound onto itself (/ is a mount point on
# a real machine), /proc, a fresh sysfs (no tracefs or bpffs under it), /dev and cgroup2 (as
# systemd mounts it); these and whatever the tests or the eBPF probe mount go away when it ends,
# and the host's mounts are not touched. HYPERMESH_REQUIRE_ALL is unset inside;
# RUST_TEST_NOCAPTURE=1 makes the passing tests' "SKIP: reason" lines visible. FRESH_SHARED=DIR
# binds the project's shared/ folder (fixtures) beside the clone, read-only; without it the
# fixture tests skip. Not part of .ci/run: two cold builds are too long for CI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/hypermesh-fresh}
[ "$(id -u)" = 0 ] || { echo "fresh-check.sh needs root" >&2; exit 2; }

if [ ! -x "$root/usr/bin/gcc" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase --include=gcc,libc6-dev,ca-certificates bookworm "$root" \
    http://deb.debian.org/debian
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

toolchain=$(rustc --print sysroot)
rm -rf "$root/srv/hypermesh" "$root/srv/cargo"
git clone -q "$repo" "$root/srv/hypermesh"
mkdir -p "$root/opt/rust" "$root/srv/shared" "$root/srv/cargo/registry"
cp -r "${CARGO_HOME:-$HOME/.cargo}/registry/index" "${CARGO_HOME:-$HOME/.cargo}/registry/cache" \
  "$root/srv/cargo/registry/"
chroot "$root" id tester >/dev/null 2>&1 || chroot "$root" useradd -m tester

# Root builds and tests; then the same tree and CARGO_HOME, handed to tester so nothing is
# rebuilt, are tested as the unprivileged user.
inside='cd /srv/hypermesh
echo "== tracefs/bpffs mounts: $(grep -cE " - (tracefs|bpf) " /proc/self/mountinfo)"
for t in bpftool lstopo ip tmux python3 promtool kill; do type -P $t >/dev/null || echo "== no $t"; done
cargo run --release -- profile; prc=$?; echo "== profile exit $prc"
test_as() {
  local who=$1 log=/tmp/test-$1.log; shift
  "$@" cargo test --workspace >$log 2>&1; local rc=$?
  echo "== cargo test as $who: exit $rc, $(grep -c "^SKIP" $log) skips ($log in the root)"
  grep "^test result" $log |
    awk "{p+=\$4; f+=\$6; i+=\$8} END {print \"== passed\", p, \"failed\", f, \"ignored\", i}"
  grep -E "^SKIP|^---- |panicked" $log | sort | uniq -c
  return $rc
}
test_as root env; rrc=$?
chown -R tester: /srv/hypermesh /srv/cargo
test_as tester setpriv --reuid=tester --regid=tester --init-groups env HOME=/home/tester; urc=$?
[ $prc = 0 ] && [ $rrc = 0 ] && [ $urc = 0 ]'

# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private -- bash -c '
set -e
r=$1
mount --bind "$r" "$r"  # / is a mount point on a real machine (unshare -m in the tests needs it)
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"
mount --rbind /dev "$r/dev"
mount --bind -o ro "$2" "$r/opt/rust"
[ -z "$3" ] || mount --bind -o ro "$3" "$r/srv/shared"
exec chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb CARGO_HOME=/srv/cargo CARGO_INCREMENTAL=0 \
  RUST_TEST_NOCAPTURE=1 PATH=/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash -c "$4"' fresh-check "$root" "$toolchain" "${FRESH_SHARED:-}" "$inside"
