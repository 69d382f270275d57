//! `process.apparmorProfile` and `process.selinuxLabel`: the labels the process gets at
//! `execve`, written to this thread's exec attributes through a procfs of our own, never the
//! container's `/proc` (CVE-2019-16884, CVE-2023-28642: an image's `/proc` could swallow the
//! write and the process would run unconfined).

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::config::Process;
use crate::cpath::CPath;
use crate::error::{At, Field, InitError, Op, Reason, Step};
use crate::json::JStr;
use crate::text::Sink;

const STEP: Step = Step::Lsm;

/// Write the configured labels; a kernel without the LSM asked for is an error, never a
/// process that runs without its label.
/// Not inlined: in `entry::main`, its one caller, its code comes out 240 bytes larger.
#[inline(never)]
pub fn apply(p: &Process<'_>) -> Result<(), InitError> {
    if p.apparmor_profile.is_none() && p.selinux_label.is_none() {
        return Ok(());
    }
    let at = At::field(Field::ProcessApparmorProfile);
    let proc = crate::sysctl::private_procfs(STEP, at)?;
    if let Some(profile) = p.apparmor_profile {
        // AppArmor's own file (Linux 5.8+), in its "exec PROFILE" command form.
        let off = Reason::AppArmorIsNotEnabledOnThisKernel;
        write(
            &proc,
            c"thread-self/attr/apparmor/exec",
            b"exec ",
            profile,
            at,
            off,
        )?;
    }
    if let Some(label) = p.selinux_label {
        let at = At::field(Field::ProcessSelinuxLabel);
        let off = Reason::SELinuxIsNotEnabledOnThisKernel;
        // The session keyring, joined next, gets the process's label too (runc).
        write(&proc, c"thread-self/attr/keycreate", b"", label, at, off)?;
        write(&proc, c"thread-self/attr/exec", b"", label, at, off)?;
    }
    Ok(())
}

/// `prefix` + `value` into `file` under `proc`, in one `write`. A missing file (ENOENT) or a
/// refused write (EINVAL: another LSM owns the file) means the LSM is not enabled: `off`.
fn write(
    proc: &OwnedFd,
    file: &core::ffi::CStr,
    prefix: &[u8],
    value: JStr<'_>,
    at: At,
    off: Reason,
) -> Result<(), InitError> {
    let fail = |op, e| {
        let e = InitError::sys(STEP, op, e, at);
        if matches!(e.errno(), Some(Errno::NOENT | Errno::INVAL)) {
            e.because(off)
        } else {
            e
        }
    };
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_XDEV;
    let f = crate::resolve::open(
        proc.as_fd(),
        file.to_bytes(),
        OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::empty(),
        resolve,
    )
    .map_err(|e| fail(Op::Open, e))?;
    let mut text = CPath::empty();
    let label = CPath::decode(value, STEP, at)?;
    Sink::put(&mut text, prefix)
        .and_then(|()| Sink::put(&mut text, label.bytes()))
        .map_err(|_| InitError::invalid(STEP, at, Reason::LongerThanPATHMAX))?;
    rustix::io::write(&f, text.bytes())
        .map_err(|e| fail(Op::Write, e))
        .map(drop)
}
