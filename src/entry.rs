//! The init sequence, in order, and the one place that turns an error into a report and an
//! exit status. Each step lives in its own module; `docs/STEPS.md` gives the reasons.

use core::ffi::CStr;

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{Pid, Signal};

use crate::config::{self, Config};
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};
use crate::protocol::{self, Line, Log};
use crate::sys::{self, Buffers, CStrArray, Forked, StartupStrings};
use crate::text::Part;
use crate::{caps, process, rootfs};

/// The protocol's descriptors and settings, from the environment.
#[derive(Debug)]
pub struct Setup {
    /// Control channel.
    pub control: OwnedFd,
    /// Log pipe.
    pub log: Option<OwnedFd>,
    /// Debug lines wanted.
    pub debug: bool,
    /// Exec FIFO (`O_PATH`).
    pub fifo: Option<OwnedFd>,
    /// Number of fds from 3 up that the user process keeps.
    pub preserved: u32,
    /// The session keyring to join.
    pub keyring: Option<&'static CStr>,
    /// `_OCINIT_TYPE=exec`: run another process in a running container.
    pub exec: bool,
    /// `_OCINIT_LISTEN_FDS`: how many of the preserved fds are listening sockets.
    pub listen_fds: u32,
    /// The parent-death signal the parent gave us, and the parent's pid then.
    pub parent_death: Option<(Signal, Pid)>,
}

fn env_fd(value: &[u8]) -> Result<i32, InitError> {
    let at = At::NONE;
    let bad = || {
        InitError::invalid(Step::Setup, at, Reason::MalformedDescriptorNumber)
            .with_op(Op::Environment)
    };
    if value.is_empty() || value.len() > 9 || !value.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    Ok(value.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0')))
}

fn env_error(why: Reason) -> InitError {
    InitError::invalid(Step::Setup, At::NONE, why).with_op(Op::Environment)
}

impl Setup {
    /// Read the protocol variables. Nothing of the environment reaches the user process: its
    /// environment is built from `process.env` alone.
    pub fn from_env(env: StartupStrings) -> Result<Setup, InitError> {
        let (mut version, mut control, mut log, mut fifo, mut kind) =
            (None, None, None, None, None);
        let (mut debug, mut preserved, mut keyring, mut listen_fds) = (false, 0u32, None, 0u32);
        for entry_cstr in env {
            let entry = entry_cstr.to_bytes();
            let Some(eq) = entry.iter().position(|&c| c == b'=') else {
                continue;
            };
            let (key, value) = (
                entry.get(..eq).unwrap_or_default(),
                entry.get(eq + 1..).unwrap_or_default(),
            );
            match key {
                k if k == protocol::ENV_PROTOCOL.as_bytes() => version = Some(value),
                k if k == protocol::ENV_CONTROL.as_bytes() => control = Some(env_fd(value)?),
                k if k == protocol::ENV_LOG.as_bytes() => log = Some(env_fd(value)?),
                k if k == protocol::ENV_FIFO.as_bytes() => fifo = Some(env_fd(value)?),
                k if k == protocol::ENV_TYPE.as_bytes() => kind = Some(value),
                k if k == protocol::ENV_LOG_LEVEL.as_bytes() => debug = value == b"debug",
                k if k == protocol::ENV_KEYRING.as_bytes() => {
                    let with_nul = entry_cstr
                        .to_bytes_with_nul()
                        .get(eq + 1..)
                        .unwrap_or_default();
                    keyring = CStr::from_bytes_with_nul(with_nul)
                        .ok()
                        .filter(|n| !n.is_empty());
                }
                k if k == protocol::ENV_PRESERVED_FDS.as_bytes() => {
                    preserved = env_fd(value)?.cast_unsigned();
                }
                k if k == protocol::ENV_LISTEN_FDS.as_bytes() => {
                    listen_fds = env_fd(value)?.cast_unsigned();
                }
                _ => {}
            }
        }
        let Some(control) = control else {
            return Err(env_error(Reason::OcinitCONTROLIsNotSet));
        };
        if listen_fds > preserved {
            return Err(env_error(Reason::MoreListeningFdsThanPreservedOnes));
        }
        // Take the log first, so the remaining checks can be reported there too.
        let take = |fd: i32| {
            let first = 3 + i64::from(preserved);
            if i64::from(fd) < first {
                return Err(env_error(Reason::ProtocolDescriptorOverlapsStdioOrThe));
            }
            // Close-on-exec from here on: the user process must not inherit the protocol's fds.
            sys::take_inherited_fd(fd).ctx(Step::Setup, Op::Fcntl, At::NONE)
        };
        let setup = Setup {
            control: take(control)?,
            log: log.map(take).transpose()?,
            debug,
            fifo: fifo.map(take).transpose()?,
            preserved,
            keyring,
            exec: kind == Some(b"exec".as_slice()),
            listen_fds,
            // The parent's choice, kept for the user process (the user switch clears it).
            parent_death: rustix::process::parent_process_death_signal()
                .ok()
                .flatten()
                .and_then(|signal| Some((signal, rustix::process::getppid()?))),
        };
        if version != Some(protocol::VERSION.as_bytes()) {
            return Err(env_error(
                Reason::UnsupportedProtocolVersionInOcinitPROTOCOL,
            ));
        }
        if kind.is_some_and(|k| k != b"standard" && k != b"exec") {
            return Err(env_error(Reason::UnsupportedInitTypeInOcinitTYPE));
        }
        Ok(setup)
    }

    /// Close anything else the parent let us inherit before acting on anything: a leaked
    /// descriptor of a host directory must never become a cwd or an exec path inside the
    /// container (CVE-2024-21626).
    fn close_unannounced(&self) -> Result<(), InitError> {
        let mut keep = [self.control.as_fd(); 3];
        if let Some(l) = &self.log {
            keep[1] = l.as_fd();
        }
        if let Some(f) = &self.fifo {
            keep[2] = f.as_fd();
        }
        process::close_fds(3 + self.preserved, &keep)
    }

    fn log(&self) -> Log<'_> {
        Log {
            fd: self.log.as_ref().map(|f| f.as_fd()),
            debug: self.debug,
        }
    }
}

