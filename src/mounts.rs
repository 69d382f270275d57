//! `mounts[]`: option words to flags (runc's table), and the mounts themselves, each target
//! resolved inside the rootfs and mounted through its fd.
//!
//! Runs before `pivot_root`, in the container's mount namespace, while the host's filesystem is
//! still visible (bind sources are host paths; relative ones are relative to the bundle, the
//! init's working directory). It never mounts on a path string that resolves outside the
//! rootfs: targets are opened with `openat2(RESOLVE_IN_ROOT)` and mounted via `/proc/self/fd/N`.

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, MoveMountFlags};

use crate::config::{member, string};
use crate::cpath::{CPath, PATH_MAX};
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::{JStr, Kind, Value};
use crate::names::{Names, Table};

const STEP: Step = Step::Mounts;

/// Largest filesystem data string: the kernel copies one page of it.
pub const MAX_DATA: usize = 4096;
/// Most propagation words in one mount's options.
pub const MAX_PROPAGATION: usize = 4;

/// Words that set or clear a mount flag (runc `parseMountOptions`).
const FLAG_WORDS: Table<(bool, u32), 33> = crate::table![
    ("ro", false, g::MS_RDONLY),
    ("rw", true, g::MS_RDONLY),
    ("nosuid", false, g::MS_NOSUID),
    ("suid", true, g::MS_NOSUID),
    ("nodev", false, g::MS_NODEV),
    ("dev", true, g::MS_NODEV),
    ("noexec", false, g::MS_NOEXEC),
    ("exec", true, g::MS_NOEXEC),
    ("sync", false, g::MS_SYNCHRONOUS),
    ("async", true, g::MS_SYNCHRONOUS),
    ("dirsync", false, g::MS_DIRSYNC),
    ("remount", false, g::MS_REMOUNT),
    ("mand", false, g::MS_MANDLOCK),
    ("nomand", true, g::MS_MANDLOCK),
    ("noatime", false, g::MS_NOATIME),
    ("atime", true, g::MS_NOATIME),
    ("nodiratime", false, g::MS_NODIRATIME),
    ("diratime", true, g::MS_NODIRATIME),
    ("relatime", false, g::MS_RELATIME),
    ("norelatime", true, g::MS_RELATIME),
    ("strictatime", false, g::MS_STRICTATIME),
    ("nostrictatime", true, g::MS_STRICTATIME),
    ("iversion", false, g::MS_I_VERSION),
    ("noiversion", true, g::MS_I_VERSION),
    ("lazytime", false, g::MS_LAZYTIME),
    ("nolazytime", true, g::MS_LAZYTIME),
    ("silent", false, g::MS_SILENT),
    ("loud", true, g::MS_SILENT),
    ("nosymfollow", false, g::MS_NOSYMFOLLOW),
    ("symfollow", true, g::MS_NOSYMFOLLOW),
    ("bind", false, g::MS_BIND),
    ("rbind", false, g::MS_BIND | g::MS_REC),
    ("defaults", false, 0),
];

/// Propagation words, applied one by one after the mount.
const PROPAGATION_WORDS: Table<u32, 8> = crate::table![
    ("private", g::MS_PRIVATE),
    ("rprivate", g::MS_PRIVATE | g::MS_REC),
    ("slave", g::MS_SLAVE),
    ("rslave", g::MS_SLAVE | g::MS_REC),
    ("shared", g::MS_SHARED),
    ("rshared", g::MS_SHARED | g::MS_REC),
    ("unbindable", g::MS_UNBINDABLE),
    ("runbindable", g::MS_UNBINDABLE | g::MS_REC),
];

/// Recursive attribute words for `mount_setattr(AT_RECURSIVE)`: (word, clear?, attribute).
const RECURSIVE_WORDS: Table<(bool, u32), 18> = crate::table![
    ("rro", false, g::MOUNT_ATTR_RDONLY),
    ("rrw", true, g::MOUNT_ATTR_RDONLY),
    ("rnosuid", false, g::MOUNT_ATTR_NOSUID),
    ("rsuid", true, g::MOUNT_ATTR_NOSUID),
    ("rnodev", false, g::MOUNT_ATTR_NODEV),
    ("rdev", true, g::MOUNT_ATTR_NODEV),
    ("rnoexec", false, g::MOUNT_ATTR_NOEXEC),
    ("rexec", true, g::MOUNT_ATTR_NOEXEC),
    ("rnodiratime", false, g::MOUNT_ATTR_NODIRATIME),
    ("rdiratime", true, g::MOUNT_ATTR_NODIRATIME),
    ("rrelatime", false, g::MOUNT_ATTR_RELATIME),
    ("rnorelatime", true, g::MOUNT_ATTR_RELATIME),
    ("rnoatime", false, g::MOUNT_ATTR_NOATIME),
    ("ratime", true, g::MOUNT_ATTR_NOATIME),
    ("rstrictatime", false, g::MOUNT_ATTR_STRICTATIME),
    ("rnostrictatime", true, g::MOUNT_ATTR_STRICTATIME),
    ("rnosymfollow", false, g::MOUNT_ATTR_NOSYMFOLLOW),
    ("rsymfollow", true, g::MOUNT_ATTR_NOSYMFOLLOW),
];

