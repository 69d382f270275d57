//! The default `/dev` every container gets (runc's `AllowedDevices` and `setupDevSymlinks`):
//! the six character devices, the `ptmx` link into the container's devpts, and the `fd`,
//! `stdin`, `stdout`, `stderr` links.
//!
//! Done relative to the rootfs handle before `pivot_root`, never through a path a container
//! could redirect (CVE-2026-41579). Skipped when a `mounts[]` entry bind-mounts `/dev` (runc
//! `needsSetupDev`). A name that already exists must already be the right device: a regular
//! file or a link in its place is an error, never trusted (CVE-2025-31133 class).

use core::ffi::CStr;

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, FileType, Mode};
use rustix::io::Errno;

use crate::config::Config;
use crate::cpath::CPath;
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::{JStr, Kind, Value};
use crate::mounts;

const STEP: Step = Step::Devices;

// Every path below is a `CStr`: rustix takes a `&str` or `&[u8]` path by copying it into a
// NUL-terminated buffer, code it links once for each function and path type (over 2 KiB here).

/// (field, path, major, minor): `/dev/null` 1:3, `/dev/zero` 1:5, `/dev/full` 1:7,
/// `/dev/random` 1:8, `/dev/urandom` 1:9, `/dev/tty` 5:0, all `0666 root:root`. The field's
/// text is the path (tests::default_paths_are_their_fields).
const DEVICES: [(Field, &CStr, u32, u32); 6] = [
    (Field::DevNull, c"/dev/null", 1, 3),
    (Field::DevZero, c"/dev/zero", 1, 5),
    (Field::DevFull, c"/dev/full", 1, 7),
    (Field::DevRandom, c"/dev/random", 1, 8),
    (Field::DevUrandom, c"/dev/urandom", 1, 9),
    (Field::DevTty, c"/dev/tty", 5, 0),
];

/// (link, target).
const LINKS: [(&CStr, &CStr); 5] = [
    (c"ptmx", c"pts/ptmx"),
    (c"fd", c"/proc/self/fd"),
    (c"stdin", c"/proc/self/fd/0"),
    (c"stdout", c"/proc/self/fd/1"),
    (c"stderr", c"/proc/self/fd/2"),
];

/// The part of `path` from byte `from` on (its last component, for a path split at a `/`).
fn tail(path: &CStr, from: usize) -> &CStr {
    path.to_bytes_with_nul()
        .get(from..)
        .and_then(|t| CStr::from_bytes_with_nul(t).ok())
        .unwrap_or(c"")
}

/// A device node: its type, number, permission bits and owner (none: as made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    kind: FileType,
    rdev: u64,
    mode: u32,
    uid: Option<u32>,
    gid: Option<u32>,
}

/// What a node [`make_node`] just made still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    /// Nothing: made as root with umask 0, it is `0666 root:root` already.
    Exact,
    /// Its mode set, and its owner.
    Fix,
    /// Its owner set, if the node names one (the mode was made with umask 0).
    Own,
}

/// Make `node` as `name` in `dir`. A name that exists must already be that node (its mode and
/// owner are then set). In a user namespace, where `mknod` is refused, the host's node at
/// `host` (still visible: before the pivot) is bound onto an empty file instead (runc).
fn make_node(
    dir: BorrowedFd<'_>,
    name: &CStr,
    host: &CStr,
    node: &Node,
    made: Made,
    at: At,
) -> Result<(), InitError> {
    let mode = Mode::from_raw_mode(node.mode);
    // `name` is then known to be that node, not a link, and nothing of the container runs yet
    // to swap it.
    let chmod = || rustix::fs::chmodat(dir, name, mode, AtFlags::empty()).ctx(STEP, Op::Chmod, at);
    match rustix::fs::mknodat(dir, name, node.kind, mode, node.rdev) {
        Ok(()) => match made {
            Made::Exact => return Ok(()),
            Made::Fix => chmod()?,
            Made::Own => {}
        },
        Err(Errno::PERM) if node.kind != FileType::Fifo => return bind_host(dir, name, host, at),
        Err(Errno::EXIST) => {
            let st =
                rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).ctx(STEP, Op::Open, at)?;
            if FileType::from_raw_mode(st.st_mode) != node.kind
                || (node.kind != FileType::Fifo && st.st_rdev != node.rdev)
            {
                return Err(InitError::sys(STEP, Op::Mknod, Errno::EXIST, at)
                    .because(Reason::ExistsInTheRootfsAndIs));
            }
            chmod()?;
        }
        Err(e) => return Err(InitError::sys(STEP, Op::Mknod, e, at)),
    }
    if node.uid.is_some() || node.gid.is_some() {
        rustix::fs::chownat(
            dir,
            name,
            node.uid.map(rustix::process::Uid::from_raw),
            node.gid.map(rustix::process::Gid::from_raw),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .ctx(STEP, Op::Chown, at)?;
    }
    Ok(())
}

