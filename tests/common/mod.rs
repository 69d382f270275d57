//! Test harness: the built binaries, a busybox-static bundle per test, the root/skip policy.
//!
//! No dev-dependencies on purpose: anything here would join the init's feature resolution
//! when `cargo test` builds the `ocinit` binary (see `tests/static_binary.rs`).
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

pub mod bpf;

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Release binaries built by `bash tests/run.sh` (the README's test command).
pub fn bin(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/x86_64-unknown-linux-musl/release")
        .join(name);
    assert!(
        p.is_file(),
        "{} is missing: run the tests with `bash tests/run.sh`, which builds it",
        p.display()
    );
    p
}

/// `tests/probe/NAME.c`, built once per test process with Debian's gcc, static (the programs
/// run inside containers whose rootfs has no libc).
pub fn c_program(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/probe")
        .join(format!("{name}.c"));
    let out = std::env::temp_dir().join(format!("ocinit-probe-{name}-{}", std::process::id()));
    if !out.exists() {
        let status = Command::new("gcc")
            .args(["-O2", "-static", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("gcc (Debian's gcc and libc6-dev; .ci/run installs them)");
        assert!(status.success(), "building {}", src.display());
    }
    out
}

/// True when we may run real containers. Without root, print why and skip, unless
/// OCINIT_MUST_WORK=1 (CI), where a skip is a failure.
pub fn root_or_skip(test: &str) -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1));
    if euid == Some("0") {
        return true;
    }
    assert!(
        std::env::var("OCINIT_MUST_WORK").as_deref() != Ok("1"),
        "{test}: needs root, and OCINIT_MUST_WORK=1 forbids skipping"
    );
    eprintln!("SKIP: {test}: needs root to create namespaces and mounts");
    false
}

/// `s` as a JSON string literal.
pub fn js(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of strings.
pub fn js_list(items: &[&str]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| js(s)).collect::<Vec<_>>().join(",")
    )
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A bundle with a busybox-static rootfs, a host directory `out` bind-mounted at `/out`, and
/// its own ocirun state root.
pub struct Bundle {
    pub dir: PathBuf,
    pub id: String,
}

const APPLETS: &[&str] = &[
    "sh", "cat", "id", "hostname", "echo", "sleep", "true", "false", "env", "pwd", "ls", "touch",
    "printf", "kill", "grep", "test", "stat", "head", "umount", "rm", "mount", "readlink", "wc",
    "tty", "stty", "cut", "uname", "ionice", "chmod",
];

impl Bundle {
    pub fn new(test: &str) -> Bundle {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{}-{n}", test.replace('_', "-"), std::process::id());
        let dir = std::env::temp_dir().join(format!("ocinit-test-{id}"));
        let _ = fs::remove_dir_all(&dir);
        let rootfs = dir.join("rootfs");
        for d in ["bin", "proc", "dev", "tmp", "etc", "out"] {
            fs::create_dir_all(rootfs.join(d)).expect("mkdir rootfs");
        }
        fs::create_dir_all(dir.join("out")).expect("mkdir out");
        fs::create_dir_all(dir.join("state")).expect("mkdir state");
        let busybox = Path::new("/bin/busybox");
        assert!(
            busybox.is_file(),
            "/bin/busybox missing: install Debian's busybox-static (.ci/run does)"
        );
        fs::copy(busybox, rootfs.join("bin/busybox")).expect("copy busybox");
        for a in APPLETS {
            symlink("busybox", rootfs.join("bin").join(a)).expect("applet symlink");
        }
        Bundle { dir, id }
    }

    /// A config running `args` with the given extra `process` members and top-level members.
    pub fn config(&self, args: &[&str], process_extra: &str, extra: &str) -> String {
        format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},"hostname":"box",
            "process":{{"args":{},"cwd":"/","env":["PATH=/bin"]{process_extra}}},
            "mounts":[{{"destination":"/proc","type":"proc","source":"proc"}},
                      {{"destination":"/out","type":"bind","source":"out","options":["rbind"]}}],
            "linux":{{"namespaces":[{{"type":"pid"}},{{"type":"mount"}},{{"type":"uts"}},{{"type":"ipc"}},{{"type":"network"}}]}}{extra}}}"#,
            js_list(args)
        )
    }

    pub fn write_config(&self, config: &str) {
        fs::write(self.dir.join("config.json"), config).expect("write config");
    }

    /// `ocirun --root <state> ARGS...`, output captured.
    pub fn ocirun(&self, args: &[&str]) -> Output {
        self.ocirun_cmd(args).output().expect("spawn ocirun")
    }

    fn ocirun_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("ocirun"));
        cmd.arg("--root")
            .arg(self.dir.join("state"))
            .arg("--init")
            .arg(bin("ocinit"))
            .args(args);
        cmd
    }

    /// `ocirun create`: the container keeps ocirun's stdio, so it gets files, not the pipes
    /// `output()` would wait on. Returns (success, stderr).
    pub fn create(&self, extra: &[&str]) -> (bool, String) {
        let bundle = self.dir.to_str().expect("utf-8 path");
        let log = self.dir.join("create.log");
        let file = fs::File::create(&log).expect("create log");
        let mut args = vec!["create", "-b", bundle];
        args.extend_from_slice(extra);
        args.push(&self.id);
        let status = self
            .ocirun_cmd(&args)
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("dup"))
            .stderr(file)
            .status()
            .expect("spawn ocirun");
        (
            status.success(),
            fs::read_to_string(&log).unwrap_or_default(),
        )
    }

    /// `ocirun --root <state> --init <ocinit> run -b <bundle> <id>` as arguments, for running it
    /// under another program (strace, setpriv).
    pub fn run_command(&self) -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> = vec![
            bin("ocirun").into(),
            "--root".into(),
            self.dir.join("state").into(),
        ];
        v.extend([
            "--init".into(),
            bin("ocinit").into(),
            "run".into(),
            "-b".into(),
            self.dir.clone().into(),
            self.id.clone().into(),
        ]);
        v
    }

    /// Write `config`, `ocirun run`, return the output.
    pub fn run(&self, config: &str) -> Output {
        self.write_config(config);
        let bundle = self.dir.to_str().expect("utf-8 path");
        self.ocirun(&["run", "-b", bundle, &self.id])
    }

    /// Write `config`, `ocirun create` and `start`, then wait until the container has written
    /// `/out/up`.
    pub fn start_until_up(&self, config: &str) {
        self.write_config(config);
        let (ok, log) = self.create(&[]);
        assert!(ok, "{log}");
        assert!(self.ocirun(&["start", &self.id]).status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !self.out("up").exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the container did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Path of a file the container may write under `/out`.
    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.join("out").join(name)
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = Command::new(bin("ocirun"))
            .arg("--root")
            .arg(self.dir.join("state"))
            .args(["delete", "-f", &self.id])
            .output();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The host's mount table, to prove a test left nothing mounted.
pub fn host_mounts() -> String {
    fs::read_to_string("/proc/self/mountinfo").expect("mountinfo")
}
