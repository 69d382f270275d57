#!/usr/bin/python3
"""Compile an OCI `linux.seccomp` object with libseccomp the way runc does, for tests/seccomp.rs.

Usage: /usr/bin/python3 tests/seccomp_libseccomp.py [--optimize] [--family x86|arm] PROFILE OUT.bpf

Run it with /usr/bin/python3: Debian's python3-seccomp (the libseccomp bindings) is installed for
the system interpreter only.

PROFILE is a JSON file holding the `linux.seccomp` object itself (`-`: read it from stdin). The
translation is runc's (libcontainer/seccomp/seccomp_linux.go InitSeccomp + matchCall, specconv's
per-name expansion):
- the filter's default action is `defaultAction` (+ `defaultErrnoRet`); the family's native arch
  is always in the filter, `architectures` add more of the family (the others are skipped: a
  kernel of the family never reports them);
- libseccomp's NNP attribute is off (runc sets no_new_privs itself);
- each name of each rule is its own rule; a rule whose action (+ errno) equals the default is
  skipped; a name libseccomp cannot resolve for the family's native arch is skipped;
- ERRNO and TRACE without `errnoRet` return EPERM;
- conditions: if an argument index repeats within a rule, each condition is a rule of its own (OR),
  else one rule carries them all (AND); for SCMP_CMP_MASKED_EQ `value` is the mask and `valueTwo`
  the datum (libseccomp-golang's MakeCondition passes them as datum_a, datum_b).
runc's -ENOSYS stub (patchbpf) is NOT prepended: tests/seccomp.rs models it.

`--optimize` sets libseccomp's binary tree optimization (SCMP_FLTATR_CTL_OPTIMIZE = 2), which runc
enables for profiles of more than 32 syscall names.

`--family` picks the architecture family, as runc built for its native arch would see it:
- `x86` (the default): x86_64 native, `SCMP_ARCH_X86` and `SCMP_ARCH_X32` added when listed;
- `arm`: aarch64 native, `SCMP_ARCH_ARM` (EABI) added when listed. libseccomp's own native arch
  (this host's x86_64) is removed from the filter. Names still reach libseccomp as numbers of
  its native arch (the bindings resolve them so), which it translates back through the name to
  each arch of the filter: the same numbers runc gets on an arm64 host, where the translation
  starts from aarch64.

Writes the exported classic BPF (native-endian `struct sock_filter[]`) to OUT.bpf, and on stdout a
report, one fact per line:
  max ARCH NR         largest number libseccomp resolves for a name of the profile on ARCH (any
                      rule, as runc's findLastSyscalls; x32 numbers include 0x40000000), for the
                      native arch and each listed arch of the family that has one
  unresolved NAME     a name libseccomp cannot resolve for the native arch (skipped), whatever
                      its rule's action
  name NAME A B [C]   NAME's numbers on each ABI of the family, in ocinit's order (x86: x86_64,
                      x32 with 0x40000000, x86; arm: aarch64, arm), `-` where libseccomp has none
                      (unknown, or absent from that arch), for every name
  rules N             rules added to libseccomp
"""

import json
import sys

import seccomp

# Per family: the native arch, the archs `architectures` may add, and the ABIs of the report in
# ocinit's order.
FAMILIES = {
    "x86": {
        "native": seccomp.Arch.X86_64,
        "arches": {
            "SCMP_ARCH_X86_64": seccomp.Arch.X86_64,
            "SCMP_ARCH_X86": seccomp.Arch.X86,
            "SCMP_ARCH_X32": seccomp.Arch.X32,
        },
        "abis": [seccomp.Arch.X86_64, seccomp.Arch.X32, seccomp.Arch.X86],
    },
    "arm": {
        "native": seccomp.Arch.AARCH64,
        "arches": {
            "SCMP_ARCH_AARCH64": seccomp.Arch.AARCH64,
            "SCMP_ARCH_ARM": seccomp.Arch.ARM,
        },
        "abis": [seccomp.Arch.AARCH64, seccomp.Arch.ARM],
    },
}

