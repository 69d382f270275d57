//! `linux.seccomp` compiled to classic BPF inside the init: no libseccomp, no allocation.
//!
//! Semantics are runc's (which delegates to libseccomp), so a profile behaves the same under
//! either runtime (`docs/SECCOMP.md` lists the few documented differences):
//! - a rule whose action equals the default action is skipped;
//! - for one syscall, the first unconditional rule wins over everything else; conditional
//!   rules are tried in config order, the first whose conditions all hold decides;
//! - conditions on distinct argument indices are ANDed; if an index repeats within a rule,
//!   each condition becomes a rule of its own (ORed), as runc does;
//! - on 32-bit ABIs (i386, x32) only the low 32 bits of an argument and of the values are
//!   compared, as libseccomp does; `SCMP_CMP_MASKED_EQ` compares `(arg & value) ==
//!   (valueTwo & value)`;
//! - unknown syscall names are skipped and logged at debug level, as runc does (fatal with the annotation
//!   [`FAIL_UNKNOWN`]);
//! - a syscall numbered above every syscall the profile names for its ABI returns `ENOSYS`
//!   (runc's stub), unless the default action already allows it;
//! - syscall number -1 gets the default action; an unlisted architecture is killed.
//!
//! Layout: a dispatch on the audit architecture, then per architecture a balanced decision
//! tree on the syscall number (`jge`) whose leaves are shared `ret` instructions, then the
//! argument checks of the syscalls that have conditional rules. The tree uses only
//! instructions the kernel's constant-action cache can evaluate (`seccomp_is_const_allow`),
//! so a syscall allowed by number alone never runs the filter after its first use.

mod emit;
pub mod syscalls;

use linux_raw_sys::ptrace as k;
use linux_raw_sys::ptrace::sock_filter;

use crate::config::string;
use rustix::fd::{AsRawFd, BorrowedFd};

use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::{JStr, Kind, Value};
use crate::names::{Names, Table};
use crate::protocol::{self, Line, Log};
use crate::sys;
use crate::text::Part;
use emit::{Program, Target, TooLong};

const STEP: Step = Step::Seccomp;

/// The annotation that makes an unknown syscall name an error (crun's name for it).
pub const FAIL_UNKNOWN: &str = "run.oci.seccomp_fail_unknown_syscall";
/// The annotation carrying a precompiled filter, base64 of `struct sock_filter[]` (crun's).
pub const BPF_DATA: &str = "run.oci.seccomp_bpf_data";

/// Fixed capacities of the compiler, each a clear error when exceeded.
pub mod limits {
    /// Instructions in a filter (the kernel's `BPF_MAXINSNS`).
    pub const INSNS: usize = 4096;
    /// Conditional rules after splitting repeated argument indices.
    pub const RULES: usize = 256;
    /// Conditions over all conditional rules.
    pub const CONDITIONS: usize = 256;
    /// (syscall, conditional rule) pairs over all architectures.
    pub const LINKS: usize = 1024;
    /// Number ranges with distinct outcomes in one architecture's decision tree.
    pub const RANGES: usize = 2048;
    /// Syscall numbers per ABI (the largest in use is x32's 547).
    pub const NUMBERS: usize = 576;
    /// Rules on i386 calls also reachable through `socketcall`/`ipc`.
    pub const MULTIPLEXED: usize = 128;
}

/// Byte offsets in `struct seccomp_data`.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
const fn offset_arg(index: u8, high: bool) -> u32 {
    // Little-endian: the low word of args[i] comes first.
    16 + 8 * index as u32 + if high { 4 } else { 0 }
}

/// `__X32_SYSCALL_BIT`.
const X32_BIT: u32 = 0x4000_0000;
/// The number a tracer uses to skip a syscall; libseccomp lets it reach the default action.
const SKIPPED_NR: u32 = u32::MAX;