/// Run the init; the return value is the exit status (only on failure, or in the process that
/// forked the container's PID 1). Without the protocol's control channel in the environment,
/// ocinit is a standalone PID 1 (`src/pid1.rs`).
pub fn main(args: StartupStrings, env: StartupStrings) -> i32 {
    let control = protocol::ENV_CONTROL.as_bytes();
    let has_control = env.into_iter().any(|e| {
        e.to_bytes()
            .strip_prefix(control)
            .is_some_and(|r| r.starts_with(b"="))
    });
    if !has_control {
        // Started by the kernel as PID 1 with nothing to run: a VM's /init.
        if rustix::process::getpid().is_init() && args.count() <= 1 {
            return crate::vm::boot(env);
        }
        return crate::pid1::standalone(args, env);
    }
    // Spawned from a sealed memfd, the process would be named after its fd number in `ps`.
    let _ = rustix::thread::set_name(c"ocinit");
    let mut setup = match Setup::from_env(env) {
        Ok(s) => s,
        Err(e) => {
            let mut text = Line::<512>::new();
            let _ = protocol::error_text(&e, &mut text);
            sys::write_stderr(text.as_bytes());
            return 255;
        }
    };
    let Some(buffers) = sys::take_buffers() else {
        return 255;
    };
    match setup
        .close_unannounced()
        .and_then(|()| run(&mut setup, buffers))
    {
        Ok(never) => match never {},
        Err(e) => {
            report(&setup, &e);
            255
        }
    }
}

/// Tell the parent (and the log); when the parent cannot hear it any more (after `created` the
/// parent of `create` is gone), say it on stderr, the user process's stderr.
fn report(setup: &Setup, e: &InitError) {
    let mut message = Line::<512>::new();
    let sent = protocol::error_message(e, &mut message).is_ok()
        && protocol::send_error_frame(setup.control.as_fd(), message.as_bytes(), Step::Exec)
            .is_ok();
    let mut text = Line::<512>::new();
    let _ = protocol::error_text(e, &mut text);
    let line = core::str::from_utf8(text.as_bytes())
        .unwrap_or("")
        .trim_end_matches('\n');
    setup.log().line("error", &[Part::S(line)]);
    if !sent {
        sys::write_stderr(text.as_bytes());
    }
}

