//! The init's one error type: which step, which operation, the errno, and where in the config.
//!
//! Errors are small `Copy` values. Config strings are not copied into them: the location is a
//! path template with up to two indices (`mounts[].options[]` + `[3, 1]`), which the parent,
//! holding the same config, can resolve to the values it names.

use core::fmt;

use core::num::NonZeroU64;

use rustix::io::Errno;

use crate::names::Names;

/// A step of the init sequence, in order. The names are part of the protocol (`docs/STEPS.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Reading the environment and taking the inherited descriptors.
    Setup,
    /// Receiving the config frame.
    Receive,
    /// Decoding and validating the config.
    Decode,
    /// Creating the user namespace and having its id maps written.
    UserNamespace,
    /// Creating namespaces.
    Namespaces,
    /// Joining the container's session keyring.
    Keyring,
    /// Forking the container's PID 1 into the new PID namespace.
    PidNamespace,
    /// Preparing the root: propagation, the rootfs bind, `root.readonly`.
    Rootfs,
    /// `mounts[]`.
    Mounts,
    /// The default `/dev` nodes and links.
    Devices,
    /// `pivot_root` (or `chroot`) into the rootfs and detaching the old root.
    PivotRoot,
    /// `linux.sysctl`.
    Sysctl,
    /// `linux.readonlyPaths`.
    ReadonlyPaths,
    /// `linux.maskedPaths`.
    MaskedPaths,
    /// `process.terminal`: the pty, `/dev/console`, the controlling terminal.
    Console,
    /// `hostname` and `domainname`.
    Hostname,
    /// The `ready` → `run` exchange with the parent.
    Handshake,
    /// `process.apparmorProfile` and `process.selinuxLabel`.
    Lsm,
    /// `process.user.umask`.
    Umask,
    /// `process.cwd`.
    Cwd,
    /// `process.user`: groups, gid, uid.
    User,
    /// `process.oomScoreAdj`.
    OomScoreAdj,
    /// `process.noNewPrivileges` and other prctl settings.
    Prctl,
    /// `process.scheduler`.
    Scheduler,
    /// `process.ioPriority`.
    IoPriority,
    /// `linux.personality`.
    Personality,
    /// `process.rlimits`.
    Rlimits,
    /// `process.capabilities`.
    Capabilities,
    /// `linux.seccomp`: compiling and loading the filter.
    Seccomp,
    /// `process.env`.
    Env,
    /// Finding `process.args[0]` inside the container.
    Lookup,
    /// Waiting on the exec FIFO for `start`.
    ExecFifo,
    /// `execve`.
    Exec,
    /// Staying as PID 1: signals, fork, supervision.
    Pid1,
    /// VM mode: the machine's own mounts and the config file.
    Boot,
}

impl Step {
    /// The wire name.
    pub fn name(self) -> &'static str {
        Step::name_of(self as u8)
    }

    /// The wire name of the step numbered `n`.
    fn name_of(n: u8) -> &'static str {
        // In the order of the variants (tests::names_follow_the_variants).
        const NAMES: Names = crate::names![
            "setup",
            "receive",
            "decode",
            "user-namespace",
            "namespaces",
            "keyring",
            "pid-namespace",
            "rootfs",
            "mounts",
            "devices",
            "pivot-root",
            "sysctl",
            "readonly-paths",
            "masked-paths",
            "console",
            "hostname",
            "handshake",
            "lsm",
            "umask",
            "cwd",
            "user",
            "oom-score-adj",
            "prctl",
            "scheduler",
            "io-priority",
            "personality",
            "rlimits",
            "capabilities",
            "seccomp",
            "env",
            "lookup",
            "exec-fifo",
            "exec",
            "pid1",
            "boot",
        ];
        const { assert!(NAMES.count() == Step::Boot as usize + 1) };
        NAMES.iter().nth(n.into()).unwrap_or_default()
    }
}

