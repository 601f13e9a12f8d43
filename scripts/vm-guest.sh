#!/usr/bin/env bash
# Runs inside the QEMU guest that scripts/vm-test.sh boots (the runs also on the host): the
# inventory tools next to `hypermesh profile`, `hypermesh health` next to `smartctl -j -a`, every
# suite program under load once per attach variant (with the kernel's BTF visible, then hidden),
# and the eBPF crate's integration tests.
# Writes raw outputs only; scripts/vm-report.py turns them into report.json.
#
#   vm-guest.sh OUT HYPERMESH TESTS_LIST     (TESTS_LIST: "name path" per line)
#   vm-guest.sh --host OUT HYPERMESH         (the runs only, on the host's kernel, inside
#                                             `unshare -m -n` so its mounts and veth stay private)
#   vm-guest.sh --btf-hidden OUT HYPERMESH   (re-entered in a private mount namespace)
set -uo pipefail

# The flag of `hypermesh ebpf run` that forces one attach variant: every variant of the plan
# below is forced in turn.
variant_flag="--variant"

# What each program is run with: program, the variants (as --variant takes them) that need the
# kernel's BTF and run with it visible, "|", those that must work without it and run with it
# hidden. (biolatency's raw_tp reads kernel structs through CO-RE, so needs BTF.)
plan=(
  "runqlat     tp_btf | raw_tp tracepoint"
  "syscalls    tp_btf | raw_tp tracepoint"
  "exec        fentry tp_btf | kprobe raw_tp tracepoint"
  "tcp         | tracepoint"
  "biolatency  tp_btf raw_tp | tracepoint"
  "xdp-counter | xdp_native xdp_generic"
)
run_seconds=2
run_timeout=120 # a TCG load takes 15-40 s: past this the run is stuck
btf=/sys/kernel/btf/vmlinux
veth=hm-vt0 peer=hm-vt1 peer_ns=hm-vt-peer

log() { echo "vm-guest: $*" >&2; }

# Starts, in its own process group, a background load that makes PROGRAM count something.
start_load() {
  local load
  case "$1" in
    runqlat) load='while :; do sleep 0.01; done' ;;
    syscalls) load='exec /usr/bin/python3 -c "import os
while True: os.getppid()"' ;;
    exec) load='while :; do /bin/true; done' ;;
    tcp) load='while :; do (: </dev/tcp/127.0.0.1/9) 2>/dev/null; sleep 0.05; done' ;;
    # O_DIRECT writes on the emulated NVMe's filesystem: each one is a block request.
    biolatency) load='while :; do dd if=/dev/zero of=/var/tmp/hm-load bs=64k count=16 oflag=direct status=none; done' ;;
    xdp-counter) load="exec ip netns exec $peer_ns bash -c 'while :; do echo hm >/dev/udp/10.231.0.1/9; sleep 0.01; done'" ;;
  esac
  setsid bash -c "$load" 2>/dev/null &
  load_pid=$!
}

stop_load() {
  kill -- -"$load_pid" 2>/dev/null
  wait "$load_pid" 2>/dev/null
}

# Runs PROGRAM (forcing VARIANT unless "auto") for run_seconds under its load; writes
# runs/PHASE.PROGRAM.VARIANT.{json,err,rc}.
run_one() {
  local phase=$1 program=$2 variant=$3
  local base="$out/runs/$phase.$program.$variant" args=(ebpf run "$program" --duration "${run_seconds}s" --json)
  [ "$program" = xdp-counter ] && args+=(--interface "$veth")
  [ "$variant" != auto ] && args+=("$variant_flag" "$variant")
  log "$phase: ${args[*]}"
  start_load "$program"
  sleep 0.2
  timeout "$run_timeout" "$hypermesh" "${args[@]}" >"$base.json" 2>"$base.err"
  echo $? >"$base.rc"
  stop_load
}