/// The init sequence: returns only on failure (the process that forks the container's PID 1
/// exits in `fork_pid1`; the container's process `execve`s).
fn run(
    setup: &mut Setup,
    buffers: &'static mut Buffers,
) -> Result<core::convert::Infallible, InitError> {
    let Buffers {
        config: config_buf,
        strings,
        argv,
        envp,
        filter,
    } = buffers;
    let control = setup.control.as_fd();

    // The config comes first: every later step depends on it.
    let frame = protocol::recv_frame(control, config_buf, Step::Receive)?;
    setup.log().phase("receive");
    let config = if setup.exec {
        config::decode_exec(frame)?
    } else {
        config::decode_static(frame)?
    };
    setup.log().phase("decode");
    // Compiled before any namespace or mount exists: a bad profile fails here, and the work
    // is done once (the PID-namespace child inherits the program).
    let seccomp = seccomp_filter(&config, &setup.log(), filter)?;
    setup.log().phase("seccomp-compile");

    let mut stdio = if setup.exec {
        enter_container(&config, control)?;
        None
    } else {
        Some(build_container(&config, Some(control))?)
    };
    setup.log().phase("namespaces-rootfs");
    // Inside the container (its devpts), before the user switch and the handshake: the parent
    // has the master before it answers `ready`. A new container gets its /dev/console.
    crate::console::setup(
        &config,
        control,
        !setup.exec && config.namespaces.has(g::CLONE_NEWNS),
    )?;
    if config.process.terminal {
        // Stdio is the terminal now.
        stdio = None;
    }
    // In the process that will exec (after the PID-namespace fork), before the user switch.
    let user_ns =
        config.namespaces.has(g::CLONE_NEWUSER) || config.joins.set().has(g::CLONE_NEWUSER);
    // Through a procfs of our own; they take effect at execve. The SELinux key label before
    // the keyring is created.
    crate::lsm::apply(&config.process)?;
    // The container's ring, by name; `exec` leaves its permissions as the container set them.
    crate::keyring::join(setup.keyring, user_ns, !setup.exec, &setup.log())?;
    // Before `ready`, as runc orders them.
    process_settings(&config)?;

    // The parent may act on the container now (cgroups, network, hooks); it says when to go on.
    protocol::send_simple(control, "ready", Step::Handshake)?;
    protocol::expect_reply(control, "run", Step::Handshake)?;
    setup.log().phase("keyring-handshake");

    let mut strings = process::Strings::new(strings);
    let mut argv = CStrArray::new(argv);
    let mut envp = CStrArray::new(envp);
    let nnp = config.process.no_new_privileges;
    let early = seccomp.as_ref().filter(|_| !nnp);
    let path = prepare_process(
        &config,
        &setup.log(),
        &mut strings,
        &mut argv,
        &mut envp,
        early,
        Some(control),
        stdio,
    )?;
    setup.log().phase("process");
    if setup.listen_fds > 0 {
        // Socket activation (crun): the process is told which fds listen, and that they are
        // its own (the supervisor's pid, in PID-1 mode, is rewritten to the child's).
        let pid = rustix::process::getpid().as_raw_nonzero().get();
        for parts in [
            [Part::S("LISTEN_FDS="), Part::U(setup.listen_fds.into())],
            [Part::S("LISTEN_PID="), Part::I(pid.into())],
        ] {
            let mut entry = Line::<32>::new();
            let _ = entry.push(&parts);
            let bytes = [process::Part::Bytes(entry.as_bytes())];
            process::set_env(&mut strings, &mut envp, &bytes, At::NONE)?;
        }
    }
    if let Some((signal, parent)) = setup.parent_death {
        // The PID-namespace fork never had it and the user switch cleared it: as the parent set it.
        rustix::process::set_parent_process_death_signal(Some(signal)).ctx(
            Step::Prctl,
            Op::Prctl,
            At::NONE,
        )?;
        // If the parent died before that, we were re-parented (runc's getppid check; in a PID
        // namespace of our own the parent is outside it and getppid says 0).
        let own_pid_ns =
            config.namespaces.has(g::CLONE_NEWPID) || config.joins.set().has(g::CLONE_NEWPID);
        if !own_pid_ns && rustix::process::getppid() != Some(parent) {
            return Err(InitError::invalid(
                Step::Prctl,
                At::NONE,
                Reason::TheParentRuntimeExited,
            ));
        }
    }
    if let Some(filter) = seccomp.as_ref().filter(|_| nnp) {
        // With no_new_privs: as late as possible while the parent still listens (a notify
        // listener goes to it), as runc does.
        crate::seccomp::load(filter, Some(control))?;
        setup.log().phase("seccomp-load");
    }

    // Everything that can fail before execve has passed: the container is created.
    protocol::send_simple(control, "created", Step::Handshake)?;
    if let Some(fifo) = setup.fifo.take() {
        process::wait_fifo(fifo)?;
    }
    // No descriptor sweep here: the unannounced ones were closed at the start, and every one
    // the init opened since is close-on-exec (the control channel and the log too).
    if config.stay_pid1 {
        // The user process runs as our child; we stay as its reaper (docs/PID1.md).
        return Err(crate::pid1::stay(path, &argv, &mut envp, &mut strings));
    }
    // The control channel closes on a successful exec: EOF without an error frame tells the
    // parent the user process runs.
    Err(process::exec(path, &argv, &envp))
}

