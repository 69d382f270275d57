//! Classic BPF for seccomp, in the test: the kernel's checks, an interpreter, the constant-action
//! emulation of the action cache, and a disassembler for golden files.
//!
//! Mirrors Linux (6.x): `bpf_check_classic` and `check_load_and_stores` (net/core/filter.c), then
//! `seccomp_check_filter` (kernel/seccomp.c), which narrows the instruction set to what a seccomp
//! filter may use; the run-time semantics are those of `bpf_convert_filter` (A and X start at 0,
//! a division by X = 0 ends the program with 0); `const_action` is `seccomp_is_const_allow`.

pub use linux_raw_sys::ptrace::sock_filter;
use linux_raw_sys::ptrace::{
    AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, BPF_A, BPF_ABS,
    BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP,
    BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS,
    BPF_MISC, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX,
    BPF_TXA, BPF_W, BPF_X, BPF_XOR, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA,
    SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG,
    SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
};
use std::fmt::Write as _;

/// `sizeof(struct seccomp_data)`.
pub const DATA_LEN: u32 = 64;

/// `struct seccomp_data`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl Data {
    pub fn new(arch: u32, nr: u32, args: [u64; 6]) -> Data {
        Data {
            nr,
            arch,
            instruction_pointer: 0,
            args,
        }
    }

    /// The little-endian bytes the kernel hands a filter.
    pub fn bytes(&self) -> [u8; DATA_LEN as usize] {
        let mut b = [0u8; DATA_LEN as usize];
        b[0..4].copy_from_slice(&self.nr.to_le_bytes());
        b[4..8].copy_from_slice(&self.arch.to_le_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        b
    }

    /// The 32-bit word at byte `offset` (`ld [k]`), which must be aligned and inside.
    pub fn word(&self, offset: u32) -> u32 {
        assert!(
            offset < DATA_LEN && offset.is_multiple_of(4),
            "load of seccomp_data[{offset}]: outside or unaligned"
        );
        let b = self.bytes();
        let o = offset as usize;
        u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
    }
}

