//! User namespaces: the init unshares one, the parent writes its id maps, the container runs
//! as root inside. Rootless: `ocirun` run by an unprivileged user.

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use common::{Bundle, root_or_skip, stderr, stdout};

const USERNS: &str = r#""linux":{"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]"#;
const PLAIN: &str = r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]"#;

fn with_maps(config: &str, host: u32, size: u32) -> String {
    let maps = format!(
        r#"{USERNS},"uidMappings":[{{"containerID":0,"hostID":{host},"size":{size}}}],"gidMappings":[{{"containerID":0,"hostID":{host},"size":{size}}}]"#
    );
    config.replace(PLAIN, &maps)
}

fn chown_tree(path: &std::path::Path, id: u32) {
    let ok = Command::new("chown")
        .arg("-R")
        .arg(format!("{id}:{id}"))
        .arg(path)
        .status()
        .expect("chown");
    assert!(ok.success());
}

#[test]
fn rootless_run_by_an_unprivileged_user() {
    if !root_or_skip("rootless_run_by_an_unprivileged_user") {
        return;
    }
    let b = Bundle::new("rootless");
    let nobody = 65534;
    let script = "id; cat /proc/self/uid_map /proc/self/gid_map; grep CapEff /proc/self/status; hostname; echo hi > /out/x";
    b.write_config(&with_maps(
        &b.config(&["sh", "-c", script], "", ""),
        nobody,
        1,
    ));
    // The bundle belongs to the user, as a rootless bundle does.
    for d in ["rootfs", "out", "state"] {
        chown_tree(&b.dir.join(d), nobody);
    }
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(b.run_command())
        .output()
        .expect("setpriv");
    assert!(o.status.success(), "{}", stderr(&o));
    let out: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        out,
        [
            "uid=0 gid=0",
            "0 65534 1",
            "0 65534 1",
            "CapEff: 000001ffffffffff",
            "box"
        ]
    );
    let meta = std::fs::metadata(b.out("x")).expect("written by the container");
    assert_eq!(
        (meta.uid(), meta.gid()),
        (nobody, nobody),
        "container root is the user on the host"
    );
}

#[test]
fn user_namespace_with_an_id_range() {
    if !root_or_skip("user_namespace_with_an_id_range") {
        return;
    }
    let b = Bundle::new("idrange");
    let script = "id; cat /proc/self/uid_map; touch /out/by-1000";
    let config = with_maps(
        &b.config(
            &["sh", "-c", script],
            r#","user":{"uid":1000,"gid":1000}"#,
            "",
        ),
        100_000,
        65536,
    );
    chown_tree(&b.dir.join("rootfs"), 100_000);
    chown_tree(&b.dir.join("out"), 101_000);
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    let out: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(out, ["uid=1000 gid=1000", "0 100000 65536"]);
    assert_eq!(
        std::fs::metadata(b.out("by-1000")).expect("file").uid(),
        101_000
    );
}

