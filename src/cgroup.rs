//! `mounts[]` of type `cgroup` and `cgroup2`, as runc mounts them (`mountCgroupV1`,
//! `mountCgroupV2`): the container sees its own cgroups, read-only if the options say so.
//!
//! On a unified host (cgroup2 at `/sys/fs/cgroup`), and for `cgroup2` anywhere, a cgroup2
//! mount; where that is not allowed (a user namespace without a cgroup namespace of its own:
//! EPERM, EBUSY) a bind of the host's cgroup2 hierarchy instead. On a v1 or hybrid host,
//! `cgroup` is a tmpfs with one directory per hierarchy of `/proc/self/cgroup` that the host
//! mounts under `/sys/fs/cgroup` (`cpu`, `memory`, `systemd` for `name=systemd`, `unified` for
//! the v2 one), each a bind of the init's own cgroup in that hierarchy: what a cgroup namespace
//! created now would show as its root, with or without one (runc mounts the hierarchy itself in
//! a cgroup namespace). A co-mounted hierarchy also gets a link per controller
//! (`cpu -> cpu,cpuacct`), as runc's.

use core::ffi::CStr;

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{CWD, Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use crate::cpath::CPath;
use crate::error::{At, Context, InitError, Op, Reason, Step};
use crate::mounts::{create_in_root, mount_at, open_in_root};

const STEP: Step = Step::Mounts;

/// Mount the container's cgroups on `destination` inside `root`.
#[inline(never)]
pub fn mount(
    root: BorrowedFd<'_>,
    destination: &CPath,
    v2: bool,
    flags: u32,
    at: At,
) -> Result<(), InitError> {
    let open = || open_in_root(root, destination.bytes()).ctx(STEP, Op::Open, at);
    let target = create_in_root(root, destination.bytes(), false).ctx(STEP, Op::Open, at)?;
    let unified = rustix::fs::statfs(c"/sys/fs/cgroup")
        .ctx(STEP, Op::Statfs, at)?
        .f_type
        == i64::from(g::CGROUP2_SUPER_MAGIC);
    if v2 || unified {
        return match mount_at(c"cgroup2", target.as_fd(), c"cgroup2", flags, None) {
            Err(Errno::PERM | Errno::BUSY) => {
                let host = if unified {
                    c"/sys/fs/cgroup"
                } else {
                    c"/sys/fs/cgroup/unified"
                };
                bind(CWD, host, &target, at)?;
                remount(&open()?, flags, at)
            }
            r => r.ctx(STEP, Op::Mount, at),
        };
    }
    // Writable while the hierarchies' directories are made in it.
    let writable = flags & !g::MS_RDONLY;
    mount_at(
        c"tmpfs",
        target.as_fd(),
        c"tmpfs",
        writable,
        Some(c"mode=755"),
    )
    .ctx(STEP, Op::Mount, at)?;
    let tmpfs = open()?;
    let hierarchies = open_dir(CWD, c"/sys/fs/cgroup").ctx(STEP, Op::Open, at)?;
    let mut buf = [0u8; 1024];
    let file = rustix::fs::open(
        c"/proc/self/cgroup",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx(STEP, Op::Open, at)?;
    let n = rustix::io::read(&file, &mut buf).ctx(STEP, Op::Read, at)?;
    if n >= buf.len() {
        return Err(InitError::invalid(
            STEP,
            at,
            Reason::ProcSelfCgroupLongerThan1KiB,
        ));
    }
    // Lines "ID:CONTROLLERS:PATH\n", cut in place into NUL-terminated pieces; CONTROLLERS is
    // empty for the v2 hierarchy.
    let mut rest = buf.get_mut(..=n).unwrap_or_default();
    while let Some(end) = rest.iter().position(|&c| c == b'\n') {
        let (line, tail) = rest.split_at_mut(end + 1);
        rest = tail.get_mut(1..).unwrap_or_default();
        let first = line.iter().position(|&c| c == b':');
        let second = first.and_then(|f| {
            line.get(f + 1..)?
                .iter()
                .position(|&c| c == b':')
                .map(|s| f + 1 + s)
        });
        let (Some(first), Some(second)) = (first, second) else {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::MalformedProcSelfCgroup,
            ));
        };
        for i in [second, end] {
            if let Some(c) = line.get_mut(i) {
                *c = 0;
            }
        }
        let piece = |from: usize| {
            CStr::from_bytes_until_nul(line.get(from..).unwrap_or_default()).unwrap_or(c"")
        };
        let controllers = piece(first + 1);
        // The mount point's name: the controllers, `name=X` → X, the v2 one `unified`.
        let name = match controllers.to_bytes() {
            b"" => c"unified",
            c if c.starts_with(b"name=") => piece(first + 6),
            _ => controllers,
        };
        // A hierarchy the host does not mount under /sys/fs/cgroup has nothing to bind from:
        // left out, as runc (which binds what the host's mount table shows) leaves it.
        let hierarchy = match open_dir(hierarchies.as_fd(), name) {
            Err(Errno::NOENT) => continue,
            r => r.ctx(STEP, Op::Open, at)?,
        };
        rustix::fs::mkdirat(&tmpfs, name, Mode::from_raw_mode(0o755)).ctx(STEP, Op::Mkdir, at)?;
        // The init's own cgroup in the host's hierarchy (PATH is absolute: made relative),
        // then the new mount, looked up in the tmpfs, remounted with the options.
        let own = piece(second + 2);
        bind(
            hierarchy.as_fd(),
            if own.is_empty() { c"." } else { own },
            &open_dir(tmpfs.as_fd(), name).ctx(STEP, Op::Open, at)?,
            at,
        )?;
        remount(
            &open_dir(tmpfs.as_fd(), name).ctx(STEP, Op::Open, at)?,
            flags,
            at,
        )?;
        // A co-mounted hierarchy (`cpu,cpuacct`) is reachable by each controller's name too:
        // `cpu -> cpu,cpuacct` (runc; a name that exists already is left as it is).
        let merged = name.to_bytes();
        if merged.contains(&b',') {
            for controller in merged.split(|&c| c == b',') {
                let mut link = [0u8; 32];
                let linked = match link.get_mut(..controller.len()) {
                    Some(slot) if controller.len() < 32 => {
                        slot.copy_from_slice(controller);
                        let link = CStr::from_bytes_until_nul(&link).unwrap_or(c"");
                        rustix::fs::symlinkat(name, &tmpfs, link)
                    }
                    _ => Err(Errno::NAMETOOLONG),
                };
                match linked {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(InitError::sys(STEP, Op::Symlink, e, at)),
                }
            }
        }
    }
    if flags & g::MS_RDONLY != 0 {
        mount_at(c"", tmpfs.as_fd(), c"", flags | g::MS_REMOUNT, None)
            .ctx(STEP, Op::Mount, at)
            .map_err(|e| e.because(Reason::ReadOnlyRemount))?;
    }
    Ok(())
}

fn open_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(dir, name, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
}

/// A recursive bind of `path` in `dir` on `target`, fd to fd.
fn bind(dir: BorrowedFd<'_>, path: &CStr, target: &OwnedFd, at: At) -> Result<(), InitError> {
    let tree = rustix::mount::open_tree(
        dir,
        path,
        OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_RECURSIVE,
    )
    .ctx(STEP, Op::Open, at)?;
    rustix::mount::move_mount(
        &tree,
        c"",
        target,
        c"",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .ctx(STEP, Op::Mount, at)
}

/// The bind mount `top` remounted with `flags` (read-only, nosuid, ...).
fn remount(top: &OwnedFd, flags: u32, at: At) -> Result<(), InitError> {
    mount_at(
        c"",
        top.as_fd(),
        c"",
        flags | g::MS_BIND | g::MS_REMOUNT,
        None,
    )
    .ctx(STEP, Op::Mount, at)
    .map_err(|e| e.because(Reason::BindRemount))
}
