#!/usr/bin/env python3
"""Generate src/seccomp/syscalls.rs from a Linux source tree's own syscall tables.

Usage: python3 src/seccomp/gen_syscalls.py KERNEL_SRC_DIR > src/seccomp/syscalls.rs

Reads (paths relative to KERNEL_SRC_DIR):
  Makefile                                   VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION
  arch/x86/entry/syscalls/syscall_64.tbl     x86_64 (abis common, 64) and x32 (common, x32)
  arch/x86/entry/syscalls/syscall_32.tbl     i386 (abi i386)
  scripts/syscall.tbl                        aarch64, with the abis of syscall_abis_64 from
  scripts/Makefile.asm-headers               (the default: common,64) plus
  arch/arm64/kernel/Makefile.syscalls        (arm64's additions: renameat rlimit memfd_secret)
  arch/arm/tools/syscall.tbl                 arm EABI (abis common, eabi; never oabi)
  arch/arm/include/uapi/asm/unistd.h         ARM private __ARM_NR_* and __NR_a -> __NR_b aliases

Every name that has a number for an arch's abis is included, whether or not it has an entry
point (sys_ni_syscall or none): the kernel reserves the number, and libseccomp lists such names.
x32 numbers are stored WITHOUT __X32_SYSCALL_BIT (0x40000000).

Names are stored as FNV-1a 32-bit hashes, sorted. The script proves that the hashes of every
name it knows (the union of the x86_64, x32, i386, aarch64 and arm tables, ARM's private calls
and aliases included) are pairwise distinct: so a name is unique within its family, and a name
of one family never matches a different name of the other family's table either.

x32 has no array of its own: it is derived from x86_64's (syscall_64.tbl gives every x32 call
either x86_64's number, abi common, or an x32-only number from 512 on, abi x32, whose x86_64
twin is abi 64). `X32_MOVED` lists the x86_64 numbers whose x32 call is at
`X32_MOVED_BASE + position`; `X32_ABSENT` the x86_64 numbers x32 lacks. The script checks the
layout that needs (x32 names are x86_64 names, x86_64 numbers distinct, x32's own numbers
consecutive from 512) and that the derivation gives exactly the x32 table for every name.

For the test-only RAW_SYS_X86_64 and RAW_SYS_AARCH64 (the native table of each family, checked
against linux-raw-sys by the tests of a build for that arch) it also reads linux-raw-sys's
src/{x86_64,aarch64}/general.rs from the cargo registry ($CARGO_HOME or ~/.cargo), at the version
the crate's Cargo.lock pins (`cargo fetch` first).

`--rebuild src/seccomp/syscalls.rs` re-emits the file from the tables it records (its `names`
module) instead of a kernel tree: for a change of this script's output, not of the tables.

Stdlib only. Fails (exit status 1, message on stderr) on a duplicate name within an arch, an FNV
hash collision between any two known names (whatever their families), a number that does not fit
the family's type, or an x32 table that the derivation from x86_64 does not give. The output is
rustfmt-stable (edition 2024, default config): `rustfmt --check` on it passes.
"""

import os
import re
import sys

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193
MASK32 = (1 << 32) - 1
X32_MOVED_BASE = 512  # syscall_64.tbl: "x32-specific system call numbers start at 512"
MAX_WIDTH = 100  # rustfmt's default max_width
SHORT_ITEM = 10  # rustfmt's default short_array_element_width_threshold
FN_CALL_WIDTH = 60  # rustfmt's default fn_call_width (tuples too)

TBL_64 = "arch/x86/entry/syscalls/syscall_64.tbl"
TBL_32 = "arch/x86/entry/syscalls/syscall_32.tbl"
TBL_GENERIC = "scripts/syscall.tbl"
MK_ASM_HEADERS = "scripts/Makefile.asm-headers"
MK_ARM64 = "arch/arm64/kernel/Makefile.syscalls"
TBL_ARM = "arch/arm/tools/syscall.tbl"
UNISTD_ARM = "arch/arm/include/uapi/asm/unistd.h"


