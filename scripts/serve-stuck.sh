#!/usr/bin/env bash
# `hypermesh serve` under stuck connections (issue 17): latency of /healthz and /metrics with
# 0, 64 and 500 connections that never finish a request or never read their replies.
# Loopback only, bounded: each round opens COUNT sockets, times ROUNDS requests of each path,
# closes everything.
# Usage: scripts/serve-stuck.sh [hypermesh serve options...]
#   env: HYPERMESH_BIN (default target/release/hypermesh, built if missing), PORT (19470),
#        COUNTS ("0 64 500"), ROUNDS (50)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${HYPERMESH_BIN:-target/release/hypermesh}
port=${PORT:-19470}
counts=${COUNTS:-0 64 500}
rounds=${ROUNDS:-50}
[ -x "$bin" ] || cargo build --release -p hypermesh
cargo build --release -q -p hypermesh-server --example serve_stuck
attack=target/release/examples/serve_stuck
state=$(mktemp -d)
log=$state/serve.log
"$bin" serve --listen "127.0.0.1:$port" --state-dir "$state" "$@" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$log"; echo "server did not start" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for count in $counts; do
  "$attack" "127.0.0.1:$port" "$count" "$rounds" || { echo "server log:"; cat "$log"; kill -0 "$pid" || echo "server exited"; exit 1; }
  echo "     server: $(awk '/^Threads:/ {t=$2} /^VmRSS:/ {r=$2} END {print t " threads, RSS " r " KiB"}' "/proc/$pid/status"), $(ls "/proc/$pid/fd" | wc -l) fds"
  sleep 1
done