OPS = {
    "SCMP_CMP_NE": seccomp.NE,
    "SCMP_CMP_LT": seccomp.LT,
    "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_EQ": seccomp.EQ,
    "SCMP_CMP_GE": seccomp.GE,
    "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}

EPERM = 1
# libseccomp's "no such syscall" (the 2.5.4 bindings return it rather than raise).
NR_SCMP_ERROR = -1


def action(name, errno):
    """runc's getAction: the libseccomp action for an OCI action name and optional errnoRet."""
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return seccomp.KILL
    if name == "SCMP_ACT_KILL_PROCESS":
        return seccomp.KILL_PROCESS
    if name == "SCMP_ACT_TRAP":
        return seccomp.TRAP
    if name == "SCMP_ACT_ERRNO":
        return seccomp.ERRNO(EPERM if errno is None else errno)
    if name == "SCMP_ACT_TRACE":
        return seccomp.TRACE(EPERM if errno is None else errno)
    if name == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if name == "SCMP_ACT_LOG":
        return seccomp.LOG
    if name == "SCMP_ACT_NOTIFY":
        return seccomp.NOTIFY
    raise SystemExit("seccomp_libseccomp.py: unknown action %r" % name)


def known(native, name):
    """runc's GetSyscallFromName succeeds: libseccomp knows `name` for the native arch. A pseudo
    number (absent on the native arch, known on another) is not a failure: add_rule places the
    rule on the arches that have the call."""
    try:
        nr = seccomp.resolve_syscall(native, name)
    except ValueError:
        return False
    return nr != NR_SCMP_ERROR


def resolve(arch, name):
    """The number of `name` on `arch`, or None (unknown, or a pseudo number: absent there)."""
    try:
        nr = seccomp.resolve_syscall(arch, name)
    except ValueError:
        return None
    # __NR_SCMP_ERROR (-1): unknown; other negative numbers: pseudo (absent on this arch).
    return nr if nr >= 0 else None


def main(argv):
    optimize = False
    family = FAMILIES["x86"]
    while argv and argv[0].startswith("--"):
        if argv[0] == "--optimize":
            optimize = True
            argv = argv[1:]
        elif argv[0] == "--family" and len(argv) > 1 and argv[1] in FAMILIES:
            family = FAMILIES[argv[1]]
            argv = argv[2:]
        else:
            raise SystemExit(__doc__)
    if len(argv) != 2:
        raise SystemExit(__doc__)
    if argv[0] == "-":
        profile = json.load(sys.stdin)
    else:
        with open(argv[0], "rb") as f:
            profile = json.load(f)

    default = action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    filt = seccomp.SyscallFilter(default)
    native = family["native"]
    # The bindings hand the host's token back unsigned; Arch.* constants are signed.
    host = seccomp.system_arch()
    host = host - (1 << 32) if host >= 1 << 31 else host
    if host != native:
        # A filter starts with libseccomp's native arch: replace it by the family's.
        filt.remove_arch(seccomp.Arch.NATIVE)
        filt.add_arch(native)
    arches = [native]
    for name in profile.get("architectures") or []:
        arch = family["arches"].get(name)
        if arch is None or arch in arches:
            continue
        filt.add_arch(arch)
        arches.append(arch)
    filt.set_attr(seccomp.Attr.CTL_NNP, 0)
    if optimize:
        filt.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)

    report = []
    unresolved = []
    count = 0
    rules = profile.get("syscalls") or []
    for rule in rules:
        act = action(rule["action"], rule.get("errnoRet"))
        args = rule.get("args") or []
        indices = [a["index"] for a in args]
        conditions = [
            seccomp.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in args
        ]
        if len(set(indices)) != len(indices):
            sets = [[c] for c in conditions]
        else:
            sets = [conditions]
        for name in rule["names"]:
            if not known(native, name):
                if name not in unresolved:
                    unresolved.append(name)
                continue
            if act == default:
                continue
            for conds in sets:
                filt.add_rule(act, name, *conds)
                count += 1

    for arch in arches:
        largest = None
        for rule in rules:
            for name in rule["names"]:
                nr = resolve(arch, name)
                if nr is not None and (largest is None or nr > largest):
                    largest = nr
        if largest is not None:
            report.append("max %s %d" % (arch_name(arch), largest))
    report.extend("unresolved %s" % n for n in unresolved)
    seen = set()
    for rule in rules:
        for name in rule["names"]:
            if name in seen:
                continue
            seen.add(name)
            nrs = [resolve(a, name) for a in family["abis"]]
            nrs = " ".join("-" if n is None else str(n) for n in nrs)
            report.append("name %s %s" % (name, nrs))
    report.append("rules %d" % count)

    with open(argv[1], "wb") as out:
        filt.export_bpf(out)
    sys.stdout.write("".join(line + "\n" for line in report))


def arch_name(arch):
    for family in FAMILIES.values():
        for name, a in family["arches"].items():
            if a == arch:
                return name
    return str(arch)


if __name__ == "__main__":
    main(sys.argv[1:])
