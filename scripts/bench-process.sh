#!/usr/bin/env bash
# Times whole processes: `hypermesh profile --json` beside the sysinfo-based comparison program
# (crates/hypermesh-os/examples/sysinfo_profile.rs) and the floor under it
# (crates/hypermesh-os/examples/read_floor.rs: only the system calls a profile of this host makes,
# on one thread and on two, and with nothing to do: the start-up of a Rust program), then
# `hypermesh assets` and `assets --json` (ledger in a temporary state directory) and
# `hypermesh --version` (start-up alone), all release builds. This VM's speed drifts by up to 2x
# within minutes, so with hyperfine (apt install hyperfine) the commands run in ROUNDS rounds of
# RUNS runs each, one after the other within a round, and the median of the round medians is
# printed per command; without it, a plain loop of RUNS runs per command. With perf installed,
# CPU time and page faults of the profile, the floor and the sysinfo program follow.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-100}
rounds=${ROUNDS:-5}
cargo build --release -q -p hypermesh --bin hypermesh
cargo build --release -q -p hypermesh-os --example sysinfo_profile --example read_floor
hm=target/release/hypermesh
si=target/release/examples/sysinfo_profile
floor=target/release/examples/read_floor
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
# A listing creates nothing: one allocation makes the ledger the listings then read.
"$hm" assets allocate --state-dir "$state" --kind memory --count 1MiB --holder bench --for 1h >/dev/null
"$floor" record >"$state/steps"
: >"$state/nothing"
echo "floor: $(wc -l <"$state/steps") steps ($(cut -d' ' -f1 "$state/steps" | sort | uniq -c | xargs))"
commands=("$hm profile --json" "$si" "$floor $state/steps" "$floor --threads 2 $state/steps"
    "$floor $state/nothing" "$hm assets --state-dir $state" "$hm assets --json --state-dir $state"
    "$hm --version")
if command -v hyperfine >/dev/null; then
  for round in $(seq "$rounds"); do
    # Quiet unless it fails: hyperfine warns of outliers in every round on this VM.
    hyperfine -N --warmup 10 --runs "$runs" --export-json "$state/round$round.json" "${commands[@]}" \
      >"$state/hyperfine.log" 2>&1 || { cat "$state/hyperfine.log"; exit 1; }
  done
  python3 - "$state" "$rounds" <<'PY'
import json, statistics, sys
state, rounds = sys.argv[1], int(sys.argv[2])
medians = {}
for r in range(1, rounds + 1):
    for result in json.load(open(f"{state}/round{r}.json"))["results"]:
        medians.setdefault(result["command"], []).append(statistics.median(result["times"]) * 1e3)
for command, ms in medians.items():
    rounds_text = " ".join(f"{m:.2f}" for m in ms)
    print(f"{statistics.median(ms):6.2f} ms  (rounds: {rounds_text})  {command}")
PY
else
  for cmd in "${commands[@]}"; do
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do $cmd >/dev/null; done
    end=$(date +%s%N)
    echo "$cmd: $(( (end - start) / runs / 1000 )) µs per run (mean of $runs)"
  done
fi
if command -v perf >/dev/null; then
  for cmd in "$hm profile --json" "$floor $state/steps" "$si"; do
    # shellcheck disable=SC2086 # the command is split into words on purpose
    perf stat -r "$runs" -e task-clock,page-faults $cmd 2>&1 >/dev/null |
      awk -v c="$cmd" '/task-clock/ {t = $1} /page-faults/ {f = $1} END {print "perf: " t " ms CPU, " f " page faults  " c}'
  done
fi
