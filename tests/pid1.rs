//! ocinit as PID 1 (tini's job): standalone, as the init that stays in a container, and as a
//! VM's /init (in a PID namespace). Real processes, the host's /bin/sh.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{Bundle, bin, root_or_skip, stderr, stdout};

fn ocinit(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("ocinit"));
    cmd.args(args).env_remove("LISTEN_PID");
    cmd
}

/// stdout of `sh -c script`.
fn sh(script: &str) -> String {
    stdout(
        &Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh"),
    )
}

fn code(args: &[&str]) -> Option<i32> {
    ocinit(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn")
        .code()
}

#[test]
fn exit_status_passthrough_all_256() {
    for n in 0..=255 {
        assert_eq!(code(&["--", "sh", "-c", &format!("exit {n}")]), Some(n));
    }
}

#[test]
fn death_by_signal_is_128_plus_n() {
    for (sig, n) in [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("KILL", 9),
        ("USR1", 10),
        ("USR2", 12),
        ("ALRM", 14),
        ("TERM", 15),
    ] {
        assert_eq!(
            code(&["sh", "-c", &format!("kill -{sig} $$")]),
            Some(128 + n),
            "{sig}"
        );
    }
}

#[test]
fn exit_codes_remap_to_zero() {
    let remap = ["-e", "3", "-e", "200", "-e", "143", "--", "sh", "-c"];
    let with = |script: &str| code(&[&remap[..], &[script]].concat());
    assert_eq!(with("exit 3"), Some(0));
    assert_eq!(with("exit 200"), Some(0));
    assert_eq!(with("exit 4"), Some(4));
    assert_eq!(
        with("kill -TERM $$"),
        Some(0),
        "128+15 remapped as tini does"
    );
}

/// A supervised shell that prints `ready`, then runs until signals end it.
struct Running {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Running {
    fn start(args: &[&str], script: &str) -> Running {
        let mut child = ocinit(&[args, &["--", "sh", "-c", script]].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));
        Running { child, lines }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success());
    }

    fn line(&mut self) -> Option<String> {
        self.lines.next().and_then(Result::ok)
    }

    fn wait(mut self) -> Option<i32> {
        self.child.wait().expect("wait").code()
    }
}

#[test]
fn forwards_every_common_signal() {
    for sig in [
        "TERM", "INT", "HUP", "USR1", "USR2", "WINCH", "QUIT", "ALRM", "CONT",
    ] {
        let script = format!(
            "trap 'echo got {sig}; exit 0' {sig}; echo ready; while :; do sleep 0.02; done"
        );
        let mut r = Running::start(&[], &script);
        r.signal(sig);
        assert_eq!(r.line().as_deref(), Some(&*format!("got {sig}")), "{sig}");
        assert_eq!(r.wait(), Some(0), "{sig}");
    }
}

#[test]
fn forwards_to_the_process_group_with_g() {
    let script = r#"sh -c 'trap "echo grandchild; exit 0" USR1; while :; do sleep 0.02; done' &
        trap 'echo child' USR1; sleep 0.2; echo ready; wait $!; wait $!; exit 0"#;
    let mut r = Running::start(&["-g"], script);
    r.signal("USR1");
    let mut got = [r.line(), r.line()];
    got.sort();
    assert_eq!(
        got,
        [Some("child".to_string()), Some("grandchild".to_string())]
    );
    assert_eq!(r.wait(), Some(0));
}

#[test]
fn rewrites_and_drops_signals() {
    let script = "trap 'echo USR1' USR1; trap 'echo USR2' USR2; trap 'echo TERM; exit 0' TERM; echo ready; while :; do sleep 0.02; done";
    let mut r = Running::start(&["-r", "HUP:USR1", "-r", "USR2:0"], script);
    r.signal("HUP");
    assert_eq!(r.line().as_deref(), Some("USR1"));
    r.signal("USR2");
    r.signal("TERM");
    assert_eq!(
        r.line().as_deref(),
        Some("TERM"),
        "USR2 must have been dropped"
    );
    assert_eq!(r.wait(), Some(0));
}

