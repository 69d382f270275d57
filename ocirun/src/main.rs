//! `ocirun`: the reference parent runtime for ocinit, with the OCI runtime CLI's verbs.
//!
//! It does only what needs a parent: spawn the init from a sealed copy, own the state
//! directory and the exec FIFO, answer the handshake, wait, and report. The config reaches the
//! init unmodified; ocirun reads it only to render errors and state.

mod exec;
mod protocol;
mod state;

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rustix::fs::{FileType, Mode, OFlags};
use rustix::process::{Pid, Signal, WaitOptions};
use serde_json::{Value, json};

use crate::protocol::{Launch, Message, Spawned};
use crate::state::{State, Status};

const USAGE: &str = "usage: ocirun [--root DIR] [--init PATH] [--debug] COMMAND [OPTIONS] ID
commands:
  run     [-b BUNDLE] [--pid-file F] [--preserve-fds N] [--no-new-keyring] [-d]
          [--console-socket SOCK] ID [-- CMD...]
  create  [-b BUNDLE] [--pid-file F] [--preserve-fds N] [--no-new-keyring]
          [--console-socket SOCK] ID
  start   ID
  state   ID
  kill    ID [SIGNAL]
  delete  [-f] ID
  exec    [--process FILE] [-u UID[:GID]] [-e K=V]... [--cwd DIR] [--cap CAP]... [-t]
          [--console-socket SOCK] [--preserve-fds N] [--pid-file F] [-d] ID [-- CMD...]
Without -b and with `-- CMD...`, run uses an embedded default: the host root read-only,
fresh /proc, a minimal /dev, tmpfs /tmp, new mount/pid/uts/ipc/net namespaces.";

pub(crate) type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    match cli(std::env::args_os().skip(1).collect()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ocirun: {e}");
            ExitCode::from(1)
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Global {
    root: PathBuf,
    init: Option<OsString>,
    debug: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Opts {
    bundle: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    preserve_fds: u32,
    console_socket: Option<PathBuf>,
    detach: bool,
    force: bool,
    no_new_keyring: bool,
    positional: Vec<String>,
    command: Vec<String>,
    /// `exec --process FILE`.
    process: Option<PathBuf>,
    /// `exec --user UID[:GID]`.
    user: Option<String>,
    /// `exec --env K=V`.
    env: Vec<String>,
    /// `exec --cwd DIR`.
    cwd: Option<String>,
    /// `exec --cap CAP`.
    caps: Vec<String>,
    /// `exec --tty`.
    tty: bool,
}

fn value(args: &mut std::vec::IntoIter<OsString>, flag: &str) -> Result<OsString> {
    args.next().ok_or_else(|| format!("{flag} needs a value"))
}

fn parse_opts(args: Vec<OsString>) -> Result<Opts> {
    let mut o = Opts::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let s = arg.to_string_lossy().into_owned();
        let (flag, inline) = match s.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(OsString::from(v))),
            _ => (s.clone(), None),
        };
        let mut take = |name: &str| match inline.clone() {
            Some(v) => Ok(v),
            None => value(&mut args, name),
        };
        match flag.as_str() {
            "-b" | "--bundle" => o.bundle = Some(take("--bundle")?.into()),
            "--pid-file" => o.pid_file = Some(take("--pid-file")?.into()),
            "--console-socket" => o.console_socket = Some(take("--console-socket")?.into()),
            "--preserve-fds" => {
                let v = take("--preserve-fds")?;
                o.preserve_fds = v
                    .to_string_lossy()
                    .parse()
                    .map_err(|_| format!("--preserve-fds: not a number: {v:?}"))?;
            }
            "-d" | "--detach" => o.detach = true,
            "--process" | "-p" => o.process = Some(take("--process")?.into()),
            "-u" | "--user" => o.user = Some(take("--user")?.to_string_lossy().into_owned()),
            "-e" | "--env" => o.env.push(take("--env")?.to_string_lossy().into_owned()),
            "--cwd" => o.cwd = Some(take("--cwd")?.to_string_lossy().into_owned()),
            "-c" | "--cap" => o.caps.push(take("--cap")?.to_string_lossy().into_owned()),
            "-t" | "--tty" => o.tty = true,
            "-f" | "--force" => o.force = true,
            "--no-new-keyring" => o.no_new_keyring = true,
            "--" => {
                o.command = args
                    .by_ref()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
            }
            f if f.starts_with('-') && f.len() > 1 => {
                return Err(format!("unknown option {f}\n{USAGE}"));
            }
            _ => o.positional.push(s),
        }
    }
    Ok(o)
}