/// The numbers of one ABI, in name-table order: 16-bit for the x86 family, 32-bit for the arm
/// one (whose private calls are numbered from 0xf0000); x32's derived from x86_64's.
#[derive(Debug, Clone, Copy)]
enum Numbers {
    Narrow(&'static [u16]),
    Wide(&'static [u32]),
    X32(&'static X32Numbers),
}

/// x32's numbers, derived from x86_64's (`syscalls` explains): x86_64's number unless `listed`
/// marks it, then x32's own (`X32_MOVED_BASE` + its position in `moved`) or none. Referenced,
/// not named, by `Numbers::get`: an aarch64 build links none of it.
#[derive(Debug)]
struct X32Numbers {
    x86_64: &'static [u16],
    moved: &'static [u16],
    listed: &'static [u64],
}

/// x32's two lists of x86_64 numbers.
const X32_LISTS: [&[u16]; 2] = [&syscalls::x86::X32_MOVED, &syscalls::x86::X32_ABSENT];

/// One bit per x86_64 number in `X32_LISTS`: the others (most) are x32's numbers too.
const X32_LISTED: [u64; X32_LISTED_WORDS] = {
    let mut bits = [0u64; X32_LISTED_WORDS];
    let mut l = 0;
    while l < X32_LISTS.len() {
        let mut i = 0;
        while i < X32_LISTS[l].len() {
            let nr = X32_LISTS[l][i] as usize;
            bits[nr / 64] |= 1 << (nr % 64);
            i += 1;
        }
        l += 1;
    }
    bits
};

/// Enough words for the largest number of `X32_LISTS`.
const X32_LISTED_WORDS: usize = {
    let mut words = 0;
    let mut l = 0;
    while l < X32_LISTS.len() {
        let mut i = 0;
        while i < X32_LISTS[l].len() {
            let w = X32_LISTS[l][i] as usize / 64 + 1;
            if w > words {
                words = w;
            }
            i += 1;
        }
        l += 1;
    }
    words
};

impl Numbers {
    /// The number of name `i`, if the ABI has it.
    fn get(self, i: usize) -> Option<u32> {
        match self {
            Numbers::Narrow(t) => t.get(i).filter(|&&n| n != u16::MAX).map(|&n| u32::from(n)),
            Numbers::Wide(t) => t.get(i).filter(|&&n| n != u32::MAX).copied(),
            Numbers::X32(t) => {
                let nr = *t.x86_64.get(i).filter(|&&n| n != u16::MAX)?;
                let listed = t.listed.get(usize::from(nr / 64)).copied().unwrap_or(0);
                if listed & (1 << (nr % 64)) == 0 {
                    return Some(u32::from(nr));
                }
                // Listed and not moved: in `X32_ABSENT`.
                let mut moved = (syscalls::x86::X32_MOVED_BASE..).zip(t.moved);
                let (x32, _) = moved.find(|&(_, &n)| n == nr)?;
                Some(u32::from(x32))
            }
        }
    }
}

/// One ABI of a family: its name in profiles, audit arch and syscall numbers.
#[derive(Debug)]
struct Abi {
    name: &'static str,
    audit: u32,
    numbers: Numbers,
    /// Added to the table's numbers (x32's `__X32_SYSCALL_BIT`).
    base: u32,
    /// Arguments are compared as 64-bit values (else only the low word, as libseccomp).
    wide: bool,
}

/// An architecture family: the native ABI and its compat ones, as one kernel runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// x86_64, with i386 (`SCMP_ARCH_X86`) and x32 (`SCMP_ARCH_X32`).
    X86,
    /// aarch64, with 32-bit arm EABI (`SCMP_ARCH_ARM`).
    Arm,
}

/// The most ABIs a family has.
const MAX_ABIS: usize = 3;

/// The family of this build's architecture.
#[cfg(target_arch = "x86_64")]
pub const NATIVE: Family = Family::X86;
/// The family of this build's architecture.
#[cfg(target_arch = "aarch64")]
pub const NATIVE: Family = Family::Arm;

/// A family's name table and ABIs, native first. x32 shares x86_64's audit arch and therefore
/// its section of the filter.
#[derive(Debug)]
struct Tables {
    hashes: &'static [u32],
    abis: &'static [Abi],
    /// The ABI whose socket and SysV IPC calls also go through `socketcall`/`ipc` (i386).
    multiplexed: Option<usize>,
}

const X86_TABLES: Tables = Tables {
    hashes: &syscalls::x86::NAME_HASH,
    abis: &[
        Abi {
            name: "SCMP_ARCH_X86_64",
            audit: k::AUDIT_ARCH_X86_64,
            numbers: Numbers::Narrow(&syscalls::x86::X86_64),
            base: 0,
            wide: true,
        },
        Abi {
            name: "SCMP_ARCH_X32",
            audit: k::AUDIT_ARCH_X86_64,
            numbers: Numbers::X32(&X32Numbers {
                x86_64: &syscalls::x86::X86_64,
                moved: &syscalls::x86::X32_MOVED,
                listed: &X32_LISTED,
            }),
            base: X32_BIT,
            wide: false,
        },
        Abi {
            name: "SCMP_ARCH_X86",
            audit: k::AUDIT_ARCH_I386,
            numbers: Numbers::Narrow(&syscalls::x86::I386),
            base: 0,
            wide: false,
        },
    ],
    multiplexed: Some(2),
};

const ARM_TABLES: Tables = Tables {
    hashes: &syscalls::arm::NAME_HASH,
    abis: &[
        Abi {
            name: "SCMP_ARCH_AARCH64",
            audit: k::AUDIT_ARCH_AARCH64,
            numbers: Numbers::Wide(&syscalls::arm::AARCH64),
            base: 0,
            wide: true,
        },
        Abi {
            name: "SCMP_ARCH_ARM",
            audit: k::AUDIT_ARCH_ARM,
            numbers: Numbers::Wide(&syscalls::arm::ARM),
            base: 0,
            wide: false,
        },
    ],
    multiplexed: None,
};

impl Family {
    fn tables(self) -> &'static Tables {
        match self {
            Family::X86 => &X86_TABLES,
            Family::Arm => &ARM_TABLES,
        }
    }
}

/// ARM's private syscalls (`__ARM_NR_BASE` 0xf0000 + 1 ... 6) take the last slots of
/// `Decisions::table`; every other number is its own slot.
const PRIVATE_BASE: u32 = 0xf_0000;
const PRIVATE_SLOTS: usize = 16;

/// The table slot of a syscall number (below `limits::NUMBERS`, checked for every table below).
const fn slot_of(nr: u32) -> usize {
    if nr >= PRIVATE_BASE {
        (limits::NUMBERS - PRIVATE_SLOTS) + (nr - PRIVATE_BASE) as usize
    } else {
        nr as usize
    }
}

/// The number of a table slot.
const fn nr_of(slot: usize) -> u32 {
    if slot >= limits::NUMBERS - PRIVATE_SLOTS {
        #[expect(clippy::cast_possible_truncation, reason = "slots are below 4096")]
        {
            PRIVATE_BASE + (slot - (limits::NUMBERS - PRIVATE_SLOTS)) as u32
        }
    } else {
        #[expect(clippy::cast_possible_truncation, reason = "slots are below 4096")]
        {
            slot as u32
        }
    }
}

/// A number with a slot of its own in `Decisions::table`.
const fn fits(nr: u32) -> bool {
    nr < (limits::NUMBERS - PRIVATE_SLOTS) as u32
        || (nr >= PRIVATE_BASE && nr < PRIVATE_BASE + PRIVATE_SLOTS as u32)
}

// Every number of the tables has one.
const _: () = {
    let tables = [&syscalls::x86::X86_64, &syscalls::x86::I386];
    let mut t = 0;
    while t < tables.len() {
        let mut i = 0;
        while i < tables[t].len() {
            assert!(tables[t][i] == u16::MAX || fits(tables[t][i] as u32));
            i += 1;
        }
        t += 1;
    }
    // x32's own numbers (its others are x86_64's).
    let first = syscalls::x86::X32_MOVED_BASE as u32;
    assert!(fits(first) && fits(first + syscalls::x86::X32_MOVED.len() as u32 - 1));
    let tables = [&syscalls::arm::AARCH64, &syscalls::arm::ARM];
    let mut t = 0;
    while t < tables.len() {
        let mut i = 0;
        while i < tables[t].len() {
            assert!(tables[t][i] == u32::MAX || fits(tables[t][i]));
            i += 1;
        }
        t += 1;
    }
};

/// Architecture names libseccomp knows that are not of this family: accepted and left out
/// (a kernel of this family never reports them).
const FOREIGN_ARCHES: Names = crate::names![
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_RISCV64",
];

/// Action names, their `SECCOMP_RET_*` and whether `errnoRet` applies.
const ACTIONS: Table<(u32, bool), 9> = crate::table![
    ("SCMP_ACT_KILL", k::SECCOMP_RET_KILL_THREAD, false),
    ("SCMP_ACT_KILL_THREAD", k::SECCOMP_RET_KILL_THREAD, false),
    ("SCMP_ACT_KILL_PROCESS", k::SECCOMP_RET_KILL_PROCESS, false),
    ("SCMP_ACT_TRAP", k::SECCOMP_RET_TRAP, false),
    ("SCMP_ACT_ERRNO", k::SECCOMP_RET_ERRNO, true),
    ("SCMP_ACT_TRACE", k::SECCOMP_RET_TRACE, true),
    ("SCMP_ACT_ALLOW", k::SECCOMP_RET_ALLOW, false),
    ("SCMP_ACT_LOG", k::SECCOMP_RET_LOG, false),
    ("SCMP_ACT_NOTIFY", k::SECCOMP_RET_USER_NOTIF, false),
];

/// `flags` names and their `SECCOMP_FILTER_FLAG_*` (TSYNC is accepted and has no effect: the
/// init is single-threaded).
const FLAGS: Table<u32, 4> = crate::table![
    ("SECCOMP_FILTER_FLAG_TSYNC", 0),
    ("SECCOMP_FILTER_FLAG_LOG", k::SECCOMP_FILTER_FLAG_LOG),
    (
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        k::SECCOMP_FILTER_FLAG_SPEC_ALLOW
    ),
    (
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        k::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    ),
];

/// An argument comparison, `SCMP_CMP_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

const CMPS: Table<Cmp, 7> = crate::table![
    ("SCMP_CMP_NE", Cmp::Ne),
    ("SCMP_CMP_LT", Cmp::Lt),
    ("SCMP_CMP_LE", Cmp::Le),
    ("SCMP_CMP_EQ", Cmp::Eq),
    ("SCMP_CMP_GE", Cmp::Ge),
    ("SCMP_CMP_GT", Cmp::Gt),
    ("SCMP_CMP_MASKED_EQ", Cmp::MaskedEq),
];

/// `args[j]` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Condition {
    index: u8,
    cmp: Cmp,
    value: u64,
    value_two: u64,
}

