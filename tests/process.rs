//! The process's identity and limits, checked from inside real containers: capabilities,
//! no_new_privs, rlimits, oom_score_adj, HOME, and the advisories that concern them.

mod common;

use common::{Bundle, root_or_skip, stderr, stdout};

fn status_lines(out: &str, keys: &[&str]) -> Vec<String> {
    out.lines()
        .filter(|l| keys.iter().any(|k| l.starts_with(k)))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn capabilities_are_set_exactly() {
    if !root_or_skip("capabilities_are_set_exactly") {
        return;
    }
    let b = Bundle::new("caps");
    let caps = r#","user":{"uid":1000,"gid":1000},"capabilities":{
        "bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],
        "effective":["CAP_CHOWN","CAP_NO_SUCH_THING"],
        "permitted":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],
        "inheritable":["CAP_NET_BIND_SERVICE"],
        "ambient":["CAP_NET_BIND_SERVICE","CAP_KILL"]}"#;
    let o = b.run(&b.config(&["cat", "/proc/self/status"], caps, ""));
    assert!(o.status.success(), "{}", stderr(&o));
    // The process's stdin was the host's /dev/null: its stdio went to uid 1000, never that.
    use std::os::unix::fs::MetadataExt;
    let null = std::fs::metadata("/dev/null").expect("stat /dev/null");
    assert_eq!(
        (null.uid(), null.gid()),
        (0, 0),
        "the host's /dev/null changed owner"
    );
    // After execve as uid 1000 of a file without capabilities, only the ambient set survives.
    assert_eq!(
        status_lines(&stdout(&o), &["Cap"]),
        [
            "CapInh: 0000000000000400",
            "CapPrm: 0000000000000400",
            "CapEff: 0000000000000400",
            "CapBnd: 0000000000000421",
            "CapAmb: 0000000000000400"
        ]
    );
    let err = stderr(&o);
    assert!(
        err.contains(
            "ocirun: init warn: process.capabilities.effective[1]: unknown capability, ignored"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "can't raise ambient capabilities (they must be inheritable and permitted): CAP_KILL\n"
        ),
        "{err}"
    );
}

#[test]
fn ambient_capabilities_inherited_from_the_runtime_never_reach_the_process() {
    // capset cuts the ambient set to inheritable ∩ permitted, so the init clears it only when
    // that is not empty: both ways, the runtime's ambient CAP_KILL must be gone.
    if !root_or_skip("ambient_capabilities_inherited_from_the_runtime_never_reach_the_process") {
        return;
    }
    for inheritable in [r#""inheritable":[],"#, r#""inheritable":["CAP_KILL"],"#] {
        let b = Bundle::new("ambinh");
        let caps = format!(
            r#","capabilities":{{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],{inheritable}"permitted":["CAP_KILL"]}}"#
        );
        b.write_config(&b.config(&["cat", "/proc/self/status"], &caps, ""));
        let o = std::process::Command::new("setpriv")
            .args(["--inh-caps", "+kill", "--ambient-caps", "+kill", "--"])
            .args(b.run_command())
            .output()
            .expect("spawn setpriv");
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            status_lines(&stdout(&o), &["CapAmb"]),
            ["CapAmb: 0000000000000000"],
            "{inheritable}"
        );
    }
}

