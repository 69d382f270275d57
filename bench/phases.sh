#!/usr/bin/env bash
# Where the init's time goes: run a bundle N times with `ocirun --debug` and print, per phase
# (the init's own CLOCK_MONOTONIC timestamps, written to the log fd at debug level), the
# median time since the previous phase.
# usage: bench/phases.sh BUNDLE [RUNS]   (as root, after the release builds)
set -euo pipefail
bundle=$(realpath "$1"); runs=${2:-20}
rel=$(cd "$(dirname "$0")/.." && pwd)/target/x86_64-unknown-linux-musl/release
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
for i in $(seq "$runs"); do
  "$rel/ocirun" --root "$state" --debug --init "$rel/ocinit" run --no-new-keyring -b "$bundle" "phases$i" 2>&1 >/dev/null | grep ' phase '
done | python3 -c '
import re, statistics, sys
runs, cur, prev = [], {}, None
for line in sys.stdin:
    m = re.search(r"phase (\S+) done at (\d+) us", line)
    name, t = m.group(1), int(m.group(2))
    if name == "receive":
        cur, prev = {}, t
        runs.append(cur)
        continue
    cur[name] = t - prev
    prev = t
names = [n for n in runs[0]]
print(f"{len(runs)} runs, median µs since the previous phase (receive = the config arrived):")
for n in names:
    print(f"  {n:20s} {statistics.median(r[n] for r in runs if n in r):8.0f}")
'
