//! The seccomp compiler against libseccomp, runc's compiler: same profile, both programs run by
//! the test's BPF interpreter (`tests/common/bpf.rs`) over every architecture, syscall number and
//! argument value that can tell them apart. Plus the kernel's constant-action cache emulation on
//! Docker's profile, golden disassemblies, and program validity.
//!
//! Both architecture families are compared, whatever the host (`compile_for`): x86 (x86_64
//! native, i386 and x32) on Docker's amd64 profile and every `tests/seccomp/*.json`; arm
//! (aarch64 native, ARM EABI) on Docker's arm64 profile (see `DOCKER_ARM64`) and the same small
//! profiles with their architectures mapped (x86_64 -> aarch64, x86 -> arm, x32 dropped; named
//! `NAME-arm`). On arm the numbers tried are 0..=600,
//! ARM's private range around 0xf0000..=0xf0010 and a few large values, on aarch64, arm, x86_64
//! (a foreign arch) and a bogus one.
//!
//! libseccomp's side is `tests/seccomp_libseccomp.py` (Debian's python3-seccomp, for
//! `/usr/bin/python3`; `--family arm` replaces libseccomp's native x86_64 by aarch64): runc's
//! translation of the profile, without runc's -ENOSYS stub. The expected value is libseccomp's,
//! with the stub modelled here: when the default action is not ALLOW, LOG or TRACE, a number
//! above the largest one the profile names for an enabled ABI (x86_64: below 0x40000000; x32:
//! 0x40000000 up to 0xfffffffe; i386, aarch64, arm: up to 0xfffffffe) gets ERRNO(ENOSYS), and
//! number 0xffffffff (-1, a tracer's "skip") the default action. ARM's private calls
//! (`breakpoint` 0xf0001 ... `get_tls` 0xf0006) are numbers of the ARM table like any other, as
//! in runc's findLastSyscalls: a profile naming `set_tls` (Docker's) moves ARM's boundary to
//! 0xf0005, so the unnamed numbers between the last regular call and 0xf0000 get the default
//! action, not ENOSYS, exactly as under runc (`arm_private_calls` checks this directly).
//!
//! Documented differences, not compared (the test prints, for each, how many cases it skipped
//! and how many of them differ; everything else fails the test):
//! 1. Syscall tables. ocinit's come from Linux 6.18; the installed libseccomp (2.5.4) lacks the
//!    newer names (e.g. `uretprobe`, `mseal`, `listmount`), which runc then skips, and still
//!    has `map_shadow_stack` as x86_64-only (6.18 made it common: x32 453). The numbers where
//!    the two tables disagree for a name of the profile are not compared. On arm, libseccomp
//!    lacks the kernel's alias `sync_file_range2` = `arm_sync_file_range` (ARM 341). The ENOSYS
//!    boundary of the model is taken from ocinit's tables: what runc does with a libseccomp
//!    that knows them.
//! 2. (Resolved: ocinit now also filters the i386 multiplexers as libseccomp does. For a rule
//!    on a socket call (`socket`, `socketpair`...) or a SysV IPC call (`semop`, `shmget`...),
//!    both add a rule on `socketcall` (102) or `ipc` (117) with the call number in the first
//!    argument; these numbers are compared with every call number 0..=24 in arg 0.)
//! 3. runc's real stub (built here from libseccomp's numbers, `runc_program`, and printed as
//!    information) differs from the model in harmless ways: ENOSYS for number -1 on i386,
//!    aarch64 and arm and, when x32 is listed, on x86_64 (ocinit returns the default action
//!    there, as libseccomp does); ENOSYS for x86_64 numbers 0x80000000..=0xbfffffff (bit 30
//!    clear: invalid numbers, where ocinit and libseccomp kill as for x32 when x32 is not
//!    listed); and its boundary
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
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use common::bpf::{self, Data, sock_filter};
use linux_raw_sys::ptrace::{
    AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64,
    SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
    SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP,
    SECCOMP_RET_USER_NOTIF,
};
use ocinit::json::{Kind, MAX_DEPTH, Value, validate};
use ocinit::protocol::Log;
use ocinit::seccomp::Family;
use ocinit::seccomp::syscalls;

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/testdata/seccomp/docker-default-amd64.oci.json"
);
/// Docker's profile as Docker on arm64 hands it to runc, in `tests/seccomp/`. Derived from the
/// moby-format `../shared/testdata/seccomp/default.json` as the amd64 one is (moby's
/// setupSeccomp with Docker's 14 default capabilities and a new kernel): archMap's
/// `SCMP_ARCH_AARCH64` + `SCMP_ARCH_ARM`, the rules without includes/excludes, the one whose
/// `includes.arches` has `arm64` (ARM's `breakpoint`, `cacheflush`, `set_tls`...), and the
/// capability rules that hold for the default capabilities (`chroot`; `clone`'s flag check and
/// `clone3`'s ENOSYS, excluded only with CAP_SYS_ADMIN). The same derivation reproduces the
/// amd64 file byte for byte.
const DOCKER_ARM64: &str = "docker-default-arm64.oci.json";
const PROFILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seccomp");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seccomp_libseccomp.py");
const PYTHON: &str = "/usr/bin/python3";