def die(msg):
    sys.stderr.write("gen_syscalls.py: error: %s\n" % msg)
    sys.exit(1)


def fnv1a32(name):
    h = FNV_OFFSET
    for b in name.encode("ascii"):
        h ^= b
        h = (h * FNV_PRIME) & MASK32
    return h


def read(src, rel):
    path = os.path.join(src, rel)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def kernel_version(src):
    path = os.path.join(src, "Makefile")
    if not os.path.exists(path):
        return "unknown"
    fields = {}
    for line in read(src, "Makefile").splitlines()[:20]:
        m = re.match(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    if not all(k in fields for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")):
        die("%s: no VERSION/PATCHLEVEL/SUBLEVEL" % path)
    return "%s.%s.%s%s" % (
        fields["VERSION"],
        fields["PATCHLEVEL"],
        fields["SUBLEVEL"],
        fields.get("EXTRAVERSION", ""),
    )


def parse_tbl(src, rel, abis, arch):
    """name -> number for the rows of `rel` whose abi is in `abis` (column 3 is the name)."""
    table = {}
    for lineno, line in enumerate(read(src, rel).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cols = line.split()
        if len(cols) < 3:
            die("%s:%d: fewer than 3 columns: %r" % (rel, lineno, line))
        nr_s, abi, name = cols[0], cols[1], cols[2]
        if abi not in abis:
            continue
        try:
            nr = int(nr_s, 0)
        except ValueError:
            die("%s:%d: bad number %r" % (rel, lineno, nr_s))
        if name in table:
            die("%s:%d: duplicate name %r for %s (%d and %d)" % (rel, lineno, name, arch, table[name], nr))
        table[name] = nr
    if not table:
        die("%s: no rows for abis %s" % (rel, ",".join(sorted(abis))))
    return table


def makefile_abis(src, rel, var):
    """The abis that `var += a,b c` lines add in a kbuild makefile."""
    abis = []
    for line in read(src, rel).splitlines():
        m = re.match(r"^\s*%s\s*\+?=(.*)$" % re.escape(var), line)
        if m:
            abis.extend(a for a in re.split(r"[\s,]+", m.group(1).strip()) if a)
    return abis


def arm_unistd(src):
    """(private, aliases) from arm's uapi unistd.h: __ARM_NR_x = base + k; __NR_a = __NR_b."""
    text = read(src, UNISTD_ARM)
    base = None
    private = {}
    aliases = {}
    for line in text.splitlines():
        m = re.match(r"^#define\s+__ARM_NR_BASE\s+\(__NR_SYSCALL_BASE\s*\+\s*(0x[0-9a-fA-F]+|\d+)\)", line)
        if m:
            base = int(m.group(1), 0)  # EABI: __NR_SYSCALL_BASE is 0
            continue
        m = re.match(r"^#define\s+__ARM_NR_(\w+)\s+\(__ARM_NR_BASE\s*\+\s*(0x[0-9a-fA-F]+|\d+)\)", line)
        if m:
            if base is None:
                die("%s: __ARM_NR_%s before __ARM_NR_BASE" % (UNISTD_ARM, m.group(1)))
            private[m.group(1)] = base + int(m.group(2), 0)
            continue
        m = re.match(r"^#define\s+__NR_([a-z][a-z0-9_]*)\s+__NR_([a-z][a-z0-9_]*)\s*$", line)
        if m:
            aliases[m.group(1)] = m.group(2)
    if not private:
        die("%s: no __ARM_NR_* private syscalls found" % UNISTD_ARM)
    return private, aliases


def load(src):
    x86_64 = parse_tbl(src, TBL_64, {"common", "64"}, "x86_64")
    x32 = parse_tbl(src, TBL_64, {"common", "x32"}, "x32")
    i386 = parse_tbl(src, TBL_32, {"i386"}, "i386")

    abis64 = makefile_abis(src, MK_ASM_HEADERS, "syscall_abis_64")
    if not abis64:
        die("%s: no syscall_abis_64" % MK_ASM_HEADERS)
    abis64 += makefile_abis(src, MK_ARM64, "syscall_abis_64")
    aarch64 = parse_tbl(src, TBL_GENERIC, set(abis64), "aarch64")

    arm = parse_tbl(src, TBL_ARM, {"common", "eabi"}, "arm")
    private, aliases = arm_unistd(src)
    for name, nr in sorted(private.items()):
        if name in arm:
            die("arm: private syscall %r also in %s" % (name, TBL_ARM))
        arm[name] = nr
    for alias, target in sorted(aliases.items()):
        if alias in arm:
            die("arm: alias %r also in %s" % (alias, TBL_ARM))
        if target not in arm:
            die("arm: alias %r names unknown %r" % (alias, target))
        arm[alias] = arm[target]

    return families_from(x86_64, i386, x32, aarch64, arm), abis64


def families_from(x86_64, i386, x32, aarch64, arm):
    """The two families, from each arch's {name: number} table."""
    families = [
        {
            "doc": "x86_64 family: x86_64, i386 (compat), x32.",
            "cfg": "x86_64",
            "module": "x86",
            "ty": "u16",
            "max": 0xFFFF,
            "arches": [
                ("X86_64", "x86_64", x86_64, "x86_64 numbers, in `NAME_HASH` order."),
                ("I386", "i386", i386, "i386 numbers, in `NAME_HASH` order."),
                ("X32", "x32", x32, None),  # derived from X86_64: no array (derive_x32)
            ],
        },
        {
            "doc": "aarch64 family: aarch64 and arm (EABI).",
            "cfg": "aarch64",
            "module": "arm",
            "ty": "u32",
            "max": 0xFFFFFFFF,
            "arches": [
                ("AARCH64", "aarch64", aarch64, "aarch64 numbers, in `NAME_HASH` order."),
                (
                    "ARM",
                    "arm",
                    arm,
                    "arm (EABI) numbers, in `NAME_HASH` order; the ARM private calls are at `0xf0000 + n`.",
                ),
            ],
        },
    ]
    return families


def check_family(fam):
    names = set()
    for const, arch, table, _ in fam["arches"]:
        for name, nr in table.items():
            if not re.match(r"^[a-z_][a-z0-9_]*$", name):
                die("%s: name %r is not [a-z_][a-z0-9_]*" % (arch, name))
            if nr < 0 or nr >= fam["max"]:  # max itself is ABSENT
                die("%s: %s = %d does not fit %s below ABSENT" % (arch, name, nr, fam["ty"]))
        names |= set(table)
    by_hash = {}
    for name in names:
        by_hash[fnv1a32(name)] = name  # check_hashes proves these distinct
    fam["hashes"] = sorted(by_hash)
    fam["names_by_hash"] = [by_hash[h] for h in fam["hashes"]]


def check_hashes(families):
    """Every name of every table (both families) has a hash no other name has: within a family
    that makes the lookup exact; across families, a name written for the other family's arches
    (in a profile shared between arches) can never select a different call of this one."""
    by_hash = {}
    for fam in families:
        for _const, arch, table, _doc in fam["arches"]:
            for name in table:
                h = fnv1a32(name)
                other = by_hash.setdefault(h, (name, arch))
                if other[0] != name:
                    die("FNV-1a 32 collision: %r (%s) and %r (%s) (0x%08x)" % (other[0], other[1], name, arch, h))
    return len(by_hash)


def derive_x32(fam):
    """x32 from x86_64: (moved, absent), the x86_64 numbers whose x32 call is at
    X32_MOVED_BASE + position (in x32 order), and those x32 lacks, ascending. Proven to give the
    x32 table exactly."""
    arches = {const: table for const, _arch, table, _doc in fam["arches"]}
    x86_64, x32 = arches["X86_64"], arches["X32"]
    stray = sorted(set(x32) - set(x86_64))
    if stray:
        die("x32 names that x86_64 lacks (cannot derive x32 from x86_64): %s" % " ".join(stray))
    if len(set(x86_64.values())) != len(x86_64):
        die("x86_64: two names share a number (cannot derive x32 from x86_64)")
    moved = sorted((x32[n], x86_64[n]) for n in x32 if x32[n] != x86_64[n])
    if [nr32 for nr32, _ in moved] != list(range(X32_MOVED_BASE, X32_MOVED_BASE + len(moved))):
        die("x32: the numbers that differ from x86_64's are not %d, %d...: %s" % (X32_MOVED_BASE, X32_MOVED_BASE + 1, moved))
    moved = [nr64 for _, nr64 in moved]
    absent = sorted(x86_64[n] for n in x86_64 if n not in x32)

    def derived(name):
        nr = x86_64.get(name)
        if nr is None or nr in absent:
            return None
        return X32_MOVED_BASE + moved.index(nr) if nr in moved else nr

    for name in fam["names_by_hash"]:
        if derived(name) != x32.get(name):
            die("x32: %s derived as %s, the table has %s" % (name, derived(name), x32.get(name)))
    if not fam["max"] > X32_MOVED_BASE + len(moved):
        die("x32: %d does not fit %s below ABSENT" % (X32_MOVED_BASE + len(moved) - 1, fam["ty"]))
    fam["x32"] = (moved, absent)


# ---- rustfmt-stable output ------------------------------------------------------------------


def num(n):
    return "0x%x" % n if n >= 0x10000 else str(n)


def array(out, indent, head, items, tail=";"):
    """Emit `head[items]tail` the way rustfmt (default config) lays it out."""
    pad = " " * indent
    one_line = "%s%s[%s]%s" % (pad, head, ", ".join(items), tail)
    if len(one_line) <= MAX_WIDTH:
        out.append(one_line)
        return
    out.append("%s%s[" % (pad, head))
    inner = " " * (indent + 4)
    if all(len(i) <= SHORT_ITEM for i in items):
        line = ""
        for item in items:
            cand = (line + " " if line else "") + item + ","
            if line and len(inner) + len(cand) >= MAX_WIDTH:  # rustfmt keeps a column spare here
                out.append(inner + line)
                line = item + ","
            else:
                line = cand
        if line:
            out.append(inner + line)
    else:
        for item in items:
            # A tuple whose contents pass fn_call_width (60) goes one element a line.
            if item.startswith("(") and len(item) - 2 > FN_CALL_WIDTH:
                out.append(inner + "(")
                for part in item[1:-1].split(", "):
                    out.append(inner + "    " + part + ",")
                out.append(inner + "),")
            else:
                out.append(inner + item + ",")
    out.append("%s]%s" % (pad, tail))


def emit(version, families, raw_version, raws):
    out = []
    w = out.append
    w("//! Syscall numbers by name for the seccomp compiler. Generated by `src/seccomp/gen_syscalls.py`")
    w("//! from Linux %s (`arch/x86/entry/syscalls/syscall_{64,32}.tbl`, `scripts/syscall.tbl` with" % version)
    w("//! the abis of `arch/arm64/kernel/Makefile.syscalls`, `arch/arm/tools/syscall.tbl`,")
    w("//! `arch/arm/include/uapi/asm/unistd.h`); do not edit.")
    w("//! Regenerate: `python3 src/seccomp/gen_syscalls.py KERNEL_SRC_DIR > src/seccomp/syscalls.rs`.")
    w("//!")
    w("//! Names are stored as FNV-1a 32-bit hashes, sorted for binary search: hash the name, find it in")
    w("//! `NAME_HASH`, and read the same index of the arch's array; `ABSENT` there means the arch lacks")
    w("//! the call. The generator proves the hashes of all the names of all five tables below (both")
    w("//! families, ARM's private calls included) pairwise distinct: a known name matches only itself,")
    w("//! in its own family's table or in the other's (a profile written for another arch never selects")
    w("//! a wrong call). Any other name matches a stored hash only by accident, with probability 2^-32")
    w("//! per stored name. Every name with a number for the arch's abis is listed, entry point or not")
    w("//! (`sys_ni_syscall` slots are reserved numbers too).")
    w("//!")
    w("//! x32 has no array: an x32 call has x86_64's number (abi `common`) or one of its own from 512")
    w("//! on (abi `x32`, with an x86_64 twin of abi `64`); the other x86_64 calls of abi `64` have no")
    w("//! x32 number. `X32_MOVED` and `X32_ABSENT` list the x86_64 numbers of those two kinds (the")
    w("//! generator proves that this gives x32's table, `names::X32`, exactly).")
    w("")
    w("/// The kernel release the tables come from.")
    w('pub const KERNEL: &str = "%s";' % version)
    for fam in families:
        ty = fam["ty"]
        n = len(fam["hashes"])
        w("")
        w("/// %s A build links only the family it compiles for." % fam["doc"])
        w("pub mod %s {" % fam["module"])
        w("    /// A number absent from an arch.")
        w("    pub const ABSENT: %s = %s::MAX;" % (ty, ty))
        w("    /// FNV-1a 32 of every name of the family, ascending (binary search).")
        array(out, 4, "pub const NAME_HASH: [u32; %d] = " % n, ["0x%08x" % h for h in fam["hashes"]])
        for const, _arch, table, doc in fam["arches"]:
            if doc is None:
                continue
            w("    /// %s" % doc)
            items = [num(table[name]) if name in table else "ABSENT" for name in fam["names_by_hash"]]
            array(out, 4, "pub const %s: [%s; %d] = " % (const, ty, n), items)
        if "x32" in fam:
            moved, absent = fam["x32"]
            w("    /// x32's own numbers (without `__X32_SYSCALL_BIT`, `0x4000_0000`) start here.")
            w("    pub const X32_MOVED_BASE: %s = %d;" % (ty, X32_MOVED_BASE))
            w("    /// x86_64 numbers whose x32 call is at `X32_MOVED_BASE` + its position here.")
            array(out, 4, "pub const X32_MOVED: [%s; %d] = " % (ty, len(moved)), [num(nr) for nr in moved])
            w("    /// x86_64 numbers, ascending, of calls x32 lacks. Every other x86_64 number is x32's too.")
            array(out, 4, "pub const X32_ABSENT: [%s; %d] = " % (ty, len(absent)), [num(nr) for nr in absent])
        w("}")
    w("")
    # Before `names`: clippy::items_after_test_module fires on items after a cfg(test) module.
    for arch, names, missing in raws:
        w("/// Every %s name that `linux_raw_sys::general` (%s) defines, with its `__NR_` constant," % (arch, raw_version))
        lacks = ", ".join("`%s`" % m for m in missing) if missing else "none"
        w("/// sorted by number. Names it lacks: %s." % lacks)
        w('#[cfg(all(test, target_arch = "%s"))]' % arch)
        items = ['("%s", linux_raw_sys::general::__NR_%s)' % (name, name) for name in names]
        array(out, 0, "pub const RAW_SYS_%s: &[(&str, u32)] = &" % arch.upper(), items)
        w("")
    w("/// Every arch of both families as (name, number), sorted by number: for tests.")
    w("#[cfg(test)]")
    w("pub mod names {")
    first = True
    for fam in families:
        for const, arch, table, _doc in fam["arches"]:
            if not first:
                w("")
            first = False
            extra = " (without `__X32_SYSCALL_BIT`)" if arch == "x32" else ""
            w("    /// %s: %d names%s." % (arch, len(table), extra))
            items = ['("%s", %s)' % (name, num(nr)) for name, nr in sorted(table.items(), key=lambda kv: (kv[1], kv[0]))]
            array(out, 4, "pub const %s: &[(&str, u32)] = &" % const, items)
    w("}")
    return "\n".join(out) + "\n"


def raw_sys_version():
    """linux-raw-sys's version in the crate's Cargo.lock (the crate is two levels above this file)."""
    lock = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Cargo.lock")
    try:
        with open(lock, encoding="utf-8") as f:
            found = re.findall(r'name = "linux-raw-sys"\nversion = "([^"]+)"', f.read())
    except OSError:
        found = []
    if len(set(found)) > 1:
        die("%s: several linux-raw-sys versions: %s" % (lock, ", ".join(sorted(set(found)))))
    return found[0] if found else "0.12.1"


def raw_sys_names(table, arch):
    """The names of `table` that linux-raw-sys's ARCH/general.rs defines as `__NR_name`."""
    version = raw_sys_version()
    home = os.path.join(os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo"), "registry", "src")
    defined = None
    if os.path.isdir(home):
        for reg in sorted(os.listdir(home)):
            path = os.path.join(home, reg, "linux-raw-sys-" + version, "src", arch, "general.rs")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    defined = set(re.findall(r"pub const __NR_(\w+): u32 = \d+;", f.read()))
                break
    if defined is None:
        die("linux-raw-sys-%s/src/%s/general.rs not found under %s (run `cargo fetch`)" % (version, arch, home))
    present = sorted((table[n], n) for n in table if n in defined)
    missing = sorted(n for n in table if n not in defined)
    extra = sorted(n for n in defined if n not in table)
    return version, [n for _, n in present], missing, extra


def load_committed(path):
    """The kernel release and the arch tables recorded in a syscalls.rs this script wrote (its
    `names` module), so the file can be re-emitted without the kernel tree."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    version = re.search(r'pub const KERNEL: &str = "([^"]+)";', text).group(1)
    tables = {}
    for const in ("X86_64", "I386", "X32", "AARCH64", "ARM"):
        body = re.search(r"    pub const %s: &\[\(&str, u32\)\] = &\[(.*?)\n    \];" % const, text, re.S)
        if body is None:
            die("%s: no names::%s" % (path, const))
        tables[const] = {n: int(v, 0) for n, v in re.findall(r'\("(\w+)", (0x[0-9a-f]+|\d+)\)', body.group(1))}
    return version, tables


def main(argv):
    if len(argv) == 3 and argv[1] == "--rebuild":
        version, t = load_committed(argv[2])
        families, abis64 = families_from(t["X86_64"], t["I386"], t["X32"], t["AARCH64"], t["ARM"]), None
    elif len(argv) == 2 and os.path.isdir(argv[1]):
        version = kernel_version(argv[1])
        families, abis64 = load(argv[1])
    else:
        sys.stderr.write(
            "usage: python3 src/seccomp/gen_syscalls.py KERNEL_SRC_DIR > src/seccomp/syscalls.rs\n"
            "       python3 src/seccomp/gen_syscalls.py --rebuild src/seccomp/syscalls.rs (from its own tables)\n"
        )
        return 2
    for fam in families:
        check_family(fam)
    distinct = check_hashes(families)
    for fam in families:
        if any(const == "X32" for const, _arch, _table, _doc in fam["arches"]):
            derive_x32(fam)
    raws, log_lines = [], []
    for fam in families:
        _const, arch, table, _doc = fam["arches"][0]
        raw_version, names, missing, extra = raw_sys_names(table, arch)
        raws.append((arch, names, missing))
        log_lines.append("linux-raw-sys %s %s: %d of %d names present; missing: %s\n" % (raw_version, arch, len(names), len(table), " ".join(missing) or "none"))
        if extra:
            log_lines.append("linux-raw-sys %s %s __NR_ not in the table: %s\n" % (raw_version, arch, " ".join(extra)))
    sys.stdout.write(emit(version, families, raw_version, raws))
    log = sys.stderr.write
    log("Linux %s; aarch64 abis: %s\n" % (version, ",".join(abis64) if abis64 else "as recorded"))
    for fam in families:
        for _const, arch, table, _doc in fam["arches"]:
            log("%-8s %4d names, max %s\n" % (arch, len(table), num(max(table.values()))))
        log("%s family: %d distinct names\n" % (fam["cfg"], len(fam["hashes"])))
        if "x32" in fam:
            log("x32 from x86_64: %d moved to %d.., %d absent\n" % (len(fam["x32"][0]), X32_MOVED_BASE, len(fam["x32"][1])))
    log("all families: %d distinct names, no two FNV-1a 32 hashes alike\n" % distinct)
    for line in log_lines:
        log(line)
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
