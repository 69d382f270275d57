//! What each fuzz target asserts. The cargo-fuzz targets in `fuzz/fuzz_targets/` call these with
//! libFuzzer's inputs; `tests/replay.rs` calls them with every corpus file on stable Rust, so CI
//! gates regressions without nightly.

use std::collections::HashSet;
use std::io::Write as _;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use ocinit::error::Step;
use ocinit::json::{self, Kind, Value};
use ocinit::protocol::{self, Line};

/// Compare the zero-copy reader's view of a document with serde_json's.
fn same(ours: Value<'_>, theirs: &serde_json::Value, path: &str) {
    use serde_json::Value as J;
    match (ours.kind(), theirs) {
        (Kind::Null, J::Null) => {}
        (Kind::Bool, J::Bool(b)) => assert_eq!(ours.as_bool(), Some(*b), "{path}"),
        (Kind::Number, J::Number(n)) => {
            if let Some(i) = n.as_i64() {
                assert_eq!(ours.as_integer(), Some(i128::from(i)), "{path}");
            } else if let Some(u) = n.as_u64() {
                assert_eq!(ours.as_integer(), Some(i128::from(u)), "{path}");
            }
        }
        (Kind::String, J::String(s)) => {
            let mut buf = vec![0u8; s.len()];
            let js = ours.as_str().expect("a string");
            let n = js
                .decode_into(&mut buf)
                .expect("decoded text is as long as serde_json's");
            assert_eq!(std::str::from_utf8(&buf[..n]), Ok(s.as_str()), "{path}");
            assert!(js.eq_str(s), "{path}");
            assert_eq!(js.chars().collect::<String>(), *s, "{path}");
        }
        (Kind::Array, J::Array(items)) => {
            assert_eq!(ours.elements().count(), items.len(), "{path}");
            for (i, (o, t)) in ours.elements().zip(items).enumerate() {
                same(o, t, &format!("{path}[{i}]"));
            }
        }
        (Kind::Object, J::Object(map)) => {
            let keys: HashSet<String> = ours.members().map(|(k, _)| k.chars().collect()).collect();
            assert_eq!(keys.len(), map.len(), "{path}: distinct keys");
            for (k, t) in map {
                let o = ours.get(k).unwrap_or_else(|| panic!("{path}.{k} missing"));
                same(o, t, &format!("{path}.{k}"));
            }
        }
        (k, t) => panic!("{path}: ours is {k:?}, serde_json has {t}"),
    }
}

/// A document of the process's lifetime, as the init's config buffer: indexed by
/// `json::validate_static`, every value reads as serde_json's, and the config decodes exactly as
/// it does without the index. (`'static`: the replay test leaks each corpus file for it; the
/// libFuzzer targets, which run millions of inputs, do not call it.)
pub fn indexed_config_decode(data: &'static [u8]) {
    let indexed = json::validate_static(data, json::MAX_DEPTH);
    assert_eq!(indexed, json::validate(data, json::MAX_DEPTH));
    if let (Ok(()), Ok(v)) = (indexed, serde_json::from_slice::<serde_json::Value>(data)) {
        same(Value::root(data), &v, "$");
    }
    assert_eq!(
        ocinit::config::decode_static(data),
        ocinit::config::decode(data)
    );
}

/// Config bytes: the reader agrees with serde_json on what is valid JSON and on every value;
/// decoding never panics; every error renders as a valid protocol message.
pub fn config_decode(data: &[u8]) {
    let ours = json::validate(data, json::MAX_DEPTH);
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, &theirs) {
        (Ok(()), Ok(v)) => same(Value::root(data), v, "$"),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) => assert_eq!(
            e.reason.text(),
            "nested too deep",
            "valid JSON rejected: {e:?}"
        ),
        // serde_json refuses numbers it cannot represent (1e400); the grammar allows them.
        (Ok(()), Err(e)) => assert!(
            e.to_string().contains("number out of range"),
            "invalid JSON accepted: {e}"
        ),
    }
    if let Err(e) = ocinit::config::decode(data) {
        let mut message = Line::<512>::new();
        protocol::error_message(&e, &mut message).expect("every error message fits its buffer");
        let v: serde_json::Value =
            serde_json::from_slice(message.as_bytes()).expect("error messages are JSON");
        assert_eq!(v["type"], "error");
        let mut text = Line::<512>::new();
        protocol::error_text(&e, &mut text).expect("every error text fits its buffer");
    }
}

