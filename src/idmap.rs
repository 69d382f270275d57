//! Idmapped mounts: a `mounts[i]` bind with `idmap`/`ridmap` in its options, or mappings of
//! its own (`uidMappings`, `gidMappings`). Its source is cloned (`open_tree`) and given a user
//! namespace's id mapping (`mount_setattr(MOUNT_ATTR_IDMAP)`) before the init joins or makes
//! any namespace: the kernel wants CAP_SYS_ADMIN over the source's filesystem, which the init
//! gives up on entering a user namespace. The `mounts` step then attaches each tree in place of
//! the bind (`move_mount`). runc does the same from its host-side helper.
//!
//! The id mapping comes from a user namespace with the mount's own maps, or without them the
//! container's: the one it joins by path, or one made with `linux.uidMappings`/`gidMappings`.

use core::ffi::CStr;
use linux_raw_sys::general as g;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::OpenTreeFlags;
use rustix::pipe::PipeFlags;

use crate::config::{Config, member};
use crate::cpath::CPath;
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::{JStr, Value};
use crate::mounts::Mount;
use crate::protocol::Line;
use crate::sys::{self, Forked};
use crate::text::{Full, Part};

const STEP: Step = Step::Mounts;

/// Most idmapped mounts in one config.
pub const MAX: usize = 16;

/// The prepared trees, each with its index in `mounts[]`.
#[derive(Debug)]
pub struct Trees([Option<(usize, OwnedFd)>; MAX]);

impl Default for Trees {
    fn default() -> Trees {
        Trees([const { None }; MAX])
    }
}

impl Trees {
    /// The tree prepared for `mounts[index]`, if it is idmapped.
    pub fn take(&mut self, index: usize) -> Option<OwnedFd> {
        let slot = self
            .0
            .iter_mut()
            .find(|t| t.as_ref().is_some_and(|(i, _)| *i == index))?;
        slot.take().map(|(_, tree)| tree)
    }
}

/// Clone and id-map the source of every idmapped mount, as the init still is on the host.
pub fn prepare(config: &Config<'_>) -> Result<Trees, InitError> {
    let mut trees = Trees::default();
    let mut container_ns: Option<Namespaces> = None;
    let mut home: Option<Home> = None;
    // Without a user namespace in the container, nothing is locked there either (runc).
    let locked =
        config.namespaces.has(g::CLONE_NEWUSER) || config.joins.set().has(g::CLONE_NEWUSER);
    for (i, v) in config.mounts.iter().flat_map(|l| l.elements()).enumerate() {
        let m = Mount::decode(v, i)?;
        let Some(recursive) = m.options.idmap else {
            continue;
        };
        let slot = trees.0.iter_mut().find(|t| t.is_none()).ok_or_else(|| {
            InitError::invalid(STEP, m.at(), Reason::MoreIdmappedMountsThanOcinitsLimit16)
        })?;
        let home = match home {
            Some(ref h) => h,
            None => home.insert(Home::here(m.at())?),
        };
        let own_ns;
        let ns: &Namespaces = match m.id_mappings {
            Some((uid, gid)) => {
                own_ns = mapped_namespaces(Some(uid), Some(gid), m.at())?;
                &own_ns
            }
            None => match container_ns {
                Some(ref ns) => ns,
                None => container_ns.insert(container_namespaces(config, m.at())?),
            },
        };
        let at_source = At::item(Field::MountsSource, i);
        let source = CPath::decode(m.source.unwrap_or(JStr::EMPTY), STEP, at_source)?;
        // The tree follows rbind; the mapping follows ridmap (runc).
        let rbind = m.options.flags & g::MS_REC != 0;
        let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
        if rbind {
            flags |= OpenTreeFlags::AT_RECURSIVE;
        }
        // In a container with a user namespace, cloned from the copy of our mounts that the
        // mapping's mount namespace holds: there, as in the container's, every mount is
        // locked (its flags, and what is mounted on it) and a shared one is a slave (runc
        // clones from the container's own namespace). A relative source is the bundle's, the
        // cwd there as here. Otherwise cloned here, and made a slave.
        let clone = || match rustix::mount::open_tree(rustix::fs::CWD, source.as_cstr(), flags) {
            // Without rbind, mounts below the source would be revealed: locked, they cannot
            // be left out (as a user namespace's bind in runc).
            Err(e @ Errno::INVAL) if locked && !rbind => {
                Err(InitError::sys(STEP, Op::Open, e, at_source)
                    .because(Reason::MountsOnItNeedRbind))
            }
            r => r.ctx(STEP, Op::Open, at_source),
        };
        let tree = if locked {
            let tree = visit(&ns.mount, &ns.cwd, m.at()).and_then(|()| clone());
            visit(&home.mount, &home.cwd, m.at())?;
            tree?
        } else {
            let tree = clone()?;
            sys::mount_setattr_propagation(tree.as_fd(), g::MS_SLAVE).ctx(
                STEP,
                Op::MountSetattr,
                m.at(),
            )?;
            tree
        };
        sys::mount_setattr_idmap(tree.as_fd(), recursive, ns.user.as_fd()).ctx(
            STEP,
            Op::MountSetattr,
            m.at(),
        )?;
        *slot = Some((i, tree));
    }
    Ok(trees)
}

