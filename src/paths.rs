//! `linux.readonlyPaths` and `linux.maskedPaths` (runc `readonlyPath`, `maskPaths`), after the
//! pivot: the paths are the container's, and nothing of the host is reachable any more.
//!
//! A path that does not exist is skipped; every other failure is an error. Read-only paths are
//! bind-mounted on themselves and remounted read-only, keeping their nosuid/nodev/noexec. Masked
//! files get the container's `/dev/null` bound over them, read-only, after checking it really is
//! the null device (CVE-2025-31133); masked directories all share one empty read-only tmpfs.

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::MountFlags;

use crate::config::Config;
use crate::cpath::CPath;
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::Value;
use crate::process::Stdio;

fn flags(bits: u32) -> MountFlags {
    MountFlags::from_bits_retain(bits)
}

/// `statvfs` flags as `MS_*` flags: the ones a remount in a user namespace cannot drop when
/// the mount came from a more privileged namespace (the kernel's `MNT_LOCK_*`).
pub fn mount_flags(f: rustix::fs::StatVfsMountFlags) -> u32 {
    use rustix::fs::StatVfsMountFlags as F;
    let mut kept = 0;
    for (st_flag, ms_flag) in [
        (F::NOSUID, g::MS_NOSUID),
        (F::NODEV, g::MS_NODEV),
        (F::NOEXEC, g::MS_NOEXEC),
        (F::RDONLY, g::MS_RDONLY),
        (F::NOATIME, g::MS_NOATIME),
        (F::NODIRATIME, g::MS_NODIRATIME),
        (F::RELATIME, g::MS_RELATIME),
    ] {
        if f.contains(st_flag) {
            kept |= ms_flag;
        }
    }
    kept
}

/// The mount flags of `path` that a read-only remount must keep (a locked flag cannot be
/// dropped, and nosuid/nodev/noexec must not be lost by accident).
fn kept_flags(path: &CPath, step: Step, at: At) -> Result<u32, InitError> {
    let st = rustix::fs::statvfs(path.as_cstr()).ctx(step, Op::Statfs, at)?;
    Ok(mount_flags(st.f_flag) & !g::MS_RDONLY)
}

/// Make the mount at `path` read-only, keeping its other flags: `mount_setattr` changes only
/// what it is asked to; before Linux 5.12, a remount with the flags `statfs` reports.
fn make_read_only(path: &CPath, step: Step, at: At) -> Result<(), InitError> {
    let read_only = u64::from(g::MOUNT_ATTR_RDONLY);
    match crate::sys::mount_setattr(rustix::fs::CWD, path.as_cstr(), false, read_only, 0) {
        Err(Errno::NOSYS) => {}
        r => return r.ctx(step, Op::MountSetattr, at),
    }
    let kept = kept_flags(path, step, at)?;
    rustix::mount::mount(
        c"",
        path.as_cstr(),
        c"",
        flags(g::MS_BIND | g::MS_REMOUNT | g::MS_RDONLY | kept),
        None,
    )
    .ctx(step, Op::Mount, at)
}

fn each_path<'a>(list: Option<Value<'a>>) -> impl Iterator<Item = (usize, Value<'a>)> {
    list.into_iter().flat_map(|v| v.elements()).enumerate()
}

/// `linux.readonlyPaths`.
pub fn readonly(config: &Config<'_>) -> Result<(), InitError> {
    const STEP: Step = Step::ReadonlyPaths;
    for (i, v) in each_path(config.readonly_paths) {
        let at = At::item(Field::LinuxReadonlyPathsItem, i);
        let path = CPath::decode(v.as_str().unwrap_or(crate::json::JStr::EMPTY), STEP, at)?;
        match rustix::mount::mount(
            path.as_cstr(),
            path.as_cstr(),
            c"",
            flags(g::MS_BIND | g::MS_REC),
            None,
        ) {
            Ok(()) => {}
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(InitError::sys(STEP, Op::Mount, e, at)),
        }
        make_read_only(&path, STEP, at)?;
    }
    Ok(())
}

/// Character device 1:3.
pub fn is_null_device(st: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
        && st.st_rdev == rustix::fs::makedev(1, 3)
}

/// The container's `/dev/null`, checked to be the null device, whatever the image or
/// `mounts[]` put there (CVE-2025-31133).
fn open_dev_null(step: Step, flags: OFlags) -> Result<OwnedFd, InitError> {
    let null = rustix::fs::open(c"/dev/null", flags | OFlags::CLOEXEC, Mode::empty())
        .ctx(step, Op::Open, At::NONE)
        .map_err(|e| e.because(Reason::TheContainersDevNull))?;
    let st = rustix::fs::fstat(&null).ctx(step, Op::Open, At::NONE)?;
    if !is_null_device(&st) {
        return Err(InitError::invalid(
            step,
            At::NONE,
            Reason::TheContainersDevNullIsNot,
        ));
    }
    Ok(null)
}

