//! VM mode: ocinit as a virtual machine's `/init`, started by the kernel as PID 1 with no parent
//! runtime and no program on its command line (`docs/PID1.md`).
//!
//! It mounts what a VM needs, reads the OCI config from a file, runs the container's process
//! as its child (the standard sequence minus the handshake and the FIFO), reaps, and powers the
//! machine off when the process exits, printing its status on the console first.

use core::ffi::CStr;

use linux_raw_sys::general as g;
use rustix::fd::AsFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::MountFlags;
use rustix::process::Pid;

use crate::config;
use crate::error::{At, Context, InitError, Op, Reason, Step};
use crate::pid1::{self, Supervision, say};
use crate::protocol::{self, Line, errno_text};
use crate::sys::{self, Buffers, CStrArray, Forked, StartupStrings};
use crate::text::Part;

/// Where the config is read from, unless the kernel command line sets `OCINIT_CONFIG=PATH`
/// (the kernel hands such `KEY=value` words to init as environment variables; a key with a dot would be taken for a module parameter).
pub const DEFAULT_CONFIG: &CStr = c"/etc/ocinit/config.json";

/// Mount `/proc`, `/sys`, `/dev` and `/run`. A mount that fails is reported and skipped (an
/// init that gives up here would panic the kernel); one already in place is kept.
fn mount_basics() {
    // Calls, not a table: a table of string pointers costs a relocation each in a PIE.
    let nosuid_nodev = g::MS_NOSUID | g::MS_NODEV;
    mount_basic(
        c"proc",
        c"/proc",
        c"proc",
        nosuid_nodev | g::MS_NOEXEC,
        None,
    );
    mount_basic(
        c"sysfs",
        c"/sys",
        c"sysfs",
        nosuid_nodev | g::MS_NOEXEC,
        None,
    );
    mount_basic(
        c"devtmpfs",
        c"/dev",
        c"devtmpfs",
        g::MS_NOSUID,
        Some(c"mode=0755"),
    );
    mount_basic(
        c"tmpfs",
        c"/run",
        c"tmpfs",
        nosuid_nodev,
        Some(c"mode=0755"),
    );
}

/// Mount one of them; failures are only reported.
fn mount_basic(source: &CStr, target: &CStr, fs_type: &CStr, flags: u32, data: Option<&CStr>) {
    let _ = rustix::fs::mkdir(target, Mode::from_raw_mode(0o755));
    match rustix::mount::mount(
        source,
        target,
        fs_type,
        MountFlags::from_bits_retain(flags),
        data,
    ) {
        Ok(()) | Err(Errno::BUSY) => {}
        Err(e) => say(&[
            Part::S("boot: mount "),
            Part::S(target.to_str().unwrap_or("?")),
            Part::S(" ("),
            Part::S(fs_type.to_str().unwrap_or("?")),
            Part::S("): "),
            Part::S(errno_text(e)),
        ]),
    }
}

/// Read the config file into `buf`. The path is a `CStr` (rustix copies any other path type
/// into a NUL-terminated buffer first, with code of its own).
fn read_config<'b>(path: &CStr, buf: &'b mut [u8]) -> Result<&'b [u8], InitError> {
    const STEP: Step = Step::Boot;
    let file = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ctx(
        STEP,
        Op::Open,
        At::NONE,
    )?;
    let mut n = 0;
    while let Some(room) = buf.get_mut(n..) {
        if room.is_empty() {
            return Err(InitError::invalid(
                STEP,
                At::NONE,
                Reason::ConfigFileLargerThan1MiB,
            ));
        }
        match rustix::io::read(&file, room) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(InitError::sys(STEP, Op::Read, e, At::NONE)),
        }
    }
    Ok(buf.get(..n).unwrap_or_default())
}

fn print_error(e: &InitError) {
    let mut text = Line::<512>::new();
    let _ = protocol::error_text(e, &mut text);
    sys::write_stderr(text.as_bytes());
}

