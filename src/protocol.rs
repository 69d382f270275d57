//! Protocol v1 between the parent runtime and the init (the contract is `docs/PROTOCOL.md`).
//!
//! Frames in both directions: a 4-byte little-endian payload length, then the payload. The
//! parent sends the config first, then replies; the init sends small JSON objects.

use rustix::fd::{AsFd, BorrowedFd};
use rustix::io::Errno;
use rustix::net::SendFlags;

use crate::error::{At, Context, InitError, Op, Reason, Step};
use crate::json;
use crate::text::{self, Full, Part, Sink};

/// The protocol version this init speaks (`_OCINIT_PROTOCOL`).
pub const VERSION: &str = "2";
/// Environment variables, read once and never passed on.
pub const ENV_PROTOCOL: &str = "_OCINIT_PROTOCOL";
/// Control channel fd (AF_UNIX stream socket).
pub const ENV_CONTROL: &str = "_OCINIT_CONTROL";
/// Log fd (pipe), JSON lines.
pub const ENV_LOG: &str = "_OCINIT_LOG";
/// Lowest level written to the log fd: `debug`, `info`, `warn` or `error`.
pub const ENV_LOG_LEVEL: &str = "_OCINIT_LOG_LEVEL";
/// Exec FIFO fd, opened `O_PATH` by the parent.
pub const ENV_FIFO: &str = "_OCINIT_FIFO";
/// Init type: `standard`.
pub const ENV_TYPE: &str = "_OCINIT_TYPE";
/// Number of fds from 3 up that the user process inherits.
pub const ENV_PRESERVED_FDS: &str = "_OCINIT_PRESERVED_FDS";
/// Name of the session keyring to join (runc: `_ses.<container id>`); absent: keep the inherited one.
pub const ENV_KEYRING: &str = "_OCINIT_KEYRING";
/// Variable: N: the first N preserved fds are listening sockets (systemd socket activation).
pub const ENV_LISTEN_FDS: &str = "_OCINIT_LISTEN_FDS";
/// Largest parent → init frame after the config.
pub const MAX_MESSAGE: usize = 4096;

/// A fixed-capacity text buffer for outgoing messages and log lines: [`Line<N>`] of `N` bytes.
/// Every size derefs to `LineBuf<[u8]>`, which has the methods: one copy of their code and one
/// [`Sink`] vtable for all the sizes (instead of one of each per size).
#[derive(Debug)]
pub struct LineBuf<B: ?Sized> {
    len: usize,
    buf: B,
}

/// A [`LineBuf`] of `N` bytes.
pub type Line<const N: usize> = LineBuf<[u8; N]>;

impl<const N: usize> Line<N> {
    /// Empty.
    pub fn new() -> Self {
        LineBuf {
            len: 0,
            buf: [0; N],
        }
    }
}

impl<const N: usize> Default for Line<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::ops::Deref for Line<N> {
    type Target = LineBuf<[u8]>;

    fn deref(&self) -> &LineBuf<[u8]> {
        self
    }
}

impl<const N: usize> core::ops::DerefMut for Line<N> {
    fn deref_mut(&mut self) -> &mut LineBuf<[u8]> {
        self
    }
}

impl LineBuf<[u8]> {
    /// The text written so far. Not inlined: it is called in many places.
    #[inline(never)]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Append the parts.
    pub fn push(&mut self, parts: &[Part<'_>]) -> Result<(), Full> {
        let mut sink = self;
        text::write(&mut sink, parts)
    }

    /// Append `s` as the contents of a JSON string ([`text::json_str`]).
    pub fn push_json_str(&mut self, s: &str) -> Result<(), Full> {
        let mut sink = self;
        text::json_str(&mut sink, s)
    }
}

/// A `dyn Sink` is made of a sized type: the reference.
impl Sink for &mut LineBuf<[u8]> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len + bytes.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(Full)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A line of any size as a `dyn Sink` of its own (for callers of [`text::write`]; the methods
/// above share one).
impl<const N: usize> Sink for Line<N> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let mut sink: &mut LineBuf<[u8]> = self;
        sink.put(bytes)
    }
}