/// The operation that failed: a system call, or a check of the init's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// An environment variable of the protocol.
    Environment,
    /// `read`/`recv` on the control channel.
    Recv,
    /// `send` on the control channel.
    Send,
    /// JSON syntax.
    Parse,
    /// A config or protocol rule.
    Validate,
    /// `unshare`.
    Unshare,
    /// `clone`.
    Clone,
    /// `pipe2`.
    Pipe,
    /// `open`/`openat2`.
    Open,
    /// `mkdirat`.
    Mkdir,
    /// `mount`.
    Mount,
    /// `mount_setattr`.
    MountSetattr,
    /// `umount2`.
    Umount,
    /// `pivot_root`.
    PivotRoot,
    /// `chroot`.
    Chroot,
    /// `chdir`/`fchdir`.
    Chdir,
    /// `sethostname`.
    Sethostname,
    /// `setdomainname`.
    Setdomainname,
    /// `setgroups`.
    Setgroups,
    /// `setresgid`.
    Setgid,
    /// `setresuid`.
    Setuid,
    /// `stat`/`access` while searching `PATH`.
    Access,
    /// `write`.
    Write,
    /// `fcntl`.
    Fcntl,
    /// `close_range`.
    CloseRange,
    /// `execve`.
    Execve,
    /// `prctl`.
    Prctl,
    /// `keyctl`.
    Keyctl,
    /// `mknodat`.
    Mknod,
    /// `statfs`.
    Statfs,
    /// `fchmodat`.
    Chmod,
    /// `fchownat`.
    Chown,
    /// `unlinkat`.
    Unlink,
    /// `symlinkat`.
    Symlink,
    /// `capset`.
    Capset,
    /// `prlimit64`.
    Setrlimit,
    /// `getcwd`.
    Getcwd,
    /// `signalfd4` (with the mask change before it).
    Signalfd,
    /// `rt_sigprocmask`.
    Sigprocmask,
    /// `read` of a file.
    Read,
    /// `setns`.
    Setns,
    /// `seccomp(SECCOMP_SET_MODE_FILTER)`.
    Seccomp,
    /// `ioctl`.
    Ioctl,
    /// `setsid`.
    Setsid,
    /// `dup3`.
    Dup,
    /// `sched_setattr`.
    SchedSetattr,
    /// `ioprio_set`.
    IoprioSet,
    /// `personality`.
    Personality,
    /// Copying a directory's contents (`tmpcopyup`).
    Copy,
}

impl Op {
    /// The wire name (the system call's name where there is one).
    pub fn name(self) -> &'static str {
        Op::name_of(self as u8)
    }

    /// The wire name of the operation numbered `n`.
    fn name_of(n: u8) -> &'static str {
        // In the order of the variants (tests::names_follow_the_variants).
        const NAMES: Names = crate::names![
            "environment",
            "recv",
            "send",
            "parse",
            "validate",
            "unshare",
            "clone",
            "pipe2",
            "open",
            "mkdir",
            "mount",
            "mount_setattr",
            "umount2",
            "pivot_root",
            "chroot",
            "chdir",
            "sethostname",
            "setdomainname",
            "setgroups",
            "setgid",
            "setuid",
            "access",
            "write",
            "fcntl",
            "close_range",
            "execve",
            "prctl",
            "keyctl",
            "mknod",
            "statfs",
            "chmod",
            "chown",
            "unlink",
            "symlink",
            "capset",
            "setrlimit",
            "getcwd",
            "signalfd",
            "rt_sigprocmask",
            "read",
            "setns",
            "seccomp",
            "ioctl",
            "setsid",
            "dup3",
            "sched_setattr",
            "ioprio_set",
            "personality",
            "copy",
        ];
        const { assert!(NAMES.count() == Op::Copy as usize + 1) };
        NAMES.iter().nth(n.into()).unwrap_or_default()
    }
}

pub use crate::texts::{Field, Reason};

/// A location in the config: a [`Field`] template whose `[]` take the indices in order, packed
/// in one `u64`: the template in the low 16 bits, then each index in 24 bits (a config is at
/// most 1 MiB, so none of its indices, nor a byte offset in it, reaches 2^24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At(u64);

impl At {
    /// No config location.
    pub const NONE: At = At::field(Field::None);

    /// A field without indices.
    pub const fn field(template: Field) -> At {
        At::item2(template, 0, 0)
    }

    /// A field with one index.
    pub const fn item(template: Field, i: usize) -> At {
        At::item2(template, i, 0)
    }

    /// A field with two indices.
    pub const fn item2(template: Field, i: usize, j: usize) -> At {
        At(template as u64 | ((i as u64 & 0xff_ffff) << 16) | ((j as u64 & 0xff_ffff) << 40))
    }

    /// The template's text (`mounts[].options[]`), empty for none.
    pub fn template(self) -> &'static str {
        #[expect(clippy::cast_possible_truncation, reason = "the low 16 bits")]
        Field::text_of(self.0 as u16)
    }

    /// True for [`At::NONE`].
    pub fn is_none(self) -> bool {
        self.0 & 0xffff == Field::None as u64
    }

    /// The indices for the template's `[]`, in order.
    pub const fn indices(self) -> [u32; 2] {
        [((self.0 >> 16) & 0xff_ffff) as u32, (self.0 >> 40) as u32]
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut indices = self.indices().into_iter();
        let mut parts = self.template().split("[]");
        if let Some(first) = parts.next() {
            f.write_str(first)?;
        }
        for part in parts {
            write!(f, "[{}]{part}", indices.next().unwrap_or(0))?;
        }
        Ok(())
    }
}

