//! Decode and validate an OCI runtime-spec `config.json`, borrowing every string from the input.
//!
//! Decoding checks the type of every field this init acts on and rejects, with the field's
//! path, anything it would otherwise have to ignore silently (fields of later milestones, see
//! `docs/STEPS.md`). Unknown fields are ignored, as the runtime spec requires. Fields that are
//! the parent runtime's business (`linux.resources`, `linux.cgroupsPath`, `hooks` other than
//! `startContainer`, `annotations`, ...) are not looked at.

use crate::error::{At, Field, InitError, Op, Reason, Step};
use crate::json::{self, JStr, Kind, Value};
use crate::mounts;
use crate::names::{Names, Table};
use crate::sys;

const STEP: Step = Step::Decode;

/// The annotation that keeps ocinit as the container's PID 1 (`docs/PID1.md`).
pub const STAY_PID1: &str = "org.ocinit.pid1";

/// Namespace types this init creates, as `CLONE_NEW*` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Namespaces(pub u32);

impl Namespaces {
    /// Contains every bit of `flag`.
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag == flag
    }
}

/// `linux.namespaces` entries with a `path`: existing namespaces to join, in config order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joins<'a> {
    /// `CLONE_NEW*` of each entry.
    pub types: [u32; 8],
    /// Its `path`.
    pub paths: [JStr<'a>; 8],
    /// Its index in `linux.namespaces`.
    pub index: [u8; 8],
    /// Entries used.
    pub count: usize,
}

impl<'a> Joins<'a> {
    /// Every type joined, as one set.
    pub fn set(&self) -> Namespaces {
        Namespaces(self.types[..self.count].iter().fold(0, |a, &t| a | t))
    }

    /// (type, path, index in `linux.namespaces`) of each entry.
    pub fn iter(&self) -> impl Iterator<Item = (u32, JStr<'a>, usize)> + '_ {
        (0..self.count).map(|k| (self.types[k], self.paths[k], usize::from(self.index[k])))
    }
}

/// `linux.timeOffsets`: (seconds, nanoseconds) for the monotonic and boot-time clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeOffsets {
    /// `monotonic`.
    pub monotonic: (i64, u32),
    /// `boottime`.
    pub boottime: (i64, u32),
}

/// `process.user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User<'a> {
    /// `uid`
    pub uid: u32,
    /// `gid`
    pub gid: u32,
    /// `umask`, if given.
    pub umask: Option<u32>,
    /// `additionalGids` (an array of u32, validated), if given.
    pub additional_gids: Option<Value<'a>>,
}

/// `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process<'a> {
    /// `args`: a non-empty array of strings.
    pub args: Value<'a>,
    /// `env`: an array of `KEY=value` strings, if given.
    pub env: Option<Value<'a>>,
    /// `cwd`: absolute.
    pub cwd: JStr<'a>,
    /// `user`.
    pub user: User<'a>,
    /// `capabilities` (an object of validated string arrays), if given.
    pub capabilities: Option<Value<'a>>,
    /// `noNewPrivileges`.
    pub no_new_privileges: bool,
    /// `rlimits` (validated: known types, soft ≤ hard, no duplicates), if given.
    pub rlimits: Option<Value<'a>>,
    /// `oomScoreAdj` (-1000..=1000), if given.
    pub oom_score_adj: Option<i32>,
    /// `terminal`.
    pub terminal: bool,
    /// `consoleSize` (rows, columns), if given.
    pub console_size: Option<(u16, u16)>,
    /// `apparmorProfile`, if given and not empty.
    pub apparmor_profile: Option<JStr<'a>>,
    /// `selinuxLabel`, if given and not empty.
    pub selinux_label: Option<JStr<'a>>,
    /// `scheduler` (checked; [`scheduler`] makes the `sched_setattr` argument of it).
    pub scheduler: Option<Value<'a>>,
    /// `ioPriority` as the kernel's `ioprio` value.
    pub io_priority: Option<u32>,
}

