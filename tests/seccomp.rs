//! The seccomp compiler against libseccomp, runc's compiler: same profile, both programs run by
//! the test's BPF interpreter (`tests/common/bpf.rs`) over every architecture, syscall number and
//! argument value that can tell them apart. Plus the kernel's constant-action cache emulation on
//! Docker's profile, golden disassemblies, and program validity.
//!
//! libseccomp's side is `tests/seccomp_libseccomp.py` (Debian's python3-seccomp, for
//! `/usr/bin/python3`): runc's translation of the profile, without runc's -ENOSYS stub. The
//! expected value is libseccomp's, with the stub modelled here: when the default action is not
//! ALLOW, LOG or TRACE, a number above the largest one the profile names for an enabled ABI
//! (x86_64: below 0x40000000; x32: 0x40000000 up to 0xfffffffe; i386: up to 0xfffffffe) gets
//! ERRNO(ENOSYS), and number 0xffffffff (-1, a tracer's "skip") the default action.
//!
//! Documented differences, not compared (the test prints, for each, how many cases it skipped
//! and how many of them differ; everything else fails the test):
//! 1. Syscall tables. ocinit's come from Linux 6.18; the installed libseccomp (2.5.4) lacks the
//!    newer names (e.g. `uretprobe`, `mseal`, `listmount`), which runc then skips, and still
//!    has `map_shadow_stack` as x86_64-only (6.18 made it common: x32 453). The numbers where
//!    the two tables disagree for a name of the profile are not compared. The ENOSYS boundary of
//!    the model is taken from ocinit's tables: what runc does with a libseccomp that knows them.
//! 2. (Resolved: ocinit now also filters the i386 multiplexers as libseccomp does. For a rule
//!    on a socket call (`socket`, `socketpair`...) or a SysV IPC call (`semop`, `shmget`...),
//!    both add a rule on `socketcall` (102) or `ipc` (117) with the call number in the first
//!    argument; these numbers are compared with every call number 0..=24 in arg 0.)
//! 3. runc's real stub (built here from libseccomp's numbers, `runc_program`, and printed as
//!    information) differs from the model in harmless ways: ENOSYS for number -1 on i386 and,
//!    when x32 is listed, on x86_64 (ocinit returns the default action there, as libseccomp
//!    does); ENOSYS for x86_64 numbers 0x80000000..=0xbfffffff (bit 30 clear: invalid numbers,
//!    where ocinit and libseccomp kill as for x32 when x32 is not listed); and its boundary
//!    uses libseccomp's tables: lower when the profile names calls libseccomp does not know,
//!    and on i386 the socket/IPC calls resolve to `socketcall`/`ipc`, so with few names runc
//!    returns ENOSYS for a direct socket call the profile allows (`ops.json`, i386 360).
//! 4. Overlapping conditional rules. When two or more conditional rules of one syscall hold
//!    with different actions (and no unconditional rule decides it), ocinit applies the first
//!    in config order; libseccomp the first in its own tree, which sorts rules by argument, not
//!    by config order (`and_or.json`'s `kcmp`: a rule on args 0-2 listed first loses to a rule
//!    on arg 3). Such argument vectors are not compared. Profiles where libseccomp refuses an
//!    overlap (EEXIST: e.g. the same conditions twice with different actions, or a rule whose
//!    conditions are a subset of an earlier one's), which runc then refuses to load, are not in
//!    the corpus: ocinit accepts them. Likewise `errnoRet` 4095: libseccomp takes at most 4094.
//!
//! Golden files: `tests/seccomp/<name>.golden`; `OCINIT_BLESS=1` rewrites them from the current
//! compiler (check the diff by hand).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use common::bpf::{self, Data, sock_filter};
use linux_raw_sys::ptrace::{
    AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW,
    SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG,
    SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
};
use ocinit::json::{Kind, MAX_DEPTH, Value, validate};
use ocinit::protocol::Log;
use ocinit::seccomp::syscalls::family;

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/testdata/seccomp/docker-default-amd64.oci.json"
);
const PROFILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seccomp");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seccomp_libseccomp.py");
const PYTHON: &str = "/usr/bin/python3";

const X32_BIT: u32 = 0x4000_0000;
const ENOSYS: u32 = 38;
/// An architecture no section matches.
const BOGUS_ARCH: u32 = 0x1234_5678;
const ARCHES: [u32; 3] = [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, BOGUS_ARCH];

/// The ABIs in ocinit's order: x86_64, x32, i386.
const ABI_NAMES: [&str; 3] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_X86"];
const X86_64: usize = 0;
const X32: usize = 1;
const I386: usize = 2;

// ---------------------------------------------------------------------------------------------
// The profile, read independently of the compiler.

#[derive(Debug, Clone)]
struct Cond {
    index: u8,
    op: String,
    value: u64,
    value_two: u64,
}

#[derive(Debug, Clone)]
struct Rule {
    action: u32,
    names: Vec<String>,
    args: Vec<Cond>,
}

#[derive(Debug)]
struct Profile {
    name: String,
    path: PathBuf,
    json: Vec<u8>,
    default: u32,
    /// ABIs in the filter (the native one always).
    abis: [bool; 3],
    rules: Vec<Rule>,
}

fn text(v: Value<'_>) -> String {
    v.as_str().expect("a string").chars().collect()
}

fn number(v: Value<'_>) -> u64 {
    u64::try_from(v.as_integer().expect("an integer")).expect("0..2^64")
}

fn field<'a>(v: Value<'a>, key: &str) -> Option<Value<'a>> {
    v.get(key).filter(|v| v.kind() != Kind::Null)
}

