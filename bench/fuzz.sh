#!/usr/bin/env bash
# Long fuzz runs (nightly + cargo-fuzz): every target for N executions (default 10 million),
# then the corpus minimized back into fuzz/corpus. Crashes land in fuzz/artifacts/<target>/:
# each one becomes a corpus file, so tests/run.sh replays it on stable from then on.
# usage: bench/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000000}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(config_decode frames mount_options seccomp_compile names unescape)
command -v cargo-fuzz >/dev/null || cargo +nightly install cargo-fuzz --locked
for t in "${targets[@]}"; do
  cargo +nightly fuzz run -O "$t" -- -runs="$runs" -max_len=65536 -print_final_stats=1 2>&1 \
    | grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|cov:' | tail -4 | sed "s/^/$t: /"
  cargo +nightly fuzz cmin -O "$t" >/dev/null 2>&1
done