/// `sock_filter` from the native-endian bytes `seccomp_export_bpf` writes.
pub fn from_bytes(bytes: &[u8]) -> Vec<sock_filter> {
    assert!(
        bytes.len().is_multiple_of(8),
        "a BPF program is a multiple of 8 bytes, got {}",
        bytes.len()
    );
    bytes
        .chunks_exact(8)
        .map(|c| sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

const fn code(c: u32) -> u16 {
    c as u16
}

// Every opcode a seccomp filter may contain (seccomp_check_filter's list), by name.
const LD_W_ABS: u16 = code(BPF_LD | BPF_W | BPF_ABS);
const LD_W_LEN: u16 = code(BPF_LD | BPF_W | BPF_LEN);
const LDX_W_LEN: u16 = code(BPF_LDX | BPF_W | BPF_LEN);
const LD_IMM: u16 = code(BPF_LD | BPF_IMM);
const LDX_IMM: u16 = code(BPF_LDX | BPF_IMM);
const LD_MEM: u16 = code(BPF_LD | BPF_MEM);
const LDX_MEM: u16 = code(BPF_LDX | BPF_MEM);
const ST: u16 = code(BPF_ST);
const STX: u16 = code(BPF_STX);
const RET_K: u16 = code(BPF_RET | BPF_K);
const RET_A: u16 = code(BPF_RET | BPF_A);
const TAX: u16 = code(BPF_MISC | BPF_TAX);
const TXA: u16 = code(BPF_MISC | BPF_TXA);
const NEG: u16 = code(BPF_ALU | BPF_NEG);
const JA: u16 = code(BPF_JMP | BPF_JA);
/// ALU operations with a K and an X form (MOD is not allowed in seccomp).
const ALU_OPS: [u32; 9] = [
    BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
];
/// Conditional jumps with a K and an X form.
const JMP_OPS: [u32; 4] = [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET];

/// The parts of an opcode.
const fn class(c: u16) -> u32 {
    c as u32 & 0x07
}
const fn op(c: u16) -> u32 {
    c as u32 & 0xf0
}
const fn src(c: u16) -> u32 {
    c as u32 & 0x08
}

fn is_alu(c: u16) -> bool {
    class(c) == BPF_ALU && ALU_OPS.contains(&op(c)) && c as u32 & !0xf8 == BPF_ALU
}

fn is_cond_jump(c: u16) -> bool {
    class(c) == BPF_JMP && JMP_OPS.contains(&op(c)) && c as u32 & !0xf8 == BPF_JMP
}

/// Whether the kernel accepts `prog` as a seccomp filter; the reason when not. Mirrors
/// `bpf_check_basics_ok`, `bpf_check_classic`, `check_load_and_stores` and `seccomp_check_filter`.
pub fn check(prog: &[sock_filter]) -> Result<(), String> {
    let len = prog.len();
    if len == 0 || len > BPF_MAXINSNS as usize {
        return Err(format!("length {len}: must be 1 to {BPF_MAXINSNS}"));
    }
    for (pc, i) in prog.iter().enumerate() {
        let c = i.code;
        let k = i.k;
        let bad = |why: &str| Err(format!("insn {pc} ({c:#06x} k={k:#x}): {why}"));
        match c {
            LD_W_ABS => {
                if k >= DATA_LEN || !k.is_multiple_of(4) {
                    return bad("load outside seccomp_data or unaligned");
                }
            }
            LD_W_LEN | LDX_W_LEN | LD_IMM | LDX_IMM | RET_K | RET_A | TAX | TXA | NEG => {}
            LD_MEM | LDX_MEM | ST | STX => {
                if k >= BPF_MEMWORDS {
                    return bad("scratch memory index out of range");
                }
            }
            JA => {
                // k < flen - pc - 1 (the target is pc + 1 + k).
                if u64::from(k) >= (len - pc - 1) as u64 {
                    return bad("ja out of range");
                }
            }
            c if is_alu(c) => {
                if src(c) == BPF_K {
                    if op(c) == BPF_DIV && k == 0 {
                        return bad("division by constant zero");
                    }
                    if (op(c) == BPF_LSH || op(c) == BPF_RSH) && k >= 32 {
                        return bad("shift by 32 or more");
                    }
                }
            }
            c if is_cond_jump(c) => {
                if pc + usize::from(i.jt) + 1 >= len || pc + usize::from(i.jf) + 1 >= len {
                    return bad("conditional jump out of range");
                }
            }
            _ => return bad("opcode not allowed in a seccomp filter"),
        }
    }
    if !matches!(prog[len - 1].code, RET_K | RET_A) {
        return Err(format!("last instruction {} is not a return", len - 1));
    }
    // check_load_and_stores: no scratch cell is read before a write on every path to it.
    let mut masks = vec![u16::MAX; len];
    let mut valid: u16 = 0;
    for (pc, i) in prog.iter().enumerate() {
        valid &= masks[pc];
        match i.code {
            ST | STX => valid |= 1 << i.k,
            LD_MEM | LDX_MEM if valid & (1 << i.k) == 0 => {
                return Err(format!("insn {pc}: reads M[{}] before any write", i.k));
            }
            JA => {
                masks[pc + 1 + i.k as usize] &= valid;
                valid = u16::MAX;
            }
            c if is_cond_jump(c) => {
                masks[pc + 1 + usize::from(i.jt)] &= valid;
                masks[pc + 1 + usize::from(i.jf)] &= valid;
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Panics unless the kernel would accept `prog`.
pub fn assert_valid(prog: &[sock_filter]) {
    if let Err(why) = check(prog) {
        panic!(
            "invalid seccomp program: {why}\n{}",
            disasm(&prog[..prog.len().min(64)])
        );
    }
}

/// Run `prog` on `data`: the return value and the number of instructions executed (the `ret`
/// included). Panics on anything the kernel would have refused (run `check` for the static
/// rules; this catches what a path actually meets).
pub fn run(prog: &[sock_filter], data: &Data) -> (u32, usize) {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; BPF_MEMWORDS as usize];
    let mut written: u16 = 0;
    let mut pc = 0usize;
    let mut steps = 0usize;
    loop {
        let i = *prog
            .get(pc)
            .unwrap_or_else(|| panic!("ran off the end of the program at {pc}"));
        steps += 1;
        let c = i.code;
        let k = i.k;
        pc += 1;
        match c {
            LD_W_ABS => a = data.word(k),
            LD_W_LEN => a = DATA_LEN,
            LDX_W_LEN => x = DATA_LEN,
            LD_IMM => a = k,
            LDX_IMM => x = k,
            LD_MEM | LDX_MEM => {
                assert!(
                    k < BPF_MEMWORDS && written & (1 << k) != 0,
                    "insn {}: reads M[{k}] unwritten",
                    pc - 1
                );
                if c == LD_MEM {
                    a = mem[k as usize];
                } else {
                    x = mem[k as usize];
                }
            }
            ST | STX => {
                assert!(k < BPF_MEMWORDS, "insn {}: M[{k}] out of range", pc - 1);
                mem[k as usize] = if c == ST { a } else { x };
                written |= 1 << k;
            }
            RET_K => return (k, steps),
            RET_A => return (a, steps),
            TAX => x = a,
            TXA => a = x,
            NEG => a = a.wrapping_neg(),
            JA => pc += k as usize,
            c if is_alu(c) => {
                let v = if src(c) == BPF_X { x } else { k };
                a = match op(c) {
                    BPF_ADD => a.wrapping_add(v),
                    BPF_SUB => a.wrapping_sub(v),
                    BPF_MUL => a.wrapping_mul(v),
                    BPF_DIV => {
                        if v == 0 {
                            // bpf_convert_filter: division by X = 0 ends the program with 0.
                            assert!(src(c) == BPF_X, "division by constant zero");
                            return (0, steps);
                        }
                        a / v
                    }
                    BPF_AND => a & v,
                    BPF_OR => a | v,
                    BPF_XOR => a ^ v,
                    // K shifts are < 32 (checked); X shifts use the low 5 bits, as x86's shl/shr.
                    BPF_LSH => a.wrapping_shl(v),
                    BPF_RSH => a.wrapping_shr(v),
                    _ => unreachable!(),
                };
            }
            c if is_cond_jump(c) => {
                let v = if src(c) == BPF_X { x } else { k };
                let taken = match op(c) {
                    BPF_JEQ => a == v,
                    BPF_JGT => a > v,
                    BPF_JGE => a >= v,
                    BPF_JSET => a & v != 0,
                    _ => unreachable!(),
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            _ => panic!("insn {}: opcode {c:#06x} not allowed in seccomp", pc - 1),
        }
        assert!(
            pc < prog.len(),
            "jump or fall-through out of the program (to {pc})"
        );
    }
}

/// The kernel's `seccomp_is_const_allow` walk (kernel/seccomp.c, Linux ≥ 5.11) with only `nr`
/// and `arch` known: `Some(ret)` when the program reaches `ret K` using only loads of those two
/// words, `ja`, `jeq/jge/jgt/jset` with K and `and` with K; `None` ("run the filter") as soon as
/// it meets anything else. The kernel caches the syscall as allowed iff this is
/// `Some(SECCOMP_RET_ALLOW)` (and only for numbers below the arch's syscall count; the
/// uretprobe/uprobe exception, which bypasses the walk, is not modelled).
pub fn const_action(prog: &[sock_filter], arch: u32, nr: u32) -> Option<u32> {
    let mut reg: u32 = 0;
    let mut pc = 0usize;
    while pc < prog.len() {
        let i = prog[pc];
        let k = i.k;
        match i.code {
            LD_W_ABS => match k {
                0 => reg = nr,
                4 => reg = arch,
                _ => return None,
            },
            RET_K => return Some(k),
            JA => pc += k as usize,
            c if c == code(BPF_JMP | BPF_JEQ | BPF_K)
                || c == code(BPF_JMP | BPF_JGE | BPF_K)
                || c == code(BPF_JMP | BPF_JGT | BPF_K)
                || c == code(BPF_JMP | BPF_JSET | BPF_K) =>
            {
                let taken = match op(c) {
                    BPF_JEQ => reg == k,
                    BPF_JGE => reg >= k,
                    BPF_JGT => reg > k,
                    _ => reg & k != 0,
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            c if c == code(BPF_ALU | BPF_AND | BPF_K) => reg &= k,
            _ => return None,
        }
        pc += 1;
    }
    // The kernel WARNs: ran off the end.
    None
}

/// A seccomp return value by name: `ALLOW`, `ERRNO(1)`, `TRACE(5)`, `KILL_THREAD`...
pub fn action_name(ret: u32) -> String {
    let data = ret & SECCOMP_RET_DATA;
    let name = match ret & SECCOMP_RET_ACTION_FULL {
        SECCOMP_RET_KILL_PROCESS => "KILL_PROCESS",
        SECCOMP_RET_KILL_THREAD => "KILL_THREAD",
        SECCOMP_RET_TRAP => "TRAP",
        SECCOMP_RET_ERRNO => return format!("ERRNO({data})"),
        SECCOMP_RET_USER_NOTIF => "NOTIFY",
        SECCOMP_RET_TRACE => return format!("TRACE({data})"),
        SECCOMP_RET_LOG => "LOG",
        SECCOMP_RET_ALLOW => "ALLOW",
        _ => return format!("{ret:#010x}"),
    };
    if data == 0 {
        name.to_string()
    } else {
        format!("{name}+{data:#x}")
    }
}

fn data_name(k: u32) -> String {
    match k {
        0 => "nr".to_string(),
        4 => "arch".to_string(),
        8 => "ip".to_string(),
        12 => "ip.hi".to_string(),
        16..=63 => format!(
            "args[{}]{}",
            (k - 16) / 8,
            if k % 8 == 4 { ".hi" } else { ".lo" }
        ),
        _ => format!("{k:#x}"),
    }
}

fn const_name(k: u32) -> String {
    match k {
        AUDIT_ARCH_X86_64 => "AUDIT_ARCH_X86_64".to_string(),
        AUDIT_ARCH_I386 => "AUDIT_ARCH_I386".to_string(),
        AUDIT_ARCH_AARCH64 => "AUDIT_ARCH_AARCH64".to_string(),
        AUDIT_ARCH_ARM => "AUDIT_ARCH_ARM".to_string(),
        k if k > 0xffff => format!("{k:#x}"),
        k => k.to_string(),
    }
}

/// One line per instruction: index, raw fields, then the meaning, e.g.
/// `0003: 0x15 1 0 0x0000003b  jeq 59 -> 5 : 4` (targets are instruction indices).
pub fn disasm(prog: &[sock_filter]) -> String {
    let mut out = String::new();
    for (pc, i) in prog.iter().enumerate() {
        let c = i.code;
        let k = i.k;
        let _ = write!(out, "{pc:04}: {c:#04x} {:>3} {:>3} {k:#010x}  ", i.jt, i.jf);
        let target = |off: usize| pc + 1 + off;
        let text = match c {
            LD_W_ABS => format!("ld [{}]", data_name(k)),
            LD_W_LEN => "ld #len".to_string(),
            LDX_W_LEN => "ldx #len".to_string(),
            LD_IMM => format!("ld #{k:#x}"),
            LDX_IMM => format!("ldx #{k:#x}"),
            LD_MEM => format!("ld M[{k}]"),
            LDX_MEM => format!("ldx M[{k}]"),
            ST => format!("st M[{k}]"),
            STX => format!("stx M[{k}]"),
            RET_K => format!("ret {}", action_name(k)),
            RET_A => "ret a".to_string(),
            TAX => "tax".to_string(),
            TXA => "txa".to_string(),
            NEG => "neg".to_string(),
            JA => format!("ja {}", target(k as usize)),
            c if is_alu(c) => {
                let name = match op(c) {
                    BPF_ADD => "add",
                    BPF_SUB => "sub",
                    BPF_MUL => "mul",
                    BPF_DIV => "div",
                    BPF_AND => "and",
                    BPF_OR => "or",
                    BPF_XOR => "xor",
                    BPF_LSH => "lsh",
                    _ => "rsh",
                };
                if src(c) == BPF_X {
                    format!("{name} x")
                } else {
                    format!("{name} #{k:#x}")
                }
            }
            c if is_cond_jump(c) => {
                let name = match op(c) {
                    BPF_JEQ => "jeq",
                    BPF_JGT => "jgt",
                    BPF_JGE => "jge",
                    _ => "jset",
                };
                let v = if src(c) == BPF_X {
                    "x".to_string()
                } else {
                    const_name(k)
                };
                format!(
                    "{name} {v} -> {} : {}",
                    target(usize::from(i.jt)),
                    target(usize::from(i.jf))
                )
            }
            _ => "(not a seccomp opcode)".to_string(),
        };
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}