/// A conditional rule: its return value and `conditions[first..first + count]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Rule {
    action: u32,
    first: u16,
    count: u8,
}

/// A compiled filter and how to load it.
#[derive(Debug)]
pub struct Filter<'b> {
    /// The program.
    pub program: &'b [sock_filter],
    /// `SECCOMP_FILTER_FLAG_*` for `seccomp(2)`.
    pub flags: u32,
}

/// Where an error is, for the `syscalls[]` entries.
const AT_SYSCALLS: Field = Field::LinuxSeccompSyscallsItem;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a 32 of a name, as `gen_syscalls.py` hashes the names of the tables.
fn fnv1a(name: JStr<'_>) -> u32 {
    let step = |h: u32, b: u8| (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
    if name.raw().contains(&b'\\') {
        let mut utf8 = [0u8; 4];
        name.chars().fold(FNV_OFFSET, |h, c| {
            c.encode_utf8(&mut utf8).bytes().fold(h, step)
        })
    } else {
        fnv1a_bytes(name.raw())
    }
}

const fn fnv1a_bytes(bytes: &[u8]) -> u32 {
    let mut h = FNV_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u32).wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// The index of a name, by its hash, in a family's tables.
fn syscall_index(tables: &Tables, hash: u32) -> Option<usize> {
    // The hashes are uniform: start from where the value should be and look around it (a few
    // steps instead of the nine of a binary search over ~470).
    let hashes = tables.hashes;
    let guess = ((u64::from(hash) * hashes.len() as u64) >> 32) as usize;
    let (lo, hi) = (guess.saturating_sub(16), (guess + 17).min(hashes.len()));
    match hashes[lo..hi].binary_search(&hash) {
        Ok(i) => Some(lo + i),
        // At an edge of the window the value may lie beyond it: the whole table then.
        Err(i) if i == 0 || i == hi - lo => hashes.binary_search(&hash).ok(),
        Err(_) => None,
    }
}

fn action_of(name: JStr<'_>) -> Option<(u32, bool)> {
    ACTIONS
        .find(|n, _| name.eq_str(n))
        .map(|(_, &action)| action)
}

/// The return value of an action with its optional `errnoRet` (EPERM when absent, as runc).
fn action(v: Option<Value<'_>>, errno: Option<Value<'_>>, at: (At, At)) -> Result<u32, InitError> {
    let v = v.ok_or_else(|| InitError::invalid(STEP, at.0, Reason::Missing))?;
    let (ret, takes_errno) = action_of(string(v, at.0)?)
        .ok_or_else(|| InitError::invalid(STEP, at.0, Reason::UnknownAction))?;
    let Some(errno) = errno else {
        return Ok(if takes_errno { ret | 1 } else { ret });
    };
    if !takes_errno {
        return Err(InitError::invalid(
            STEP,
            at.1,
            Reason::OnlySCMPACTERRNOAndSCMP,
        ));
    }
    let n = crate::config::uint32(errno, at.1)?;
    // The kernel caps the value at MAX_ERRNO; a larger one would silently become 4095.
    if n > 4095 {
        return Err(InitError::invalid(
            STEP,
            at.1,
            Reason::AboveTheKernelsMAXERRNO4095,
        ));
    }
    Ok(ret | n)
}

/// The `SECCOMP_FILTER_FLAG_*` a profile asks for (also for a precompiled filter).
pub fn flags(seccomp: Value<'_>) -> Result<u32, InitError> {
    let mut rules = Rules::new();
    parse(NATIVE.tables(), seccomp, &mut rules, &mut |_, _| Ok(())).map(|h| h.flags)
}

/// The parts of the profile the compiler uses, parsed.
#[derive(Debug)]
struct Header {
    default: u32,
    /// Bit `i` set: the family's ABI `i` is in the filter.
    abis: u8,
    flags: u32,
}

/// Storage for conditional rules.
#[derive(Debug)]
struct Rules {
    rules: [Rule; limits::RULES],
    rule_count: usize,
    conditions: [Condition; limits::CONDITIONS],
    condition_count: usize,
}

impl Rules {
    fn new() -> Self {
        Rules {
            rules: [Rule::default(); limits::RULES],
            rule_count: 0,
            conditions: [Condition {
                index: 0,
                cmp: Cmp::Eq,
                value: 0,
                value_two: 0,
            }; limits::CONDITIONS],
            condition_count: 0,
        }
    }

    fn push_condition(&mut self, c: Condition, at: At) -> Result<(), InitError> {
        let slot = self
            .conditions
            .get_mut(self.condition_count)
            .ok_or_else(|| {
                InitError::invalid(STEP, at, Reason::MoreArgumentConditionsThanOcinitsLimit)
            })?;
        *slot = c;
        self.condition_count += 1;
        Ok(())
    }

    /// A rule returning `action` when `conditions[first..first + count]` all hold; returns
    /// its index.
    fn push_rule(
        &mut self,
        action: u32,
        first: usize,
        count: usize,
        at: At,
    ) -> Result<usize, InitError> {
        let slot = self.rules.get_mut(self.rule_count).ok_or_else(|| {
            InitError::invalid(STEP, at, Reason::MoreConditionalRulesThanOcinitsLimit)
        })?;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "bounded by limits::CONDITIONS and by 6 arguments"
        )]
        let rule = Rule {
            action,
            first: first as u16,
            count: count as u8,
        };
        *slot = rule;
        self.rule_count += 1;
        Ok(self.rule_count - 1)
    }
}