/// What a correct reader of `data` as frames (payloads of at most `cap` bytes, read with a
/// buffer of `cap + 4`) must see when all of `data` is already queued: the payloads, then why it
/// stopped. A parent sends a frame only as the reply the init waits for, so the init reads
/// greedily and bytes after a frame in one read are an error (`docs/PROTOCOL.md`).
fn reference_frames(data: &[u8], cap: usize) -> (Vec<Vec<u8>>, &'static str) {
    let mut frames = Vec::new();
    let mut pos = 0;
    loop {
        let available = &data[pos..];
        if available.is_empty() {
            return (frames, "control channel closed before a frame");
        }
        // The first read takes what is queued, up to the buffer.
        let read = available.len().min(cap + 4);
        if read < 4 {
            return (frames, "truncated frame header");
        }
        let len = u32::from_le_bytes([available[0], available[1], available[2], available[3]]);
        let len = len as usize;
        if len > cap {
            return (frames, "frame larger than the protocol limit");
        }
        if read > 4 + len {
            return (frames, "bytes after the frame");
        }
        if read < 4 + len {
            return (frames, "truncated frame");
        }
        frames.push(available[4..4 + len].to_vec());
        pos += 4 + len;
    }
}

/// Control-channel bytes, all queued before the init reads: its framing agrees with the
/// reference reader frame by frame and stops with the same reason.
pub fn frames(data: &[u8]) {
    let cap = usize::from(data.first().copied().unwrap_or(0)) * 16;
    // Small enough to sit in the socket's buffer whole.
    let data = data.get(1..).unwrap_or_default();
    let data = &data[..data.len().min(64 * 1024)];
    let (ours, mut theirs) = UnixStream::pair().expect("socketpair");
    theirs.write_all(data).expect("queued");
    drop(theirs);
    let (expected, why) = reference_frames(data, cap);
    let mut buf = vec![0u8; cap + 4];
    let mut got = Vec::new();
    let reason = loop {
        match protocol::recv_frame(ours.as_fd(), &mut buf, Step::Receive) {
            Ok(frame) => got.push(frame.to_vec()),
            Err(e) => break e.why(),
        }
        if got.len() > expected.len() {
            break "more frames than sent";
        }
    };
    assert_eq!(got, expected);
    assert_eq!(reason, why);
}

/// Mount options: any list of words parses or fails cleanly; the result keeps the invariants
/// the mount code relies on.
pub fn mount_options(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = text.split(',').collect();
    let doc = serde_json::to_vec(&words).expect("serialize");
    json::validate(&doc, json::MAX_DEPTH).expect("serde_json writes valid JSON");
    match ocinit::mounts::Options::parse(Some(Value::root(&doc)), 0) {
        Ok(o) => {
            assert_eq!(o.flags & o.cleared, 0, "a flag both set and cleared");
            assert_eq!(
                o.attr_set & o.attr_clr & !u64::from(linux_raw_sys_atime()),
                0,
                "an attribute both set and cleared"
            );
            assert!(o.propagation_len <= ocinit::mounts::MAX_PROPAGATION);
            if let Some(d) = o.data() {
                assert!(d.to_bytes().len() < ocinit::mounts::MAX_DATA);
                assert!(
                    !d.to_bytes().starts_with(b",") && !d.to_bytes().ends_with(b","),
                    "{d:?}"
                );
            }
        }
        Err(e) => assert!(e.at.template().starts_with("mounts[].options"), "{e:?}"),
    }
}

/// `MOUNT_ATTR__ATIME`: the atime field, cleared as a whole when an atime word is set.
fn linux_raw_sys_atime() -> u32 {
    0x70
}

