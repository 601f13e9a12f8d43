#!/usr/bin/env bash
# Times whole processes: `hypermesh profile --json` beside the sysinfo-based comparison program
# (crates/hypermesh-os/examples/sysinfo_profile.rs), both release builds. Uses hyperfine when
# installed (apt install hyperfine), else a plain loop of N runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-200}
cargo build --release -q -p hypermesh --bin hypermesh
cargo build --release -q -p hypermesh-os --example sysinfo_profile
hm=target/release/hypermesh
si=target/release/examples/sysinfo_profile
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 20 --runs "$runs" "$hm profile --json" "$si"
else
  for cmd in "$hm profile --json" "$si"; do
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do $cmd >/dev/null; done
    end=$(date +%s%N)
    echo "$cmd: $(( (end - start) / runs / 1000 )) µs per run (mean of $runs)"
  done
fi