/// Create the default devices and links under the rootfs's `/dev`, unless `mounts[]` bound a
/// `/dev` of its own (`dev_bound`).
pub fn apply(config: &Config<'_>, root: BorrowedFd<'_>, dev_bound: bool) -> Result<(), InitError> {
    if !config.namespaces.has(g::CLONE_NEWNS) || dev_bound {
        return Ok(());
    }
    // An O_PATH handle resolved inside the root: every *at call below stays in this directory.
    let dev = mounts::create_in_root(root, b"/dev", false).ctx(STEP, Op::Open, At::NONE)?;
    // Created as root (umask 0 since build_container began), a node is right as made: no
    // chmod and chown per node.
    let exact = rustix::process::geteuid().is_root() && rustix::process::getegid().is_root();
    for (field, host, major, minor) in DEVICES {
        let node = Node {
            kind: FileType::CharacterDevice,
            rdev: rustix::fs::makedev(major, minor),
            mode: 0o666,
            uid: Some(0),
            gid: Some(0),
        };
        let made = if exact { Made::Exact } else { Made::Fix };
        // The name in `/dev`: what follows `/dev/`.
        make_node(
            dev.as_fd(),
            tail(host, 5),
            host,
            &node,
            made,
            At::field(field),
        )?;
    }
    for (name, target) in LINKS {
        let mut unlinked = false;
        loop {
            match rustix::fs::symlinkat(target, &dev, name) {
                // ptmx must be the container's devpts one: whatever the image put there goes.
                Err(Errno::EXIST) if name == c"ptmx" && !unlinked => {
                    rustix::fs::unlinkat(&dev, c"ptmx", AtFlags::empty()).ctx(
                        STEP,
                        Op::Unlink,
                        At::NONE,
                    )?;
                    unlinked = true;
                }
                // The others, as the image or mounts[] made them.
                Ok(()) | Err(Errno::EXIST) => break,
                Err(e) => return Err(InitError::sys(STEP, Op::Symlink, e, At::NONE)),
            }
        }
    }
    for (i, d) in config.devices.iter().flat_map(|l| l.elements()).enumerate() {
        let d = device_entry(d, i).map_err(|e| e.in_step(STEP))?;
        config_device(root, &d, i)?;
    }
    Ok(())
}

/// One validated `linux.devices[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Device<'a> {
    path: JStr<'a>,
    node: Node,
}

const AT_DEVICE: Field = Field::LinuxDevicesItem;

/// Check `linux.devices[i]` (decode time and again when applied).
fn device_entry(v: Value<'_>, i: usize) -> Result<Device<'_>, InitError> {
    use crate::config::{string, uint32};
    let step = Step::Decode;
    if v.kind() != Kind::Object {
        return Err(InitError::invalid(
            step,
            At::item(AT_DEVICE, i),
            Reason::ExpectedAnObject,
        ));
    }
    let mut found = [None; 7];
    v.fields(
        crate::names!["path", "type", "major", "minor", "fileMode", "uid", "gid"],
        &mut found,
    );
    let [path, kind, major, minor, mode, uid, gid] = found;
    let at_path = At::item(Field::LinuxDevicesPath, i);
    let path = string(
        path.ok_or_else(|| InitError::invalid(step, at_path, Reason::Missing))?,
        at_path,
    )?;
    // Under /dev, with no component that could climb out of it (`..`) or hide a name (`.`).
    let inside_dev = path.raw().strip_prefix(b"/dev/").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .split(|&c| c == b'/')
                .all(|c| !c.is_empty() && c != b"." && c != b"..")
    });
    if !inside_dev {
        return Err(InitError::invalid(
            step,
            at_path,
            Reason::NotAPathUnderDevNo,
        ));
    }
    CPath::decode(path, step, at_path)?;
    let at_type = At::item(Field::LinuxDevicesType, i);
    let kind = string(
        kind.ok_or_else(|| InitError::invalid(step, at_type, Reason::Missing))?,
        at_type,
    )?;
    let kind = match () {
        () if kind.eq_str("c") || kind.eq_str("u") => FileType::CharacterDevice,
        () if kind.eq_str("b") => FileType::BlockDevice,
        () if kind.eq_str("p") => FileType::Fifo,
        () => return Err(InitError::invalid(step, at_type, Reason::NotCUBOrP)),
    };
    let number = |v: Option<Value<'_>>, template: Field| {
        let at = At::item(template, i);
        match v {
            Some(v) => uint32(v, at),
            None if kind == FileType::Fifo => Ok(0),
            None => Err(InitError::invalid(step, at, Reason::Missing)),
        }
    };
    let rdev = rustix::fs::makedev(
        number(major, Field::LinuxDevicesMajor)?,
        number(minor, Field::LinuxDevicesMinor)?,
    );
    let mode = match mode {
        None => 0o666,
        Some(m) => {
            let at = At::item(Field::LinuxDevicesFileMode, i);
            let m = uint32(m, at)?;
            // Permission bits only; Go's os.FileMode type bits are not file modes.
            if m > 0o7777 {
                return Err(InitError::invalid(step, at, Reason::Above0o7777));
            }
            m
        }
    };
    Ok(Device {
        path,
        node: Node {
            kind,
            rdev,
            mode,
            uid: uid
                .map(|u| uint32(u, At::item(Field::LinuxDevicesUid, i)))
                .transpose()?,
            gid: gid
                .map(|g| uint32(g, At::item(Field::LinuxDevicesGid, i)))
                .transpose()?,
        },
    })
}