/// runc's action mapping.
fn action(name: &str, errno: Option<u64>) -> u32 {
    let errno = u32::try_from(errno.unwrap_or(1)).expect("errno");
    match name {
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => SECCOMP_RET_KILL_THREAD,
        "SCMP_ACT_KILL_PROCESS" => SECCOMP_RET_KILL_PROCESS,
        "SCMP_ACT_TRAP" => SECCOMP_RET_TRAP,
        "SCMP_ACT_ERRNO" => SECCOMP_RET_ERRNO | errno,
        "SCMP_ACT_TRACE" => SECCOMP_RET_TRACE | errno,
        "SCMP_ACT_ALLOW" => SECCOMP_RET_ALLOW,
        "SCMP_ACT_LOG" => SECCOMP_RET_LOG,
        "SCMP_ACT_NOTIFY" => SECCOMP_RET_USER_NOTIF,
        other => panic!("unknown action {other}"),
    }
}

fn load(path: &Path) -> Profile {
    let json = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared testdata sits beside the clone)",
            path.display()
        )
    });
    validate(&json, MAX_DEPTH).expect("valid JSON");
    let root = Value::root(&json);
    let default = action(
        &text(field(root, "defaultAction").expect("defaultAction")),
        field(root, "defaultErrnoRet").map(number),
    );
    let mut listed = [false; 3];
    for a in field(root, "architectures")
        .into_iter()
        .flat_map(|v| v.elements())
    {
        if let Some(i) = ABI_NAMES.iter().position(|n| *n == text(a)) {
            listed[i] = true;
        }
    }
    let mut abis = listed;
    abis[X86_64] = true;
    let mut rules = Vec::new();
    for r in field(root, "syscalls")
        .into_iter()
        .flat_map(|v| v.elements())
    {
        let args = field(r, "args")
            .into_iter()
            .flat_map(|v| v.elements())
            .map(|c| Cond {
                index: u8::try_from(number(field(c, "index").expect("index"))).expect("index"),
                op: text(field(c, "op").expect("op")),
                value: number(field(c, "value").expect("value")),
                value_two: field(c, "valueTwo").map_or(0, number),
            })
            .collect();
        rules.push(Rule {
            action: action(
                &text(field(r, "action").expect("action")),
                field(r, "errnoRet").map(number),
            ),
            names: field(r, "names")
                .expect("names")
                .elements()
                .map(text)
                .collect(),
            args,
        });
    }
    Profile {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        path: path.to_path_buf(),
        json: json.clone(),
        default,
        abis,
        rules,
    }
}

/// The profiles of the differential test: Docker's and every `tests/seccomp/*.json`.
fn profiles() -> Vec<Profile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(PROFILES)
        .expect("tests/seccomp")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = vec![load(Path::new(DOCKER))];
    out.extend(paths.iter().map(|p| load(p)));
    out
}

fn fnv1a(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `name`'s number on each ABI by ocinit's tables (x32 with its 0x40000000 bit).
fn numbers(name: &str) -> [Option<u32>; 3] {
    let Ok(i) = family::NAME_HASH.binary_search(&fnv1a(name)) else {
        return [None; 3];
    };
    let get =
        |table: &[u16], base: u32| (table[i] != family::ABSENT).then(|| base + u32::from(table[i]));
    [
        get(&family::X86_64, 0),
        get(&family::X32, X32_BIT),
        get(&family::I386, 0),
    ]
}

impl Profile {
    /// The largest number the profile names on each ABI (any rule, as runc's stub).
    fn largest(&self) -> [Option<u32>; 3] {
        let mut max = [None; 3];
        for r in &self.rules {
            for n in &r.names {
                for (abi, nr) in numbers(n).into_iter().enumerate() {
                    if let Some(nr) = nr {
                        max[abi] = Some(max[abi].map_or(nr, |m: u32| m.max(nr)));
                    }
                }
            }
        }
        max
    }

    /// runc adds its ENOSYS stub unless the default lets unknown calls through.
    fn stub(&self) -> bool {
        !matches!(
            self.default & SECCOMP_RET_ACTION_FULL,
            SECCOMP_RET_ALLOW | SECCOMP_RET_LOG | SECCOMP_RET_TRACE
        )
    }

    /// The rules that reach the filter (runc skips those equal to the default).
    fn live(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.action != self.default)
    }

    /// Conditions of the live rules on (abi, nr).
    fn conditions(&self, abi: usize, nr: u32) -> Vec<&Cond> {
        self.live()
            .filter(|r| r.names.iter().any(|n| numbers(n)[abi] == Some(nr)))
            .flat_map(|r| r.args.iter())
            .collect()
    }
}

/// Whether `c` holds for `arg` on `abi` (32-bit ABIs compare the low words, as libseccomp).
fn holds(c: &Cond, abi: usize, arg: u64) -> bool {
    let w = |v: u64| if abi == X86_64 { v } else { v & 0xffff_ffff };
    let (a, v) = (w(arg), w(c.value));
    match c.op.as_str() {
        "SCMP_CMP_NE" => a != v,
        "SCMP_CMP_LT" => a < v,
        "SCMP_CMP_LE" => a <= v,
        "SCMP_CMP_EQ" => a == v,
        "SCMP_CMP_GE" => a >= v,
        "SCMP_CMP_GT" => a > v,
        "SCMP_CMP_MASKED_EQ" => a & v == w(c.value_two) & v,
        other => panic!("unknown op {other}"),
    }
}

impl Profile {
    /// Documented difference 4: more than one conditional rule on (abi, nr) holds for `args`,
    /// with different actions, and no unconditional rule decides the call. ocinit takes the
    /// first in config order; libseccomp the first in its argument-sorted tree.
    fn ambiguous(&self, abi: usize, nr: u32, args: &[u64; 6]) -> bool {
        let mut actions = BTreeSet::new();
        for r in self.live() {
            if !r.names.iter().any(|n| numbers(n)[abi] == Some(nr)) {
                continue;
            }
            if r.args.is_empty() {
                return false;
            }
            let mut seen = [false; 6];
            let repeated = r
                .args
                .iter()
                .any(|c| std::mem::replace(&mut seen[usize::from(c.index)], true));
            let one = |c: &Cond| holds(c, abi, args[usize::from(c.index)]);
            // runc: a repeated index makes each condition a rule of its own.
            let matched = if repeated {
                r.args.iter().any(one)
            } else {
                r.args.iter().all(one)
            };
            if matched {
                actions.insert(r.action);
            }
        }
        actions.len() > 1
    }
}