/// `process.rlimits[].type` names, index = the resource number.
pub const RLIMITS: Names = crate::names![
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// One validated `process.rlimits[i]`: (resource number, soft, hard).
pub fn rlimit(v: Value<'_>, i: usize) -> Result<(usize, u64, u64), InitError> {
    expect_kind(v, Kind::Object, At::item(Field::ProcessRlimitsItem, i))?;
    let at_type = At::item(Field::ProcessRlimitsType, i);
    let resource = name_index(
        required(v, "type", at_type)?,
        RLIMITS,
        at_type,
        Reason::UnknownRlimitType,
    )?;
    let limit = |key, at| {
        let at = At::item(at, i);
        uint64(required(v, key, at)?, at, Reason::OutOfRangeForA64)
    };
    let soft = limit("soft", Field::ProcessRlimitsSoft)?;
    let hard = limit("hard", Field::ProcessRlimitsHard)?;
    if soft > hard {
        return Err(InitError::invalid(
            STEP,
            At::item(Field::ProcessRlimitsSoft, i),
            Reason::SoftLimitAboveTheHardLimit,
        ));
    }
    Ok((resource as usize, soft, hard))
}

fn rlimits(p: Value<'_>) -> Result<Option<Value<'_>>, InitError> {
    let Some(list) = member(p, "rlimits") else {
        return Ok(None);
    };
    expect_kind(list, Kind::Array, At::field(Field::ProcessRlimits))?;
    let mut seen = 0u32;
    for (i, r) in list.elements().enumerate() {
        let (resource, _, _) = rlimit(r, i)?;
        if seen & (1 << resource) != 0 {
            return Err(InitError::invalid(
                STEP,
                At::item(Field::ProcessRlimitsType, i),
                Reason::DuplicateRlimitType,
            ));
        }
        seen |= 1 << resource;
    }
    Ok(Some(list))
}

fn capabilities(p: Value<'_>) -> Result<Option<Value<'_>>, InitError> {
    let Some(caps) = member(p, "capabilities") else {
        return Ok(None);
    };
    expect_kind(caps, Kind::Object, At::field(Field::ProcessCapabilities))?;
    // A table in read-only data: built on the stack, its rows cost a store per word.
    const SETS: Table<(Field, Field), 5> = crate::table![
        (
            "bounding",
            Field::ProcessCapabilitiesBounding,
            Field::ProcessCapabilitiesBoundingItem,
        ),
        (
            "effective",
            Field::ProcessCapabilitiesEffective,
            Field::ProcessCapabilitiesEffectiveItem,
        ),
        (
            "inheritable",
            Field::ProcessCapabilitiesInheritable,
            Field::ProcessCapabilitiesInheritableItem,
        ),
        (
            "permitted",
            Field::ProcessCapabilitiesPermitted,
            Field::ProcessCapabilitiesPermittedItem,
        ),
        (
            "ambient",
            Field::ProcessCapabilitiesAmbient,
            Field::ProcessCapabilitiesAmbientItem,
        ),
    ];
    for (set, &(at, item)) in SETS.iter() {
        if let Some(v) = member(caps, set) {
            string_array(v, At::field(at), item)?;
        }
    }
    Ok(Some(caps))
}

fn oom_score_adj(p: Value<'_>) -> Result<Option<i32>, InitError> {
    let Some(v) = member(p, "oomScoreAdj") else {
        return Ok(None);
    };
    let at = At::field(Field::ProcessOomScoreAdj);
    if v.kind() != Kind::Number {
        return Err(type_error(Kind::Number, at));
    }
    match v.as_integer() {
        Some(n @ -1000..=1000) => Ok(Some(i32::try_from(n).unwrap_or(0))),
        Some(_) => Err(InitError::invalid(STEP, at, Reason::OutOfRange1000To1000)),
        None => Err(InitError::invalid(STEP, at, Reason::ExpectedAnInteger)),
    }
}

/// The parts of the config the init acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config<'a> {
    /// `root.path` (relative paths are relative to the bundle, the init's working directory).
    pub root_path: JStr<'a>,
    /// `root.readonly`.
    pub root_readonly: bool,
    /// `hostname`.
    pub hostname: Option<JStr<'a>>,
    /// `domainname`.
    pub domainname: Option<JStr<'a>>,
    /// `mounts`: an array of validated mount objects, if given.
    pub mounts: Option<Value<'a>>,
    /// `linux.namespaces` to create (entries without a `path`).
    pub namespaces: Namespaces,
    /// `linux.namespaces` to join (entries with a `path`).
    pub joins: Joins<'a>,
    /// `linux.timeOffsets`, with a new time namespace.
    pub time_offsets: Option<TimeOffsets>,
    /// `linux.mountLabel`, if given and not empty: no `"` or escape in it (it is quoted).
    pub mount_label: Option<JStr<'a>>,
    /// `linux.rootfsPropagation` as `MS_*` propagation flags; 0 when absent.
    pub rootfs_propagation: u32,
    /// `process`.
    pub process: Process<'a>,
    /// `linux.uidMappings` (validated), with a user namespace.
    pub uid_mappings: Option<Value<'a>>,
    /// `linux.gidMappings` (validated), with a user namespace.
    pub gid_mappings: Option<Value<'a>>,
    /// `linux.sysctl` (validated against the namespaces), if given.
    pub sysctl: Option<Value<'a>>,
    /// `linux.readonlyPaths` (absolute paths), if given.
    pub readonly_paths: Option<Value<'a>>,
    /// `linux.maskedPaths` (absolute paths), if given.
    pub masked_paths: Option<Value<'a>>,
    /// The annotation `org.ocinit.pid1` is `"true"`: ocinit stays as PID 1 (a reaper).
    pub stay_pid1: bool,
    /// `linux.personality.domain`, if given.
    pub personality: Option<u32>,
    /// `linux.devices` (validated), if given.
    pub devices: Option<Value<'a>>,
    /// `linux.seccomp` (an object; compiled, and so checked in full, right after decode), if
    /// given.
    pub seccomp: Option<Value<'a>>,
    /// The annotation `run.oci.seccomp_fail_unknown_syscall` is present.
    pub seccomp_fail_unknown: bool,
    /// The annotation `run.oci.seccomp_bpf_data`: a precompiled filter that replaces the
    /// compiled one (base64, decoded with the compile step).
    pub seccomp_bpf: Option<JStr<'a>>,
}

fn type_error(want: Kind, at: At) -> InitError {
    let why: Reason = match want {
        Kind::Null => Reason::ExpectedNull,
        Kind::Bool => Reason::ExpectedABoolean,
        Kind::Number => Reason::ExpectedANumber,
        Kind::String => Reason::ExpectedAString,
        Kind::Array => Reason::ExpectedAnArray,
        Kind::Object => Reason::ExpectedAnObject,
    };
    InitError::invalid(STEP, at, why)
}

fn expect_kind(v: Value<'_>, want: Kind, at: At) -> Result<(), InitError> {
    if v.kind() == want {
        Ok(())
    } else {
        Err(type_error(want, at))
    }
}

/// Member `key` of `obj`, with `null` meaning absent (as Go's decoder treats it).
pub fn member<'a>(obj: Value<'a>, key: &str) -> Option<Value<'a>> {
    obj.get(key).filter(|v| v.kind() != Kind::Null)
}

/// A string field.
pub fn string(v: Value<'_>, at: At) -> Result<JStr<'_>, InitError> {
    v.as_str().ok_or_else(|| type_error(Kind::String, at))
}

fn boolean(v: Option<Value<'_>>, at: At) -> Result<bool, InitError> {
    match v {
        None => Ok(false),
        Some(v) => v.as_bool().ok_or_else(|| type_error(Kind::Bool, at)),
    }
}

/// An integer field that must fit in a u32.
pub fn uint32(v: Value<'_>, at: At) -> Result<u32, InitError> {
    if v.kind() != Kind::Number {
        return Err(type_error(Kind::Number, at));
    }
    let n = v
        .as_integer()
        .ok_or_else(|| InitError::invalid(STEP, at, Reason::ExpectedAnInteger))?;
    u32::try_from(n).map_err(|_| InitError::invalid(STEP, at, Reason::OutOfRangeForA32))
}

/// Check that `v` is an array of strings; returns it.
fn string_array<'a>(v: Value<'a>, at: At, item: Field) -> Result<Value<'a>, InitError> {
    expect_kind(v, Kind::Array, at)?;
    for (i, e) in v.elements().enumerate() {
        string(e, At::item(item, i))?;
    }
    Ok(v)
}

fn unsupported(at: At) -> InitError {
    InitError::invalid(STEP, at, Reason::NotSupportedByThisVersionOf)
}

/// Reject a present, non-empty field this version cannot honour.
fn reject_if_set(obj: Value<'_>, key: &str, at: At) -> Result<(), InitError> {
    reject_if_present(member(obj, key), at)
}