# Runs the plan's variants that belong to PHASE (btf: left of "|", btf_hidden: right of it).
run_phase() {
  local phase=$1 line program with without v
  for line in "${plan[@]}"; do
    read -r program line <<<"$line"
    with=${line%%|*} without=${line#*|}
    if [ -z "$variant_flag" ]; then
      run_one "$phase" "$program" auto
      continue
    fi
    [ "$phase" = btf ] && line=$with || line=$without
    for v in $line; do
      run_one "$phase" "$program" "$v"
    done
  done
}

# A veth pair, its peer in a namespace, for XDP: packets sent from the peer arrive on $veth.
setup_veth() {
  ip netns add "$peer_ns"
  ip link add "$veth" type veth peer name "$peer" netns "$peer_ns"
  ip addr add 10.231.0.1/24 dev "$veth" && ip link set "$veth" up
  ip -n "$peer_ns" addr add 10.231.0.2/24 dev "$peer" && ip -n "$peer_ns" link set "$peer" up
  ip -n "$peer_ns" link set lo up
}

# Both phases; the second in a private mount namespace where the BTF is hidden.
run_phases() {
  run_phase btf
  unshare -m --propagation private "$0" --btf-hidden "$out" "$hypermesh"
}

if [ "${1:-}" = --host ]; then
  out=$2 hypermesh=$3
  mkdir -p "$out/runs"
  uname -r >"$out/kernel"
  # Which hooks this kernel offers: a variant it does not is reported, not failed.
  "$hypermesh" ebpf probe --json >"$out/probe.json"
  ip link set lo up
  setup_veth
  run_phases
  ip netns delete "$peer_ns"
  rm -f /var/tmp/hm-load
  touch "$out/done"
  exit 0
fi

if [ "${1:-}" = --btf-hidden ]; then
  out=$2 hypermesh=$3
  : >/tmp/hm-no-btf
  mount --bind /tmp/hm-no-btf "$btf" || { log "cannot hide $btf"; exit 1; }
  run_phase btf_hidden
  exit 0
fi

out=$1 hypermesh=$2 tests=$3
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/inventory" "$out/runs" "$out/tests"
uname -r >"$out/kernel"

# Inventory first, before this script adds a veth or a mount.
"$hypermesh" profile --json >"$out/inventory/profile.json" 2>"$out/inventory/profile.err"
lscpu -J >"$out/inventory/lscpu.json"
lscpu -J -e=CPU,NODE,SOCKET,CORE >"$out/inventory/lscpu-cpus.json"
lsblk -J -b -d -o NAME,SIZE,ROTA,TYPE,TRAN >"$out/inventory/lsblk.json"
nvme list -o json >"$out/inventory/nvme.json"
lstopo --of xml >"$out/inventory/lstopo.xml"

# Health, before any load moves the I/O counters: hypermesh's report, then smartctl's for each
# disk (NVMe by controller), one right after the other.
mkdir -p "$out/health"
"$hypermesh" health --json >"$out/health/health.json" 2>"$out/health/health.err"
echo $? >"$out/health/health.rc"
for dev in /dev/nvme[0-9] /dev/nvme[0-9][0-9] /dev/sd[a-z] /dev/vd[a-z]; do
  [ -e "$dev" ] || continue
  smartctl -j -a "$dev" >"$out/health/smartctl.${dev##*/}.json" 2>&1
done

# eBPF run-time statistics stay on for the whole boot, so no `ebpf run` flips the kernel's
# bpf_stats_enabled static key: each flip patches the jump that every bpf_prog_run goes through,
# and under TCG such a patch while the getppid loop runs it livelocked the guest (RCU stalls and
# soft lockups with both CPUs at that jump in bpf_trace_run2, guest.log, 2026-12-04). `ebpf run`
# subtracts counts taken before it starts; the host's runs and the tests still flip the key.
sysctl -qw kernel.bpf_stats_enabled=1
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
# A real filesystem where the tests and the load write with O_DIRECT (virtme-ng's is tmpfs).
# On the healthy NVMe drive (vm-test.sh's serial HMNVME0001), whichever number the kernel gave it.
load_disk=
for c in /sys/class/nvme/nvme*; do
  [ "$(tr -d ' ' <"$c/serial")" = HMNVME0001 ] && load_disk=/dev/${c##*/}n1
done
mkfs.ext4 -q -F "$load_disk" && mount "$load_disk" /var/tmp || log "no ext4 on the NVMe drive HMNVME0001 (${load_disk:-not found})"
setup_veth
run_phases

# The eBPF crate's integration tests, one binary at a time from its package root (as cargo
# runs them), each bounded so one hang does not eat the CI's time. Left out: the tests whose
# thresholds assume native speed (TCG is many times slower); the host's `cargo test` runs them.
# The guest offers every hook (kprobes, no lockdown, BTF), so it writes no probe: any variant
# that does not attach there is a failure.
timing_tests=(our_per_event_cost_is_not_higher same_order_of_magnitude_per_busy_bucket)
skips=()
for t in "${timing_tests[@]}"; do
  skips+=(--skip "$t")
  echo "$t" >>"$out/tests/skipped"
done
while read -r name path; do
  log "test $name"
  (cd "$repo/crates/hypermesh-ebpf" && timeout 300 "$path" --test-threads=1 "${skips[@]}" >"$out/tests/$name.log" 2>&1)
  echo $? >"$out/tests/$name.rc"
done <"$tests"
touch "$out/done"
log done