/// The ABI a (arch, nr) pair belongs to, for the stub model; None for -1 and foreign arches.
fn abi_of(arch: u32, nr: u32) -> Option<usize> {
    match arch {
        _ if nr == u32::MAX => None,
        AUDIT_ARCH_X86_64 if nr >= X32_BIT => Some(X32),
        AUDIT_ARCH_X86_64 => Some(X86_64),
        AUDIT_ARCH_I386 => Some(I386),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The two compilers.

fn compile(p: &Profile) -> Vec<sock_filter> {
    validate(&p.json, MAX_DEPTH).expect("valid JSON");
    let mut buf = Box::new(
        [sock_filter {
            code: 0,
            jt: 0,
            jf: 0,
            k: 0,
        }; ocinit::seccomp::limits::INSNS],
    );
    let log = Log {
        fd: None,
        debug: false,
    };
    let filter = ocinit::seccomp::compile(Value::root(&p.json), false, &log, &mut buf)
        .unwrap_or_else(|e| panic!("{}: ocinit refused the profile: {e:?}", p.name));
    let prog = filter.program.to_vec();
    assert_program(&p.name, &prog);
    prog
}

/// Ends in `ret`, every jump in range, at most 4096 instructions, and the kernel's checks.
fn assert_program(name: &str, prog: &[sock_filter]) {
    assert!(
        !prog.is_empty() && prog.len() <= 4096,
        "{name}: {} instructions",
        prog.len()
    );
    let last = prog[prog.len() - 1].code;
    assert!(last == 0x06 || last == 0x16, "{name}: does not end in ret");
    if let Err(why) = bpf::check(prog) {
        panic!("{name}: {why}\n{}", bpf::disasm(prog));
    }
}

/// What the script says besides the program.
#[derive(Debug, Default)]
struct Report {
    max: BTreeMap<String, u32>,
    unresolved: Vec<String>,
    /// Every name's numbers in libseccomp's tables, in ocinit's ABI order.
    names: BTreeMap<String, [Option<u32>; 3]>,
}

/// True when `/usr/bin/python3` can import libseccomp's bindings; else skip with a reason,
/// unless OCINIT_MUST_WORK=1.
fn libseccomp_or_skip(test: &str) -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import seccomp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    assert!(
        std::env::var("OCINIT_MUST_WORK").as_deref() != Ok("1"),
        "{test}: {PYTHON} cannot import seccomp (install Debian's python3-seccomp), and \
         OCINIT_MUST_WORK=1 forbids skipping"
    );
    eprintln!("SKIP: {test}: {PYTHON} cannot import seccomp (Debian's python3-seccomp)");
    false
}

fn libseccomp(p: &Profile, optimize: bool) -> (Vec<sock_filter>, Report) {
    // Tests run in parallel: a file of its own for each call.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let out = std::env::temp_dir().join(format!(
        "ocinit-seccomp-{}-{}-{}{}.bpf",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        p.name,
        if optimize { "-opt" } else { "" }
    ));
    let mut cmd = Command::new(PYTHON);
    cmd.arg(SCRIPT);
    if optimize {
        cmd.arg("--optimize");
    }
    let o = cmd.arg(&p.path).arg(&out).output().expect("run python3");
    assert!(
        o.status.success(),
        "{}: seccomp_libseccomp.py failed: {}",
        p.name,
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(&out).expect("read exported BPF");
    let _ = std::fs::remove_file(&out);
    let prog = bpf::from_bytes(&bytes);
    assert_program(&format!("{} (libseccomp)", p.name), &prog);
    let mut report = Report::default();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["max", arch, nr] => {
                report
                    .max
                    .insert((*arch).to_string(), nr.parse().expect("nr"));
            }
            ["unresolved", name] => report.unresolved.push((*name).to_string()),
            ["name", name, x86_64, x32, x86] => {
                let nr = |w: &str| (w != "-").then(|| w.parse::<u32>().expect("nr"));
                report
                    .names
                    .insert((*name).to_string(), [nr(x86_64), nr(x32), nr(x86)]);
            }
            ["rules", _] => {}
            _ => panic!("unexpected report line {line:?}"),
        }
    }
    (prog, report)
}

// ---------------------------------------------------------------------------------------------
// The differential test.

/// The syscall numbers tried on every arch.
fn numbers_to_try() -> Vec<u32> {
    let mut v: Vec<u32> = (0..=600).collect();
    v.extend(X32_BIT..=X32_BIT + 600);
    v.extend([
        0x3fff_fffe,
        0x3fff_ffff,
        0x7fff_ffff,
        0x8000_0000,
        0xbfff_ffff,
        0xc000_0000,
        0xc000_0001,
        0xffff_fffd,
        0xffff_fffe,
        0xffff_ffff,
        1000,
        4096,
        65535,
        65536,
    ]);
    v
}

/// Argument values that can tell two implementations of `c` apart.
fn probe_values(c: &Cond, out: &mut BTreeSet<u64>) {
    let flip_high = |v: u64| v ^ 0xffff_ffff_0000_0000;
    for v in [c.value, c.value_two] {
        out.extend([
            v,
            v.wrapping_add(1),
            v.wrapping_sub(1),
            flip_high(v),
            v & 0xffff_ffff,
            v | 0xffff_ffff_0000_0000,
            v << 32,
            v >> 32,
        ]);
    }
    if c.op == "SCMP_CMP_MASKED_EQ" {
        let (mask, datum) = (c.value, c.value_two);
        let low_bit = mask & mask.wrapping_neg();
        let high_bit = if mask == 0 {
            0
        } else {
            1u64 << (63 - mask.leading_zeros())
        };
        out.extend([
            datum & mask,
            (datum & mask) | !mask,
            (datum & mask) ^ low_bit,
            (datum & mask) ^ high_bit,
            !mask,
            mask,
            !datum,
        ]);
    }
}

