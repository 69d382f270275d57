//! `process.terminal`: the pty from the container's devpts, its master to the parent (proxied by
//! `ocirun run`, or sent to `--console-socket`), the peer as stdio and controlling terminal,
//! `/dev/console`, and the errors.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

const DEVPTS: &str = r#"{"destination":"/dev/pts","type":"devpts","source":"devpts",
    "options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]}"#;

/// `b.config` with a terminal: a tmpfs on /dev (unless `image_dev`) and a devpts on /dev/pts.
fn tty_config(b: &Bundle, args: &[&str], process_extra: &str, image_dev: bool) -> String {
    let dev = if image_dev {
        String::new()
    } else {
        r#"{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["mode=755"]},"#
            .to_string()
    };
    b.config(args, &format!(r#","terminal":true{process_extra}"#), "")
        .replacen(
            r#"{"destination":"/out""#,
            &format!(r#"{dev}{DEVPTS},{{"destination":"/out""#),
            1,
        )
}

/// `tests/recvtty.py`: a console-socket receiver that types `input` and records the output.
struct Receiver {
    child: Child,
    socket: PathBuf,
    out: PathBuf,
}

impl Receiver {
    fn start(b: &Bundle, input: &str) -> Receiver {
        let socket = b.dir.join("tty.sock");
        let out = b.dir.join("tty.out");
        let mut child = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recvtty.py"))
            .args([&socket, &out])
            .arg(input)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        std::io::BufReader::new(child.stdout.as_mut().expect("piped"))
            .read_line(&mut ready)
            .expect("receiver ready");
        assert_eq!(ready, "ready\n");
        Receiver { child, socket, out }
    }

    fn socket(&self) -> &str {
        self.socket.to_str().expect("utf-8")
    }

    /// Wait until the pty hangs up (every process holding it exited); the output, `\r` removed.
    fn output(mut self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().expect("wait").is_none() {
            assert!(Instant::now() < deadline, "the pty never hung up");
            std::thread::sleep(Duration::from_millis(20));
        }
        let name = std::fs::read_to_string(self.out.with_extension("out.name")).unwrap_or_default();
        let out = std::fs::read_to_string(&self.out).unwrap_or_default();
        (out.replace('\r', ""), name)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn run_gives_the_process_a_controlling_pty_and_proxies_it() {
    if !root_or_skip("run_gives_the_process_a_controlling_pty_and_proxies_it") {
        return;
    }
    let b = Bundle::new("console-run");
    let before = host_mounts();
    let script = "tty; stty size; for f in 0 1 2; do readlink /proc/self/fd/$f; done; \
                  stat -c '%u:%g %t:%T' /dev/pts/0; stat -c '%t:%T' /dev/console; \
                  read -r pid comm state ppid pgrp sid tty rest < /proc/self/stat; \
                  echo \"pid=$pid sid=$sid tty=$tty\"; id -u";
    let config = tty_config(
        &b,
        &["sh", "-c", script],
        r#","consoleSize":{"height":33,"width":101},"user":{"uid":1000,"gid":1000}"#,
        false,
    );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o).replace('\r', "");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "/dev/pts/0",
            "33 101",
            "/dev/pts/0",
            "/dev/pts/0",
            "/dev/pts/0",
            "1000:5 88:0",           // the pty is the user's (its group stays tty)
            "88:0",                  // /dev/console is the pty
            "pid=1 sid=1 tty=34816", // session leader, controlling terminal pts/0
            "1000",
        ],
        "{out}"
    );
    assert_eq!(host_mounts(), before, "a mount leaked to the host");
}

#[test]
fn console_socket_receives_the_master() {
    if !root_or_skip("console_socket_receives_the_master") {
        return;
    }
    let b = Bundle::new("console-socket");
    let config = tty_config(
        &b,
        &[
            "sh",
            "-c",
            "echo hello; read x; echo \"got:$x\"; test -t 0 && echo tty",
        ],
        "",
        false,
    );
    b.write_config(&config);
    let receiver = Receiver::start(&b, "ping\n");
    let (ok, log) = b.create(&["--console-socket", receiver.socket()]);
    assert!(ok, "{log}");
    assert!(b.ocirun(&["start", &b.id]).status.success());
    let (out, name) = receiver.output();
    assert_eq!(name, "/dev/ptmx fds=1");
    for want in ["hello\n", "got:ping\n", "tty\n"] {
        assert!(out.contains(want), "{want:?} in {out:?}");
    }
    assert!(b.ocirun(&["delete", &b.id]).status.success());
}

#[test]
fn exec_tty_and_exec_with_a_console_socket() {
    if !root_or_skip("exec_tty_and_exec_with_a_console_socket") {
        return;
    }
    let b = Bundle::new("console-exec");
    // The container itself has no terminal; its devpts is there for exec.
    let config = tty_config(
        &b,
        &["sh", "-c", "echo up > /out/up; exec sleep 60"],
        "",
        false,
    )
    .replacen(r#","terminal":true"#, "", 1);
    b.start_until_up(&config);
    let script = "tty; readlink /proc/self/fd/2; \
                  read -r pid comm state ppid pgrp sid tty rest < /proc/self/stat; \
                  test $sid = $pid && echo leader; exit 7";
    let o = b.ocirun(&["exec", "-t", &b.id, "--", "sh", "-c", script]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).replace('\r', "").lines().collect::<Vec<_>>(),
        ["/dev/pts/0", "/dev/pts/0", "leader"]
    );

    let receiver = Receiver::start(&b, "");
    let o = b.ocirun(&[
        "exec",
        "-t",
        "-d",
        "--console-socket",
        receiver.socket(),
        &b.id,
        "--",
        "sh",
        "-c",
        "tty",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (out, _) = receiver.output();
    assert!(out.starts_with("/dev/pts/"), "{out:?}");
    // A detached exec with a terminal needs someone to hand the pty to.
    let o = b.ocirun(&["exec", "-t", "-d", &b.id, "--", "true"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--console-socket is required"),
        "{}",
        stderr(&o)
    );
    assert!(b.ocirun(&["delete", "-f", &b.id]).status.success());
}

/// Each bad setup: a clear error, the process never ran, nothing mounted on the host.
#[test]
fn console_errors_are_clear_and_nothing_runs() {
    if !root_or_skip("console_errors_are_clear_and_nothing_runs") {
        return;
    }
    let b = Bundle::new("console-errors");
    let before = host_mounts();
    let ran = ["sh", "-c", "touch /out/ran"];
    let fails = |config: &str, want: &str| {
        let o = b.run(config);
        assert!(!o.status.success(), "{want}: ran");
        assert!(stderr(&o).contains(want), "{want} in {}", stderr(&o));
        assert!(!b.out("ran").exists(), "{want}: the process ran");
        assert_eq!(host_mounts(), before, "{want}: a mount leaked to the host");
    };

    // No devpts: no pty to allocate.
    let no_devpts = b.config(&ran, r#","terminal":true"#, "");
    fails(
        &no_devpts,
        "init failed at process.terminal (true): open: No such file or directory \
         (/dev/ptmx (mount a devpts on /dev/pts))",
    );

    // Something that is not a devpts instance on /dev/pts.
    let fake = b.dir.join("fake-pts");
    std::fs::create_dir_all(&fake).expect("mkdir");
    std::fs::write(fake.join("ptmx"), "").expect("write");
    let fake_pts = tty_config(&b, &ran, "", false).replacen(
        DEVPTS,
        &format!(
            r#"{{"destination":"/dev/pts","type":"bind","source":{},"options":["rbind"]}}"#,
            common::js(fake.to_str().expect("utf-8"))
        ),
        1,
    );
    fails(&fake_pts, "/dev/ptmx is not a devpts ptmx");

    // CVE-2025-52565: the image's /dev/console is a link out of /dev; it is refused, never
    // mounted over (nor its target).
    let victim = b.out("victim");
    std::fs::write(&victim, "original").expect("write");
    let console = b.dir.join("rootfs/dev/console");
    std::os::unix::fs::symlink("/out/victim", &console).expect("symlink");
    fails(
        &tty_config(&b, &ran, "", true),
        "/dev/console is not a file or a device (a link?)",
    );
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "original");
    std::fs::remove_file(&console).expect("rm");

    // ocirun's own rules (runc's): a runtime that detaches needs a console socket, a socket
    // needs a terminal, and a socket nobody listens on fails the start.
    let bundle = b.dir.to_str().expect("utf-8");
    b.write_config(&tty_config(&b, &ran, "", false));
    let o = b.ocirun(&["create", "-b", bundle, &b.id]);
    assert!(
        stderr(&o).contains("--console-socket is required"),
        "{}",
        stderr(&o)
    );
    let missing = b.dir.join("nobody.sock");
    let missing = missing.to_str().expect("utf-8");
    let o = b.ocirun(&["run", "-b", bundle, "--console-socket", missing, &b.id]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("--console-socket {missing}: No such file")),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists(), "the process ran");
    assert!(
        !b.ocirun(&["state", &b.id]).status.success(),
        "state left behind"
    );
    b.write_config(&b.config(&ran, "", ""));
    let o = b.ocirun(&["run", "-b", bundle, "--console-socket", missing, &b.id]);
    assert!(
        stderr(&o).contains("needs process.terminal"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists(), "the process ran");
}

/// As PID 1 (`org.ocinit.pid1`), ocinit keeps the session and the terminal; the child gets a
/// process group of its own, the terminal's foreground one (tini's way).
#[test]
fn pid1_mode_puts_the_child_in_the_terminals_foreground() {
    if !root_or_skip("pid1_mode_puts_the_child_in_the_terminals_foreground") {
        return;
    }
    let b = Bundle::new("console-pid1");
    let script = "read -r pid comm state ppid pgrp sid tty tpgid rest < /proc/self/stat; \
                  echo \"pid=$pid pgrp=$pgrp sid=$sid foreground=$tpgid\"";
    let config = tty_config(&b, &["sh", "-c", script], "", false).replacen(
        r#""ociVersion":"1.2.0","#,
        r#""ociVersion":"1.2.0","annotations":{"org.ocinit.pid1":"true"},"#,
        1,
    );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).replace('\r', ""),
        "pid=2 pgrp=2 sid=1 foreground=2\n"
    );
}