const X32_BIT: u32 = 0x4000_0000;
/// ARM's private syscalls (`__ARM_NR_BASE`): `breakpoint` is 0xf0001 ... `get_tls` 0xf0006.
const ARM_PRIVATE: u32 = 0xf_0000;
const ENOSYS: u32 = 38;
/// An architecture no section matches.
const BOGUS_ARCH: u32 = 0x1234_5678;

/// The ABIs of a family in ocinit's order, native first (x86: x86_64, x32, i386; arm: aarch64,
/// arm). Index 0, the native ABI, is the only one that compares 64-bit arguments.
const X86_ABI_NAMES: [&str; 3] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_X86"];
const ARM_ABI_NAMES: [&str; 2] = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];
const NATIVE: usize = 0;
const X86_64: usize = 0;
const X32: usize = 1;
const I386: usize = 2;
const AARCH64: usize = 0;
const ARM: usize = 1;
/// The most ABIs a family has: per-ABI arrays are this long, unused slots `None`/`false`.
const MAX_ABIS: usize = 3;

fn abi_names(family: Family) -> &'static [&'static str] {
    match family {
        Family::X86 => &X86_ABI_NAMES,
        Family::Arm => &ARM_ABI_NAMES,
    }
}

/// An ABI's name without `SCMP_ARCH_`.
fn abi_name(family: Family, abi: usize) -> &'static str {
    abi_names(family)[abi].trim_start_matches("SCMP_ARCH_")
}

/// The family's name for `seccomp_libseccomp.py --family`.
fn family_name(family: Family) -> &'static str {
    match family {
        Family::X86 => "x86",
        Family::Arm => "arm",
    }
}

/// Each ABI of the family with the audit arch the kernel reports for it.
fn audit_arches(family: Family) -> &'static [(usize, u32)] {
    match family {
        Family::X86 => &[
            (X86_64, AUDIT_ARCH_X86_64),
            (X32, AUDIT_ARCH_X86_64),
            (I386, AUDIT_ARCH_I386),
        ],
        Family::Arm => &[(AARCH64, AUDIT_ARCH_AARCH64), (ARM, AUDIT_ARCH_ARM)],
    }
}

/// The architectures the differential test tries: the family's, and ones no section matches
/// (arm also tries x86_64's, a real arch of another family).
fn arches(family: Family) -> &'static [u32] {
    match family {
        Family::X86 => &[AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, BOGUS_ARCH],
        Family::Arm => &[
            AUDIT_ARCH_AARCH64,
            AUDIT_ARCH_ARM,
            AUDIT_ARCH_X86_64,
            BOGUS_ARCH,
        ],
    }
}

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
    family: Family,
    json: Vec<u8>,
    default: u32,
    /// ABIs in the filter (the native one always).
    abis: [bool; MAX_ABIS],
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

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared testdata sits beside the clone)",
            path.display()
        )
    })
}

fn load(path: &Path, family: Family) -> Profile {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    parse(name, read(path), family)
}

fn parse(name: String, json: Vec<u8>, family: Family) -> Profile {
    validate(&json, MAX_DEPTH).expect("valid JSON");
    let root = Value::root(&json);
    let default = action(
        &text(field(root, "defaultAction").expect("defaultAction")),
        field(root, "defaultErrnoRet").map(number),
    );
    let mut abis = [false; MAX_ABIS];
    for a in field(root, "architectures")
        .into_iter()
        .flat_map(|v| v.elements())
    {
        if let Some(i) = abi_names(family).iter().position(|n| *n == text(a)) {
            abis[i] = true;
        }
    }
    abis[NATIVE] = true;
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
        name,
        family,
        json,
        default,
        abis,
        rules,
    }
}