/// [`reject_if_set`] for a field already looked up.
fn reject_if_present(v: Option<Value<'_>>, at: At) -> Result<(), InitError> {
    let Some(v) = v else {
        return Ok(());
    };
    let empty = match v.kind() {
        Kind::Array | Kind::Object => v.members().next().is_none() && v.elements().next().is_none(),
        Kind::String => v.as_str().is_some_and(JStr::is_empty),
        Kind::Bool => v.as_bool() == Some(false),
        _ => false,
    };
    if empty { Ok(()) } else { Err(unsupported(at)) }
}

fn namespace_flag(t: JStr<'_>) -> Option<u32> {
    use linux_raw_sys::general as g;
    Some(match () {
        () if t.eq_str("pid") => g::CLONE_NEWPID,
        () if t.eq_str("network") => g::CLONE_NEWNET,
        () if t.eq_str("mount") => g::CLONE_NEWNS,
        () if t.eq_str("ipc") => g::CLONE_NEWIPC,
        () if t.eq_str("uts") => g::CLONE_NEWUTS,
        () if t.eq_str("user") => g::CLONE_NEWUSER,
        () if t.eq_str("cgroup") => g::CLONE_NEWCGROUP,
        () if t.eq_str("time") => g::CLONE_NEWTIME,
        () => return None,
    })
}

/// The namespaces to create; those to join go to `joins` (empty on entry), in place.
fn namespaces<'a>(
    list: Option<Value<'a>>,
    exec: bool,
    joins: &mut Joins<'a>,
) -> Result<Namespaces, InitError> {
    use linux_raw_sys::general as g;
    let mut set = Namespaces::default();
    let Some(list) = list else {
        return Ok(set);
    };
    expect_kind(list, Kind::Array, At::field(Field::LinuxNamespaces))?;
    for (i, ns) in list.elements().enumerate() {
        expect_kind(ns, Kind::Object, At::item(Field::LinuxNamespacesItem, i))?;
        let at_type = At::item(Field::LinuxNamespacesType, i);
        let t =
            member(ns, "type").ok_or_else(|| InitError::invalid(STEP, at_type, Reason::Missing))?;
        let flag = namespace_flag(string(t, at_type)?)
            .ok_or_else(|| InitError::invalid(STEP, at_type, Reason::UnknownNamespaceType))?;
        if set.has(flag) || joins.set().has(flag) {
            return Err(InitError::invalid(
                STEP,
                at_type,
                Reason::DuplicateNamespaceType,
            ));
        }
        let at_path = At::item(Field::LinuxNamespacesPath, i);
        match member(ns, "path").map(|p| string(p, at_path)).transpose()? {
            Some(path) if !path.is_empty() => {
                if !path.raw().starts_with(b"/") {
                    return Err(InitError::invalid(STEP, at_path, Reason::NotAnAbsolutePath));
                }
                if flag == g::CLONE_NEWNS && !exec {
                    // The root is set up in a mount namespace of the container's own; joining
                    // one is what `exec` does.
                    return Err(InitError::invalid(
                        STEP,
                        at_path,
                        Reason::ANewContainerCannotJoinAn,
                    ));
                }
                joins.types[joins.count] = flag;
                // At most 8 entries: every type is there once.
                joins.index[joins.count] = u8::try_from(i).unwrap_or(u8::MAX);
                joins.paths[joins.count] = path;
                joins.count += 1;
            }
            _ => set.0 |= flag,
        }
    }
    Ok(set)
}

/// `linux.timeOffsets`: only with a new time namespace (the offsets of an existing one are
/// fixed), for `monotonic` and `boottime` only.
fn time_offsets(v: Option<Value<'_>>, new_time_ns: bool) -> Result<Option<TimeOffsets>, InitError> {
    let Some(v) = v else {
        return Ok(None);
    };
    let at = At::field(Field::LinuxTimeOffsets);
    expect_kind(v, Kind::Object, at)?;
    if !new_time_ns {
        return Err(InitError::invalid(STEP, at, Reason::NeedsANewTimeNamespace));
    }
    let mut offsets = TimeOffsets::default();
    for (clock, value) in v.members() {
        let (slot, at_secs, at_nanos) = if clock.eq_str("monotonic") {
            (
                &mut offsets.monotonic,
                Field::LinuxTimeOffsetsMonotonicSecs,
                Field::LinuxTimeOffsetsMonotonicNanosecs,
            )
        } else if clock.eq_str("boottime") {
            (
                &mut offsets.boottime,
                Field::LinuxTimeOffsetsBoottimeSecs,
                Field::LinuxTimeOffsetsBoottimeNanosecs,
            )
        } else {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::OnlyTheMonotonicAndBoottimeClocks,
            ));
        };
        expect_kind(value, Kind::Object, at)?;
        let number = |key, at| {
            member(value, key).map_or(Ok(0), |n| {
                n.as_integer()
                    .filter(|_| n.kind() == Kind::Number)
                    .ok_or_else(|| {
                        InitError::invalid(STEP, At::field(at), Reason::ExpectedAnInteger)
                    })
            })
        };
        let secs = i64::try_from(number("secs", at_secs)?)
            .map_err(|_| InitError::invalid(STEP, At::field(at_secs), Reason::OutOfRange))?;
        let nanos = u32::try_from(number("nanosecs", at_nanos)?)
            .ok()
            .filter(|&n| n < 1_000_000_000)
            .ok_or_else(|| {
                InitError::invalid(STEP, At::field(at_nanos), Reason::OutOfRange0To999999999)
            })?;
        *slot = (secs, nanos);
    }
    Ok(Some(offsets))
}

fn rootfs_propagation(v: Option<Value<'_>>) -> Result<u32, InitError> {
    use linux_raw_sys::general as g;
    let at = At::field(Field::LinuxRootfsPropagation);
    let Some(v) = v else {
        return Ok(0);
    };
    let s = string(v, at)?;
    const PROPAGATIONS: Table<u32, 6> = crate::table![
        ("", 0),
        ("private", g::MS_PRIVATE),
        ("rprivate", g::MS_PRIVATE | g::MS_REC),
        ("slave", g::MS_SLAVE),
        ("rslave", g::MS_SLAVE | g::MS_REC),
        ("unbindable", g::MS_UNBINDABLE),
    ];
    if let Some((_, &flags)) = PROPAGATIONS.find(|name, _| s.eq_str(name)) {
        return Ok(flags);
    }
    if s.eq_str("shared") || s.eq_str("rshared") || s.eq_str("runbindable") {
        return Err(unsupported(at));
    }
    Err(InitError::invalid(STEP, at, Reason::UnknownPropagation))
}