fn condition(v: Value<'_>, i: usize, j: usize) -> Result<Condition, InitError> {
    let at = At::item2(Field::LinuxSeccompSyscallsArgsItem, i, j);
    if v.kind() != Kind::Object {
        return Err(InitError::invalid(STEP, at, Reason::ExpectedAnObject));
    }
    let mut found = [None; 4];
    v.fields(
        crate::names!["index", "op", "value", "valueTwo"],
        &mut found,
    );
    let [index, op, value, value_two] = &found;
    let number =
        |field: Option<Value<'_>>, template: Field, required: bool| -> Result<u64, InitError> {
            let at = At::item2(template, i, j);
            match field {
                None if required => Err(InitError::invalid(STEP, at, Reason::Missing)),
                None => Ok(0),
                Some(n) => n
                    .as_integer()
                    .filter(|_| n.kind() == Kind::Number)
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| InitError::invalid(STEP, at, Reason::ExpectedAnIntegerFrom0To)),
            }
        };
    let index = number(*index, Field::LinuxSeccompSyscallsArgsIndex, true)?;
    let index = u8::try_from(index).ok().filter(|&i| i < 6).ok_or_else(|| {
        InitError::invalid(
            STEP,
            At::item2(Field::LinuxSeccompSyscallsArgsIndex, i, j),
            Reason::ASyscallHas6Arguments0,
        )
    })?;
    let at_op = At::item2(Field::LinuxSeccompSyscallsArgsOp, i, j);
    let op = string(
        op.ok_or_else(|| InitError::invalid(STEP, at_op, Reason::Missing))?,
        at_op,
    )?;
    let cmp = CMPS
        .find(|n, _| op.eq_str(n))
        .map(|(_, &c)| c)
        .ok_or_else(|| InitError::invalid(STEP, at_op, Reason::UnknownComparison))?;
    Ok(Condition {
        index,
        cmp,
        value: number(*value, Field::LinuxSeccompSyscallsArgsValue, true)?,
        value_two: number(*value_two, Field::LinuxSeccompSyscallsArgsValueTwo, false)?,
    })
}

/// One name of one `syscalls[i]` entry, as the parser hands it over.
#[derive(Debug, Clone)]
struct Named {
    /// `syscalls[i].names[j]`.
    at: At,
    /// The rule's return value.
    action: u32,
    /// Its conditional rules (indices into `Rules::rules`); empty: unconditional.
    conditional: core::ops::Range<usize>,
    /// The action equals the default: the rule decides nothing (runc skips it), but its
    /// names still count for the ENOSYS boundary.
    skipped: bool,
}

/// Parse the profile; `each` is called for every name of every rule, in config order.
fn parse<'a>(
    tables: &Tables,
    seccomp: Value<'a>,
    rules: &mut Rules,
    each: &mut dyn FnMut(JStr<'a>, Named) -> Result<(), InitError>,
) -> Result<Header, InitError> {
    if seccomp.kind() != Kind::Object {
        return Err(InitError::invalid(
            STEP,
            At::field(Field::LinuxSeccomp),
            Reason::ExpectedAnObject,
        ));
    }
    // The fields are read in place: copied out of the array, each would be spilled to a stack
    // slot of its own.
    let mut fields = [None; 7];
    seccomp.fields(
        crate::names![
            "defaultAction",
            "defaultErrnoRet",
            "architectures",
            "flags",
            "listenerPath",
            "listenerMetadata",
            "syscalls"
        ],
        &mut fields,
    );
    let [
        default_action,
        default_errno,
        architectures,
        flag_list,
        listener_path,
        listener_metadata,
        syscall_list,
    ] = &fields;
    let default = action(
        *default_action,
        *default_errno,
        (
            At::field(Field::LinuxSeccompDefaultAction),
            At::field(Field::LinuxSeccompDefaultErrnoRet),
        ),
    )?;
    if default == k::SECCOMP_RET_USER_NOTIF {
        return Err(InitError::invalid(
            STEP,
            At::field(Field::LinuxSeccompDefaultAction),
            Reason::SCMPACTNOTIFYCannotBeThe,
        ));
    }

    let mut abis = 1u8;
    if let Some(list) = *architectures {
        let at = At::field(Field::LinuxSeccompArchitectures);
        if list.kind() != Kind::Array {
            return Err(InitError::invalid(STEP, at, Reason::ExpectedAnArray));
        }
        for (i, a) in list.elements().enumerate() {
            let at = At::item(Field::LinuxSeccompArchitecturesItem, i);
            let name = string(a, at)?;
            if let Some(n) = tables.abis.iter().position(|abi| name.eq_str(abi.name)) {
                abis |= 1 << n;
            } else if !FOREIGN_ARCHES.iter().any(|f| name.eq_str(f)) {
                return Err(InitError::invalid(STEP, at, Reason::UnknownArchitecture));
            }
        }
    }

    // runc: no `flags` field means SPEC_ALLOW; an empty list means none.
    let mut flags = k::SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    if let Some(list) = *flag_list {
        let at = At::field(Field::LinuxSeccompFlags);
        if list.kind() != Kind::Array {
            return Err(InitError::invalid(STEP, at, Reason::ExpectedAnArray));
        }
        flags = 0;
        for (i, f) in list.elements().enumerate() {
            let at = At::item(Field::LinuxSeccompFlagsItem, i);
            let name = string(f, at)?;
            flags |= FLAGS
                .find(|n, _| name.eq_str(n))
                .map(|(_, &bit)| bit)
                .ok_or_else(|| InitError::invalid(STEP, at, Reason::UnknownFlag))?;
        }
    }
    let listener_path = listener_path
        .map(|v| string(v, At::field(Field::LinuxSeccompListenerPath)))
        .transpose()?;
    if let Some(v) = *listener_metadata {
        string(v, At::field(Field::LinuxSeccompListenerMetadata))?;
    }

    let mut notify = false;
    if let Some(list) = *syscall_list {
        if list.kind() != Kind::Array {
            return Err(InitError::invalid(
                STEP,
                At::field(Field::LinuxSeccompSyscalls),
                Reason::ExpectedAnArray,
            ));
        }
        for (i, rule) in list.elements().enumerate() {
            if rule.kind() != Kind::Object {
                return Err(InitError::invalid(
                    STEP,
                    At::item(AT_SYSCALLS, i),
                    Reason::ExpectedAnObject,
                ));
            }
            let [rule_action, errno, names, args] = {
                let mut found = [None; 4];
                rule.fields(
                    crate::names!["action", "errnoRet", "names", "args"],
                    &mut found,
                );
                found
            };
            let ret = action(
                rule_action,
                errno,
                (
                    At::item(Field::LinuxSeccompSyscallsAction, i),
                    At::item(Field::LinuxSeccompSyscallsErrnoRet, i),
                ),
            )?;
            let at_names = At::item(Field::LinuxSeccompSyscallsNames, i);
            let names = names.ok_or_else(|| InitError::invalid(STEP, at_names, Reason::Missing))?;
            if names.kind() != Kind::Array {
                return Err(InitError::invalid(STEP, at_names, Reason::ExpectedAnArray));
            }
            // Conditional rules: one with every condition (distinct indices), or one per
            // condition when an index repeats (runc).
            let first_rule = rules.rule_count;
            let skipped = ret == default;
            if let Some(args) = args {
                let at_args = At::item(Field::LinuxSeccompSyscallsArgs, i);
                if args.kind() != Kind::Array {
                    return Err(InitError::invalid(STEP, at_args, Reason::ExpectedAnArray));
                }
                let first = rules.condition_count;
                let mut seen = 0u8;
                let mut repeated = false;
                for (j, c) in args.elements().enumerate() {
                    let c = condition(c, i, j)?;
                    repeated |= seen & (1 << c.index) != 0;
                    seen |= 1 << c.index;
                    if !skipped {
                        rules.push_condition(c, at_args)?;
                    }
                }
                let count = rules.condition_count - first;
                if repeated {
                    for c in first..rules.condition_count {
                        rules.push_rule(ret, c, 1, at_args)?;
                    }
                } else if count > 0 {
                    rules.push_rule(ret, first, count, at_args)?;
                }
            }
            let conditional = first_rule..rules.rule_count;
            for (j, n) in names.elements().enumerate() {
                let name = string(n, At::item2(Field::LinuxSeccompSyscallsNamesItem, i, j))?;
                if ret == k::SECCOMP_RET_USER_NOTIF && name.eq_str("write") {
                    return Err(InitError::invalid(
                        STEP,
                        At::item2(Field::LinuxSeccompSyscallsNamesItem, i, j),
                        Reason::SCMPACTNOTIFYCannotApplyTo,
                    ));
                }
                each(
                    name,
                    Named {
                        at: At::item2(Field::LinuxSeccompSyscallsNamesItem, i, j),
                        action: ret,
                        conditional: conditional.clone(),
                        skipped,
                    },
                )?;
            }
            notify |= ret == k::SECCOMP_RET_USER_NOTIF;
        }
    }
    if notify {
        if listener_path.is_none_or(JStr::is_empty) {
            return Err(InitError::invalid(
                STEP,
                At::field(Field::LinuxSeccompListenerPath),
                Reason::SCMPACTNOTIFYNeedsAListener,
            ));
        }
        flags |= k::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    Ok(Header {
        default,
        abis,
        flags,
    })
}

/// A decision for one syscall number of one ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Not named by the profile (or only by skipped rules): the default action.
    Default,
    /// An unconditional rule: return this.
    Ret(u32),
    /// Conditional rules: the chain starting at this link.
    Chain(u16),
}

