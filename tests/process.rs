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
        err.contains("can't raise ambient capability CAP_KILL"),
        "{err}"
    );
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
    let extra = r#","noNewPrivileges":true,"oomScoreAdj":500,
        "rlimits":[{"type":"RLIMIT_NOFILE","soft":1024,"hard":2048},{"type":"RLIMIT_CORE","soft":0,"hard":0},
                   {"type":"RLIMIT_NPROC","soft":500,"hard":1000},
                   {"type":"RLIMIT_CPU","soft":18446744073709551615,"hard":18446744073709551615}]"#;
    let script = "grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj; grep -E 'cpu time|open files|core file|processes' /proc/self/limits";
    let o = b.run(&b.config(&["sh", "-c", script], extra, ""));
    assert!(o.status.success(), "{}", stderr(&o));
    let out: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        out,
        [
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