fn user(process: Value<'_>) -> Result<User<'_>, InitError> {
    let Some(u) = member(process, "user") else {
        return Ok(User {
            uid: 0,
            gid: 0,
            umask: None,
            additional_gids: None,
        });
    };
    expect_kind(u, Kind::Object, At::field(Field::ProcessUser))?;
    let id = |key, at| member(u, key).map_or(Ok(0), |v| uint32(v, At::field(at)));
    let uid = id("uid", Field::ProcessUserUid)?;
    let gid = id("gid", Field::ProcessUserGid)?;
    let umask = match member(u, "umask") {
        None => None,
        Some(v) => {
            let m = uint32(v, At::field(Field::ProcessUserUmask))?;
            if m > 0o777 {
                return Err(InitError::invalid(
                    STEP,
                    At::field(Field::ProcessUserUmask),
                    Reason::Above0777,
                ));
            }
            Some(m)
        }
    };
    let additional_gids = match member(u, "additionalGids") {
        None => None,
        Some(v) => {
            expect_kind(v, Kind::Array, At::field(Field::ProcessUserAdditionalGids))?;
            for (i, g) in v.elements().enumerate() {
                uint32(g, At::item(Field::ProcessUserAdditionalGidsItem, i))?;
            }
            Some(v)
        }
    };
    reject_if_set(u, "username", At::field(Field::ProcessUserUsername))?;
    Ok(User {
        uid,
        gid,
        umask,
        additional_gids,
    })
}

/// Decode `process` into `out`, field by field (see `decode_as`). Not inlined: in `decode_as`,
/// its values add to the many that function keeps on the stack (200 bytes more code).
#[inline(never)]
fn process<'a>(p: Option<Value<'a>>, out: &mut Process<'a>) -> Result<(), InitError> {
    let at = At::field(Field::Process);
    let p = p.ok_or_else(|| InitError::invalid(STEP, at, Reason::Missing))?;
    expect_kind(p, Kind::Object, at)?;
    let at_args = At::field(Field::ProcessArgs);
    out.args =
        member(p, "args").ok_or_else(|| InitError::invalid(STEP, at_args, Reason::Missing))?;
    string_array(out.args, at_args, Field::ProcessArgsItem)?;
    if out.args.elements().next().is_none() {
        return Err(InitError::invalid(STEP, at_args, Reason::Empty));
    }
    if let Some(env) = member(p, "env") {
        string_array(env, At::field(Field::ProcessEnv), Field::ProcessEnvItem)?;
        // Each entry is `KEY=value` with a non-empty key.
        for (i, e) in env.elements().enumerate() {
            let at = At::item(Field::ProcessEnvItem, i);
            match string(e, at)?.chars().position(|c| c == '=') {
                Some(0) => return Err(InitError::invalid(STEP, at, Reason::EmptyVariableName)),
                Some(_) => {}
                None => return Err(InitError::invalid(STEP, at, Reason::NoInEntry)),
            }
        }
        out.env = Some(env);
    }
    let at_cwd = At::field(Field::ProcessCwd);
    out.cwd = string(
        member(p, "cwd").ok_or_else(|| InitError::invalid(STEP, at_cwd, Reason::Missing))?,
        at_cwd,
    )?;
    if !out.cwd.raw().starts_with(b"/") {
        return Err(InitError::invalid(STEP, at_cwd, Reason::NotAnAbsolutePath));
    }
    out.terminal = boolean(member(p, "terminal"), At::field(Field::ProcessTerminal))?;
    if let Some(size) = member(p, "consoleSize") {
        expect_kind(size, Kind::Object, At::field(Field::ProcessConsoleSize))?;
        // A missing dimension is 0, as in runc (Go's zero value).
        let dim = |key, at: Field| {
            let at = At::field(at);
            member(size, key).map_or(Ok(0), |v| {
                u16::try_from(uint32(v, at)?)
                    .map_err(|_| InitError::invalid(STEP, at, Reason::OutOfRange0To65535))
            })
        };
        out.console_size = Some((
            dim("height", Field::ProcessConsoleSizeHeight)?,
            dim("width", Field::ProcessConsoleSizeWidth)?,
        ));
    }
    reject_if_set(
        p,
        "execCPUAffinity",
        At::field(Field::ProcessExecCPUAffinity),
    )?;
    // An empty label is no label (runc).
    let label = |key, at| {
        member(p, key)
            .map(|v| string(v, At::field(at)))
            .transpose()
            .map(|s| s.filter(|s| !s.is_empty()))
    };
    out.user = user(p)?;
    out.capabilities = capabilities(p)?;
    out.no_new_privileges = boolean(
        member(p, "noNewPrivileges"),
        At::field(Field::ProcessNoNewPrivileges),
    )?;
    out.rlimits = rlimits(p)?;
    out.oom_score_adj = oom_score_adj(p)?;
    out.apparmor_profile = label("apparmorProfile", Field::ProcessApparmorProfile)?;
    out.selinux_label = label("selinuxLabel", Field::ProcessSelinuxLabel)?;
    if let Some(s) = member(p, "scheduler") {
        scheduler(s)?;
        out.scheduler = Some(s);
    }
    out.io_priority = member(p, "ioPriority").map(io_priority).transpose()?;
    Ok(())
}

/// An integer field within `min..=max`.
fn integer(v: Value<'_>, at: At, min: i64, max: i64, why: Reason) -> Result<i64, InitError> {
    expect_kind(v, Kind::Number, at)?;
    let n = v
        .as_integer()
        .ok_or_else(|| InitError::invalid(STEP, at, Reason::ExpectedAnInteger))?;
    i64::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| InitError::invalid(STEP, at, why))
}

/// A non-negative integer field that fits in a u64.
fn uint64(v: Value<'_>, at: At, why: Reason) -> Result<u64, InitError> {
    expect_kind(v, Kind::Number, at)?;
    let n = v
        .as_integer()
        .ok_or_else(|| InitError::invalid(STEP, at, Reason::ExpectedAnInteger))?;
    u64::try_from(n).map_err(|_| InitError::invalid(STEP, at, why))
}

/// The position of the name `v` in `names`; `at` names the field, `why` says it is unknown.
fn name_index(v: Value<'_>, names: Names, at: At, why: Reason) -> Result<u32, InitError> {
    let name = string(v, at)?;
    names
        .iter()
        .position(|n| name.eq_str(n))
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| InitError::invalid(STEP, at, why))
}

/// Member `key` of `obj`, which must be there.
fn required<'a>(obj: Value<'a>, key: &str, at: At) -> Result<Value<'a>, InitError> {
    member(obj, key).ok_or_else(|| InitError::invalid(STEP, at, Reason::Missing))
}

