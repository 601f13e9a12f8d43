#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ one after another, SECONDS each (default 60), each as a
# single libFuzzer process (one core).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      # all targets when none is named
#
# Seeds: the matching files of the shared fixtures (../shared/fixtures/*.tar.gz, or
# $HYPERMESH_SHARED/fixtures), unpacked into a temporary corpus that is deleted afterwards (never
# copied into the repository), plus the same files of this host's live /proc and /sys, and the
# repository's own BPF objects for the bytecode check. Crashing inputs are kept in
# fuzz/artifacts/TARGET/ (git-ignored); each one found should become a regression test.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); nightly features come from RUSTC_BOOTSTRAP=1.
# Prints one summary line per target (seconds actually run, executions, corpus size, result) and
# exits non-zero when any target crashed.
set -euo pipefail

seconds=${1:-60}
shift || true
repo=$(cd "$(dirname "$0")/.." && pwd)
all=(cpuinfo meminfo stat diskstats netdev mountinfo pressure cgroup uevent cpulist os_release bpf_check)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

shared=${HYPERMESH_SHARED:-}
if [ -z "$shared" ]; then
    for d in "$repo/../shared" "$repo/../../shared"; do
        [ -d "$d/fixtures" ] && shared=$d && break
    done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures=$work/fixtures
mkdir -p "$fixtures"
if [ -n "$shared" ]; then
    for archive in "$shared"/fixtures/*.tar.gz; do tar xzf "$archive" -C "$fixtures"; done
else
    echo "fuzz.sh: no shared fixtures found; seeding from this host only" >&2
fi

# Files (find -path patterns under the fixtures, and live paths) that seed each target.
patterns() {
    case $1 in
        cpuinfo) echo '*/proc/cpuinfo */cpuinfo_samples/*' ;;
        meminfo) echo '*/proc/meminfo */node/node*/meminfo' ;;
        stat) echo '*/proc/stat' ;;
        diskstats) echo '*/proc/diskstats' ;;
        netdev) echo '*/proc/net/dev' ;;
        mountinfo) echo '*/proc/*/mountinfo' ;;
        pressure) echo '*/proc/pressure/*' ;;
        cgroup) echo '*/cgroup*/cpu.max */cgroup*/memory.max */memory.limit_in_bytes' ;;
        uevent) echo '*/uevent' ;;
        cpulist) echo '*/cpulist */cpumap */cpu/online */cpu/possible */shared_cpu_list */cache/index*/size */net/*/speed' ;;
        os_release) echo '*/os-release' ;;
        bpf_check) echo '' ;;
    esac
}
live() {
    case $1 in
        cpuinfo) echo /proc/cpuinfo ;;
        meminfo) echo /proc/meminfo /sys/devices/system/node/node0/meminfo ;;
        stat) echo /proc/stat ;;
        diskstats) echo /proc/diskstats ;;
        netdev) echo /proc/net/dev ;;
        mountinfo) echo /proc/self/mountinfo ;;
        pressure) echo /proc/pressure/cpu /proc/pressure/io /proc/pressure/memory ;;
        cgroup) ls /sys/fs/cgroup/*/cpu.max /sys/fs/cgroup/*/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || true ;;
        uevent) ls /sys/class/net/*/uevent 2>/dev/null || true ;;
        cpulist) echo /sys/devices/system/cpu/online /sys/devices/system/node/node0/cpulist /sys/devices/system/cpu/cpu0/cache/index0/size ;;
        os_release) echo /etc/os-release /usr/lib/os-release ;;
        bpf_check) ls "$repo"/crates/hypermesh-ebpf/bpf/*.o ;;
    esac
}

seed() {
    local target=$1 corpus=$2 n=0 p f v
    mkdir -p "$corpus"
    for p in $(patterns "$target"); do
        while IFS= read -r -d '' f; do
            cp "$f" "$corpus/fixture-$((n++))"
        done < <(find "$fixtures" -type f -path "$p" -print0 2>/dev/null)
    done
    for f in $(live "$target"); do
        [ -r "$f" ] && cat "$f" >"$corpus/live-${f//\//_}" 2>/dev/null || true
    done
    if [ "$target" = cgroup ]; then
        # The fixtures hold no cgroup limit files: the kernel's forms, written here.
        for v in "max 100000" "50000 100000" "max" "9223372036854771712" "0" "1048576"; do
            echo "$v" >"$corpus/form-${v// /_}"
        done
    fi
    ls "$corpus" | wc -l
}

cd "$repo/fuzz"
export RUSTC_BOOTSTRAP=1
# -a: debug assertions on, so arithmetic overflow on hostile input is a crash too.
cargo fuzz build -a
bin=$(ls -d target/*/release | head -1)
crashed=0
printf '%-11s %8s %12s %7s %6s  %s\n' TARGET SECONDS EXECS CORPUS SEEDS RESULT
for t in "${targets[@]}"; do
    corpus=$work/corpus/$t
    seeds=$(seed "$t" "$corpus")
    log=$work/$t.log
    start=$(date +%s)
    mkdir -p "artifacts/$t"
    if "$bin/$t" "$corpus" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see fuzz/artifacts/$t/; log tail below)"
        crashed=1
    fi
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    printf '%-11s %8s %12s %7s %6s  %s\n' "$t" "$took" "${execs:-?}" "$(ls "$corpus" | wc -l)" "$seeds" "$result"
    [ "$result" = ok ] || tail -40 "$log" | sed 's/^/    /'
done
exit "$crashed"