/// A mount namespace and a working directory in it.
struct Home {
    mount: OwnedFd,
    cwd: OwnedFd,
}

impl Home {
    /// Ours, to come back to after a visit to another (`setns` moves the cwd to its root).
    fn here(at: At) -> Result<Home, InitError> {
        // Namespaces are opened for reading (`setns` refuses an `O_PATH` handle).
        let open = |path: &CStr, flags| {
            rustix::fs::open(path, flags | OFlags::CLOEXEC, Mode::empty()).ctx(STEP, Op::Open, at)
        };
        // The helpers are found as `/proc/PID`: that must be this PID namespace's procfs.
        let mut link = [0u8; 16];
        let n = rustix::fs::readlinkat_raw(rustix::fs::CWD, c"/proc/self", &mut link[..]).ctx(
            STEP,
            Op::Open,
            at,
        )?;
        let mut pid = Line::<16>::new();
        let _ = pid.push(&[Part::I(
            rustix::process::getpid().as_raw_nonzero().get().into(),
        )]);
        if link.get(..n) != Some(pid.as_bytes()) {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::ProcIsNotThisPidNamespaces,
            ));
        }
        Ok(Home {
            mount: open(c"/proc/self/ns/mnt", OFlags::RDONLY)?,
            cwd: open(c".", OFlags::PATH)?,
        })
    }
}

/// Enter mount namespace `mount` with `cwd` as the working directory.
fn visit(mount: &OwnedFd, cwd: &OwnedFd, at: At) -> Result<(), InitError> {
    use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
    move_into_link_name_space(mount.as_fd(), Some(LinkNameSpaceType::Mount)).ctx(
        STEP,
        Op::Setns,
        at,
    )?;
    rustix::process::fchdir(cwd).ctx(STEP, Op::Chdir, at)
}

/// A user namespace for an id mapping, and a mount namespace it owns, copied from ours, with
/// our working directory there.
struct Namespaces {
    user: OwnedFd,
    mount: OwnedFd,
    cwd: OwnedFd,
}