/// After the pivot, stdio that is a null device (the host's `/dev/null`, which the parent
/// passed) is replaced by the container's own, checked to be the null device: the container
/// keeps no handle on the host's `/dev` (runc's `reOpenDevNull`). Returns the container's
/// `/dev/null` if it was opened: the masks reuse it.
pub fn reopen_dev_null(stdio: &Stdio) -> Result<Option<OwnedFd>, InitError> {
    const STEP: Step = Step::PivotRoot;
    let mut null = None;
    for (i, file) in stdio.0.iter().enumerate() {
        if !matches!(file, Ok((true, _))) {
            continue;
        }
        if null.is_none() {
            null = Some(open_dev_null(STEP, OFlags::RDWR | OFlags::NOFOLLOW)?);
        }
        if let Some(f) = &null {
            match i {
                0 => rustix::stdio::dup2_stdin(f),
                1 => rustix::stdio::dup2_stdout(f),
                _ => rustix::stdio::dup2_stderr(f),
            }
            .ctx(STEP, Op::Dup, At::NONE)?;
        }
    }
    Ok(null)
}

/// `linux.maskedPaths`. `null` is the container's `/dev/null` if the stdio step opened it.
pub fn masked(config: &Config<'_>, null: Option<OwnedFd>) -> Result<(), InitError> {
    const STEP: Step = Step::MaskedPaths;
    if config
        .masked_paths
        .is_none_or(|l| l.elements().next().is_none())
    {
        return Ok(());
    }
    // The mask for files: it must be the null device, whatever the image or mounts[] put there.
    let null = match null {
        Some(null) => null,
        None => open_dev_null(STEP, OFlags::PATH)?,
    };
    // Bound through the verified handle itself where /proc is mounted, else by the path just
    // verified (nothing of the container runs yet to swap it).
    let null_fd = CPath::proc_fd(null.as_fd());
    // The first mask of each kind; later ones bind it, read-only as it is (a bind of a
    // read-only mount is read-only): one empty tmpfs for every directory (runc), one read-only
    // null device for every file.
    let (mut shared_tmpfs, mut shared_null): (Option<CPath>, Option<CPath>) = (None, None);
    for (i, v) in each_path(config.masked_paths) {
        let at = At::item(Field::LinuxMaskedPathsItem, i);
        let path = CPath::decode(v.as_str().unwrap_or(crate::json::JStr::EMPTY), STEP, at)?;
        let tmpfs = || {
            rustix::mount::mount(
                c"tmpfs",
                path.as_cstr(),
                c"tmpfs",
                flags(g::MS_RDONLY),
                Some(c"size=0,nr_inodes=1"),
            )
        };
        let is_dir = if shared_tmpfs.is_none() {
            // No stat before the first directory: the tmpfs mount itself tells a missing
            // path (ENOENT) and a file (ENOTDIR).
            match tmpfs() {
                Ok(()) => {
                    shared_tmpfs = Some(path);
                    continue;
                }
                Err(Errno::NOENT) => continue,
                Err(Errno::NOTDIR) => false,
                Err(e) => return Err(InitError::sys(STEP, Op::Mount, e, at)),
            }
        } else {
            match rustix::fs::stat(path.as_cstr()) {
                Ok(st) => FileType::from_raw_mode(st.st_mode) == FileType::Directory,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(InitError::sys(STEP, Op::Open, e, at)),
            }
        };
        let bind = |source: &core::ffi::CStr| {
            rustix::mount::mount(source, path.as_cstr(), c"", flags(g::MS_BIND), None)
        };
        let (shared, first) = if is_dir {
            (&mut shared_tmpfs, None)
        } else {
            (&mut shared_null, Some(&null_fd))
        };
        // The path exists: a failed bind of the first mask means it is no longer reachable
        // (masked itself, since): this one becomes the first.
        if shared.as_ref().is_some_and(|s| bind(s.as_cstr()).is_ok()) {
            continue;
        }
        match first {
            None => tmpfs(),
            Some(null_fd) => match bind(null_fd.as_cstr()) {
                Err(Errno::NOENT) => bind(c"/dev/null"),
                r => r,
            },
        }
        .ctx(STEP, Op::Mount, at)?;
        if !is_dir {
            make_read_only(&path, STEP, at)?;
        }
        *shared = Some(path);
    }
    Ok(())
}