fn cli(args: Vec<OsString>) -> Result<u8> {
    let mut g = Global {
        root: PathBuf::from("/run/ocirun"),
        ..Global::default()
    };
    let mut args = args.into_iter();
    let command = loop {
        let Some(arg) = args.next() else {
            return Err(USAGE.into());
        };
        match arg.to_str() {
            Some("--root") => g.root = value(&mut args, "--root")?.into(),
            Some("--init") => g.init = Some(value(&mut args, "--init")?),
            Some("--debug") => g.debug = true,
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return Ok(0);
            }
            Some(c) if !c.starts_with('-') => break c.to_string(),
            _ => return Err(format!("unknown global option {arg:?}\n{USAGE}")),
        }
    };
    let o = parse_opts(args.collect())?;
    let id = match o.positional.first() {
        Some(id) => id.clone(),
        None => return Err(format!("{command}: missing container ID\n{USAGE}")),
    };
    state::check_id(&id)?;
    match command.as_str() {
        "run" => run(&g, &id, &o),
        "create" => create(&g, &id, &o).map(|()| 0),
        "start" => start(&g, &id).map(|()| 0),
        "state" => {
            let st = State::load(&g.root, &id)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&st.oci_state()).map_err(|e| e.to_string())?
            );
            Ok(0)
        }
        "kill" => kill(
            &g,
            &id,
            o.positional.get(1).map(String::as_str).unwrap_or("TERM"),
        )
        .map(|()| 0),
        "delete" => delete(&g, &id, o.force).map(|()| 0),
        "exec" => exec::exec(&g, &id, &o),
        other => Err(format!("unknown command {other}\n{USAGE}")),
    }
}

/// The embedded default for `ocirun run ID -- CMD...`.
fn default_config(id: &str, command: &[String]) -> Value {
    // The init creates the default device nodes in the tmpfs /dev (docs/STEPS.md, `devices`).
    let mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}),
    ];
    json!({
        "ociVersion": "1.2.0",
        "root": {"path": "/", "readonly": true},
        "hostname": id,
        "process": {
            "args": command,
            "cwd": "/",
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=xterm"],
            "user": {"uid": 0, "gid": 0}
        },
        "mounts": mounts,
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}, {"type": "network"}]}
    })
}

/// The bundle directory and the config bytes, unmodified.
fn load_config(id: &str, o: &Opts) -> Result<(PathBuf, Vec<u8>)> {
    if !o.command.is_empty() {
        if o.bundle.is_some() {
            return Err(
                "`-- CMD` runs the embedded default config; it cannot be combined with --bundle"
                    .into(),
            );
        }
        let bytes =
            serde_json::to_vec(&default_config(id, &o.command)).map_err(|e| e.to_string())?;
        return Ok((PathBuf::from("/"), bytes));
    }
    let bundle = fs::canonicalize(o.bundle.clone().unwrap_or_else(|| PathBuf::from(".")))
        .map_err(|e| format!("bundle: {e}"))?;
    let path = bundle.join("config.json");
    let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((bundle, bytes))
}

/// A created container: the init waits on the FIFO (create) or is about to exec (run).
struct Created {
    spawned: Spawned,
    pid: i32,
    config: Option<Value>,
    state: State,
    /// The pty master, for `run` to proxy (with a terminal and no `--console-socket`).
    console: Option<OwnedFd>,
}

/// runc's rules for `process.terminal`: a runtime that detaches must hand the pty to someone
/// (`--console-socket`), and a socket is only for a terminal.
pub(crate) fn check_console(terminal: bool, detach: bool, o: &Opts) -> Result<()> {
    match (terminal, &o.console_socket) {
        (true, None) if detach => {
            Err("process.terminal is true and ocirun detaches: --console-socket is required".into())
        }
        (false, Some(_)) => Err("--console-socket needs process.terminal to be true".into()),
        _ => Ok(()),
    }
}

/// Where a pty master goes: to `--console-socket`, else kept for `run` to proxy.
pub(crate) fn take_console(
    master: OwnedFd,
    o: &Opts,
    keep: &mut Option<OwnedFd>,
) -> io::Result<()> {
    match &o.console_socket {
        Some(socket) => protocol::send_console(socket, &master),
        None => {
            *keep = Some(master);
            Ok(())
        }
    }
}

fn fail(spawned: &mut Spawned, pid: Option<i32>, state: &State, why: String) -> String {
    if let Some(p) = pid.and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process(p, Signal::KILL);
        let _ = rustix::process::waitpid(Some(p), WaitOptions::empty());
    }
    let _ = spawned.child.kill();
    let _ = spawned.child.wait();
    state.remove();
    why
}

