//! `tmpcopyup` (runc's extension): a tmpfs mounted over a directory of the image starts with a
//! copy of what the directory held. The directory is opened before the tmpfs covers it, and
//! copied through that handle into the new mount: no temporary directory on the host, no move.
//!
//! As runc copies: directories, regular files, symlinks and device, FIFO and socket nodes,
//! each with its mode and owner (hard links become copies; times and extended attributes are
//! not kept). Nothing is followed: every name is read with `AT_SYMLINK_NOFOLLOW`/`O_NOFOLLOW`
//! relative to its directory's handle, so a link in the image is copied as a link.

use core::ffi::CStr;
use core::mem::MaybeUninit;

use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, RawDir, Uid};
use rustix::io::Errno;

use crate::cpath::PATH_MAX;

/// Deepest directory copied; deeper is an error (each level holds two fds and a buffer).
pub const MAX_DEPTH: u32 = 32;

/// Copy the entries of directory `from` (opened for reading) into directory `to`.
pub fn copy_tree(from: BorrowedFd<'_>, to: BorrowedFd<'_>, depth: u32) -> Result<(), Errno> {
    if depth > MAX_DEPTH {
        return Err(Errno::LOOP);
    }
    let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
    let mut entries = RawDir::new(from, &mut buf);
    while let Some(entry) = entries.next() {
        let entry = entry?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let st = rustix::fs::statat(from, name, AtFlags::SYMLINK_NOFOLLOW)?;
        let kind = FileType::from_raw_mode(st.st_mode);
        let mode = Mode::from_raw_mode(st.st_mode & 0o7777);
        let nofollow = OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match kind {
            FileType::Directory => {
                rustix::fs::mkdirat(to, name, mode)?;
                let dir = OFlags::DIRECTORY | nofollow;
                let sub_from = rustix::fs::openat(from, name, dir, Mode::empty())?;
                let sub_to = rustix::fs::openat(to, name, OFlags::PATH | dir, Mode::empty())?;
                copy_tree(sub_from.as_fd(), sub_to.as_fd(), depth + 1)?;
            }
            FileType::RegularFile => {
                // Non-blocking, and checked to be the file looked at: never a FIFO or a device
                // swapped in since.
                let read = OFlags::RDONLY | OFlags::NONBLOCK | nofollow;
                let source = rustix::fs::openat(from, name, read, Mode::empty())?;
                let opened = rustix::fs::fstat(&source)?;
                if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino) {
                    return Err(Errno::STALE);
                }
                let create = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | nofollow;
                let copy = rustix::fs::openat(to, name, create, mode)?;
                while rustix::fs::sendfile(copy.as_fd(), source.as_fd(), None, 1 << 30)? > 0 {}
            }
            FileType::Symlink => {
                // A link's target is shorter than PATH_MAX: the buffer keeps a NUL after it.
                let mut target = [0u8; PATH_MAX];
                rustix::fs::readlinkat_raw(from, name, &mut target[..PATH_MAX - 1])?;
                let target = CStr::from_bytes_until_nul(&target).map_err(|_| Errno::NAMETOOLONG)?;
                rustix::fs::symlinkat(target, to, name)?;
            }
            _ => rustix::fs::mknodat(to, name, kind, mode, st.st_rdev)?,
        }
        let owner = (
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
        );
        rustix::fs::chownat(to, name, owner.0, owner.1, AtFlags::SYMLINK_NOFOLLOW)?;
        if kind != FileType::Symlink {
            // After the chown, which clears set-id bits.
            rustix::fs::chmodat(to, name, mode, AtFlags::empty())?;
        }
    }
    Ok(())
}