/// A link of a syscall's chain of conditional rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    rule: u8,
    next: u16,
}
const NO_LINK: u16 = u16::MAX;

/// The per-ABI decisions, from the rules.
#[derive(Debug)]
struct Decisions {
    table: [[Decision; limits::NUMBERS]; MAX_ABIS],
    /// The largest number each ABI's profile names (any rule), plus one; 0 when none.
    end: [u32; MAX_ABIS],
    links: [Link; limits::LINKS],
    link_count: usize,
}

impl Decisions {
    /// An unconditional rule for ABI `a`'s number `nr`: the first one wins over everything.
    fn decide(&mut self, a: usize, nr: usize, action: u32) {
        let cell = &mut self.table[a][nr];
        if !matches!(cell, Decision::Ret(_)) {
            *cell = Decision::Ret(action);
        }
    }

    /// Append conditional rule `rule` to the chain of ABI `a`'s number `nr` (unless an
    /// unconditional rule decides it).
    fn append(&mut self, a: usize, nr: usize, rule: usize, at: At) -> Result<(), InitError> {
        let link = self.link_count;
        if link >= limits::LINKS {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::MoreSyscallConditionalRulePairsThan,
            ));
        }
        #[expect(clippy::cast_possible_truncation, reason = "bounded by limits")]
        let (rule, link16) = (rule as u8, link as u16);
        match self.table[a][nr] {
            Decision::Ret(_) => return Ok(()),
            Decision::Chain(head) => {
                let mut l = usize::from(head);
                while self.links[l].next != NO_LINK {
                    l = usize::from(self.links[l].next);
                }
                self.links[l].next = link16;
            }
            Decision::Default => self.table[a][nr] = Decision::Chain(link16),
        }
        self.links[link] = Link {
            rule,
            next: NO_LINK,
        };
        self.link_count += 1;
        Ok(())
    }
}

/// i386 socket and SysV IPC calls are also reachable through `socketcall` (102) and `ipc`
/// (117) with the call number in the first argument; libseccomp filters both ways, and so do
/// we: a deny rule on `socket` must also deny `socketcall(SYS_SOCKET, ...)`. Name → (the
/// multiplexer's number, call number) (`include/uapi/linux/net.h`, `ipc/syscall.c`).
const I386_MULTIPLEXED: [(u32, u16, u32); 32] = [
    multiplexed(b"socket", 102, 1),
    multiplexed(b"bind", 102, 2),
    multiplexed(b"connect", 102, 3),
    multiplexed(b"listen", 102, 4),
    multiplexed(b"accept", 102, 5),
    multiplexed(b"getsockname", 102, 6),
    multiplexed(b"getpeername", 102, 7),
    multiplexed(b"socketpair", 102, 8),
    multiplexed(b"send", 102, 9),
    multiplexed(b"recv", 102, 10),
    multiplexed(b"sendto", 102, 11),
    multiplexed(b"recvfrom", 102, 12),
    multiplexed(b"shutdown", 102, 13),
    multiplexed(b"setsockopt", 102, 14),
    multiplexed(b"getsockopt", 102, 15),
    multiplexed(b"sendmsg", 102, 16),
    multiplexed(b"recvmsg", 102, 17),
    multiplexed(b"accept4", 102, 18),
    multiplexed(b"recvmmsg", 102, 19),
    multiplexed(b"sendmmsg", 102, 20),
    multiplexed(b"semop", 117, 1),
    multiplexed(b"semget", 117, 2),
    multiplexed(b"semctl", 117, 3),
    multiplexed(b"semtimedop", 117, 4),
    multiplexed(b"msgsnd", 117, 11),
    multiplexed(b"msgrcv", 117, 12),
    multiplexed(b"msgget", 117, 13),
    multiplexed(b"msgctl", 117, 14),
    multiplexed(b"shmat", 117, 21),
    multiplexed(b"shmdt", 117, 22),
    multiplexed(b"shmget", 117, 23),
    multiplexed(b"shmctl", 117, 24),
];

/// A row of [`I386_MULTIPLEXED`]: the name as its hash (compared with no string work).
const fn multiplexed(name: &[u8], nr: u16, call: u32) -> (u32, u16, u32) {
    (fnv1a_bytes(name), nr, call)
}

fn multiplexed_i386(hash: u32) -> Option<(u16, u32)> {
    // One bit per multiplexed name (low 8 bits of its hash): most names skip the scan.
    const FILTER: [u64; 4] = {
        let mut bits = [0u64; 4];
        let mut i = 0;
        while i < I386_MULTIPLEXED.len() {
            let b = (I386_MULTIPLEXED[i].0 & 255) as usize;
            bits[b / 64] |= 1 << (b % 64);
            i += 1;
        }
        bits
    };
    let b = (hash & 255) as usize;
    if FILTER[b / 64] & (1 << (b % 64)) == 0 {
        return None;
    }
    I386_MULTIPLEXED
        .iter()
        .find(|&&(h, _, _)| h == hash)
        .map(|&(_, nr, call)| (nr, call))
}

/// A rule on a multiplexed call, to be applied to the multiplexer once every rule is read.
#[derive(Debug, Clone, Copy)]
struct MuxEntry {
    nr: u16,
    call: u32,
    action: u32,
    /// Its conditional rules (empty: unconditional).
    rules: (u16, u16),
    at: At,
}

#[derive(Debug)]
struct Muxed {
    entries: [MuxEntry; limits::MULTIPLEXED],
    count: usize,
}

