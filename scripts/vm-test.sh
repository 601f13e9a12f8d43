#!/usr/bin/env bash
# Boots a Debian 6.1 kernel under QEMU (TCG) over a read-only snapshot of this machine
# (virtme-ng), shaped unlike the CI host: 2 sockets x 2 cores, two NUMA nodes, NVMe, AHCI SSD and
# HDD, virtio-blk, e1000 and virtio-net, and a second NVMe drive that reports critical warnings.
# Inside, scripts/vm-guest.sh runs the inventory tools next to `hypermesh profile`, `hypermesh
# health` next to `smartctl -j -a`, every eBPF suite program once per attach variant, and the eBPF
# crate's integration tests; scripts/vm-report.py writes target/vm-test/report.json from that and
# fails (exit 1) on a run that did not attach or counted nothing, a failed test, an inventory
# difference or a health difference or unexpected status. The same runs then go on this
# machine's own kernel: target/vm-test/host-report.json.
#
# Installs what it needs when missing. Needs root (the kernel image is root-only, the guest runs
# as the same user). HYPERMESH_VM_TEST=skip skips it, except under HYPERMESH_REQUIRE_ALL=1.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  if [ "${HYPERMESH_REQUIRE_ALL:-}" = 1 ]; then
    echo "vm-test: FAILED: $1 (HYPERMESH_REQUIRE_ALL=1 forbids skipping)" >&2
    exit 1
  fi
  echo "vm-test: skipped: $1" >&2
  exit 0
}
[ "${HYPERMESH_VM_TEST:-}" = skip ] && skip "HYPERMESH_VM_TEST=skip"
[ "$(id -u)" = 0 ] || skip "needs root (kernel image, eBPF in the guest)"

dir=target/vm-test
venv=$dir/venv
virtme_ng=virtme-ng==1.42
started=$(date +%s)

# Packages: QEMU, the newest Debian 6.1 kernel apt offers, and the tools the guest compares with.
newest_61() {
  apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | cut -d' ' -f1 | sort -V | tail -1
}
kernel_pkg=$(newest_61)
if [ -z "$kernel_pkg" ]; then
  apt-get update -qq
  kernel_pkg=$(newest_61)
fi
[ -n "$kernel_pkg" ] || { echo "vm-test: apt offers no linux-image-6.1.0-*-amd64-unsigned" >&2; exit 1; }
packages=(qemu-system-x86 "$kernel_pkg" busybox-static python3-venv smartmontools nvme-cli hwloc
  util-linux iproute2 e2fsprogs)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "vm-test: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
release=${kernel_pkg#linux-image-}
release=${release%-unsigned}
kernel=/boot/vmlinuz-$release

# virtme-ng (not packaged in Debian 12) in a venv, with the system python the guest also sees.
if ! "$venv/bin/vng" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$virtme_ng"
fi

# What runs inside: the CLI and the eBPF crate's integration test binaries, built here.
cargo build -q -p hypermesh
cargo test -q -p hypermesh-ebpf --no-run --message-format=json |
  /usr/bin/python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])' | sort >"$dir/tests.list.tmp"
mv "$dir/tests.list.tmp" "$dir/tests.list"

# Fresh sparse disks and output every time; the guest sees this tree read-only but out/.
rm -rf "$dir/out" "$dir/disks"
mkdir -p "$dir/out" "$dir/disks"
for d in nvme nvme-failing ssd hdd vblk; do truncate -s 512M "$dir/disks/$d.img"; done
drive() { echo "-drive if=none,id=hm-$1,file=$PWD/$dir/disks/$1.img,format=raw"; }
qemu=(
  -smp 4,sockets=2,cores=2,threads=1
  "$(drive nvme)" -device nvme,serial=HMNVME0001,drive=hm-nvme
  # A second NVMe controller whose health log reports critical warnings 0x09 (spare below
  # threshold, read-only): the health check must call it failing, as smartctl does.
  "$(drive nvme-failing)" -device nvme,serial=HMNVME0002,drive=hm-nvme-failing,smart_critical_warning=9
  -device ahci,id=hm-ahci
  "$(drive ssd)" -device ide-hd,drive=hm-ssd,bus=hm-ahci.0,rotation_rate=1,serial=HMSSD0001
  "$(drive hdd)" -device ide-hd,drive=hm-hdd,bus=hm-ahci.1,rotation_rate=7200,serial=HMHDD0001
  "$(drive vblk)" -device virtio-blk-pci,drive=hm-vblk,serial=HMVBLK0001
  -netdev user,id=hm-net0,restrict=on -device e1000,netdev=hm-net0
  -netdev user,id=hm-net1,restrict=on -device virtio-net-pci,netdev=hm-net1
)

echo "vm-test: booting $release under TCG" >&2
# --verbose: the guest kernel's console goes to guest.log too (lockups, RCU stalls, oopses).
PATH="$PWD/$venv/bin:$PATH" timeout 1200 vng --verbose --run "$kernel" --disable-kvm \
  --cpus 4 --memory 2G --numa 1G,cpus=0-1 --numa 1G,cpus=2-3 \
  --rwdir="$PWD/$dir/out" --qemu-opts="${qemu[*]}" \
  --exec "HYPERMESH_REQUIRE_ALL=${HYPERMESH_REQUIRE_ALL:-} scripts/vm-guest.sh $PWD/$dir/out $PWD/target/debug/hypermesh $PWD/$dir/tests.list" \
  >"$dir/guest.log" 2>&1 || echo "vm-test: the guest exited $? (see $dir/guest.log)" >&2
rm -rf "$dir/disks"

status=0
/usr/bin/python3 scripts/vm-report.py "$dir/out" "$dir/report.json" || status=$?

# The same runs on this machine's kernel (the matrix's other column), in private mount and
# network namespaces so its veth and hidden BTF stay there.
rm -rf "$dir/host"
unshare -m -n --propagation private scripts/vm-guest.sh --host "$PWD/$dir/host" "$PWD/target/debug/hypermesh" \
  >"$dir/host.log" 2>&1 || echo "vm-test: the host runs exited $? (see $dir/host.log)" >&2
/usr/bin/python3 scripts/vm-report.py "$dir/host" "$dir/host-report.json" || status=$?
echo "vm-test: $dir/report.json, $dir/host-report.json in $(($(date +%s) - started)) s" >&2
exit $status