/// `exec`: into the running container's namespaces (all joined by path, the mount one too),
/// then a fork into its PID namespace. No rootfs work: the container has its root already.
/// The process that forks for the PID namespace leaves in `fork_pid1`.
fn enter_container(config: &Config<'_>, control: BorrowedFd<'_>) -> Result<(), InitError> {
    process::oom_score_adj(&config.process)?;
    join_namespaces(config)?;
    if config.joins.set().has(g::CLONE_NEWPID) {
        fork_pid1(control)?;
    }
    Ok(())
}

/// Namespaces, the root filesystem, the hostname. The process that forks the container's PID 1
/// announces it on `control` and leaves in `fork_pid1`.
pub fn build_container(
    config: &Config<'_>,
    control: Option<BorrowedFd<'_>>,
) -> Result<process::Stdio, InitError> {
    // Everything the init creates (mount points, device nodes) gets the mode it names, whatever
    // umask the parent had; process.user.umask is set before `ready`.
    rustix::process::umask(rustix::fs::Mode::empty());
    // Through the runtime's /proc, before any namespace changes what it shows; the container's
    // processes inherit it.
    process::oom_score_adj(&config.process)?;
    // Idmapped mounts need the host's privileges over their sources' filesystems, which a user
    // namespace gives up: their trees are made before any namespace, attached in `mounts`.
    let mut idmapped = crate::idmap::prepare(config)?;
    // Existing namespaces before new ones: a new namespace is then owned by a joined user
    // namespace, and nested in a joined one of its kind.
    join_namespaces(config)?;
    // The user namespace first, alone: every other namespace is then owned by it.
    if config.namespaces.has(g::CLONE_NEWUSER) {
        user_namespace(config, control)?;
    }
    // Namespaces before any filesystem work, so every mount lands in the container's table.
    sys::unshare_namespaces(config.namespaces.0 & !g::CLONE_NEWUSER).ctx(
        Step::Namespaces,
        Op::Unshare,
        At::field(Field::LinuxNamespaces),
    )?;
    if let Some(offsets) = config.time_offsets {
        // Before any process enters the new time namespace (our children, or us at execve).
        time_offsets(offsets)?;
    }
    // A PID namespace, new or joined, is entered only by a child: fork it as a sibling (the
    // parent runtime's child, which it can wait for); this process reports its pid and leaves.
    if config.namespaces.has(g::CLONE_NEWPID) || config.joins.set().has(g::CLONE_NEWPID) {
        let Some(control) = control else {
            return Err(InitError::invalid(
                Step::PidNamespace,
                At::field(Field::LinuxNamespaces),
                Reason::ANewPidNamespaceNeedsA,
            ));
        };
        fork_pid1(control)?;
    }
    // Mount work happens while the host's paths are still reachable (bind sources).
    let root = rootfs::prepare(config)?;
    let dev_bound = rootfs::mount_all(config, &root, &mut idmapped)?;
    // After mounts[] (a tmpfs on /dev comes first), relative to the root handle, before the pivot.
    crate::devices::apply(config, root.as_fd(), dev_bound)?;
    rootfs::pivot(config, root)?;
    let stdio = process::Stdio::inspect();
    let mut null = None;
    if config.namespaces.has(g::CLONE_NEWNS) {
        // The container's /dev is in place: stdio on the host's /dev/null moves to it.
        null = crate::paths::reopen_dev_null(&stdio)?;
    }
    // In the container's namespaces, through a procfs of our own (CVE-2025-52881).
    crate::sysctl::apply(config.sysctl)?;
    // Container paths now; read-only first so that masks sit on top (runc).
    crate::paths::readonly(config)?;
    crate::paths::masked(config, null)?;
    hostname(config)?;
    Ok(stdio)
}