/// Write all of `bytes` (a frame must never go out in part).
fn send_all(fd: BorrowedFd<'_>, mut bytes: &[u8], how: Sending) -> Result<(), Errno> {
    while !bytes.is_empty() {
        let sent = match how {
            Sending::Write => rustix::io::write(fd, bytes),
            // NOSIGNAL: a parent that went away must give us EPIPE, not kill us with SIGPIPE.
            Sending::Error => rustix::net::send(fd, bytes, SendFlags::NOSIGNAL),
        };
        match sent {
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How a frame is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    /// `write`: what seccomp profiles written for runc allow once the filter is loaded. A
    /// parent gone mid-protocol kills the init with SIGPIPE, which is all it could do anyway.
    Write,
    /// `send(MSG_NOSIGNAL)`: an error report must fail with EPIPE, so that the init can still
    /// say it on stderr.
    Error,
}

/// Send one frame.
pub fn send_frame(fd: BorrowedFd<'_>, payload: &[u8], step: Step) -> Result<(), InitError> {
    frame(fd, payload, step, Sending::Write)
}

/// Send an error frame; fails (instead of killing the init) when the parent is gone.
pub fn send_error_frame(fd: BorrowedFd<'_>, payload: &[u8], step: Step) -> Result<(), InitError> {
    frame(fd, payload, step, Sending::Error)
}

fn frame(fd: BorrowedFd<'_>, payload: &[u8], step: Step, how: Sending) -> Result<(), InitError> {
    let len = u32::try_from(payload.len())
        .map_err(|_| Errno::MSGSIZE)
        .ctx(step, Op::Send, At::NONE)?;
    let header = len.to_le_bytes();
    if how == Sending::Write {
        // One system call for the whole frame, in the common case of a complete write.
        let parts = [
            rustix::io::IoSlice::new(&header),
            rustix::io::IoSlice::new(payload),
        ];
        let sent = loop {
            match rustix::io::writev(fd, &parts) {
                Err(Errno::INTR) => {}
                r => break r.ctx(step, Op::Send, At::NONE)?,
            }
        };
        let rest_header = header.get(sent..).unwrap_or_default();
        let rest_payload = payload.get(sent.saturating_sub(4)..).unwrap_or_default();
        send_all(fd, rest_header, how).ctx(step, Op::Send, At::NONE)?;
        return send_all(fd, rest_payload, how).ctx(step, Op::Send, At::NONE);
    }
    send_all(fd, &header, how).ctx(step, Op::Send, At::NONE)?;
    send_all(fd, payload, how).ctx(step, Op::Send, At::NONE)
}

/// Receive one frame into `buf` (its header too: a payload of `buf.len() - 4` bytes at most);
/// returns the payload. Header and payload come in as few reads as the parent's writes allow
/// (one, when it writes the frame at once): the parent sends a frame only as the reply the init
/// waits for, so nothing may follow it (`docs/PROTOCOL.md`), and anything that does is an error.
pub fn recv_frame<'b>(
    fd: BorrowedFd<'_>,
    buf: &'b mut [u8],
    step: Step,
) -> Result<&'b [u8], InitError> {
    let fail = |why| InitError::invalid(step, At::NONE, why).with_op(Op::Recv);
    let mut got = 0;
    let end = loop {
        if let Some(header) = buf.first_chunk::<4>().filter(|_| got >= 4) {
            let end = 4 + u32::from_le_bytes(*header) as usize;
            if end > buf.len() {
                return Err(fail(Reason::FrameLargerThanTheProtocolLimit));
            }
            if got >= end {
                break end;
            }
        }
        let read = match rustix::io::read(fd, buf.get_mut(got..).unwrap_or_default()) {
            Err(Errno::INTR) => continue,
            r => r.ctx(step, Op::Recv, At::NONE)?,
        };
        if read == 0 {
            return Err(fail(match got {
                0 => Reason::ControlChannelClosedBeforeAFrame,
                1..4 => Reason::TruncatedFrameHeader,
                _ => Reason::TruncatedFrame,
            }));
        }
        got += read;
    };
    if got > end {
        return Err(fail(Reason::BytesAfterTheFrame));
    }
    Ok(buf.get(4..end).unwrap_or_default())
}

