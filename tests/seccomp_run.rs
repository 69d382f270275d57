//! Seccomp in real containers: the filter the init compiles is loaded at the right point and
//! does what the profile says, for busybox and for a probe that makes raw syscalls (native
//! and i386 through `int $0x80`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

/// Docker's default profile in OCI form (default ERRNO(EPERM), x86_64 + x86 + x32).
fn docker_profile() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/seccomp/docker-default-amd64.oci.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared testdata sits beside the clone)",
            path.display()
        )
    })
}

/// `tests/probe/syscall.c`, built once.
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| common::c_program("syscall"))
}

/// A bundle with the probe at `/bin/probe`.
fn bundle(test: &str) -> Bundle {
    let b = Bundle::new(test);
    std::fs::copy(probe(), b.dir.join("rootfs/bin/probe")).expect("copy probe");
    b
}

/// The standard test config with `linux.seccomp` = `profile` and `noNewPrivileges` = `nnp`.
fn config(b: &Bundle, args: &[&str], profile: &str, nnp: bool) -> String {
    b.config(args, &format!(r#","noNewPrivileges":{nnp}"#), "")
        .replacen(
            r#""linux":{"#,
            &format!(r#""linux":{{"seccomp":{profile},"#),
            1,
        )
}

/// Run and return stdout; the container must succeed.
fn run_ok(b: &Bundle, config: &str) -> String {
    let o = b.run(config);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// x86_64 syscall numbers used below.
const GETPPID: &str = "110";
const PERSONALITY: &str = "135";
const KEXEC_LOAD: &str = "246";
const KEYCTL: &str = "250";
const UNSHARE: &str = "272";
/// i386 `getpid`.
const I386_GETPID: &str = "20";

#[test]
fn docker_profile_runs_busybox_and_denies_the_rest() {
    if !root_or_skip("docker_profile_runs_busybox_and_denies_the_rest") {
        return;
    }
    let b = bundle("docker");
    let profile = docker_profile();
    for nnp in [true, false] {
        let script = format!(
            "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; \
             probe syscall {KEYCTL}; probe syscall {UNSHARE} 0x10000000; probe syscall {KEXEC_LOAD}; \
             probe syscall {GETPPID}; probe syscall 1000; echo done"
        );
        let out = run_ok(&b, &config(&b, &["sh", "-c", &script], &profile, nnp));
        let nnp_line = format!("NoNewPrivs:\t{}", u8::from(nnp));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                nnp_line.as_str(),
                "Seccomp:\t2",
                "err 1",  // keyctl: default action ERRNO(EPERM)
                "err 1",  // unshare
                "err 1",  // kexec_load
                "ok 1",   // getppid: allowed (the shell is PID 1)
                "err 38", // a number above everything the profile names: ENOSYS (runc's stub)
                "done"
            ],
            "nnp={nnp}"
        );
    }
}

#[test]
fn actions_errno_kill_and_arguments() {
    if !root_or_skip("actions_errno_kill_and_arguments") {
        return;
    }
    let b = bundle("actions");
    // Allow by default; getppid killed; keyctl errno 100; personality only with 0 or 8.
    let profile = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["getppid"],"action":"SCMP_ACT_KILL_PROCESS"},
        {"names":["keyctl"],"action":"SCMP_ACT_ERRNO","errnoRet":100},
        {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":22,
         "args":[{"index":0,"value":0,"op":"SCMP_CMP_NE"},{"index":0,"value":8,"op":"SCMP_CMP_NE"}]}]}"#;
    // (busybox sh reads getppid for $PPID: the probe runs alone.)
    let probe_out = |args: &[&str]| {
        let mut argv = vec!["probe", "syscall"];
        argv.extend_from_slice(args);
        run_ok(&b, &config(&b, &argv, profile, true))
    };
    assert_eq!(probe_out(&[KEYCTL]), "err 100\n");
    // The repeated index makes the personality rule two ORed rules, `!= 0` or `!= 8` (runc),
    // which every value matches; ANDed, 0 and 8 would pass.
    for value in ["0", "8", "0xffffffff"] {
        assert_eq!(probe_out(&[PERSONALITY, value]), "err 22\n", "{value}");
    }
    // Killed by SIGSYS: ocirun reports 128 + 31.
    let o = b.run(&config(&b, &["probe", "syscall", GETPPID], profile, true));
    assert_eq!(o.status.code(), Some(159), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn arguments_allowed_versus_perturbed() {
    if !root_or_skip("arguments_allowed_versus_perturbed") {
        return;
    }
    let b = bundle("args");
    // Firecracker-style: personality allowed for exact values only, each op once.
    let profile = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":61,"syscalls":[
        {"names":["execve","brk","arch_prctl","set_tid_address","set_robust_list","rseq","prlimit64",
                  "mprotect","mmap","munmap","write","writev","exit_group","ioctl","readlinkat",
                  "getrandom","fstat","newfstatat","read","rt_sigprocmask","rt_sigaction","close"],
         "action":"SCMP_ACT_ALLOW"},
        {"names":["personality"],"action":"SCMP_ACT_ALLOW",
         "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
        {"names":["personality"],"action":"SCMP_ACT_ALLOW",
         "args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_MASKED_EQ","valueTwo":4294967295},
                 {"index":1,"value":5,"op":"SCMP_CMP_LE"}]},
        {"names":["getppid"],"action":"SCMP_ACT_ALLOW",
         "args":[{"index":2,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]},
        {"names":["getppid"],"action":"SCMP_ACT_ALLOW",
         "args":[{"index":3,"value":4294967296,"op":"SCMP_CMP_GE"},
                 {"index":4,"value":3,"op":"SCMP_CMP_LT"}]}]}"#;
    let cases: &[(&[&str], &str)] = &[
        (&[PERSONALITY, "8"], "ok"),
        (&[PERSONALITY, "9"], "err 61"),
        (&[PERSONALITY, "0x100000008"], "err 61"),
        (&[PERSONALITY, "0xffffffff", "5"], "ok"),
        (&[PERSONALITY, "0xffffffff", "6"], "err 61"),
        (&[PERSONALITY, "0x1ffffffff", "0"], "ok"),
        (&[GETPPID, "0", "0", "0xffffffffffffffff"], "ok"),
        (&[GETPPID, "0", "0", "0xfffffffffffffffe"], "err 61"),
        (&[GETPPID, "0", "0", "0x7fffffffffffffff"], "err 61"),
        (&[GETPPID, "0", "0", "0", "0x100000000", "2"], "ok"),
        (&[GETPPID, "0", "0", "0", "0xffffffff", "2"], "err 61"),
        (&[GETPPID, "0", "0", "0", "0x100000000", "3"], "err 61"),
    ];
    for (args, want) in cases {
        let mut argv = vec!["probe", "syscall"];
        argv.extend_from_slice(args);
        let out = run_ok(&b, &config(&b, &argv, profile, true));
        assert!(out.starts_with(want), "{args:?}: want {want}, got {out}");
    }
}

