//! The user process: working directory, identity, environment, `args[0]`, the exec FIFO, the
//! descriptor sweep and `execve`. Everything here runs inside the container, after the pivot.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{Access, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Gid, Uid};

use crate::config::{Process, uint32};
use crate::cpath::{CPath, PATH_MAX};
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::json::JStr;
use crate::sys::{self, CStrArray};

/// A bump arena of NUL-terminated strings over a borrowed buffer.
#[derive(Debug)]
pub struct Strings<'s> {
    rest: &'s mut [u8],
}

impl<'s> Strings<'s> {
    /// Over `buf`.
    pub fn new(buf: &'s mut [u8]) -> Self {
        Strings { rest: buf }
    }

    /// Copy `bytes` in, NUL-terminated.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<&'s CStr, InitError> {
        self.push(&[Part::Bytes(bytes)], Step::Env, At::NONE)
    }

    /// Copy the concatenation of `parts` (decoded) in, NUL-terminated.
    fn push(&mut self, parts: &[Part<'_>], step: Step, at: At) -> Result<&'s CStr, InitError> {
        let rest = core::mem::take(&mut self.rest);
        let mut n = 0;
        for part in parts {
            let room = rest.get_mut(n..).unwrap_or_default();
            n += match part {
                Part::Json(s) => s.decode_into(room),
                Part::Bytes(b) => room.get_mut(..b.len()).map(|dst| {
                    dst.copy_from_slice(b);
                    b.len()
                }),
            }
            .ok_or_else(|| InitError::invalid(step, at, Reason::StringsExceedTheInitsBuffer))?;
        }
        let (used, tail) = rest.split_at_mut((n + 1).min(rest.len()));
        self.rest = tail;
        let Some(nul) = used.get_mut(n) else {
            return Err(InitError::invalid(
                step,
                at,
                Reason::StringsExceedTheInitsBuffer,
            ));
        };
        *nul = 0;
        CStr::from_bytes_with_nul(used)
            .map_err(|_| InitError::invalid(step, at, Reason::ContainsANULByte))
    }
}

/// A piece of a string [`Strings::push`] assembles.
#[derive(Debug, Clone, Copy)]
pub enum Part<'j> {
    /// A JSON string's contents, unescaped.
    Json(JStr<'j>),
    /// Bytes as they are.
    Bytes(&'j [u8]),
}

/// `process.user.umask`, defaulting to 0022 as runc does.
pub fn umask(p: &Process<'_>) {
    rustix::process::umask(Mode::from_raw_mode(p.user.umask.unwrap_or(0o022)));
}

/// `chdir(process.cwd)`. Returns `Ok(false)` when it must be retried as the user: the runtime
/// may be unable to enter a directory the user can (rootless volumes), and vice versa.
pub fn chdir(p: &Process<'_>, retry: bool) -> Result<bool, InitError> {
    let at = At::field(Field::ProcessCwd);
    let cwd = CPath::decode(p.cwd, Step::Cwd, at)?;
    match rustix::process::chdir(cwd.as_cstr()) {
        Ok(()) => Ok(true),
        Err(Errno::ACCESS | Errno::PERM) if !retry => Ok(false),
        Err(e) => Err(InitError::sys(Step::Cwd, Op::Chdir, e, at)),
    }
}

/// Verify the working directory is inside the container's root: a directory reached through a
/// descriptor from outside (CVE-2024-21626) reads as `(unreachable)/...` or not absolute.
/// `/` itself is the root by definition: nothing to verify.
pub fn verify_cwd(p: &Process<'_>) -> Result<(), InitError> {
    if p.cwd.eq_str("/") {
        return Ok(());
    }
    let mut buf = [0u8; PATH_MAX];
    let at = At::field(Field::ProcessCwd);
    let n = sys::getcwd(&mut buf).ctx(Step::Cwd, Op::Getcwd, at)?;
    if buf.get(..n).is_some_and(|p| p.starts_with(b"/")) {
        Ok(())
    } else {
        Err(InitError::invalid(
            Step::Cwd,
            at,
            Reason::OutsideTheContainersRootPossibleBreakout,
        )
        .with_op(Op::Getcwd))
    }
}

/// `process.rlimits`, before the user switch (raising a hard limit needs CAP_SYS_RESOURCE).
/// Not inlined: in `entry::prepare_process` its code comes out 25 bytes larger.
#[inline(never)]
pub fn rlimits(p: &Process<'_>) -> Result<(), InitError> {
    use rustix::process::{Resource, Rlimit};
    const RESOURCES: [Resource; 16] = [
        Resource::Cpu,
        Resource::Fsize,
        Resource::Data,
        Resource::Stack,
        Resource::Core,
        Resource::Rss,
        Resource::Nproc,
        Resource::Nofile,
        Resource::Memlock,
        Resource::As,
        Resource::Locks,
        Resource::Sigpending,
        Resource::Msgqueue,
        Resource::Nice,
        Resource::Rtprio,
        Resource::Rttime,
    ];
    for (i, r) in p.rlimits.iter().flat_map(|v| v.elements()).enumerate() {
        let (resource, soft, hard) = crate::config::rlimit(r, i)?;
        let finite = |v: u64| (v != u64::MAX).then_some(v);
        let limit = Rlimit {
            current: finite(soft),
            maximum: finite(hard),
        };
        let Some(&res) = RESOURCES.get(resource) else {
            continue;
        };
        rustix::process::setrlimit(res, limit).ctx(
            Step::Rlimits,
            Op::Setrlimit,
            At::item(Field::ProcessRlimitsItem, i),
        )?;
    }
    Ok(())
}

/// `process.oomScoreAdj`, written while `/proc` is still the runtime's (before any namespace).
pub fn oom_score_adj(p: &Process<'_>) -> Result<(), InitError> {
    let Some(adj) = p.oom_score_adj else {
        return Ok(());
    };
    let at = At::field(Field::ProcessOomScoreAdj);
    let file = rustix::fs::open(
        c"/proc/self/oom_score_adj",
        OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx(Step::OomScoreAdj, Op::Open, at)?;
    let mut text = crate::protocol::Line::<16>::new();
    let _ = text.push(&[crate::text::Part::I(i64::from(adj))]);
    rustix::io::write(&file, text.as_bytes())
        .ctx(Step::OomScoreAdj, Op::Write, at)
        .map(drop)
}

/// The home directory of `uid` in the container's `/etc/passwd` (numeric match only, never
/// names: CVE-2016-3697), written to `out`; `None` when there is no such entry or no usable
/// file. Streams the file a line at a time, so its size does not matter; lines longer than the
/// buffer are skipped.
pub fn home_of(uid: u32, out: &mut [u8]) -> Option<usize> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = rustix::fs::open(c"/etc/passwd", flags, Mode::empty()).ok()?;
    // A FIFO or a device would block or never end.
    if FileType::from_raw_mode(rustix::fs::fstat(&file).ok()?.st_mode) != FileType::RegularFile {
        return None;
    }
    let mut buf = [0u8; 4096];
    let (mut len, mut skipping) = (0, false);
    loop {
        let n = match rustix::io::read(&file, buf.get_mut(len..).unwrap_or_default()) {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        let end_of_file = n == 0;
        len += n;
        let mut start = 0;
        while let Some(nl) = buf
            .get(start..len)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
        {
            let line = buf.get(start..start + nl).unwrap_or_default();
            if let Some(dir) = passwd_home(line, uid).filter(|_| !skipping) {
                out.get_mut(..dir.len())?.copy_from_slice(dir);
                return Some(dir.len());
            }
            skipping = false;
            start += nl + 1;
        }
        if end_of_file {
            let last = buf.get(start..len).unwrap_or_default();
            let dir = (!skipping).then(|| passwd_home(last, uid)).flatten()?;
            out.get_mut(..dir.len())?.copy_from_slice(dir);
            return Some(dir.len());
        }
        buf.copy_within(start..len, 0);
        len -= start;
        if len == buf.len() {
            // A line longer than the buffer: drop it up to its newline.
            len = 0;
            skipping = true;
        }
    }
}

/// `name:password:uid:gid:gecos:home:shell` → home, when uid matches.
fn passwd_home(line: &[u8], uid: u32) -> Option<&[u8]> {
    let mut fields = line.split(|&c| c == b':');
    let uid_field = fields.nth(2)?;
    let parsed = core::str::from_utf8(uid_field).ok()?.parse::<u32>().ok()?;
    if parsed != uid {
        return None;
    }
    fields.nth(2).filter(|d| !d.is_empty())
}

/// `HOME` when `process.env` has none: from `/etc/passwd` by uid, else `/` (runc).
/// Not inlined: in `entry::prepare_process` its code comes out 40 bytes larger.
#[inline(never)]
pub fn default_home<'s>(
    p: &Process<'_>,
    strings: &mut Strings<'s>,
    envp: &mut CStrArray<'s>,
) -> Result<(), InitError> {
    if (0..envp.len()).any(|i| {
        envp.get(i)
            .is_some_and(|e| e.to_bytes().starts_with(b"HOME="))
    }) {
        return Ok(());
    }
    let mut dir = [0u8; PATH_MAX];
    let n = home_of(p.user.uid, &mut dir).unwrap_or(0);
    let home: &[u8] = if n == 0 {
        b"/"
    } else {
        dir.get(..n).unwrap_or(b"/")
    };
    let entry = strings.push(
        &[Part::Bytes(b"HOME="), Part::Bytes(home)],
        Step::Env,
        At::field(Field::ProcessEnv),
    )?;
    envp.push(entry).map_err(|_| {
        InitError::invalid(
            Step::Env,
            At::field(Field::ProcessEnv),
            Reason::MoreThan4096Entries,
        )
    })
}

/// True when `/proc/self/setgroups` said `deny` after the user namespace's maps were written:
/// then `setgroups` is not allowed and is skipped (runc). Written once, before any fork.
static SETGROUPS_DENIED: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Read `/proc/self/setgroups` (still the runtime's /proc: before any mount) and remember it.
pub fn note_setgroups_policy() {
    let mut buf = [0u8; 8];
    let denied = rustix::fs::open(
        c"/proc/self/setgroups",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .and_then(|f| rustix::io::read(&f, &mut buf))
    .is_ok_and(|n| buf.get(..n).is_some_and(|b| b.starts_with(b"deny")));
    SETGROUPS_DENIED.store(denied, core::sync::atomic::Ordering::Relaxed);
}

/// `setgroups(additionalGids)`, `setresgid(gid)`, `setresuid(uid)`, in that order: each needs
/// a privilege the next one drops. Single-threaded, so the thread-scoped calls cover the process.
/// `process.scheduler`, `process.ioPriority` and `linux.personality`: before seccomp (a profile
/// may forbid `personality`, runc #4900) and before the capability drop (a real-time policy
/// needs CAP_SYS_NICE).
pub fn scheduling(config: &crate::config::Config<'_>) -> Result<(), InitError> {
    let p = &config.process;
    if let Some(s) = p.scheduler {
        // Checked at decode: this only builds the argument again.
        sys::sched_setattr(&crate::config::scheduler(s)?).ctx(
            Step::Scheduler,
            Op::SchedSetattr,
            At::field(Field::ProcessScheduler),
        )?;
    }
    if let Some(ioprio) = p.io_priority {
        sys::set_io_priority(ioprio).ctx(
            Step::IoPriority,
            Op::IoprioSet,
            At::field(Field::ProcessIoPriority),
        )?;
    }
    if let Some(domain) = config.personality {
        sys::set_personality(domain).ctx(
            Step::Personality,
            Op::Personality,
            At::field(Field::LinuxPersonality),
        )?;
    }
    Ok(())
}

/// What fds 0–2 are, looked at once (`fstat`) for the two steps that need it: the reopen of a
/// null device after the pivot and the chown before the user switch. Each is the null device
/// (1:3) and its owner, or why `fstat` failed (a closed fd).
#[derive(Debug, Clone, Copy)]
pub struct Stdio(pub [Result<(bool, u32), Errno>; 3]);

impl Stdio {
    pub fn inspect() -> Stdio {
        Stdio(sys::stdio().map(|fd| {
            rustix::fs::fstat(fd).map(|st| (crate::paths::is_null_device(&st), st.st_uid))
        }))
    }
}

/// Give the user its stdio (its terminal, or the parent's pipes), as runc's
/// `fixStdioPermissions`: a `/dev/null` (device 1:3, the host's) is never touched, and EINVAL
/// (the user's id is not mapped where the file lives) and EPERM (rootless) leave the owner as
/// it is, as in runc.
fn own_stdio(uid: Uid, stdio: &Stdio) -> Result<(), InitError> {
    for (fd, file) in sys::stdio().into_iter().zip(stdio.0) {
        let (null, owner) = file.ctx(Step::User, Op::Chown, At::NONE)?;
        if null || owner == uid.as_raw() {
            continue;
        }
        match rustix::fs::fchown(fd, Some(uid), None) {
            Ok(()) | Err(Errno::INVAL | Errno::PERM) => {}
            Err(e) => return Err(InitError::sys(Step::User, Op::Chown, e, At::NONE)),
        }
    }
    Ok(())
}

/// `process.user`: the additional groups, stdio owned by the user, then the gid and the uid.
/// Not inlined: in `entry::prepare_process` its code comes out 90 bytes larger.
#[inline(never)]
pub fn switch_user(p: &Process<'_>, stdio: &Stdio) -> Result<(), InitError> {
    const STEP: Step = Step::User;
    let mut groups = [Gid::ROOT; 256];
    let list = p
        .user
        .additional_gids
        .map(|v| v.elements())
        .into_iter()
        .flatten();
    let mut n = 0;
    for (i, g) in list.enumerate() {
        let at = At::item(Field::ProcessUserAdditionalGidsItem, i);
        let slot = groups
            .get_mut(n)
            .ok_or_else(|| InitError::invalid(STEP, at, Reason::MoreThan256AdditionalGroups))?;
        *slot = Gid::from_raw(uint32(g, at)?);
        n += 1;
    }
    let at_groups = At::field(Field::ProcessUserAdditionalGids);
    if SETGROUPS_DENIED.load(core::sync::atomic::Ordering::Relaxed) {
        if n > 0 {
            return Err(InitError::invalid(
                STEP,
                at_groups,
                Reason::SetgroupsIsDeniedInThisUser,
            ));
        }
    } else {
        rustix::thread::set_thread_groups(groups.get(..n).unwrap_or_default()).ctx(
            STEP,
            Op::Setgroups,
            at_groups,
        )?;
    }
    let uid = Uid::from_raw(p.user.uid);
    // While still root (CAP_CHOWN).
    own_stdio(uid, stdio)?;
    let gid = Gid::from_raw(p.user.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid).ctx(
        STEP,
        Op::Setgid,
        At::field(Field::ProcessUserGid),
    )?;
    rustix::thread::set_thread_res_uid(uid, uid, uid).ctx(
        STEP,
        Op::Setuid,
        At::field(Field::ProcessUserUid),
    )
}

/// Build envp from `process.env`: each `KEY=value` decoded; a repeated key keeps its first
/// position and takes the last value (runc).
pub fn environment<'s>(
    p: &Process<'_>,
    strings: &mut Strings<'s>,
    envp: &mut CStrArray<'s>,
) -> Result<(), InitError> {
    for (i, e) in p.env.iter().flat_map(|v| v.elements()).enumerate() {
        let at = At::item(Field::ProcessEnvItem, i);
        let s = e
            .as_str()
            .ok_or_else(|| InitError::invalid(Step::Env, at, Reason::ExpectedAString))?;
        set_env(strings, envp, &[Part::Json(s)], at)?;
    }
    Ok(())
}

/// Add `KEY=value` (made of `parts`) to `envp`; an entry with the same key takes its place.
pub fn set_env<'s>(
    strings: &mut Strings<'s>,
    envp: &mut CStrArray<'s>,
    parts: &[Part<'_>],
    at: At,
) -> Result<(), InitError> {
    let entry = strings.push(parts, Step::Env, at)?;
    let key_len = entry
        .to_bytes()
        .iter()
        .position(|&c| c == b'=')
        .unwrap_or(0)
        + 1;
    let key = entry.to_bytes().get(..key_len).unwrap_or_default();
    match (0..envp.len()).find(|&j| {
        envp.get(j)
            .is_some_and(|old| old.to_bytes().starts_with(key))
    }) {
        Some(j) => envp.replace(j, entry),
        None => envp
            .push(entry)
            .map_err(|_| InitError::invalid(Step::Env, at, Reason::MoreThan4096Entries))?,
    }
    Ok(())
}

/// Build argv from `process.args`.
pub fn arguments<'s>(
    p: &Process<'_>,
    strings: &mut Strings<'s>,
    argv: &mut CStrArray<'s>,
) -> Result<(), InitError> {
    for (i, a) in p.args.elements().enumerate() {
        let at = At::item(Field::ProcessArgsItem, i);
        let s = a
            .as_str()
            .ok_or_else(|| InitError::invalid(Step::Lookup, at, Reason::ExpectedAString))?;
        let arg = strings.push(&[Part::Json(s)], Step::Lookup, at)?;
        argv.push(arg)
            .map_err(|_| InitError::invalid(Step::Lookup, at, Reason::MoreThan4096Entries))?;
    }
    Ok(())
}

fn executable(path: &CStr) -> Result<(), Errno> {
    let st = rustix::fs::stat(path)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(Errno::ACCESS);
    }
    rustix::fs::accessat(rustix::fs::CWD, path, Access::EXEC_OK, AtFlags::EACCESS)
}

/// Find `args[0]` inside the container as the user will exec it: as given when it contains a
/// `/`, else in each directory of the `PATH` from `process.env` (runc: a create-time error).
pub fn lookup<'s>(
    argv: &CStrArray<'s>,
    envp: &CStrArray<'s>,
    strings: &mut Strings<'s>,
) -> Result<&'s CStr, InitError> {
    const STEP: Step = Step::Lookup;
    let at = At::item(Field::ProcessArgsItem, 0);
    let arg0 = argv
        .get(0)
        .ok_or_else(|| InitError::invalid(STEP, at, Reason::Empty))?;
    if arg0.to_bytes().contains(&b'/') {
        executable(arg0).ctx(STEP, Op::Access, at)?;
        return Ok(arg0);
    }
    let path = (0..envp.len())
        .filter_map(|i| envp.get(i))
        .filter_map(|e| e.to_bytes().strip_prefix(b"PATH="))
        .next_back()
        .unwrap_or_default();
    let mut first_error = None;
    for dir in path.split(|&c| c == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let mut candidate = [0u8; PATH_MAX];
        let len = dir.len() + 1 + arg0.to_bytes().len();
        let Some(dst) = candidate.get_mut(..len) else {
            continue;
        };
        let (d, rest) = dst.split_at_mut(dir.len());
        d.copy_from_slice(dir);
        if let Some((slash, name)) = rest.split_first_mut() {
            *slash = b'/';
            name.copy_from_slice(arg0.to_bytes());
        }
        let Ok(c) = CStr::from_bytes_until_nul(candidate.get(..=len).unwrap_or_default()) else {
            continue;
        };
        match executable(c) {
            Ok(()) => return strings.push(&[Part::Bytes(c.to_bytes())], STEP, at),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    // Like Go's exec.LookPath: "not found" unless the only candidates were not executable.
    let errno = match first_error {
        Some(Errno::ACCESS) => Errno::ACCESS,
        _ => Errno::NOENT,
    };
    Err(InitError::sys(STEP, Op::Access, errno, at).because(Reason::ExecutableFileNotFoundInPATH))
}

/// Block until `start` opens the FIFO for reading, then write one byte. The parent passed an
/// `O_PATH` fd, useless for I/O, so it is reopened for writing through our own fd table.
pub fn wait_fifo(fifo: OwnedFd) -> Result<(), InitError> {
    const STEP: Step = Step::ExecFifo;
    let path = CPath::proc_fd(fifo.as_fd());
    let writer = rustix::fs::open(
        path.as_cstr(),
        OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx(STEP, Op::Open, At::NONE)?;
    rustix::io::write(&writer, b"0").ctx(STEP, Op::Write, At::NONE)?;
    // Closed now, not at exec: old kernels reset dumpable before closing CLOEXEC fds.
    drop(writer);
    drop(fifo);
    Ok(())
}

/// Close every descriptor from `first` up except `keep` (at most 4): the user process inherits
/// only stdio and the preserved fds (CVE-2024-21626).
pub fn close_fds(first: u32, keep: &[BorrowedFd<'_>]) -> Result<(), InitError> {
    let mut kept = [u32::MAX; 4];
    for (slot, fd) in kept.iter_mut().zip(keep) {
        *slot = u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX);
    }
    kept.sort_unstable();
    let mut from = first;
    for &k in &kept {
        if k >= from && k != u32::MAX {
            if k > from {
                sys::close_range(from, k - 1).ctx(Step::Setup, Op::CloseRange, At::NONE)?;
            }
            from = k + 1;
        }
    }
    sys::close_range(from, u32::MAX).ctx(Step::Setup, Op::CloseRange, At::NONE)
}

/// `execve`; returns only on failure.
pub fn exec(path: &CStr, argv: &CStrArray<'_>, envp: &CStrArray<'_>) -> InitError {
    let errno = sys::execve(path, argv, envp);
    InitError::sys(
        Step::Exec,
        Op::Execve,
        errno,
        At::item(Field::ProcessArgsItem, 0),
    )
}