/// An x86 profile for the arm family: `architectures` mapped x86_64 -> aarch64, x86 -> arm,
/// x32 dropped, and the other way round (a foreign arch stays foreign); the rest of the text
/// untouched.
fn to_arm(json: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(json).expect("UTF-8 profile");
    let Some(key) = text.find("\"architectures\"") else {
        return json.to_vec();
    };
    let open = key + text[key..].find('[').expect("architectures [");
    let close = open + text[open..].find(']').expect("architectures ]");
    let mapped: Vec<&str> = text[open + 1..close]
        .split(',')
        .map(|a| a.trim().trim_matches('"'))
        .filter(|a| !a.is_empty())
        .filter_map(|a| match a {
            "SCMP_ARCH_X86_64" => Some("\"SCMP_ARCH_AARCH64\""),
            "SCMP_ARCH_X86" => Some("\"SCMP_ARCH_ARM\""),
            "SCMP_ARCH_X32" => None,
            "SCMP_ARCH_AARCH64" => Some("\"SCMP_ARCH_X86_64\""),
            "SCMP_ARCH_ARM" => Some("\"SCMP_ARCH_X86\""),
            other => panic!("to_arm: architecture {other}"),
        })
        .collect();
    format!(
        "{}[{}]{}",
        &text[..open],
        mapped.join(", "),
        &text[close + 1..]
    )
    .into_bytes()
}

/// The small profiles, `tests/seccomp/*.json` but Docker's.
fn small_profiles() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(PROFILES)
        .expect("tests/seccomp")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.ends_with(DOCKER_ARM64))
        .collect();
    paths.sort();
    paths
}

/// The family's Docker profile.
fn docker(family: Family) -> Profile {
    match family {
        Family::X86 => load(Path::new(DOCKER), family),
        Family::Arm => load(&Path::new(PROFILES).join(DOCKER_ARM64), family),
    }
}

/// The profiles of the differential test: the family's Docker profile, and every small one
/// (for arm with its architectures mapped, named `NAME-arm`).
fn profiles(family: Family) -> Vec<Profile> {
    let mut out = vec![docker(family)];
    for path in small_profiles() {
        out.push(match family {
            Family::X86 => load(&path, family),
            Family::Arm => {
                let stem = path.file_stem().unwrap().to_string_lossy();
                parse(format!("{stem}-arm"), to_arm(&read(&path)), family)
            }
        });
    }
    out
}