#[test]
fn job_control_stops_are_not_forwarded() {
    let script = "trap 'echo TSTP' TSTP; trap 'echo TERM; exit 0' TERM; echo ready; while :; do sleep 0.02; done";
    let mut r = Running::start(&[], script);
    r.signal("TSTP");
    r.signal("TERM");
    assert_eq!(r.line().as_deref(), Some("TERM"));
    assert_eq!(r.wait(), Some(0));
}

/// The child makes `n` orphans that exit at once, then counts its parent's zombie children.
fn orphan_script(n: u32) -> String {
    format!(
        "i=0; while [ $i -lt {n} ]; do (: &); i=$((i+1)); done; sleep 0.5; echo zombies=$(ps -o stat= --ppid $PPID | grep -c Z)"
    )
}

#[test]
fn reaps_10000_orphans_as_subreaper() {
    let o = ocinit(&["--", "sh", "-c", &orphan_script(10_000)])
        .output()
        .expect("spawn");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "zombies=0\n");
}

#[test]
fn orphans_are_adopted_when_not_pid_1() {
    let script = r#"o=$(sh -c 'sleep 1 >/dev/null 2>&1 & echo $!'); sleep 0.1; echo $(grep PPid /proc/$o/status | cut -f2) $PPID"#;
    let out = stdout(&ocinit(&["sh", "-c", script]).output().expect("spawn"));
    let ids: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(ids.len(), 2, "{out}");
    assert_eq!(
        ids[0], ids[1],
        "the orphan's parent must be ocinit (subreaper)"
    );
}

#[test]
fn listen_pid_is_rewritten_for_the_child() {
    let script = format!(
        r#"export LISTEN_PID=$$; exec {} -- sh -c 'echo $LISTEN_PID $$'"#,
        bin("ocinit").display()
    );
    let out = sh(&script);
    let ids: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(ids.len(), 2, "{out}");
    assert_eq!(ids[0], ids[1], "LISTEN_PID must name the child");
    let out = stdout(
        &ocinit(&["sh", "-c", "echo $LISTEN_PID"])
            .env("LISTEN_PID", "12345")
            .output()
            .expect("spawn"),
    );
    assert_eq!(
        out, "12345\n",
        "a LISTEN_PID naming someone else is left alone"
    );
}

