//! The parent side of ocinit's protocol v2 (`docs/PROTOCOL.md`): spawn the init from a sealed
//! copy of its binary with the protocol's descriptors, stream the config, answer the handshake.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::FdFlags;
use serde_json::Value;

/// Largest frame the init sends; anything longer is a protocol violation.
const MAX_INIT_FRAME: u32 = 64 * 1024;

/// What the parent asks of one init run.
#[derive(Debug)]
pub struct Launch<'a> {
    /// The ocinit binary (copied into a sealed memfd before it runs).
    pub init: &'a Path,
    /// The bundle: the init's working directory, against which relative paths resolve.
    pub bundle: &'a Path,
    /// `config.json`, unmodified.
    pub config: &'a [u8],
    /// The exec FIFO, for `create`.
    pub fifo: Option<OwnedFd>,
    /// Fds 3..3+n that the user process inherits.
    pub preserved_fds: u32,
    /// Forward the init's debug log lines.
    pub debug: bool,
    /// The session keyring the init joins (`_ses.<id>`), or none (`--no-new-keyring`).
    pub keyring: Option<String>,
    /// `_OCINIT_TYPE`: `standard` (create a container) or `exec` (a process in a running one).
    pub init_type: &'static str,
    /// The first `listen_fds` of the preserved fds are listening sockets handed to us by
    /// systemd socket activation (`LISTEN_FDS`).
    pub listen_fds: u32,
}

/// A message from the init.
#[derive(Debug)]
pub enum Message {
    /// The pid of the container's PID 1, when the init forked it into a new PID namespace.
    Pid(i32),
    /// The init unshared a user namespace: write the maps of process `pid`, then answer.
    IdMap {
        /// The process whose `/proc/PID/{uid_map,gid_map}` to write.
        pid: i32,
        /// `uid_map` lines.
        uid: String,
        /// `gid_map` lines.
        gid: String,
    },
    /// The init loaded a seccomp filter with a notify listener, descriptor `fd` in its table:
    /// take it, answer, and hand it to the agent at `linux.seccomp.listenerPath`.
    SeccompListener(i32),
    /// The init waits for `run`.
    Ready,
    /// `process.terminal`: the pty master, which came with the message (SCM_RIGHTS).
    Console(OwnedFd),
    /// Every step before execve passed; the init waits on the FIFO (if any), then execs.
    Created,
    /// A failure, as the init reported it.
    Error(Value),
    /// The control channel closed: the init exec'd the user process, or died.
    Eof,
}

/// A running init.
#[derive(Debug)]
pub struct Spawned {
    /// The process we spawned (the container process unless the init forked for a PID namespace).
    pub child: Child,
    control: UnixStream,
    /// A descriptor that came with the frame being read (SCM_RIGHTS).
    received: Option<OwnedFd>,
    /// The pid of the process that sent the frame being read (SCM_CREDENTIALS, as the kernel
    /// sees it from our PID namespace).
    sender: Option<i32>,
    /// The init's log, printed while we wait for its frames.
    log: LogForwarder,
}

