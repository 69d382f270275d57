//! `ocirun exec`: another process in a running container, through the init's `exec` type.

mod common;

use std::time::{Duration, Instant};

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

/// Create and start `b` with `args` (which must write `/out/up`); returns the container's pid.
fn start(b: &Bundle, args: &[&str], process_extra: &str, linux_extra: &str) -> u32 {
    let config = b.config(args, process_extra, "").replacen(
        r#"{"type":"network"}]"#,
        &format!(r#"{{"type":"network"}}]{linux_extra}"#),
        1,
    );
    b.start_until_up(&config);
    let state = stdout(&b.ocirun(&["state", &b.id]));
    state
        .split("\"pid\": ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {state}"))
}

const UP: &[&str] = &["sh", "-c", "echo up > /out/up; exec sleep 60"];

#[test]
fn exec_runs_in_every_namespace_of_the_container() {
    if !root_or_skip("exec_runs_in_every_namespace_of_the_container") {
        return;
    }
    let b = Bundle::new("exec");
    let seccomp = r#","seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}"#;
    let pid = start(&b, UP, "", seccomp);
    let script = "for n in mnt pid net ipc uts; do readlink /proc/self/ns/$n; done; \
                  ps -o comm | grep -c sleep; id; pwd; echo $FOO; \
                  grep -E '^(Seccomp|CapEff|NoNewPrivs):' /proc/self/status; ls /proc/self/fd; exit 3";
    let o = b.ocirun(&[
        "exec",
        "-u",
        "1000:1001",
        "-e",
        "FOO=bar",
        "--cwd",
        "/tmp",
        "--cap",
        "CAP_KILL",
        &b.id,
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    for (k, n) in ["mnt", "pid", "net", "ipc", "uts"].iter().enumerate() {
        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{n}")).expect("readlink");
        assert_eq!(lines[k], theirs.display().to_string(), "{n}");
    }
    assert_eq!(
        lines[5..],
        [
            "1", // the container's sleep, in the same PID namespace
            "uid=1000 gid=1001",
            "/tmp",
            "bar",
            "CapEff:\t0000000000000000",
            "NoNewPrivs:\t0",
            "Seccomp:\t2", // the container's profile
            "0",
            "1",
            "2",
            "3", // ls's own
        ]
    );
}

#[test]
fn exec_into_a_stopped_or_missing_container_fails() {
    if !root_or_skip("exec_into_a_stopped_or_missing_container_fails") {
        return;
    }
    let b = Bundle::new("execgone");
    let o = b.ocirun(&["exec", &b.id, "--", "true"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    start(&b, &["sh", "-c", "echo up > /out/up"], "", "");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !stdout(&b.ocirun(&["state", &b.id])).contains("stopped") {
        assert!(Instant::now() < deadline, "the container did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    let o = b.ocirun(&["exec", &b.id, "--", "true"]);
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o),
        "ocirun: cannot exec in a container that is stopped\n"
    );
}

#[test]
fn exec_of_a_missing_program_prints_one_line() {
    if !root_or_skip("exec_of_a_missing_program_prints_one_line") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("execmissing");
    start(&b, UP, "", "");
    let o = b.ocirun(&["exec", &b.id, "--", "/missing"]);
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o),
        "ocirun: exec /missing: no such file or directory\n"
    );
    // The container is untouched and still runs; exec left no process behind.
    assert!(stdout(&b.ocirun(&["state", &b.id])).contains("running"));
    let o = b.ocirun(&[
        "exec",
        &b.id,
        "--",
        "sh",
        "-c",
        "set -- /proc/[0-9]*; echo $#",
    ]);
    // Only shell builtins run, so no pipeline child can race the count.
    assert_eq!(stdout(&o), "2\n", "sleep (PID 1) and sh: {}", stderr(&o));
    drop(b);
    assert_eq!(before, host_mounts());
}

#[test]
fn exec_takes_a_process_file() {
    if !root_or_skip("exec_takes_a_process_file") {
        return;
    }
    let b = Bundle::new("execprocess");
    start(&b, UP, "", "");
    let process = b.dir.join("process.json");
    std::fs::write(
        &process,
        r#"{"args":["sh","-c","echo $X; id -u"],"cwd":"/","env":["PATH=/bin","X=from-file"],"user":{"uid":7,"gid":7}}"#,
    )
    .expect("write");
    let o = b.ocirun(&["exec", "--process", process.to_str().expect("utf-8"), &b.id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "from-file\n7\n");
    // --preserve-fds: fd 3 of ocirun's reaches the process, and nothing else does.
    let mut cmd = vec![
        "sh".to_string(),
        "-c".into(),
        r#"exec 3</dev/null 4</dev/null; exec "$@""#.into(),
        "sh".into(),
    ];
    cmd.extend(
        [
            common::bin("ocirun").into_os_string(),
            "--root".into(),
            b.dir.join("state").into(),
        ]
        .iter()
        .chain(&["--init".into(), common::bin("ocinit").into_os_string()])
        .map(|s| s.to_string_lossy().into_owned()),
    );
    cmd.extend(
        [
            "exec",
            "--preserve-fds",
            "1",
            &b.id,
            "--",
            "ls",
            "/proc/self/fd",
        ]
        .map(String::from),
    );
    let o = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .output()
        .expect("sh");
    assert!(o.status.success(), "{}", stderr(&o));
    // 3 is the preserved one (4 was not preserved), and ls reads the directory on 4.
    assert_eq!(stdout(&o), "0\n1\n2\n3\n4\n");
}

/// CVE-2016-9962 for `exec`: the container's PID 1 is root with CAP_SYS_PTRACE (in the
/// container's user namespace) and tries to ptrace, or read `/proc/PID/{fd,cwd,root,exe}` of,
/// every new process while an exec init joins the container (its parent holds the `run` reply
/// back for a second and a half): every attempt on the init fails; the control (the exec'd
/// program, dumpable again) shows the attacker does reach ordinary processes.
#[test]
fn the_container_cannot_reach_an_exec_init() {
    if !root_or_skip("the_container_cannot_reach_an_exec_init") {
        return;
    }
    let snoop = common::c_program("snoop");
    let b = Bundle::new("exec9962");
    std::fs::copy(&snoop, b.dir.join("rootfs/bin/snoop")).expect("copy snoop");
    for dir in ["rootfs", "out"] {
        let status = std::process::Command::new("chown")
            .args(["-R", "220000:220000"])
            .arg(b.dir.join(dir))
            .status()
            .expect("chown");
        assert!(status.success());
    }
    let userns = r#""linux":{"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"}],"uidMappings":[{"containerID":0,"hostID":220000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":220000,"size":65536}]}"#;
    let config = b
        .config(&["sh", "-c", "echo up > /out/up; exec /bin/snoop 5 /out/log"], "", "")
        .replace(
            r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]}"#,
            userns,
        )
        .replace(r#""hostname":"box","#, "");
    b.start_until_up(&config);
    let state = stdout(&b.ocirun(&["state", &b.id]));
    let pid: u32 = state
        .split("\"pid\": ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("pid");
    let exec_config = format!(
        r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},"process":{{"args":["sleep","1"],"cwd":"/","env":["PATH=/bin"]}},
        "linux":{{"namespaces":[{{"type":"user","path":"/proc/{pid}/ns/user"}},{{"type":"pid","path":"/proc/{pid}/ns/pid"}},{{"type":"mount","path":"/proc/{pid}/ns/mnt"}}]}}}}"#
    );
    let file = b.dir.join("exec.json");
    std::fs::write(&file, exec_config).expect("write");
    let o = std::process::Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py"))
        .arg(common::bin("ocinit"))
        .arg("frame")
        .arg(&file)
        .env("RAW_PARENT_DELAY_RUN", "1.5")
        .env("RAW_PARENT_TYPE", "exec")
        .current_dir(&b.dir)
        .output()
        .expect("python3");
    assert!(
        stdout(&o).contains("\"created\""),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = std::fs::read_to_string(b.out("log")).unwrap_or_default();
        if log.contains("done") {
            break log;
        }
        assert!(Instant::now() < deadline, "the snoop did not finish: {log}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        log.lines()
            .any(|l| l.starts_with("seen ") && l.ends_with(" ocinit")),
        "the exec init was never seen:\n{log}"
    );
    let reached: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("got ") && l.contains("ocinit"))
        .collect();
    assert!(
        reached.is_empty(),
        "the exec init was reachable: {reached:?}\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("got ") && l.ends_with("/bin/busybox")),
        "control: the exec'd program was not reachable, so the test proves nothing:\n{log}"
    );
}