/// no_new_privs, scheduling, umask: what runc sets before it tells the parent it is ready.
pub fn process_settings(config: &Config<'_>) -> Result<(), InitError> {
    // Before anything else of the process, so nothing later can gain privileges.
    caps::no_new_privileges(&config.process)?;
    // Before seccomp and the capability drop.
    process::scheduling(config)?;
    process::umask(&config.process);
    Ok(())
}

/// cwd, environment, arguments, user; returns the executable `args[0]` resolves to.
#[expect(
    clippy::too_many_arguments,
    reason = "the step's inputs, each owned elsewhere: the config, the log, three static buffers, the early filter, the channel, what stdio was"
)]
pub fn prepare_process<'s>(
    config: &Config<'_>,
    log: &Log<'_>,
    strings: &mut process::Strings<'s>,
    argv: &mut CStrArray<'s>,
    envp: &mut CStrArray<'s>,
    early_seccomp: Option<&crate::seccomp::Filter<'_>>,
    control: Option<BorrowedFd<'_>>,
    stdio: Option<process::Stdio>,
) -> Result<&'s CStr, InitError> {
    let p = &config.process;
    // As the runtime's root first; a permission failure is retried as the user below.
    let cwd_entered = process::chdir(p, false)?;
    process::environment(p, strings, envp)?;
    // Read as root, from the container's /etc/passwd (after the pivot).
    process::default_home(p, strings, envp)?;
    process::arguments(p, strings, argv)?;
    // Raising a hard limit needs CAP_SYS_RESOURCE, which the user switch may drop.
    process::rlimits(p)?;
    if let Some(filter) = early_seccomp {
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the drop.
        crate::seccomp::load(filter, control)?;
    }
    // The bounding set needs CAP_SETPCAP: cut it before the switch; keep caps across it.
    let caps = caps::before_user_switch(p, log)?;
    process::switch_user(p, &stdio.unwrap_or_else(process::Stdio::inspect))?;
    if config.joins.count > 0 {
        // The switch reset dumpability to fs.suid_dumpable; processes already in the joined
        // namespaces must not reach us before execve (CVE-2016-9962).
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .ctx(Step::User, Op::Prctl, At::NONE)?;
    }
    if !cwd_entered {
        process::chdir(p, true)?;
    }
    process::verify_cwd(p)?;
    caps::after_user_switch(caps, log)?;
    // Resolved as the user with its final capabilities, before the FIFO: "not found" is a
    // create-time error (runc).
    process::lookup(argv, envp, strings)
}

/// The container's seccomp filter: the precompiled annotation if given, else `linux.seccomp`
/// compiled; `None` without either.
pub fn seccomp_filter<'b>(
    config: &Config<'_>,
    log: &Log<'_>,
    buf: &'b mut [linux_raw_sys::ptrace::sock_filter; crate::seccomp::limits::INSNS],
) -> Result<Option<crate::seccomp::Filter<'b>>, InitError> {
    if let Some(data) = config.seccomp_bpf {
        let flags = match config.seccomp {
            Some(s) => crate::seccomp::flags(s)?,
            None => 0,
        };
        let program = crate::seccomp::decode_precompiled(data, buf)?;
        return Ok(Some(crate::seccomp::Filter { program, flags }));
    }
    config
        .seccomp
        .map(|s| crate::seccomp::compile(s, config.seccomp_fail_unknown, log, buf))
        .transpose()
}