/// Copy `init` into a memfd and seal it: nothing, in a container or not, can ever write to the
/// binary the host executes (CVE-2019-5736).
fn sealed_copy(init: &Path) -> io::Result<OwnedFd> {
    let memfd =
        rustix::fs::memfd_create("ocinit", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut file = File::from(memfd);
    io::copy(&mut File::open(init)?, &mut file)?;
    let seals = SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE;
    rustix::fs::fcntl_add_seals(&file, seals)?;
    Ok(file.into())
}

/// `fd` at the lowest free number from `min` on (close-on-exec), the old number closed; where
/// it was when `min` is at or above `RLIMIT_NOFILE` (EINVAL): packing only saves the init calls.
fn moved(fd: OwnedFd, min: i32) -> io::Result<OwnedFd> {
    match rustix::io::fcntl_dupfd_cloexec(&fd, min) {
        Err(rustix::io::Errno::INVAL) => Ok(fd),
        r => Ok(r?),
    }
}

/// Let `fd` survive exec, so the init inherits it.
fn inheritable(fd: &OwnedFd) -> io::Result<()> {
    rustix::io::fcntl_setfd(fd, FdFlags::empty())?;
    Ok(())
}

impl Spawned {
    /// Spawn the init and send it the config.
    pub fn start(launch: Launch<'_>) -> io::Result<Spawned> {
        for fd in 3..3 + launch.preserved_fds {
            let fd = i32::try_from(fd).map_err(|_| io::Error::other("--preserve-fds too large"))?;
            // The magic link exists exactly while the descriptor is open.
            if Path::new(&format!("/proc/self/fd/{fd}"))
                .symlink_metadata()
                .is_err()
            {
                return Err(io::Error::other(format!(
                    "--preserve-fds: fd {fd} is not open"
                )));
            }
        }
        let binary = sealed_copy(launch.init)?;
        let (control, init_end) = UnixStream::pair()?;
        // Every frame then comes with its sender's pid (the `pid` frame needs it).
        rustix::net::sockopt::set_socket_passcred(&control, true)?;
        let (log_read, log_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        // The init closes every descriptor it was not told about, one close_range per gap
        // between its own: everything moves out of the way, then the init's fds come back
        // down to the lowest numbers from 3 + N, next to each other.
        let away = |fd: OwnedFd| moved(fd, 64);
        let (binary, control, log_read) = (away(binary)?, away(control.into())?, away(log_read)?);
        let (init_end, log_write, fifo) = (
            away(init_end.into())?,
            away(log_write)?,
            launch.fifo.map(away).transpose()?,
        );
        let first = i32::try_from(3 + launch.preserved_fds)
            .map_err(|_| io::Error::other("--preserve-fds too large"))?;
        let init_end = moved(init_end, first)?;
        inheritable(&init_end)?;
        let log_write = moved(log_write, first)?;
        inheritable(&log_write)?;
        let fifo = fifo.map(|f| moved(f, first)).transpose()?;
        let control = UnixStream::from(control);

        let mut cmd = Command::new(format!("/proc/self/fd/{}", binary.as_raw_fd()));
        cmd.arg0("ocinit")
            .env_clear()
            .env("_OCINIT_PROTOCOL", "2")
            .env("_OCINIT_TYPE", launch.init_type)
            .env("_OCINIT_CONTROL", init_end.as_raw_fd().to_string())
            .env("_OCINIT_LOG", log_write.as_raw_fd().to_string())
            .env(
                "_OCINIT_LOG_LEVEL",
                if launch.debug { "debug" } else { "info" },
            )
            .env("_OCINIT_PRESERVED_FDS", launch.preserved_fds.to_string())
            .env("_OCINIT_LISTEN_FDS", launch.listen_fds.to_string())
            .current_dir(launch.bundle);
        if let Some(name) = &launch.keyring {
            cmd.env("_OCINIT_KEYRING", name);
        }
        if let Some(fifo) = &fifo {
            inheritable(fifo)?;
            cmd.env("_OCINIT_FIFO", fifo.as_raw_fd().to_string());
        }
        let child = cmd.spawn()?;
        // Our copies of the init's ends: closing them lets EOF mean "the init is gone".
        drop((init_end, log_write, fifo, binary));
        let log = LogForwarder {
            pipe: Some(File::from(log_read)),
            pending: Vec::new(),
            debug: launch.debug,
        };

        let mut spawned = Spawned {
            child,
            control,
            received: None,
            sender: None,
            log,
        };
        match spawned.send(launch.config) {
            // The init stopped reading: it has sent an error frame saying why (too large, ...),
            // which the caller reads next.
            Err(e)
                if e.kind() == io::ErrorKind::BrokenPipe
                    || e.kind() == io::ErrorKind::ConnectionReset => {}
            r => r?,
        }
        Ok(spawned)
    }

    /// Send one frame.
    pub fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| io::Error::other("frame too large"))?;
        // Header and payload in one write: the init then reads the frame in one read.
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(payload);
        self.control.write_all(&frame)
    }

    /// Write a user namespace's id maps, then answer `idmap`. An unprivileged parent may only
    /// map its own ids, and must deny setgroups first.
    pub fn write_id_maps(&mut self, pid: i32, uid: &str, gid: &str) -> io::Result<()> {
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let write = |file: &str, text: &str| {
            std::fs::write(proc.join(file), text)
                .map_err(|e| io::Error::other(format!("writing /proc/{pid}/{file}: {e}")))
        };
        if !rustix::process::geteuid().is_root() {
            write("setgroups", "deny")?;
        }
        write("uid_map", uid)?;
        write("gid_map", gid)?;
        self.send(br#"{"type":"idmap-done"}"#)
    }

    /// Print the init's last log lines (warnings sent just before exec or an error) before
    /// the caller goes on. Bounded: a log end inherited by something that outlives the init
    /// must not hang us.
    fn wait_log_drained(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Some(pipe) = &self.log.pipe {
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = rustix::event::Timespec::try_from(left).unwrap_or_default();
            let mut fds = [rustix::event::PollFd::new(
                pipe,
                rustix::event::PollFlags::IN,
            )];
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                Ok(0) => break,
                Ok(_) => self.log.pump(),
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => break,
            }
        }
    }

    /// Wait until the control channel has something to read, printing the init's log lines
    /// meanwhile (one thread: no forwarder thread to start per container).
    fn wait_readable(&mut self) -> io::Result<()> {
        use rustix::event::{PollFd, PollFlags, poll};
        loop {
            let (log_ready, control_ready) = {
                let mut fds = vec![PollFd::new(&self.control, PollFlags::IN)];
                if let Some(pipe) = &self.log.pipe {
                    fds.push(PollFd::new(pipe, PollFlags::IN));
                }
                match poll(&mut fds, None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                }
                let ready = |fd: &PollFd<'_>| !fd.revents().is_empty();
                (
                    fds.get(1).is_some_and(ready),
                    fds.first().is_some_and(ready),
                )
            };
            // The log first: a line written before a frame is printed before it is handled.
            if log_ready {
                self.log.pump();
            }
            if control_ready {
                return Ok(());
            }
        }
    }

    /// Take the init's notify listener (`pidfd_getfd`, as runc), answer, then send it with the
    /// OCI `ContainerProcessState` to the seccomp agent listening at `listener_path`.
    pub fn hand_over_listener(
        &mut self,
        pid: i32,
        fd: i32,
        listener_path: &str,
        process_state: &Value,
    ) -> io::Result<()> {
        use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
        use rustix::process::{PidfdFlags, PidfdGetfdFlags};
        let target = rustix::process::Pid::from_raw(pid)
            .ok_or_else(|| io::Error::other("no pid for the seccomp listener"))?;
        let pidfd = rustix::process::pidfd_open(target, PidfdFlags::empty())?;
        let listener = rustix::process::pidfd_getfd(&pidfd, fd, PidfdGetfdFlags::empty())?;
        self.send(br#"{"type":"seccomp-listener-done"}"#)?;
        let agent = UnixStream::connect(listener_path).map_err(|e| {
            io::Error::other(format!(
                "connecting to the seccomp agent at {listener_path}: {e}"
            ))
        })?;
        let payload = serde_json::to_vec(process_state).map_err(io::Error::other)?;
        let fds = [listener.as_fd()];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        control.push(SendAncillaryMessage::ScmRights(&fds));
        let sent = rustix::net::sendmsg(
            &agent,
            &[io::IoSlice::new(&payload)],
            &mut control,
            SendFlags::empty(),
        )?;
        if sent != payload.len() {
            return Err(io::Error::other("short write to the seccomp agent"));
        }
        Ok(())
    }

    /// Answer `ready`.
    pub fn send_run(&mut self) -> io::Result<()> {
        self.send(br#"{"type":"run"}"#)
    }

    /// `read`, keeping a descriptor that comes with the bytes (a plain `read` would drop it).
    fn recv_with_fds(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
        let mut space =
            [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1), ScmCredentials(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let got = rustix::net::recvmsg(
            &self.control,
            &mut [io::IoSliceMut::new(buf)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )?;
        for message in control.drain() {
            match message {
                RecvAncillaryMessage::ScmRights(fds) => {
                    for fd in fds {
                        self.received = Some(fd);
                    }
                }
                // The kernel writes pid 0 for a sender our PID namespace cannot see (which
                // rustix's `UCred` cannot hold); ours always sees it: the container's PID
                // namespace is one our spawned init made, or, for `exec`, one reached through
                // `/proc/<pid>` in our own namespace.
                RecvAncillaryMessage::ScmCredentials(who) => {
                    self.sender = Some(who.pid.as_raw_nonzero().get());
                }
                _ => {}
            }
        }
        Ok(got.bytes)
    }

    /// Receive the next message.
    pub fn recv(&mut self) -> io::Result<Message> {
        self.wait_readable()?;
        let mut header = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.recv_with_fds(&mut header[got..])? {
                0 if got == 0 => {
                    self.wait_log_drained();
                    return Ok(Message::Eof);
                }
                0 => return Err(io::Error::other("init sent a truncated frame")),
                n => got += n,
            }
        }
        let len = u32::from_le_bytes(header);
        if len > MAX_INIT_FRAME {
            return Err(io::Error::other(format!("init sent a {len}-byte frame")));
        }
        let mut payload = vec![0u8; len as usize];
        self.control.read_exact(&mut payload)?;
        let msg: Value = serde_json::from_slice(&payload)
            .map_err(|e| io::Error::other(format!("init sent malformed JSON: {e}")))?;
        Ok(match msg["type"].as_str() {
            // Sent by the container's process itself: its pid is the frame's credentials.
            Some("pid") => Message::Pid(
                self.sender
                    .ok_or_else(|| io::Error::other("pid message without credentials"))?,
            ),
            Some("idmap") => Message::IdMap {
                pid: msg["pid"]
                    .as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .ok_or_else(|| io::Error::other("bad idmap message"))?,
                uid: msg["uidMappings"].as_str().unwrap_or_default().to_string(),
                gid: msg["gidMappings"].as_str().unwrap_or_default().to_string(),
            },
            Some("ready") => Message::Ready,
            Some("console") => Message::Console(
                self.received
                    .take()
                    .ok_or_else(|| io::Error::other("console message without a descriptor"))?,
            ),
            Some("seccomp-listener") => Message::SeccompListener(
                msg["fd"]
                    .as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .ok_or_else(|| io::Error::other("bad seccomp-listener message"))?,
            ),
            Some("created") => Message::Created,
            Some("error") => {
                self.wait_log_drained();
                Message::Error(msg)
            }
            _ => {
                return Err(io::Error::other(format!(
                    "init sent an unknown message: {msg}"
                )));
            }
        })
    }
}

/// Socket activation (`sd_listen_fds`): `LISTEN_FDS=N` with `LISTEN_PID` naming us means fds
/// 3..3+N are listening sockets meant for us; they go to the container first, its preserved
/// fds after them (runc, crun).
pub fn listen_fds() -> u32 {
    let ours = std::env::var("LISTEN_PID").ok() == Some(std::process::id().to_string());
    std::env::var("LISTEN_FDS")
        .ok()
        .filter(|_| ours)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Send a pty master to the receiver listening at `--console-socket` (runc's way: the fd as
/// SCM_RIGHTS with its name as the payload, as runc's `recvtty` expects).
pub fn send_console(socket: &Path, master: &OwnedFd) -> io::Result<()> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let peer = UnixStream::connect(socket)
        .map_err(|e| io::Error::other(format!("--console-socket {}: {e}", socket.display())))?;
    let fds = [master.as_fd()];
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    control.push(SendAncillaryMessage::ScmRights(&fds));
    let name = b"/dev/ptmx";
    let sent = rustix::net::sendmsg(
        &peer,
        &[io::IoSlice::new(name)],
        &mut control,
        SendFlags::empty(),
    )?;
    if sent != name.len() {
        return Err(io::Error::other("short write to the console socket"));
    }
    Ok(())
}

/// `ocirun run` with a terminal and no `--console-socket`: copy our stdin to the pty and the
/// pty to our stdout (our terminal in raw mode meanwhile, with its size). Returns a guard that
/// restores our terminal and, when dropped, waits briefly for the output to drain.
pub fn proxy_console(master: OwnedFd) -> io::Result<ConsoleProxy> {
    use rustix::termios::{self, OptionalActions};
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(&stdin).ok();
    if let Some(attrs) = &saved {
        if let Ok(size) = termios::tcgetwinsize(&stdin) {
            termios::tcsetwinsize(&master, size)?;
        }
        let mut raw = attrs.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw)?;
    }
    let input = File::from(master.try_clone()?);
    std::thread::spawn(move || {
        let mut input = input;
        let _ = io::copy(&mut std::io::stdin().lock(), &mut input);
    });
    let (done, drained) = mpsc::channel();
    std::thread::spawn(move || {
        let mut output = File::from(master);
        let mut buf = [0u8; 4096];
        let mut stdout = std::io::stdout().lock();
        // EIO once every process holding the peer is gone.
        while let Ok(n @ 1..) = output.read(&mut buf) {
            if stdout
                .write_all(&buf[..n])
                .and_then(|()| stdout.flush())
                .is_err()
            {
                break;
            }
        }
        let _ = done.send(());
    });
    Ok(ConsoleProxy { saved, drained })
}

/// See [`proxy_console`].
#[derive(Debug)]
pub struct ConsoleProxy {
    saved: Option<rustix::termios::Termios>,
    drained: mpsc::Receiver<()>,
}

impl Drop for ConsoleProxy {
    fn drop(&mut self) {
        // Bounded: a process that kept the pty (a daemon) must not hang us.
        let _ = self.drained.recv_timeout(Duration::from_secs(2));
        if let Some(attrs) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                attrs,
            );
        }
    }
}

/// The init's log pipe: JSON lines (`{"level","msg"}`) printed on our stderr as
/// `ocirun: init LEVEL: MSG`. Errors are skipped: they also arrive on the control channel, which
/// renders them with the config's values; debug lines only with `--debug`.
#[derive(Debug)]
struct LogForwarder {
    /// None once the init's end is closed.
    pipe: Option<File>,
    /// Bytes of a line not complete yet.
    pending: Vec<u8>,
    debug: bool,
}

impl LogForwarder {
    /// Read what the pipe has (poll said it would not block) and print every complete line.
    fn pump(&mut self) {
        let Some(pipe) = &mut self.pipe else { return };
        let mut chunk = [0u8; 8192];
        match pipe.read(&mut chunk) {
            Ok(0) | Err(_) => self.pipe = None,
            Ok(n) => self
                .pending
                .extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
        while let Some(end) = self.pending.iter().position(|&c| c == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.print(String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line)).as_ref());
        }
        if self.pipe.is_none() && !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.print(String::from_utf8_lossy(&rest).as_ref());
        }
    }

    fn print(&self, line: &str) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.into()));
        let level = v["level"].as_str().unwrap_or("info");
        if level == "error" || (level == "debug" && !self.debug) {
            return;
        }
        eprintln!(
            "ocirun: init {level}: {}",
            v["msg"].as_str().unwrap_or(line)
        );
    }
}

