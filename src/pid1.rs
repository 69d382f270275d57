//! ocinit as PID 1: run one child, forward signals to it, reap every zombie, and exit with the
//! child's status (tini's job; catatonit's signalfd design).
//!
//! The supervising process blocks every signal but the fault signals before anything else and
//! reads them from a signalfd. Once the child runs it never exits on an error: it logs and keeps
//! reaping. When the main child exits it exits too, at once, like tini and catatonit (as PID 1
//! of a namespace, the kernel then kills what is left in it).

use core::ffi::CStr;

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};

use crate::names::{Names, Table};
use crate::protocol::{Line, errno_text};
use crate::sys::{self, CStrArray, Forked, SigSet, StartupStrings};
use crate::text::Part;

/// Signals the kernel raises for a fault in the process itself: never blocked, so a bug in the
/// init still stops it instead of looping.
const FAULT_SIGNALS: SigSet = bit(g::SIGFPE)
    | bit(g::SIGILL)
    | bit(g::SIGSEGV)
    | bit(g::SIGBUS)
    | bit(g::SIGABRT)
    | bit(g::SIGTRAP)
    | bit(g::SIGSYS);
/// Everything else is read from the signalfd.
pub const SUPERVISED: SigSet = !FAULT_SIGNALS;

const fn bit(sig: u32) -> SigSet {
    1 << (sig - 1)
}

/// Job-control stops from a terminal: ignored, as catatonit does (a PID 1 that stops would
/// freeze the container; the child, in its own process group, gets them from the terminal).
const JOB_CONTROL: SigSet = bit(g::SIGTSTP) | bit(g::SIGTTIN) | bit(g::SIGTTOU);

/// How the supervisor behaves.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// Forward signals to the child's process group (`-g`), not only the child.
    pub group: bool,
    /// Exit codes mapped to 0 (`-e`), one bit per code.
    pub remap: [u64; 4],
    /// `rewrite[n]` is forwarded for signal n (0 drops it); identity by default (`-r`).
    pub rewrite: [u8; 65],
    /// 0: quiet; 1: the child's start and end; 2: every signal and reaped process (`-v`).
    pub verbosity: u8,
}

impl Default for Supervision {
    fn default() -> Self {
        let mut rewrite = [0u8; 65];
        for (n, r) in rewrite.iter_mut().enumerate() {
            *r = u8::try_from(n).unwrap_or(0);
        }
        Supervision {
            group: false,
            remap: [0; 4],
            rewrite,
            verbosity: 0,
        }
    }
}

/// Write one line to stderr.
pub fn say(parts: &[Part<'_>]) {
    let mut line = Line::<512>::new();
    let _ = line.push(&[Part::S("ocinit: ")]);
    let _ = line.push(parts);
    let _ = line.push(&[Part::S("\n")]);
    sys::write_stderr(line.as_bytes());
}

/// A process id as a message part.
fn pid_part(pid: Pid) -> Part<'static> {
    Part::I(i64::from(pid.as_raw_nonzero().get()))
}

/// The exit status for a wait status: the code, or 128 + signal (mod 256), then `-e` remapping.
fn exit_status(status: rustix::process::WaitStatus, remap: &[u64; 4]) -> i32 {
    let code = match (status.exit_status(), status.terminating_signal()) {
        (Some(c), _) => c & 0xff,
        (None, Some(s)) => (128 + s) & 0xff,
        _ => 255,
    };
    let remapped = usize::try_from(code)
        .ok()
        .and_then(|c| remap.get(c / 64).map(|w| w >> (c % 64) & 1 == 1));
    if remapped == Some(true) { 0 } else { code }
}

/// Reap every child that has exited; returns the main child's exit status once it is among them.
fn reap(main: Option<Pid>, s: &Supervision) -> Option<i32> {
    let mut main_status = None;
    loop {
        match rustix::process::wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                if Some(pid) == main {
                    main_status = Some(exit_status(status, &s.remap));
                    if s.verbosity >= 1 {
                        say(&[
                            Part::S("main process "),
                            pid_part(pid),
                            Part::S(" exited: status "),
                            Part::I(i64::from(main_status.unwrap_or(0))),
                        ]);
                    }
                } else if s.verbosity >= 2 {
                    say(&[Part::S("reaped process "), pid_part(pid)]);
                }
            }
            Ok(None) | Err(Errno::CHILD) => return main_status,
            Err(Errno::INTR) => {}
            Err(e) => {
                say(&[Part::S("waitpid: "), Part::S(errno_text(e))]);
                return main_status;
            }
        }
    }
}