/// `process.scheduler`, checked as runc does (a known policy, nice within -20..=19, a priority
/// only for the real-time policies; the kernel checks the rest), as `sched_setattr` takes it.
pub fn scheduler(s: Value<'_>) -> Result<sys::SchedAttr, InitError> {
    // Policies by number (`include/uapi/linux/sched.h`; SCHED_ISO is reserved and the kernel
    // refuses it); flags by bit.
    const POLICIES: Names = crate::names![
        "SCHED_OTHER",
        "SCHED_FIFO",
        "SCHED_RR",
        "SCHED_BATCH",
        "SCHED_ISO",
        "SCHED_IDLE",
        "SCHED_DEADLINE",
    ];
    const FLAGS: Names = crate::names![
        "SCHED_FLAG_RESET_ON_FORK",
        "SCHED_FLAG_RECLAIM",
        "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS",
        "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX",
    ];
    expect_kind(s, Kind::Object, At::field(Field::ProcessScheduler))?;
    let at = At::field(Field::ProcessSchedulerPolicy);
    let policy = name_index(
        required(s, "policy", at)?,
        POLICIES,
        at,
        Reason::UnknownSchedulingPolicy,
    )?;
    let mut attr = sys::SchedAttr {
        size: 48,
        policy,
        flags: 0,
        nice: 0,
        priority: 0,
        runtime: 0,
        deadline: 0,
        period: 0,
    };
    if let Some(v) = member(s, "nice") {
        let n = integer(
            v,
            At::field(Field::ProcessSchedulerNice),
            -20,
            19,
            Reason::OutOfRangeMinus20To19,
        )?;
        attr.nice = i32::try_from(n).unwrap_or(0);
    }
    if let Some(v) = member(s, "priority") {
        let at = At::field(Field::ProcessSchedulerPriority);
        attr.priority = uint32(v, at)?;
        if attr.priority != 0 && !matches!(policy, 1 | 2) {
            return Err(InitError::invalid(
                STEP,
                at,
                Reason::OnlyForSCHEDFIFOAndSCHEDRR,
            ));
        }
    }
    let time = |key, field| {
        member(s, key).map_or(Ok(0), |v| {
            uint64(v, At::field(field), Reason::OutOfRangeU64)
        })
    };
    attr.runtime = time("runtime", Field::ProcessSchedulerRuntime)?;
    attr.deadline = time("deadline", Field::ProcessSchedulerDeadline)?;
    attr.period = time("period", Field::ProcessSchedulerPeriod)?;
    if let Some(list) = member(s, "flags") {
        expect_kind(list, Kind::Array, At::field(Field::ProcessSchedulerFlags))?;
        for (i, f) in list.elements().enumerate() {
            let at = At::item(Field::ProcessSchedulerFlagsItem, i);
            attr.flags |= 1 << name_index(f, FLAGS, at, Reason::UnknownSchedulingFlag)?;
        }
    }
    Ok(attr)
}

/// `process.ioPriority` as the kernel's `ioprio` value: class << 13 | level (0..=7).
fn io_priority(io: Value<'_>) -> Result<u32, InitError> {
    // IOPRIO_CLASS_RT is 1.
    const CLASSES: Names = crate::names!["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];
    expect_kind(io, Kind::Object, At::field(Field::ProcessIoPriority))?;
    let at = At::field(Field::ProcessIoPriorityClass);
    let class = name_index(
        required(io, "class", at)?,
        CLASSES,
        at,
        Reason::UnknownIOPriorityClass,
    )? + 1;
    let level = match member(io, "priority") {
        Some(v) => integer(
            v,
            At::field(Field::ProcessIoPriorityPriority),
            0,
            7,
            Reason::OutOfRange0To7,
        )?,
        None => 0,
    };
    Ok(class << 13 | u32::try_from(level).unwrap_or(0))
}

/// `linux.personality.domain` (`LINUX` 0, `LINUX32` 8); `flags`, which runc ignores with a
/// warning, are refused here rather than ignored.
fn personality_domain(v: Value<'_>) -> Result<u32, InitError> {
    expect_kind(v, Kind::Object, At::field(Field::LinuxPersonality))?;
    let at = At::field(Field::LinuxPersonalityDomain);
    let domain = name_index(
        required(v, "domain", at)?,
        crate::names!["LINUX", "LINUX32"],
        at,
        Reason::NotLINUXOrLINUX32,
    )?;
    reject_if_set(v, "flags", At::field(Field::LinuxPersonalityFlags))?;
    Ok(domain * 8)
}

/// `linux.uidMappings` or `linux.gidMappings`: `{containerID, hostID, size}` objects, size > 0.
fn id_mappings<'a>(
    list: Option<Value<'a>>,
    key: &str,
    at: Field,
    user_ns: bool,
) -> Result<Option<Value<'a>>, InitError> {
    let list = list.filter(|l| l.elements().next().is_some());
    let Some(list) = list else {
        return if user_ns {
            Err(InitError::invalid(
                STEP,
                At::field(at),
                Reason::AUserNamespaceNeedsIdMappings,
            ))
        } else {
            Ok(None)
        };
    };
    if !user_ns {
        return Err(InitError::invalid(
            STEP,
            At::field(at),
            Reason::IdMappingsNeedANewUser,
        ));
    }
    let fields = if key == "uidMappings" {
        [
            Field::LinuxUidMappingsItem,
            Field::LinuxUidMappingsContainerID,
            Field::LinuxUidMappingsHostID,
            Field::LinuxUidMappingsSize,
        ]
    } else {
        [
            Field::LinuxGidMappingsItem,
            Field::LinuxGidMappingsContainerID,
            Field::LinuxGidMappingsHostID,
            Field::LinuxGidMappingsSize,
        ]
    };
    id_map_entries(list, At::field(at), &fields, None)?;
    Ok(Some(list))
}

/// Id map entries: an array of `{containerID, hostID, size}`, each a 32-bit number, size > 0
/// (`linux.uidMappings`, or with `mount` an idmapped `mounts[mount].gidMappings`). `fields`:
/// the item's template, then its members'; `at` places the list itself.
pub fn id_map_entries(
    list: Value<'_>,
    at: At,
    fields: &[Field; 4],
    mount: Option<usize>,
) -> Result<(), InitError> {
    expect_kind(list, Kind::Array, at)?;
    let place = |f, j| match mount {
        Some(i) => At::item2(f, i, j),
        None => At::item(f, j),
    };
    let [item, members @ ..] = fields;
    for (j, m) in list.elements().enumerate() {
        expect_kind(m, Kind::Object, place(*item, j))?;
        for (name, &field) in ["containerID", "hostID", "size"].into_iter().zip(members) {
            let at = place(field, j);
            let v = member(m, name).ok_or_else(|| InitError::invalid(STEP, at, Reason::Missing))?;
            if uint32(v, at)? == 0 && name == "size" {
                return Err(InitError::invalid(STEP, at, Reason::Zero));
            }
        }
    }
    Ok(())
}