fn create_container(g: &Global, id: &str, o: &Opts, with_fifo: bool) -> Result<Created> {
    let (bundle, config_bytes) = load_config(id, o)?;
    let config: Option<Value> = serde_json::from_slice(&config_bytes).ok();
    let hooks = config
        .as_ref()
        .and_then(|c| c.get("hooks"))
        .and_then(Value::as_object);
    if hooks.is_some_and(|h| {
        h.values()
            .any(|h| h.as_array().is_some_and(|a| !a.is_empty()))
    }) {
        return Err("hooks: not supported by this version of ocirun".into());
    }
    let terminal = config
        .as_ref()
        .is_some_and(|c| c["process"]["terminal"].as_bool() == Some(true));
    check_console(terminal, with_fifo || o.detach, o)?;
    let init = protocol::find_init(g.init.as_ref()).map_err(|e| e.to_string())?;
    let mut state = State::new(&g.root, id, &bundle, config.as_ref())?;
    let fifo = if with_fifo {
        Some(make_fifo(&state.fifo_path()).map_err(|e| state.fail(format!("exec fifo: {e}")))?)
    } else {
        None
    };
    let listen_fds = protocol::listen_fds();
    let launch = Launch {
        init: &init,
        bundle: &bundle,
        config: &config_bytes,
        fifo,
        preserved_fds: listen_fds + o.preserve_fds,
        listen_fds,
        debug: g.debug,
        // A session keyring of its own, named so that `exec` can join it (runc's `_ses.<id>`).
        keyring: (!o.no_new_keyring).then(|| format!("_ses.{id}")),
        init_type: "standard",
    };
    let mut spawned = Spawned::start(launch)
        .map_err(|e| state.fail(format!("spawning {}: {e}", init.display())))?;
    let mut pid = None;
    let mut console = None;
    loop {
        let msg = match spawned.recv() {
            Ok(m) => m,
            Err(e) => {
                return Err(fail(
                    &mut spawned,
                    pid,
                    &state,
                    format!("control channel: {e}"),
                ));
            }
        };
        match msg {
            Message::Pid(p) => pid = Some(p),
            Message::Console(master) => {
                if let Err(e) = take_console(master, o, &mut console) {
                    return Err(fail(&mut spawned, pid, &state, e.to_string()));
                }
            }
            Message::IdMap {
                pid: target,
                uid,
                gid,
            } => {
                if let Err(e) = spawned.write_id_maps(target, &uid, &gid) {
                    return Err(fail(&mut spawned, pid, &state, e.to_string()));
                }
            }
            Message::Ready => {
                let p = pid.unwrap_or_else(|| i32::try_from(spawned.child.id()).unwrap_or(0));
                // Saved before `run`, so a container whose parent dies now can still be deleted.
                if let Err(e) = state.save(p) {
                    return Err(fail(&mut spawned, pid, &state, e));
                }
                if let Err(e) = spawned.send_run() {
                    return Err(fail(
                        &mut spawned,
                        pid,
                        &state,
                        format!("control channel: {e}"),
                    ));
                }
            }
            Message::SeccompListener(fd) => {
                let p = pid.unwrap_or_else(|| i32::try_from(spawned.child.id()).unwrap_or(0));
                let seccomp = config
                    .as_ref()
                    .map(|c| &c["linux"]["seccomp"])
                    .cloned()
                    .unwrap_or_default();
                let process_state = serde_json::json!({
                    "ociVersion": "1.2.0",
                    "fds": ["seccompFd"],
                    "pid": p,
                    "metadata": seccomp["listenerMetadata"].as_str().unwrap_or(""),
                    "state": state.oci_state_creating(p),
                });
                let path = seccomp["listenerPath"].as_str().unwrap_or("");
                if let Err(e) = spawned.hand_over_listener(p, fd, path, &process_state) {
                    return Err(fail(&mut spawned, pid, &state, e.to_string()));
                }
            }
            Message::Created => break,
            Message::Error(e) => {
                let text = protocol::render_error(&e, config.as_ref());
                return Err(fail(&mut spawned, pid, &state, text));
            }
            Message::Eof => {
                let status = spawned
                    .child
                    .wait()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                return Err(fail(
                    &mut spawned,
                    pid,
                    &state,
                    format!("init exited before the container was created ({status})"),
                ));
            }
        }
    }
    let pid = pid.unwrap_or_else(|| i32::try_from(spawned.child.id()).unwrap_or(0));
    if let Some(f) = &o.pid_file {
        fs::write(f, pid.to_string()).map_err(|e| format!("--pid-file {}: {e}", f.display()))?;
    }
    Ok(Created {
        spawned,
        pid,
        config,
        state,
        console,
    })
}