/// `unshare(CLONE_NEWUSER)`, then ask the parent to write our id maps (only a process outside
/// the namespace can), then become root inside it.
fn user_namespace(config: &Config<'_>, control: Option<BorrowedFd<'_>>) -> Result<(), InitError> {
    const STEP: Step = Step::UserNamespace;
    let at = At::field(Field::LinuxNamespaces);
    let Some(control) = control else {
        return Err(InitError::invalid(
            STEP,
            at,
            Reason::ANewUserNamespaceNeedsA,
        ));
    };
    sys::unshare_namespaces(g::CLONE_NEWUSER).ctx(STEP, Op::Unshare, at)?;
    let mut message = Line::<4096>::new();
    let too_long = |_| {
        InitError::invalid(
            STEP,
            At::field(Field::LinuxUidMappings),
            Reason::IdMapsLongerThan4KiB,
        )
    };
    message
        .push(&[
            Part::S("{\"type\":\"idmap\",\"pid\":"),
            Part::I(i64::from(rustix::process::getpid().as_raw_nonzero().get())),
        ])
        .map_err(too_long)?;
    for (key, list) in [
        ("uidMappings", config.uid_mappings),
        ("gidMappings", config.gid_mappings),
    ] {
        message
            .push(&[Part::S(",\""), Part::S(key), Part::S("\":\"")])
            .map_err(too_long)?;
        crate::idmap::push_id_map(&mut message, list, "\\n").map_err(too_long)?;
        message.push(&[Part::S("\"")]).map_err(too_long)?;
    }
    message.push(&[Part::S("}")]).map_err(too_long)?;
    protocol::send_frame(control, message.as_bytes(), STEP)?;
    protocol::expect_reply(control, "idmap-done", STEP)?;
    // Whether setgroups(2) is allowed here is the parent's choice (an unprivileged parent must
    // deny it); the user step reads it later.
    process::note_setgroups_policy();
    let root_gid = rustix::process::Gid::ROOT;
    rustix::thread::set_thread_res_gid(root_gid, root_gid, root_gid).ctx(
        STEP,
        Op::Setgid,
        At::field(Field::LinuxGidMappings),
    )?;
    let root = rustix::process::Uid::ROOT;
    rustix::thread::set_thread_res_uid(root, root, root).ctx(
        STEP,
        Op::Setuid,
        At::field(Field::LinuxUidMappings),
    )
}

/// Fork the container's PID 1 (`clone(CLONE_PARENT)` after `unshare(CLONE_NEWPID)`). Returns
/// only in the child, which announces itself with `pid` first; this process exits.
fn fork_pid1(control: BorrowedFd<'_>) -> Result<(), InitError> {
    const STEP: Step = Step::PidNamespace;
    match sys::clone_parent().ctx(STEP, Op::Clone, At::NONE)? {
        // Nothing more to say: the child announces itself, and every descriptor closes with
        // our exit, no `close` each.
        Forked::Parent(_) => sys::exit_group(0),
        // Its pid in the parent's PID namespace is in the frame's credentials, which the
        // kernel writes (SCM_CREDENTIALS, docs/PROTOCOL.md); from the child, it comes after
        // every frame the original sent.
        Forked::Child => protocol::send_simple(control, "pid", STEP),
    }
}

