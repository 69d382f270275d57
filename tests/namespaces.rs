//! Namespaces joined by path (another container's, as a pod's containers share them), the time
//! namespace with its offsets, and every bad namespace entry.

mod common;

use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

/// A running container (`sleep`) whose namespaces others join; deleted on drop.
struct Running {
    b: Bundle,
    pid: u32,
}

impl Running {
    fn start(name: &str, linux: &str, prepare: impl FnOnce(&Bundle)) -> Running {
        Self::start_with(
            name,
            &["sh", "-c", "echo up > /out/up; exec sleep 60"],
            linux,
            prepare,
        )
    }

    /// `args` must write `/out/up` once running.
    fn start_with(
        name: &str,
        args: &[&str],
        linux: &str,
        prepare: impl FnOnce(&Bundle),
    ) -> Running {
        let b = Bundle::new(name);
        prepare(&b);
        let config = b
            .config(args, "", "")
            .replace(
                r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]}"#,
                linux,
            )
            .replace(r#""hostname":"box","#, "");
        b.start_until_up(&config);
        let state = stdout(&b.ocirun(&["state", &b.id]));
        let pid = state
            .split("\"pid\": ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no pid in {state}"));
        Running { b, pid }
    }

    fn ns(&self, kind: &str) -> String {
        format!("/proc/{}/ns/{kind}", self.pid)
    }

    fn inode(&self, kind: &str) -> String {
        std::fs::read_link(self.ns(kind))
            .expect("readlink")
            .display()
            .to_string()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.b.ocirun(&["delete", "-f", &self.b.id]);
    }
}

const PLAIN: &str = r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]}"#;

#[test]
fn joined_namespaces_are_the_running_containers() {
    if !root_or_skip("joined_namespaces_are_the_running_containers") {
        return;
    }
    let a = Running::start("nsjoin-a", PLAIN, |_| {});
    let b = Bundle::new("nsjoin-b");
    let linux = format!(
        r#""linux":{{"namespaces":[{{"type":"pid","path":"{}"}},{{"type":"mount"}},{{"type":"uts","path":"{}"}},{{"type":"ipc","path":"{}"}},{{"type":"network","path":"{}"}}]}}"#,
        a.ns("pid"),
        a.ns("uts"),
        a.ns("ipc"),
        a.ns("net")
    );
    // The joined UTS namespace's hostname is the container's own to set (runc).
    let script = "for n in pid uts ipc net; do readlink /proc/self/ns/$n; done; hostname; \
                  ls /proc | grep -c '^[0-9]'";
    let config = b
        .config(&["sh", "-c", script], "", "")
        .replace(PLAIN, &linux)
        .replace(r#""hostname":"box""#, r#""hostname":"joined""#);
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            a.inode("pid").as_str(),
            a.inode("uts").as_str(),
            a.inode("ipc").as_str(),
            a.inode("net").as_str()
        ]
    );
    assert_eq!(lines[4], "joined");
    // A's shell/sleep, plus B's sh and ls: B is in A's PID namespace.
    let processes: u32 = lines[5].parse().expect("count");
    assert!(processes >= 3, "{out}");
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{}/root/etc/hostname", a.pid)).ok(),
        None,
        "(no /etc/hostname written in the image)"
    );
}

#[test]
fn a_joined_user_namespace_owns_the_new_ones() {
    if !root_or_skip("a_joined_user_namespace_owns_the_new_ones") {
        return;
    }
    let userns = r#""linux":{"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"network"}],"uidMappings":[{"containerID":0,"hostID":200000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":200000,"size":65536}]}"#;
    let chown = |b: &Bundle| {
        for dir in ["rootfs", "out"] {
            let status = std::process::Command::new("chown")
                .args(["-R", "200000:200000"])
                .arg(b.dir.join(dir))
                .status()
                .expect("chown");
            assert!(status.success());
        }
    };
    let a = Running::start("nsuser-a", userns, chown);
    let b = Bundle::new("nsuser-b");
    chown(&b);
    let linux = format!(
        r#""linux":{{"namespaces":[{{"type":"user","path":"{}"}},{{"type":"network","path":"{}"}},{{"type":"pid"}},{{"type":"mount"}}]}}"#,
        a.ns("user"),
        a.ns("net")
    );
    let script = "readlink /proc/self/ns/user; readlink /proc/self/ns/net; cat /proc/self/uid_map; id -u; touch /out/mine";
    let config = b
        .config(&["sh", "-c", script], "", "")
        .replace(PLAIN, &linux)
        .replace(r#""hostname":"box","#, "");
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            a.inode("user"),
            a.inode("net"),
            "0 200000 65536".to_string(),
            "0".to_string()
        ]
    );
    assert_eq!(
        std::fs::metadata(b.out("mine")).expect("file").uid(),
        200_000
    );
}