/// An array of absolute paths under `linux`.
fn path_list(list: Option<Value<'_>>, at: Field, item: Field) -> Result<(), InitError> {
    let Some(list) = list else {
        return Ok(());
    };
    string_array(list, At::field(at), item)?;
    for (i, p) in list.elements().enumerate() {
        if !p.as_str().is_some_and(|s| s.raw().starts_with(b"/")) {
            return Err(InitError::invalid(
                STEP,
                At::item(item, i),
                Reason::NotAnAbsolutePath,
            ));
        }
    }
    Ok(())
}

fn mounts_list(list: Option<Value<'_>>) -> Result<(), InitError> {
    let Some(list) = list else {
        return Ok(());
    };
    expect_kind(list, Kind::Array, At::field(Field::Mounts))?;
    for (i, m) in list.elements().enumerate() {
        expect_kind(m, Kind::Object, At::item(Field::MountsItem, i))?;
        mounts::Mount::decode(m, i)?;
    }
    Ok(())
}

/// Decode `input`: validate the JSON, then every field the init acts on.
pub fn decode(input: &[u8]) -> Result<Config<'_>, InitError> {
    decode_as(input, false, json::validate)
}

/// [`decode`] the init's own config buffer, which lives as long as the process: its JSON
/// structure is indexed on the way (`json::validate_static`), so walking it never rescans.
pub fn decode_static(input: &'static [u8]) -> Result<Config<'static>, InitError> {
    decode_as(input, false, json::validate_static)
}

/// Decode the config of an `exec` (the init type that runs another process in a running
/// container): every namespace is joined by path (the mount one too), and the fields that set
/// up the container itself are refused rather than ignored (`docs/PROTOCOL.md`).
pub fn decode_exec(input: &'static [u8]) -> Result<Config<'static>, InitError> {
    decode_as(input, true, json::validate_static)
}

/// The checks of [`decode_exec`] on the decoded config (`decode_as` makes them last, on the
/// config in place). Not inlined: a call is smaller than its code in `decode_as`.
#[inline(never)]
fn exec_only(c: &Config<'_>) -> Result<(), InitError> {
    let container_fields = [
        (
            c.mounts.is_some_and(|m| m.elements().next().is_some()),
            Field::Mounts,
        ),
        (c.devices.is_some(), Field::LinuxDevices),
        (c.sysctl.is_some(), Field::LinuxSysctl),
        (c.readonly_paths.is_some(), Field::LinuxReadonlyPaths),
        (c.masked_paths.is_some(), Field::LinuxMaskedPaths),
        (c.hostname.is_some(), Field::Hostname),
        (c.domainname.is_some(), Field::Domainname),
        (c.rootfs_propagation != 0, Field::LinuxRootfsPropagation),
        (c.root_readonly, Field::RootReadonly),
    ];
    for (set, at) in container_fields {
        if set {
            return Err(InitError::invalid(
                STEP,
                At::field(at),
                Reason::TheContainersOwnNotForExec,
            ));
        }
    }
    if c.namespaces.0 != 0 {
        return Err(InitError::invalid(
            STEP,
            At::field(Field::LinuxNamespaces),
            Reason::ExecJoinsTheContainersNamespacesEach,
        ));
    }
    Ok(())
}

fn decode_as<'a>(
    input: &'a [u8],
    exec: bool,
    validate: fn(&'a [u8], u32) -> Result<(), json::JsonError>,
) -> Result<Config<'a>, InitError> {
    // The config is filled in place as its fields are decoded. Built from locals at the end,
    // each of its ~70 words was spilled to the stack on the way, then copied: 1 KB more code.
    let mut c = Config {
        root_path: JStr::EMPTY,
        root_readonly: false,
        hostname: None,
        domainname: None,
        mounts: None,
        namespaces: Namespaces::default(),
        joins: Joins {
            types: [0; 8],
            paths: [JStr::EMPTY; 8],
            index: [0; 8],
            count: 0,
        },
        time_offsets: None,
        mount_label: None,
        rootfs_propagation: 0,
        process: Process {
            args: Value::NULL,
            env: None,
            cwd: JStr::EMPTY,
            user: User {
                uid: 0,
                gid: 0,
                umask: None,
                additional_gids: None,
            },
            capabilities: None,
            no_new_privileges: false,
            rlimits: None,
            oom_score_adj: None,
            terminal: false,
            console_size: None,
            apparmor_profile: None,
            selinux_label: None,
            scheduler: None,
            io_priority: None,
        },
        uid_mappings: None,
        gid_mappings: None,
        sysctl: None,
        readonly_paths: None,
        masked_paths: None,
        stay_pid1: false,
        personality: None,
        devices: None,
        seccomp: None,
        seccomp_fail_unknown: false,
        seccomp_bpf: None,
    };
    decode_into(&mut c, input, exec, validate)?;
    Ok(c)
}

/// [`decode_as`] into `c`. Not inlined: its many `?` then pass the error on in two registers,
/// not through the `Result<Config>` in memory (250 bytes less code).
#[inline(never)]
fn decode_into<'a>(
    c: &mut Config<'a>,
    input: &'a [u8],
    exec: bool,
    validate: fn(&'a [u8], u32) -> Result<(), json::JsonError>,
) -> Result<(), InitError> {
    validate(input, json::MAX_DEPTH).map_err(|e| {
        InitError::invalid(STEP, At::item(Field::ByteItem, e.offset), e.reason).with_op(Op::Parse)
    })?;
    let root = Value::root(input);
    expect_kind(root, Kind::Object, At::NONE)?;
    // Each object is walked once for all its fields: a member lookup scans the whole object,
    // and `linux` may hold a seccomp profile of many kilobytes. The fields are then read in
    // place (copied out of the array, each would be spilled to a stack slot of its own).
    let mut root_fields = [None; 9];
    root.fields(
        crate::names![
            "ociVersion",
            "root",
            "linux",
            "hooks",
            "hostname",
            "domainname",
            "mounts",
            "annotations",
            "process",
        ],
        &mut root_fields,
    );
    let [
        oci_version,
        root_field,
        linux,
        hooks,
        hostname,
        domainname,
        mounts,
        annotations,
        process_field,
    ] = &root_fields;
    let at_version = At::field(Field::OciVersion);
    string(
        oci_version.ok_or_else(|| InitError::invalid(STEP, at_version, Reason::Missing))?,
        at_version,
    )?;

    let at_root = At::field(Field::Root);
    let r = root_field.ok_or_else(|| InitError::invalid(STEP, at_root, Reason::Missing))?;
    expect_kind(r, Kind::Object, at_root)?;
    let at_path = At::field(Field::RootPath);
    c.root_path = string(
        member(r, "path").ok_or_else(|| InitError::invalid(STEP, at_path, Reason::Missing))?,
        at_path,
    )?;
    if c.root_path.is_empty() {
        return Err(InitError::invalid(STEP, at_path, Reason::Empty));
    }
    c.root_readonly = boolean(member(r, "readonly"), At::field(Field::RootReadonly))?;

    if let Some(l) = *linux {
        expect_kind(l, Kind::Object, At::field(Field::Linux))?;
    }
    // Read in place, as `root_fields`.
    let mut linux_fields = [None; 14];
    if let Some(l) = *linux {
        l.fields(
            crate::names![
                "namespaces",
                "rootfsPropagation",
                "uidMappings",
                "gidMappings",
                "sysctl",
                "readonlyPaths",
                "maskedPaths",
                "seccomp",
                "timeOffsets",
                "devices",
                "mountLabel",
                "personality",
                "memoryPolicy",
                "netDevices",
            ],
            &mut linux_fields,
        );
    }
    let [
        namespace_list,
        propagation,
        uid_list,
        gid_list,
        sysctl_map,
        readonly_list,
        masked_list,
        seccomp,
        time_offset_map,
        devices,
        mount_label,
        personality,
        memory_policy,
        net_devices,
    ] = &linux_fields;
    c.personality = personality.map(personality_domain).transpose()?;
    // An empty label is no label (runc).
    c.mount_label = mount_label
        .map(|v| string(v, At::field(Field::LinuxMountLabel)))
        .transpose()?
        .filter(|l| !l.is_empty());
    if c.mount_label
        .is_some_and(|l| l.raw().iter().any(|&c| matches!(c, b'"' | b'\\')))
    {
        return Err(InitError::invalid(
            STEP,
            At::field(Field::LinuxMountLabel),
            Reason::NotASELinuxContext,
        ));
    }
    for (v, at) in [
        (*memory_policy, Field::LinuxMemoryPolicy),
        (*net_devices, Field::LinuxNetDevices),
    ] {
        reject_if_present(v, At::field(at))?;
    }
    if let Some(hooks) = *hooks {
        reject_if_set(
            hooks,
            "startContainer",
            At::field(Field::HooksStartContainer),
        )?;
    }
    c.namespaces = namespaces(*namespace_list, exec, &mut c.joins)?;
    // Created or joined: what the container has of its own for hostname and sysctl checks.
    let present = Namespaces(c.namespaces.0 | c.joins.set().0);
    c.time_offsets = time_offsets(
        *time_offset_map,
        c.namespaces.has(linux_raw_sys::general::CLONE_NEWTIME),
    )?;
    c.rootfs_propagation = rootfs_propagation(*propagation)?;

    c.hostname = hostname
        .map(|v| string(v, At::field(Field::Hostname)))
        .transpose()?;
    c.domainname = domainname
        .map(|v| string(v, At::field(Field::Domainname)))
        .transpose()?;
    let uts = present.has(linux_raw_sys::general::CLONE_NEWUTS);
    for (value, at) in [
        (c.hostname, Field::Hostname),
        (c.domainname, Field::Domainname),
    ] {
        if value.is_some_and(|v| !v.is_empty()) && !uts {
            return Err(InitError::invalid(
                STEP,
                At::field(at),
                Reason::NeedsANewUtsNamespace,
            ));
        }
    }

    let user_ns = c.namespaces.has(linux_raw_sys::general::CLONE_NEWUSER);
    c.uid_mappings = id_mappings(*uid_list, "uidMappings", Field::LinuxUidMappings, user_ns)?;
    c.gid_mappings = id_mappings(*gid_list, "gidMappings", Field::LinuxGidMappings, user_ns)?;
    c.sysctl = crate::sysctl::validate(*sysctl_map, present)?;
    path_list(
        *readonly_list,
        Field::LinuxReadonlyPaths,
        Field::LinuxReadonlyPathsItem,
    )?;
    c.readonly_paths = *readonly_list;
    path_list(
        *masked_list,
        Field::LinuxMaskedPaths,
        Field::LinuxMaskedPathsItem,
    )?;
    c.masked_paths = *masked_list;
    mounts_list(*mounts)?;
    c.mounts = *mounts;
    c.devices = crate::devices::validate(*devices)?;
    for (list, at) in [
        (c.mounts, Field::Mounts),
        (c.devices, Field::LinuxDevices),
        (c.readonly_paths, Field::LinuxReadonlyPaths),
        (c.masked_paths, Field::LinuxMaskedPaths),
    ] {
        if list.is_some_and(|m| m.elements().next().is_some())
            && !c.namespaces.has(linux_raw_sys::general::CLONE_NEWNS)
        {
            return Err(InitError::invalid(
                STEP,
                At::field(at),
                Reason::NeedsANewMountNamespace,
            ));
        }
    }
    let mut annotation_fields = [None; 3];
    if let Some(a) = *annotations {
        // STAY_PID1, seccomp::FAIL_UNKNOWN, seccomp::BPF_DATA
        a.fields(
            crate::names![
                "org.ocinit.pid1",
                "run.oci.seccomp_fail_unknown_syscall",
                "run.oci.seccomp_bpf_data",
            ],
            &mut annotation_fields,
        );
    }
    let [stay, fail_unknown, bpf_data] = &annotation_fields;
    c.stay_pid1 = match *stay {
        None => false,
        Some(v) => {
            let at = At::field(Field::AnnotationsOrgOcinitPid1);
            let s = string(v, at)?;
            if s.eq_str("true") {
                true
            } else if s.eq_str("false") {
                false
            } else {
                return Err(InitError::invalid(STEP, at, Reason::ExpectedTrueOrFalse));
            }
        }
    };
    if let Some(s) = seccomp {
        // Checked in full when it is compiled, right after decode (`docs/STEPS.md`).
        expect_kind(*s, Kind::Object, At::field(Field::LinuxSeccomp))?;
    }
    c.seccomp = *seccomp;
    c.seccomp_fail_unknown = fail_unknown.is_some();
    c.seccomp_bpf = bpf_data
        .map(|v| string(v, At::field(Field::AnnotationsRunOciSeccompBpfData)))
        .transpose()?;
    process(*process_field, &mut c.process)?;
    if exec {
        exec_only(c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_keys_match_their_constants() {
        // `decode` names them in a packed list (literals only).
        assert_eq!(STAY_PID1, "org.ocinit.pid1");
        assert_eq!(
            crate::seccomp::FAIL_UNKNOWN,
            "run.oci.seccomp_fail_unknown_syscall"
        );
        assert_eq!(crate::seccomp::BPF_DATA, "run.oci.seccomp_bpf_data");
    }

    fn testdata(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/testdata/");
        std::fs::read(format!("{dir}{name}")).unwrap_or_else(|e| panic!("{dir}{name}: {e}"))
    }

    fn err(doc: &str) -> (String, &'static str) {
        let e = decode(doc.as_bytes()).expect_err("must fail");
        (e.at.to_string(), e.why())
    }

    const MINIMAL: &str = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},
        "process":{"args":["sh"],"cwd":"/"}}"#;

    #[test]
    fn minimal_config_decodes() {
        let c = decode(MINIMAL.as_bytes()).expect("decodes");
        assert!(c.root_path.eq_str("rootfs"));
        assert_eq!(c.process.user.uid, 0);
        assert_eq!(c.namespaces, Namespaces(0));
    }

    /// Every file of the shared test data is valid JSON the reader walks completely; configs
    /// either decode or are refused for a field of a later milestone, naming it.
    #[test]
    fn decodes_every_testdata_file() {
        for name in [
            "configs/crun-spec.json",
            "configs/runc-spec.json",
            "configs/runc-spec-rootless.json",
            "configs/docker-like.json",
            "seccomp/default.json",
            "seccomp/docker-default-amd64.oci.json",
        ] {
            let doc = testdata(name);
            json::validate(&doc, json::MAX_DEPTH).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let root = Value::root(&doc);
            assert!(root.members().count() > 2, "{name}");
            if name.starts_with("configs/") {
                match decode(&doc) {
                    Ok(_) => {}
                    Err(e) => assert_eq!(
                        e.why(),
                        "not supported by this version of ocinit",
                        "{name}: {e:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn docker_like_escapes_decode() {
        let doc = testdata("configs/docker-like.json");
        let root = Value::root(&doc);
        let p = member(root, "process").expect("process");
        let mut buf = [0u8; 4096];
        let mut all = String::new();
        for a in member(p, "args")
            .expect("args")
            .elements()
            .chain(member(p, "env").expect("env").elements())
        {
            let n = a
                .as_str()
                .expect("string")
                .decode_into(&mut buf)
                .expect("fits");
            all.push_str(std::str::from_utf8(&buf[..n]).expect("utf8"));
            all.push('\n');
        }
        assert!(all.contains("&&"), "Go's \\u0026 decodes to '&': {all}");
        assert!(!all.contains("\\u"), "no escape left undecoded: {all}");
        assert!(
            all.chars().any(|c| c as u32 > 0xFFFF),
            "the surrogate pair decodes to one scalar: {all}"
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        assert_eq!(err(r#"[]"#), (String::new(), "expected an object"));
        assert_eq!(
            err(r#"{"root":{"path":"r"},"process":{"args":["sh"],"cwd":"/"}}"#),
            ("ociVersion".into(), "missing")
        );
        assert_eq!(
            err(&MINIMAL.replace(r#"["sh"]"#, r#"["sh", 7]"#)),
            ("process.args[1]".into(), "expected a string")
        );
        assert_eq!(
            err(&MINIMAL.replace(r#"["sh"]"#, "[]")),
            ("process.args".into(), "empty")
        );
        assert_eq!(
            err(&MINIMAL.replace(r#""cwd":"/""#, r#""cwd":"rel""#)),
            ("process.cwd".into(), "not an absolute path")
        );
        assert_eq!(
            err(&MINIMAL.replace(r#""cwd":"/""#, r#""cwd":"/","user":{"uid":-1}"#)),
            (
                "process.user.uid".into(),
                "out of range for a 32-bit unsigned id"
            )
        );
        assert_eq!(
            err(&MINIMAL.replace(r#""cwd":"/""#, r#""cwd":"/","env":["A=1","B"]"#)),
            ("process.env[1]".into(), "no '=' in entry")
        );
        assert_eq!(
            err(&MINIMAL.replace(
                r#""cwd":"/""#,
                r#""cwd":"/","consoleSize":{"height":65536}"#
            )),
            (
                "process.consoleSize.height".into(),
                "out of range (0 to 65535)"
            )
        );
    }

    #[test]
    fn namespaces_are_checked() {
        let with = |ns: &str| {
            MINIMAL.replace(
                r#""ociVersion""#,
                &format!(r#""linux":{{"namespaces":[{ns}]}},"ociVersion""#),
            )
        };
        assert_eq!(
            err(&with(r#"{"type":"pid"},{"type":"bogus"}"#)),
            ("linux.namespaces[1].type".into(), "unknown namespace type")
        );
        assert_eq!(
            err(&with(r#"{"type":"ipc"},{"type":"ipc"}"#)),
            (
                "linux.namespaces[1].type".into(),
                "duplicate namespace type"
            )
        );
        assert_eq!(
            err(&with(r#"{"type":"net","path":"/proc/1/ns/net"}"#)),
            ("linux.namespaces[0].type".into(), "unknown namespace type")
        );
        let joined = with(r#"{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"}"#);
        let c = decode(joined.as_bytes()).expect("decodes");
        assert_eq!(
            c.namespaces,
            Namespaces(linux_raw_sys::general::CLONE_NEWPID)
        );
        assert_eq!(
            c.joins.set(),
            Namespaces(linux_raw_sys::general::CLONE_NEWNET)
        );
        assert_eq!(
            err(&with(r#"{"type":"network","path":"net"}"#)),
            ("linux.namespaces[0].path".into(), "not an absolute path")
        );
        let doc = with(r#"{"type":"pid"},{"type":"mount"},{"type":"uts"}"#);
        let c = decode(doc.as_bytes()).expect("decodes");
        assert!(
            c.namespaces
                .has(linux_raw_sys::general::CLONE_NEWPID | linux_raw_sys::general::CLONE_NEWNS)
        );
        assert_eq!(
            err(&MINIMAL.replace("\"root\"", "\"hostname\":\"h\",\"root\"")),
            ("hostname".into(), "needs a new uts namespace")
        );
    }
}
