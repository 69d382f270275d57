#!/usr/bin/env bash
# Seccomp compile benchmark, one run, same profile: ocinit's compiler (including its JSON
# parsing) against libseccomp 2.5 as runc drives it (Debian's python3-seccomp; the binding's
# call overhead is measured apart and reported), program lengths, and the BPF instructions
# executed per syscall (from the interpreter in tests/seccomp.rs).
# usage: bench/seccomp.sh [PROFILE] [ROUNDS]   (default: Docker's profile in OCI form)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-../shared/testdata/seccomp/docker-default-amd64.oci.json}
rounds=${2:-300}
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || { echo "needs Debian's python3-seccomp" >&2; exit 1; }
cargo build --release -q --example seccomp_time

echo "== compile ($profile, median of $rounds)"
target/x86_64-unknown-linux-musl/release/examples/seccomp_time "$profile" "$rounds"
/usr/bin/python3 - "$profile" "$rounds" <<'PY'
import importlib.util, io, os, statistics, sys, tempfile, time
spec = importlib.util.spec_from_file_location("lib", "tests/seccomp_libseccomp.py")
lib = importlib.util.module_from_spec(spec); spec.loader.exec_module(lib)
path, rounds = sys.argv[1], int(sys.argv[2])
out = os.path.join(tempfile.mkdtemp(), "filter.bpf")
def once(optimize):
    # main() = runc's translation: filter, arches, every rule added, then exported.
    t0 = time.perf_counter()
    argv = (["--optimize"] if optimize else []) + [path, out]
    saved = sys.stdout; sys.stdout = io.StringIO()
    try: lib.main(argv)
    finally: sys.stdout = saved
    return time.perf_counter() - t0, os.path.getsize(out) // 8
for optimize, label in ((False, "linear"), (True, "binary tree (runc: >32 names)")):
    runs = [once(optimize) for _ in range(rounds)]
    med = statistics.median(t for t, _ in runs)
    print(f"libseccomp {label}: {runs[0][1]} instructions, build+export median {med*1e6:.0f} µs")
PY

echo "== instructions executed per syscall (median / worst over every number the profile names)"
cargo test --release -q --test seccomp instructions_executed -- --nocapture 2>&1 | grep -vE '^(running|test result|$)|^\.+$' || true