/// Join the namespaces `linux.namespaces` gives by path, as runc's nsexec does: every path is
/// opened first (one may not resolve once a user or mount namespace is joined), then each
/// namespace but the user one is joined (those that need privileges in the user namespace are
/// retried after it), then the user one, where the init becomes root. Non-dumpable from here
/// to `execve` (CVE-2016-9962): a process already in those namespaces cannot ptrace the init
/// or open its `/proc/PID/{fd,cwd,root,exe}`.
fn join_namespaces(config: &Config<'_>) -> Result<(), InitError> {
    use rustix::thread::{ThreadNameSpaceType, move_into_thread_name_spaces};
    const STEP: Step = Step::Namespaces;
    let joins = &config.joins;
    if joins.count == 0 {
        return Ok(());
    }
    let at_path = |i| At::item(Field::LinuxNamespacesPath, i);
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable).ctx(
        STEP,
        Op::Prctl,
        At::field(Field::LinuxNamespaces),
    )?;
    let mut fds: [Option<OwnedFd>; 8] = Default::default();
    for (slot, (_, path, i)) in fds.iter_mut().zip(joins.iter()) {
        let path = crate::cpath::CPath::decode(path, STEP, at_path(i))?;
        *slot = Some(
            rustix::fs::open(
                path.as_cstr(),
                rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .ctx(STEP, Op::Open, at_path(i))?,
        );
    }
    let user = joins.set().has(g::CLONE_NEWUSER);
    // setns(fd, type) also checks that the file is a namespace of that type (EINVAL).
    let join = |k: usize| {
        let (flag, _, i) = joins
            .iter()
            .nth(k)
            .unwrap_or((0, crate::json::JStr::EMPTY, 0));
        let fd = fds[k].as_ref().map(|f| f.as_fd());
        let r = fd.map_or(Err(Errno::BADF), |fd| {
            move_into_thread_name_spaces(fd, ThreadNameSpaceType::from_bits_retain(flag))
        });
        (r, flag, i)
    };
    let mut deferred = [false; 8];
    for (k, later) in deferred.iter_mut().enumerate().take(joins.count) {
        if joins.types[k] == g::CLONE_NEWUSER {
            continue;
        }
        match join(k) {
            (Ok(()), _, _) => {}
            (Err(Errno::PERM), _, _) if user => *later = true,
            (Err(e), _, i) => return Err(InitError::sys(STEP, Op::Setns, e, at_path(i))),
        }
    }
    if user {
        let k = (0..joins.count)
            .find(|&k| joins.types[k] == g::CLONE_NEWUSER)
            .unwrap_or(0);
        let (r, _, i) = join(k);
        r.ctx(STEP, Op::Setns, at_path(i))?;
        let root_gid = rustix::process::Gid::ROOT;
        rustix::thread::set_thread_res_gid(root_gid, root_gid, root_gid).ctx(
            STEP,
            Op::Setgid,
            at_path(i),
        )?;
        let root = rustix::process::Uid::ROOT;
        rustix::thread::set_thread_res_uid(root, root, root).ctx(STEP, Op::Setuid, at_path(i))?;
        // A credential change resets dumpability to fs.suid_dumpable, which a host may set
        // to 1 (dumpable): make sure again.
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .ctx(STEP, Op::Prctl, at_path(i))?;
        for k in (0..joins.count).filter(|&k| deferred[k]) {
            let (r, _, i) = join(k);
            r.ctx(STEP, Op::Setns, at_path(i))?;
        }
    }
    Ok(())
}

/// Write `linux.timeOffsets` to `/proc/self/timens_offsets` (the new time namespace's, which
/// takes them only while no process is in it).
fn time_offsets(offsets: config::TimeOffsets) -> Result<(), InitError> {
    use crate::text::Part;
    const STEP: Step = Step::Namespaces;
    let at = At::field(Field::LinuxTimeOffsets);
    let mut text = Line::<128>::new();
    let clock = |name, (secs, nanos): (i64, u32)| {
        [
            Part::S(name),
            Part::S(" "),
            Part::I(secs),
            Part::S(" "),
            Part::U(u64::from(nanos)),
            Part::S("\n"),
        ]
    };
    let _ = text.push(&clock("monotonic", offsets.monotonic));
    let _ = text.push(&clock("boottime", offsets.boottime));
    let file = rustix::fs::open(
        c"/proc/self/timens_offsets",
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ctx(STEP, Op::Open, at)?;
    rustix::io::write(&file, text.as_bytes())
        .ctx(STEP, Op::Write, at)
        .map(drop)
}

/// `hostname` and `domainname` (decode checked that a UTS namespace is ours).
fn hostname(config: &Config<'_>) -> Result<(), InitError> {
    const STEP: Step = Step::Hostname;
    if let Some(h) = config.hostname {
        let name = crate::cpath::CPath::decode(h, STEP, At::field(Field::Hostname))?;
        rustix::system::sethostname(name.bytes()).ctx(
            STEP,
            Op::Sethostname,
            At::field(Field::Hostname),
        )?;
    }
    if let Some(d) = config.domainname {
        let name = crate::cpath::CPath::decode(d, STEP, At::field(Field::Domainname))?;
        rustix::system::setdomainname(name.bytes()).ctx(
            STEP,
            Op::Setdomainname,
            At::field(Field::Domainname),
        )?;
    }
    Ok(())
}