#[test]
fn compat_i386_entry_is_filtered_by_its_own_table() {
    if !root_or_skip("compat_i386_entry_is_filtered_by_its_own_table") {
        return;
    }
    let b = bundle("compat");
    let with_x86 = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
        "syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":55}]}"#;
    let script = format!("probe int80 {I386_GETPID}; probe syscall 39; echo status $?");
    let out = run_ok(&b, &config(&b, &["sh", "-c", &script], with_x86, true));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["err 55", "err 55", "status 0"]
    );
    // A deny rule on `socket` also holds through i386's socketcall(SYS_SOCKET, ...), as in
    // libseccomp: without it the call would fail with EFAULT (a null argument block) instead.
    let deny_socket = with_x86.replace(r#""getpid""#, r#""socket""#);
    let script = "probe int80 102 1 0; probe int80 102 2 0";
    let out = run_ok(&b, &config(&b, &["sh", "-c", script], &deny_socket, true));
    assert_eq!(out.lines().collect::<Vec<_>>(), ["err 55", "err 14"]);
    // Without SCMP_ARCH_X86 the i386 entry is a foreign architecture: killed (libseccomp).
    let native_only = with_x86.replace(r#","SCMP_ARCH_X86""#, "");
    let script = format!("probe int80 {I386_GETPID}; echo status $?");
    let out = run_ok(&b, &config(&b, &["sh", "-c", &script], &native_only, true));
    assert!(out.contains("status 159"), "{out}");
}

/// runc's seccomp.bats: a profile that returns ENOSYS for the new mount API, openat2 and
/// close_range must not break the init's own steps after the load, with or without NNP.
#[test]
fn profile_blocking_the_inits_own_syscalls_still_starts() {
    if !root_or_skip("profile_blocking_the_inits_own_syscalls_still_starts") {
        return;
    }
    let b = bundle("blockinit");
    let profile = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["close_range","fsopen",
        "fsconfig","fspick","openat2","open_tree","move_mount","mount_setattr"],
        "action":"SCMP_ACT_ERRNO","errnoRet":38}]}"#;
    for nnp in [true, false] {
        let out = run_ok(
            &b,
            &config(&b, &["sh", "-c", "ls /proc/self/fd; echo ok"], profile, nnp),
        );
        assert_eq!(
            out, "0\n1\n2\n3\nok\n",
            "nnp={nnp}: only stdio (3 is ls's own)"
        );
    }
}