/// The seccomp compiler over an arbitrary `linux.seccomp` object: either a clear error naming a
/// field of it, or a program the kernel would accept (at most 4096 instructions, every jump
/// forward and in range, only loads of `seccomp_data` words, ending in `ret`) whose every path
/// ends in a `ret`.
pub fn seccomp_compile(data: &[u8]) {
    use linux_raw_sys::ptrace::sock_filter;
    if json::validate(data, json::MAX_DEPTH).is_err() {
        return;
    }
    let log = protocol::Log {
        fd: None,
        debug: false,
    };
    let mut buf = [sock_filter {
        code: 0,
        jt: 0,
        jf: 0,
        k: 0,
    }; ocinit::seccomp::limits::INSNS];
    match ocinit::seccomp::compile(Value::root(data), false, &log, &mut buf) {
        Err(e) => assert!(
            e.at.template().starts_with("linux.seccomp"),
            "error outside the profile: {e:?}"
        ),
        Ok(filter) => check_program(filter.program),
    }
}

fn check_program(p: &[linux_raw_sys::ptrace::sock_filter]) {
    assert!(!p.is_empty() && p.len() <= 4096, "length {}", p.len());
    for (pc, i) in p.iter().enumerate() {
        let rest = p.len() - pc - 1;
        match i.code {
            // ld [k]: a 32-bit word inside struct seccomp_data (64 bytes).
            0x20 => assert!(i.k < 64 && i.k % 4 == 0, "{pc}: load {}", i.k),
            // and #k
            0x54 => {}
            // ret #k
            0x06 => {}
            // ja k
            0x05 => assert!((i.k as usize) < rest, "{pc}: ja out of range"),
            // jeq/jgt/jge/jset #k
            0x15 | 0x25 | 0x35 | 0x45 => assert!(
                usize::from(i.jt) < rest && usize::from(i.jf) < rest,
                "{pc}: jump out of range"
            ),
            other => panic!("{pc}: unexpected opcode {other:#x}"),
        }
    }
    assert_eq!(
        p[p.len() - 1].code,
        0x06,
        "the last instruction must be ret"
    );
}

/// Capability and rlimit names: an arbitrary string (any escapes) names capability `i` or
/// rlimit `r` exactly when it decodes to that name, byte for byte.
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let doc = serde_json::to_vec(&*text).expect("serialize");
    json::validate(&doc, json::MAX_DEPTH).expect("serde_json writes valid JSON");
    let name = Value::root(&doc).as_str().expect("a string");
    let cap = ocinit::caps::number(name);
    assert_eq!(
        cap,
        ocinit::caps::NAMES.iter().position(|n| n == text),
        "{text:?}"
    );
    let rlimit = format!(
        r#"{{"type":{},"soft":1,"hard":2}}"#,
        String::from_utf8_lossy(&doc)
    );
    json::validate(rlimit.as_bytes(), json::MAX_DEPTH).expect("valid");
    let parsed = ocinit::config::rlimit(Value::root(rlimit.as_bytes()), 0).map(|(r, _, _)| r);
    match ocinit::config::RLIMITS.iter().position(|n| n == text) {
        Some(r) => assert_eq!(parsed, Ok(r), "{text:?}"),
        None => assert!(parsed.is_err(), "{text:?} accepted as an rlimit"),
    }
}

/// The JSON string unescaper: arbitrary bytes between quotes are a string to the validator
/// exactly when serde_json takes them as one, and then every view of it (`chars`,
/// `decode_into`, `eq_str`, `Display` through `text::write`) is serde_json's string.
pub fn unescape(data: &[u8]) {
    let mut doc = Vec::with_capacity(data.len() + 2);
    doc.push(b'"');
    doc.extend_from_slice(data);
    doc.push(b'"');
    let ours = json::validate(&doc, json::MAX_DEPTH).is_ok();
    let theirs: Result<String, _> = serde_json::from_slice(&doc);
    assert_eq!(ours, theirs.is_ok(), "{:?}", String::from_utf8_lossy(data));
    let Ok(expected) = theirs else { return };
    let s = Value::root(&doc).as_str().expect("a string");
    assert_eq!(s.chars().collect::<String>(), expected);
    let mut buf = vec![0u8; expected.len()];
    let n = s.decode_into(&mut buf).expect("fits");
    assert_eq!(&buf[..n], expected.as_bytes());
    assert!(s.eq_str(&expected));
    let mut line = Line::<4096>::new();
    if ocinit::text::write(&mut line, &[ocinit::text::Part::J(s)]).is_ok() {
        assert_eq!(line.as_bytes(), expected.as_bytes());
    }
}
