#!/usr/bin/env bash
# Compares `hypermesh gpus --json` with nvidia-smi on a host with NVIDIA GPUs: for every GPU
# nvidia-smi lists, hypermesh must report the same bus id (case and domain width normalised:
# nvidia-smi prints 00000000:01:00.0, hypermesh 0000:01:00.0), name, UUID, driver version, and
# total memory within 1 %; hypermesh must not report NVIDIA GPUs that nvidia-smi does not.
#
# Usage: scripts/gpu-check.sh            builds the release binary with cargo, then compares
#        HYPERMESH_BIN=path scripts/gpu-check.sh   uses a binary built elsewhere (a host
#                                                  without network or toolchain)
# Exit: 0 all match, 1 a mismatch, 2 cannot run here (no nvidia-smi, no python3, build failed).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "gpu-check: $*" >&2; exit 2; }
command -v nvidia-smi >/dev/null || die "nvidia-smi not found: this check needs an NVIDIA host"
command -v python3 >/dev/null || die "python3 not found"

bin=${HYPERMESH_BIN:-}
if [[ -z $bin ]]; then
    command -v cargo >/dev/null || die "cargo not found (or set HYPERMESH_BIN to a built binary)"
    cargo build --release --locked -p hypermesh || die "release build failed"
    bin=target/release/hypermesh
fi
[[ -x $bin ]] || die "$bin is not an executable"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" gpus --json --verbose >"$tmp/hypermesh.json" 2>"$tmp/hypermesh.err" || {
    cat "$tmp/hypermesh.err" >&2
    die "hypermesh gpus --json failed"
}
nvidia-smi --query-gpu=name,uuid,memory.total,driver_version,pci.bus_id \
    --format=csv,noheader,nounits >"$tmp/smi.csv" || die "nvidia-smi failed"

echo "== hypermesh: $(cat "$tmp/hypermesh.err")"
echo "== nvidia-smi:"
cat "$tmp/smi.csv"

python3 - "$tmp/hypermesh.json" "$tmp/smi.csv" <<'PY'
import csv, json, sys

def bus_id(text):
    """0000:01:00.0 from 00000000:01:00.0 or 0000:01:00.0 (any case)."""
    domain, bus, devfn = text.strip().lower().split(":")
    return f"{int(domain, 16):04x}:{bus}:{devfn}"

gpus = json.load(open(sys.argv[1]))
by_bus = {bus_id(g["pci_address"]): g for g in gpus}
rows = [r for r in csv.reader(open(sys.argv[2]), skipinitialspace=True) if r]
failures = []

def check(what, ok, got, want):
    print(f"  {'ok  ' if ok else 'FAIL'} {what}: hypermesh {got!r}, nvidia-smi {want!r}")
    if not ok:
        failures.append(what)

seen = set()
for name, uuid, mem_mib, driver, bus in rows:
    b = bus_id(bus)
    seen.add(b)
    print(f"GPU {b}")
    g = by_bus.get(b)
    if g is None:
        check("present", False, None, b)
        continue
    check("name", g.get("model") == name, g.get("model"), name)
    check("uuid", g.get("uuid") == uuid, g.get("uuid"), uuid)
    want = int(mem_mib) * 1024 * 1024
    got = g.get("memory_total_bytes")
    check("memory within 1%", got is not None and abs(got - want) <= want / 100, got, want)
    check("driver version", g.get("driver_version") == driver, g.get("driver_version"), driver)
    for note in g.get("notes", []):
        print(f"  note: {note}")

extra = [a for a, g in by_bus.items() if g.get("vendor_id") == "10de" and a not in seen]
check("no NVIDIA GPU unknown to nvidia-smi", not extra, extra, [])
check("at least one GPU compared", bool(rows), len(rows), ">0")
print("gpu-check:", "all match" if not failures else f"{len(failures)} mismatch(es): {failures}")
sys.exit(1 if failures else 0)
PY