#[test]
fn a_new_time_namespace_has_its_offsets() {
    if !root_or_skip("a_new_time_namespace_has_its_offsets") {
        return;
    }
    let b = Bundle::new("timens");
    let linux = r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"time"}],
        "timeOffsets":{"boottime":{"secs":86400000,"nanosecs":5},"monotonic":{"secs":-1}}}"#;
    let config = b
        .config(
            &["sh", "-c", "cat /proc/uptime; readlink /proc/self/ns/time"],
            "",
            "",
        )
        .replace(PLAIN, linux)
        .replace(r#""hostname":"box","#, "");
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let uptime: f64 = out
        .split_whitespace()
        .next()
        .and_then(|u| u.parse().ok())
        .expect("uptime");
    // /proc/uptime follows the reader's time namespace: a thousand days more than the host's.
    let host: f64 = std::fs::read_to_string("/proc/uptime")
        .expect("uptime")
        .split_whitespace()
        .next()
        .and_then(|u| u.parse().ok())
        .expect("host uptime");
    assert!(
        uptime - host > 86_399_000.0 && uptime - host < 86_401_000.0,
        "{uptime} vs {host}"
    );
    let own = std::fs::read_link("/proc/self/ns/time").expect("readlink");
    assert_ne!(out.lines().nth(1), Some(own.display().to_string().as_str()));
}

