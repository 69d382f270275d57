//! The root filesystem: keep mount events away from the host, make the rootfs a mount point,
//! apply `mounts[]`, then `pivot_root` into it and detach the old root.
//!
//! Follows runc's `prepareRoot` and `pivotRoot` (`libcontainer/rootfs_linux.go`).

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::mount::{MountFlags, MoveMountFlags, OpenTreeFlags, UnmountFlags};

use crate::config::Config;
use crate::cpath::CPath;
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::mounts;

/// Prepare the rootfs and return an `O_PATH` handle on it.
pub fn prepare(config: &Config<'_>) -> Result<OwnedFd, InitError> {
    const STEP: Step = Step::Rootfs;
    let at = At::field(Field::RootPath);
    let path = CPath::decode(config.root_path, STEP, at)?;
    let open = |p: &CPath| {
        rustix::fs::open(
            p.as_cstr(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx(STEP, Op::Open, at)
    };
    if !config.namespaces.has(g::CLONE_NEWNS) {
        // No mount namespace: nothing may be mounted (decode enforces it); chroot later.
        return open(&path);
    }
    // Everything we mount from here on must not propagate to the host: make our copy of the
    // mount table a slave (or what linux.rootfsPropagation asks for) before touching it.
    let propagation = match config.rootfs_propagation {
        0 => g::MS_SLAVE | g::MS_REC,
        p => p,
    };
    rustix::mount::mount(
        c"",
        c"/",
        c"",
        MountFlags::from_bits_retain(propagation),
        None,
    )
    .ctx(STEP, Op::Mount, At::field(Field::LinuxRootfsPropagation))?;
    // pivot_root needs the new root to be a mount point: a recursive bind of it onto itself makes
    // one, carrying the mounts below it, as runc does. Cloned with open_tree and attached with
    // move_mount, so the handle is the new mount's root even when root.path is "/" (a path
    // lookup would still find the mount underneath).
    let flags = OpenTreeFlags::OPEN_TREE_CLONE
        | OpenTreeFlags::OPEN_TREE_CLOEXEC
        | OpenTreeFlags::AT_RECURSIVE;
    let root =
        rustix::mount::open_tree(rustix::fs::CWD, path.as_cstr(), flags).ctx(STEP, Op::Open, at)?;
    rustix::mount::move_mount(
        &root,
        c"",
        rustix::fs::CWD,
        path.as_cstr(),
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .ctx(STEP, Op::Mount, at)?;
    if config.root_readonly {
        // Read-only for the whole tree that came with the rootfs, before mounts[] adds the
        // container's own (stricter than runc, which leaves sub-mounts of the rootfs writable).
        crate::sys::mount_setattr(root.as_fd(), c"", true, u64::from(g::MOUNT_ATTR_RDONLY), 0)
            .ctx(STEP, Op::MountSetattr, At::field(Field::RootReadonly))?;
    }
    Ok(root)
}

/// selinuxfs's `f_type` (`include/uapi/linux/magic.h`).
const SELINUX_MAGIC: u32 = 0xf97c_ff8c;

/// Apply `mounts[]` inside the rootfs; true when one of them bound `/dev`.
pub fn mount_all(
    config: &Config<'_>,
    root: &OwnedFd,
    idmapped: &mut crate::idmap::Trees,
) -> Result<bool, InitError> {
    match config.mounts {
        Some(list) => {
            if config.mount_label.is_some() {
                // runc leaves the label out without SELinux; ocinit says so instead.
                let selinux = rustix::fs::statfs(c"/sys/fs/selinux")
                    .is_ok_and(|s| s.f_type == i64::from(SELINUX_MAGIC));
                if !selinux {
                    return Err(InitError::invalid(
                        Step::Mounts,
                        At::field(Field::LinuxMountLabel),
                        Reason::SELinuxIsNotEnabledOnThisKernel,
                    ));
                }
            }
            mounts::apply(root.as_fd(), list, config.mount_label, idmapped)
        }
        None => Ok(false),
    }
}

/// Make the rootfs `/`: `pivot_root(".", ".")`, then detach the old root stacked under it.
/// Without a mount namespace, `chroot` (nothing was mounted).
/// Not inlined: in `entry::build_container` its code comes out 60 bytes larger.
#[inline(never)]
pub fn pivot(config: &Config<'_>, root: OwnedFd) -> Result<(), InitError> {
    const STEP: Step = Step::PivotRoot;
    let at = At::field(Field::RootPath);
    if !config.namespaces.has(g::CLONE_NEWNS) {
        rustix::process::fchdir(&root).ctx(STEP, Op::Chdir, at)?;
        rustix::process::chroot(c".").ctx(STEP, Op::Chroot, at)?;
        return rustix::process::chdir(c"/").ctx(STEP, Op::Chdir, At::NONE);
    }
    // The old root's mounts are slaves already when prepare() applied a recursive slave or
    // private propagation; otherwise (shared, or not recursive) they are made rslave first, so
    // the unmount cannot propagate to the host (runc). rslave, not rprivate: host unmounts of
    // busy mounts are not blocked by our copies.
    let propagation = config.rootfs_propagation;
    let old_root =
        if propagation == 0 || (propagation & g::MS_REC != 0 && propagation & g::MS_SHARED == 0) {
            None
        } else {
            Some(
                rustix::fs::open(
                    c"/",
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .ctx(STEP, Op::Open, At::NONE)?,
            )
        };
    rustix::process::fchdir(&root).ctx(STEP, Op::Chdir, at)?;
    // pivot_root(".", ".") stacks the old root on the new one: no put_old directory needed,
    // so a read-only rootfs works and nothing is left inside it.
    rustix::process::pivot_root(c".", c".").ctx(STEP, Op::PivotRoot, at)?;
    let Some(old_root) = old_root else {
        // "." is the new root, and unmounting it finds the old root stacked on it (the
        // sequence pivot_root(2) gives); cwd and root are then the new root.
        return rustix::mount::unmount(c".", UnmountFlags::DETACH).ctx(STEP, Op::Umount, At::NONE);
    };
    rustix::process::fchdir(&old_root).ctx(STEP, Op::Chdir, At::NONE)?;
    rustix::mount::mount(
        c"",
        c".",
        c"",
        MountFlags::from_bits_retain(g::MS_SLAVE | g::MS_REC),
        None,
    )
    .ctx(STEP, Op::Mount, At::NONE)?;
    rustix::mount::unmount(c".", UnmountFlags::DETACH).ctx(STEP, Op::Umount, At::NONE)?;
    rustix::process::chdir(c"/").ctx(STEP, Op::Chdir, At::NONE)
}
