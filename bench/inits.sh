#!/usr/bin/env bash
# ocinit as a PID 1 against tini-static, catatonit and dumb-init (Debian packages), one
# interleaved run: wall and CPU time of `INIT -- exit0` over bare `exit0`, peak RSS, binary size.
# usage: bench/inits.sh [ROUNDS]   (as root; installs the peers with apt-get if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-200}
for p in tini catatonit dumb-init; do command -v "$p" >/dev/null || missing+=("$p"); done
if [ -n "${missing[*]:-}" ]; then apt-get install -y -qq "${missing[@]}" >/dev/null; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
gcc -O2 -static -o "$tmp/initbench" bench/initbench.c
gcc -O2 -static -nostdlib -o "$tmp/exit0" bench/exit0.c
init=target/x86_64-unknown-linux-musl/release/ocinit
[ -x "$init" ] || cargo build --release -q
strip -o "$tmp/ocinit" "$init"
e="$tmp/exit0"
"$tmp/initbench" "$rounds" "$e" "$tmp/ocinit -- $e" "/usr/bin/tini-static -s -- $e" "/usr/bin/catatonit -- $e" "/usr/bin/dumb-init $e"
echo
printf '%-28s %10s\n' binary bytes
for b in "$tmp/ocinit" /usr/bin/tini-static /usr/bin/catatonit /usr/bin/dumb-init; do
  printf '%-28s %10s\n' "$(basename "$b")" "$(stat -c %s "$b")"
done
