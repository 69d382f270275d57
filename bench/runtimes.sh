#!/usr/bin/env bash
# Container start, side by side in one interleaved run, on the same busybox bundle and config:
# ocirun + ocinit, crun and runc (Debian packages, installed if missing), and the floor
# (`unshare ... chroot ROOTFS /bin/true`). Wall and CPU (user+sys of the whole tree) per start,
# then the syscalls ocinit makes from its start to the user's execve.
# usage: bench/runtimes.sh [ROUNDS]   (as root, after the release builds)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}
for p in crun runc strace; do command -v "$p" >/dev/null || missing+=("$p"); done
if [ -n "${missing[*]:-}" ]; then apt-get install -y -qq "${missing[@]}" >/dev/null; fi
rel=$PWD/target/x86_64-unknown-linux-musl/release
b=$(mktemp -d /tmp/ocinit-bench.XXXXXX); trap 'rm -rf "$b"' EXIT
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp" "$b/rootfs/etc" "$b/oc"
cp /bin/busybox "$b/rootfs/bin/" && for a in sh true; do ln -s busybox "$b/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$b/rootfs/etc/passwd"
# crun/runc on a cgroup v1 host with an empty-but-present v2 root refuse "hybrid mode" unless
# every v2 controller is also mounted as v1 (see shared/reference/anchors-measured.md).
if [ -f /sys/fs/cgroup/unified/cgroup.controllers ] && grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers \
   && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
# `crun spec` as the base, made non-interactive and running /bin/true, the same for every
# contestant; its cgroup mount goes, because the floor cannot do it (with it, ocinit's v1
# cgroup tree costs about 140 system calls on this hybrid host: one bind per hierarchy).
mkdir -p "$b/sec"
profile=$PWD/../shared/testdata/seccomp/docker-default-amd64.oci.json
(cd "$b" && crun spec && python3 - "$b/config.json" "$profile" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"].update(terminal=False, args=["/bin/true"], env=["PATH=/bin"])
c["root"]["path"] = sys.argv[1].rsplit("/", 1)[0] + "/rootfs"
c["hostname"] = "bench"
c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"]
json.dump(c, open(p, "w"), indent=1)
# The same config with Docker's default seccomp profile (OCI form), in a second bundle.
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))
json.dump(c, open(sys.argv[1].rsplit("/", 1)[0] + "/sec/config.json", "w"), indent=1)
PY
)
gcc -O2 -static -o "$b/initbench" bench/initbench.c
# The init as shipped: stripped (ocirun copies it into a sealed memfd at every start).
strip -o "$b/ocinit" "$rel/ocinit"
oc="$rel/ocirun --root $b/oc --init $b/ocinit run --no-new-keyring -b $b oc1"
ocs="$rel/ocirun --root $b/oc --init $b/ocinit run --no-new-keyring -b $b/sec oc2"
echo "Without seccomp, then with Docker's profile (the same config plus linux.seccomp):"
"$b/initbench" "$rounds" \
  "/usr/bin/unshare --mount --uts --ipc --net --pid --fork --mount-proc /usr/sbin/chroot $b/rootfs /bin/true" \
  "$oc" "/usr/bin/crun run --no-new-keyring -b $b c1" "/usr/sbin/runc run --no-new-keyring -b $b r1" \
  "$ocs" "/usr/bin/crun run --no-new-keyring -b $b/sec c2" "/usr/sbin/runc run --no-new-keyring -b $b/sec r2"
echo
# Syscalls of the init: from the exec of ocinit to the exec of /bin/true, every process of it.
for cmd in "$oc" "$ocs"; do
strace -f -qq -o "$b/trace" $cmd
python3 - "$b/trace" <<'PY'
import re, sys
lines = [l.partition(" ")[::2] for l in open(sys.argv[1]).read().splitlines()]
lines = [(pid, call.lstrip()) for pid, call in lines]
# The init's processes: the one that execs the sealed binary, and every process it clones (a
# child's first calls may be printed before its parent's clone returns: two passes).
init = {pid for pid, call in lines if call.startswith('execve("/proc/self/fd/')}
for _ in range(3):
    for pid, call in lines:
        m = re.search(r"clone3?\(.*= (\d+)$", call) or re.search(r"<\.\.\. clone3? resumed>.*= (\d+)$", call)
        if pid in init and m:
            init.add(m.group(1))
count, started = 0, False
for pid, call in lines:
    if pid not in init or call.startswith(("+++", "---", "<...")):
        continue
    if call.startswith('execve("/proc/self/fd/'):
        started = True
        continue
    if started and call.startswith("execve("):
        break
    count += started
print(f"ocinit syscalls from its start to the user's execve (all its processes): {count}")
PY
done