#[test]
fn precompiled_filter_annotation() {
    if !root_or_skip("precompiled_filter_annotation") {
        return;
    }
    let b = bundle("bpfdata");
    // ld nr; jeq getppid → ret ERRNO(7); ret ALLOW — written by hand, not by the compiler.
    let insns: [(u16, u8, u8, u32); 4] = [
        (0x20, 0, 0, 0),
        (0x15, 0, 1, 110),
        (0x06, 0, 0, 0x0005_0007),
        (0x06, 0, 0, 0x7fff_0000),
    ];
    let mut bytes = Vec::new();
    for (code, jt, jf, k) in insns {
        bytes.extend_from_slice(&code.to_le_bytes());
        bytes.extend_from_slice(&[jt, jf]);
        bytes.extend_from_slice(&k.to_le_bytes());
    }
    let data = base64(&bytes);
    let c = b.config(
        &[
            "sh",
            "-c",
            "probe syscall 110; probe syscall 39 >/dev/null; echo $?",
        ],
        r#","noNewPrivileges":true"#,
        &format!(r#","annotations":{{"run.oci.seccomp_bpf_data":"{data}"}}"#),
    );
    assert_eq!(run_ok(&b, &c), "err 7\n0\n");
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every bad profile is a decode error naming its field; nothing runs, nothing is left.
#[test]
fn bad_profiles_are_refused_with_their_path() {
    if !root_or_skip("bad_profiles_are_refused_with_their_path") {
        return;
    }
    let b = bundle("badprofile");
    let allow = r#""defaultAction":"SCMP_ACT_ALLOW""#;
    let cases: &[(String, &str)] = &[
        (
            r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#.into(),
            "linux.seccomp.defaultAction: unknown action",
        ),
        (
            r#"{"syscalls":[]}"#.into(),
            "linux.seccomp.defaultAction: missing",
        ),
        (
            format!(r#"{{{allow},"architectures":["SCMP_ARCH_Z80"]}}"#),
            "linux.seccomp.architectures[0]: unknown architecture",
        ),
        (
            format!(r#"{{{allow},"flags":["SECCOMP_FILTER_FLAG_FAST"]}}"#),
            "linux.seccomp.flags[0]: unknown flag",
        ),
        (
            format!(
                r#"{{{allow},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5000}}]}}"#
            ),
            "linux.seccomp.syscalls[0].errnoRet: above the kernel's MAX_ERRNO (4095)",
        ),
        (
            format!(
                r#"{{{allow},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_KILL","errnoRet":1}}]}}"#
            ),
            "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno",
        ),
        (
            format!(
                r#"{{{allow},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_KILL","args":[{{"index":6,"value":1,"op":"SCMP_CMP_EQ"}}]}}]}}"#
            ),
            "linux.seccomp.syscalls[0].args[0].index: a syscall has 6 arguments (0 to 5)",
        ),
        (
            format!(
                r#"{{{allow},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_KILL","args":[{{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}}]}}]}}"#
            ),
            "linux.seccomp.syscalls[0].args[0].value: expected an integer from 0 to 2^64-1",
        ),
        (
            format!(
                r#"{{{allow},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_KILL","args":[{{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}}]}}]}}"#
            ),
            "linux.seccomp.syscalls[0].args[0].op: unknown comparison",
        ),
        (
            format!(r#"{{{allow},"syscalls":[{{"names":"read","action":"SCMP_ACT_KILL"}}]}}"#),
            "linux.seccomp.syscalls[0].names: expected an array",
        ),
        (
            format!(r#"{{{allow},"syscalls":[{{"names":[7],"action":"SCMP_ACT_KILL"}}]}}"#),
            "linux.seccomp.syscalls[0].names[0]: expected a string",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/x"}"#.into(),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
        ),
        (
            format!(
                r#"{{{allow},"listenerPath":"/x","syscalls":[{{"names":["read","write"],"action":"SCMP_ACT_NOTIFY"}}]}}"#
            ),
            "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot apply to write",
        ),
        (
            format!(r#"{{{allow},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_NOTIFY"}}]}}"#),
            "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listener path",
        ),
    ];
    for (profile, want) in cases {
        let before = host_mounts();
        let o = b.run(&config(&b, &["sh", "-c", "touch /out/ran"], profile, true));
        let err = stderr(&o);
        assert!(!o.status.success(), "{profile}: must fail");
        // `init failed at PATH (VALUE): validate: REASON`
        let (path, reason) = want.split_once(": ").expect("PATH: REASON");
        assert!(
            err.starts_with(&format!("ocirun: init failed at {path}")) && err.contains(reason),
            "{profile}: want {want:?} in\n{err}"
        );
        assert!(!b.out("ran").exists(), "{profile}: the process ran");
        assert_eq!(before, host_mounts());
    }
    // An unknown name: skipped (logged at debug level), or fatal with crun's annotation.
    let unknown = format!(
        r#"{{{allow},"syscalls":[{{"names":["read","no_such_call"],"action":"SCMP_ACT_ERRNO"}}]}}"#
    );
    run_ok(&b, &config(&b, &["true"], &unknown, true));
    let strict = config(&b, &["sh", "-c", "touch /out/ran"], &unknown, true).replacen(
        r#""ociVersion""#,
        r#""annotations":{"run.oci.seccomp_fail_unknown_syscall":""},"ociVersion""#,
        1,
    );
    let o = b.run(&strict);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "linux.seccomp.syscalls[0].names[1] (no_such_call): validate: unknown syscall"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
}

/// SCMP_ACT_NOTIFY: the init hands its listener to ocirun (pidfd_getfd), which sends it with
/// the container's state to the agent at `listenerPath`; the agent answers the syscall.
#[test]
fn notify_agent_answers_a_trapped_syscall() {
    if !root_or_skip("notify_agent_answers_a_trapped_syscall") {
        return;
    }
    let b = bundle("notify");
    let socket = b.dir.join("agent.sock");
    let state = b.dir.join("agent-state.json");
    // One agent per container; it is listening once it says so.
    let spawn_agent = || {
        let _ = std::fs::remove_file(&socket);
        let _ = std::fs::remove_file(&state);
        let mut agent = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seccomp_agent.py"))
            .args([&socket, &state])
            .arg("1")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(agent.stdout.as_mut().expect("piped")),
            &mut ready,
        )
        .expect("agent ready");
        assert_eq!(ready, "ready\n");
        agent
    };
    let profile = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":{},"listenerMetadata":"hello",
        "syscalls":[{{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}}]}}"#,
        common::js(socket.to_str().expect("utf-8"))
    );
    for nnp in [true, false] {
        let mut agent = spawn_agent();
        let out = run_ok(
            &b,
            &config(&b, &["probe", "syscall", GETPPID], &profile, nnp),
        );
        assert_eq!(out, "ok 4242\n", "nnp={nnp}");
        assert!(agent.wait().expect("agent").success());
        let got = std::fs::read_to_string(&state).expect("agent state");
        for want in [
            r#""fds": ["seccompFd"]"#,
            r#""metadata": "hello""#,
            r#""status": "creating""#,
            r#""fds": 1"#,
        ] {
            assert!(got.contains(want), "{want} in {got}");
        }
    }
}