/// The container's, for a mount without maps of its own: the user namespace joined by path,
/// or one with the container's maps (the container's own does not exist yet).
fn container_namespaces(config: &Config<'_>, at: At) -> Result<Namespaces, InitError> {
    if let Some((_, path, k)) = config.joins.iter().find(|(t, ..)| *t == g::CLONE_NEWUSER) {
        let at_path = At::item(Field::LinuxNamespacesPath, k);
        let path = CPath::decode(path, STEP, at_path)?;
        let user = rustix::fs::open(
            path.as_cstr(),
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx(STEP, Op::Open, at_path)?;
        // The copy of our mounts comes from a user namespace of our own, without maps.
        let own = mapped_namespaces(None, None, at)?;
        return Ok(Namespaces { user, ..own });
    }
    if config.uid_mappings.is_none() {
        return Err(InitError::invalid(
            STEP,
            at,
            Reason::IdmapWithoutMappingsTakesTheContainers,
        ));
    }
    mapped_namespaces(config.uid_mappings, config.gid_mappings, at)
}

/// New user and mount namespaces, the user one with these maps: a child made in them waits
/// on a pipe while the init, privileged on the host, writes its maps and opens both; then it
/// exits.
fn mapped_namespaces(
    uid: Option<Value<'_>>,
    gid: Option<Value<'_>>,
    at: At,
) -> Result<Namespaces, InitError> {
    let (wait, release) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC).ctx(STEP, Op::Pipe, at)?;
    let pid = match sys::fork_into_user_namespace().ctx(STEP, Op::Clone, at)? {
        Forked::Child => {
            drop(release);
            // EOF: the parent has what it needs, or is gone.
            let _ = rustix::io::read(&wait, &mut [0u8; 1]);
            sys::exit_group(0)
        }
        Forked::Parent(pid) => pid,
    };
    let open = |file, flags| {
        let path = proc_pid_file(pid, file);
        rustix::fs::open(path.as_cstr(), flags | OFlags::CLOEXEC, Mode::empty()).ctx(
            STEP,
            Op::Open,
            at,
        )
    };
    let ns = write_maps(pid, uid, gid, at).and_then(|()| {
        Ok(Namespaces {
            user: open("ns/user", OFlags::RDONLY)?,
            mount: open("ns/mnt", OFlags::RDONLY)?,
            cwd: open("cwd", OFlags::PATH)?,
        })
    });
    drop(release);
    let _ = rustix::process::waitpid(
        rustix::process::Pid::from_raw(pid),
        rustix::process::WaitOptions::empty(),
    );
    ns
}

fn write_maps(
    pid: i32,
    uid: Option<Value<'_>>,
    gid: Option<Value<'_>>,
    at: At,
) -> Result<(), InitError> {
    for (file, list) in [("uid_map", uid), ("gid_map", gid)] {
        if list.is_none() {
            continue;
        }
        let mut text = Line::<4096>::new();
        push_id_map(&mut text, list, "\n")
            .map_err(|_| InitError::invalid(STEP, at, Reason::IdMapsLongerThan4KiB))?;
        let path = proc_pid_file(pid, file);
        let map = rustix::fs::open(
            path.as_cstr(),
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx(STEP, Op::Open, at)?;
        // One write: the kernel takes a map whole, once.
        rustix::io::write(&map, text.as_bytes()).ctx(STEP, Op::Write, at)?;
    }
    Ok(())
}

/// `/proc/PID/FILE`.
fn proc_pid_file(pid: i32, file: &str) -> CPath {
    let mut path = CPath::empty();
    // At most 6 + 11 + 1 + 7 bytes: always fits.
    let _ = crate::text::write(
        &mut path,
        &[
            Part::S("/proc/"),
            Part::I(pid.into()),
            Part::S("/"),
            Part::S(file),
        ],
    );
    path
}

/// `linux.uidMappings`-shaped `list` (validated at decode) as id map lines
/// `containerID hostID size`, each ended by `newline` (`\n`, or `\\n` inside a JSON string).
pub fn push_id_map(
    out: &mut Line<4096>,
    list: Option<Value<'_>>,
    newline: &str,
) -> Result<(), Full> {
    for m in list.iter().flat_map(|l| l.elements()) {
        for (key, end) in [("containerID", " "), ("hostID", " "), ("size", newline)] {
            // Validated at decode: a 32-bit number.
            let n = member(m, key).and_then(|v| v.as_integer()).unwrap_or(0);
            out.push(&[Part::I(i64::try_from(n).unwrap_or(0)), Part::S(end)])?;
        }
    }
    Ok(())
}
