//! Real containers through `ocirun` + `ocinit`, checked from inside.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

fn ok_output(b: &Bundle, config: &str) -> String {
    let o = b.run(config);
    assert!(
        o.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

#[test]
fn pid_1_hostname_and_namespaces() {
    if !root_or_skip("pid_1_hostname_and_namespaces") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("pid1");
    let script =
        "echo $$; hostname; for ns in net mnt uts ipc; do readlink /proc/self/ns/$ns; done";
    let out = ok_output(&b, &b.config(&["sh", "-c", script], "", ""));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["1", "box"], "{out}");
    for (i, ns) in ["net", "mnt", "uts", "ipc"].iter().enumerate() {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).expect("host ns");
        assert_ne!(
            lines[2 + i],
            host.to_str().expect("utf8"),
            "{ns} namespace must be new"
        );
    }
    assert_eq!(before, host_mounts(), "the host mount table changed");
}

#[test]
fn user_groups_and_cwd() {
    if !root_or_skip("user_groups_and_cwd") {
        return;
    }
    let b = Bundle::new("user");
    let config = b
        .config(
            &["sh", "-c", "id; pwd"],
            r#","user":{"uid":1000,"gid":1001,"additionalGids":[10,20]}"#,
            "",
        )
        .replace(r#""cwd":"/""#, r#""cwd":"/tmp""#);
    let out = ok_output(&b, &config);
    assert_eq!(out, "uid=1000 gid=1001 groups=10,20\n/tmp\n");
}

#[test]
fn environment_escapes_and_duplicates() {
    if !root_or_skip("environment_escapes_and_duplicates") {
        return;
    }
    let b = Bundle::new("env");
    // Go's encoder writes & as \u0026; a surrogate pair; a raw non-ASCII value; a repeated key.
    let env = r#""env":["PATH=/bin","AMP=a \u0026\u0026 b","EMOJI=\ud83d\ude00","CAFE=café","DUP=first","Q=\"quoted\" \\ back","DUP=last"]"#;
    let config = b
        .config(&["env"], "", "")
        .replace(r#""env":["PATH=/bin"]"#, env);
    let out = ok_output(&b, &config);
    let mut vars: Vec<&str> = out.lines().collect();
    vars.sort_unstable();
    assert_eq!(
        vars,
        [
            "AMP=a && b",
            "CAFE=café",
            "DUP=last",
            "EMOJI=\u{1F600}",
            // Added by the init: no HOME in process.env, none in the rootfs's /etc/passwd.
            "HOME=/",
            "PATH=/bin",
            "Q=\"quoted\" \\ back"
        ],
        "{out}"
    );
}

#[test]
fn argv_with_spaces_and_quotes() {
    if !root_or_skip("argv_with_spaces_and_quotes") {
        return;
    }
    let b = Bundle::new("argv");
    let out = ok_output(
        &b,
        &b.config(
            &["printf", "[%s]\\n", "a b", "c\"d", "'q'", "", "tab\there"],
            "",
            "",
        ),
    );
    assert_eq!(out, "[a b]\n[c\"d]\n['q']\n[]\n[tab\there]\n");
}

#[test]
fn exit_codes_pass_through() {
    if !root_or_skip("exit_codes_pass_through") {
        return;
    }
    let b = Bundle::new("exit");
    for (script, code) in [
        ("exit 0", 0),
        ("exit 1", 1),
        ("exit 42", 42),
        ("kill -9 $$", 137),
    ] {
        // PID 1 of a namespace cannot SIGKILL itself, so this one runs without a PID namespace.
        let config = b
            .config(&["sh", "-c", script], "", "")
            .replace(r#"{"type":"pid"},"#, "");
        let o = b.run(&config);
        assert_eq!(o.status.code(), Some(code), "{script}: {}", stderr(&o));
    }
}

fn state_status(b: &Bundle) -> String {
    let s = stdout(&b.ocirun(&["state", &b.id]));
    s.lines()
        .find_map(|l| l.trim().strip_prefix("\"status\": "))
        .unwrap_or("")
        .trim_matches([',', '"'])
        .to_string()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn create_does_not_run_until_start() {
    if !root_or_skip("create_does_not_run_until_start") {
        return;
    }
    let b = Bundle::new("create");
    b.write_config(&b.config(&["sh", "-c", "echo $$ > /out/ran"], "", ""));
    let pid_file = b.dir.join("pid");
    let (ok, err) = b.create(&["--pid-file", pid_file.to_str().expect("utf8")]);
    assert!(ok, "create: {err}");
    assert_eq!(state_status(&b), "created");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    sleep(Duration::from_millis(300));
    assert!(!b.out("ran").exists(), "the process ran before start");
    let o = b.ocirun(&["start", &b.id]);
    assert!(o.status.success(), "start: {}", stderr(&o));
    wait_for("the marker", || {
        std::fs::read_to_string(b.out("ran")).is_ok_and(|s| s == "1\n")
    });
    wait_for("stopped", || state_status(&b) == "stopped");
    let o = b.ocirun(&["start", &b.id]);
    assert!(
        !o.status.success(),
        "a stopped container cannot start again"
    );
    assert!(b.ocirun(&["delete", &b.id]).status.success());
    assert!(
        !b.ocirun(&["state", &b.id]).status.success(),
        "state of a deleted container must fail"
    );
}

#[test]
fn state_kill_delete() {
    if !root_or_skip("state_kill_delete") {
        return;
    }
    let b = Bundle::new("kill");
    // PID 1 ignores signals it has no handler for: install one for TERM.
    b.write_config(&b.config(
        &[
            "sh",
            "-c",
            "trap 'exit 3' TERM; echo up > /out/up; while true; do sleep 0.05; done",
        ],
        "",
        "",
    ));
    assert!(b.create(&[]).0);
    assert!(b.ocirun(&["start", &b.id]).status.success());
    wait_for("the process", || b.out("up").exists());
    let state = stdout(&b.ocirun(&["state", &b.id]));
    assert!(
        state.contains("\"status\": \"running\"")
            && state.contains(&format!("\"id\": \"{}\"", b.id)),
        "{state}"
    );
    let o = b.ocirun(&["delete", &b.id]);
    assert!(
        !o.status.success() && stderr(&o).contains("running"),
        "delete of a running container needs --force"
    );
    assert!(b.ocirun(&["kill", &b.id, "TERM"]).status.success());
    wait_for("stopped", || state_status(&b) == "stopped");
    assert!(
        !b.ocirun(&["kill", &b.id, "KILL"]).status.success(),
        "kill of a stopped container fails"
    );
    assert!(b.ocirun(&["delete", &b.id]).status.success());

    // --force kills a running one.
    assert!(b.create(&[]).0);
    assert!(b.ocirun(&["start", &b.id]).status.success());
    assert!(b.ocirun(&["delete", "--force", &b.id]).status.success());
    assert!(!b.ocirun(&["state", &b.id]).status.success());
}

#[test]
fn embedded_default_runs_the_host_root_read_only() {
    if !root_or_skip("embedded_default_runs_the_host_root_read_only") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("default");
    let script = "echo $$; hostname; touch /etc/ocinit-test 2>/dev/null && echo writable; echo x > /tmp/t && cat /tmp/t; test -c /dev/null && echo devnull";
    let o = b.ocirun(&["run", &b.id, "--", "/bin/sh", "-c", script]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("1\n{}\nx\ndevnull\n", b.id));
    assert!(!std::path::Path::new("/etc/ocinit-test").exists());
    assert_eq!(before, host_mounts(), "the host mount table changed");
}

#[test]
fn preserved_fds_and_nothing_else_reach_the_process() {
    if !root_or_skip("preserved_fds_and_nothing_else_reach_the_process") {
        return;
    }
    let b = Bundle::new("fds");
    b.write_config(&b.config(&["sh", "-c", "ls /proc/self/fd; cat <&3"], "", ""));
    std::fs::write(b.dir.join("three"), "preserved\n").expect("write");
    // fd 3 of ocirun (opened by the shell) is passed on with --preserve-fds 1; ls opens one
    // more fd for the directory it lists.
    let script = format!(
        "exec 3<{three}; exec {ocirun} --root {state} --init {init} run --preserve-fds 1 -b {bundle} {id}",
        three = b.dir.join("three").display(),
        ocirun = common::bin("ocirun").display(),
        state = b.dir.join("state").display(),
        init = common::bin("ocinit").display(),
        bundle = b.dir.display(),
        id = b.id,
    );
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("sh");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0\n1\n2\n3\n4\npreserved\n");
}

#[test]
fn run_detach_leaves_the_container_running() {
    if !root_or_skip("run_detach_leaves_the_container_running") {
        return;
    }
    let b = Bundle::new("detach");
    b.write_config(&b.config(&["sh", "-c", "echo up > /out/up; exec sleep 30"], "", ""));
    let bundle = b.dir.to_str().expect("utf8");
    let pid_file = b.dir.join("pid");
    let log = std::fs::File::create(b.dir.join("run.log")).expect("log");
    let status = std::process::Command::new(common::bin("ocirun"))
        .arg("--root")
        .arg(b.dir.join("state"))
        .args([
            "run",
            "-d",
            "--pid-file",
            pid_file.to_str().expect("utf8"),
            "-b",
            bundle,
            &b.id,
        ])
        .stdout(log.try_clone().expect("dup"))
        .stderr(log)
        .status()
        .expect("ocirun");
    assert!(status.success());
    wait_for("the process", || b.out("up").exists());
    assert_eq!(state_status(&b), "running");
    let pid = std::fs::read_to_string(&pid_file).expect("pid file");
    // The pid file names the container's process, which goes on to exec `sleep`.
    let comm = format!("/proc/{}/comm", pid.trim());
    wait_for("the exec of sleep", || {
        std::fs::read_to_string(&comm).is_ok_and(|c| c == "sleep\n")
    });
    assert!(b.ocirun(&["kill", &b.id, "KILL"]).status.success());
    wait_for("stopped", || state_status(&b) == "stopped");
    assert!(b.ocirun(&["delete", &b.id]).status.success());
}

#[test]
fn default_devices_in_a_tmpfs_dev() {
    if !root_or_skip("default_devices_in_a_tmpfs_dev") {
        return;
    }
    let b = Bundle::new("devices");
    let dev = r#"{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]},"#;
    let script = "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done; \
                  for l in ptmx fd stdin stdout stderr; do echo /dev/$l '->' $(readlink /dev/$l); done; \
                  echo data > /dev/null && head -c 3 /dev/zero | wc -c";
    let config = b.config(&["sh", "-c", script], "", "").replace(
        r#"{"destination":"/proc","type":"proc","source":"proc"},"#,
        dev,
    );
    let out = ok_output(&b, &config);
    let expected = "/dev/null character special file 1:3 666 0:0\n/dev/zero character special file 1:5 666 0:0\n\
                    /dev/full character special file 1:7 666 0:0\n/dev/random character special file 1:8 666 0:0\n\
                    /dev/urandom character special file 1:9 666 0:0\n/dev/tty character special file 5:0 666 0:0\n\
                    /dev/ptmx -> pts/ptmx\n/dev/fd -> /proc/self/fd\n/dev/stdin -> /proc/self/fd/0\n\
                    /dev/stdout -> /proc/self/fd/1\n/dev/stderr -> /proc/self/fd/2\n3\n";
    assert_eq!(out, expected);
}

#[test]
fn the_images_dev_ptmx_is_replaced_by_the_link() {
    // Without a tmpfs on /dev the image's own /dev gets the nodes: whatever it has at ptmx
    // goes (a file here), the link to the container's devpts takes its place.
    if !root_or_skip("the_images_dev_ptmx_is_replaced_by_the_link") {
        return;
    }
    let b = Bundle::new("ptmxfile");
    std::fs::write(b.dir.join("rootfs/dev/ptmx"), "image").expect("write ptmx");
    let out = ok_output(&b, &b.config(&["readlink", "/dev/ptmx"], "", ""));
    assert_eq!(out, "pts/ptmx\n");
}

#[test]
fn a_fake_dev_null_in_the_image_is_refused() {
    // The image ships /dev/null as a link to a file: it must never be trusted as the null
    // device (CVE-2025-31133 class); the container fails to start and the file is untouched.
    if !root_or_skip("a_fake_dev_null_in_the_image_is_refused") {
        return;
    }
    let b = Bundle::new("fakenull");
    std::fs::write(b.dir.join("rootfs/etc/secret"), "keep\n").expect("write");
    std::os::unix::fs::symlink("../etc/secret", b.dir.join("rootfs/dev/null")).expect("symlink");
    let o = b.run(&b.config(&["sh", "-c", "touch /out/ran"], "", ""));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("init failed at /dev/null: mknod: File exists (exists in the rootfs and is not this device)"), "{}", stderr(&o));
    assert!(!b.out("ran").exists());
    assert_eq!(
        std::fs::read_to_string(b.dir.join("rootfs/etc/secret")).expect("read"),
        "keep\n"
    );
}

#[test]
fn ocirun_works_with_few_descriptors_allowed() {
    // ocirun moves its own descriptors above 64 to hand the init its fds packed; with a soft
    // RLIMIT_NOFILE at or below that it leaves them where they are.
    if !root_or_skip("ocirun_works_with_few_descriptors_allowed") {
        return;
    }
    let b = Bundle::new("fewfds");
    b.write_config(&b.config(&["sh", "-c", "echo ran"], "", ""));
    let o = std::process::Command::new("sh")
        .args(["-c", "ulimit -Sn 60 && exec \"$@\"", "sh"])
        .args(b.run_command())
        .output()
        .expect("sh");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ran\n");
}