#[test]
fn id_mappings_are_validated() {
    if !root_or_skip("id_mappings_are_validated") {
        return;
    }
    let b = Bundle::new("badmaps");
    let base = b.config(&["true"], "", "");
    let cases = [
        (base.replace(PLAIN, USERNS), "linux.uidMappings: validate: a user namespace needs id mappings"),
        (
            base.replace(PLAIN, &format!(r#"{PLAIN},"uidMappings":[{{"containerID":0,"hostID":1,"size":1}}]"#)),
            "linux.uidMappings: validate: id mappings need a new user namespace",
        ),
        (with_maps(&base, 100_000, 0), "linux.uidMappings[0].size (0): validate: zero"),
        (
            base.replace(PLAIN, &format!(r#"{USERNS},"uidMappings":[{{"containerID":0,"hostID":-5,"size":1}}],"gidMappings":[]"#)),
            "linux.uidMappings[0].hostID (-5): validate: out of range for a 32-bit unsigned id",
        ),
    ];
    for (config, expected) in cases {
        let o = b.run(&config);
        assert!(stderr(&o).contains(expected), "{expected}: {}", stderr(&o));
    }
}

/// In a user namespace `mknod` is refused: a device of `linux.devices` is the host's node at
/// the same path, bind-mounted (runc). The host's /dev/net/tun must exist.
#[test]
fn devices_in_a_user_namespace_are_bound_from_the_host() {
    if !root_or_skip("devices_in_a_user_namespace_are_bound_from_the_host") {
        return;
    }
    assert!(
        std::path::Path::new("/dev/net/tun").exists(),
        "the host's /dev/net/tun is needed"
    );
    let b = Bundle::new("usernsdev");
    let config = with_maps(
        &b.config(
            &["sh", "-c", "stat -c '%F %t:%T' /dev/net/tun; grep -c ' /dev/net/tun ' /proc/self/mountinfo"],
            "",
            "",
        ),
        100_000,
        65536,
    )
    .replacen(
        r#"{"type":"network"}]"#,
        r#"{"type":"network"}],"devices":[{"path":"/dev/net/tun","type":"c","major":10,"minor":200}]"#,
        1,
    );
    chown_tree(&b.dir.join("rootfs"), 100_000);
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "character special file a:c8\n1\n");
}

/// In a user namespace, flags of a bind source that came from the host are locked: a read-only
/// bind remount keeps them instead of failing with EPERM (runc).
#[test]
fn bind_remount_keeps_locked_flags() {
    if !root_or_skip("bind_remount_keeps_locked_flags") {
        return;
    }
    let b = Bundle::new("lockedflags");
    let src = b.dir.join("shm-src");
    std::fs::create_dir_all(&src).expect("mkdir");
    chown_tree(&b.dir.join("rootfs"), 100_000);
    // A host mount with nosuid and nodev, as /dev/shm is.
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "nosuid,nodev,noexec,size=1m", "tmpfs"])
        .arg(&src)
        .status()
        .expect("mount");
    assert!(ok.success());
    let mount = format!(
        r#",{{"destination":"/mnt","type":"bind","source":{},"options":["bind","ro"]}}]"#,
        common::js(src.to_str().expect("utf-8"))
    );
    let config = with_maps(
        &b.config(&["sh", "-c", "grep ' /mnt ' /proc/self/mountinfo"], "", "")
            .replacen(
                r#""options":["rbind"]}]"#,
                &format!(r#""options":["rbind"]}}{mount}"#),
                1,
            ),
        100000,
        65536,
    );
    let o = b.run(&config);
    let _ = Command::new("umount").arg(&src).status();
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    let opts = line.split_whitespace().nth(5).unwrap_or_default();
    for want in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(opts.split(',').any(|o| o == want), "{want} in {line}");
    }
}

/// A user namespace without a cgroup namespace of its own may not mount cgroup2 (EPERM): the
/// host's hierarchy is bound instead (runc's fallback), read-only.
#[test]
fn cgroup2_falls_back_to_a_bind_in_a_user_namespace() {
    if !root_or_skip("cgroup2_falls_back_to_a_bind_in_a_user_namespace") {
        return;
    }
    let b = Bundle::new("cgroup2bind");
    chown_tree(&b.dir.join("rootfs"), 100_000);
    let mount = r#",{"destination":"/sys/fs/cgroup","type":"cgroup2","source":"cgroup","options":["nosuid","noexec","nodev","ro"]}]"#;
    let config = with_maps(
        &b.config(
            &["sh", "-c", "grep ' /sys/fs/cgroup ' /proc/self/mountinfo"],
            "",
            "",
        )
        .replacen(
            r#""options":["rbind"]}]"#,
            &format!(r#""options":["rbind"]}}{mount}"#),
            1,
        ),
        100_000,
        65536,
    );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    let f: Vec<&str> = line.split_whitespace().collect();
    assert!(
        f.len() > 9 && f[5].starts_with("ro,") && line.contains(" - cgroup2 "),
        "{line}"
    );
}