/// Render an init error for humans:
/// `init failed at mounts[3] (/proc → /proc): mount: Permission denied`.
pub fn render_error(err: &Value, config: Option<&Value>) -> String {
    let step = err["step"].as_str().unwrap_or("?");
    let op = err["op"].as_str().unwrap_or("?");
    let path = err["path"].as_str().unwrap_or("");
    let errno = err["errno"]
        .as_i64()
        .and_then(|e| i32::try_from(e).ok())
        .unwrap_or(0);
    let message = err["message"].as_str().unwrap_or("");
    let mut out = String::from("init failed at ");
    if path.is_empty() {
        out.push_str(&format!("step {step}"));
    } else {
        out.push_str(path);
        if let Some(detail) = config.and_then(|c| describe(c, path)) {
            out.push_str(&format!(" ({detail})"));
        }
    }
    out.push_str(&format!(": {op}"));
    if errno != 0 {
        let text = io::Error::from_raw_os_error(errno).to_string();
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        out.push_str(&format!(": {text}"));
        if !message.is_empty() && !message.eq_ignore_ascii_case(&text) {
            out.push_str(&format!(" ({message})"));
        }
    } else if !message.is_empty() {
        out.push_str(&format!(": {message}"));
    }
    out
}

/// The config value a path such as `mounts[3]` or `process.args[0]` names, in a few words.
fn describe(config: &Value, path: &str) -> Option<String> {
    if let Some(key) = path
        .strip_prefix("annotations[\"")
        .and_then(|k| k.strip_suffix("\"]"))
    {
        return config["annotations"][key].as_str().map(str::to_string);
    }
    let mut v = config;
    let mut mount = None;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        v = v.get(name)?;
        if let (Some(i), Some(map)) = (index, v.as_object()) {
            // An object member by position (linux.sysctl[2]): show it as key=value.
            let (key, value) = map.iter().nth(i)?;
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            return Some(format!("{key}={value}"));
        }
        if let Some(i) = index {
            v = v.get(i)?;
            if name == "mounts" {
                mount = Some(v);
            }
        }
    }
    if let Some(m) = mount.filter(|m| std::ptr::eq(*m, v)) {
        let dest = m["destination"].as_str().unwrap_or("?");
        let src = m["source"].as_str().or(m["type"].as_str()).unwrap_or("?");
        return Some(format!("{src} → {dest}"));
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The ocinit binary: `--init`, else `$OCIRUN_INIT`, else `ocinit` beside this executable.
pub fn find_init(flag: Option<&OsString>) -> io::Result<PathBuf> {
    if let Some(p) = flag.cloned().or_else(|| std::env::var_os("OCIRUN_INIT")) {
        return Ok(PathBuf::from(p));
    }
    let me = std::env::current_exe()?;
    let beside = me.with_file_name("ocinit");
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(io::Error::other(format!(
            "cannot find ocinit beside {} (use --init PATH)",
            me.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_mount_errors_with_their_values() {
        let config = json!({"mounts": [{}, {}, {}, {"destination": "/proc", "source": "/proc", "type": "proc"}]});
        let err = json!({"type":"error","step":"mounts","op":"mount","errno":13,"path":"mounts[3]","message":"permission denied"});
        assert_eq!(
            render_error(&err, Some(&config)),
            "init failed at mounts[3] (/proc → /proc): mount: Permission denied"
        );
        let err = json!({"step":"lookup","op":"access","errno":2,"path":"process.args[0]","message":"executable file not found in $PATH"});
        let config = json!({"process": {"args": ["nope"]}});
        assert_eq!(
            render_error(&err, Some(&config)),
            "init failed at process.args[0] (nope): access: No such file or directory (executable file not found in $PATH)"
        );
        let err = json!({"step":"decode","op":"parse","errno":0,"path":"byte[7]","message":"trailing characters"});
        assert_eq!(
            render_error(&err, None),
            "init failed at byte[7]: parse: trailing characters"
        );
    }
}