/// `mounts[i].options` parsed: flags, the flags explicitly cleared, propagation, recursive
/// attributes, and every other word joined with `,` as filesystem data.
#[derive(Debug)]
pub struct Options {
    /// `MS_*` flags to set.
    pub flags: u32,
    /// `MS_*` flags the options cleared explicitly (`rw`, `dev`, ...).
    pub cleared: u32,
    /// Propagation changes, in order.
    pub propagation: [u32; MAX_PROPAGATION],
    /// Number of entries used in `propagation`.
    pub propagation_len: usize,
    /// `MOUNT_ATTR_*` to set recursively.
    pub attr_set: u64,
    /// `MOUNT_ATTR_*` to clear recursively.
    pub attr_clr: u64,
    /// The data has a `mode=` (a tmpfs then needs no mode of the directory under it).
    pub has_mode: bool,
    /// `idmap` (false) or `ridmap` (true, every mount of the tree): an idmapped mount.
    pub idmap: Option<bool>,
    /// `tmpcopyup`: a tmpfs starts with a copy of the directory it covers.
    pub copy_up: bool,
    data: [u8; MAX_DATA],
    data_len: usize,
}

impl Options {
    /// Parse `options` (a validated array of strings) of `mounts[index]`.
    pub fn parse(options: Option<Value<'_>>, index: usize) -> Result<Options, InitError> {
        let mut o = Options {
            flags: 0,
            cleared: 0,
            propagation: [0; MAX_PROPAGATION],
            propagation_len: 0,
            attr_set: 0,
            attr_clr: 0,
            has_mode: false,
            idmap: None,
            copy_up: false,
            data: [0; MAX_DATA],
            data_len: 0,
        };
        for (j, word) in options.iter().flat_map(|v| v.elements()).enumerate() {
            let at = At::item2(Field::MountsOptionsItem, index, j);
            let word = string(word, at)?;
            o.word(word, at)?;
        }
        Ok(o)
    }

    fn word(&mut self, word: JStr<'_>, at: At) -> Result<(), InitError> {
        // The kernel would get an empty item in the data ("mode=755,"): say so instead.
        if word.is_empty() {
            return Err(InitError::invalid(STEP, at, Reason::EmptyOption));
        }
        if let Some((_, &(clear, flag))) = FLAG_WORDS.find(|w, &(_, f)| f != 0 && word.eq_str(w)) {
            // A later word about the same flag wins.
            if clear {
                self.flags &= !flag;
                self.cleared |= flag;
            } else {
                self.flags |= flag;
                self.cleared &= !flag;
            }
            return Ok(());
        }
        if let Some((_, &flag)) = PROPAGATION_WORDS.find(|w, _| word.eq_str(w)) {
            let slot = self
                .propagation
                .get_mut(self.propagation_len)
                .ok_or_else(|| InitError::invalid(STEP, at, Reason::TooManyPropagationOptions))?;
            *slot = flag;
            self.propagation_len += 1;
            return Ok(());
        }
        if let Some((w, &(clear, attr))) = RECURSIVE_WORDS.find(|w, _| word.eq_str(w)) {
            let attr = u64::from(attr);
            // Any atime word replaces the whole atime field (runc 1.4.1).
            let atime_field = if w.contains("atime") {
                u64::from(g::MOUNT_ATTR__ATIME)
            } else {
                0
            };
            if clear {
                self.attr_clr |= attr;
                self.attr_set &= !attr;
            } else {
                self.attr_set |= attr;
                self.attr_clr = (self.attr_clr & !attr) | atime_field;
            }
            return Ok(());
        }
        if word.eq_str("idmap") || word.eq_str("ridmap") {
            self.idmap = Some(self.idmap == Some(true) || word.eq_str("ridmap"));
            return Ok(());
        }
        if word.eq_str("tmpcopyup") {
            self.copy_up = true;
            return Ok(());
        }
        // Anything else is filesystem data, as the kernel expects it ("mode=755", "size=64k").
        if self.data_len > 0 {
            self.push_data(b",", at)?;
        }
        let start = self.data_len;
        let room = self.data.get_mut(start..MAX_DATA - 1).unwrap_or_default();
        let n = word
            .decode_into(room)
            .ok_or_else(|| InitError::invalid(STEP, at, Reason::FilesystemDataLongerThanOnePage))?;
        if self
            .data
            .get(start..start + n)
            .is_some_and(|d| d.contains(&0) || d.contains(&b','))
        {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::NULByteOrInsideOneOption,
            ));
        }
        self.has_mode |= self
            .data
            .get(start..)
            .is_some_and(|d| d.starts_with(b"mode="));
        self.data_len += n;
        Ok(())
    }

    fn push_data(&mut self, bytes: &[u8], at: At) -> Result<(), InitError> {
        let end = self.data_len + bytes.len();
        if end >= MAX_DATA {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::FilesystemDataLongerThanOnePage,
            ));
        }
        self.data
            .get_mut(self.data_len..end)
            .unwrap_or_default()
            .copy_from_slice(bytes);
        self.data_len = end;
        Ok(())
    }

    /// The data string, if any.
    pub fn data(&self) -> Option<&core::ffi::CStr> {
        if self.data_len == 0 {
            return None;
        }
        core::ffi::CStr::from_bytes_until_nul(self.data.get(..=self.data_len)?).ok()
    }

    /// Add `context="LABEL"` (SELinux's mount option, as runc formats it) to the data.
    pub fn push_label(&mut self, label: JStr<'_>, at: At) -> Result<(), InitError> {
        if self.data_len > 0 {
            self.push_data(b",", at)?;
        }
        self.push_data(b"context=\"", at)?;
        self.push_data(label.raw(), at)?;
        self.push_data(b"\"", at)
    }

    /// True for `bind`/`rbind`.
    pub fn is_bind(&self) -> bool {
        self.flags & g::MS_BIND != 0
    }
}