/// Supervise `main` until it exits; returns the exit status to use. With `main` = `None`
/// (pause mode), until SIGINT or SIGTERM, then 0.
pub fn supervise(main: Option<Pid>, signals: BorrowedFd<'_>, s: &Supervision) -> i32 {
    let mut records = [0u8; 128 * 16];
    loop {
        let n = match rustix::io::read(signals, &mut records) {
            Ok(n) => n,
            Err(Errno::INTR | Errno::AGAIN) => continue,
            Err(e) => {
                // Should never happen; without signals, still reap (blocking) until the end.
                say(&[
                    Part::S("reading signals: "),
                    Part::S(errno_text(e)),
                    Part::S("; only reaping from now on"),
                ]);
                return reap_blocking(main, s);
            }
        };
        for record in records.get(..n).unwrap_or_default().chunks_exact(128) {
            let signo = u32::from_le_bytes([record[0], record[1], record[2], record[3]]);
            if signo == g::SIGCHLD {
                if let Some(status) = reap(main, s) {
                    return status;
                }
                continue;
            }
            let Some(main) = main else {
                if signo == g::SIGINT || signo == g::SIGTERM {
                    return 0;
                }
                continue;
            };
            let forward = s.rewrite.get(signo as usize).copied().unwrap_or(0);
            let rewritten = u32::from(forward) != signo;
            if forward == 0 || (!rewritten && JOB_CONTROL & bit(signo) != 0) {
                continue;
            }
            let target = if s.group {
                -main.as_raw_nonzero().get()
            } else {
                main.as_raw_nonzero().get()
            };
            match sys::kill(target, i32::from(forward)) {
                Ok(()) if s.verbosity >= 2 => say(&[
                    Part::S("forwarded signal "),
                    Part::I(i64::from(forward)),
                    Part::S(" to "),
                    Part::I(i64::from(target)),
                ]),
                Ok(()) | Err(Errno::SRCH) => {}
                Err(e) => say(&[
                    Part::S("forwarding signal "),
                    Part::I(i64::from(forward)),
                    Part::S(": "),
                    Part::S(errno_text(e)),
                ]),
            }
        }
    }
}

fn reap_blocking(main: Option<Pid>, s: &Supervision) -> i32 {
    loop {
        match rustix::process::wait(WaitOptions::empty()) {
            Ok(Some((pid, status))) if Some(pid) == main => return exit_status(status, &s.remap),
            Err(Errno::CHILD) if main.is_none() => return 0,
            Err(Errno::CHILD) => return 255,
            _ => {}
        }
    }
}

/// Block the supervised signals and open the signalfd; returns (the previous mask, the fd).
pub fn take_signals() -> Result<(SigSet, OwnedFd), Errno> {
    let old = sys::set_signal_mask(SUPERVISED)?;
    Ok((old, sys::signalfd(SUPERVISED)?))
}

/// Close every descriptor from 3 up except `keep` (the supervisor needs nothing else).
pub fn close_all_but(keep: BorrowedFd<'_>) {
    // Best effort: nothing here may stop the supervisor.
    let _ = crate::process::close_fds(3, &[keep]);
}

// ---------------------------------------------------------------------------------------------
// Standalone: `ocinit [OPTIONS] [--] PROGRAM [ARGS...]`
// ---------------------------------------------------------------------------------------------

const USAGE: &str = "usage: ocinit [-s] [-g] [-p SIGNAL] [-e CODE]... [-r SIG:SIG]... [-v]... [--] PROGRAM [ARGS...]
       ocinit -P | --version | -h
  -s          register as a child subreaper (automatic when not PID 1)
  -g          forward signals to the child's process group
  -p SIGNAL   parent-death signal for ocinit (name or number)
  -e CODE     exit 0 when the child exits with CODE (repeatable)
  -r SIG:SIG  forward the first signal as the second; 0 drops it (repeatable)
  -v          more messages on stderr (repeatable)
  -P          pause: run no child, reap, exit 0 on SIGINT or SIGTERM
Without protocol descriptors (see docs/PROTOCOL.md) ocinit runs as a PID 1 like tini.
";

