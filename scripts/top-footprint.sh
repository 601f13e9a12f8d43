#!/usr/bin/env bash
# Measures what `hypermesh top --interval 1s` costs while it draws, side by side with btop at
# the same refresh: both run in 120x40 tmux panes (private socket) for the same wall-clock
# window; CPU time from /proc/PID/task/*/schedstat (nanoseconds on a CPU, all threads), current
# and peak RSS from VmRSS/VmHWM in /proc/PID/status. Goal for top: <= 1 % of one core and
# <= 15 MiB RSS. btop is optional (`apt-get install -y btop`); without it only top is measured.
#
# Usage: scripts/top-footprint.sh [SECONDS] [BINARY]   (defaults: 60, target/release/hypermesh)
set -euo pipefail
secs=${1:-60}
bin=${2:-target/release/hypermesh}
[[ -x $bin ]] || { echo "no executable $bin (cargo build --release -p hypermesh)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "tmux is needed" >&2; exit 1; }
bin=$(realpath "$bin")
sock=hypermesh-top-footprint-$$
state=$(mktemp -d)
btop_conf=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$state" "$btop_conf"' EXIT

tmux -L "$sock" -f /dev/null new-session -d -s top -x 120 -y 40 \
    "HYPERMESH_STATE_DIR=$state exec $bin top --interval 1s"
tools=(top)
if command -v btop >/dev/null; then
    # btop's refresh is update_ms in its config; 1000 ms like top's interval.
    mkdir -p "$btop_conf/btop"
    printf 'update_ms = 1000\n' >"$btop_conf/btop/btop.conf"
    tmux -L "$sock" new-session -d -s btop -x 120 -y 40 "XDG_CONFIG_HOME=$btop_conf exec btop"
    tools+=(btop)
else
    echo "btop not installed: measuring top alone" >&2
fi
sleep 3 # let both start and draw their first frames

pid_of() { tmux -L "$sock" display-message -p -t "=$1:" '#{pane_pid}'; }
runtime_ns() { # sum over threads of the first schedstat field: ns on a CPU
    local total=0 ns
    for task in /proc/$1/task/*; do
        read -r ns _ <"$task/schedstat" 2>/dev/null || ns=0
        total=$((total + ns))
    done
    echo "$total"
}
declare -A pid n0
for t in "${tools[@]}"; do
    pid[$t]=$(pid_of "$t")
    n0[$t]=$(runtime_ns "${pid[$t]}")
done
w0=$(date +%s.%N)
sleep "$secs"
w1=$(date +%s.%N)
for t in "${tools[@]}"; do
    p=${pid[$t]}
    n1=$(runtime_ns "$p")
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status")
    awk -v t="$t" -v ns="$((n1 - n0[$t]))" -v w0="$w0" -v w1="$w1" -v rss="$rss" -v hwm="$hwm" 'BEGIN {
        wall = w1 - w0
        printf "%-5s over %.1f s at 1 s refresh: cpu %.3f%% of one core (%.1f ms); RSS %.1f MiB (peak %.1f MiB)\n",
            t, wall, 100 * ns / 1e9 / wall, ns / 1e6, rss / 1024, hwm / 1024
    }'
done
tmux -L "$sock" send-keys -t =top: q
sleep 1
if tmux -L "$sock" has-session -t =top 2>/dev/null; then
    echo "top did not exit on q" >&2
    exit 1
fi
