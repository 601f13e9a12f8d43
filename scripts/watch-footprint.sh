#!/usr/bin/env bash
# Measures what `hypermesh watch --interval 1s --json` costs while it runs: CPU time over a
# wall-clock window (utime + stime from /proc/PID/stat, in USER_HZ ticks, and the nanosecond
# run time from /proc/PID/schedstat where the kernel has it: ticks are too coarse for 0.1 %),
# and current/peak RSS from /proc/PID/status. Goal: < 0.1 % of one core and < 10 MiB RSS.
#
# Usage: scripts/watch-footprint.sh [SECONDS] [BINARY]   (defaults: 20, target/release/hypermesh)
set -euo pipefail
secs=${1:-20}
bin=${2:-target/release/hypermesh}
[[ -x $bin ]] || { echo "no executable $bin (cargo build --release -p hypermesh)" >&2; exit 1; }
hz=$(getconf CLK_TCK)

"$bin" watch --interval 1s --json >/dev/null &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' EXIT
sleep 2 # let it start and take its first samples

ticks() { # utime + stime: fields 14 and 15 after the ")" that ends the command name
    local stat rest
    stat=$(cat "/proc/$pid/stat")
    rest=${stat##*) }
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
}
runtime_ns() { # first field of schedstat: time on a CPU, ns (all threads of the process)
    local total=0 ns
    for task in /proc/$pid/task/*; do
        read -r ns _ <"$task/schedstat" 2>/dev/null || ns=0
        total=$((total + ns))
    done
    echo "$total"
}
t0=$(ticks); n0=$(runtime_ns); w0=$(date +%s.%N)
sleep "$secs"
t1=$(ticks); n1=$(runtime_ns); w1=$(date +%s.%N)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
kill -INT "$pid"
wait "$pid"
rc=$?
trap - EXIT
awk -v t="$((t1 - t0))" -v ns="$((n1 - n0))" -v hz="$hz" -v w0="$w0" -v w1="$w1" -v rss="$rss" -v hwm="$hwm" -v rc="$rc" 'BEGIN {
    wall = w1 - w0
    printf "watch over %.1f s: cpu %.4f%% of one core by schedstat (%.2f ms), %.3f%% by ticks (%d at %d Hz); RSS %.1f MiB (peak %.1f MiB); exit %d after SIGINT\n",
        wall, 100 * ns / 1e9 / wall, ns / 1e6, 100 * t / hz / wall, t, hz, rss / 1024, hwm / 1024, rc
}'