/// Classic signal names, index = number - 1.
const SIGNAL_NAMES: Names = crate::names![
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

fn parse_number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// A signal by number (0 allowed where `zero`), name, or `SIG` name.
fn parse_signal(s: &[u8], zero: bool) -> Option<u8> {
    if let Some(n) = parse_number(s) {
        return u8::try_from(n).ok().filter(|&n| n <= 64 && (n > 0 || zero));
    }
    let name = s.strip_prefix(b"SIG").unwrap_or(s);
    let i = SIGNAL_NAMES.iter().position(|n| n.as_bytes() == name)?;
    u8::try_from(i + 1).ok()
}

/// Parsed command line.
#[derive(Debug)]
struct Standalone {
    supervision: Supervision,
    subreaper: bool,
    pdeathsig: Option<u8>,
    pause: bool,
    program: usize,
}

enum Parsed {
    Run(Standalone),
    Exit(i32),
}

fn usage_error(what: &[Part<'_>]) -> Parsed {
    say(what);
    sys::write_stderr(USAGE.as_bytes());
    Parsed::Exit(1)
}

/// The command line's options.
#[derive(Debug, Clone, Copy)]
enum Opt {
    End,
    Subreaper,
    Group,
    Verbose,
    VeryVerbose,
    Pause,
    Version,
    Help,
    Pdeathsig,
    ExitCode,
    Rewrite,
}

/// Looked up in a table: a `match` on byte strings compares each in turn, in code.
const OPTIONS: Table<Opt, 12> = crate::table![
    ("--", Opt::End),
    ("-s", Opt::Subreaper),
    ("-g", Opt::Group),
    ("-v", Opt::Verbose),
    ("-vv", Opt::VeryVerbose),
    ("-P", Opt::Pause),
    ("--version", Opt::Version),
    ("-h", Opt::Help),
    ("--help", Opt::Help),
    ("-p", Opt::Pdeathsig),
    ("-e", Opt::ExitCode),
    ("-r", Opt::Rewrite),
];

fn parse(args: StartupStrings, env: StartupStrings) -> Parsed {
    let mut o = Standalone {
        supervision: Supervision::default(),
        subreaper: false,
        pdeathsig: None,
        pause: false,
        program: 0,
    };
    for e in env {
        match e.to_bytes() {
            v if v.starts_with(b"TINI_SUBREAPER=") && v.len() > 15 => o.subreaper = true,
            v if v.starts_with(b"TINI_KILL_PROCESS_GROUP=") && v.len() > 24 => {
                o.supervision.group = true
            }
            _ => {}
        }
    }
    let mut it = args.skip(1).peekable();
    let mut i = 1;
    while let Some(arg) = it.peek().map(|a| a.to_bytes()) {
        if !arg.starts_with(b"-") {
            break;
        }
        it.next();
        i += 1;
        let mut value = || {
            i += 1;
            it.next().map(CStr::to_bytes)
        };
        let Some((_, &option)) = OPTIONS.find(|name, _| name.as_bytes() == arg) else {
            return usage_error(&[
                Part::S("unknown option "),
                Part::S(core::str::from_utf8(arg).unwrap_or("?")),
            ]);
        };
        match option {
            Opt::End => break,
            Opt::Subreaper => o.subreaper = true,
            Opt::Group => o.supervision.group = true,
            Opt::Verbose => o.supervision.verbosity = o.supervision.verbosity.saturating_add(1),
            Opt::VeryVerbose => o.supervision.verbosity = o.supervision.verbosity.saturating_add(2),
            Opt::Pause => o.pause = true,
            Opt::Version => {
                // Docker parses the version line of its init as tini's.
                sys::write_stdout(
                    concat!("tini version ", env!("CARGO_PKG_VERSION"), "_ocinit\n").as_bytes(),
                );
                return Parsed::Exit(0);
            }
            Opt::Help => {
                sys::write_stdout(USAGE.as_bytes());
                return Parsed::Exit(0);
            }
            Opt::Pdeathsig => match value().and_then(|v| parse_signal(v, false)) {
                Some(s) => o.pdeathsig = Some(s),
                None => return usage_error(&[Part::S("-p needs a signal name or number")]),
            },
            Opt::ExitCode => match value().and_then(parse_number).filter(|&c| c <= 255) {
                Some(c) => o.supervision.remap[(c / 64) as usize] |= 1 << (c % 64),
                None => return usage_error(&[Part::S("-e needs an exit code from 0 to 255")]),
            },
            Opt::Rewrite => {
                let pair = value().and_then(|v| {
                    let colon = v.iter().position(|&c| c == b':')?;
                    Some((
                        parse_signal(v.get(..colon)?, false)?,
                        parse_signal(v.get(colon + 1..)?, true)?,
                    ))
                });
                match pair {
                    Some((from, to)) => o.supervision.rewrite[usize::from(from)] = to,
                    None => {
                        return usage_error(&[Part::S(
                            "-r needs SIGNAL:SIGNAL (the second may be 0)",
                        )]);
                    }
                }
            }
        }
    }
    o.program = i;
    let has_program = it.next().is_some();
    if !has_program && !o.pause {
        return usage_error(&[Part::S("no program to run")]);
    }
    if has_program && o.pause {
        return usage_error(&[Part::S("-P runs no program")]);
    }
    Parsed::Run(o)
}

/// Run standalone; returns the exit status.
/// Not inlined: in `entry::main`, its one caller, its code comes out 190 bytes larger.
#[inline(never)]
pub fn standalone(args: StartupStrings, env: StartupStrings) -> i32 {
    // First, before anything can arrive: signals wait in the signalfd until the loop reads them.
    let (old_mask, signals) = match take_signals() {
        Ok(x) => x,
        Err(e) => {
            say(&[Part::S("signalfd: "), Part::S(errno_text(e))]);
            return 1;
        }
    };
    let o = match parse(args, env) {
        Parsed::Run(o) => o,
        Parsed::Exit(code) => return code,
    };
    let me = rustix::process::getpid();
    if (o.subreaper || !me.is_init()) && rustix::process::set_child_subreaper(Some(me)).is_err() {
        say(&[Part::S(
            "cannot register as a child subreaper, so orphans would not be reaped",
        )]);
        return 1;
    }
    if let Some(sig) = o.pdeathsig {
        let sig = rustix::process::Signal::from_named_raw(i32::from(sig));
        if rustix::process::set_parent_process_death_signal(sig).is_err() {
            say(&[Part::S("cannot set the parent-death signal")]);
            return 1;
        }
    }
    let main = if o.pause {
        None
    } else {
        match spawn(args, env, o.program, old_mask, o.supervision.verbosity) {
            Ok(pid) => Some(pid),
            Err(code) => return code,
        }
    };
    // The supervisor pins nothing: not the directory it was started in, not a descriptor.
    let _ = rustix::process::chdir(c"/");
    close_all_but(signals.as_fd());
    supervise(main, signals.as_fd(), &o.supervision)
}

/// Find the program (before forking, so "not found" is an error of ours), fork, and exec it in
/// its own process group with the original signal mask. Returns the child's pid, or the exit
/// status to leave with.
fn spawn(
    args: StartupStrings,
    env: StartupStrings,
    program: usize,
    mask: SigSet,
    verbosity: u8,
) -> Result<Pid, i32> {
    let Some(buffers) = sys::take_buffers() else {
        return Err(1);
    };
    let mut argv = CStrArray::new(&mut buffers.argv);
    let mut envp = CStrArray::new(&mut buffers.envp);
    let mut strings = crate::process::Strings::new(&mut buffers.strings);
    if args.skip(program).try_for_each(|a| argv.push(a)).is_err()
        || env.into_iter().try_for_each(|e| envp.push(e)).is_err()
    {
        say(&[
            Part::S("more than "),
            Part::U(sys::MAX_STRINGS as u64),
            Part::S(" arguments or environment variables"),
        ]);
        return Err(1);
    }
    let path = match crate::process::lookup(&argv, &envp, &mut strings) {
        Ok(p) => p,
        Err(e) => {
            let name = argv.get(0).and_then(|a| a.to_str().ok()).unwrap_or("?");
            let errno = e.errno().unwrap_or(Errno::NOENT);
            say(&[
                Part::S("exec "),
                Part::S(name),
                Part::S(": "),
                Part::S(errno_text(errno)),
            ]);
            return Err(if errno == Errno::ACCESS { 126 } else { 127 });
        }
    };
    let parent = rustix::process::getpid();
    match sys::fork() {
        Err(e) => {
            say(&[Part::S("fork: "), Part::S(errno_text(e))]);
            Err(1)
        }
        Ok(Forked::Parent(pid)) => {
            if verbosity >= 1 {
                say(&[
                    Part::S("spawned "),
                    Part::S(argv.get(0).and_then(|a| a.to_str().ok()).unwrap_or("?")),
                    Part::S(" as process "),
                    Part::I(i64::from(pid)),
                ]);
            }
            Pid::from_raw(pid).ok_or(1)
        }
        Ok(Forked::Child) => {
            let err = exec_child(parent, path, &argv, &mut envp, &mut strings, mask);
            say(&[
                Part::S("exec "),
                Part::S(path.to_str().unwrap_or("?")),
                Part::S(": "),
                Part::S(errno_text(err)),
            ]);
            sys::exit_group(if err == Errno::ACCESS { 126 } else { 127 })
        }
    }
}

/// In the child: a process group of its own, the terminal's foreground one when there is a
/// terminal (tini), so that the terminal's signals reach it once, through the supervisor's
/// forwarding only if they were meant for the supervisor. Returns our pid.
fn isolate() -> Pid {
    let _ = rustix::process::setpgid(None, None);
    let me = rustix::process::getpid();
    // Fails harmlessly (ENOTTY, ENXIO) when stdin is not our terminal.
    let _ = sys::set_stdin_foreground_group(me.as_raw_nonzero().get());
    me
}

/// In the child: [`isolate`], `LISTEN_PID` rewritten to our pid when it named the supervisor (catatonit), the original
/// signal mask, then `execve`.
fn exec_child<'s>(
    parent: Pid,
    path: &CStr,
    argv: &CStrArray<'s>,
    envp: &mut CStrArray<'s>,
    strings: &mut crate::process::Strings<'s>,
    mask: SigSet,
) -> Errno {
    let me = isolate();
    let mut expected = Line::<32>::new();
    let _ = expected.push(&[Part::S("LISTEN_PID="), pid_part(parent)]);
    if let Some(i) = (0..envp.len()).find(|&i| {
        envp.get(i)
            .is_some_and(|e| e.to_bytes() == expected.as_bytes())
    }) {
        let mut value = Line::<32>::new();
        let _ = value.push(&[Part::S("LISTEN_PID="), pid_part(me)]);
        if let Ok(entry) = strings.push_bytes(value.as_bytes()) {
            envp.replace(i, entry);
        }
    }
    if let Err(e) = sys::set_signal_mask(mask) {
        return e;
    }
    sys::execve(path, argv, envp)
}

// ---------------------------------------------------------------------------------------------
// Runtime init that stays: the annotation `org.ocinit.pid1: "true"`
// ---------------------------------------------------------------------------------------------

/// Fork the user process and stay as its supervisor with no privileges left. Returns only if
/// the fork (in the caller) or the exec (in the child) failed.
pub fn stay<'s>(
    path: &CStr,
    argv: &CStrArray<'s>,
    envp: &mut CStrArray<'s>,
    strings: &mut crate::process::Strings<'s>,
) -> crate::error::InitError {
    use crate::error::{At, Field, InitError, Op, Step};
    let (mask, signals) = match take_signals() {
        Ok(x) => x,
        Err(e) => return InitError::sys(Step::Pid1, Op::Signalfd, e, At::NONE),
    };
    let supervisor = rustix::process::getpid();
    let child = match sys::fork() {
        Err(e) => return InitError::sys(Step::Pid1, Op::Clone, e, At::NONE),
        Ok(Forked::Child) => {
            let e = exec_child(supervisor, path, argv, envp, strings, mask);
            return InitError::sys(
                Step::Exec,
                Op::Execve,
                e,
                At::item(Field::ProcessArgsItem, 0),
            );
        }
        Ok(Forked::Parent(pid)) => Pid::from_raw(pid),
    };
    // Our copies of the control channel and log go, so the parent sees EOF when the child execs;
    // the supervisor keeps nothing but the signalfd, and no privilege.
    close_all_but(signals.as_fd());
    let _ = rustix::process::chdir(c"/");
    drop_privileges();
    sys::exit_group(supervise(child, signals.as_fd(), &Supervision::default()))
}

/// Empty every capability set (the bounding set first, while CAP_SETPCAP is still ours) and
/// set no_new_privs: the reaper can only wait, read signals and kill its own children.
fn drop_privileges() {
    for cap in 0..=63 {
        let Some(set) = rustix::thread::CapabilitySet::from_bits(1 << cap) else {
            continue;
        };
        let _ = rustix::thread::remove_capability_from_bounding_set(set);
    }
    let empty = rustix::thread::CapabilitySet::empty();
    let sets = rustix::thread::CapabilitySets {
        effective: empty,
        permitted: empty,
        inheritable: empty,
    };
    if let Err(e) = rustix::thread::set_capabilities(None, sets) {
        say(&[Part::S("dropping capabilities: "), Part::S(errno_text(e))]);
    }
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        say(&[Part::S("setting no_new_privs: "), Part::S(errno_text(e))]);
    }
}
