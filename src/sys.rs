//! Safe wrappers over the few system calls and process-start facts that rustix does not expose.
//!
//! # Safety
//!
//! This is the only module of the init that may contain `unsafe` (with `src/main.rs`, which
//! receives `argv`/`envp` from musl's start-up code). The invariant every block here upholds:
//! a pointer handed to the kernel refers to a live, correctly sized value owned by the caller's
//! frame (or a `'static`) for the whole call, and every raw syscall number and argument layout
//! matches the x86_64 kernel ABI (`arch/x86/entry/syscalls/syscall_64.tbl`). The wrappers are
//! safe functions taking `&CStr`, fds and plain integers, and returning `Result<_, Errno>`.
#![allow(unsafe_code)]

use core::ffi::{CStr, c_char};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general as g;
use rustix::fd::{BorrowedFd, FromRawFd, OwnedFd};
use rustix::io::Errno;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("ocinit's raw syscall shim is written for x86_64 and aarch64 only");

/// `syscall(n, a1..a6)` on x86_64: the kernel clobbers rcx and r11 and returns in rax.
///
/// # Safety
///
/// Every argument that the kernel reads as a pointer for syscall `n` must point to memory that
/// is valid for that use for the duration of the call.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn syscall6(n: u32, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the asm clobbers are exactly those of the x86_64 syscall ABI; pointer validity is
    // the caller's obligation (see `# Safety`).
    unsafe {
        core::arch::asm!("syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    ret
}

/// `syscall(n, a1..a6)` on aarch64: `svc 0` with the number in x8, arguments in x0–x5, the
/// result in x0; nothing else is clobbered.
///
/// # Safety
///
/// Every argument that the kernel reads as a pointer for syscall `n` must point to memory that
/// is valid for that use for the duration of the call.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn syscall6(n: u32, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the asm follows the aarch64 syscall ABI (x0 is the only register written);
    // pointer validity is the caller's obligation (see `# Safety`).
    unsafe {
        core::arch::asm!("svc 0",
            in("x8") n as usize,
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
            options(nostack));
    }
    ret
}

fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        #[expect(clippy::cast_possible_truncation, reason = "range-checked errno value")]
        Err(Errno::from_raw_os_error(-ret as i32))
    } else {
        #[expect(clippy::cast_sign_loss, reason = "non-negative by the check above")]
        Ok(ret as usize)
    }
}

/// `exit_group(code)`—End the process without running anything else.
pub fn exit_group(code: i32) -> ! {
    #[expect(
        clippy::cast_sign_loss,
        reason = "the kernel takes the int as a register value"
    )]
    let args = [code as usize, 0, 0, 0, 0, 0];
    // SAFETY: exit_group takes no pointers.
    unsafe { syscall6(g::__NR_exit_group, args) };
    loop {
        core::hint::spin_loop();
    }
}

/// `write(2, bytes)`—Best effort, for the last words of a process with nowhere else to say them.
pub fn write_stderr(bytes: &[u8]) {
    let args = [2, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0];
    // SAFETY: the kernel reads `bytes.len()` bytes from `bytes`, which is borrowed for the call.
    let _ = unsafe { syscall6(g::__NR_write, args) };
}

/// `write(1, bytes)`—Best effort, for `--version` and `--help`.
pub fn write_stdout(bytes: &[u8]) {
    let args = [1, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0];
    // SAFETY: the kernel reads `bytes.len()` bytes from `bytes`, which is borrowed for the call.
    let _ = unsafe { syscall6(g::__NR_write, args) };
}

/// Fds 0, 1 and 2, borrowed for the life of the process (as rustix's std `stdin()` does): the
/// init never closes them; one the parent left closed gives EBADF, no other file.
pub fn stdio() -> [BorrowedFd<'static>; 3] {
    // SAFETY: 0–2 are only ever replaced (dup2 by the console step), never closed by the init.
    [0, 1, 2].map(|fd| unsafe { BorrowedFd::borrow_raw(fd) })
}

/// `ioctl(0, TIOCSPGRP, &pgrp)`—Make `pgrp` the foreground process group of the terminal on
/// stdin (`tcsetpgrp`), by number: stdin may be closed or not a terminal (ENOTTY, EBADF).
pub fn set_stdin_foreground_group(pgrp: i32) -> Result<(), Errno> {
    let args = [
        0,
        linux_raw_sys::ioctl::TIOCSPGRP as usize,
        (&raw const pgrp) as usize,
        0,
        0,
        0,
    ];
    // SAFETY: `pgrp` lives on this frame for the call; TIOCSPGRP reads one int from it.
    check(unsafe { syscall6(g::__NR_ioctl, args) }).map(drop)
}