/// A failure of the init, reported to the parent before the init exits.
///
/// Two words: the step, the operation, the errno and the reason packed in a non-zero `u64`
/// (step + 1 in bits 0–7, operation in 8–15, errno in 16–31, reason in 32–47), and the
/// location. Being a pair of scalars, a `Result<(), InitError>` comes back in two registers
/// and `?` passes it on without touching memory (a struct of five small fields is returned
/// through memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct InitError {
    head: NonZeroU64,
    /// The config field concerned.
    pub at: At,
}

const _: () = assert!(size_of::<Result<(), InitError>>() == 16);

impl InitError {
    fn new(step: Step, op: Op, errno: u16, at: At, why: Reason) -> Self {
        let head =
            (step as u64 + 1) | (op as u64) << 8 | u64::from(errno) << 16 | (why as u64) << 32;
        InitError {
            head: NonZeroU64::new(head).unwrap_or(NonZeroU64::MIN),
            at,
        }
    }

    /// A failed system call.
    pub fn sys(step: Step, op: Op, errno: Errno, at: At) -> Self {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "errno < 4096"
        )]
        InitError::new(step, op, errno.raw_os_error() as u16, at, Reason::None)
    }

    /// A failed check of the init's own.
    pub fn invalid(step: Step, at: At, why: Reason) -> Self {
        InitError::new(step, Op::Validate, 0, at, why)
    }

    /// Same error with a reason added.
    pub fn because(self, why: Reason) -> Self {
        InitError {
            head: NonZeroU64::new(self.head.get() & !(0xffff << 32) | (why as u64) << 32)
                .unwrap_or(self.head),
            at: self.at,
        }
    }

    /// Same error, reported by another operation (a check that stands for a system call).
    pub fn with_op(self, op: Op) -> Self {
        InitError {
            head: NonZeroU64::new(self.head.get() & !0xff00 | (op as u64) << 8)
                .unwrap_or(self.head),
            at: self.at,
        }
    }

    /// Same error, at another step (a helper shared by several steps).
    pub fn in_step(self, step: Step) -> Self {
        InitError {
            head: NonZeroU64::new(self.head.get() & !0xff | (step as u64 + 1)).unwrap_or(self.head),
            at: self.at,
        }
    }

    /// The step's wire name.
    pub fn step_name(self) -> &'static str {
        #[expect(clippy::cast_possible_truncation, reason = "8 bits")]
        Step::name_of((self.head.get() as u8).wrapping_sub(1))
    }

    /// The operation's wire name.
    pub fn op_name(self) -> &'static str {
        #[expect(clippy::cast_possible_truncation, reason = "8 bits")]
        Op::name_of((self.head.get() >> 8) as u8)
    }

    /// The errno of a failed system call; `None` for the init's own checks.
    pub fn errno(self) -> Option<Errno> {
        #[expect(clippy::cast_possible_truncation, reason = "16 bits")]
        match (self.head.get() >> 16) as u16 {
            0 => None,
            n => Some(Errno::from_raw_os_error(i32::from(n))),
        }
    }

    /// The reason's text; empty when there is none.
    pub fn why(self) -> &'static str {
        #[expect(clippy::cast_possible_truncation, reason = "16 bits")]
        Reason::text_of((self.head.get() >> 32) as u16)
    }

    /// True when the error is at `step`.
    pub fn is_at_step(self, step: Step) -> bool {
        self.head.get() & 0xff == step as u64 + 1
    }
}

/// Attach a step, an operation and a config location to a rustix result.
pub trait Context<T> {
    /// Map `Err(errno)` to an [`InitError`].
    fn ctx(self, step: Step, op: Op, at: At) -> Result<T, InitError>;
}