/// Receive the parent's reply and check it is `{"type": expected}` (other members ignored).
pub fn expect_reply(fd: BorrowedFd<'_>, expected: &str, step: Step) -> Result<(), InitError> {
    let mut buf = [0u8; 4 + MAX_MESSAGE];
    let frame = recv_frame(fd, &mut buf, step)?;
    let malformed = InitError::invalid(step, At::NONE, Reason::MalformedMessageFromTheParent)
        .with_op(Op::Parse);
    json::validate(frame, 4).map_err(|_| malformed)?;
    match json::Value::root(frame)
        .get("type")
        .and_then(json::Value::as_str)
    {
        Some(kind) if kind.eq_str(expected) => Ok(()),
        Some(_) => Err(InitError::invalid(
            step,
            At::NONE,
            Reason::UnexpectedMessageTypeFromTheParent,
        )),
        None => Err(malformed),
    }
}

/// Send `{"type":"<kind>"}`.
pub fn send_simple(fd: BorrowedFd<'_>, kind: &str, step: Step) -> Result<(), InitError> {
    let mut line = Line::<64>::new();
    line.push(&[Part::S("{\"type\":\""), Part::S(kind), Part::S("\"}")])
        .map_err(|_| InitError::invalid(step, At::NONE, Reason::MessageTooLong))?;
    send_frame(fd, line.as_bytes(), step)
}

/// Send `{"type":"console"}` with `master` attached (SCM_RIGHTS), in one `sendmsg`.
pub fn send_console(
    fd: BorrowedFd<'_>,
    master: BorrowedFd<'_>,
    step: Step,
) -> Result<(), InitError> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    const PAYLOAD: &[u8] = b"\x12\0\0\0{\"type\":\"console\"}";
    let mut space = [core::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [master];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    let sent = rustix::net::sendmsg(
        fd,
        &[rustix::io::IoSlice::new(PAYLOAD)],
        &mut control,
        SendFlags::NOSIGNAL,
    )
    .ctx(step, Op::Send, At::NONE)?;
    // The rest, if the socket took only part (the descriptor went with the first bytes).
    match PAYLOAD.get(sent..) {
        Some(rest) => send_all(fd, rest, Sending::Error).ctx(step, Op::Send, At::NONE),
        None => Ok(()),
    }
}

/// Short human text for the errnos an init commonly meets (the parent renders the rest).
pub fn errno_text(e: Errno) -> &'static str {
    const TEXTS: crate::names::Table<Errno, 19> = crate::table![
        ("no such file or directory", Errno::NOENT),
        ("permission denied", Errno::ACCESS),
        ("operation not permitted", Errno::PERM),
        ("exec format error", Errno::NOEXEC),
        ("not a directory", Errno::NOTDIR),
        ("is a directory", Errno::ISDIR),
        ("too many levels of symbolic links", Errno::LOOP),
        ("file name too long", Errno::NAMETOOLONG),
        ("argument list too long", Errno::TOOBIG),
        ("cannot allocate memory", Errno::NOMEM),
        ("text file busy", Errno::TXTBSY),
        ("invalid argument", Errno::INVAL),
        ("device or resource busy", Errno::BUSY),
        ("read-only file system", Errno::ROFS),
        ("function not implemented", Errno::NOSYS),
        ("bad file descriptor", Errno::BADF),
        ("broken pipe", Errno::PIPE),
        ("file exists", Errno::EXIST),
        ("no such device", Errno::NODEV),
    ];
    TEXTS.find(|_, &n| n == e).map_or("", |(text, _)| text)
}

/// Render `e` as the protocol's error message.
pub fn error_message(e: &InitError, out: &mut Line<512>) -> Result<(), Full> {
    let (errno, errname) = match e.errno() {
        Some(n) => (n.raw_os_error(), errno_text(n)),
        None => (0, ""),
    };
    let mut path = Line::<128>::new();
    path.push(&[Part::At(e.at)])?;
    out.push(&[
        Part::S("{\"type\":\"error\",\"step\":\""),
        Part::S(e.step_name()),
        Part::S("\",\"op\":\""),
        Part::S(e.op_name()),
        Part::S("\",\"errno\":"),
        Part::I(i64::from(errno)),
        Part::S(",\"path\":\""),
    ])?;
    out.push_json_str(core::str::from_utf8(path.as_bytes()).map_err(|_| Full)?)?;
    out.push(&[Part::S("\",\"message\":\"")])?;
    out.push_json_str(if e.why().is_empty() { errname } else { e.why() })?;
    out.push(&[Part::S("\"}")])
}