/// `getcwd(buf)`—The working directory as the kernel sees it; returns its length (without the
/// NUL). A directory outside the process's root reads as `(unreachable)/...`.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    let args = [buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0, 0];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, borrowed mutably for the call.
    let n = check(unsafe { syscall6(g::__NR_getcwd, args) })?;
    Ok(n.saturating_sub(1))
}

const KEYCTL_JOIN_SESSION_KEYRING: usize = 1;
const KEYCTL_SETPERM: usize = 5;
const KEYCTL_DESCRIBE: usize = 6;

/// `keyctl(KEYCTL_JOIN_SESSION_KEYRING, name)`—Join (creating it if needed) the session keyring
/// `name`; returns its serial.
pub fn join_session_keyring(name: &CStr) -> Result<i32, Errno> {
    let args = [
        KEYCTL_JOIN_SESSION_KEYRING,
        name.as_ptr() as usize,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: `name` is a NUL-terminated string borrowed for the call.
    let serial = check(unsafe { syscall6(g::__NR_keyctl, args) })?;
    i32::try_from(serial).map_err(|_| Errno::RANGE)
}

/// `keyctl(KEYCTL_DESCRIBE, key, buf, len)`—`type;uid;gid;perm;description` of a key; returns
/// the length written (with the NUL), which may exceed `buf.len()` if it was too small.
pub fn describe_key(key: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    #[expect(
        clippy::cast_sign_loss,
        reason = "key serials are passed as the kernel's int"
    )]
    let args = [
        KEYCTL_DESCRIBE,
        key as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
        0,
        0,
    ];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, borrowed mutably for the call.
    check(unsafe { syscall6(g::__NR_keyctl, args) })
}

/// `keyctl(KEYCTL_SETPERM, key, perm)`—Set a key's permission mask.
pub fn set_key_permissions(key: i32, perm: u32) -> Result<(), Errno> {
    #[expect(
        clippy::cast_sign_loss,
        reason = "key serials are passed as the kernel's int"
    )]
    let args = [KEYCTL_SETPERM, key as usize, perm as usize, 0, 0, 0];
    // SAFETY: KEYCTL_SETPERM takes no pointers.
    check(unsafe { syscall6(g::__NR_keyctl, args) }).map(drop)
}

/// `unshare(flags)` restricted to `CLONE_NEW*` namespace flags.
pub fn unshare_namespaces(flags: u32) -> Result<(), Errno> {
    const NAMESPACES: u32 = g::CLONE_NEWNS
        | g::CLONE_NEWUTS
        | g::CLONE_NEWIPC
        | g::CLONE_NEWNET
        | g::CLONE_NEWPID
        | g::CLONE_NEWCGROUP
        | g::CLONE_NEWUSER
        | g::CLONE_NEWTIME;
    let flags = rustix::thread::UnshareFlags::from_bits_retain(flags & NAMESPACES);
    // SAFETY: only namespace flags pass the mask above; without CLONE_FILES (the flag that makes
    // `unshare` unsafe in rustix) no descriptor can become invalid under us.
    unsafe { rustix::thread::unshare_unsafe(flags) }
}

/// Result of [`clone_parent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// In the new process.
    Child,
    /// In the calling process; the new process has this pid (in the caller's pid namespace).
    Parent(i32),
}