/// Validate `linux.devices` (decode time).
pub fn validate(list: Option<Value<'_>>) -> Result<Option<Value<'_>>, InitError> {
    let Some(list) = list else {
        return Ok(None);
    };
    if list.kind() != Kind::Array {
        return Err(InitError::invalid(
            Step::Decode,
            At::field(Field::LinuxDevices),
            Reason::ExpectedAnArray,
        ));
    }
    for (i, d) in list.elements().enumerate() {
        device_entry(d, i)?;
    }
    Ok(Some(list))
}

/// Create `linux.devices[i]` inside the root (after the defaults, so an entry naming one of them
/// sets its mode and owner): `mknodat` in its directory, created as needed; a name that exists
/// must already be that device. In a user namespace, where `mknod` is refused, the host's node
/// at the same path is bind-mounted onto an empty file (runc).
fn config_device(root: BorrowedFd<'_>, d: &Device<'_>, i: usize) -> Result<(), InitError> {
    let at = At::item(Field::LinuxDevicesItem, i);
    let path = CPath::decode(d.path, STEP, at)?;
    let bytes = path.bytes();
    let slash = bytes.iter().rposition(|&c| c == b'/').unwrap_or(0);
    let parent =
        mounts::create_in_root(root, &bytes[..slash.max(1)], false).ctx(STEP, Op::Mkdir, at)?;
    // The umask is 0 since build_container began: `fileMode` is made as given.
    make_node(
        parent.as_fd(),
        tail(path.as_cstr(), slash + 1),
        path.as_cstr(),
        &d.node,
        Made::Own,
        at,
    )
}

/// In a user namespace, where `mknod` is refused: bind the host's node at `host` (still
/// visible: before the pivot) onto an empty file `name` in `parent` (runc).
fn bind_host(parent: BorrowedFd<'_>, name: &CStr, host: &CStr, at: At) -> Result<(), InitError> {
    use rustix::fs::OFlags;
    let flags = OFlags::CREATE | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC;
    let target = rustix::fs::openat(parent, name, flags, Mode::from_raw_mode(0o666)).ctx(
        STEP,
        Op::Open,
        at,
    )?;
    // An existing entry (O_CREAT without O_EXCL) must be a plain file or a device, never a link
    // (O_NOFOLLOW refused those) or anything else.
    let kind = FileType::from_raw_mode(rustix::fs::fstat(&target).ctx(STEP, Op::Open, at)?.st_mode);
    if kind != FileType::RegularFile
        && kind != FileType::CharacterDevice
        && kind != FileType::BlockDevice
    {
        return Err(InitError::invalid(
            STEP,
            at,
            Reason::ExistsInTheRootfsAsNeither,
        ));
    }
    rustix::mount::mount(
        host,
        CPath::proc_fd(target.as_fd()).as_cstr(),
        c"",
        rustix::mount::MountFlags::BIND,
        None,
    )
    .ctx(STEP, Op::Mount, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_paths_are_their_fields() {
        for (field, path, _, _) in DEVICES {
            assert_eq!(path.to_bytes(), field.text().as_bytes());
            assert_eq!(
                tail(path, 5).to_bytes(),
                field
                    .text()
                    .strip_prefix("/dev/")
                    .expect("under /dev")
                    .as_bytes()
            );
        }
    }
}