fn fnv1a(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// `name`'s number on each ABI of `family` by ocinit's tables (x32 with its 0x40000000 bit).
fn numbers(family: Family, name: &str) -> [Option<u32>; MAX_ABIS] {
    let hash = fnv1a(name);
    match family {
        Family::X86 => {
            use syscalls::x86 as t;
            let Ok(i) = t::NAME_HASH.binary_search(&hash) else {
                return [None; MAX_ABIS];
            };
            let get = |table: &[u16], base: u32| {
                (table[i] != t::ABSENT).then(|| base + u32::from(table[i]))
            };
            // x32: x86_64's number, unless x32 lacks it or has its own (`X32_MOVED`).
            let nr = t::X86_64[i];
            let x32 = match t::X32_MOVED.iter().position(|&n| n == nr) {
                Some(k) => Some(X32_BIT + u32::from(t::X32_MOVED_BASE) + k as u32),
                None if t::X32_ABSENT.contains(&nr) => None,
                None => get(&t::X86_64, X32_BIT),
            };
            [get(&t::X86_64, 0), x32, get(&t::I386, 0)]
        }
        Family::Arm => {
            use syscalls::arm as t;
            let Ok(i) = t::NAME_HASH.binary_search(&hash) else {
                return [None; MAX_ABIS];
            };
            let get = |table: &[u32]| (table[i] != t::ABSENT).then_some(table[i]);
            [get(&t::AARCH64), get(&t::ARM), None]
        }
    }
}

impl Profile {
    /// `name`'s numbers in the profile's family.
    fn numbers(&self, name: &str) -> [Option<u32>; MAX_ABIS] {
        numbers(self.family, name)
    }

    /// The profile's ABIs with their audit arches.
    fn audit_arches(&self) -> &'static [(usize, u32)] {
        audit_arches(self.family)
    }

    /// The largest number the profile names on each ABI (any rule, as runc's stub).
    fn largest(&self) -> [Option<u32>; MAX_ABIS] {
        let mut max = [None; MAX_ABIS];
        for r in &self.rules {
            for n in &r.names {
                for (abi, nr) in self.numbers(n).into_iter().enumerate() {
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
            .filter(|r| r.names.iter().any(|n| self.numbers(n)[abi] == Some(nr)))
            .flat_map(|r| r.args.iter())
            .collect()
    }
}

/// Whether `c` holds for `arg` on `abi` (32-bit ABIs, all but the native one, compare the low
/// words, as libseccomp).
fn holds(c: &Cond, abi: usize, arg: u64) -> bool {
    let w = |v: u64| if abi == NATIVE { v } else { v & 0xffff_ffff };
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
            if !r.names.iter().any(|n| self.numbers(n)[abi] == Some(nr)) {
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

    /// The ABI a (arch, nr) pair belongs to, for the stub model; None for -1 and foreign
    /// arches.
    fn abi_of(&self, arch: u32, nr: u32) -> Option<usize> {
        match (self.family, arch) {
            _ if nr == u32::MAX => None,
            (Family::X86, AUDIT_ARCH_X86_64) if nr >= X32_BIT => Some(X32),
            (Family::X86, AUDIT_ARCH_X86_64) => Some(X86_64),
            (Family::X86, AUDIT_ARCH_I386) => Some(I386),
            (Family::Arm, AUDIT_ARCH_AARCH64) => Some(AARCH64),
            (Family::Arm, AUDIT_ARCH_ARM) => Some(ARM),
            _ => None,
        }
    }

    /// Whether the filter has a section for `arch` (the native arch's always, a compat one's
    /// when listed).
    fn has_section(&self, arch: u32) -> bool {
        self.audit_arches()
            .iter()
            .any(|&(abi, audit)| audit == arch && (abi == NATIVE || self.abis[abi]))
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
    let filter =
        ocinit::seccomp::compile_for(p.family, Value::root(&p.json), false, &log, &mut buf)
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
    names: BTreeMap<String, [Option<u32>; MAX_ABIS]>,
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
    // The profile on stdin: the arm family's small profiles exist only in memory.
    let mut child = cmd
        .args(["--family", family_name(p.family), "-"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&p.json)
        .expect("profile to python3");
    let o = child.wait_with_output().expect("python3");
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
            ["name", name, nrs @ ..] if nrs.len() == abi_names(p.family).len() => {
                let mut v = [None; MAX_ABIS];
                for (slot, w) in v.iter_mut().zip(nrs) {
                    *slot = (*w != "-").then(|| w.parse::<u32>().expect("nr"));
                }
                report.names.insert((*name).to_string(), v);
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
fn numbers_to_try(family: Family) -> Vec<u32> {
    let mut v: Vec<u32> = (0..=600).collect();
    if family == Family::Arm {
        // ARM's private calls and their neighbours (the kernel's private range is 0xf0000 to
        // 0xf07ff), and OABI's base (an EABI task's 0x900000 + n is just a large number).
        v.extend(ARM_PRIVATE..=ARM_PRIVATE + 0x10);
        v.extend([
            ARM_PRIVATE - 1,
            0xf_07ff,
            0xf_0800,
            0x90_0000,
            0x90_0001,
            X32_BIT,
            X32_BIT + 1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffd,
            0xffff_fffe,
            0xffff_ffff,
            1000,
            4096,
            65535,
            65536,
        ]);
        return v;
    }
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

/// The i386 multiplexer numbers libseccomp (and ocinit) add rules to (none on arm: EABI has
/// direct socket and IPC calls).
fn multiplexed(p: &Profile) -> BTreeSet<u32> {
    if p.family != Family::X86 {
        return BTreeSet::new();
    }
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
fn expected(p: &Profile, largest: &[Option<u32>; MAX_ABIS], arch: u32, nr: u32, lib: u32) -> u32 {
    if p.has_section(arch) {
        if nr == u32::MAX {
            return p.default;
        }
        if let Some(abi) = p.abi_of(arch, nr)
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
        AUDIT_ARCH_AARCH64 => "aarch64",
        AUDIT_ARCH_ARM => "arm",
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
    for p in profiles(Family::X86)
        .into_iter()
        .chain(profiles(Family::Arm))
    {
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
            let ours = p.numbers(name);
            for abi in 0..abi_names(p.family).len() {
                // i386 socket and IPC calls resolve to their multiplexer in libseccomp; its
                // filter checks the direct number too (difference 2 covers the multiplexer).
                let muxed = p.family == Family::X86
                    && abi == I386
                    && (SOCKETCALLS.contains(&name.as_str()) || IPC_CALLS.contains(&name.as_str()));
                if ours[abi] == theirs[abi] || muxed {
                    continue;
                }
                table_differences.push(format!(
                    "{name} on {}: ocinit {:?}, libseccomp {:?}",
                    abi_name(p.family, abi),
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
        for &arch in arches(p.family) {
            for nr in numbers_to_try(p.family) {
                let abi = p.abi_of(arch, nr);
                let excluded_nr = abi.and_then(|abi| excluded.get(&(abi, nr)).copied());
                let mut vectors = abi.map_or_else(|| vec![[0; 6]], |abi| arg_vectors(&p, abi, nr));
                if multiplexed(&p).contains(&nr) && p.family == Family::X86 && abi == Some(I386) {
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

/// ARM's private calls and the ENOSYS boundary, checked on ocinit's program alone (the
/// differential test compares the same numbers with libseccomp + the stub model, and prints
/// where runc's real stub differs: nowhere in these ranges).
#[test]
fn arm_private_calls() {
    let run =
        |prog: &[sock_filter], arch: u32, nr: u32| bpf::run(prog, &Data::new(arch, nr, [0; 6])).0;
    let eperm = SECCOMP_RET_ERRNO | 1;
    let enosys = SECCOMP_RET_ERRNO | ENOSYS;

    // Docker's arm64 profile names `breakpoint`, `cacheflush` and `set_tls`.
    let p = docker(Family::Arm);
    let prog = compile(&p);
    let regular = p
        .rules
        .iter()
        .flat_map(|r| &r.names)
        .filter_map(|n| p.numbers(n)[ARM])
        .filter(|&nr| nr < ARM_PRIVATE)
        .max()
        .expect("ARM numbers");
    let aarch64 = p.largest()[AARCH64].expect("aarch64 numbers");
    for (arch, nr, want) in [
        (AUDIT_ARCH_ARM, 0xf_0001, SECCOMP_RET_ALLOW),
        (AUDIT_ARCH_ARM, 0xf_0002, SECCOMP_RET_ALLOW),
        (AUDIT_ARCH_ARM, 0xf_0005, SECCOMP_RET_ALLOW),
        // `usr26`, `usr32`: unnamed, below the boundary.
        (AUDIT_ARCH_ARM, 0xf_0003, eperm),
        (AUDIT_ARCH_ARM, 0xf_0004, eperm),
        // Between the last regular call and the private range: below the boundary too.
        (AUDIT_ARCH_ARM, regular + 1, eperm),
        (AUDIT_ARCH_ARM, 0xe_ffff, eperm),
        (AUDIT_ARCH_ARM, ARM_PRIVATE, eperm),
        // `get_tls` and beyond: above `set_tls`.
        (AUDIT_ARCH_ARM, 0xf_0006, enosys),
        (AUDIT_ARCH_ARM, 0xf_07ff, enosys),
        (AUDIT_ARCH_ARM, 0x90_0000, enosys),
        (AUDIT_ARCH_ARM, u32::MAX, eperm),
        // aarch64 has no private calls: its boundary is its own largest number.
        (AUDIT_ARCH_AARCH64, aarch64, SECCOMP_RET_ALLOW),
        (AUDIT_ARCH_AARCH64, aarch64 + 1, enosys),
        (AUDIT_ARCH_AARCH64, 0xf_0001, enosys),
        (AUDIT_ARCH_AARCH64, u32::MAX, eperm),
        (AUDIT_ARCH_X86_64, 0, SECCOMP_RET_KILL_THREAD),
        (AUDIT_ARCH_I386, 0, SECCOMP_RET_KILL_THREAD),
    ] {
        assert_eq!(
            bpf::action_name(run(&prog, arch, nr)),
            bpf::action_name(want),
            "{}: {} nr {nr:#x}",
            p.name,
            arch_name(arch)
        );
    }

    // Without private names ARM's boundary is its largest regular number.
    let p = parse(
        "read-write".to_string(),
        br#"{"defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
            "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#
            .to_vec(),
        Family::Arm,
    );
    let prog = compile(&p);
    for (arch, nr, want) in [
        (AUDIT_ARCH_ARM, 2, eperm),
        (AUDIT_ARCH_ARM, 3, SECCOMP_RET_ALLOW),
        (AUDIT_ARCH_ARM, 4, SECCOMP_RET_ALLOW),
        (AUDIT_ARCH_ARM, 5, enosys),
        (AUDIT_ARCH_ARM, 0xf_0005, enosys),
        (AUDIT_ARCH_AARCH64, 63, SECCOMP_RET_ALLOW),
        (AUDIT_ARCH_AARCH64, 65, enosys),
    ] {
        assert_eq!(
            bpf::action_name(run(&prog, arch, nr)),
            bpf::action_name(want),
            "{}: {} nr {nr:#x}",
            p.name,
            arch_name(arch)
        );
    }

    // ARM unlisted: killed, private numbers included.
    let p = parse(
        "native-only".to_string(),
        br#"{"defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["set_tls", "read"], "action": "SCMP_ACT_ALLOW"}]}"#
            .to_vec(),
        Family::Arm,
    );
    let prog = compile(&p);
    for nr in [3, 0xf_0005] {
        assert_eq!(
            run(&prog, AUDIT_ARCH_ARM, nr),
            SECCOMP_RET_KILL_THREAD,
            "ARM unlisted, nr {nr:#x}"
        );
    }
    assert_eq!(run(&prog, AUDIT_ARCH_AARCH64, 63), SECCOMP_RET_ALLOW);
    assert_eq!(run(&prog, AUDIT_ARCH_AARCH64, 64), enosys);
}

// ---------------------------------------------------------------------------------------------
// The kernel's action cache, and instructions executed.

/// For each ABI, the action of the first unconditional live rule per number (what decides the
/// call by number alone), from the profile.
fn unconditional(p: &Profile) -> [BTreeMap<u32, u32>; MAX_ABIS] {
    let mut out: [BTreeMap<u32, u32>; MAX_ABIS] = Default::default();
    for r in p.live().filter(|r| r.args.is_empty()) {
        for n in &r.names {
            for (abi, nr) in p.numbers(n).into_iter().enumerate() {
                if let Some(nr) = nr {
                    out[abi].entry(nr).or_insert(r.action);
                }
            }
        }
    }
    out
}

/// Whether the kernel's action cache could hold `nr`: its bitmaps cover the arch's syscall
/// table only, and ARM's private calls (0xf0001...) lie beyond it: the kernel always runs the
/// filter for them, whatever the filter looks like. (x32's numbers lie beyond x86_64's bitmap
/// too, but share its tree: checked all the same.)
fn cacheable(family: Family, nr: u32) -> bool {
    family != Family::Arm || nr < ARM_PRIVATE
}

fn docker_profile_is_constant_allow(family: Family) {
    let p = docker(family);
    let prog = compile(&p);
    let uncond = unconditional(&p);
    let mut missing = Vec::new();
    let mut checked = 0;
    for &(abi, arch) in p.audit_arches() {
        for (&nr, &act) in &uncond[abi] {
            if act != SECCOMP_RET_ALLOW || !cacheable(family, nr) {
                continue;
            }
            checked += 1;
            let got = bpf::const_action(&prog, arch, nr);
            if got != Some(SECCOMP_RET_ALLOW) {
                missing.push(format!(
                    "{} nr {nr}: {:?}",
                    abi_name(family, abi),
                    got.map(bpf::action_name)
                ));
            }
        }
    }
    println!(
        "{}: {checked} unconditionally allowed (ABI, number) pairs checked",
        p.name
    );
    assert!(
        missing.is_empty(),
        "{}: not constant ALLOW for the kernel's cache: {missing:#?}",
        p.name
    );
    // A call with argument conditions must not be constant (it would skip the checks).
    for &(abi, arch) in p.audit_arches() {
        for r in p.live().filter(|r| !r.args.is_empty()) {
            for n in &r.names {
                let Some(nr) = p.numbers(n)[abi] else {
                    continue;
                };
                if uncond[abi].contains_key(&nr) {
                    continue;
                }
                assert_eq!(
                    bpf::const_action(&prog, arch, nr),
                    None,
                    "{}: {n} ({}) has argument conditions but is constant",
                    p.name,
                    abi_name(family, abi)
                );
            }
        }
    }
}

#[test]
fn docker_profile_is_constant_allow_x86() {
    docker_profile_is_constant_allow(Family::X86);
}

#[test]
fn docker_profile_is_constant_allow_arm() {
    docker_profile_is_constant_allow(Family::Arm);
}

/// runc's -ENOSYS stub (patchbpf's generateEnosysStub, arch order fixed: native first) in
/// front of libseccomp's program: runc's real program, for the instruction counts and
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
    // Sections, each jumping to "enosys" or "filter" (resolved below).
    enum J {
        Enosys,
        Filter,
        Next(u8),
    }
    /// An instruction of a section: opcode, true and false targets, K.
    type Insn = (u32, J, J, u32);
    // The largest number of a listed ABI (the native one always).
    let largest = |abi: usize| {
        p.abis[abi]
            .then(|| max.get(abi_names(p.family)[abi]))
            .flatten()
    };
    // The section of an audit arch with one ABI: above the largest number, ENOSYS.
    let simple = |max: u32| -> Vec<Insn> {
        vec![
            (LD, J::Next(0), J::Next(0), 0),
            (JGT, J::Enosys, J::Next(0), max),
            (JA, J::Filter, J::Filter, 0),
        ]
    };
    let mut sections: Vec<(u32, Vec<Insn>)> = Vec::new();
    match p.family {
        Family::X86 => {
            let x86_64 = largest(X86_64);
            let x32 = largest(X32);
            let i386 = largest(I386);
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
                sections.push((AUDIT_ARCH_I386, simple(a)));
            }
        }
        Family::Arm => {
            for (abi, arch) in [(AARCH64, AUDIT_ARCH_AARCH64), (ARM, AUDIT_ARCH_ARM)] {
                if let Some(&a) = largest(abi) {
                    sections.push((arch, simple(a)));
                }
            }
        }
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

/// The family's Docker profile: instructions executed per ABI over the numbers it names, the
/// numbers the kernel's cache can hold as ALLOW, and program lengths, for ocinit, libseccomp
/// (plain and with its binary tree) and runc (stub + tree). Informational.
fn instructions_executed(family: Family) {
    let p = docker(family);
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
    let mut table = format!(
        "{}, instructions executed over the numbers it names (args 0): median / max\n\
         ABI      | names | ocinit  | libseccomp | libseccomp tree | runc (stub + tree)\n",
        p.name
    );
    for &(abi, arch) in p.audit_arches() {
        let named: BTreeSet<u32> = p
            .rules
            .iter()
            .flat_map(|r| &r.names)
            .filter_map(|n| p.numbers(n)[abi])
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
            abi_name(family, abi),
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
    // x32 shares x86_64's audit arch and numbers above 0x40000000: the kernel's cache holds
    // x86_64's table only (a 64-bit task's x32 calls always run the filter).
    let cached: Vec<(usize, u32)> = p
        .audit_arches()
        .iter()
        .copied()
        .filter(|&(abi, _)| !(family == Family::X86 && abi == X32))
        .collect();
    let constant = |prog: &[sock_filter]| {
        let mut n = 0;
        for &(abi, arch) in &cached {
            for &nr in unconditional(&p)[abi].keys() {
                n += usize::from(
                    cacheable(family, nr)
                        && bpf::const_action(prog, arch, nr) == Some(SECCOMP_RET_ALLOW),
                );
            }
        }
        n
    };
    let _ = write!(
        table,
        "constant ALLOW for the kernel's cache ({}): ocinit {}",
        cached
            .iter()
            .map(|&(abi, _)| abi_name(family, abi))
            .collect::<Vec<_>>()
            .join(" + "),
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

#[test]
fn instructions_executed_x86() {
    instructions_executed(Family::X86);
}

#[test]
fn instructions_executed_arm() {
    instructions_executed(Family::Arm);
}

// ---------------------------------------------------------------------------------------------
// Golden disassembly and validity.

fn golden(name: &str) {
    let p = load(
        &Path::new(PROFILES).join(format!("{name}.json")),
        Family::X86,
    );
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
    for p in profiles(Family::X86)
        .into_iter()
        .chain(profiles(Family::Arm))
    {
        let prog = compile(&p);
        // Every number of every arch reaches a `ret` without leaving the program.
        for &arch in arches(p.family) {
            for nr in numbers_to_try(p.family) {
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