fn clone_with(flags: u32) -> Result<Forked, Errno> {
    // SAFETY: clone(flags, newsp = 0 (same stack, copy-on-write), parent_tid = child_tid = tls =
    // NULL) passes no pointers, and the child continues on its own copy of our stack.
    let ret = unsafe {
        syscall6(
            g::__NR_clone,
            [(flags | g::SIGCHLD) as usize, 0, 0, 0, 0, 0],
        )
    };
    match check(ret)? {
        0 => Ok(Forked::Child),
        #[expect(clippy::cast_possible_truncation, reason = "pids fit in i32")]
        #[expect(clippy::cast_possible_wrap, reason = "pids fit in i32")]
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// `clone(CLONE_PARENT | SIGCHLD, NULL)`—Fork a sibling: the new process is a child of our
/// parent, so the parent runtime can wait for it. Like `fork`, the child runs on a copy of the
/// caller's stack.
pub fn clone_parent() -> Result<Forked, Errno> {
    clone_with(g::CLONE_PARENT)
}

/// `clone(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, NULL)`—A child in a new user namespace,
/// whose maps its parent (privileged) can write, and a mount namespace it owns, a copy of ours
/// where every mount is locked.
pub fn fork_into_user_namespace() -> Result<Forked, Errno> {
    clone_with(g::CLONE_NEWUSER | g::CLONE_NEWNS)
}

/// `clone(SIGCHLD, NULL)`—`fork` without libc's bookkeeping (the init calls no libc after
/// start-up).
pub fn fork() -> Result<Forked, Errno> {
    clone_with(0)
}

/// A set of signals 1..=64, bit `n - 1` for signal `n` (the kernel's `sigset_t` on x86_64).
pub type SigSet = u64;

/// `rt_sigprocmask(SIG_SETMASK, set, &old)`—Replace the calling thread's signal mask; returns
/// the previous one.
pub fn set_signal_mask(set: SigSet) -> Result<SigSet, Errno> {
    let mut old: SigSet = 0;
    let args = [
        g::SIG_SETMASK as usize,
        (&raw const set) as usize,
        (&raw mut old) as usize,
        size_of::<SigSet>(),
        0,
        0,
    ];
    // SAFETY: `set` and `old` live on this frame for the call, and the size passed is theirs.
    check(unsafe { syscall6(g::__NR_rt_sigprocmask, args) })?;
    Ok(old)
}

/// `signalfd4(-1, set, SFD_CLOEXEC)`—A descriptor that reads the (blocked) signals in `set`.
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    let args = [
        usize::MAX,
        (&raw const set) as usize,
        size_of::<SigSet>(),
        g::O_CLOEXEC as usize,
        0,
        0,
    ];
    // SAFETY: `set` lives on this frame for the call, and the size passed is its size.
    let fd = check(unsafe { syscall6(g::__NR_signalfd4, args) })?;
    #[expect(clippy::cast_possible_truncation, reason = "descriptors fit in i32")]
    #[expect(clippy::cast_possible_wrap, reason = "descriptors fit in i32")]
    let fd = fd as i32;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `kill(pid, sig)`—Send any signal number, real-time ones included (rustix's `Signal` names
/// only the classic ones). A negative `pid` is a process group.
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    #[expect(
        clippy::cast_sign_loss,
        reason = "the kernel reads these registers as ints"
    )]
    let args = [pid as usize, sig as usize, 0, 0, 0, 0];
    // SAFETY: kill takes no pointers.
    check(unsafe { syscall6(g::__NR_kill, args) }).map(drop)
}

/// `struct sched_attr` as the kernel reads it (`SCHED_ATTR_SIZE_VER0`, 48 bytes: no
/// utilization clamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct SchedAttr {
    /// `size_of::<SchedAttr>()`.
    pub size: u32,
    /// `SCHED_*`.
    pub policy: u32,
    /// `SCHED_FLAG_*`.
    pub flags: u64,
    /// For SCHED_OTHER and SCHED_BATCH.
    pub nice: i32,
    /// For SCHED_FIFO and SCHED_RR.
    pub priority: u32,
    /// For SCHED_DEADLINE, in nanoseconds.
    pub runtime: u64,
    /// For SCHED_DEADLINE, in nanoseconds.
    pub deadline: u64,
    /// For SCHED_DEADLINE, in nanoseconds.
    pub period: u64,
}

const _: () = assert!(size_of::<SchedAttr>() == 48);

/// `sched_setattr(0, attr, 0)`—This thread's scheduling policy and parameters.
pub fn sched_setattr(attr: &SchedAttr) -> Result<(), Errno> {
    let args = [0, (&raw const *attr) as usize, 0, 0, 0, 0];
    // SAFETY: `attr` is borrowed for the call; the kernel reads `attr.size` (48) bytes of it.
    check(unsafe { syscall6(g::__NR_sched_setattr, args) }).map(drop)
}

/// `ioprio_set(IOPRIO_WHO_PROCESS, 0, ioprio)`—This thread's I/O priority.
pub fn set_io_priority(ioprio: u32) -> Result<(), Errno> {
    let args = [1, 0, ioprio as usize, 0, 0, 0];
    // SAFETY: ioprio_set takes no pointers.
    check(unsafe { syscall6(g::__NR_ioprio_set, args) }).map(drop)
}

