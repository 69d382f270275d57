//! Every bad input gives a clear error naming the step (and errno and config path where there
//! is one), the user process never runs, and nothing is left behind.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Bundle, bin, host_mounts, root_or_skip, stderr};

/// The marker the container would write if its process ever ran.
const TOUCH: &[&str] = &["sh", "-c", "touch /out/ran"];

/// Run `config` through ocirun; it must fail with `expected` in its message, and leave no
/// trace: no marker, no state, no new mounts on the host.
fn fails_cleanly(b: &Bundle, config: &str, expected: &str) {
    let before = host_mounts();
    let o = b.run(config);
    let err = stderr(&o);
    assert!(!o.status.success(), "must fail: {err}");
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    assert_eq!(err.lines().count(), 1, "exactly one line: {err}");
    assert!(!b.out("ran").exists(), "the user process ran");
    assert!(
        !b.dir.join("state").join(&b.id).exists(),
        "state left behind"
    );
    assert_eq!(before, host_mounts(), "host mount table changed");
}

#[test]
fn missing_executable_is_a_create_time_error() {
    if !root_or_skip("missing_executable_is_a_create_time_error") {
        return;
    }
    let b = Bundle::new("noexe");
    fails_cleanly(
        &b,
        &b.config(&["no-such-command"], "", ""),
        "ocirun: init failed at process.args[0] (no-such-command): access: No such file or directory (executable file not found in $PATH)",
    );
    fails_cleanly(
        &b,
        &b.config(&["/bin/nope"], "", ""),
        "init failed at process.args[0] (/bin/nope): access: No such file or directory",
    );
}

#[test]
fn missing_cwd() {
    if !root_or_skip("missing_cwd") {
        return;
    }
    let b = Bundle::new("nocwd");
    let config = b
        .config(TOUCH, "", "")
        .replace(r#""cwd":"/""#, r#""cwd":"/does/not/exist""#);
    fails_cleanly(
        &b,
        &config,
        "init failed at process.cwd (/does/not/exist): chdir: No such file or directory",
    );
}

#[test]
fn malformed_json() {
    if !root_or_skip("malformed_json") {
        return;
    }
    let b = Bundle::new("badjson");
    let config = b.config(TOUCH, "", "");
    fails_cleanly(&b, &config[..config.len() - 1], "init failed at byte[");
    fails_cleanly(&b, &format!("{config} x"), "parse: trailing characters");
    fails_cleanly(
        &b,
        &config.replace("\"box\"", "\"bo\\x\""),
        "parse: invalid escape",
    );
    fails_cleanly(
        &b,
        &config.replace("\"box\"", "\"\\ud800\""),
        "lone high surrogate",
    );
}

#[test]
fn unknown_namespace_type() {
    if !root_or_skip("unknown_namespace_type") {
        return;
    }
    let b = Bundle::new("badns");
    let config = b
        .config(TOUCH, "", "")
        .replace(r#"{"type":"ipc"}"#, r#"{"type":"ipcx"}"#);
    fails_cleanly(
        &b,
        &config,
        "init failed at linux.namespaces[3].type (ipcx): validate: unknown namespace type",
    );
}

#[test]
fn oversized_config() {
    if !root_or_skip("oversized_config") {
        return;
    }
    let b = Bundle::new("big");
    let padding = "x".repeat(1 << 20);
    let config = b.config(
        TOUCH,
        "",
        &format!(r#","annotations":{{"pad":"{padding}"}}"#),
    );
    fails_cleanly(
        &b,
        &config,
        "init failed at step receive: recv: frame larger than the protocol limit",
    );
}

#[test]
fn rejected_mount_option_names_the_mount() {
    if !root_or_skip("rejected_mount_option_names_the_mount") {
        return;
    }
    let b = Bundle::new("badmount");
    let config = b.config(TOUCH, "", "").replace(
        r#"{"destination":"/proc","type":"proc","source":"proc"}"#,
        r#"{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["size=banana"]}"#,
    );
    fails_cleanly(
        &b,
        &config,
        "init failed at mounts[1] (tmpfs → /tmp): mount: Invalid argument",
    );
}

/// The raw Python parent, for frames ocirun never sends.
fn raw(mode: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(bin("ocinit"))
        .args(mode)
        .output()
        .expect("python3");
    assert!(o.status.success(), "raw parent: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn broken_frames_are_reported() {
    for (mode, why) in [
        ("eof", "control channel closed before a frame"),
        ("short-header", "truncated frame header"),
        ("truncated", "truncated frame"),
        ("oversized", "frame larger than the protocol limit"),
        ("trailing", "bytes after the frame"),
    ] {
        let out = raw(&[mode]);
        let expected = format!(
            r#"{{"errno": 0, "message": "{why}", "op": "recv", "path": "", "step": "receive", "type": "error"}}"#
        );
        assert_eq!(out, format!("{expected}\nexit 255\n"), "{mode}");
    }
}

#[test]
fn protocol_environment_is_checked() {
    let run = |env: &[(&str, &str)]| {
        let o = Command::new(bin("ocinit"))
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .expect("spawn");
        (o.status.code(), stderr(&o))
    };
    // Without _OCINIT_CONTROL ocinit is a standalone PID 1 (docs/PID1.md): no program, usage.
    let (code, err) = run(&[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no program to run"), "{err}");
    let (_, err) = run(&[("_OCINIT_CONTROL", "abc")]);
    assert!(err.contains("malformed descriptor number"), "{err}");
    let (_, err) = run(&[("_OCINIT_CONTROL", "1")]);
    assert!(err.contains("overlaps stdio"), "{err}");
    let (_, err) = run(&[("_OCINIT_CONTROL", "40"), ("_OCINIT_PROTOCOL", "2")]);
    assert!(err.contains("bad file descriptor"), "{err}");
    // A version-1 parent would expect a pid member in `pid` (docs/PROTOCOL.md, Versioning).
    let o = Command::new("sh")
        .args(["-c", "exec 3</dev/null; exec \"$0\""])
        .arg(bin("ocinit"))
        .env_clear()
        .envs([("_OCINIT_CONTROL", "3"), ("_OCINIT_PROTOCOL", "1")])
        .output()
        .expect("spawn");
    let err = stderr(&o);
    assert!(
        err.contains("unsupported protocol version in _OCINIT_PROTOCOL (this init speaks 2)"),
        "{err}"
    );
}

#[test]
fn bad_reply_to_ready() {
    if !root_or_skip("bad_reply_to_ready") {
        return;
    }
    let b = Bundle::new("badreply");
    let config = b.dir.join("config.json");
    std::fs::write(&config, b.config(TOUCH, "", "")).expect("write");
    let cfg = config.to_str().expect("utf8");
    let o = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py"))
        .arg(bin("ocinit"))
        .args(["frame", cfg, r#"{"type":"jump"}"#])
        .current_dir(&b.dir)
        .output()
        .expect("python3");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(r#""message": "unexpected message type from the parent""#),
        "{out}"
    );
    assert!(out.contains(r#""step": "handshake""#), "{out}");
    assert!(!b.out("ran").exists());
}
