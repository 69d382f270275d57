//! The root filesystem's protections, checked from inside: read-only and masked paths.

mod common;

use std::process::Command;

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

/// Capabilities of an ordinary container: no CAP_SYS_ADMIN, so no unmounting.
const NO_SYS_ADMIN: &str = r#","capabilities":{"bounding":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER"],
    "effective":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER"],"permitted":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER"]}"#;

#[test]
fn masked_and_readonly_paths() {
    if !root_or_skip("masked_and_readonly_paths") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("masks");
    let rootfs = b.dir.join("rootfs");
    std::fs::write(rootfs.join("etc/secret"), "secret\n").expect("write");
    std::fs::write(rootfs.join("etc/secret2"), "secret\n").expect("write");
    for d in ["etc/private/sub", "etc/private2", "data"] {
        std::fs::create_dir_all(rootfs.join(d)).expect("mkdir");
    }
    std::fs::write(rootfs.join("etc/private/key"), "key\n").expect("write");
    let linux = r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],
        "maskedPaths":["/etc/secret","/etc/private","/etc/private2","/no/such/path","/proc/kcore","/etc/secret2"],
        "readonlyPaths":["/data","/missing/too"]}"#;
    // A masked file is the null device (runc), read-only: reads are empty, writes fail, it
    // cannot be removed or unmounted. Masked directories share one read-only tmpfs.
    let script = "echo size=$(cat /etc/secret | wc -c); echo x > /etc/secret; chmod 600 /etc/secret 2>/dev/null || echo secret-ro; \
                  echo size=$(cat /etc/secret | wc -c); rm -f /etc/secret 2>/dev/null || echo secret-stays; \
                  echo entries=$(ls -A /etc/private | wc -l); touch /etc/private/x 2>/dev/null || echo private-ro; \
                  touch /etc/private2/x 2>/dev/null || echo private2-ro; \
                  [ $(stat -c %d /etc/private) = $(stat -c %d /etc/private2) ] && echo one-tmpfs; \
                  umount /etc/secret 2>&1 | grep -q 'Operation not permitted' && echo umount-eperm; \
                  umount /etc/private 2>&1 | grep -q 'Operation not permitted' && echo umount-eperm; \
                  touch /data/x 2>/dev/null || echo data-ro; cat /etc/private/key 2>/dev/null || echo key-hidden; \
                  echo size=$(cat /etc/secret2 | wc -c); chmod 600 /etc/secret2 2>/dev/null || echo secret2-ro";
    let config = b.config(&["sh", "-c", script], NO_SYS_ADMIN, "");
    let config = config.replace(r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]}"#, linux);
    let config = config.replace(r#""hostname":"box","#, "");
    assert!(config.contains("maskedPaths"), "{config}");
    let expected = "size=0\nsecret-ro\nsize=0\nsecret-stays\nentries=0\nprivate-ro\nprivate2-ro\none-tmpfs\numount-eperm\numount-eperm\ndata-ro\nkey-hidden\nsize=0\nsecret2-ro\n";
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), expected);
    // The same before Linux 5.12: mount_setattr refused, the remounts keep the guarantees.
    b.write_config(&config);
    let trace = b.dir.join("strace.out");
    let o = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=mount_setattr", "-e"])
        .args(["inject=mount_setattr:error=ENOSYS", "-o"])
        .arg(&trace)
        .args(b.run_command())
        .output()
        .expect("strace");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), expected);
    let traced = std::fs::read_to_string(&trace).expect("strace output");
    assert!(traced.contains("ENOSYS"), "not refused:\n{traced}");
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/secret")).expect("read"),
        "secret\n",
        "the image is untouched"
    );
    assert_eq!(before, host_mounts(), "host mount table changed");
}

#[test]
fn a_replaced_dev_null_cannot_be_the_mask() {
    // CVE-2025-31133: a /dev the config brings (bound, so the init creates no nodes) has a
    // writable file at /dev/null; masking with it would expose that file. The init refuses to
    // start the container. (Without a bound /dev, the `devices` step refuses it earlier.)
    if !root_or_skip("a_replaced_dev_null_cannot_be_the_mask") {
        return;
    }
    let b = Bundle::new("nullswap");
    std::fs::create_dir_all(b.dir.join("fakedev")).expect("mkdir");
    std::fs::write(b.dir.join("fakedev/null"), "").expect("write");
    let config = b.config(&["sh", "-c", "touch /out/ran"], "", "").replace(
        r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
        r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]},{"destination":"/dev","type":"bind","source":"fakedev","options":["bind"]}"#,
    );
    let config = config.replace(
        r#"{"type":"network"}]"#,
        r#"{"type":"network"}],"maskedPaths":["/etc"]"#,
    );
    // With stdin on the host's /dev/null, the init refuses to move it to this one; with a pipe
    // it gets as far as the masks, which refuse it too.
    let o = b.run(&config);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("init failed at step pivot-root: validate: the container's /dev/null is not the null device"), "{}", stderr(&o));
    let run = b.run_command();
    let o = std::process::Command::new(&run[0])
        .args(&run[1..])
        .stdin(std::process::Stdio::piped())
        .output()
        .expect("ocirun");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("init failed at step masked-paths: validate: the container's /dev/null is not the null device"), "{}", stderr(&o));
    assert!(!b.out("ran").exists());
}