impl Muxed {
    fn push(&mut self, nr: u16, call: u32, named: &Named) -> Result<(), InitError> {
        let slot = self.entries.get_mut(self.count).ok_or_else(|| {
            InitError::invalid(STEP, named.at, Reason::MoreRulesOnI386MultiplexedCalls)
        })?;
        #[expect(clippy::cast_possible_truncation, reason = "bounded by limits::RULES")]
        let rules = (named.conditional.start as u16, named.conditional.end as u16);
        *slot = MuxEntry {
            nr,
            call,
            action: named.action,
            rules,
            at: named.at,
        };
        self.count += 1;
        Ok(())
    }

    /// Each entry becomes a conditional rule on the multiplexer: `arg0 == call`, plus the
    /// original rule's conditions on the other arguments (libseccomp replaces a condition on
    /// the first argument, which the multiplexer uses for the call number). Not inlined: its
    /// one caller then keeps fewer values on the stack (100 bytes less code).
    #[inline(never)]
    fn apply(&self, abi: usize, d: &mut Decisions, rules: &mut Rules) -> Result<(), InitError> {
        for m in &self.entries[..self.count] {
            let at = m.at;
            let nr = usize::from(m.nr);
            d.end[abi] = d.end[abi].max(u32::from(m.nr) + 1);
            let call = Condition {
                index: 0,
                cmp: Cmp::Eq,
                value: u64::from(m.call),
                value_two: 0,
            };
            if m.rules.0 == m.rules.1 {
                let first = rules.condition_count;
                rules.push_condition(call, at)?;
                let r = rules.push_rule(m.action, first, 1, at)?;
                d.append(abi, nr, r, at)?;
                continue;
            }
            for original in usize::from(m.rules.0)..usize::from(m.rules.1) {
                let Rule { first, count, .. } = rules.rules[original];
                let start = rules.condition_count;
                rules.push_condition(call, at)?;
                for c in usize::from(first)..usize::from(first) + usize::from(count) {
                    let c = rules.conditions[c];
                    if c.index != 0 {
                        rules.push_condition(c, at)?;
                    }
                }
                let r = rules.push_rule(m.action, start, rules.condition_count - start, at)?;
                d.append(abi, nr, r, at)?;
            }
        }
        Ok(())
    }
}

fn too_long(_: TooLong) -> InitError {
    InitError::invalid(
        STEP,
        At::field(Field::LinuxSeccomp),
        Reason::TheFilterWouldExceedTheKernels,
    )
}

/// Number ranges of one architecture section, each with its outcome, ascending.
struct Ranges {
    start: [u32; limits::RANGES],
    target: [Target; limits::RANGES],
    count: usize,
}

impl Ranges {
    /// From `start` on (until the next push), numbers go to `target`.
    fn push(&mut self, start: u32, target: Target) -> Result<(), InitError> {
        if self.count > 0 && self.target[self.count - 1] == target {
            return Ok(());
        }
        if self.count == limits::RANGES {
            return Err(InitError::invalid(
                STEP,
                At::field(Field::LinuxSeccompSyscalls),
                Reason::MoreDistinctNumberRangesThanOcinits,
            ));
        }
        self.start[self.count] = start;
        self.target[self.count] = target;
        self.count += 1;
        Ok(())
    }
}

/// Runc's stub: numbers above everything the profile names return ENOSYS, so a libc newer
/// than the profile falls back instead of failing on the default action. Not when the
/// default already lets them run.
fn beyond_profile(default: u32) -> u32 {
    match default & k::SECCOMP_RET_ACTION_FULL {
        k::SECCOMP_RET_ALLOW | k::SECCOMP_RET_LOG | k::SECCOMP_RET_TRACE => default,
        _ => k::SECCOMP_RET_ERRNO | linux_raw_sys::errno::ENOSYS,
    }
}

/// The whole program: dispatch on the architecture, then one section per audit arch.
fn emit_filter(
    p: &mut Program<'_>,
    tables: &Tables,
    h: &Header,
    d: &Decisions,
    rules: &Rules,
) -> Result<(), InitError> {
    // Distinct audit arches of the enabled ABIs, native first.
    let mut audits = [0u32; MAX_ABIS];
    let mut count = 0;
    for (a, abi) in tables.abis.iter().enumerate() {
        if h.abis & (1 << a) != 0 && !audits[..count].contains(&abi.audit) {
            audits[count] = abi.audit;
            count += 1;
        }
    }
    // Written back to front: the last section first, the dispatch last.
    let mut entries = [0usize; MAX_ABIS];
    let mut ranges = Ranges {
        start: [0; limits::RANGES],
        target: [Target::Ret(0); limits::RANGES],
        count: 0,
    };
    for s in (0..count).rev() {
        entries[s] = emit_section(p, tables, h, d, rules, audits[s], &mut ranges)?;
    }
    let mut next = Target::Ret(k::SECCOMP_RET_KILL_THREAD);
    for s in (0..count).rev() {
        next = Target::at(
            p.jump(k::BPF_JEQ, audits[s], Target::at(entries[s]), next)
                .map_err(too_long)?,
        );
    }
    p.load(OFFSET_ARCH).map_err(too_long)?;
    Ok(())
}

/// One audit arch's section: `ld nr` and the decision tree, with the argument checks of its
/// conditional syscalls. Returns its entry.
fn emit_section(
    p: &mut Program<'_>,
    tables: &Tables,
    h: &Header,
    d: &Decisions,
    rules: &Rules,
    audit: u32,
    ranges: &mut Ranges,
) -> Result<usize, InitError> {
    ranges.count = 0;
    let default = Target::Ret(h.default);
    let beyond = Target::Ret(beyond_profile(h.default));
    let mut x32_listed = false;
    for (a, abi) in tables.abis.iter().enumerate() {
        if abi.audit != audit || h.abis & (1 << a) == 0 {
            continue;
        }
        x32_listed |= abi.base == X32_BIT;
        // Slot order is number order: ARM's private calls (0xf0000 + n) take the last slots,
        // and the numbers between have the outcome of the range before them.
        let slots = if d.end[a] == 0 {
            0
        } else {
            slot_of(d.end[a] - 1) + 1
        };
        for slot in 0..slots {
            let target = match d.table[a][slot] {
                Decision::Default => default,
                Decision::Ret(action) => Target::Ret(action),
                Decision::Chain(head) => emit_chain(p, h, d, rules, head, abi.wide)?,
            };
            ranges.push(abi.base + nr_of(slot), target)?;
        }
        ranges.push(
            abi.base + d.end[a],
            if d.end[a] == 0 { default } else { beyond },
        )?;
    }
    // x86_64 without x32: libseccomp treats x32 numbers as a foreign architecture.
    if audit == k::AUDIT_ARCH_X86_64 && !x32_listed {
        ranges.push(X32_BIT, Target::Ret(k::SECCOMP_RET_KILL_THREAD))?;
    }
    ranges.push(SKIPPED_NR, default)?;
    let root = emit_tree(p, ranges, 0, ranges.count).map_err(too_long)?;
    // The load falls through into the tree's root.
    p.goto(root).map_err(too_long)?;
    p.load(OFFSET_NR).map_err(too_long)
}

