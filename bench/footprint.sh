#!/usr/bin/env bash
# Footprint of the init, as root: stripped size, and peak RSS (VmHWM) of the init while it waits
# on the exec FIFO, i.e. after every step but execve, for a busybox bundle.
# usage: bench/footprint.sh   (after `bash tests/run.sh` or the two release builds)
set -euo pipefail
cd "$(dirname "$0")/.."
rel=target/x86_64-unknown-linux-musl/release
tmp=$(mktemp -d)
trap '"$rel/ocirun" --root "$tmp/state" delete -f fp >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
strip -o "$tmp/ocinit.stripped" "$rel/ocinit"
echo "ocinit: $(stat -c %s "$rel/ocinit") bytes with symbols, $(stat -c %s "$tmp/ocinit.stripped") bytes stripped"
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/proc"
cp /bin/busybox "$tmp/rootfs/bin/" && ln -s busybox "$tmp/rootfs/bin/true"
for ns in '' '{"type":"pid"},'; do
  cat > "$tmp/config.json" <<JSON
{"ociVersion":"1.2.0","root":{"path":"rootfs"},"hostname":"fp",
 "process":{"args":["true"],"cwd":"/","env":["PATH=/bin"]},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{"namespaces":[$ns{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]}}
JSON
  "$rel/ocirun" --root "$tmp/state" create -b "$tmp" --pid-file "$tmp/pid" fp </dev/null >/dev/null
  pid=$(cat "$tmp/pid")
  echo "init waiting on the FIFO (${ns:+new pid namespace, }pid $pid): $(grep -E 'VmHWM|VmRSS' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
  "$rel/ocirun" --root "$tmp/state" delete fp
done