/// Render `e` for a human, on one line: `ocinit: <step>: <path>: <op>: <reason>`.
pub fn error_text(e: &InitError, out: &mut Line<512>) -> Result<(), Full> {
    out.push(&[Part::S("ocinit: "), Part::S(e.step_name()), Part::S(": ")])?;
    if !e.at.is_none() {
        out.push(&[Part::At(e.at), Part::S(": ")])?;
    }
    out.push(&[Part::S(e.op_name())])?;
    if let Some(n) = e.errno() {
        let text = errno_text(n);
        if text.is_empty() {
            out.push(&[Part::S(": errno "), Part::I(i64::from(n.raw_os_error()))])?;
        } else {
            out.push(&[Part::S(": "), Part::S(text)])?;
        }
    }
    if !e.why().is_empty() {
        out.push(&[Part::S(": "), Part::S(e.why())])?;
    }
    out.push(&[Part::S("\n")])
}

/// Where log lines go, and from which level.
#[derive(Debug, Clone, Copy)]
pub struct Log<'f> {
    /// The log fd, if the parent passed one.
    pub fd: Option<BorrowedFd<'f>>,
    /// Debug lines are written only when true.
    pub debug: bool,
}

impl Log<'_> {
    /// At debug level: `phase NAME done at T µs` (CLOCK_MONOTONIC), so a parent can see where
    /// the init's time goes (`bench/phases.sh`).
    pub fn phase(&self, name: &str) {
        if self.debug && self.fd.is_some() {
            let t = crate::sys::monotonic_us();
            self.line(
                "debug",
                &[
                    Part::S("phase "),
                    Part::S(name),
                    Part::S(" done at "),
                    Part::U(t),
                    Part::S(" us"),
                ],
            );
        }
    }

    /// Write `{"level":level,"msg":msg}\n`; logging never fails the init.
    pub fn line(&self, level: &str, msg: &[Part<'_>]) {
        let Some(fd) = self.fd else { return };
        if level == "debug" && !self.debug {
            return;
        }
        let mut text = Line::<384>::new();
        // A message that does not fit is cut, and says so.
        if text.push(msg).is_err() {
            text.len = text.len.min(380);
            let _ = text.push(&[Part::S("...")]);
        }
        let mut line = Line::<1024>::new();
        let text = core::str::from_utf8(text.as_bytes()).unwrap_or("(invalid utf-8)");
        let _ = line.push(&[
            Part::S("{\"level\":\""),
            Part::S(level),
            Part::S("\",\"msg\":\""),
        ]);
        let _ = line.push_json_str(text);
        let _ = line.push(&[Part::S("\"}\n")]);
        let _ = rustix::io::write(fd.as_fd(), line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Field;

    #[test]
    fn error_message_is_json() {
        let e = InitError::sys(
            Step::Mounts,
            Op::Mount,
            Errno::ACCESS,
            At::item(Field::MountsItem, 3),
        );
        let mut out = Line::<512>::new();
        error_message(&e, &mut out).expect("fits");
        assert_eq!(
            std::str::from_utf8(out.as_bytes()).expect("utf8"),
            r#"{"type":"error","step":"mounts","op":"mount","errno":13,"path":"mounts[3]","message":"permission denied"}"#
        );
        let mut text = Line::<512>::new();
        error_text(&e, &mut text).expect("fits");
        assert_eq!(
            std::str::from_utf8(text.as_bytes()).expect("utf8"),
            "ocinit: mounts: mounts[3]: mount: permission denied\n"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Line::<64>::new();
        out.push_json_str("a\"b\\c\n").expect("fits");
        assert_eq!(out.as_bytes(), b"a\\\"b\\\\c\\u000a");
    }
}