/// Boot: returns the status to power off with (the caller powers off).
fn run(env: StartupStrings, buffers: &'static mut Buffers) -> i32 {
    mount_basics();
    let Buffers {
        config: config_buf,
        strings,
        argv,
        envp,
        filter,
    } = buffers;
    let path = env
        .filter_map(|e| {
            let value = e.to_bytes_with_nul().strip_prefix(b"OCINIT_CONFIG=")?;
            CStr::from_bytes_with_nul(value).ok()
        })
        .last()
        .unwrap_or(DEFAULT_CONFIG);
    let config = match read_config(path, &mut config_buf[..crate::sys::MAX_CONFIG])
        .and_then(config::decode_static)
    {
        Ok(c) => c,
        Err(e) => {
            say(&[
                Part::S("boot: reading the config from "),
                Part::S(path.to_str().unwrap_or("?")),
            ]);
            print_error(&e);
            return 255;
        }
    };
    let (mask, signals) = match pid1::take_signals() {
        Ok(x) => x,
        Err(e) => {
            say(&[Part::S("boot: signalfd: "), Part::S(errno_text(e))]);
            return 255;
        }
    };
    let child = match sys::fork() {
        Err(e) => {
            say(&[Part::S("boot: fork: "), Part::S(errno_text(e))]);
            return 255;
        }
        Ok(Forked::Parent(pid)) => Pid::from_raw(pid),
        Ok(Forked::Child) => {
            // A session of its own: the console's job control belongs to the process.
            let _ = rustix::process::setsid();
            let mut strings = crate::process::Strings::new(strings);
            let mut argv = CStrArray::new(argv);
            let mut envp = CStrArray::new(envp);
            let log = crate::protocol::Log {
                fd: None,
                debug: false,
            };
            let nnp = config.process.no_new_privileges;
            let result: Result<(), InitError> = crate::entry::build_container(&config, None)
                .and_then(|stdio| Ok((stdio, crate::entry::seccomp_filter(&config, &log, filter)?)))
                .and_then(|(stdio, seccomp)| {
                    crate::entry::process_settings(&config)?;
                    let exe = crate::entry::prepare_process(
                        &config,
                        &log,
                        &mut strings,
                        &mut argv,
                        &mut envp,
                        seccomp.as_ref().filter(|_| !nnp),
                        None,
                        Some(stdio),
                    )?;
                    sys::set_signal_mask(mask).ctx(Step::Exec, Op::Sigprocmask, At::NONE)?;
                    if let Some(filter) = seccomp.as_ref().filter(|_| nnp) {
                        crate::seccomp::load(filter, None)?;
                    }
                    Err(crate::process::exec(exe, &argv, &envp))
                });
            if let Err(e) = result {
                print_error(&e);
            }
            sys::exit_group(255)
        }
    };
    pid1::supervise(child, signals.as_fd(), &Supervision::default())
}

/// Run as a VM's init and power the machine off with the process's status.
/// Not inlined: in `entry::main`, its one caller, its code comes out 210 bytes larger.
#[inline(never)]
pub fn boot(env: StartupStrings) -> i32 {
    let Some(buffers) = sys::take_buffers() else {
        return 255;
    };
    let status = run(env, buffers);
    let mut line = Line::<64>::new();
    let _ = line.push(&[
        Part::S("ocinit: the process exited with status "),
        Part::I(i64::from(status)),
        Part::S("; powering off\n"),
    ]);
    sys::write_stderr(line.as_bytes());
    rustix::fs::sync();
    match rustix::system::reboot(rustix::system::RebootCommand::PowerOff) {
        // Not reached on success; in a PID namespace the kernel ends us with SIGINT instead.
        Ok(()) => status,
        Err(e) => {
            say(&[Part::S("boot: power off: "), Part::S(errno_text(e))]);
            status
        }
    }
}