/// Argument vectors for (abi, nr): zeros when no rule looks at the arguments, else the
/// cartesian product over the used indices of each index's probe values (capped).
fn arg_vectors(p: &Profile, abi: usize, nr: u32) -> Vec<[u64; 6]> {
    let conds = p.conditions(abi, nr);
    if conds.is_empty() {
        return vec![[0; 6]];
    }
    let mut per_index: BTreeMap<u8, BTreeSet<u64>> = BTreeMap::new();
    for c in &conds {
        let set = per_index.entry(c.index).or_default();
        set.extend([
            0,
            1,
            u64::from(u32::MAX),
            u64::MAX,
            1 << 32,
            1 << 63,
            0x8000_0000,
        ]);
        probe_values(c, set);
    }
    let total: usize = per_index.values().map(BTreeSet::len).product();
    let mut out = Vec::new();
    if total <= 200_000 {
        let mut vectors = vec![[0u64; 6]];
        for (&i, values) in &per_index {
            vectors = vectors
                .into_iter()
                .flat_map(|v| {
                    values.iter().map(move |&x| {
                        let mut v = v;
                        v[usize::from(i)] = x;
                        v
                    })
                })
                .collect();
        }
        out = vectors;
    } else {
        // Each index alone, the others at 0.
        for (&i, values) in &per_index {
            for &x in values {
                let mut v = [0u64; 6];
                v[usize::from(i)] = x;
                out.push(v);
            }
        }
    }
    out
}

/// i386 socket calls and SysV IPC calls, which libseccomp also filters through `socketcall`
/// and `ipc`.
const SOCKETCALLS: [&str; 20] = [
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "getsockname",
    "getpeername",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "recvmsg",
    "accept4",
    "recvmmsg",
    "sendmmsg",
];
const IPC_CALLS: [&str; 12] = [
    "semop",
    "semget",
    "semctl",
    "semtimedop",
    "msgsnd",
    "msgrcv",
    "msgget",
    "msgctl",
    "shmat",
    "shmdt",
    "shmget",
    "shmctl",
];

/// The i386 multiplexer numbers libseccomp (and ocinit) add rules to.
fn multiplexed(p: &Profile) -> BTreeSet<u32> {
    let names: BTreeSet<&str> = p
        .live()
        .flat_map(|r| r.names.iter().map(String::as_str))
        .collect();
    let mut out = BTreeSet::new();
    if SOCKETCALLS.iter().any(|n| names.contains(n)) && !names.contains("socketcall") {
        out.insert(102);
    }
    if IPC_CALLS.iter().any(|n| names.contains(n)) && !names.contains("ipc") {
        out.insert(117);
    }
    out
}

/// The expected return value: libseccomp's with runc's stub.
fn expected(p: &Profile, largest: &[Option<u32>; 3], arch: u32, nr: u32, lib: u32) -> u32 {
    if arch == AUDIT_ARCH_X86_64 || (arch == AUDIT_ARCH_I386 && p.abis[I386]) {
        if nr == u32::MAX {
            return p.default;
        }
        if let Some(abi) = abi_of(arch, nr)
            && p.stub()
            && p.abis[abi]
            && largest[abi].is_some_and(|max| nr > max)
        {
            return SECCOMP_RET_ERRNO | ENOSYS;
        }
    }
    lib
}

fn hex(args: &[u64; 6]) -> String {
    let v: Vec<String> = args.iter().map(|a| format!("{a:#x}")).collect();
    format!("[{}]", v.join(", "))
}