/// `personality(persona)`—The execution domain the next `execve` runs in (LINUX32: `uname -m`
/// says i686).
pub fn set_personality(persona: u32) -> Result<(), Errno> {
    let args = [persona as usize, 0, 0, 0, 0, 0];
    // SAFETY: personality takes no pointers.
    check(unsafe { syscall6(g::__NR_personality, args) }).map(drop)
}

/// `close_range(first, last, 0)`—Close every descriptor in `first..=last`.
pub fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: close_range takes no pointers.
    check(unsafe {
        syscall6(
            g::__NR_close_range,
            [first as usize, last as usize, 0, 0, 0, 0],
        )
    })
    .map(drop)
}

/// `clock_gettime(CLOCK_MONOTONIC)` in microseconds (the raw syscall: the vDSO would cost
/// rustix an auxv lookup); 0 if it fails. For the debug log's phase timestamps only.
pub fn monotonic_us() -> u64 {
    let mut ts = g::__kernel_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let args = [
        g::CLOCK_MONOTONIC as usize,
        (&raw mut ts) as usize,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: `ts` is a live, writable timespec on this frame for the call.
    if check(unsafe { syscall6(g::__NR_clock_gettime, args) }).is_err() {
        return 0;
    }
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000
        + u64::try_from(ts.tv_nsec).unwrap_or(0) / 1000
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`—Load a filter on this thread. Returns the
/// notify listener when `flags` has `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
pub fn seccomp_set_mode_filter(
    flags: u32,
    program: &[linux_raw_sys::ptrace::sock_filter],
) -> Result<Option<OwnedFd>, Errno> {
    use linux_raw_sys::ptrace as p;
    let fprog = p::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| Errno::INVAL)?,
        filter: program.as_ptr().cast_mut(),
    };
    let args = [
        p::SECCOMP_SET_MODE_FILTER as usize,
        flags as usize,
        (&raw const fprog) as usize,
        0,
        0,
        0,
    ];
    // SAFETY: `fprog` and the instructions it points to live on this frame and in `program`
    // for the call; the kernel copies them and never writes through the pointer.
    let ret = check(unsafe { syscall6(g::__NR_seccomp, args) })?;
    if flags & p::SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    #[expect(clippy::cast_possible_truncation, reason = "descriptors fit in i32")]
    #[expect(clippy::cast_possible_wrap, reason = "descriptors fit in i32")]
    let fd = ret as i32;
    // SAFETY: with NEW_LISTENER the kernel just returned a new descriptor; nothing else owns it.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// `mount_setattr(dirfd, path, AT_EMPTY_PATH | [AT_RECURSIVE], {set, clr, propagation})`—
/// Change the attributes of the mount `path` names relative to `dirfd` (`""`: `dirfd`'s own)
/// and, with `recursive`, of every mount below it.
pub fn mount_setattr(
    dirfd: rustix::fd::BorrowedFd<'_>,
    path: &CStr,
    recursive: bool,
    attr_set: u64,
    attr_clr: u64,
) -> Result<(), Errno> {
    let attr = g::mount_attr {
        attr_set,
        attr_clr,
        propagation: 0,
        userns_fd: 0,
    };
    setattr(dirfd, path, recursive, &attr)
}

/// `mount_setattr(tree, "", AT_EMPTY_PATH | [AT_RECURSIVE], {MOUNT_ATTR_IDMAP, userns})`—
/// Give the detached mount `tree` (and, with `recursive`, every mount below it) the id mapping
/// of the user namespace `userns`.
pub fn mount_setattr_idmap(
    tree: rustix::fd::BorrowedFd<'_>,
    recursive: bool,
    userns: rustix::fd::BorrowedFd<'_>,
) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    let attr = g::mount_attr {
        attr_set: u64::from(g::MOUNT_ATTR_IDMAP),
        attr_clr: 0,
        propagation: 0,
        #[expect(clippy::cast_sign_loss, reason = "an open descriptor is not negative")]
        userns_fd: userns.as_raw_fd() as u64,
    };
    setattr(tree, c"", recursive, &attr)
}

/// `mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, {propagation})`—Give the detached
/// mount `tree` and every mount below it the propagation type `propagation` (`MS_SLAVE`, ...).
pub fn mount_setattr_propagation(
    tree: rustix::fd::BorrowedFd<'_>,
    propagation: u32,
) -> Result<(), Errno> {
    let attr = g::mount_attr {
        attr_set: 0,
        attr_clr: 0,
        propagation: u64::from(propagation),
        userns_fd: 0,
    };
    setattr(tree, c"", true, &attr)
}