#[test]
fn init_keeps_only_its_signalfd() {
    let script = format!(
        "exec 7</dev/null 8</dev/null; exec {} -- sleep 5",
        bin("ocinit").display()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("sh");
    let fd_dir = format!("/proc/{}/fd", child.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut fds = Vec::new();
    while Instant::now() < deadline {
        sleep(Duration::from_millis(50));
        fds = std::fs::read_dir(&fd_dir)
            .expect("fd dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        fds.sort();
        if !fds.contains(&"7".to_string()) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(fds, ["0", "1", "2", "3"], "stdio and the signalfd only");
}

#[test]
fn usage_errors_exit_nonzero_before_the_child() {
    let run = |args: &[&str]| {
        let o = ocinit(args).output().expect("spawn");
        (o.status.code(), stderr(&o))
    };
    let (c, e) = run(&[]);
    assert!(c == Some(1) && e.contains("no program to run"), "{e}");
    let (c, e) = run(&["-x", "true"]);
    assert!(c == Some(1) && e.contains("unknown option -x"), "{e}");
    let (c, e) = run(&["-e", "256", "true"]);
    assert!(c == Some(1) && e.contains("-e needs an exit code"), "{e}");
    let (c, e) = run(&["-r", "TERM", "true"]);
    assert!(c == Some(1) && e.contains("-r needs SIGNAL:SIGNAL"), "{e}");
    let (c, e) = run(&["--", "no-such-program-here"]);
    assert_eq!(
        (c, e.as_str()),
        (
            Some(127),
            "ocinit: exec no-such-program-here: no such file or directory\n"
        )
    );
    let o = ocinit(&["--version"]).output().expect("spawn");
    // Docker reads its init's version as tini's: "tini version X[ - git.Y]".
    assert_eq!(
        stdout(&o),
        format!("tini version {}_ocinit\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn verbose_messages() {
    let o = ocinit(&["-v", "-v", "--", "sh", "-c", "(: &); sleep 0.2; exit 4"])
        .output()
        .expect("spawn");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4));
    assert!(err.starts_with("ocinit: spawned sh as process "), "{err}");
    assert!(err.contains("ocinit: reaped process "), "{err}");
    assert!(err.contains(": status 4\n"), "{err}");
}

#[test]
fn parent_death_signal_reaches_the_child() {
    // The outer shell starts ocinit (-p TERM) in the background and exits at once: ocinit gets
    // SIGTERM, forwards it, and its child ends; without -p both would live 30 s.
    let script = format!(
        "{} -p TERM -- sleep 30 >/dev/null 2>&1 & echo $!; sleep 0.3",
        bin("ocinit").display()
    );
    let out = sh(&script);
    let pid = out.trim();
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}/status")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .contains("State:\tZ")
    {
        assert!(
            Instant::now() < deadline,
            "ocinit {pid} outlived its parent"
        );
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn exits_with_the_main_child_leaving_orphans_running() {
    // Documented behaviour (docs/PID1.md): like tini, ocinit exits when its main child does;
    // when it is not PID 1, orphans still running move on to the next subreaper or init.
    let start = Instant::now();
    let o = ocinit(&["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!; exit 6"])
        .output()
        .expect("spawn");
    assert_eq!(o.status.code(), Some(6));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "ocinit waited for an orphan"
    );
    let orphan = stdout(&o).trim().to_string();
    let status =
        std::fs::read_to_string(format!("/proc/{orphan}/status")).expect("the orphan still runs");
    assert!(status.contains("sleep"), "{status}");
    let _ = Command::new("kill").arg("-KILL").arg(&orphan).status();
}

#[test]
fn pause_mode_exits_0_on_term() {
    let mut child = ocinit(&["-P"]).spawn().expect("spawn");
    sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "pause mode must wait"
    );
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

#[test]
fn pid_1_in_a_pid_namespace() {
    if !root_or_skip("pid_1_in_a_pid_namespace") {
        return;
    }
    let script = format!("echo me=$$ parent=$PPID; {}; exit 3", orphan_script(2_000));
    let o = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "--mount-proc"])
        .arg(bin("ocinit"))
        .args(["--", "sh", "-c", &script])
        .output()
        .expect("unshare");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stdout(&o), "me=2 parent=1\nzombies=0\n");
}

#[test]
fn stays_as_pid_1_of_a_container_with_no_privileges() {
    if !root_or_skip("stays_as_pid_1_of_a_container_with_no_privileges") {
        return;
    }
    let b = Bundle::new("stay");
    let script = "echo me=$$; grep -E '^(Name|CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/1/status; \
                  i=0; while [ $i -lt 500 ]; do (: &); i=$((i+1)); done; sleep 0.3; \
                  echo zombies=$(grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l); exit 9";
    let config = b.config(
        &["sh", "-c", script],
        "",
        r#","annotations":{"org.ocinit.pid1":"true"}"#,
    );
    let o = b.run(&config);
    assert_eq!(o.status.code(), Some(9), "{}", stderr(&o));
    let out = stdout(&o);
    let expected = "me=2\nName:\tocinit\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nzombies=0\n";
    assert_eq!(out.replace(' ', ""), expected.replace(' ', ""), "{out}");
    let bad = b.config(&["true"], "", r#","annotations":{"org.ocinit.pid1":"yes"}"#);
    let o = b.run(&bad);
    assert!(
        stderr(&o).contains(
            r#"annotations["org.ocinit.pid1"] (yes): validate: expected "true" or "false""#
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn vm_mode_runs_the_config_and_powers_off() {
    if !root_or_skip("vm_mode_runs_the_config_and_powers_off") {
        return;
    }
    let b = Bundle::new("vm");
    let config = b.dir.join("vm.json");
    let script = "echo pid=$$; for m in proc sys dev run; do grep -q \" /$m \" /proc/mounts && echo mounted /$m; done; exit 5";
    std::fs::write(
        &config,
        format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"/"}},"process":{{"args":["sh","-c",{}],"cwd":"/","env":["PATH=/usr/bin:/bin"]}}}}"#,
            common::js(script)
        ),
    )
    .expect("write");
    // As the kernel starts /init: PID 1, no arguments, `OCINIT_CONFIG=` from the command line.
    let mut child = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "env", "-i"])
        .arg(format!("OCINIT_CONFIG={}", config.display()))
        .arg(bin("ocinit"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare");
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    let status = child.wait().expect("wait");
    assert_eq!(
        out, "pid=2\nmounted /proc\nmounted /sys\nmounted /dev\nmounted /run\n",
        "{err}"
    );
    assert_eq!(
        err,
        "ocinit: the process exited with status 5; powering off\n"
    );
    // reboot(POWER_OFF) in a PID namespace ends its init with SIGINT (unshare passes it on).
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(2),
        "{err}"
    );
}