/// `(arch, nr) -> (ours, theirs)` as runs of consecutive numbers with the same outcome.
fn ranges(m: &BTreeMap<(u32, u32), (u32, u32)>) -> String {
    let mut runs: Vec<(u32, u32, u32, (u32, u32))> = Vec::new();
    for (&(arch, nr), &v) in m {
        match runs.last_mut() {
            Some(last) if last.0 == arch && last.2.checked_add(1) == Some(nr) && last.3 == v => {
                last.2 = nr;
            }
            _ => runs.push((arch, nr, nr, v)),
        }
    }
    runs.iter()
        .map(|&(arch, lo, hi, (ours, theirs))| {
            let span = if lo == hi {
                format!("{lo:#x}")
            } else {
                format!("{lo:#x}..={hi:#x}")
            };
            format!(
                "{} {span}: {} vs {}",
                arch_name(arch),
                bpf::action_name(ours),
                bpf::action_name(theirs)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn arch_name(arch: u32) -> &'static str {
    match arch {
        AUDIT_ARCH_X86_64 => "x86_64",
        AUDIT_ARCH_I386 => "i386",
        _ => "bogus",
    }
}

#[test]
fn differential_against_libseccomp() {
    if !libseccomp_or_skip("differential_against_libseccomp") {
        return;
    }
    let mut failures = Vec::new();
    let mut total = 0usize;
    for p in profiles() {
        let ours = compile(&p);
        let (lib, report) = libseccomp(&p, false);
        // runc enables libseccomp's binary tree for profiles of more than 32 names: the same
        // decisions, checked on the way.
        let (lib_opt, _) = libseccomp(&p, true);
        let runc = runc_program(&p, &lib_opt, &report.max);
        assert_program(&format!("{} (runc stub + libseccomp)", p.name), &runc);
        // Where ocinit matches the model but not runc's real stub (difference 3): informational.
        let mut runc_differs: BTreeMap<(u32, u32), (u32, u32)> = BTreeMap::new();
        let largest = p.largest();
        // Difference 1: numbers on which the two syscall tables disagree.
        let mut excluded: BTreeMap<(usize, u32), &str> = BTreeMap::new();
        let mut table_differences = Vec::new();
        for (name, theirs) in &report.names {
            let ours = numbers(name);
            for abi in 0..3 {
                // i386 socket and IPC calls resolve to their multiplexer in libseccomp; its
                // filter checks the direct number too (difference 2 covers the multiplexer).
                let muxed =
                    SOCKETCALLS.contains(&name.as_str()) || IPC_CALLS.contains(&name.as_str());
                if ours[abi] == theirs[abi] || (abi == I386 && muxed) {
                    continue;
                }
                table_differences.push(format!(
                    "{name} on {}: ocinit {:?}, libseccomp {:?}",
                    ABI_NAMES[abi].trim_start_matches("SCMP_ARCH_"),
                    ours[abi],
                    theirs[abi]
                ));
                for nr in [ours[abi], theirs[abi]].into_iter().flatten() {
                    excluded.insert((abi, nr), "1 (syscall tables)");
                }
            }
        }
        let mut compared = 0usize;
        // Per documented difference: cases not compared, and how many of them differ.
        let mut excused: BTreeMap<&str, (usize, usize, Vec<String>)> = BTreeMap::new();
        let mut disagreements: BTreeMap<(u32, u32), Vec<String>> = BTreeMap::new();
        for arch in ARCHES {
            for nr in numbers_to_try() {
                let abi = abi_of(arch, nr);
                let excluded_nr = abi.and_then(|abi| excluded.get(&(abi, nr)).copied());
                let mut vectors = abi.map_or_else(|| vec![[0; 6]], |abi| arg_vectors(&p, abi, nr));
                if multiplexed(&p).contains(&nr) && abi == Some(I386) {
                    // The multiplexer's call number (SYS_SOCKET = 1..., SEMOP = 1...).
                    vectors.extend((0..=24).map(|call| [call, 0, 0, 0, 0, 0]));
                }
                for args in vectors {
                    let data = Data::new(arch, nr, args);
                    let (got, _) = bpf::run(&ours, &data);
                    let (l, _) = bpf::run(&lib, &data);
                    let (lo, _) = bpf::run(&lib_opt, &data);
                    assert_eq!(
                        l,
                        lo,
                        "{}: libseccomp with and without its binary tree disagree at {} nr {nr:#x} \
                         args {}",
                        p.name,
                        arch_name(arch),
                        hex(&args)
                    );
                    let want = expected(&p, &largest, arch, nr, l);
                    let excuse = excluded_nr.or_else(|| {
                        abi.filter(|&abi| p.ambiguous(abi, nr, &args))
                            .map(|_| "4 (overlapping conditional rules)")
                    });
                    if let Some(excuse) = excuse {
                        let e = excused.entry(excuse).or_default();
                        e.0 += 1;
                        if got != want {
                            e.1 += 1;
                            if e.2.len() < 3 {
                                e.2.push(format!(
                                    "{} nr {nr} args {}: ocinit {} expected {}",
                                    arch_name(arch),
                                    hex(&args),
                                    bpf::action_name(got),
                                    bpf::action_name(want)
                                ));
                            }
                        }
                        continue;
                    }
                    compared += 1;
                    let (r, _) = bpf::run(&runc, &data);
                    if got == want && r != got {
                        runc_differs.insert((arch, nr), (got, r));
                    }
                    if got != want {
                        disagreements.entry((arch, nr)).or_default().push(format!(
                            "args {}: ocinit {} expected {} (libseccomp {})",
                            hex(&args),
                            bpf::action_name(got),
                            bpf::action_name(want),
                            bpf::action_name(l)
                        ));
                    }
                }
            }
        }
        total += compared;
        let count: usize = disagreements.values().map(Vec::len).sum();
        println!(
            "{}: {} instructions, libseccomp {} (binary tree {}); {compared} cases compared, \
             {count} disagreements",
            p.name,
            ours.len(),
            lib.len(),
            lib_opt.len(),
        );
        for (excuse, (cases, differ, examples)) in &excused {
            println!(
                "  documented difference {excuse}: {cases} cases not compared, {differ} of them \
                 differ{}",
                if examples.is_empty() { "" } else { ", e.g." }
            );
            for e in examples {
                println!("    {e}");
            }
        }
        if !runc_differs.is_empty() {
            println!(
                "  documented difference 3 (runc's real stub), ocinit vs runc: {}",
                ranges(&runc_differs)
            );
        }
        if !table_differences.is_empty() {
            println!("  table differences: {}", table_differences.join("; "));
        }
        for ((arch, nr), cases) in &disagreements {
            println!(
                "  {} arch {} nr {nr} ({nr:#x}): {} cases, e.g.",
                p.name,
                arch_name(*arch),
                cases.len()
            );
            for c in cases.iter().take(4) {
                println!("    {c}");
            }
        }
        failures.extend(disagreements.into_values().flatten());
    }
    println!("{total} cases compared");
    assert!(
        failures.is_empty(),
        "{} disagreements with libseccomp (see the output above)",
        failures.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The kernel's action cache, and instructions executed.

/// For each ABI, the action of the first unconditional live rule per number (what decides the
/// call by number alone), from the profile.
fn unconditional(p: &Profile) -> [BTreeMap<u32, u32>; 3] {
    let mut out: [BTreeMap<u32, u32>; 3] = Default::default();
    for r in p.live().filter(|r| r.args.is_empty()) {
        for n in &r.names {
            for (abi, nr) in numbers(n).into_iter().enumerate() {
                if let Some(nr) = nr {
                    out[abi].entry(nr).or_insert(r.action);
                }
            }
        }
    }
    out
}

#[test]
fn docker_profile_is_constant_allow() {
    let p = load(Path::new(DOCKER));
    let prog = compile(&p);
    let uncond = unconditional(&p);
    let mut missing = Vec::new();
    let mut checked = 0;
    for (abi, arch) in [
        (X86_64, AUDIT_ARCH_X86_64),
        (X32, AUDIT_ARCH_X86_64),
        (I386, AUDIT_ARCH_I386),
    ] {
        for (&nr, &act) in &uncond[abi] {
            if act != SECCOMP_RET_ALLOW {
                continue;
            }
            checked += 1;
            let got = bpf::const_action(&prog, arch, nr);
            if got != Some(SECCOMP_RET_ALLOW) {
                missing.push(format!(
                    "{} nr {nr}: {:?}",
                    ABI_NAMES[abi],
                    got.map(bpf::action_name)
                ));
            }
        }
    }
    println!("{checked} unconditionally allowed (ABI, number) pairs checked");
    assert!(
        missing.is_empty(),
        "not constant ALLOW for the kernel's cache: {missing:#?}"
    );
    // A call with argument conditions must not be constant (it would skip the checks).
    for (abi, arch) in [(X86_64, AUDIT_ARCH_X86_64), (I386, AUDIT_ARCH_I386)] {
        for r in p.live().filter(|r| !r.args.is_empty()) {
            for n in &r.names {
                let Some(nr) = numbers(n)[abi] else { continue };
                if uncond[abi].contains_key(&nr) {
                    continue;
                }
                assert_eq!(
                    bpf::const_action(&prog, arch, nr),
                    None,
                    "{n} ({}) has argument conditions but is constant",
                    ABI_NAMES[abi]
                );
            }
        }
    }
}

/// runc's -ENOSYS stub (patchbpf's generateEnosysStub, arch order fixed: x86_64 then i386)
/// in front of libseccomp's program: runc's real program, for the instruction counts and
/// difference 3. `max` are libseccomp's largest numbers (runc's findLastSyscalls, which adds
/// the native arch to the listed ones).
fn runc_program(p: &Profile, lib: &[sock_filter], max: &BTreeMap<String, u32>) -> Vec<sock_filter> {
    if !p.stub() {
        return lib.to_vec();
    }
    let ins = |code: u32, jt: u8, jf: u8, k: u32| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    const LD: u32 = 0x20;
    const JEQ: u32 = 0x15;
    const JGT: u32 = 0x25;
    const JSET: u32 = 0x45;
    const JA: u32 = 0x05;
    const RET: u32 = 0x06;
    // runc adds the native arch to the listed ones.
    let x86_64 = max.get("SCMP_ARCH_X86_64");
    let x32 = p.abis[X32].then(|| max.get("SCMP_ARCH_X32")).flatten();
    let i386 = p.abis[I386].then(|| max.get("SCMP_ARCH_X86")).flatten();
    // Sections, each jumping to "enosys" or "filter" (resolved below).
    enum J {
        Enosys,
        Filter,
        Next(u8),
    }
    /// An instruction of a section: opcode, true and false targets, K.
    type Insn = (u32, J, J, u32);
    let mut sections: Vec<(u32, Vec<Insn>)> = Vec::new();
    if x86_64.is_some() || x32.is_some() {
        let mut s = vec![(LD, J::Next(0), J::Next(0), 0)];
        match (x86_64, x32) {
            (Some(&a), Some(&b)) => s.extend([
                (JSET, J::Next(1), J::Next(0), X32_BIT),
                (JGT, J::Enosys, J::Next(1), a),
                (JGT, J::Enosys, J::Next(0), b),
                (JA, J::Filter, J::Filter, 0),
            ]),
            (Some(&a), None) => s.extend([
                (JSET, J::Next(1), J::Next(0), X32_BIT),
                (JGT, J::Enosys, J::Next(0), a),
                (JA, J::Filter, J::Filter, 0),
            ]),
            (None, Some(&b)) => s.extend([
                (JSET, J::Next(0), J::Next(1), X32_BIT),
                (JGT, J::Enosys, J::Next(0), b),
                (JA, J::Filter, J::Filter, 0),
            ]),
            (None, None) => unreachable!(),
        }
        sections.push((AUDIT_ARCH_X86_64, s));
    }
    if let Some(&a) = i386 {
        sections.push((
            AUDIT_ARCH_I386,
            vec![
                (LD, J::Next(0), J::Next(0), 0),
                (JGT, J::Enosys, J::Next(0), a),
                (JA, J::Filter, J::Filter, 0),
            ],
        ));
    }
    // Layout: ld arch; jeq per section; ja filter; sections; ret ENOSYS; filter.
    let head = 1 + sections.len() + 1;
    let mut starts = Vec::new();
    let mut at = head;
    for (_, s) in &sections {
        starts.push(at);
        at += s.len();
    }
    let enosys = at;
    let filter = enosys + 1;
    let mut out = vec![ins(LD, 0, 0, 4)];
    for (i, (arch, _)) in sections.iter().enumerate() {
        let pc = out.len();
        out.push(ins(JEQ, (starts[i] - pc - 1) as u8, 0, *arch));
    }
    let pc = out.len();
    out.push(ins(JA, 0, 0, (filter - pc - 1) as u32));
    for (_, s) in &sections {
        for (code, jt, jf, k) in s {
            let pc = out.len();
            let off = |j: &J| match j {
                J::Enosys => (enosys - pc - 1) as u32,
                J::Filter => (filter - pc - 1) as u32,
                J::Next(n) => u32::from(*n),
            };
            if *code == JA {
                out.push(ins(JA, 0, 0, off(jt)));
            } else {
                out.push(ins(*code, off(jt) as u8, off(jf) as u8, *k));
            }
        }
    }
    out.push(ins(RET, 0, 0, SECCOMP_RET_ERRNO | ENOSYS));
    out.extend_from_slice(lib);
    out
}

fn median_max(v: &mut [usize]) -> (usize, usize) {
    v.sort_unstable();
    (v[v.len() / 2], v[v.len() - 1])
}

#[test]
fn instructions_executed() {
    let p = load(Path::new(DOCKER));
    let ours = compile(&p);
    let lib = if libseccomp_or_skip("instructions_executed (libseccomp columns)") {
        let (plain, report) = libseccomp(&p, false);
        let (opt, _) = libseccomp(&p, true);
        let runc = runc_program(&p, &opt, &report.max);
        assert_program("runc stub + libseccomp", &runc);
        Some((plain, opt, runc))
    } else {
        None
    };
    let mut table = String::from(
        "Docker's profile, instructions executed over the numbers it names (args 0): median / max\n\
         ABI      | names | ocinit  | libseccomp | libseccomp tree | runc (stub + tree)\n",
    );
    for (abi, arch) in [
        (X86_64, AUDIT_ARCH_X86_64),
        (I386, AUDIT_ARCH_I386),
        (X32, AUDIT_ARCH_X86_64),
    ] {
        let named: BTreeSet<u32> = p
            .rules
            .iter()
            .flat_map(|r| &r.names)
            .filter_map(|n| numbers(n)[abi])
            .collect();
        let count = |prog: &[sock_filter]| {
            let mut v: Vec<usize> = named
                .iter()
                .map(|&nr| bpf::run(prog, &Data::new(arch, nr, [0; 6])).1)
                .collect();
            let (m, x) = median_max(&mut v);
            format!("{m:>3} / {x:<3}")
        };
        let _ = write!(
            table,
            "{:<8} | {:>5} | {}",
            ABI_NAMES[abi].trim_start_matches("SCMP_ARCH_"),
            named.len(),
            count(&ours)
        );
        if let Some((plain, opt, runc)) = &lib {
            let _ = write!(
                table,
                " |  {} |   {}     |   {}",
                count(plain),
                count(opt),
                count(runc)
            );
        }
        table.push('\n');
    }
    let constant = |prog: &[sock_filter]| {
        let mut n = 0;
        for (abi, arch) in [(X86_64, AUDIT_ARCH_X86_64), (I386, AUDIT_ARCH_I386)] {
            for nr in unconditional(&p)[abi].keys() {
                n += usize::from(bpf::const_action(prog, arch, *nr) == Some(SECCOMP_RET_ALLOW));
            }
        }
        n
    };
    let _ = write!(
        table,
        "constant ALLOW for the kernel's cache (x86_64 + i386): ocinit {}",
        constant(&ours)
    );
    if let Some((plain, opt, runc)) = &lib {
        let _ = write!(
            table,
            ", libseccomp {}, libseccomp tree {}, runc {}",
            constant(plain),
            constant(opt),
            constant(runc)
        );
    }
    let _ = write!(table, "\nprogram length: ocinit {}", ours.len());
    if let Some((plain, opt, runc)) = &lib {
        let _ = write!(
            table,
            ", libseccomp {}, libseccomp tree {}, runc {}",
            plain.len(),
            opt.len(),
            runc.len()
        );
    }
    println!("{table}");
}

// ---------------------------------------------------------------------------------------------
// Golden disassembly and validity.

fn golden(name: &str) {
    let p = load(&Path::new(PROFILES).join(format!("{name}.json")));
    let got = bpf::disasm(&compile(&p));
    let path = Path::new(PROFILES).join(format!("{name}.golden"));
    if std::env::var("OCINIT_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &got).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (OCINIT_BLESS=1 writes it)", path.display()));
    assert!(
        got == want,
        "{name}: the program changed; check it and rerun with OCINIT_BLESS=1\n--- want\n{want}\n--- got\n{got}"
    );
}

#[test]
fn golden_small() {
    golden("golden_small");
}

#[test]
fn golden_args() {
    golden("golden_args");
}

#[test]
fn every_program_is_valid() {
    for p in profiles() {
        let prog = compile(&p);
        // Every number of every arch reaches a `ret` without leaving the program.
        for arch in ARCHES {
            for nr in numbers_to_try() {
                bpf::run(&prog, &Data::new(arch, nr, [u64::MAX; 6]));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The interpreter itself.

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

#[test]
fn interpreter_opcodes() {
    let d = Data::new(AUDIT_ARCH_X86_64, 7, [0x1_0000_0002, 3, 0, 0, 0, 0x55]);
    let run = |prog: &[sock_filter]| {
        bpf::assert_valid(prog);
        bpf::run(prog, &d)
    };
    // ld [nr]; add 5; ret a
    assert_eq!(
        run(&[ins(0x20, 0, 0, 0), ins(0x04, 0, 0, 5), ins(0x16, 0, 0, 0)]),
        (12, 3)
    );
    // ld [args[0].hi]; ld [args[0].lo]; ld [args[5].lo]
    assert_eq!(run(&[ins(0x20, 0, 0, 20), ins(0x16, 0, 0, 0)]).0, 1);
    assert_eq!(run(&[ins(0x20, 0, 0, 16), ins(0x16, 0, 0, 0)]).0, 2);
    assert_eq!(run(&[ins(0x20, 0, 0, 56), ins(0x16, 0, 0, 0)]).0, 0x55);
    // ld len; ldx len; ld #imm; ldx #imm; txa; tax
    assert_eq!(run(&[ins(0x80, 0, 0, 0), ins(0x16, 0, 0, 0)]).0, 64);
    assert_eq!(
        run(&[ins(0x81, 0, 0, 0), ins(0x87, 0, 0, 0), ins(0x16, 0, 0, 0)]).0,
        64
    );
    assert_eq!(run(&[ins(0x00, 0, 0, 9), ins(0x16, 0, 0, 0)]).0, 9);
    assert_eq!(
        run(&[ins(0x01, 0, 0, 9), ins(0x87, 0, 0, 0), ins(0x16, 0, 0, 0)]).0,
        9
    );
    assert_eq!(
        run(&[
            ins(0x00, 0, 0, 4),
            ins(0x07, 0, 0, 0),
            ins(0x00, 0, 0, 0),
            ins(0x87, 0, 0, 0),
            ins(0x16, 0, 0, 0)
        ])
        .0,
        4
    );
    // st / ld M; stx / ldx M
    assert_eq!(
        run(&[
            ins(0x00, 0, 0, 11),
            ins(0x02, 0, 0, 3),
            ins(0x00, 0, 0, 0),
            ins(0x60, 0, 0, 3),
            ins(0x16, 0, 0, 0)
        ])
        .0,
        11
    );
    assert_eq!(
        run(&[
            ins(0x01, 0, 0, 12),
            ins(0x03, 0, 0, 15),
            ins(0x61, 0, 0, 15),
            ins(0x87, 0, 0, 0),
            ins(0x16, 0, 0, 0)
        ])
        .0,
        12
    );
    // ALU with K and with X (X = 3).
    let alu = |op: u16, a: u32, k: u32| {
        let with_k = run(&[
            ins(0x00, 0, 0, a),
            ins(0x04 | op, 0, 0, k),
            ins(0x16, 0, 0, 0),
        ])
        .0;
        let with_x = run(&[
            ins(0x01, 0, 0, k),
            ins(0x00, 0, 0, a),
            ins(0x0c | op, 0, 0, 0),
            ins(0x16, 0, 0, 0),
        ])
        .0;
        assert_eq!(with_k, with_x, "op {op:#x}");
        with_k
    };
    assert_eq!(alu(0x00, 5, 3), 8);
    assert_eq!(alu(0x00, u32::MAX, 2), 1);
    assert_eq!(alu(0x10, 1, 3), u32::MAX - 1);
    assert_eq!(alu(0x20, 0x8000_0001, 2), 2);
    assert_eq!(alu(0x30, 7, 2), 3);
    assert_eq!(alu(0x40, 0x10, 3), 0x13);
    assert_eq!(alu(0x50, 0x1f, 0x12), 0x12);
    assert_eq!(alu(0x60, 1, 31), 0x8000_0000);
    assert_eq!(alu(0x70, 0x8000_0000, 31), 1);
    assert_eq!(alu(0xa0, 0xff, 0x0f), 0xf0);
    // neg
    assert_eq!(
        run(&[ins(0x00, 0, 0, 1), ins(0x84, 0, 0, 0), ins(0x16, 0, 0, 0)]).0,
        u32::MAX
    );
    // div by X = 0 ends the program with 0
    assert_eq!(
        run(&[ins(0x00, 0, 0, 1), ins(0x3c, 0, 0, 0), ins(0x06, 0, 0, 9)]),
        (0, 2)
    );
    // Jumps: K and X forms, taken and not.
    let jump = |op: u16, a: u32, k: u32| {
        let with_k = run(&[
            ins(0x00, 0, 0, a),
            ins(0x05 | op, 1, 0, k),
            ins(0x06, 0, 0, 0),
            ins(0x06, 0, 0, 1),
        ])
        .0;
        let with_x = run(&[
            ins(0x01, 0, 0, k),
            ins(0x00, 0, 0, a),
            ins(0x0d | op, 1, 0, 0),
            ins(0x06, 0, 0, 0),
            ins(0x06, 0, 0, 1),
        ])
        .0;
        assert_eq!(with_k, with_x, "op {op:#x}");
        with_k == 1
    };
    assert!(jump(0x10, 5, 5) && !jump(0x10, 5, 6));
    assert!(jump(0x20, 6, 5) && !jump(0x20, 5, 5));
    assert!(jump(0x30, 5, 5) && !jump(0x30, 4, 5));
    assert!(jump(0x40, 6, 2) && !jump(0x40, 5, 2));
    // ja
    assert_eq!(
        run(&[ins(0x05, 0, 0, 1), ins(0x06, 0, 0, 1), ins(0x06, 0, 0, 2)]),
        (2, 2)
    );
    // ret k
    assert_eq!(
        run(&[ins(0x06, 0, 0, SECCOMP_RET_ALLOW)]),
        (SECCOMP_RET_ALLOW, 1)
    );
}

#[test]
fn checker_rejects_what_the_kernel_rejects() {
    let ret = ins(0x06, 0, 0, 0);
    let bad: &[(&str, Vec<sock_filter>)] = &[
        ("empty", vec![]),
        ("no ret at the end", vec![ins(0x20, 0, 0, 0)]),
        ("load beyond seccomp_data", vec![ins(0x20, 0, 0, 64), ret]),
        ("unaligned load", vec![ins(0x20, 0, 0, 2), ret]),
        ("half-word load", vec![ins(0x28, 0, 0, 0), ret]),
        ("indirect load", vec![ins(0x40, 0, 0, 0), ret]),
        ("mod", vec![ins(0x94, 0, 0, 3), ret]),
        ("div by constant 0", vec![ins(0x34, 0, 0, 0), ret]),
        ("shift by 32", vec![ins(0x64, 0, 0, 32), ret]),
        ("jump out of range", vec![ins(0x15, 1, 0, 0), ret]),
        ("ja out of range", vec![ins(0x05, 0, 0, 1), ret]),
        ("scratch index 16", vec![ins(0x02, 0, 0, 16), ret]),
        ("read before write", vec![ins(0x60, 0, 0, 0), ret]),
        (
            "write on one path only",
            vec![
                ins(0x15, 1, 0, 0),
                ins(0x02, 0, 0, 1),
                ins(0x60, 0, 0, 1),
                ret,
            ],
        ),
        ("neg with x", vec![ins(0x8c, 0, 0, 0), ret]),
    ];
    for (what, prog) in bad {
        assert!(bpf::check(prog).is_err(), "accepted: {what}");
    }
    assert!(bpf::check(&[ins(0x15, 0, 0, 0), ret]).is_ok());
    // The constant-action walk: nr and arch only.
    let prog = [
        ins(0x20, 0, 0, 4),
        ins(0x15, 0, 3, AUDIT_ARCH_X86_64),
        ins(0x20, 0, 0, 0),
        ins(0x54, 0, 0, 0xff),
        ins(0x15, 1, 0, 3),
        ins(0x06, 0, 0, SECCOMP_RET_KILL_THREAD),
        ins(0x06, 0, 0, SECCOMP_RET_ALLOW),
    ];
    bpf::assert_valid(&prog);
    assert_eq!(
        bpf::const_action(&prog, AUDIT_ARCH_X86_64, 0x103),
        Some(SECCOMP_RET_ALLOW)
    );
    assert_eq!(
        bpf::const_action(&prog, AUDIT_ARCH_X86_64, 4),
        Some(SECCOMP_RET_KILL_THREAD)
    );
    let args = [ins(0x20, 0, 0, 16), ret];
    assert_eq!(bpf::const_action(&args, AUDIT_ARCH_X86_64, 0), None);
    let ret_a = [ins(0x20, 0, 0, 0), ins(0x16, 0, 0, 0)];
    assert_eq!(bpf::const_action(&ret_a, AUDIT_ARCH_X86_64, 0), None);
    let jeq_x = [ins(0x1d, 0, 0, 0), ret];
    assert_eq!(bpf::const_action(&jeq_x, AUDIT_ARCH_X86_64, 0), None);
}