impl<T> Context<T> for Result<T, Errno> {
    fn ctx(self, step: Step, op: Op, at: At) -> Result<T, InitError> {
        self.map_err(|e| InitError::sys(step, op, e, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_renders_indices() {
        assert_eq!(
            At::item2(Field::MountsOptionsItem, 3, 1).to_string(),
            "mounts[3].options[1]"
        );
        assert_eq!(
            At::item(Field::ProcessArgsItem, 0).to_string(),
            "process.args[0]"
        );
        assert_eq!(At::field(Field::RootPath).to_string(), "root.path");
        assert_eq!(At::NONE.to_string(), "");
    }

    #[test]
    fn indices_keep_24_bits_each() {
        for (i, j) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (0xff_ffff, 0xff_ffff),
            (0xab_cdef, 0x12_3456),
        ] {
            let at = At::item2(Field::MountsOptionsItem, i, j);
            assert_eq!(at.indices(), [i as u32, j as u32]);
            assert_eq!(at.template(), "mounts[].options[]");
        }
        // A byte offset into the largest config the protocol takes.
        assert_eq!(
            At::item(Field::ByteItem, 1 << 20).to_string(),
            "byte[1048576]"
        );
    }

    #[test]
    fn names_follow_the_variants() {
        let steps = [
            (Step::Setup, "setup"),
            (Step::Receive, "receive"),
            (Step::Decode, "decode"),
            (Step::UserNamespace, "user-namespace"),
            (Step::Namespaces, "namespaces"),
            (Step::Keyring, "keyring"),
            (Step::PidNamespace, "pid-namespace"),
            (Step::Rootfs, "rootfs"),
            (Step::Mounts, "mounts"),
            (Step::Devices, "devices"),
            (Step::PivotRoot, "pivot-root"),
            (Step::Sysctl, "sysctl"),
            (Step::ReadonlyPaths, "readonly-paths"),
            (Step::MaskedPaths, "masked-paths"),
            (Step::Console, "console"),
            (Step::Hostname, "hostname"),
            (Step::Handshake, "handshake"),
            (Step::Lsm, "lsm"),
            (Step::Umask, "umask"),
            (Step::Cwd, "cwd"),
            (Step::User, "user"),
            (Step::OomScoreAdj, "oom-score-adj"),
            (Step::Prctl, "prctl"),
            (Step::Scheduler, "scheduler"),
            (Step::IoPriority, "io-priority"),
            (Step::Personality, "personality"),
            (Step::Rlimits, "rlimits"),
            (Step::Capabilities, "capabilities"),
            (Step::Seccomp, "seccomp"),
            (Step::Env, "env"),
            (Step::Lookup, "lookup"),
            (Step::ExecFifo, "exec-fifo"),
            (Step::Exec, "exec"),
            (Step::Pid1, "pid1"),
            (Step::Boot, "boot"),
        ];
        assert_eq!(steps.len(), Step::Boot as usize + 1);
        for (i, (step, name)) in steps.into_iter().enumerate() {
            assert_eq!((step as usize, step.name()), (i, name));
        }
        let ops = [
            (Op::Environment, "environment"),
            (Op::Recv, "recv"),
            (Op::Send, "send"),
            (Op::Parse, "parse"),
            (Op::Validate, "validate"),
            (Op::Unshare, "unshare"),
            (Op::Clone, "clone"),
            (Op::Pipe, "pipe2"),
            (Op::Open, "open"),
            (Op::Mkdir, "mkdir"),
            (Op::Mount, "mount"),
            (Op::MountSetattr, "mount_setattr"),
            (Op::Umount, "umount2"),
            (Op::PivotRoot, "pivot_root"),
            (Op::Chroot, "chroot"),
            (Op::Chdir, "chdir"),
            (Op::Sethostname, "sethostname"),
            (Op::Setdomainname, "setdomainname"),
            (Op::Setgroups, "setgroups"),
            (Op::Setgid, "setgid"),
            (Op::Setuid, "setuid"),
            (Op::Access, "access"),
            (Op::Write, "write"),
            (Op::Fcntl, "fcntl"),
            (Op::CloseRange, "close_range"),
            (Op::Execve, "execve"),
            (Op::Prctl, "prctl"),
            (Op::Keyctl, "keyctl"),
            (Op::Mknod, "mknod"),
            (Op::Statfs, "statfs"),
            (Op::Chmod, "chmod"),
            (Op::Chown, "chown"),
            (Op::Unlink, "unlink"),
            (Op::Symlink, "symlink"),
            (Op::Capset, "capset"),
            (Op::Setrlimit, "setrlimit"),
            (Op::Getcwd, "getcwd"),
            (Op::Signalfd, "signalfd"),
            (Op::Sigprocmask, "rt_sigprocmask"),
            (Op::Read, "read"),
            (Op::Setns, "setns"),
            (Op::Seccomp, "seccomp"),
            (Op::Ioctl, "ioctl"),
            (Op::Setsid, "setsid"),
            (Op::Dup, "dup3"),
            (Op::SchedSetattr, "sched_setattr"),
            (Op::IoprioSet, "ioprio_set"),
            (Op::Personality, "personality"),
            (Op::Copy, "copy"),
        ];
        assert_eq!(ops.len(), Op::Copy as usize + 1);
        for (i, (op, name)) in ops.into_iter().enumerate() {
            assert_eq!((op as usize, op.name()), (i, name));
        }
    }
}
