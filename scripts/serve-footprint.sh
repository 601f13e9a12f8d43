#!/usr/bin/env bash
# Footprint of `hypermesh serve` with the inventory cached: idle RSS, /metrics time (server-side
# as the agent reports it, and loopback round trip), and CPU share when scraped every 15 s.
# Targets (issue 8): /metrics <= 2 ms server-side, RSS <= 10 MiB idle, <= 0.1 % of a core.
# Usage: scripts/serve-footprint.sh [hypermesh serve options...]
#   env: HYPERMESH_BIN (default target/release/hypermesh, built if missing), PORT (19469),
#        SCRAPES (200), IDLE_S (30: seconds of idle CPU measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${HYPERMESH_BIN:-target/release/hypermesh}
port=${PORT:-19469}
scrapes=${SCRAPES:-200}
idle_s=${IDLE_S:-30}
[ -x "$bin" ] || cargo build --release -p hypermesh
log=$(mktemp)
"$bin" serve --listen "127.0.0.1:$port" "$@" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$url/healthz" >/dev/null || { cat "$log"; echo "server did not start" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }

curl -sf "$url/metrics" >/dev/null
sleep 1
echo "idle RSS after first scrape: $(rss_kib) KiB"

c0=$(cpu_ticks); sleep "$idle_s"; c1=$(cpu_ticks)

total=0
server=0
c2=$(cpu_ticks)
for _ in $(seq "$scrapes"); do
  t=$(curl -sf -o /tmp/hypermesh-footprint.$$ -w '%{time_total}' "$url/metrics")
  s=$(awk '/^hypermesh_scrape_collector_duration_seconds/ {sum += $2} END {print sum + 0}' /tmp/hypermesh-footprint.$$)
  total=$(awk -v a="$total" -v b="$t" 'BEGIN {print a + b}')
  server=$(awk -v a="$server" -v b="$s" 'BEGIN {print a + b}')
done
c3=$(cpu_ticks)
rm -f /tmp/hypermesh-footprint.$$
echo "RSS after $scrapes scrapes: $(rss_kib) KiB"
awk -v n="$scrapes" -v total="$total" -v server="$server" -v c="$((c3 - c2))" -v hz="$ticks" 'BEGIN {
  printf "collectors per scrape (server-side): %.3f ms\n", server / n * 1000
  printf "round trip per scrape (curl, loopback): %.3f ms\n", total / n * 1000
  printf "agent CPU per scrape (utime+stime): %.3f ms\n", c / hz / n * 1000
}'
awk -v idle="$((c1 - c0))" -v idle_s="$idle_s" -v c="$((c3 - c2))" -v n="$scrapes" -v hz="$ticks" 'BEGIN {
  idle_share = idle / hz / idle_s
  scrape_share = (c / hz / n) / 15
  printf "idle CPU: %.4f %% of a core over %d s\n", idle_share * 100, idle_s
  printf "CPU when scraped every 15 s: %.4f %% of a core\n", (idle_share + scrape_share) * 100
}'