/// `mkfifo exec.fifo 0622`, opened `O_PATH`: the init can only reopen it for writing.
fn make_fifo(path: &Path) -> io::Result<OwnedFd> {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        FileType::Fifo,
        Mode::from_raw_mode(0o622),
        0,
    )?;
    rustix::fs::chmod(path, Mode::from_raw_mode(0o622))?;
    Ok(rustix::fs::open(
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// After `created`: EOF means the exec happened; an error frame means it did not.
fn await_exec(c: &mut Created) -> Result<()> {
    match c.spawned.recv() {
        Ok(Message::Eof) => Ok(()),
        Ok(Message::Error(e)) => Err(protocol::render_error(&e, c.config.as_ref())),
        Ok(other) => Err(format!("unexpected message after created: {other:?}")),
        Err(e) => Err(format!("control channel: {e}")),
    }
}

pub(crate) fn exit_code(code: Option<i32>, signal: Option<i32>) -> u8 {
    match (code, signal) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(255),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(255),
        _ => 255,
    }
}

fn run(g: &Global, id: &str, o: &Opts) -> Result<u8> {
    let mut c = create_container(g, id, o, false)?;
    let exec = await_exec(&mut c);
    if let Err(e) = exec {
        let pid = (c.pid != i32::try_from(c.spawned.child.id()).unwrap_or(0)).then_some(c.pid);
        return Err(fail(&mut c.spawned, pid, &c.state, e));
    }
    if o.detach {
        return Ok(0);
    }
    let proxy = match c.console.take().map(protocol::proxy_console) {
        Some(Err(e)) => return Err(format!("console: {e}")),
        Some(Ok(proxy)) => Some(proxy),
        None => None,
    };
    let own = i32::try_from(c.spawned.child.id()).unwrap_or(0);
    let status = if c.pid == own {
        let s = c.spawned.child.wait().map_err(|e| e.to_string())?;
        exit_code(s.code(), s.signal())
    } else {
        // The init forked PID 1 as our child (CLONE_PARENT) and exited.
        let _ = c.spawned.child.wait();
        let pid = Pid::from_raw(c.pid).ok_or("bad pid")?;
        let (_, s) = rustix::process::waitpid(Some(pid), WaitOptions::empty())
            .map_err(|e| format!("waitpid: {e}"))?
            .ok_or("waitpid: no status")?;
        exit_code(s.exit_status(), s.terminating_signal())
    };
    drop(proxy);
    c.state.remove();
    Ok(status)
}

fn create(g: &Global, id: &str, o: &Opts) -> Result<()> {
    if !o.command.is_empty() {
        return Err("create takes a bundle (-b), not `-- CMD`".into());
    }
    create_container(g, id, o, true).map(drop)
}

fn start(g: &Global, id: &str) -> Result<()> {
    let st = State::load(&g.root, id)?;
    if st.status() != Status::Created {
        return Err(format!(
            "cannot start a container that is {}",
            st.status().name()
        ));
    }
    let fifo = st.fifo_path();
    let reader = rustix::fs::open(
        &fifo,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {e}", fifo.display()))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut fds = [rustix::event::PollFd::new(
            &reader,
            rustix::event::PollFlags::IN,
        )];
        let timeout = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        let _ = rustix::event::poll(&mut fds, Some(&timeout));
        let mut byte = [0u8; 1];
        match rustix::io::read(&reader, &mut byte) {
            Ok(1) => break,
            Ok(_) | Err(rustix::io::Errno::AGAIN) => {}
            Err(e) => return Err(format!("exec fifo: {e}")),
        }
        if st.status() == Status::Stopped {
            return Err("container init exited before start".into());
        }
        if Instant::now() > deadline {
            return Err("exec fifo: the init did not signal execve readiness".into());
        }
    }
    fs::remove_file(&fifo).map_err(|e| format!("{}: {e}", fifo.display()))
}

fn kill(g: &Global, id: &str, signal: &str) -> Result<()> {
    let st = State::load(&g.root, id)?;
    let sig = state::parse_signal(signal)?;
    if st.status() == Status::Stopped {
        return Err("container is not running".into());
    }
    let pid = Pid::from_raw(st.pid).ok_or("bad pid in state")?;
    rustix::process::kill_process(pid, sig).map_err(|e| format!("kill: {e}"))
}

fn delete(g: &Global, id: &str, force: bool) -> Result<()> {
    let st = State::load(&g.root, id)?;
    match st.status() {
        Status::Stopped => {}
        // A created container never ran the user's process: delete ends it (as runc).
        Status::Created => st.kill_and_wait(),
        Status::Running if force => st.kill_and_wait(),
        Status::Running => return Err("cannot delete a running container (use --force)".into()),
    }
    st.remove();
    Ok(())
}
