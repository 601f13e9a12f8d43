#!/usr/bin/env bash
# Times whole processes: `hypermesh profile --json` beside the sysinfo-based comparison program
# (crates/hypermesh-os/examples/sysinfo_profile.rs), `hypermesh assets` and `assets --json`
# (ledger in a temporary state directory), and `hypermesh --version` (start-up alone), all
# release builds. Uses hyperfine when installed (apt install hyperfine), else a plain loop of N runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-200}
cargo build --release -q -p hypermesh --bin hypermesh
cargo build --release -q -p hypermesh-os --example sysinfo_profile
hm=target/release/hypermesh
si=target/release/examples/sysinfo_profile
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
"$hm" assets --state-dir "$state" >/dev/null
commands=("$hm profile --json" "$si" "$hm assets --state-dir $state" "$hm assets --json --state-dir $state"
    "$hm --version")
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 20 --runs "$runs" "${commands[@]}"
else
  for cmd in "${commands[@]}"; do
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do $cmd >/dev/null; done
    end=$(date +%s%N)
    echo "$cmd: $(( (end - start) / runs / 1000 )) µs per run (mean of $runs)"
  done
fi
