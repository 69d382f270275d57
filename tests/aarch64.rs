//! The aarch64 build, driven through the protocol under qemu-user on this x86_64 host
//! (`tests/run.sh` builds it; `.ci/run` installs the cross linker and qemu-user-static).
//!
//! qemu 7.2's user mode has no `open_tree`, `seccomp` or `clone(CLONE_PARENT)`, so what runs
//! here is a container without a mount or PID namespace: the aarch64 init decodes the config,
//! compiles its seccomp profile natively (the aarch64 family: aarch64 + arm), creates the UTS
//! namespace, drops capabilities, sets no_new_privs, changes root and execs the user's program
//! (the host's x86_64 busybox, which qemu hands to the kernel). The library's unit tests also
//! run on aarch64 under qemu (`tests/run.sh`: the syscall tables, checked against
//! linux-raw-sys's aarch64 numbers, the compiler, the JSON reader).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::root_or_skip;

/// The aarch64 binary and the emulator, or why this test cannot run.
fn aarch64_init(test: &str) -> Option<PathBuf> {
    let init = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/aarch64-unknown-linux-musl/release/ocinit");
    let qemu = Command::new("qemu-aarch64-static")
        .arg("--version")
        .output();
    let missing = if !init.is_file() {
        "the aarch64 build (bash tests/run.sh builds it)"
    } else if !qemu.is_ok_and(|o| o.status.success()) {
        "qemu-aarch64-static (Debian's qemu-user-static)"
    } else {
        return Some(init);
    };
    assert!(
        std::env::var("OCINIT_MUST_WORK").as_deref() != Ok("1"),
        "{test}: {missing} is missing, and OCINIT_MUST_WORK=1 forbids skipping"
    );
    eprintln!("SKIP: {test}: {missing} is missing");
    None
}

/// Run the aarch64 init with `config` through the raw Python parent: the frames it sent, then
/// its exit status, then the user program's output.
fn run(init: &Path, dir: &Path, config: &str) -> String {
    std::fs::write(dir.join("config.json"), config).expect("write config");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(init)
        .arg("frame")
        .arg(dir.join("config.json"))
        .current_dir(dir)
        .env("RAW_PARENT_WRAPPER", "qemu-aarch64-static")
        .output()
        .expect("python3");
    assert!(o.status.success(), "raw parent: {}", common::stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_aarch64_init_runs_a_container_under_qemu() {
    if !root_or_skip("the_aarch64_init_runs_a_container_under_qemu") {
        return;
    }
    let Some(init) = aarch64_init("the_aarch64_init_runs_a_container_under_qemu") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ocinit-aarch64-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rootfs/bin")).expect("mkdir");
    std::fs::copy("/bin/busybox", dir.join("rootfs/bin/busybox")).expect("busybox");
    for applet in ["sh", "hostname", "grep"] {
        std::os::unix::fs::symlink("busybox", dir.join("rootfs/bin").join(applet)).expect("applet");
    }
    let config = |seccomp: &str| {
        format!(
            r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},"hostname":"arm64box",
            "process":{{"args":["sh","-c","echo $(hostname) $(grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status)"],
              "cwd":"/","env":["PATH=/bin"],"noNewPrivileges":true,
              "capabilities":{{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}}}},
            "linux":{{"namespaces":[{{"type":"uts"}}]{seccomp}}}}}"#
        )
    };
    // Without a mount namespace nothing is mounted: the rootfs gets the host's procfs, bound
    // here by the test (and unmounted after).
    std::fs::create_dir_all(dir.join("rootfs/proc")).expect("mkdir");
    let proc_dir = dir.join("rootfs/proc");
    let mounted = Command::new("mount")
        .args(["--bind", "/proc"])
        .arg(&proc_dir)
        .status()
        .expect("mount");
    assert!(mounted.success());
    let _cleanup = Cleanup {
        mounted: proc_dir,
        dir: dir.clone(),
    };
    let o = run(&init, &dir, &config(""));
    // The container's hostname, CAP_KILL (bit 5) alone in the bounding set, no_new_privs on.
    assert_eq!(
        o,
        "{\"type\": \"ready\"}\n{\"type\": \"created\"}\n\
         arm64box CapBnd: 0000000000000020 NoNewPrivs: 1\nexit 0\n"
    );
    let seccomp = r#","seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],
        "syscalls":[{"names":["mkdirat","mkdir","statx"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#;
    // A valid profile compiles for aarch64 + arm and reaches the load, which qemu-user lacks.
    let o = run(&init, &dir, &config(seccomp));
    assert!(
        o.contains(r#""errno": 38, "message": "function not implemented", "op": "seccomp", "path": "linux.seccomp", "step": "seccomp""#),
        "{o}"
    );
    // A bad one is refused by the compiler, naming the field.
    let o = run(
        &init,
        &dir,
        &config(&seccomp.replace("SCMP_ACT_ERRNO", "SCMP_ACT_BOGUS")),
    );
    assert!(
        o.contains(r#""message": "unknown action", "op": "validate", "path": "linux.seccomp.syscalls[0].action", "step": "seccomp""#),
        "{o}"
    );
}

/// Unmounts `mounted` and removes `dir` when dropped, also when an assertion fails first.
struct Cleanup {
    mounted: PathBuf,
    dir: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mounted).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