fn setattr(
    dirfd: rustix::fd::BorrowedFd<'_>,
    path: &CStr,
    recursive: bool,
    attr: &g::mount_attr,
) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    let flags = g::AT_EMPTY_PATH | if recursive { g::AT_RECURSIVE } else { 0 };
    #[expect(
        clippy::cast_sign_loss,
        reason = "the kernel reads the int back from the register (AT_FDCWD is negative)"
    )]
    let dirfd = dirfd.as_raw_fd() as usize;
    let args = [
        dirfd,
        path.as_ptr() as usize,
        flags as usize,
        core::ptr::from_ref(attr) as usize,
        size_of::<g::mount_attr>(),
        0,
    ];
    // SAFETY: `path` is NUL-terminated and `attr` is borrowed for the whole call; the size
    // passed is exactly `size_of::<mount_attr>()`.
    check(unsafe { syscall6(g::__NR_mount_setattr, args) }).map(drop)
}

/// Take ownership of a descriptor the parent runtime passed to us by number, and make it
/// close-on-exec.
///
/// Fails with `EBADF` when `fd` is not open, and with `EBUSY` when the same number is taken
/// twice, so no two `OwnedFd`s can ever own one descriptor.
pub fn take_inherited_fd(fd: i32) -> Result<OwnedFd, Errno> {
    static TAKEN: [AtomicBool; 64] = [const { AtomicBool::new(false) }; 64];
    let slot = usize::try_from(fd)
        .ok()
        .and_then(|i| TAKEN.get(i))
        .ok_or(Errno::BADF)?;
    #[expect(
        clippy::cast_sign_loss,
        reason = "fd is non-negative: checked by try_from above"
    )]
    let args = [
        fd as usize,
        g::F_SETFD as usize,
        g::FD_CLOEXEC as usize,
        0,
        0,
        0,
    ];
    // SAFETY: fcntl(F_SETFD) takes no pointers. It fails with EBADF if `fd` is not open, so
    // it proves the descriptor exists and makes it close-on-exec in one call.
    check(unsafe { syscall6(g::__NR_fcntl, args) })?;
    if slot.swap(true, Ordering::AcqRel) {
        return Err(Errno::BUSY);
    }
    // SAFETY: `fd` is open (F_SETFD succeeded), the protocol hands its ownership to the init, and
    // the `TAKEN` guard ensures this is the only `OwnedFd` ever made for it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

// --------------------------------------------------------------------------------------------
// Static buffers
// --------------------------------------------------------------------------------------------

/// Capacity of [`Buffers::config`], the largest config the init accepts (see `docs/PROTOCOL.md`).
pub const MAX_CONFIG: usize = 1 << 20;
/// Most strings in `process.args` and, separately, `process.env`.
pub const MAX_STRINGS: usize = 4096;

/// The init's only large memory: kept in `.bss`, so a page costs RSS only once touched.
#[derive(Debug)]
pub struct Buffers {
    /// The config frame as received: its 4-byte header, then at most `MAX_CONFIG` bytes.
    pub config: [u8; 4 + MAX_CONFIG],
    /// Decoded, NUL-terminated strings for `execve`. Decoding never grows a JSON string and each
    /// NUL replaces at least a closing quote, so everything decoded from the config fits.
    pub strings: [u8; MAX_CONFIG],
    /// Pointer slots for argv (see [`CStrArray`]).
    pub argv: [usize; MAX_STRINGS + 1],
    /// Pointer slots for envp.
    pub envp: [usize; MAX_STRINGS + 1],
    /// The compiled seccomp filter.
    pub filter: [linux_raw_sys::ptrace::sock_filter; crate::seccomp::limits::INSNS],
}

/// Hand out the process's [`Buffers`]; `None` after the first call.
pub fn take_buffers() -> Option<&'static mut Buffers> {
    static TAKEN: AtomicBool = AtomicBool::new(false);
    static mut BUFFERS: Buffers = Buffers {
        config: [0; 4 + MAX_CONFIG],
        strings: [0; MAX_CONFIG],
        argv: [0; MAX_STRINGS + 1],
        envp: [0; MAX_STRINGS + 1],
        filter: [linux_raw_sys::ptrace::sock_filter {
            code: 0,
            jt: 0,
            jf: 0,
            k: 0,
        }; crate::seccomp::limits::INSNS],
    };
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    let buffers = &raw mut BUFFERS;
    // SAFETY: the atomic swap above lets exactly one caller reach this line, so the returned
    // exclusive reference is the only reference to `BUFFERS` that ever exists.
    Some(unsafe { &mut *buffers })
}