/// One entry of `mounts[]`, validated.
#[derive(Debug)]
pub struct Mount<'a> {
    /// Index in `mounts[]`.
    pub index: usize,
    /// `destination`: absolute, inside the rootfs.
    pub destination: JStr<'a>,
    /// `type`, if given.
    pub fs_type: Option<JStr<'a>>,
    /// `source`, if given.
    pub source: Option<JStr<'a>>,
    /// `options`, parsed.
    pub options: Options,
    /// Its own `uidMappings` and `gidMappings` (validated), for an idmapped mount.
    pub id_mappings: Option<(Value<'a>, Value<'a>)>,
}

impl<'a> Mount<'a> {
    /// Validate and parse `mounts[index]`.
    pub fn decode(m: Value<'a>, index: usize) -> Result<Mount<'a>, InitError> {
        let step = Step::Decode;
        let text = |key, at: Field| {
            member(m, key)
                .map(|v| string(v, At::item(at, index)))
                .transpose()
        };
        let at_dest = At::item(Field::MountsDestination, index);
        let destination = text("destination", Field::MountsDestination)?
            .ok_or_else(|| InitError::invalid(step, at_dest, Reason::Missing))?;
        if !destination.raw().starts_with(b"/") {
            return Err(InitError::invalid(step, at_dest, Reason::NotAnAbsolutePath));
        }
        let fs_type = text("type", Field::MountsType)?;
        let source = text("source", Field::MountsSource)?;
        if member(m, "options").is_some_and(|o| o.kind() != Kind::Array) {
            return Err(InitError::invalid(
                step,
                At::item(Field::MountsOptions, index),
                Reason::ExpectedAnArray,
            ));
        }
        let mut options =
            Options::parse(member(m, "options"), index).map_err(|e| e.in_step(step))?;
        if fs_type.is_some_and(|t| t.eq_str("bind")) {
            options.flags |= g::MS_BIND;
        }
        if options.is_bind() {
            if options.data_len > 0 {
                return Err(InitError::invalid(
                    step,
                    At::item(Field::MountsOptions, index),
                    Reason::BindMountsCannotTakeFilesystemData,
                ));
            }
            if source.is_none_or(JStr::is_empty) {
                return Err(InitError::invalid(
                    step,
                    At::item(Field::MountsSource, index),
                    Reason::MissingForABindMount,
                ));
            }
        } else if fs_type.is_none_or(JStr::is_empty) {
            return Err(InitError::invalid(
                step,
                At::item(Field::MountsType, index),
                Reason::MissingAndNotABindMount,
            ));
        }
        let uid = id_mapping_list(m, "uidMappings", index)?;
        let gid = id_mapping_list(m, "gidMappings", index)?;
        let id_mappings = match (uid, gid) {
            (Some(u), Some(g)) => Some((u, g)),
            (None, None) => None,
            _ => {
                return Err(InitError::invalid(
                    step,
                    At::item(Field::MountsItem, index),
                    Reason::AnIdmappedMountNeedsBothUidMappings,
                ));
            }
        };
        if id_mappings.is_some() && options.idmap.is_none() {
            // Mappings of its own make a mount idmapped (runc), not recursively.
            options.idmap = Some(false);
        }
        if options.copy_up && fs_type.is_none_or(|t| !t.eq_str("tmpfs")) {
            return Err(InitError::invalid(
                step,
                At::item(Field::MountsItem, index),
                Reason::TmpcopyupIsForTmpfsMounts,
            ));
        }
        if options.idmap.is_some() && !options.is_bind() {
            return Err(InitError::invalid(
                step,
                At::item(Field::MountsItem, index),
                Reason::IdmappedMountsMustBeBindMounts,
            ));
        }
        Ok(Mount {
            index,
            destination,
            fs_type,
            source,
            options,
            id_mappings,
        })
    }

    /// `mounts[index]`.
    pub fn at(&self) -> At {
        At::item(Field::MountsItem, self.index)
    }

    fn is_read_only_tmpfs(&self) -> bool {
        self.options.flags & g::MS_RDONLY != 0 && self.fs_type.is_some_and(|t| t.eq_str("tmpfs"))
    }
}

/// `mounts[index].uidMappings` or `.gidMappings` (`key`), if not empty, validated as
/// `linux.uidMappings` is.
fn id_mapping_list<'a>(
    m: Value<'a>,
    key: &str,
    index: usize,
) -> Result<Option<Value<'a>>, InitError> {
    let Some(list) = member(m, key) else {
        return Ok(None);
    };
    let (field, fields) = if key == "uidMappings" {
        (
            Field::MountsUidMappings,
            [
                Field::MountsUidMappingsItem,
                Field::MountsUidMappingsContainerID,
                Field::MountsUidMappingsHostID,
                Field::MountsUidMappingsSize,
            ],
        )
    } else {
        (
            Field::MountsGidMappings,
            [
                Field::MountsGidMappingsItem,
                Field::MountsGidMappingsContainerID,
                Field::MountsGidMappingsHostID,
                Field::MountsGidMappingsSize,
            ],
        )
    };
    crate::config::id_map_entries(list, At::item(field, index), &fields, Some(index))?;
    Ok(list.elements().next().is_some().then_some(list))
}

