//! `linux.sysctl`: validated as runc validates it (each key must belong to a namespace the
//! container owns), and written through a private procfs instance made with `fsopen`/`fsmount`,
//! never through the container's `/proc`, which a config or image could cover (CVE-2025-52881).

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};

use crate::config::{Namespaces, string};
use crate::cpath::CPath;
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::{JStr, Value};
use crate::names::Names;
use crate::text::Sink;

/// IPC sysctls (runc `validator.go`): they need the container's own IPC namespace.
const IPC_KEYS: Names = crate::names![
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// `key` in dotted form (runc: a key whose first separator is `/` has `.` and `/` swapped).
fn dotted(key: JStr<'_>, out: &mut [u8; 256]) -> Option<usize> {
    let n = key.decode_into(out)?;
    let bytes = out.get_mut(..n)?;
    if bytes.iter().find(|&&c| c == b'.' || c == b'/') == Some(&b'/') {
        for c in bytes.iter_mut() {
            *c = match *c {
                b'/' => b'.',
                b'.' => b'/',
                other => other,
            };
        }
    }
    Some(n)
}

/// Check one key against the namespaces the container has; `Ok(())` when allowed.
fn check(key: &[u8], ns: Namespaces) -> Result<(), crate::error::Reason> {
    let has = |flag| ns.has(flag);
    // A `/` inside a component stands for a `.` of the file name (`eth0/100` is `eth0.100`):
    // a component of only `/` would name `.` or `..`.
    if key
        .split(|&c| c == b'.')
        .any(|part| part.iter().all(|&c| c == b'/') || part.contains(&0))
    {
        return Err(Reason::NotASysctlName);
    }
    if IPC_KEYS.iter().any(|k| k.as_bytes() == key) || key.starts_with(b"fs.mqueue.") {
        return if has(g::CLONE_NEWIPC) {
            Ok(())
        } else {
            Err(Reason::NeedsANewIpcNamespace)
        };
    }
    if key.starts_with(b"net.") {
        return if has(g::CLONE_NEWNET) {
            Ok(())
        } else {
            Err(Reason::NeedsANewNetworkNamespace)
        };
    }
    if key == b"kernel.domainname" {
        return if has(g::CLONE_NEWUTS) {
            Ok(())
        } else {
            Err(Reason::NeedsANewUtsNamespace)
        };
    }
    if key == b"kernel.hostname" {
        return Err(Reason::SetTheHostnameFieldInstead);
    }
    if key.starts_with(b"user.") {
        return if has(g::CLONE_NEWUSER) {
            Ok(())
        } else {
            Err(Reason::NeedsANewUserNamespace)
        };
    }
    Err(Reason::NotInANamespaceOfThe)
}

/// Validate `linux.sysctl` (decode time).
pub fn validate(map: Option<Value<'_>>, ns: Namespaces) -> Result<Option<Value<'_>>, InitError> {
    let Some(map) = map else {
        return Ok(None);
    };
    let at = At::field(Field::LinuxSysctl);
    if map.kind() != crate::json::Kind::Object {
        return Err(InitError::invalid(
            Step::Decode,
            at,
            Reason::ExpectedAnObject,
        ));
    }
    for (i, (key, value)) in map.members().enumerate() {
        let at = At::item(Field::LinuxSysctlItem, i);
        string(value, at)?;
        let mut buf = [0u8; 256];
        let n = dotted(key, &mut buf)
            .ok_or_else(|| InitError::invalid(Step::Decode, at, Reason::KeyLongerThan255Bytes))?;
        check(buf.get(..n).unwrap_or_default(), ns)
            .map_err(|why| InitError::invalid(Step::Decode, at, why))?;
    }
    Ok(Some(map))
}

/// A procfs of our own, not reachable from any path: what the container mounted on /proc
/// (or over its files) cannot redirect a write (CVE-2019-16884, CVE-2025-52881).
pub fn private_procfs(step: Step, at: At) -> Result<OwnedFd, InitError> {
    let fs =
        rustix::mount::fsopen(c"proc", FsOpenFlags::FSOPEN_CLOEXEC).ctx(step, Op::Mount, at)?;
    rustix::mount::fsconfig_create(&fs).ctx(step, Op::Mount, at)?;
    let attrs = MountAttrFlags::MOUNT_ATTR_NOSUID
        | MountAttrFlags::MOUNT_ATTR_NODEV
        | MountAttrFlags::MOUNT_ATTR_NOEXEC;
    rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs).ctx(step, Op::Mount, at)
}

/// Write every `linux.sysctl` entry (in the container's namespaces, after the pivot).
pub fn apply(sysctl: Option<Value<'_>>) -> Result<(), InitError> {
    let Some(map) = sysctl.filter(|m| m.members().next().is_some()) else {
        return Ok(());
    };
    let proc = private_procfs(Step::Sysctl, At::field(Field::LinuxSysctl))?;
    for (i, (key, value)) in map.members().enumerate() {
        let at = At::item(Field::LinuxSysctlItem, i);
        let mut buf = [0u8; 256];
        let n = dotted(key, &mut buf).unwrap_or(0);
        let mut path = CPath::empty();
        let _ = Sink::put(&mut path, b"sys/");
        for &c in buf.get(..n).unwrap_or_default() {
            let c = match c {
                b'.' => b'/',
                b'/' => b'.',
                other => other,
            };
            let _ = Sink::put(&mut path, &[c]);
        }
        // Beneath the private procfs, on it alone, no magic links.
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_XDEV | ResolveFlags::NO_MAGICLINKS;
        let file = crate::resolve::open(
            proc.as_fd(),
            path.bytes(),
            OFlags::WRONLY | OFlags::TRUNC | OFlags::CLOEXEC,
            Mode::empty(),
            resolve,
        )
        .ctx(Step::Sysctl, Op::Open, at)?;
        let value = CPath::decode(value.as_str().unwrap_or(JStr::EMPTY), Step::Sysctl, at)?;
        rustix::io::write(&file, value.bytes()).ctx(Step::Sysctl, Op::Write, at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_their_namespace() {
        let all =
            Namespaces(g::CLONE_NEWIPC | g::CLONE_NEWNET | g::CLONE_NEWUTS | g::CLONE_NEWUSER);
        for key in [
            "net.ipv4.ip_forward",
            "kernel.shmmax",
            "fs.mqueue.msg_max",
            "kernel.domainname",
            "user.max_user_namespaces",
        ] {
            assert_eq!(check(key.as_bytes(), all), Ok(()), "{key}");
            assert!(check(key.as_bytes(), Namespaces(0)).is_err(), "{key}");
        }
        assert_eq!(
            check(b"kernel.hostname", all),
            Err(Reason::SetTheHostnameFieldInstead)
        );
        assert_eq!(
            check(b"vm.swappiness", all),
            Err(Reason::NotInANamespaceOfThe)
        );
        assert_eq!(check(b"net..x", all), Err(Reason::NotASysctlName));
        assert_eq!(check(b"net.//.kernel", all), Err(Reason::NotASysctlName));
        assert_eq!(check(b"net.ipv4.conf.eth0/1.rp_filter", all), Ok(()));
    }
}