// --------------------------------------------------------------------------------------------
// argv / envp
// --------------------------------------------------------------------------------------------

/// [`CStrArray::push`] found no free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A NULL-terminated array of C-string pointers built in caller-provided slots, as `execve`
/// takes it. Every pointer stored refers to a `&'s CStr`, so the array is valid while `'s` is.
#[derive(Debug)]
pub struct CStrArray<'s> {
    slots: &'s mut [usize],
    len: usize,
    _strings: PhantomData<&'s CStr>,
}

impl<'s> CStrArray<'s> {
    /// An empty array over `slots` (at least one slot is kept for the terminating NULL).
    pub fn new(slots: &'s mut [usize]) -> Self {
        if let Some(first) = slots.first_mut() {
            *first = 0;
        }
        Self {
            slots,
            len: 0,
            _strings: PhantomData,
        }
    }

    /// Append `s`; fails when the slots are full.
    pub fn push(&mut self, s: &'s CStr) -> Result<(), Full> {
        if self.len + 1 >= self.slots.len() {
            return Err(Full);
        }
        self.slots[self.len] = s.as_ptr() as usize;
        self.len += 1;
        self.slots[self.len] = 0;
        Ok(())
    }

    /// Replace entry `i` (used when a later environment entry overrides an earlier one).
    pub fn replace(&mut self, i: usize, s: &'s CStr) {
        if i < self.len {
            self.slots[i] = s.as_ptr() as usize;
        }
    }

    /// Entry `i`.
    pub fn get(&self, i: usize) -> Option<&'s CStr> {
        if i >= self.len {
            return None;
        }
        let ptr = self.slots[i] as *const c_char;
        // SAFETY: slots below `len` only ever hold pointers taken from `&'s CStr` in `push` or
        // `replace`, which stay valid and NUL-terminated for `'s`.
        Some(unsafe { CStr::from_ptr(ptr) })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn as_ptr(&self) -> usize {
        self.slots.as_ptr() as usize
    }
}

/// `execve(path, argv, envp)`—Replace the process image. Returns only on failure.
#[must_use]
pub fn execve(path: &CStr, argv: &CStrArray<'_>, envp: &CStrArray<'_>) -> Errno {
    let args = [
        path.as_ptr() as usize,
        argv.as_ptr(),
        envp.as_ptr(),
        0,
        0,
        0,
    ];
    // SAFETY: `path` is NUL-terminated and both arrays are NULL-terminated arrays of live C
    // strings (the `CStrArray` invariant), all borrowed for the whole call.
    let ret = unsafe { syscall6(g::__NR_execve, args) };
    match check(ret) {
        Err(e) => e,
        Ok(_) => Errno::IO,
    }
}

/// The NULL-terminated `char **` arrays musl's start-up code passes to `main` (argv, envp).
#[derive(Debug, Clone, Copy)]
pub struct StartupStrings {
    next: *const *const c_char,
}

impl StartupStrings {
    /// Wrap `argv` or `envp` as received by `main`.
    ///
    /// # Safety
    ///
    /// `ptr` must be null or point to a NULL-terminated array of pointers to NUL-terminated
    /// strings that live, unmodified, for the rest of the process (true of the arrays the
    /// kernel builds on the initial stack).
    pub unsafe fn new(ptr: *const *const c_char) -> Self {
        Self { next: ptr }
    }
}

impl Iterator for StartupStrings {
    type Item = &'static CStr;

    fn next(&mut self) -> Option<&'static CStr> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: by the `new` contract `next` points into a NULL-terminated pointer array, and
        // we never advance past its NULL (we stop below).
        let entry = unsafe { *self.next };
        if entry.is_null() {
            self.next = core::ptr::null();
            return None;
        }
        // SAFETY: `next` is not at the terminating NULL, so the element after it is still
        // inside the array (at worst it is the NULL itself).
        self.next = unsafe { self.next.add(1) };
        // SAFETY: by the `new` contract each non-NULL entry is a NUL-terminated string living
        // for the rest of the process.
        Some(unsafe { CStr::from_ptr(entry) })
    }
}