#[test]
fn path_lists_are_validated() {
    if !root_or_skip("path_lists_are_validated") {
        return;
    }
    let b = Bundle::new("badpaths");
    for (list, expected) in [
        (
            r#""maskedPaths":["proc/kcore"]"#,
            "linux.maskedPaths[0] (proc/kcore): validate: not an absolute path",
        ),
        (
            r#""readonlyPaths":["/a",3]"#,
            "linux.readonlyPaths[1] (3): validate: expected a string",
        ),
        (
            r#""readonlyPaths":"/a""#,
            "linux.readonlyPaths (/a): validate: expected an array",
        ),
    ] {
        let config = b.config(&["true"], "", "").replace(
            r#"{"type":"network"}]"#,
            &format!(r#"{{"type":"network"}}],{list}"#),
        );
        let o = b.run(&config);
        assert!(stderr(&o).contains(expected), "{list}: {}", stderr(&o));
    }
    let config = b
        .config(&["true"], "", "")
        .replace(r#"{"type":"pid"},{"type":"mount"},"#, "")
        .replace(r#""mounts":["#, r#""mounts":[],"x":["#);
    let config = config.replace(
        r#"{"type":"network"}]"#,
        r#"{"type":"network"}],"maskedPaths":["/a"]"#,
    );
    let o = b.run(&config);
    assert!(
        stderr(&o).contains("linux.maskedPaths: validate: needs a new mount namespace"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sysctls_are_written_in_the_containers_namespaces() {
    if !root_or_skip("sysctls_are_written_in_the_containers_namespaces") {
        return;
    }
    let b = Bundle::new("sysctl");
    std::fs::create_dir_all(b.dir.join("rootfs/p")).expect("mkdir");
    let host_forward =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("host value");
    // A tmpfs over /proc/sys (CVE-2025-52881 class) is refused outright (runc's
    // checkProcMount); without it, the values reach the kernel, which a fresh proc mount
    // inside the container shows.
    let hostile = r#"{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/proc/sys","type":"tmpfs","source":"tmpfs"},{"destination":"/p","type":"proc","source":"proc"},"#;
    let config = b
        .config(&["sh", "-c", "cat /p/sys/net/ipv4/ip_forward /p/sys/kernel/shmmni /p/sys/kernel/domainname"], "", "")
        .replace(
            r#"{"destination":"/proc","type":"proc","source":"proc"},"#,
            hostile,
        )
        .replace(
            r#"{"type":"network"}]"#,
            r#"{"type":"network"}],"sysctl":{"net.ipv4.ip_forward":"1","kernel.shmmni":"1234","kernel/domainname":"example.org"}"#,
        );
    let o = b.run(&config);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("mounts[1] (tmpfs → /proc/sys): validate: inside /proc"),
        "{}",
        stderr(&o)
    );
    let o = b.run(&config.replace(
        r#"{"destination":"/proc/sys","type":"tmpfs","source":"tmpfs"},"#,
        "",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n1234\nexample.org\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("host value"),
        host_forward,
        "the host's value changed"
    );
}

#[test]
fn sysctls_outside_the_containers_namespaces_are_refused() {
    if !root_or_skip("sysctls_outside_the_containers_namespaces_are_refused") {
        return;
    }
    let b = Bundle::new("badsysctl");
    for (sysctl, namespaces, expected) in [
        (
            r#"{"vm.swappiness":"10"}"#,
            None,
            "linux.sysctl[0] (vm.swappiness=10): validate: not in a namespace of the container: it would change the host",
        ),
        (
            r#"{"kernel.shmmax":"1","net.ipv4.ip_forward":"1"}"#,
            Some(r#"[{"type":"mount"},{"type":"ipc"}]"#),
            "linux.sysctl[1] (net.ipv4.ip_forward=1): validate: needs a new network namespace",
        ),
        (
            r#"{"kernel.hostname":"x"}"#,
            None,
            "validate: set the hostname field instead",
        ),
        (
            r#"{"net.//.kernel.x":"1"}"#,
            None,
            "validate: not a sysctl name",
        ),
        (
            r#"{"net.ipv4.ip_forward":1}"#,
            None,
            "linux.sysctl[0] (net.ipv4.ip_forward=1): validate: expected a string",
        ),
    ] {
        let mut config = b.config(&["true"], "", "").replace(
            r#"{"type":"network"}]"#,
            &format!(r#"{{"type":"network"}}],"sysctl":{sysctl}"#),
        );
        if let Some(ns) = namespaces {
            config = config.replace(r#"[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]"#, ns).replace(r#""hostname":"box","#, "");
        }
        let o = b.run(&config);
        assert!(stderr(&o).contains(expected), "{sysctl}: {}", stderr(&o));
    }
}

/// CVE-2019-19921, CVE-2023-27561: an image whose `/proc` is a symlink (to a directory of its
/// own) would have procfs mounted where the writes the runtime makes to `/proc` (LSM labels)
/// miss it. proc and sysfs mount points must be real directories reached through no symlink.
#[test]
fn proc_and_sys_mount_points_cannot_be_symlinks() {
    if !root_or_skip("proc_and_sys_mount_points_cannot_be_symlinks") {
        return;
    }
    let before = host_mounts();
    for (target, mount) in [
        (
            "proc",
            r#"{"destination":"/proc","type":"proc","source":"proc"}"#,
        ),
        (
            "sys",
            r#"{"destination":"/sys","type":"sysfs","source":"sysfs"}"#,
        ),
    ] {
        let b = Bundle::new("procsymlink");
        let rootfs = b.dir.join("rootfs");
        let _ = std::fs::remove_dir(rootfs.join(target));
        std::fs::create_dir_all(rootfs.join("evil")).expect("mkdir");
        std::os::unix::fs::symlink("/evil", rootfs.join(target)).expect("symlink");
        let config = b.config(&["sh", "-c", "touch /out/ran"], "", "").replace(
            r#"{"destination":"/proc","type":"proc","source":"proc"}"#,
            mount,
        );
        let o = b.run(&config);
        assert!(!o.status.success(), "{target}");
        let err = stderr(&o);
        assert!(
            err.contains("init failed at mounts[0]")
                && err.contains("(proc and sysfs need a real directory, not a symlink)"),
            "{target}: {err}"
        );
        assert!(!b.out("ran").exists());
        assert_eq!(
            std::fs::read_dir(rootfs.join("evil"))
                .expect("evil")
                .count(),
            0,
            "nothing was mounted or written in the image"
        );
    }
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// CVE-2021-30465, deterministic variant: mount destinations through symlinks that climb out
/// of the rootfs (absolute and relative) land inside it, and the host is untouched.
#[test]
fn destinations_through_climbing_symlinks_stay_inside() {
    if !root_or_skip("destinations_through_climbing_symlinks_stay_inside") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("climb");
    let rootfs = b.dir.join("rootfs");
    std::os::unix::fs::symlink("/../../../etc", rootfs.join("a")).expect("symlink");
    std::os::unix::fs::symlink("../../..", rootfs.join("b")).expect("symlink");
    let marker = format!("ocinit-climb-{}", std::process::id());
    let config = b
        .config(
            &[
                "sh",
                "-c",
                &format!(
                    "grep -c ' /etc/{marker} ' /proc/self/mountinfo; grep -c ' /{marker}y ' /proc/self/mountinfo"
                ),
            ],
            "",
            "",
        )
        .replace(
            r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
            &format!(
                r#"{{"destination":"/out","type":"bind","source":"out","options":["rbind"]}},
                {{"destination":"/a/{marker}","type":"tmpfs","source":"tmpfs"}},
                {{"destination":"/b/{marker}y","type":"tmpfs","source":"tmpfs"}}"#
            ),
        );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n1\n");
    assert!(!std::path::Path::new("/etc").join(&marker).exists());
    assert!(
        !std::path::Path::new("/")
            .join(format!("{marker}y"))
            .exists()
    );
    assert!(rootfs.join("etc").join(&marker).is_dir());
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// CVE-2024-45310, deterministic variant: a missing mount point under a symlink that climbs
/// out of the rootfs (`/a -> /../../../tmp/MARK`, dangling inside the root) is never created on
/// the host: this version refuses to create through a dangling symlink (following it inside
/// the root is issue #3), with an error naming the mount, and the host is unchanged.
#[test]
fn missing_mount_points_are_never_created_on_the_host() {
    if !root_or_skip("missing_mount_points_are_never_created_on_the_host") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("mkdirclimb");
    let rootfs = b.dir.join("rootfs");
    let mark = format!("ocinit-hostmark-{}", std::process::id());
    let host = std::path::Path::new("/tmp").join(&mark);
    let _ = std::fs::remove_dir_all(&host);
    std::os::unix::fs::symlink(format!("/../../../tmp/{mark}"), rootfs.join("a")).expect("symlink");
    // What images do: /etc/resolv.conf -> ../run/resolv.conf, dangling until it is mounted.
    std::fs::create_dir_all(rootfs.join("etc")).expect("mkdir");
    std::os::unix::fs::symlink("../run/resolv.conf", rootfs.join("etc/resolv.conf"))
        .expect("symlink");
    std::fs::write(b.dir.join("file"), "content\n").expect("write");
    for (mount, check, inside) in [
        (
            r#"{"destination":"/a/b/c","type":"tmpfs","source":"tmpfs"}"#,
            "grep -c ' /tmp/MARK/b/c ' /proc/self/mountinfo",
            format!("tmp/{mark}/b/c"),
        ),
        (
            r#"{"destination":"/a/f","type":"bind","source":"file","options":["bind"]}"#,
            "cat /a/f",
            format!("tmp/{mark}/f"),
        ),
        (
            r#"{"destination":"/etc/resolv.conf","type":"bind","source":"file","options":["bind"]}"#,
            "cat /etc/resolv.conf /run/resolv.conf",
            "run/resolv.conf".to_string(),
        ),
    ] {
        let config = b
            .config(&["sh", "-c", &format!("{}; touch /out/ran", check.replace("MARK", &mark))], "", "")
            .replace(
                r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
                &format!(r#"{{"destination":"/out","type":"bind","source":"out","options":["rbind"]}},{mount}"#),
            );
        let o = b.run(&config);
        // The dangling link is followed inside the root: the mount point is made there.
        assert!(o.status.success(), "{mount}: {}", stderr(&o));
        assert!(
            !stdout(&o).is_empty() && !stdout(&o).starts_with('0'),
            "{mount}: {}",
            stdout(&o)
        );
        assert!(
            rootfs.join(&inside).exists(),
            "{inside} missing from the rootfs"
        );
        std::fs::remove_file(b.out("ran")).expect("ran");
        assert!(!host.exists(), "created on the host: {}", host.display());
    }
    // A link loop is an error, not a hang.
    std::os::unix::fs::symlink("/loop2", rootfs.join("loop1")).expect("symlink");
    std::os::unix::fs::symlink("/loop1", rootfs.join("loop2")).expect("symlink");
    let config = b.config(&["sh", "-c", "touch /out/ran"], "", "").replace(
        r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
        r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]},{"destination":"/loop1/x","type":"tmpfs","source":"tmpfs"}"#,
    );
    let o = b.run(&config);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("open: Symbolic link loop"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// CVE-2019-16884, CVE-2023-28642: only a procfs may hide the container's `/proc`, and only
/// runc's list of files inside it may be mounted over, whatever path leads there.
#[test]
fn nothing_but_procfs_and_runcs_files_over_proc() {
    if !root_or_skip("nothing_but_procfs_and_runcs_files_over_proc") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("procmount");
    let fake = b.dir.join("fake");
    std::fs::create_dir_all(fake.join("self/attr")).expect("mkdir");
    std::fs::write(fake.join("cpuinfo"), "fake cpuinfo\n").expect("write");
    std::os::unix::fs::symlink("/proc/sys/kernel", b.dir.join("rootfs/k")).expect("symlink");
    let bind = |source: &std::path::Path, destination: &str| {
        format!(
            r#",{{"destination":{},"type":"bind","source":{},"options":["bind"]}}]"#,
            common::js(destination),
            common::js(source.to_str().expect("utf-8"))
        )
    };
    let with = |mount: String| {
        b.config(&["sh", "-c", "cat /proc/cpuinfo; touch /out/ran"], "", "")
            .replacen(
                r#""options":["rbind"]}]"#,
                &format!(r#""options":["rbind"]}}{mount}"#),
                1,
            )
    };
    for (source, destination, expected) in [
        (
            fake.clone(),
            "/proc",
            "only a procfs may be mounted on /proc",
        ),
        (fake.join("self/attr"), "/proc/self/attr", "inside /proc"),
        (
            fake.join("cpuinfo"),
            "/proc/sys/kernel/core_pattern",
            "inside /proc",
        ),
        // Through a symlink of the image: the target is on the container's procfs.
        (fake.join("cpuinfo"), "/k/core_pattern", "inside /proc"),
        (
            fake.join("cpuinfo"),
            "/x/../proc/sys/../sys/kernel/core_pattern",
            "inside /proc",
        ),
    ] {
        let o = b.run(&with(bind(&source, destination)));
        assert!(!o.status.success(), "{destination}: ran");
        assert!(
            stderr(&o).contains(expected),
            "{destination}: {}",
            stderr(&o)
        );
        assert!(!b.out("ran").exists(), "{destination}: the process ran");
        assert_eq!(
            before,
            host_mounts(),
            "{destination}: host mount table changed"
        );
    }
    // What lxcfs does is allowed, and so is a procfs over /proc.
    let o = b.run(&with(bind(&fake.join("cpuinfo"), "/proc/cpuinfo")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "fake cpuinfo\n");
    let o = b.run(&with(bind(std::path::Path::new("/proc"), "/proc")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// A tmpfs on an existing directory takes its mode unless the options set one (runc).
#[test]
fn tmpfs_keeps_the_mode_of_its_directory() {
    if !root_or_skip("tmpfs_keeps_the_mode_of_its_directory") {
        return;
    }
    let b = Bundle::new("tmpfsmode");
    use std::os::unix::fs::PermissionsExt;
    for (dir, mode) in [("data", 0o700), ("spool", 0o1730)] {
        let path = b.dir.join("rootfs").join(dir);
        std::fs::create_dir_all(&path).expect("mkdir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let mounts = r#",{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["nosuid"]},
        {"destination":"/spool","type":"tmpfs","source":"tmpfs","options":["mode=755","size=1m"]},
        {"destination":"/fresh","type":"tmpfs","source":"tmpfs"},
        {"destination":"/fresh/s","type":"tmpfs","source":"tmpfs","options":["mode=710"]},
        {"destination":"/fresh/s","type":"tmpfs","source":"tmpfs"}]"#;
    // /fresh/s is made in the new tmpfs without a look first; the second one finds it there
    // (the guess is wrong, so it looks) and keeps its mode.
    let config = b
        .config(
            &[
                "stat", "-c", "%a %n", "/data", "/spool", "/fresh", "/fresh/s",
            ],
            "",
            "",
        )
        .replacen(
            r#""options":["rbind"]}]"#,
            &format!(r#""options":["rbind"]}}{mounts}"#),
            1,
        );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    // An explicit mode wins; a directory we create has no mode to keep (tmpfs's own 1777).
    assert_eq!(
        stdout(&o),
        "700 /data\n755 /spool\n1777 /fresh\n710 /fresh/s\n"
    );
}

/// `cgroup` (as `runc spec` writes it) and `cgroup2` mounts: the container sees its own
/// cgroups, read-only. On a v1 or hybrid host, a tmpfs with one directory per hierarchy of the
/// init's `/proc/self/cgroup`, each the init's own cgroup there; on a unified host, cgroup2.
#[test]
fn cgroup_mounts_show_the_containers_own_cgroups() {
    if !root_or_skip("cgroup_mounts_show_the_containers_own_cgroups") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("cgroupmount");
    let mount = |kind: &str| {
        format!(
            r#",{{"destination":"/sys/fs/cgroup","type":"{kind}","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}}]"#
        )
    };
    let script = "grep ' /sys/fs/cgroup' /proc/self/mountinfo; touch /sys/fs/cgroup/x 2>/dev/null || echo read-only";
    let with = |kind: &str| {
        b.config(&["sh", "-c", script], "", "").replacen(
            r#""options":["rbind"]}]"#,
            &format!(r#""options":["rbind"]}}{}"#, mount(kind)),
            1,
        )
    };
    // Our own cgroups, as ocirun (which makes none) leaves the container in them.
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("cgroup");
    let unified = !own.lines().any(|l| !l.starts_with("0::"));
    let o = b.run(&with("cgroup"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.ends_with("read-only\n"), "{out}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.contains(" - "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let find = |point: &str| {
        lines
            .iter()
            .find(|f| f[4] == point)
            .unwrap_or_else(|| panic!("{point} in {out}"))
    };
    if unified {
        let top = find("/sys/fs/cgroup");
        assert!(
            top.contains(&"cgroup2") && top[5].starts_with("ro,"),
            "{out}"
        );
    } else {
        let top = find("/sys/fs/cgroup");
        assert!(top.contains(&"tmpfs") && top[5].starts_with("ro,"), "{out}");
        for line in own.lines() {
            let mut f = line.splitn(3, ':').skip(1);
            let (controllers, path) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
            let name = match controllers {
                "" => "unified",
                c => c.strip_prefix("name=").unwrap_or(c),
            };
            let m = find(&format!("/sys/fs/cgroup/{name}"));
            // The mount's root in the hierarchy is our cgroup there; read-only, nosuid, ...
            assert_eq!(m[3], path, "{name}: {out}");
            assert!(m[5].starts_with("ro,nosuid,nodev,noexec"), "{name}: {out}");
        }
    }
    // cgroup2 asked for by name: a cgroup2 mount on any host.
    let o = b.run(&with("cgroup2"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(" - cgroup2 cgroup2 "), "{}", stdout(&o));
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// `linux.mountLabel`: without SELinux (this kernel) a label is a clear error before anything
/// is mounted (runc leaves it out silently); an empty one is no label. The `context=` data
/// itself is a unit test (`mounts::tests`).
#[test]
fn mount_label_needs_selinux() {
    if !root_or_skip("mount_label_needs_selinux") {
        return;
    }
    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        eprintln!("SKIP: SELinux is enabled here; this test covers kernels without it");
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("mountlabel");
    let with = |label: &str| {
        b.config(&["sh", "-c", "touch /out/ran"], "", "").replacen(
            r#""namespaces""#,
            &format!(r#""mountLabel":{label},"namespaces""#),
            1,
        )
    };
    let o = b.run(&with(r#""""#));
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(b.out("ran")).expect("ran");
    for (label, expected) in [
        (
            r#""system_u:object_r:container_file_t:s0:c1,c2""#,
            "linux.mountLabel (system_u:object_r:container_file_t:s0:c1,c2): validate: SELinux is not enabled on this kernel",
        ),
        (
            r#""a\"b""#,
            "validate: not a SELinux context (no \" or escapes)",
        ),
        ("7", "linux.mountLabel (7): validate: expected a string"),
    ] {
        let o = b.run(&with(label));
        assert!(!o.status.success(), "{label}: ran");
        assert!(stderr(&o).contains(expected), "{label}: {}", stderr(&o));
        assert!(!b.out("ran").exists(), "{label}: the process ran");
    }
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// stdio that is the host's `/dev/null` (ocirun's `output()` gives stdin that) is the
/// container's own null device by the time the process runs (runc's `reOpenDevNull`).
#[test]
fn stdio_on_the_hosts_dev_null_moves_to_the_containers() {
    if !root_or_skip("stdio_on_the_hosts_dev_null_moves_to_the_containers") {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let b = Bundle::new("devnull");
    let o = b.run(&b.config(
        &[
            "sh",
            "-c",
            "stat -L -c '%d:%i %t:%T' /proc/self/fd/0 /dev/null",
        ],
        "",
        "",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], lines[1], "stdin is not the container's /dev/null");
    assert!(lines[0].ends_with(" 1:3"), "{out}");
    let host = std::fs::metadata("/dev/null").expect("stat");
    let host_id = format!("{}:{}", host.dev(), host.ino());
    assert!(
        !lines[0].starts_with(&host_id),
        "still the host's /dev/null: {out}"
    );
}

/// CVE-2021-30465, the racy variant: while containers start, another process keeps swapping
/// the rootfs's `/mnt` between a directory and a symlink that climbs to a host directory. The
/// mount targets are resolved inside the root and mounted through their fds, so every start
/// either mounts inside the rootfs or fails; the host directory never gets anything.
#[test]
fn a_racing_symlink_swap_never_reaches_the_host() {
    if !root_or_skip("a_racing_symlink_swap_never_reaches_the_host") {
        return;
    }
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let before = host_mounts();
    let b = Bundle::new("race");
    let rootfs = b.dir.join("rootfs");
    let victim = b.dir.join("victim");
    std::fs::create_dir_all(&victim).expect("mkdir");
    std::fs::create_dir_all(rootfs.join("mnt")).expect("mkdir");
    let climb = format!("/../../../../../../..{}", victim.display());
    let config = b.config(&["true"], "", "").replace(
        r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
        r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]},
           {"destination":"/mnt/x","type":"tmpfs","source":"tmpfs"},
           {"destination":"/mnt/f","type":"bind","source":"/etc/hostname","options":["bind"]}"#,
    );
    b.write_config(&config);
    let stop = Arc::new(AtomicBool::new(false));
    let racer = {
        let (stop, rootfs) = (stop.clone(), rootfs.clone());
        std::thread::spawn(move || {
            let (mnt, aside) = (rootfs.join("mnt"), rootfs.join("mnt.dir"));
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(&mnt, &aside);
                let _ = std::os::unix::fs::symlink(&climb, &mnt);
                std::thread::yield_now();
                let _ = std::fs::remove_file(&mnt);
                let _ = std::fs::rename(&aside, &mnt);
                swaps += 1;
            }
            swaps
        })
    };
    let bundle = b.dir.to_str().expect("utf-8");
    let (mut started, mut failed) = (0, 0);
    for _ in 0..150 {
        let o = b.ocirun(&["run", "-b", bundle, &b.id]);
        if o.status.success() {
            started += 1;
        } else {
            failed += 1;
        }
        assert_eq!(
            std::fs::read_dir(&victim).expect("victim").count(),
            0,
            "something was created in the host directory"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = racer.join().expect("racer");
    eprintln!("{started} started, {failed} failed, {swaps} swaps");
    assert!(swaps > 100, "the race did not run");
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// Where `openat2` is missing (before Linux 5.6, or refused with ENOSYS by a seccomp profile),
/// the init resolves paths in userspace with the same guarantees: every `openat2` of these runs
/// fails with ENOSYS (strace), and climbing and dangling symlinks still land inside the root,
/// a symlinked `/proc` is still refused, sysctls are still written beneath the private procfs.
#[test]
fn without_openat2_the_walk_keeps_the_guarantees() {
    if !root_or_skip("without_openat2_the_walk_keeps_the_guarantees") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("walk");
    let rootfs = b.dir.join("rootfs");
    let marker = format!("ocinit-walk-{}", std::process::id());
    std::os::unix::fs::symlink("/../../../etc", rootfs.join("a")).expect("symlink");
    std::os::unix::fs::symlink("../../..", rootfs.join("b")).expect("symlink");
    std::fs::create_dir_all(rootfs.join("etc")).expect("mkdir");
    std::os::unix::fs::symlink("../run/resolv.conf", rootfs.join("etc/resolv.conf"))
        .expect("symlink");
    std::fs::write(b.dir.join("file"), "content\n").expect("write");
    let script = format!(
        "grep -c ' /etc/{marker} ' /proc/self/mountinfo; grep -c ' /{marker}y ' /proc/self/mountinfo; \
         cat /run/resolv.conf; cat /proc/sys/kernel/shmmni"
    );
    let config = b
        .config(&["sh", "-c", &script], "", "")
        .replace(
            r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
            &format!(
                r#"{{"destination":"/out","type":"bind","source":"out","options":["rbind"]}},
                {{"destination":"/a/{marker}","type":"tmpfs","source":"tmpfs"}},
                {{"destination":"/b/{marker}y","type":"tmpfs","source":"tmpfs"}},
                {{"destination":"/etc/resolv.conf","type":"bind","source":"file","options":["bind"]}}"#
            ),
        )
        .replace(
            r#"{"type":"network"}]"#,
            r#"{"type":"network"}],"sysctl":{"kernel.shmmni":"2345"}"#,
        );
    b.write_config(&config);
    let trace = b.dir.join("strace.out");
    let run = |config: &str| {
        b.write_config(config);
        Command::new("strace")
            .args([
                "-f",
                "-qq",
                "-e",
                "trace=openat2",
                "-e",
                "inject=openat2:error=ENOSYS",
                "-o",
            ])
            .arg(&trace)
            .args(b.run_command())
            .output()
            .expect("strace")
    };
    let o = run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n1\ncontent\n2345\n");
    let traced = std::fs::read_to_string(&trace).expect("strace output");
    assert!(
        traced.contains("ENOSYS"),
        "openat2 was not refused:\n{traced}"
    );
    assert!(!std::path::Path::new("/etc").join(&marker).exists());
    assert!(rootfs.join("etc").join(&marker).is_dir());
    assert!(rootfs.join("run/resolv.conf").exists());

    // A /proc that is a symlink is still refused (RESOLVE_NO_SYMLINKS).
    let _ = std::fs::remove_dir(rootfs.join("proc"));
    std::fs::create_dir_all(rootfs.join("evil")).expect("mkdir");
    std::os::unix::fs::symlink("/evil", rootfs.join("proc")).expect("symlink");
    let o = run(&b.config(&["sh", "-c", "touch /out/ran"], "", ""));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("(proc and sysfs need a real directory, not a symlink)"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// Mount shapes runc accepts: overlay, a destination given twice (the later on top), `..` in a
/// destination (resolved inside the root); and the errors: an overlong destination, data the
/// kernel rejects, each naming `mounts[i]`.
#[test]
fn overlay_stacked_and_dotdot_destinations() {
    if !root_or_skip("overlay_stacked_and_dotdot_destinations") {
        return;
    }
    let before = host_mounts();
    let b = Bundle::new("mountshapes");
    let (lower, upper, work) = (b.dir.join("lower"), b.dir.join("upper"), b.dir.join("work"));
    for d in [&lower, &upper, &work] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(lower.join("from-lower"), "lower\n").expect("write");
    let overlay = format!(
        r#"{{"destination":"/merged","type":"overlay","source":"overlay","options":["lowerdir={}","upperdir={}","workdir={}"]}},
           {{"destination":"/d","type":"tmpfs","source":"tmpfs","options":["size=1m"]}},
           {{"destination":"/d","type":"tmpfs","source":"tmpfs","options":["size=2m"]}},
           {{"destination":"/x/../y","type":"tmpfs","source":"tmpfs"}}"#,
        lower.display(),
        upper.display(),
        work.display()
    );
    let with = |extra: &str, script: &str| {
        b.config(&["sh", "-c", script], "", "").replace(
            r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
            &format!(r#"{{"destination":"/out","type":"bind","source":"out","options":["rbind"]}},{extra}"#),
        )
    };
    let o = b.run(&with(
        &overlay,
        "cat /merged/from-lower; echo new > /merged/written; grep -c ' /d ' /proc/self/mountinfo; \
         grep ' /d ' /proc/self/mountinfo | tail -1 | grep -o 'size=2048k'; grep -c ' /y ' /proc/self/mountinfo",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "lower\n2\nsize=2048k\n1\n");
    assert_eq!(
        std::fs::read_to_string(upper.join("written")).expect("upper"),
        "new\n"
    );
    assert!(b.dir.join("rootfs/y").is_dir() && !b.dir.join("rootfs/x").exists());
    let long = format!("/{}", "a/".repeat(2100));
    for (extra, expected) in [
        (
            format!(r#"{{"destination":"{long}","type":"tmpfs","source":"tmpfs"}}"#),
            "mounts[2].destination",
        ),
        (
            r#"{"destination":"/t","type":"tmpfs","source":"tmpfs","options":["size=lots"]}"#
                .to_string(),
            "init failed at mounts[2] (tmpfs → /t): mount: Invalid argument",
        ),
    ] {
        let o = b.run(&with(&extra, "touch /out/ran"));
        assert!(!o.status.success(), "{expected}: ran");
        assert!(stderr(&o).contains(expected), "{expected}: {}", stderr(&o));
        assert!(!b.out("ran").exists());
    }
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// A read-only tmpfs is made read-only after every mount is in place (runc), so mounts below it
/// can still make their mount points in it.
#[test]
fn read_only_tmpfs_takes_mounts_below_it() {
    if !root_or_skip("read_only_tmpfs_takes_mounts_below_it") {
        return;
    }
    let b = Bundle::new("rotmpfs");
    let config = b
        .config(
            &[
                "sh",
                "-c",
                "touch /t/x 2>/dev/null || echo t-read-only; touch /t/sub/y && echo sub-writable; \
                 grep ' /t ' /proc/self/mountinfo | cut -d' ' -f6",
            ],
            "",
            "",
        )
        .replace(
            r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]}"#,
            r#"{"destination":"/out","type":"bind","source":"out","options":["rbind"]},
               {"destination":"/t","type":"tmpfs","source":"tmpfs","options":["ro","nosuid"]},
               {"destination":"/t/sub","type":"tmpfs","source":"tmpfs"}"#,
        );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "t-read-only\nsub-writable\nro,nosuid,relatime\n"
    );
}

#[test]
fn detaching_the_old_root_never_unmounts_the_hosts_mounts() {
    // The old root is detached after pivot_root. Its copies of host mounts that are shared
    // peers would carry that unmount to the host unless they are slaves first: prepare() makes
    // them so for the default and the recursive values; for the others the pivot makes them
    // rslave itself (runc). A host mount below a shared one must survive all. (Seen to fail
    // with the pivot's own rslave skipped for `private`.)
    if !root_or_skip("detaching_the_old_root_never_unmounts_the_hosts_mounts") {
        return;
    }
    let base = std::env::temp_dir().join(format!("ocinit-prop-{}", std::process::id()));
    let sub = base.join("sub");
    std::fs::create_dir_all(&base).expect("mkdir");
    let sh = |script: &str| {
        let o = Command::new("sh")
            .args(["-c", script])
            .output()
            .expect("sh");
        assert!(o.status.success(), "{script}: {}", stderr(&o));
    };
    let base_s = base.display();
    sh(&format!(
        "mount -t tmpfs ocinit-prop {base_s} && mount --make-shared {base_s} && mkdir {base_s}/sub && mount -t tmpfs ocinit-prop-sub {base_s}/sub"
    ));
    let before = host_mounts();
    let mut failures = Vec::new();
    // (shared, rshared and runbindable are refused at decode: tests/matrix.rs.)
    for propagation in ["", "private", "rprivate", "slave", "rslave"] {
        let b = Bundle::new("propagation");
        let mut config = b.config(
            &[
                "sh",
                "-c",
                "grep -c ocinit-prop-sub /proc/self/mountinfo; true",
            ],
            "",
            "",
        );
        if !propagation.is_empty() {
            config = config.replace(
                r#"{"type":"network"}]"#,
                &format!(r#"{{"type":"network"}}],"rootfsPropagation":"{propagation}""#),
            );
        }
        let o = b.run(&config);
        // The container's root holds no copy of the host's mounts (the old root is gone).
        if !o.status.success() || stdout(&o) != "0\n" {
            failures.push(format!("{propagation}: {} {}", stdout(&o), stderr(&o)));
        }
        let now = host_mounts();
        if now != before {
            failures.push(format!(
                "{propagation}: the host's mount table changed:\n{now}"
            ));
        }
    }
    let still_mounted = host_mounts().contains("ocinit-prop-sub");
    sh(&format!(
        "umount -l {} ; umount -l {base_s}; rmdir {base_s}",
        sub.display()
    ));
    assert!(still_mounted, "the host's submount was unmounted");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// `tmpcopyup` (runc): the tmpfs starts with a copy of the directory it covers, every kind of
/// entry with its mode and owner; the image itself is never written.
#[test]
fn tmpcopyup_copies_the_directory_into_the_tmpfs() {
    if !root_or_skip("tmpcopyup_copies_the_directory_into_the_tmpfs") {
        return;
    }
    use std::os::unix::fs::{PermissionsExt, chown, symlink};
    let before = host_mounts();
    let b = Bundle::new("copyup");
    let data = b.dir.join("rootfs/data");
    std::fs::create_dir_all(data.join("sub/deeper")).expect("mkdir");
    std::fs::write(data.join("sub/f"), "image\n").expect("write");
    std::fs::write(data.join("suid"), "").expect("write");
    symlink("f", data.join("sub/l")).expect("symlink");
    symlink("/etc/passwd", data.join("abs")).expect("symlink");
    let ok = Command::new("mknod")
        .arg(data.join("null"))
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(ok.success());
    let ok = Command::new("mkfifo")
        .arg(data.join("p"))
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    for (path, mode) in [
        ("", 0o1777),
        ("sub", 0o750),
        ("sub/f", 0o640),
        ("suid", 0o4755),
        ("p", 0o600),
    ] {
        std::fs::set_permissions(data.join(path), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }
    chown(data.join("sub"), Some(1000), Some(1000)).expect("chown");
    chown(data.join("sub/f"), Some(1000), Some(1001)).expect("chown");
    std::os::unix::fs::lchown(data.join("sub/l"), Some(1002), Some(1002)).expect("lchown");
    let script = "stat -f -c %T /data; cd /data && for e in . abs null p sub sub/deeper sub/f sub/l suid; do stat -c '%n %F %a %u:%g' $e; done; \
                  readlink sub/l; readlink abs; cat sub/f; echo container > sub/f; cat sub/f";
    let mounts = r#",{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","nosuid"]}]"#;
    let config = b.config(&["sh", "-c", script], "", "").replacen(
        r#""options":["rbind"]}]"#,
        &format!(r#""options":["rbind"]}}{mounts}"#),
        1,
    );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "tmpfs\n. directory 1777 0:0\nabs symbolic link 777 0:0\nnull character special file 644 0:0\n\
         p fifo 600 0:0\nsub directory 750 1000:1000\nsub/deeper directory 755 0:0\n\
         sub/f regular file 640 1000:1001\nsub/l symbolic link 777 1002:1002\nsuid regular empty file 4755 0:0\n\
         f\n/etc/passwd\nimage\ncontainer\n"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("sub/f")).expect("read"),
        "image\n",
        "the image is untouched"
    );
    // Read-only: copied first, then made read-only with the rest.
    let ro = config
        .replace(r#"["tmpcopyup","nosuid"]"#, r#"["tmpcopyup","ro"]"#)
        .replace(
            script,
            "cat /data/sub/f; touch /data/x 2>/dev/null || echo read-only",
        );
    let o = b.run(&ro);
    assert_eq!(stdout(&o), "image\nread-only\n", "{}", stderr(&o));
    // A copy that fails (the tmpfs is too small) is an error; the process never runs.
    std::fs::write(data.join("big"), vec![b'x'; 64 << 10]).expect("write");
    let small = config
        .replace(r#"["tmpcopyup","nosuid"]"#, r#"["tmpcopyup","size=16k"]"#)
        .replace(script, "touch /out/ran");
    let o = b.run(&small);
    assert!(
        stderr(&o).contains("mounts[2] (tmpfs → /data): copy: No space left on device (tmpcopyup)"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    // Deeper than the copy goes: an error that says so.
    std::fs::remove_file(data.join("big")).expect("rm");
    let deep: std::path::PathBuf = (0..40).map(|_| "d").collect();
    std::fs::create_dir_all(data.join(&deep)).expect("mkdir");
    let o = b.run(&config.replace(script, "touch /out/ran"));
    assert!(
        stderr(&o).contains("copy: Symbolic link loop (tmpcopyup: deeper than 32 levels"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    std::fs::remove_dir_all(data.join("d")).expect("rm");
    // Only a tmpfs can take it.
    let bad = config.replace(
        r#"{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","nosuid"]}"#,
        r#"{"destination":"/data","type":"bind","source":"out","options":["bind","tmpcopyup"]}"#,
    );
    let o = b.run(&bad);
    assert!(
        stderr(&o).contains("mounts[2] (out → /data): validate: tmpcopyup is for tmpfs mounts"),
        "{}",
        stderr(&o)
    );
    assert_eq!(before, host_mounts(), "host mount table changed");
}
