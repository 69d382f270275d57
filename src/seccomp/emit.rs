//! A classic-BPF program written back to front.
//!
//! BPF jumps only go forward, so the program is written from its last instruction to its
//! first: every jump target has its final position when the jump is written. A target more
//! than 255 instructions ahead (conditional jumps have 8-bit offsets) is reached through a
//! proxy placed right after the jump: a copy of the return instruction, or a `ja` with its
//! 32-bit offset. Returns are shared: a jump to "return X" reuses the nearest `ret X` already
//! written when it is in reach.

use linux_raw_sys::ptrace::{
    BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, sock_filter,
};

/// Where a jump goes (8 bytes: the compiler keeps thousands of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An instruction already written (an index into the buffer, below `BPF_MAXINSNS`).
    At(u16),
    /// "Return this seccomp action": a shared `ret` instruction, written on demand.
    Ret(u32),
}

impl Target {
    /// The instruction at `pos` (an index [`Program`] returned).
    pub fn at(pos: usize) -> Target {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "positions index a buffer of BPF_MAXINSNS (4096) instructions"
        )]
        Target::At(pos as u16)
    }
}

/// The program is longer than the buffer (the kernel's `BPF_MAXINSNS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// Distinct return values whose nearest `ret` is remembered.
const RET_CACHE: usize = 16;

/// A program under construction in `buf[start..]`.
#[derive(Debug)]
pub struct Program<'b> {
    buf: &'b mut [sock_filter],
    start: usize,
    rets: [(u32, usize); RET_CACHE],
    ret_count: usize,
}

impl<'b> Program<'b> {
    /// An empty program that may fill all of `buf`.
    pub fn new(buf: &'b mut [sock_filter]) -> Self {
        let start = buf.len();
        Program {
            buf,
            start,
            rets: [(0, 0); RET_CACHE],
            ret_count: 0,
        }
    }

    /// The program written so far.
    pub fn finish(self) -> &'b [sock_filter] {
        &self.buf[self.start..]
    }

    fn push(&mut self, code: u32, jt: u8, jf: u8, k: u32) -> Result<usize, TooLong> {
        self.start = self.start.checked_sub(1).ok_or(TooLong)?;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "BPF opcodes are 16-bit constants"
        )]
        let code = code as u16;
        self.buf[self.start] = sock_filter { code, jt, jf, k };
        Ok(self.start)
    }

    /// `A = seccomp_data[offset]` (a 32-bit word).
    pub fn load(&mut self, offset: u32) -> Result<usize, TooLong> {
        self.push(BPF_LD | BPF_W | BPF_ABS, 0, 0, offset)
    }

    /// `A &= k`.
    pub fn and(&mut self, k: u32) -> Result<usize, TooLong> {
        self.push(BPF_ALU | BPF_AND | BPF_K, 0, 0, k)
    }

    /// `return action`.
    pub fn ret(&mut self, action: u32) -> Result<usize, TooLong> {
        let at = self.push(BPF_RET | BPF_K, 0, 0, action)?;
        if let Some(slot) = self.rets[..self.ret_count]
            .iter_mut()
            .find(|(a, _)| *a == action)
        {
            slot.1 = at;
        } else if self.ret_count < RET_CACHE {
            self.rets[self.ret_count] = (action, at);
            self.ret_count += 1;
        }
        Ok(at)
    }

    /// The position of `target`, writing its `ret` if there is none yet.
    pub fn resolve(&mut self, target: Target) -> Result<usize, TooLong> {
        match target {
            Target::At(at) => Ok(usize::from(at)),
            Target::Ret(action) => match self.rets[..self.ret_count]
                .iter()
                .find(|(a, _)| *a == action)
            {
                Some(&(_, at)) => Ok(at),
                None => self.ret(action),
            },
        }
    }

    /// A position for `target` that a conditional jump written after at most two proxies
    /// can reach with an 8-bit offset.
    fn near(&mut self, target: Target) -> Result<usize, TooLong> {
        let at = self.resolve(target)?;
        // The jump lands at start - 1 - (proxies still to come, at most 2).
        if at + 2 - self.start <= usize::from(u8::MAX) {
            return Ok(at);
        }
        match target {
            Target::Ret(action) => self.ret(action),
            Target::At(_) => {
                let from = self.start - 1;
                let offset = u32::try_from(at - from - 1).map_err(|_| TooLong)?;
                self.push(BPF_JMP | BPF_JA, 0, 0, offset)
            }
        }
    }

    /// Make `target` the next instruction in program order: nothing when it already is, else
    /// its `ret` or a `ja` to it.
    pub fn goto(&mut self, target: Target) -> Result<usize, TooLong> {
        match target {
            Target::At(at) if usize::from(at) == self.start => Ok(self.start),
            Target::At(at) => {
                let at = usize::from(at);
                let offset = u32::try_from(at - self.start).map_err(|_| TooLong)?;
                self.push(BPF_JMP | BPF_JA, 0, 0, offset)
            }
            Target::Ret(action) => self.ret(action),
        }
    }

    /// `if (A <op> k) goto if_true; else goto if_false;` with `op` one of `BPF_JEQ`,
    /// `BPF_JGT`, `BPF_JGE`, `BPF_JSET`.
    pub fn jump(
        &mut self,
        op: u32,
        k: u32,
        if_true: Target,
        if_false: Target,
    ) -> Result<usize, TooLong> {
        let t = self.near(if_true)?;
        let f = self.near(if_false)?;
        let at = self.start.checked_sub(1).ok_or(TooLong)?;
        let offset = |to: usize| u8::try_from(to - at - 1).map_err(|_| TooLong);
        let (jt, jf) = (offset(t)?, offset(f)?);
        self.push(BPF_JMP | op | BPF_K, jt, jf, k)
    }
}