/// `openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: symlinks resolve
/// inside `root` and `..` cannot climb out of it.
pub fn open_in_root(root: BorrowedFd<'_>, path: &[u8]) -> Result<OwnedFd, Errno> {
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    crate::resolve::open(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        resolve,
    )
}

/// Open `path` inside `root`, creating what is missing: directories, and for `file` an empty
/// regular file as the last component (a bind target for a file source). A dangling symlink on
/// the way is followed inside the root (runc's `MkdirAllInRoot`: the image's `/etc/resolv.conf
/// -> ../run/resolv.conf` gets its target created), never out of it (CVE-2024-45310): the
/// rewritten path is resolved with `RESOLVE_IN_ROOT` again, at most 40 times (ELOOP).
pub fn create_in_root(root: BorrowedFd<'_>, path: &[u8], file: bool) -> Result<OwnedFd, Errno> {
    create(root, path, file, false)
}

/// [`create_in_root`] for a path the caller's own [`open_in_root`] found missing: not looked
/// up again.
pub fn create_missing(root: BorrowedFd<'_>, path: &[u8], file: bool) -> Result<OwnedFd, Errno> {
    create(root, path, file, true)
}

fn create(root: BorrowedFd<'_>, path: &[u8], file: bool, missing: bool) -> Result<OwnedFd, Errno> {
    let mut current = [0u8; PATH_MAX];
    let mut len = crate::resolve::put(&mut current, 0, path)?;
    let mut missing = missing;
    for _ in 0..40 {
        let path = current.get(..len).unwrap_or_default();
        let created = create_until_link(root, path, file, missing)?;
        missing = false;
        let (parent, parent_len, end) = match created {
            Created::Done(fd) => return Ok(fd),
            Created::Link {
                parent,
                parent_len,
                end,
            } => (parent, parent_len, end),
        };
        // `path[parent_len + 1..end]` names a symlink in `parent` whose target is missing.
        let mut target = [0u8; PATH_MAX];
        let name = path.get(parent_len + 1..end).unwrap_or_default();
        let n =
            rustix::fs::readlinkat_raw(&parent, name, &mut target[..]).map_err(|_| Errno::EXIST)?;
        let target = target.get(..n).unwrap_or_default();
        let mut next = [0u8; PATH_MAX];
        let mut at = 0;
        if !target.starts_with(b"/") {
            at = crate::resolve::put(&mut next, at, path.get(..=parent_len).unwrap_or_default())?;
        }
        at = crate::resolve::put(&mut next, at, target)?;
        at = crate::resolve::put(&mut next, at, path.get(end..).unwrap_or_default())?;
        current = next;
        len = at;
    }
    Err(Errno::LOOP)
}

/// What [`create_until_link`] got to.
enum Created {
    /// The path exists now.
    Done(OwnedFd),
    /// `path[parent_len + 1..end]` exists in `parent` but does not resolve: a dangling link.
    Link {
        parent: OwnedFd,
        parent_len: usize,
        end: usize,
    },
}