#[test]
fn bad_namespace_entries_are_refused() {
    if !root_or_skip("bad_namespace_entries_are_refused") {
        return;
    }
    let b = Bundle::new("badns");
    std::fs::write(b.dir.join("not-a-namespace"), "").expect("write");
    let file = b.dir.join("not-a-namespace");
    let net_of_self = "/proc/self/ns/net";
    let cases = [
        (
            r#"{"type":"network","path":"/no/such/ns"}"#.to_string(),
            "linux.namespaces[4].path (/no/such/ns): open: No such file or directory",
        ),
        (
            format!(r#"{{"type":"network","path":"{}"}}"#, file.display()),
            "linux.namespaces[4].path",
        ),
        (
            // A network namespace given as a cgroup one: setns checks the type.
            format!(r#"{{"type":"cgroup","path":"{net_of_self}"}}"#),
            "linux.namespaces[5].path (/proc/self/ns/net): setns: Invalid argument",
        ),
        (
            r#"{"type":"cgroup","path":"proc/1/ns/cgroup"}"#.to_string(),
            "linux.namespaces[5].path (proc/1/ns/cgroup): validate: not an absolute path",
        ),
        (
            r#"{"type":"mount","path":"/proc/1/ns/mnt"}"#.to_string(),
            "linux.namespaces[5].type (mount): validate: duplicate namespace type",
        ),
    ];
    for (extra, want) in &cases {
        let before = host_mounts();
        let config = b.config(&["sh", "-c", "touch /out/ran"], "", "").replace(
            r#"{"type":"network"}]"#,
            &format!(r#"{{"type":"network"}},{extra}]"#),
        );
        // The extra entry replaces nothing: drop the plain network entry when it joins one.
        let config = if extra.contains("\"network\"") {
            config.replacen(r#"{"type":"network"},"#, "", 1)
        } else {
            config
        };
        let o = b.run(&config);
        let err = stderr(&o);
        assert!(!o.status.success(), "{extra}");
        assert!(err.contains(want), "{extra}: want {want:?} in {err}");
        assert!(!b.out("ran").exists());
        assert_eq!(before, host_mounts());
    }
    for (linux, want) in [
        (
            r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount","path":"/proc/1/ns/mnt"}]}"#,
            "linux.namespaces[1].path (/proc/1/ns/mnt): validate: a new container cannot join an existing mount namespace",
        ),
        (
            r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],"timeOffsets":{"boottime":{"secs":1}}}"#,
            "linux.timeOffsets: validate: needs a new time namespace",
        ),
        (
            r#""linux":{"namespaces":[{"type":"mount"},{"type":"time"}],"timeOffsets":{"realtime":{"secs":1}}}"#,
            "linux.timeOffsets: validate: only the monotonic and boottime clocks have offsets",
        ),
        (
            r#""linux":{"namespaces":[{"type":"mount"},{"type":"time"}],"timeOffsets":{"boottime":{"nanosecs":1000000000}}}"#,
            "linux.timeOffsets.boottime.nanosecs (1000000000): validate: out of range (0 to 999999999)",
        ),
    ] {
        let config = b
            .config(&["sh", "-c", "touch /out/ran"], "", "")
            .replace(PLAIN, linux)
            .replace(r#""hostname":"box","#, "");
        let o = b.run(&config);
        assert!(!o.status.success(), "{linux}");
        assert!(
            stderr(&o).contains(want),
            "{linux}: want {want:?} in {}",
            stderr(&o)
        );
        assert!(!b.out("ran").exists());
    }
}

/// CVE-2016-9962: a root process with CAP_SYS_PTRACE already in the namespaces the init joins
/// (here container A's user and PID namespaces) watches every new process; while the init of
/// container B is there (its parent holds the `run` reply back for a second and a half), no
/// attempt to ptrace it or read its `/proc/PID/{cwd,root,exe,fd}` works. The same attacker
/// does reach B's user process once it runs (dumpable again after execve): the test can fail.
#[test]
fn processes_in_joined_namespaces_cannot_reach_the_init() {
    if !root_or_skip("processes_in_joined_namespaces_cannot_reach_the_init") {
        return;
    }
    attack_the_joining_init("0");
    // A host may make credential changes leave processes dumpable (fs.suid_dumpable = 1); the
    // init must not rely on the kernel's reset when it becomes root in the joined namespace.
    let saved = std::fs::read_to_string("/proc/sys/fs/suid_dumpable").expect("read sysctl");
    std::fs::write("/proc/sys/fs/suid_dumpable", "1").expect("write sysctl");
    let outcome = std::panic::catch_unwind(|| attack_the_joining_init("1"));
    std::fs::write("/proc/sys/fs/suid_dumpable", saved.trim()).expect("restore sysctl");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}

fn attack_the_joining_init(suid_dumpable: &str) {
    let snoop = common::c_program("snoop");
    let userns = r#""linux":{"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"}],"uidMappings":[{"containerID":0,"hostID":210000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":210000,"size":65536}]}"#;
    let chown = |b: &Bundle| {
        for dir in ["rootfs", "out"] {
            let status = std::process::Command::new("chown")
                .args(["-R", "210000:210000"])
                .arg(b.dir.join(dir))
                .status()
                .expect("chown");
            assert!(status.success());
        }
    };
    let a = Running::start_with(
        &format!("cve9962-a{suid_dumpable}"),
        &["sh", "-c", "echo up > /out/up; exec /bin/snoop 6 /out/log"],
        userns,
        |b| {
            std::fs::copy(&snoop, b.dir.join("rootfs/bin/snoop")).expect("copy snoop");
            chown(b);
        },
    );
    let b = Bundle::new(&format!("cve9962-b{suid_dumpable}"));
    chown(&b);
    let linux = format!(
        r#""linux":{{"namespaces":[{{"type":"user","path":"{}"}},{{"type":"pid","path":"{}"}},{{"type":"mount"}}]}}"#,
        a.ns("user"),
        a.ns("pid")
    );
    let config = b
        .config(&["sleep", "1"], "", "")
        .replace(PLAIN, &linux)
        .replace(r#""hostname":"box","#, "");
    std::fs::write(b.dir.join("config.json"), &config).expect("write config");
    let o = std::process::Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py"))
        .arg(common::bin("ocinit"))
        .arg("frame")
        .arg(b.dir.join("config.json"))
        .env("RAW_PARENT_DELAY_RUN", "1.5")
        .current_dir(&b.dir)
        .output()
        .expect("python3");
    assert!(
        stdout(&o).contains("\"created\""),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let log_path = a.b.out("log");
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("done") {
            break log;
        }
        assert!(Instant::now() < deadline, "the snoop did not finish: {log}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        log.lines()
            .any(|l| l.starts_with("seen ") && l.ends_with(" ocinit")),
        "the init was never seen in the joined PID namespace:\n{log}"
    );
    // Judged by the image the process had when reached (a process caught in execve already
    // has the new one, and is dumpable again, while its comm still says ocinit).
    let reached: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("got ") && l.contains("ocinit"))
        .collect();
    assert!(
        reached.is_empty(),
        "suid_dumpable={suid_dumpable}: the init was reachable: {reached:?}\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("got ") && l.ends_with("/bin/busybox")),
        "control: the user process was not reachable, so the test proves nothing:\n{log}"
    );
}
