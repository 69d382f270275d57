//! Fault injection: `strace -e inject=` makes one system call of the init fail; the error the
//! parent reports must name that step and that errno, and the user process must never run.

mod common;

use std::process::Command;

use common::{Bundle, host_mounts, root_or_skip, stderr};

/// Run the bundle's config through ocirun under strace, failing `syscall` with `errno` the
/// `when`-th time the traced processes make it. ocirun itself makes none of these calls.
fn inject(b: &Bundle, syscall: &str, errno: &str) -> String {
    let o = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("inject={syscall}:error={errno}:when=1"))
        .args(b.run_command())
        .output()
        .expect("strace");
    assert!(!o.status.success(), "{syscall}: must fail");
    stderr(&o)
}

#[test]
fn each_step_reports_the_injected_errno() {
    if !root_or_skip("each_step_reports_the_injected_errno") {
        return;
    }
    assert!(
        Command::new("strace")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "strace is needed (.ci/run installs it)"
    );
    let before = host_mounts();
    let b = Bundle::new("faults");
    let extra = r#","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},"user":{"uid":0,"gid":0}"#;
    let config = b
        .config(&["sh", "-c", "touch /out/ran"], extra, "")
        .replace(
            r#"{"type":"network"}]"#,
            r#"{"type":"network"}],"sysctl":{"net.ipv4.ip_forward":"1"},"maskedPaths":["/etc"]"#,
        );
    b.write_config(&config);
    for (syscall, errno, expected) in [
        (
            "unshare",
            "EPERM",
            "init failed at linux.namespaces: unshare: Operation not permitted",
        ),
        (
            "mount",
            "EPERM",
            "init failed at linux.rootfsPropagation: mount: Operation not permitted",
        ),
        (
            "open_tree",
            "ENOMEM",
            "init failed at root.path (rootfs): open: Out of memory",
        ),
        (
            "openat2",
            "EACCES",
            "init failed at mounts[0] (proc → /proc): open: Permission denied",
        ),
        (
            "mknodat",
            "EROFS",
            "init failed at /dev/null: mknod: Read-only file system",
        ),
        (
            "pivot_root",
            "EINVAL",
            "init failed at root.path (rootfs): pivot_root: Invalid argument",
        ),
        (
            "fsopen",
            "ENODEV",
            "init failed at linux.sysctl: mount: No such device",
        ),
        (
            "sethostname",
            "EPERM",
            "init failed at hostname (box): sethostname: Operation not permitted",
        ),
        (
            "keyctl",
            "EDQUOT",
            "init failed at step keyring: keyctl: Quota exceeded",
        ),
        (
            "setresuid",
            "EINVAL",
            "init failed at process.user.uid (0): setuid: Invalid argument",
        ),
        (
            "capset",
            "EPERM",
            "init failed at process.capabilities: capset: Operation not permitted",
        ),
        (
            "close_range",
            "EINVAL",
            "init failed at step setup: close_range: Invalid argument",
        ),
    ] {
        let err = inject(&b, syscall, errno);
        assert!(
            err.contains(expected),
            "{syscall}: expected {expected:?} in:\n{err}"
        );
        assert!(!b.out("ran").exists(), "{syscall}: the user process ran");
        assert!(
            !b.dir.join("state").join(&b.id).exists(),
            "{syscall}: state left behind"
        );
    }
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// The steps a plain config does not reach: joining a namespace, loading a seccomp filter,
/// becoming non-dumpable, and the final `execve` (the third of the traced tree: strace's own exec of
/// ocirun, ocirun's of the init, then the init's).
#[test]
fn joining_seccomp_and_exec_report_the_injected_errno() {
    if !root_or_skip("joining_seccomp_and_exec_report_the_injected_errno") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("faults2");
    let config = b
        .config(
            &["sh", "-c", "touch /out/ran"],
            r#","noNewPrivileges":true"#,
            "",
        )
        .replace(
            r#"{"type":"network"}]"#,
            r#"{"type":"network","path":"/proc/self/ns/net"}],"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}"#,
        );
    b.write_config(&config);
    for (syscall, errno, when, expected) in [
        (
            "setns",
            "EPERM",
            1,
            "init failed at linux.namespaces[4].path (/proc/self/ns/net): setns: Operation not permitted",
        ),
        (
            "seccomp",
            "EINVAL",
            1,
            "init failed at linux.seccomp: seccomp: Invalid argument",
        ),
        (
            // The first prctl names the process (best effort), the second reads the
            // parent-death signal; the third makes it non-dumpable before joining
            // (CVE-2016-9962): not optional.
            "prctl",
            "EPERM",
            3,
            "init failed at linux.namespaces: prctl: Operation not permitted",
        ),
        (
            // Counted per process, and without a PID namespace here: the init's second execve
            // (its first is ocirun's exec of it) is the user program's.
            "execve",
            "EACCES",
            2,
            "init failed at process.args[0] (sh): execve: Permission denied",
        ),
    ] {
        if syscall == "execve" {
            b.write_config(&config.replace(r#"{"type":"pid"},"#, ""));
        }
        let o = Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null"])
            .arg("-e")
            .arg(format!("inject={syscall}:error={errno}:when={when}"))
            .args(b.run_command())
            .output()
            .expect("strace");
        let err = stderr(&o);
        assert!(!o.status.success(), "{syscall}: must fail: {err}");
        assert!(
            err.contains(expected),
            "{syscall}: expected {expected:?} in:\n{err}"
        );
        assert!(!b.out("ran").exists(), "{syscall}: the user process ran");
    }
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// The parent dies while the init waits for it (before the config, at `pid`, at `ready`): the
/// init sees the channel close and exits within a second, the user process never runs, and
/// nothing stays mounted. (After `created`, in `create` mode, the parent leaves by design and
/// the init waits for `start` on the FIFO, which `ocirun delete` ends.)
#[test]
fn the_init_exits_when_its_parent_dies() {
    if !root_or_skip("the_init_exits_when_its_parent_dies") {
        return;
    }
    let b = Bundle::new("orphan");
    let config = b.config(&["sh", "-c", "touch /out/ran"], "", "");
    let file = b.dir.join("config.json");
    std::fs::write(&file, &config).expect("write");
    let before = host_mounts();
    for point in ["start", "pid", "ready"] {
        let o = Command::new("python3")
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py"))
            .arg(common::bin("ocinit"))
            .args(["die"])
            .arg(&file)
            .arg(point)
            .current_dir(&b.dir)
            .output()
            .expect("python3");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        // Every process of the init: the spawned one, and the container's PID 1 if forked.
        let mut pids: Vec<u32> = Vec::new();
        for line in out.lines() {
            if let Some(p) = line.strip_prefix("init ") {
                pids.push(p.parse().expect("pid"));
            }
            if let Some(rest) = line.split("\"pid\": ").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                pids.push(digits.parse().expect("pid"));
            }
        }
        assert!(!pids.is_empty(), "{point}: {out}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        for pid in &pids {
            // Gone, or a zombie nobody reaped yet (the dead parent's child, adopted by init).
            while std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !s.contains(") Z "))
            {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{point}: init process {pid} still runs"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        assert!(!b.out("ran").exists(), "{point}: the user process ran");
    }
    assert_eq!(before, host_mounts(), "host mount table changed");
}