#[test]
fn no_implicit_inheritable_capabilities() {
    // CVE-2022-29162: inheritable is only what the config lists (here: nothing).
    if !root_or_skip("no_implicit_inheritable_capabilities") {
        return;
    }
    let b = Bundle::new("capinh");
    let caps = r#","capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]}"#;
    let o = b.run(&b.config(&["cat", "/proc/self/status"], caps, ""));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        status_lines(
            &stdout(&o),
            &["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        ),
        [
            "CapInh: 0000000000000000",
            "CapPrm: 0000000000000001",
            "CapEff: 0000000000000001",
            "CapBnd: 0000000000000001",
            "CapAmb: 0000000000000000"
        ]
    );
}

#[test]
fn no_new_privileges_rlimits_and_oom_score_adj() {
    if !root_or_skip("no_new_privileges_rlimits_and_oom_score_adj") {
        return;
    }
    let b = Bundle::new("limits");
    let extra = r#","noNewPrivileges":true,"oomScoreAdj":500,"user":{"uid":0,"gid":0,"umask":23},
        "rlimits":[{"type":"RLIMIT_NOFILE","soft":1024,"hard":2048},{"type":"RLIMIT_CORE","soft":0,"hard":0},
                   {"type":"RLIMIT_NPROC","soft":500,"hard":1000},
                   {"type":"RLIMIT_CPU","soft":18446744073709551615,"hard":18446744073709551615}]"#;
    let script = "grep -E 'NoNewPrivs|Umask' /proc/self/status; cat /proc/self/oom_score_adj; grep -E 'cpu time|open files|core file|processes' /proc/self/limits";
    let o = b.run(&b.config(&["sh", "-c", script], extra, ""));
    assert!(o.status.success(), "{}", stderr(&o));
    let out: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        out,
        [
            "Umask: 0027",
            "NoNewPrivs: 1",
            "500",
            "Max cpu time unlimited unlimited seconds",
            "Max core file size 0 0 bytes",
            "Max processes 500 1000 processes",
            "Max open files 1024 2048 files"
        ]
    );
}

#[test]
fn home_comes_from_passwd_by_number_only() {
    if !root_or_skip("home_comes_from_passwd_by_number_only") {
        return;
    }
    let b = Bundle::new("home");
    // CVE-2016-3697: the entry *named* "1000" is not uid 1000. A line longer than the reader's
    // buffer comes first, and the file is large: both must be handled.
    let mut passwd = format!("long:x:5:5:{}:/nope:/bin/sh\n", "g".repeat(10_000));
    passwd.push_str("1000:x:2000:2000::/wrong:/bin/sh\n");
    for i in 0..50_000 {
        passwd.push_str(&format!(
            "user{i}:x:{}:100::/home/user{i}:/bin/sh\n",
            10_000 + i
        ));
    }
    passwd.push_str("u:x:1000:1000::/home/u:/bin/sh");
    std::fs::write(b.dir.join("rootfs/etc/passwd"), passwd).expect("passwd");
    let o = b.run(&b.config(
        &["sh", "-c", "echo $HOME"],
        r#","user":{"uid":1000,"gid":1000}"#,
        "",
    ));
    assert_eq!(stdout(&o), "/home/u\n", "{}", stderr(&o));
    let o = b.run(&b.config(
        &["sh", "-c", "echo $HOME"],
        r#","user":{"uid":4242,"gid":1000}"#,
        "",
    ));
    assert_eq!(stdout(&o), "/\n", "no entry: HOME=/");
    let config = b.config(&["sh", "-c", "echo $HOME"], "", "").replace(
        r#""env":["PATH=/bin"]"#,
        r#""env":["PATH=/bin","HOME=/set"]"#,
    );
    assert_eq!(stdout(&b.run(&config)), "/set\n", "an explicit HOME wins");
    // A FIFO where /etc/passwd should be must not hang the init.
    std::fs::remove_file(b.dir.join("rootfs/etc/passwd")).expect("rm");
    let ok = std::process::Command::new("mkfifo")
        .arg(b.dir.join("rootfs/etc/passwd"))
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    assert_eq!(
        stdout(&b.run(&b.config(&["sh", "-c", "echo $HOME"], "", ""))),
        "/\n"
    );
}