/// Create the missing components of `path` (`missing`: known not to resolve), stopping at a
/// dangling symlink.
fn create_until_link(
    root: BorrowedFd<'_>,
    path: &[u8],
    file: bool,
    missing: bool,
) -> Result<Created, Errno> {
    if !missing {
        match open_in_root(root, path) {
            Err(Errno::NOENT) => {}
            r => return r.map(Created::Done),
        }
    }
    // The common case, only the last component missing: create it in its parent.
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    if let Some(slash) = trimmed.iter().rposition(|&c| c == b'/') {
        let name = trimmed.get(slash + 1..).unwrap_or_default();
        if !name.is_empty() && name != b"." && name != b".." {
            match open_in_root(root, trimmed.get(..slash.max(1)).unwrap_or_default()) {
                Ok(parent) => {
                    return match create_entry(&parent, name, file) {
                        Ok(()) => open_in_root(root, path).map(Created::Done),
                        Err(Errno::EXIST) => Ok(Created::Link {
                            parent,
                            parent_len: slash,
                            end: trimmed.len(),
                        }),
                        Err(e) => Err(e),
                    };
                }
                Err(Errno::NOENT) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let mut parent = open_in_root(root, b"/")?;
    let (mut end, mut parent_len) = (0, 0);
    for component in path.split(|&c| c == b'/') {
        end += component.len() + 1;
        if component.is_empty() || component == b"." {
            continue;
        }
        let prefix = path.get(..end - 1).unwrap_or(path);
        match open_in_root(root, prefix) {
            Ok(fd) => parent = fd,
            Err(Errno::NOENT) => match create_entry(&parent, component, file && end > path.len()) {
                Ok(()) => parent = open_in_root(root, prefix)?,
                Err(Errno::EXIST) => {
                    return Ok(Created::Link {
                        parent,
                        parent_len,
                        end: end - 1,
                    });
                }
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
        parent_len = end - 1;
    }
    Ok(Created::Done(parent))
}

/// Create `name` in `parent`: an empty file (`O_EXCL|O_NOFOLLOW`: nothing that exists, link
/// or not, is reused) or a directory.
fn create_entry(parent: &OwnedFd, name: &[u8], file: bool) -> Result<(), Errno> {
    if file {
        let flags =
            OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC;
        drop(rustix::fs::openat(
            parent,
            name,
            flags,
            Mode::from_raw_mode(0o644),
        )?);
        Ok(())
    } else {
        rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755))
    }
}

pub fn mount_at(
    source: &core::ffi::CStr,
    target: BorrowedFd<'_>,
    fs_type: &core::ffi::CStr,
    flags: u32,
    data: Option<&core::ffi::CStr>,
) -> Result<(), Errno> {
    rustix::mount::mount(
        source,
        CPath::proc_fd(target).as_cstr(),
        fs_type,
        MountFlags::from_bits_retain(flags),
        data,
    )
}

/// Mount `mounts[i]` for every entry, in order, inside `root`. Returns true when one of them
/// bind-mounted `/dev` (the config then brings its own devices). `label`: `linux.mountLabel`,
/// which every filesystem but proc, sysfs, mqueue and cgroup gets as its SELinux context.
pub fn apply(
    root: BorrowedFd<'_>,
    mounts: Value<'_>,
    label: Option<JStr<'_>>,
    idmapped: &mut crate::idmap::Trees,
) -> Result<bool, InitError> {
    let mut dev_bound = false;
    let mut read_only_later = false;
    // Where the last tmpfs went: what is mounted directly below it is most likely missing.
    let mut last_tmpfs = CPath::empty();
    for (i, m) in mounts.elements().enumerate() {
        let mut m = Mount::decode(m, i)?;
        if m.is_read_only_tmpfs() {
            // Writable until every mount is in place, so those below it can make their mount
            // points; remounted read-only at the end (runc).
            m.options.flags &= !g::MS_RDONLY;
            read_only_later = true;
        }
        if let Some(label) = label
            && !m.options.is_bind()
            && !["proc", "sysfs", "mqueue", "cgroup", "cgroup2"]
                .iter()
                .any(|t| m.fs_type.is_some_and(|f| f.eq_str(t)))
        {
            m.options
                .push_label(label, At::field(Field::LinuxMountLabel))?;
        }
        let mut destination =
            CPath::decode(m.destination, STEP, At::item(Field::MountsDestination, i))?;
        destination.clean();
        dev_bound |= m.options.is_bind() && m.destination.eq_str("/dev");
        if m.options.is_bind() {
            bind(root, &m, &destination, idmapped.take(i))?;
        } else {
            let d = destination.bytes();
            let below_tmpfs = d
                .iter()
                .rposition(|&c| c == b'/')
                .is_some_and(|slash| slash > 0 && d.get(..slash) == Some(last_tmpfs.bytes()));
            filesystem(root, &m, &destination, below_tmpfs)?;
            // A tmpfs inside the last one (/dev/shm in /dev) leaves that one the last.
            if !below_tmpfs && m.fs_type.is_some_and(|t| t.eq_str("tmpfs")) {
                last_tmpfs = destination.clone();
            }
        }
        // Propagation and recursive attributes act on the new mount: reopen to reach it.
        let o = &m.options;
        if o.propagation_len == 0 && o.attr_set == 0 && o.attr_clr == 0 {
            continue;
        }
        let top = open_in_root(root, destination.bytes()).ctx(STEP, Op::Open, m.at())?;
        for &p in o.propagation.iter().take(o.propagation_len) {
            mount_at(c"", top.as_fd(), c"", p, None)
                .ctx(STEP, Op::Mount, m.at())
                .map_err(|e| e.because(Reason::Propagation))?;
        }
        if o.attr_set != 0 || o.attr_clr != 0 {
            crate::sys::mount_setattr(top.as_fd(), c"", true, o.attr_set, o.attr_clr).ctx(
                STEP,
                Op::MountSetattr,
                m.at(),
            )?;
        }
    }
    if read_only_later {
        for (i, m) in mounts.elements().enumerate() {
            let m = Mount::decode(m, i)?;
            if !m.is_read_only_tmpfs() {
                continue;
            }
            let mut destination =
                CPath::decode(m.destination, STEP, At::item(Field::MountsDestination, i))?;
            destination.clean();
            let top = open_in_root(root, destination.bytes()).ctx(STEP, Op::Open, m.at())?;
            mount_at(c"", top.as_fd(), c"", m.options.flags | g::MS_REMOUNT, None)
                .ctx(STEP, Op::Mount, m.at())
                .map_err(|e| e.because(Reason::ReadOnlyRemount))?;
        }
    }
    Ok(dev_bound)
}

/// Files inside `/proc` that may be mounted over (what lxcfs emulates; runc's
/// `checkProcMount`).
const PROC_FILES: Names = crate::names![
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
];

/// runc's `checkProcMount` for every mount but proc and sysfs: nothing may hide the
/// container's `/proc` but a procfs (`source_on_proc`), and nothing inside it but the
/// [`PROC_FILES`] (CVE-2019-16884: labels written to a fake `/proc/self/attr` are lost). Inside
/// means below `/proc` by name, or, for a bind, a target on a procfs however it was reached.
fn check_proc(
    destination: &CPath,
    target_on_proc: bool,
    source_on_proc: bool,
    at: At,
) -> Result<(), InitError> {
    let path = destination.bytes();
    let path = path.strip_suffix(b"/").unwrap_or(path);
    if path == b"/proc" {
        return if source_on_proc {
            Ok(())
        } else {
            Err(InitError::invalid(
                STEP,
                at,
                Reason::OnlyAProcfsMayBeMountedOnProc,
            ))
        };
    }
    if (path.starts_with(b"/proc/") || target_on_proc)
        && !PROC_FILES.iter().any(|f| f.as_bytes() == path)
    {
        return Err(InitError::invalid(
            STEP,
            at,
            Reason::InsideProcOnlyRuncsListOfFiles,
        ));
    }
    Ok(())
}

fn on_procfs(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fstatfs(fd).is_ok_and(|s| s.f_type == i64::from(g::PROC_SUPER_MAGIC))
}

/// A bind, or with `tree` (an idmapped mount, `src/idmap.rs`) that tree attached in its place.
fn bind(
    root: BorrowedFd<'_>,
    m: &Mount<'_>,
    destination: &CPath,
    tree: Option<OwnedFd>,
) -> Result<(), InitError> {
    let at_source = At::item(Field::MountsSource, m.index);
    let source = CPath::decode(m.source.unwrap_or(JStr::EMPTY), STEP, at_source)?;
    let attach = tree.is_some();
    let source_fd = match tree {
        Some(tree) => tree,
        None => rustix::fs::open(
            source.as_cstr(),
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx(STEP, Op::Open, at_source)?,
    };
    let stat = rustix::fs::fstat(&source_fd).ctx(STEP, Op::Open, at_source)?;
    let is_dir =
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Directory;
    let target = create_in_root(root, destination.bytes(), !is_dir).ctx(STEP, Op::Open, m.at())?;
    check_proc(
        destination,
        on_procfs(target.as_fd()),
        on_procfs(source_fd.as_fd()),
        m.at(),
    )?;
    let o = &m.options;
    if attach {
        rustix::mount::move_mount(
            source_fd.as_fd(),
            c"",
            target.as_fd(),
            c"",
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
        )
    } else {
        mount_at(
            source.as_cstr(),
            target.as_fd(),
            c"",
            o.flags & (g::MS_BIND | g::MS_REC),
            None,
        )
    }
    .ctx(STEP, Op::Mount, m.at())?;
    // "mount --bind -o ro": flags other than BIND/REC need a remount of the new mount, which
    // also clears what the options did not ask for.
    let other = o.flags & !(g::MS_BIND | g::MS_REC | g::MS_REMOUNT);
    if other != 0 || o.cleared != 0 {
        let top = open_in_root(root, destination.bytes()).ctx(STEP, Op::Open, m.at())?;
        let remount = |extra| {
            mount_at(
                c"",
                top.as_fd(),
                c"",
                other | extra | g::MS_BIND | g::MS_REMOUNT,
                None,
            )
        };
        match remount(0) {
            // In a user namespace the source's flags may be locked (nosuid, nodev, noexec, the
            // atime ones, ro): a remount must keep them (runc).
            Err(Errno::PERM) => {
                let locked = rustix::fs::fstatvfs(&top).ctx(STEP, Op::Statfs, m.at())?;
                remount(crate::paths::mount_flags(locked.f_flag))
            }
            r => r,
        }
        .ctx(STEP, Op::Mount, m.at())
        .map_err(|e| e.because(Reason::BindRemount))?;
    }
    Ok(())
}

/// A directory `name` made in `parent` of a fresh tmpfs: created and opened without looking for
/// it first. `None` if that was wrong (it exists, or the parent is not what it was): the
/// caller then looks as it always does.
fn create_below_tmpfs(root: BorrowedFd<'_>, path: &[u8]) -> Option<OwnedFd> {
    let slash = path.iter().rposition(|&c| c == b'/')?;
    let parent = open_in_root(root, path.get(..slash)?).ok()?;
    rustix::fs::mkdirat(&parent, path.get(slash + 1..)?, Mode::from_raw_mode(0o755)).ok()?;
    open_in_root(root, path).ok()
}

fn filesystem(
    root: BorrowedFd<'_>,
    m: &Mount<'_>,
    destination: &CPath,
    below_tmpfs: bool,
) -> Result<(), InitError> {
    let fs_type = CPath::decode(
        m.fs_type.unwrap_or(JStr::EMPTY),
        STEP,
        At::item(Field::MountsType, m.index),
    )?;
    if fs_type.bytes().starts_with(b"cgroup") {
        check_proc(destination, false, false, m.at())?;
        let v2 = fs_type.bytes() == b"cgroup2";
        return crate::cgroup::mount(root, destination, v2, m.options.flags, m.at());
    }
    let source = match m.source {
        Some(s) if !s.is_empty() => CPath::decode(s, STEP, At::item(Field::MountsSource, m.index))?,
        _ => CPath::decode(
            m.fs_type.unwrap_or(JStr::EMPTY),
            STEP,
            At::item(Field::MountsType, m.index),
        )?,
    };
    // proc and sysfs need a real directory, reached through no symlink: an image's
    // /proc -> /elsewhere must not move procfs where LSM and other writes would miss it
    // (CVE-2019-19921, CVE-2023-27561).
    let strict = fs_type.bytes() == b"proc" || fs_type.bytes() == b"sysfs";
    let open_strict = || {
        crate::resolve::open(
            root,
            destination.bytes(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS,
        )
    };
    if !strict {
        check_proc(destination, false, false, m.at())?;
    }
    let mut original = None;
    let target = match strict.then(open_strict) {
        Some(Ok(fd)) => fd,
        Some(Err(e)) if !matches!(e, Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => {
            return Err(InitError::sys(STEP, Op::Open, e, m.at()));
        }
        // Missing (created now), or not a real directory (the second look says so).
        Some(Err(e)) => {
            let create = if e == Errno::NOENT {
                create_missing
            } else {
                create_in_root
            };
            create(root, destination.bytes(), false).ctx(STEP, Op::Open, m.at())?;
            open_strict().map_err(|e| {
                InitError::sys(STEP, Op::Open, e, m.at()).because(Reason::ProcAndSysfsNeedAReal)
            })?
        }
        None if let Some(created) = below_tmpfs
            .then(|| create_below_tmpfs(root, destination.bytes()))
            .flatten() =>
        {
            created
        }
        None => match open_in_root(root, destination.bytes()) {
            Ok(existing) => {
                if m.options.copy_up {
                    // What it holds, through a handle opened before the tmpfs covers it.
                    let dir = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                    let at = m.at();
                    original = Some(rustix::fs::openat(&existing, c".", dir, Mode::empty()).ctx(
                        STEP,
                        Op::Open,
                        at,
                    )?);
                }
                // A `mode=` in the options wins anyway: then the directory's is not needed.
                if fs_type.bytes() == b"tmpfs" && !m.options.has_mode {
                    // A tmpfs on an existing directory keeps its mode unless the options say
                    // otherwise (runc puts `mode=` first, so a later one wins).
                    let st = rustix::fs::fstat(&existing).ctx(STEP, Op::Open, m.at())?;
                    mount_tmpfs(&source, existing.as_fd(), m, st.st_mode & 0o7777)?;
                    return copy_up(root, destination, original, m);
                }
                existing
            }
            Err(Errno::NOENT) => {
                create_missing(root, destination.bytes(), false).ctx(STEP, Op::Open, m.at())?
            }
            Err(e) => return Err(InitError::sys(STEP, Op::Open, e, m.at())),
        },
    };
    let o = &m.options;
    mount_at(
        source.as_cstr(),
        target.as_fd(),
        fs_type.as_cstr(),
        o.flags,
        o.data(),
    )
    .ctx(STEP, Op::Mount, m.at())?;
    copy_up(root, destination, original, m)
}

/// `tmpcopyup`: what the directory held (`original`), copied into the tmpfs now on it.
fn copy_up(
    root: BorrowedFd<'_>,
    destination: &CPath,
    original: Option<OwnedFd>,
    m: &Mount<'_>,
) -> Result<(), InitError> {
    let Some(original) = original else {
        return Ok(());
    };
    let top = open_in_root(root, destination.bytes()).ctx(STEP, Op::Open, m.at())?;
    let why = |e| match e {
        // copyup's own depth limit, or a link where a directory was a moment before.
        Errno::LOOP => Reason::TmpcopyupDeeperThan32Levels,
        _ => Reason::Tmpcopyup,
    };
    crate::copyup::copy_tree(original.as_fd(), top.as_fd(), 0)
        .map_err(|e| InitError::sys(STEP, Op::Copy, e, m.at()).because(why(e)))
}

/// A tmpfs with `mode=MODE` ahead of the configured data.
fn mount_tmpfs(
    source: &CPath,
    target: BorrowedFd<'_>,
    m: &Mount<'_>,
    mode: u32,
) -> Result<(), InitError> {
    let mut data = [0u8; MAX_DATA + 16];
    let mut prefix = *b"mode=0000,";
    for (i, shift) in [9, 6, 3, 0].into_iter().enumerate() {
        let digit = b'0' + ((mode >> shift) & 7) as u8;
        if let Some(d) = prefix.get_mut(5 + i) {
            *d = digit;
        }
    }
    let rest = m.options.data().map_or(&b""[..], core::ffi::CStr::to_bytes);
    let len = if rest.is_empty() { 9 } else { 10 + rest.len() };
    for (d, s) in data.iter_mut().zip(prefix.iter().chain(rest)).take(len) {
        *d = *s;
    }
    let data = core::ffi::CStr::from_bytes_until_nul(&data).ok();
    mount_at(source.as_cstr(), target, c"tmpfs", m.options.flags, data).ctx(STEP, Op::Mount, m.at())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::validate;

    fn parse(opts: &str) -> Options {
        let doc = format!("[{opts}]");
        validate(doc.as_bytes(), 8).expect("valid");
        let v = Value::root(doc.as_bytes());
        Options::parse(Some(v), 0).expect("parses")
    }

    #[test]
    fn a_mount_label_is_a_quoted_context_after_the_data() {
        let label = br#""system_u:object_r:container_file_t:s0:c1,c2""#;
        let v = Value::root(label);
        let mut o = parse(r#""nosuid","mode=755""#);
        o.push_label(v.as_str().expect("string"), At::NONE)
            .expect("fits");
        assert_eq!(
            o.data().map(core::ffi::CStr::to_bytes),
            Some(&br#"mode=755,context="system_u:object_r:container_file_t:s0:c1,c2""#[..])
        );
        let mut o = parse(r#""nosuid""#);
        o.push_label(v.as_str().expect("string"), At::NONE)
            .expect("fits");
        assert!(
            o.data()
                .is_some_and(|d| d.to_bytes().starts_with(b"context=\""))
        );
    }

    #[test]
    fn flags_words_later_wins() {
        let o = parse(r#""ro","nosuid","rw","nodev""#);
        assert_eq!(o.flags, g::MS_NOSUID | g::MS_NODEV);
        assert_eq!(o.cleared, g::MS_RDONLY);
        assert!(o.data().is_none());
    }

    #[test]
    fn empty_words_are_refused() {
        // Found by the mount_options fuzz target: "" used to become a trailing "," in the data.
        let doc = br#"["mode=755",""]"#;
        let e = Options::parse(Some(Value::root(doc)), 0).expect_err("refused");
        assert_eq!(
            (e.at.to_string(), e.why()),
            ("mounts[0].options[1]".to_string(), "empty option")
        );
    }

    #[test]
    fn unknown_words_are_data() {
        let o = parse(r#""nosuid","mode=755","size=65536k","defaults""#);
        assert_eq!(
            o.data().map(|d| d.to_bytes()),
            Some(&b"mode=755,size=65536k,defaults"[..])
        );
    }

    #[test]
    fn propagation_and_recursive() {
        let o = parse(r#""rbind","rprivate","rro","rnoatime""#);
        assert_eq!(o.flags, g::MS_BIND | g::MS_REC);
        assert_eq!(
            o.propagation[..o.propagation_len],
            [g::MS_PRIVATE | g::MS_REC]
        );
        assert_eq!(
            o.attr_set,
            u64::from(g::MOUNT_ATTR_RDONLY | g::MOUNT_ATTR_NOATIME)
        );
        assert_eq!(o.attr_clr, u64::from(g::MOUNT_ATTR__ATIME));
    }

    #[test]
    fn bad_mounts_name_the_field() {
        let one = |m: &str| {
            let doc = format!("[{m}]");
            validate(doc.as_bytes(), 8).expect("valid");
            let v = Value::root(doc.as_bytes()).elements().next().expect("one");
            Mount::decode(v, 2)
                .map(drop)
                .map_err(|e| (e.at.to_string(), e.why()))
        };
        assert_eq!(
            one(r#"{"destination":"rel","type":"tmpfs"}"#),
            Err(("mounts[2].destination".into(), "not an absolute path"))
        );
        assert_eq!(
            one(r#"{"destination":"/x"}"#),
            Err(("mounts[2].type".into(), "missing (and not a bind mount)"))
        );
        assert_eq!(
            one(r#"{"destination":"/x","type":"bind","source":"/y","options":["mode=1"]}"#),
            Err((
                "mounts[2].options".into(),
                "bind mounts cannot take filesystem data"
            ))
        );
        assert_eq!(
            one(r#"{"destination":"/x","options":["bind"]}"#),
            Err(("mounts[2].source".into(), "missing for a bind mount"))
        );
        assert_eq!(
            one(r#"{"destination":"/x","type":"tmpfs","options":["a", 1]}"#),
            Err(("mounts[2].options[1]".into(), "expected a string"))
        );
        assert_eq!(
            one(r#"{"destination":"/x","type":"tmpfs","options":["idmap"]}"#),
            Err(("mounts[2]".into(), "idmapped mounts must be bind mounts"))
        );
        assert_eq!(
            one(r#"{"destination":"/x","type":"proc","options":["tmpcopyup"]}"#),
            Err(("mounts[2]".into(), "tmpcopyup is for tmpfs mounts"))
        );
        let map = r#"[{"containerID":0,"hostID":1,"size":1}]"#;
        for (mappings, at) in [
            (format!(r#""uidMappings":{map}"#), "mounts[2]"),
            (
                format!(r#""uidMappings":{map},"gidMappings":{{}}"#),
                "mounts[2].gidMappings",
            ),
            (
                format!(
                    r#""uidMappings":[{{"containerID":0,"hostID":-1,"size":1}}],"gidMappings":{map}"#
                ),
                "mounts[2].uidMappings[0].hostID",
            ),
        ] {
            let m = format!(r#"{{"destination":"/x","type":"bind","source":"/y",{mappings}}}"#);
            assert_eq!(one(&m).map_err(|e| e.0), Err(at.to_string()), "{m}");
        }
        let m = format!(
            r#"{{"destination":"/x","source":"/y","options":["rbind","ridmap"],"uidMappings":{map},"gidMappings":{map}}}"#
        );
        assert_eq!(one(&m), Ok(()));
        assert_eq!(
            one(r#"{"destination":"/x","type":"tmpfs","options":["nosuid","size=1k"]}"#),
            Ok(())
        );
    }
}