/// A balanced binary search over `ranges[lo..hi]` with `jge`; leaves are the ranges'
/// targets themselves (no instruction).
fn emit_tree(
    p: &mut Program<'_>,
    ranges: &Ranges,
    lo: usize,
    hi: usize,
) -> Result<Target, TooLong> {
    if hi - lo == 1 {
        return Ok(ranges.target[lo]);
    }
    let mid = lo + (hi - lo) / 2;
    let upper = emit_tree(p, ranges, mid, hi)?;
    let lower = emit_tree(p, ranges, lo, mid)?;
    Ok(Target::at(p.jump(
        k::BPF_JGE,
        ranges.start[mid],
        upper,
        lower,
    )?))
}

/// The conditional rules of one syscall, tried in order; none matching gives the default.
fn emit_chain(
    p: &mut Program<'_>,
    h: &Header,
    d: &Decisions,
    rules: &Rules,
    head: u16,
    wide: bool,
) -> Result<Target, InitError> {
    let mut chain = [0u8; limits::RULES];
    let mut len = 0;
    let mut link = head;
    while link != NO_LINK {
        let l = d.links[usize::from(link)];
        chain[len] = l.rule;
        len += 1;
        link = l.next;
    }
    let mut next = Target::Ret(h.default);
    for &r in chain[..len].iter().rev() {
        let rule = rules.rules[usize::from(r)];
        let first = usize::from(rule.first);
        let mut matched = Target::Ret(rule.action);
        for c in rules.conditions[first..first + usize::from(rule.count)]
            .iter()
            .rev()
        {
            matched = emit_condition(p, c, wide, matched, next).map_err(too_long)?;
        }
        next = matched;
    }
    Ok(next)
}

const fn high(v: u64) -> u32 {
    (v >> 32) as u32
}

#[expect(clippy::cast_possible_truncation, reason = "the low word, by intent")]
const fn low(v: u64) -> u32 {
    v as u32
}

/// One argument comparison: go to `matched` when it holds, else to `failed`. Not inlined (nor
/// are the functions it is inlined into, then): 160 bytes less code.
#[inline(never)]
fn emit_condition(
    p: &mut Program<'_>,
    c: &Condition,
    wide: bool,
    matched: Target,
    failed: Target,
) -> Result<Target, TooLong> {
    let (cmp, m, f) = match c.cmp {
        Cmp::Ne => (Cmp::Eq, failed, matched),
        Cmp::Lt => (Cmp::Ge, failed, matched),
        Cmp::Le => (Cmp::Gt, failed, matched),
        other => (other, matched, failed),
    };
    let (mask, value) = if cmp == Cmp::MaskedEq {
        (c.value, c.value_two & c.value)
    } else {
        (u64::MAX, c.value)
    };
    let op = match cmp {
        Cmp::Gt => k::BPF_JGT,
        Cmp::Ge => k::BPF_JGE,
        _ => k::BPF_JEQ,
    };
    // Low word: decides when the high words are equal (or not compared).
    p.jump(op, low(value), m, f)?;
    if low(mask) != u32::MAX {
        p.and(low(mask))?;
    }
    let low_entry = p.load(offset_arg(c.index, false))?;
    if !wide || (cmp == Cmp::MaskedEq && high(mask) == 0) {
        return Ok(Target::at(low_entry));
    }
    // The high word first: equal means the low word decides.
    let equal = p.jump(k::BPF_JEQ, high(value), Target::at(low_entry), f)?;
    if op != k::BPF_JEQ {
        // Ordered comparisons: a strictly greater high word decides alone.
        p.jump(k::BPF_JGT, high(value), m, Target::at(equal))?;
    }
    if high(mask) != u32::MAX {
        p.and(high(mask))?;
    }
    Ok(Target::at(p.load(offset_arg(c.index, true))?))
}

/// Compile `linux.seccomp` into `buf` for this build's family; `fail_unknown` (an
/// annotation) makes an unknown syscall name an error.
pub fn compile<'b>(
    seccomp: Value<'_>,
    fail_unknown: bool,
    log: &Log<'_>,
    buf: &'b mut [sock_filter; limits::INSNS],
) -> Result<Filter<'b>, InitError> {
    compile_for(NATIVE, seccomp, fail_unknown, log, buf)
}

/// [`compile`] for a given family (tests compile the aarch64 one on x86_64 hosts).
pub fn compile_for<'b>(
    family: Family,
    seccomp: Value<'_>,
    fail_unknown: bool,
    log: &Log<'_>,
    buf: &'b mut [sock_filter; limits::INSNS],
) -> Result<Filter<'b>, InitError> {
    let tables = family.tables();
    let mut rules = Rules::new();
    let mut d = Decisions {
        table: [[Decision::Default; limits::NUMBERS]; MAX_ABIS],
        end: [0; MAX_ABIS],
        links: [Link {
            rule: 0,
            next: NO_LINK,
        }; limits::LINKS],
        link_count: 0,
    };
    let mut muxed = Muxed {
        entries: [MuxEntry {
            nr: 0,
            call: 0,
            action: 0,
            rules: (0, 0),
            at: At::NONE,
        }; limits::MULTIPLEXED],
        count: 0,
    };
    let header = {
        let mut record = |name: JStr<'_>, named: Named| {
            let hash = fnv1a(name);
            let mux = tables.multiplexed.and_then(|_| multiplexed_i386(hash));
            if let Some((nr, call)) = mux.filter(|_| !named.skipped) {
                muxed.push(nr, call, &named)?;
            }
            let Some(index) = syscall_index(tables, hash) else {
                if mux.is_some() {
                    // `send` and `recv` exist on i386 only as socketcall's calls.
                    return Ok(());
                }
                let at = named.at;
                if fail_unknown {
                    return Err(InitError::invalid(STEP, at, Reason::UnknownSyscall));
                }
                // Debug, as runc: Docker's profile names calls of other architectures.
                log.line(
                    "debug",
                    &[
                        Part::At(at),
                        Part::S(" ("),
                        Part::J(name),
                        Part::S("): unknown syscall, skipped"),
                    ],
                );
                return Ok(());
            };
            for (a, abi) in tables.abis.iter().enumerate() {
                let Some(nr) = abi.numbers.get(index) else {
                    continue;
                };
                d.end[a] = d.end[a].max(nr + 1);
                if named.skipped {
                    continue;
                }
                if named.conditional.is_empty() {
                    d.decide(a, slot_of(nr), named.action);
                    continue;
                }
                for r in named.conditional.clone() {
                    d.append(a, slot_of(nr), r, named.at)?;
                }
            }
            Ok(())
        };
        parse(tables, seccomp, &mut rules, &mut record)?
    };
    if let Some(abi) = tables.multiplexed {
        muxed.apply(abi, &mut d, &mut rules)?;
    }
    let mut program = Program::new(buf);
    emit_filter(&mut program, tables, &header, &d, &rules)?;
    Ok(Filter {
        program: program.finish(),
        flags: header.flags,
    })
}