/// One `newc` cpio entry (the format the kernel unpacks as the initramfs).
fn cpio_entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
    let header = format!(
        "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
        out.len() as u32 + 1, // any unique inode number
        mode,
        0,
        0,
        1,
        0,
        data.len(),
        0,
        0,
        0,
        0,
        name.len() + 1,
        0
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// The kernel `.ci/run` unpacks from Debian's cloud kernel package, if present.
fn vm_kernel() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/vm-kernel/boot");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz"))
        })
}

#[test]
fn vm_boots_in_qemu() {
    let qemu = std::path::Path::new("/usr/bin/qemu-system-x86_64");
    let kernel = vm_kernel();
    let Some(kernel) = kernel.filter(|_| qemu.exists()) else {
        assert!(
            std::env::var("OCINIT_MUST_WORK").as_deref() != Ok("1"),
            "vm_boots_in_qemu: needs qemu-system-x86_64 and target/vm-kernel (.ci/run provides both)"
        );
        eprintln!(
            "SKIP: vm_boots_in_qemu: needs qemu-system-x86_64 and target/vm-kernel (.ci/run provides both)"
        );
        return;
    };
    let b = Bundle::new("qemu");
    let script = "echo ppid=$PPID; for m in proc sys dev run; do grep -q \" /$m \" /proc/mounts && echo mounted /$m; done; exit 5";
    let config = format!(
        r#"{{"ociVersion":"1.2.0","root":{{"path":"/"}},"process":{{"args":["sh","-c",{}],"cwd":"/","env":["PATH=/bin"]}}}}"#,
        common::js(script)
    );
    let mut cpio = Vec::new();
    for dir in ["bin", "etc", "etc/ocinit", "proc", "sys", "dev", "run"] {
        cpio_entry(&mut cpio, dir, 0o040755, b"");
    }
    cpio_entry(
        &mut cpio,
        "init",
        0o100755,
        &std::fs::read(bin("ocinit")).expect("ocinit"),
    );
    cpio_entry(
        &mut cpio,
        "bin/busybox",
        0o100755,
        &std::fs::read("/bin/busybox").expect("busybox"),
    );
    for applet in ["sh", "grep", "echo"] {
        cpio_entry(&mut cpio, &format!("bin/{applet}"), 0o120777, b"busybox");
    }
    cpio_entry(
        &mut cpio,
        "etc/ocinit/config.json",
        0o100644,
        config.as_bytes(),
    );
    cpio_entry(&mut cpio, "TRAILER!!!", 0, b"");
    let initrd = b.dir.join("initrd.cpio");
    std::fs::write(&initrd, cpio).expect("write initrd");
    let mut child = Command::new(qemu)
        .args(["-nographic", "-no-reboot", "-m", "256", "-kernel"])
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu");
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the VM did not power off within 240 s");
        }
        sleep(Duration::from_millis(200));
    };
    let mut console = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut console)
        .expect("read");
    let console = console.replace('\r', "");
    assert!(status.success(), "qemu: {status}\n{console}");
    for line in [
        "ppid=1\n",
        "mounted /proc\n",
        "mounted /sys\n",
        "mounted /dev\n",
        "mounted /run\n",
        "ocinit: the process exited with status 5; powering off\n",
    ] {
        assert!(
            console.contains(line),
            "{line:?} missing from the console:\n{console}"
        );
    }
}
