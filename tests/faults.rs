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
            "init failed at step devices: mknod: Read-only file system",
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