/// Decode the precompiled filter of the [`BPF_DATA`] annotation (standard base64 of the
/// instructions in host byte order) into `buf`.
pub fn decode_precompiled<'b>(
    base64: JStr<'_>,
    buf: &'b mut [sock_filter; limits::INSNS],
) -> Result<&'b [sock_filter], InitError> {
    let at = At::field(Field::AnnotationsRunOciSeccompBpfData);
    let bad = |why| InitError::invalid(STEP, at, why);
    let mut insn = [0u8; 8];
    let (mut bytes, mut bits, mut acc, mut padding) = (0usize, 0u32, 0u32, 0usize);
    for &c in base64.raw() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return Err(bad(Reason::NotBase64)),
        };
        if padding > 0 {
            return Err(bad(Reason::NotBase64DataAfterThePadding));
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            #[expect(clippy::cast_possible_truncation, reason = "one byte, by intent")]
            let byte = (acc >> bits) as u8;
            insn[bytes % 8] = byte;
            bytes += 1;
            if bytes.is_multiple_of(8) {
                let slot = buf
                    .get_mut(bytes / 8 - 1)
                    .ok_or_else(|| bad(Reason::MoreThanTheKernels4096Instructions))?;
                *slot = sock_filter {
                    code: u16::from_ne_bytes([insn[0], insn[1]]),
                    jt: insn[2],
                    jf: insn[3],
                    k: u32::from_ne_bytes([insn[4], insn[5], insn[6], insn[7]]),
                };
            }
        }
    }
    if padding > 2 || !base64.raw().len().is_multiple_of(4) {
        return Err(bad(Reason::NotBase64BadLengthOrPadding));
    }
    if bytes == 0 || !bytes.is_multiple_of(8) {
        return Err(bad(Reason::NotAWholeNumberOfBPF));
    }
    Ok(&buf[..bytes / 8])
}

/// Load `filter` on this thread. A notify listener goes to the parent, which takes it with
/// `pidfd_getfd` while the init waits (runc's procSeccomp): announcing a descriptor number
/// needs only a `write`, which no accepted profile sends to the listener.
pub fn load(filter: &Filter<'_>, control: Option<BorrowedFd<'_>>) -> Result<(), InitError> {
    let at = At::field(Field::LinuxSeccomp);
    let listener =
        sys::seccomp_set_mode_filter(filter.flags, filter.program).ctx(STEP, Op::Seccomp, at)?;
    let (Some(listener), Some(control)) = (listener, control) else {
        return Ok(());
    };
    let mut message = Line::<64>::new();
    message
        .push(&[
            Part::S("{\"type\":\"seccomp-listener\",\"fd\":"),
            Part::I(i64::from(listener.as_raw_fd())),
            Part::S("}"),
        ])
        .map_err(|_| InitError::invalid(STEP, at, Reason::MessageTooLong))?;
    protocol::send_frame(control, message.as_bytes(), STEP)?;
    protocol::expect_reply(control, "seccomp-listener-done", STEP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(family: Family, abi: usize, name: &str) -> Option<u32> {
        let tables = family.tables();
        let index = syscall_index(tables, fnv1a_bytes(name.as_bytes()))?;
        tables.abis[abi].numbers.get(index)
    }

    #[test]
    fn native_table_agrees_with_linux_raw_sys() {
        #[cfg(target_arch = "x86_64")]
        let raw = syscalls::RAW_SYS_X86_64;
        #[cfg(target_arch = "aarch64")]
        let raw = syscalls::RAW_SYS_AARCH64;
        assert!(raw.len() > 300);
        for &(name, nr) in raw {
            assert_eq!(number(NATIVE, 0, name), Some(nr), "{name}");
        }
    }

    #[test]
    fn every_name_of_every_table_is_found() {
        type Names = &'static [(&'static str, u32)];
        let cases: [(Family, usize, Names); 5] = [
            (Family::X86, 0, syscalls::names::X86_64),
            (Family::X86, 1, syscalls::names::X32),
            (Family::X86, 2, syscalls::names::I386),
            (Family::Arm, 0, syscalls::names::AARCH64),
            (Family::Arm, 1, syscalls::names::ARM),
        ];
        for (family, abi, names) in cases {
            for &(name, nr) in names {
                assert_eq!(number(family, abi, name), Some(nr), "{family:?} {name}");
                assert_eq!(nr_of(slot_of(nr)), nr, "{name}");
            }
        }
        assert_eq!(number(Family::X86, 0, "socketcall"), None);
        assert_eq!(number(Family::Arm, 1, "set_tls"), Some(0xf_0005));
        assert_eq!(number(Family::X86, 0, "no_such_call"), None);
    }

    /// x32, derived from x86_64: every x86 name that `names::X32` lacks has no x32 number (the
    /// x86_64 ones are exactly those of `X32_ABSENT`), and each case of the derivation occurs.
    #[test]
    fn x32_has_only_its_own_names() {
        let in_x32 = |name: &str| syscalls::names::X32.iter().any(|&(n, _)| n == name);
        let mut absent = 0;
        for &(name, nr) in syscalls::names::X86_64 {
            if !in_x32(name) {
                assert_eq!(number(Family::X86, 1, name), None, "{name}");
                assert!(
                    syscalls::x86::X32_ABSENT
                        .iter()
                        .any(|&n| u32::from(n) == nr)
                );
                absent += 1;
            }
        }
        assert_eq!(absent, syscalls::x86::X32_ABSENT.len());
        for &(name, _) in syscalls::names::I386 {
            if !in_x32(name) {
                assert_eq!(number(Family::X86, 1, name), None, "{name}");
            }
        }
        assert_eq!(number(Family::X86, 1, "read"), Some(0));
        assert_eq!(number(Family::X86, 1, "rt_sigaction"), Some(512));
        assert_eq!(number(Family::X86, 1, "pwritev2"), Some(547));
        assert_eq!(number(Family::X86, 1, "uselib"), None);
        assert_eq!(number(Family::X86, 1, "map_shadow_stack"), Some(453));
    }

    /// No name of any table selects a call of a different name, in its own family or in the
    /// other one (the generator's proof, checked again on the tables as built).
    #[test]
    fn no_name_selects_another() {
        type Names = &'static [(&'static str, u32)];
        let x86: [Names; 3] = [
            syscalls::names::X86_64,
            syscalls::names::X32,
            syscalls::names::I386,
        ];
        let arm: [Names; 2] = [syscalls::names::AARCH64, syscalls::names::ARM];
        let has =
            |tables: &[Names], name: &str| tables.iter().any(|t| t.iter().any(|&(n, _)| n == name));
        for &(name, _) in x86.iter().chain(&arm).flat_map(|t| t.iter()) {
            let hash = fnv1a_bytes(name.as_bytes());
            for (family, names) in [(Family::X86, &x86[..]), (Family::Arm, &arm[..])] {
                let found = syscall_index(family.tables(), hash).is_some();
                assert_eq!(found, has(names, name), "{family:?} {name}");
            }
        }
    }
}