#[test]
fn leaked_descriptors_cannot_reach_the_host() {
    // CVE-2024-21626: a parent that leaks a descriptor of the host's / into the init. cwd or
    // args[0] through /proc/self/fd/N must fail, never land outside the container.
    if !root_or_skip("leaked_descriptors_cannot_reach_the_host") {
        return;
    }
    let b = Bundle::new("leak");
    let run_leaking = |config: &str| {
        b.write_config(config);
        let script = format!(
            "exec 7</ 8</; exec {} --root {} --init {} run -b {} {}",
            common::bin("ocirun").display(),
            b.dir.join("state").display(),
            common::bin("ocinit").display(),
            b.dir.display(),
            b.id
        );
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh")
    };
    let o = run_leaking(
        &b.config(&["sh", "-c", "touch /out/ran"], "", "")
            .replace(r#""cwd":"/""#, r#""cwd":"/proc/self/fd/7""#),
    );
    assert!(
        stderr(&o).contains(
            "init failed at process.cwd (/proc/self/fd/7): chdir: No such file or directory"
        ),
        "{}",
        stderr(&o)
    );
    let o = run_leaking(&b.config(&["/proc/self/fd/8/bin/sh", "-c", "touch /out/ran"], "", ""));
    assert!(stderr(&o).contains("init failed at process.args[0] (/proc/self/fd/8/bin/sh): access: No such file or directory"), "{}", stderr(&o));
    let o = run_leaking(&b.config(&["sh", "-c", "ls /proc/self/fd"], "", ""));
    assert_eq!(
        stdout(&o),
        "0\n1\n2\n3\n",
        "only stdio reaches the process: {}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
}

#[test]
fn bad_process_values_are_named() {
    if !root_or_skip("bad_process_values_are_named") {
        return;
    }
    let b = Bundle::new("badproc");
    for (extra, expected) in [
        (
            r#","rlimits":[{"type":"RLIMIT_FOO","soft":1,"hard":1}]"#,
            "process.rlimits[0].type (RLIMIT_FOO): validate: unknown rlimit type",
        ),
        (
            r#","rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}]"#,
            "process.rlimits[0].soft (2): validate: soft limit above the hard limit",
        ),
        (
            r#","rlimits":[{"type":"RLIMIT_CORE","soft":0,"hard":0},{"type":"RLIMIT_CORE","soft":0,"hard":0}]"#,
            "process.rlimits[1].type (RLIMIT_CORE): validate: duplicate rlimit type",
        ),
        (
            r#","rlimits":[{"type":"RLIMIT_CORE","soft":-1,"hard":0}]"#,
            "process.rlimits[0].soft (-1): validate: out of range for a 64-bit limit",
        ),
        (
            r#","oomScoreAdj":1001"#,
            "process.oomScoreAdj (1001): validate: out of range (-1000 to 1000)",
        ),
        (
            r#","capabilities":["CAP_CHOWN"]"#,
            "process.capabilities: validate: expected an object",
        ),
        (
            r#","capabilities":{"bounding":[7]}"#,
            "process.capabilities.bounding[0] (7): validate: expected a string",
        ),
        (
            r#","noNewPrivileges":"yes""#,
            "process.noNewPrivileges (yes): validate: expected a boolean",
        ),
        (
            r#","user":{"uid":-1}"#,
            "process.user.uid (-1): validate: out of range for a 32-bit unsigned id",
        ),
    ] {
        let o = b.run(&b.config(&["sh", "-c", "touch /out/ran"], extra, ""));
        assert!(!o.status.success());
        assert!(stderr(&o).contains(expected), "{extra}: {}", stderr(&o));
    }
    assert!(!b.out("ran").exists());
}

#[test]
fn a_session_keyring_of_its_own() {
    if !root_or_skip("a_session_keyring_of_its_own") {
        return;
    }
    let b = Bundle::new("keyring");
    b.write_config(&b.config(
        &[
            "sh",
            "-c",
            "grep ' keyring ' /proc/keys | grep '_ses' || echo none",
        ],
        "",
        "",
    ));
    let bundle = b.dir.to_str().expect("utf8");
    let o = b.ocirun(&["run", "-b", bundle, &b.id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // /proc/keys: id flags usage timeout perm uid gid type description: ...
    let line = out
        .lines()
        .find(|l| l.contains(&format!("_ses.{}", b.id)))
        .unwrap_or_else(|| panic!("no _ses.{} in {out}", b.id));
    let fields: Vec<&str> = line.split_whitespace().collect();
    // The kernel's default for a new keyring, plus KEY_USR_SEARCH as runc adds it.
    let perm = u32::from_str_radix(fields[4], 16).expect("hex perm");
    assert_eq!(perm & 0xff00_0000, 0x3f00_0000, "possessor: all: {line}");
    assert_eq!(perm & 0x0008_0000, 0x0008_0000, "user: search: {line}");
    // Another ID, whose keyring cannot exist from the run above (keyrings outlive containers
    // until the kernel collects them).
    let other = format!("{}-nk", b.id);
    let o = b.ocirun(&["run", "--no-new-keyring", "-b", bundle, &other]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains(&format!("_ses.{other}")),
        "--no-new-keyring keeps the inherited keyring: {}",
        stdout(&o)
    );
}

#[test]
fn exec_failure_after_the_fifo_is_one_clear_line() {
    if !root_or_skip("exec_failure_after_the_fifo_is_one_clear_line") {
        return;
    }
    let b = Bundle::new("execfail");
    // Executable, so the lookup passes; its interpreter is missing, so execve fails.
    let script = b.dir.join("rootfs/bin/bad.sh");
    std::fs::write(&script, "#!/no/such/interpreter\n").expect("write");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let config = b.config(&["/bin/bad.sh"], "", "");
    // run: the parent hears it and says it once.
    let o = b.run(&config);
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o),
        "ocirun: init failed at process.args[0] (/bin/bad.sh): execve: No such file or directory\n"
    );
    // create + start: the parent of create is gone; the init says it on the process's stderr.
    b.write_config(&config);
    let (ok, err) = b.create(&[]);
    assert!(ok, "{err}");
    assert!(
        b.ocirun(&["start", &b.id]).status.success(),
        "start hands over; the exec fails after it"
    );
    let log = b.dir.join("create.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_to_string(&log).unwrap_or_default().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no error line");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "ocinit: exec: process.args[0]: execve: no such file or directory\n"
    );
}

/// `process.scheduler`, `process.ioPriority` and `linux.personality`, read back from inside.
#[test]
fn scheduler_io_priority_and_personality() {
    if !root_or_skip("scheduler_io_priority_and_personality") {
        return;
    }
    let b = Bundle::new("sched");
    // /proc/self/stat: field 19 is nice, 40 the real-time priority, 41 the policy.
    let script = "cut -d' ' -f19,40,41 /proc/self/stat; ionice; uname -m";
    let run = |process_extra: &str, extra: &str| {
        let o = b.run(&b.config(&["sh", "-c", script], process_extra, extra));
        assert!(o.status.success(), "{process_extra}: {}", stderr(&o));
        stdout(&o)
    };
    let linux32 = r#""personality":{"domain":"LINUX32"},"namespaces""#;
    assert_eq!(
        run(
            r#","scheduler":{"policy":"SCHED_BATCH","nice":7},"ioPriority":{"class":"IOPRIO_CLASS_BE","priority":6}"#,
            ""
        ),
        "7 0 3\nbest-effort: prio 6\nx86_64\n"
    );
    let config = b
        .config(
            &["sh", "-c", script],
            r#","scheduler":{"policy":"SCHED_FIFO","priority":10,"flags":["SCHED_FLAG_RESET_ON_FORK"]},"ioPriority":{"class":"IOPRIO_CLASS_IDLE"}"#,
            "",
        )
        .replacen(r#""namespaces""#, linux32, 1);
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    // The shell runs SCHED_FIFO; its children reset to SCHED_OTHER (RESET_ON_FORK).
    assert_eq!(stdout(&o), "0 0 0\nidle\ni686\n");
    let o = b.run(&b.config(
        &["sh", "-c", "read -r a b c d e f g h i j k l m n o p q r s t u v w x y z aa ab ac ad ae af ag ah ai aj ak al am an ao rest < /proc/self/stat; echo $an $ao"],
        r#","scheduler":{"policy":"SCHED_FIFO","priority":10}"#,
        "",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "10 1\n", "the process itself is SCHED_FIFO 10");
}

/// Each bad scheduling value is named, and nothing runs.
#[test]
fn bad_scheduling_values_are_named() {
    if !root_or_skip("bad_scheduling_values_are_named") {
        return;
    }
    let b = Bundle::new("badsched");
    for (process_extra, linux_extra, expected) in [
        (
            r#","scheduler":{"nice":1}"#,
            "",
            "process.scheduler.policy: validate: missing",
        ),
        (
            r#","scheduler":{"policy":"SCHED_FAST"}"#,
            "",
            "process.scheduler.policy (SCHED_FAST): validate: unknown scheduling policy",
        ),
        (
            r#","scheduler":{"policy":"SCHED_OTHER","nice":20}"#,
            "",
            "process.scheduler.nice (20): validate: out of range (-20 to 19)",
        ),
        (
            r#","scheduler":{"policy":"SCHED_OTHER","priority":5}"#,
            "",
            "process.scheduler.priority (5): validate: only for SCHED_FIFO and SCHED_RR",
        ),
        (
            r#","scheduler":{"policy":"SCHED_OTHER","flags":["SCHED_FLAG_FAST"]}"#,
            "",
            "process.scheduler.flags[0] (SCHED_FLAG_FAST): validate: unknown scheduling flag",
        ),
        (
            r#","scheduler":{"policy":"SCHED_DEADLINE","runtime":-1}"#,
            "",
            "process.scheduler.runtime (-1): validate: out of range for a 64-bit unsigned number",
        ),
        // The kernel's own checks: SCHED_ISO is reserved, a FIFO priority is 1..99.
        (
            r#","scheduler":{"policy":"SCHED_ISO"}"#,
            "",
            "process.scheduler: sched_setattr: Invalid argument",
        ),
        (
            r#","scheduler":{"policy":"SCHED_FIFO","priority":100}"#,
            "",
            "process.scheduler: sched_setattr: Invalid argument",
        ),
        (
            r#","ioPriority":{"class":"IOPRIO_CLASS_FAST"}"#,
            "",
            "process.ioPriority.class (IOPRIO_CLASS_FAST): validate: unknown I/O priority class",
        ),
        (
            r#","ioPriority":{"class":"IOPRIO_CLASS_BE","priority":8}"#,
            "",
            "process.ioPriority.priority (8): validate: out of range (0 to 7)",
        ),
        (
            "",
            r#""personality":{"domain":"LINUX64"},"#,
            "linux.personality.domain (LINUX64): validate: not LINUX or LINUX32",
        ),
        (
            "",
            r#""personality":{"domain":"LINUX","flags":["ADDR_NO_RANDOMIZE"]},"#,
            "linux.personality.flags: validate: not supported by this version of ocinit",
        ),
    ] {
        let config = b
            .config(&["sh", "-c", "touch /out/ran"], process_extra, "")
            .replacen(
                r#""namespaces""#,
                &format!(r#"{linux_extra}"namespaces""#),
                1,
            );
        let o = b.run(&config);
        assert!(!o.status.success(), "{expected}: ran");
        assert!(stderr(&o).contains(expected), "{expected}: {}", stderr(&o));
    }
    assert!(!b.out("ran").exists());
}

/// AppArmor and SELinux labels: this kernel has neither LSM enabled, so a label is a clear
/// error (never a process running unlabeled), and an empty one is no label.
#[test]
fn lsm_labels_fail_clearly_without_the_lsm() {
    if !root_or_skip("lsm_labels_fail_clearly_without_the_lsm") {
        return;
    }
    let apparmor = std::path::Path::new("/sys/module/apparmor/parameters/enabled");
    if std::fs::read_to_string(apparmor).is_ok_and(|s| s.starts_with('Y')) {
        eprintln!("SKIP: AppArmor is enabled on this kernel; this test covers kernels without it");
        return;
    }
    let b = Bundle::new("lsm");
    let o = b.run(&b.config(
        &["sh", "-c", "touch /out/ran"],
        r#","apparmorProfile":"","selinuxLabel":"""#,
        "",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(b.out("ran").exists());
    std::fs::remove_file(b.out("ran")).expect("rm");
    for (extra, expected) in [
        (
            r#","apparmorProfile":"docker-default""#,
            "process.apparmorProfile (docker-default): open: No such file or directory \
             (AppArmor is not enabled on this kernel)",
        ),
        (
            r#","selinuxLabel":"system_u:system_r:container_t:s0""#,
            "process.selinuxLabel (system_u:system_r:container_t:s0): write: Invalid argument \
             (SELinux is not enabled on this kernel)",
        ),
        (
            r#","apparmorProfile":7"#,
            "process.apparmorProfile (7): validate: expected a string",
        ),
    ] {
        let o = b.run(&b.config(&["sh", "-c", "touch /out/ran"], extra, ""));
        assert!(!o.status.success(), "{extra}: ran");
        assert!(stderr(&o).contains(expected), "{extra}: {}", stderr(&o));
        assert!(!b.out("ran").exists(), "{extra}: the process ran");
    }
}

/// A parent-death signal the parent gave the init survives the user switch (which clears it)
/// and the PID-namespace fork (which never had it): the process dies with its parent.
#[test]
fn parent_death_signal_reaches_the_user_process() {
    if !root_or_skip("parent_death_signal_reaches_the_user_process") {
        return;
    }
    let b = Bundle::new("pdeath");
    for pid_ns in [false, true] {
        let mut config = b.config(&["sleep", "30"], r#","user":{"uid":1000,"gid":1000}"#, "");
        if !pid_ns {
            config = config.replacen(r#"{"type":"pid"},"#, "", 1);
        }
        let file = b.dir.join("config.json");
        std::fs::write(&file, &config).expect("write");
        // With the signal the process dies with the raw parent; without it (the control) it
        // outlives it.
        for signal in ["9", "0"] {
            let o = std::process::Command::new("python3")
                .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py"))
                .arg(common::bin("ocinit"))
                .arg("frame")
                .arg(&file)
                .env("RAW_PARENT_PDEATHSIG", signal)
                .env("RAW_PARENT_EXIT_AT_EOF", "1")
                .current_dir(&b.dir)
                .output()
                .expect("python3");
            let out = stdout(&o);
            let pid = out
                .lines()
                .find_map(|l| {
                    l.strip_prefix(r#"{"pid": "#)
                        .and_then(|r| r.split(',').next())
                        .or_else(|| l.strip_prefix("init "))
                        .filter(|_| pid_ns == l.starts_with('{') || !pid_ns)
                })
                .and_then(|p| p.trim().parse::<i32>().ok())
                .unwrap_or_else(|| panic!("no pid in {out}{}", stderr(&o)));
            let alive = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| !s.contains(") Z "))
            };
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while alive() && std::time::Instant::now() < deadline && signal != "0" {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            if signal == "0" {
                std::thread::sleep(std::time::Duration::from_millis(300));
                assert!(
                    alive(),
                    "pid_ns={pid_ns}: the control died without a signal"
                );
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            } else {
                assert!(
                    !alive(),
                    "pid_ns={pid_ns}: the process outlived its parent:\n{out}"
                );
            }
        }
    }
}

/// Socket activation: `LISTEN_FDS`/`LISTEN_PID` meant for ocirun reach the process, with the
/// sockets as its first preserved fds and `LISTEN_PID` naming it (PID 2 when ocinit stays PID 1).
#[test]
fn socket_activation_fds_reach_the_process() {
    if !root_or_skip("socket_activation_fds_reach_the_process") {
        return;
    }
    let b = Bundle::new("listen");
    let script = "echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd";
    for (annotations, pid) in [
        ("", "1"),
        (r#","annotations":{"org.ocinit.pid1":"true"}"#, "2"),
    ] {
        b.write_config(&b.config(&["sh", "-c", script], "", annotations));
        let mut cmd = vec!["sh".into(), "-c".into()];
        cmd.push(r#"exec 3</dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec "$@""#.to_string());
        cmd.push("sh".into());
        cmd.extend(
            b.run_command()
                .into_iter()
                .map(|s| s.to_string_lossy().into_owned()),
        );
        let o = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .output()
            .expect("sh");
        assert!(o.status.success(), "{}", stderr(&o));
        // 3 is the socket, 4 the directory ls reads.
        assert_eq!(
            stdout(&o),
            format!("1 {pid}\n0\n1\n2\n3\n4\n"),
            "{annotations}"
        );
    }
}
