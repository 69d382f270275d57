//! `openat2` with its `RESOLVE_*` guarantees, and the same resolution done in userspace where
//! the kernel (before Linux 5.6) or a seccomp profile (ENOSYS) refuses `openat2`.
//!
//! The fallback walks the path one component at a time from `dir`, each opened `O_PATH |
//! O_NOFOLLOW` relative to the previous one, and keeps the handles of the directories it went
//! through: `..` goes back to the previous handle (never through the file system, so a rename
//! racing with the walk cannot take it out of `dir`), and stops at `dir` (`RESOLVE_IN_ROOT`) or
//! fails (`RESOLVE_BENEATH`: EXDEV). A symlink's text is read and walked the same way, from
//! `dir` when absolute (`RESOLVE_IN_ROOT`), at most 40 of them (ELOOP); `RESOLVE_NO_SYMLINKS`
//! refuses any (ELOOP), `RESOLVE_NO_XDEV` any other file system (EXDEV). Magic links are only
//! ever read as text, so `RESOLVE_NO_MAGICLINKS` holds by construction.

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, Ordering};

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::cpath::PATH_MAX;

/// Set once `openat2` answered ENOSYS: the walk is used from then on.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Directories a walk may hold open at once.
const MAX_DEPTH: usize = 64;

/// `openat2(dir, path, flags, mode, how)`, falling back to the walk on ENOSYS.
pub fn open(
    dir: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    mode: Mode,
    how: ResolveFlags,
) -> Result<OwnedFd, Errno> {
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        loop {
            match rustix::fs::openat2(dir, path, flags, mode, how) {
                // EAGAIN: a concurrent rename somewhere in the kernel; the lookup is retried.
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(Errno::NOSYS) => break,
                r => return r,
            }
        }
        NO_OPENAT2.store(true, Ordering::Relaxed);
    }
    walk(dir, path, flags, mode, how)
}

fn walk(
    dir: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    mode: Mode,
    how: ResolveFlags,
) -> Result<OwnedFd, Errno> {
    let cwd;
    let dir = if rustix::fd::AsRawFd::as_raw_fd(&dir)
        == rustix::fd::AsRawFd::as_raw_fd(&rustix::fs::CWD)
    {
        cwd = rustix::fs::openat(dir, c".", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
        cwd.as_fd()
    } else {
        dir
    };
    let dev = rustix::fs::fstat(dir)?.st_dev;
    let mut held: [Option<OwnedFd>; MAX_DEPTH] = [const { None }; MAX_DEPTH];
    let mut depth = 0;
    let mut rest = [0u8; PATH_MAX];
    let mut len = put(&mut rest, 0, path)?;
    let mut links = 0;
    loop {
        // The next component, and what follows it.
        let text = rest.get(..len).unwrap_or_default();
        let start = text.iter().position(|&c| c != b'/').unwrap_or(text.len());
        let end = text
            .get(start..)
            .and_then(|t| t.iter().position(|&c| c == b'/'))
            .map_or(text.len(), |e| start + e);
        let name = text.get(start..end).unwrap_or_default();
        let last = text.get(end..).is_none_or(|t| t.iter().all(|&c| c == b'/'));
        if name == b".." {
            if depth == 0 && how.contains(ResolveFlags::BENEATH) {
                return Err(Errno::XDEV);
            }
            if depth > 0 {
                depth -= 1;
                if let Some(slot) = held.get_mut(depth) {
                    *slot = None;
                }
            }
        }
        let current = match depth {
            0 => dir,
            d => held
                .get(d - 1)
                .and_then(Option::as_ref)
                .ok_or(Errno::INVAL)?
                .as_fd(),
        };
        if name.is_empty() || (last && matches!(name, b"." | b"..")) {
            // Nothing left: the path named a directory we hold (or `dir` itself).
            return rustix::fs::openat(current, c".", flags, mode);
        }
        let mut found = None;
        let mut st = None;
        let mut cname = [0u8; 256];
        let cname = name_cstr(&mut cname, name)?;
        if !matches!(name, b"." | b"..") {
            match rustix::fs::openat(
                current,
                cname,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => {
                    let s = rustix::fs::fstat(&fd)?;
                    if how.contains(ResolveFlags::NO_XDEV) && s.st_dev != dev {
                        return Err(Errno::XDEV);
                    }
                    st = Some(s);
                    found = Some(fd);
                }
                // The last component may be created (O_CREAT): open it for real below.
                Err(Errno::NOENT) if last && flags.contains(OFlags::CREATE) => {}
                Err(e) => return Err(e),
            }
        }
        let kind = st.map(|s| FileType::from_raw_mode(s.st_mode));
        if kind == Some(FileType::Symlink) && !(last && flags.contains(OFlags::NOFOLLOW)) {
            if how.contains(ResolveFlags::NO_SYMLINKS) {
                return Err(Errno::LOOP);
            }
            links += 1;
            if links > 40 {
                return Err(Errno::LOOP);
            }
            let mut target = [0u8; PATH_MAX];
            let n = rustix::fs::readlinkat_raw(current, cname, &mut target[..])?;
            let target = target.get(..n).unwrap_or_default();
            if target.starts_with(b"/") {
                if how.contains(ResolveFlags::BENEATH) {
                    return Err(Errno::XDEV);
                }
                depth = 0;
                held = [const { None }; MAX_DEPTH];
            }
            // The link's text takes its place in what is left to walk.
            let mut next = [0u8; PATH_MAX];
            let at = put(&mut next, 0, target)?;
            let at = put(&mut next, at, b"/")?;
            len = put(&mut next, at, rest.get(end..len).unwrap_or_default())?;
            rest = next;
            continue;
        }
        if last {
            // Opened for real relative to its directory, without following anything; for an
            // existing file it must still be the one the walk looked at.
            let file = rustix::fs::openat(current, cname, flags | OFlags::NOFOLLOW, mode)?;
            let now = rustix::fs::fstat(&file)?;
            if st.is_some_and(|s| (s.st_dev, s.st_ino) != (now.st_dev, now.st_ino)) {
                return Err(Errno::AGAIN);
            }
            return Ok(file);
        }
        if let Some(fd) = found {
            if kind != Some(FileType::Directory) {
                return Err(Errno::NOTDIR);
            }
            *held.get_mut(depth).ok_or(Errno::NAMETOOLONG)? = Some(fd);
            depth += 1;
        }
        let mut next = [0u8; PATH_MAX];
        len = put(&mut next, 0, rest.get(end..len).unwrap_or_default())?;
        rest = next;
    }
}

/// Copy `bytes` into `buf` at `at`; returns where they end (ENAMETOOLONG past `PATH_MAX`).
pub fn put(buf: &mut [u8; PATH_MAX], at: usize, bytes: &[u8]) -> Result<usize, Errno> {
    let end = at + bytes.len();
    buf.get_mut(at..end)
        .ok_or(Errno::NAMETOOLONG)?
        .copy_from_slice(bytes);
    Ok(end)
}

fn name_cstr<'b>(buf: &'b mut [u8; 256], name: &[u8]) -> Result<&'b CStr, Errno> {
    buf.get_mut(..name.len())
        .ok_or(Errno::NAMETOOLONG)?
        .copy_from_slice(name);
    CStr::from_bytes_until_nul(buf).map_err(|_| Errno::NAMETOOLONG)
}
