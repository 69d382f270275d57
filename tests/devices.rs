//! `linux.devices`: nodes the config asks for, checked from inside the container; entries the
//! image already has must be that device; every bad entry is refused with its field.

mod common;

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

/// The standard test config with `linux.devices` = `devices`.
fn with_devices(b: &Bundle, args: &[&str], devices: &str) -> String {
    b.config(args, "", "").replacen(
        r#"{"type":"network"}]"#,
        &format!(r#"{{"type":"network"}}],"devices":{devices}"#),
        1,
    )
}

#[test]
fn devices_from_the_config_are_created_as_asked() {
    if !root_or_skip("devices_from_the_config_are_created_as_asked") {
        return;
    }
    let b = Bundle::new("devices");
    let devices = r#"[
        {"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":384,"uid":1000,"gid":1001},
        {"path":"/dev/net/tun","type":"c","major":10,"minor":200},
        {"path":"/dev/loopx","type":"b","major":7,"minor":9,"fileMode":432},
        {"path":"/dev/pipe","type":"p","fileMode":420},
        {"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438,"uid":5,"gid":6}]"#;
    let script =
        "for d in fuse net/tun loopx pipe null; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done";
    let o = b.run(&with_devices(&b, &["sh", "-c", script], devices));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "/dev/fuse character special file a:e5 600 1000:1001\n\
         /dev/net/tun character special file a:c8 666 0:0\n\
         /dev/loopx block special file 7:9 660 0:0\n\
         /dev/pipe fifo 0:0 644 0:0\n\
         /dev/null character special file 1:3 666 5:6\n"
    );
}

#[test]
fn an_image_entry_in_the_way_is_refused() {
    // The image has a regular file where the config wants a device: using it (as runc does,
    // ignoring EEXIST) would hand the container a file it controls under a device's name.
    if !root_or_skip("an_image_entry_in_the_way_is_refused") {
        return;
    }
    let b = Bundle::new("devclash");
    std::fs::write(b.dir.join("rootfs/dev/fuse"), "not a device").expect("write");
    let before = host_mounts();
    let o = b.run(&with_devices(
        &b,
        &["sh", "-c", "touch /out/ran"],
        r#"[{"path":"/dev/fuse","type":"c","major":10,"minor":229}]"#,
    ));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "init failed at linux.devices[0]: mknod: File exists (exists in the rootfs and is not this device)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    assert_eq!(before, host_mounts());
}

#[test]
fn bad_device_entries_are_refused_with_their_field() {
    if !root_or_skip("bad_device_entries_are_refused_with_their_field") {
        return;
    }
    let b = Bundle::new("baddevices");
    for (devices, want) in [
        (r#"{}"#, "linux.devices: validate: expected an array"),
        (
            r#"[7]"#,
            "linux.devices[0] (7): validate: expected an object",
        ),
        (
            r#"[{"type":"c","major":1,"minor":1}]"#,
            "linux.devices[0].path: validate: missing",
        ),
        (
            r#"[{"path":"dev/x","type":"c","major":1,"minor":1}]"#,
            "linux.devices[0].path (dev/x): validate: not a path under /dev/",
        ),
        (
            r#"[{"path":"/etc/x","type":"c","major":1,"minor":1}]"#,
            "linux.devices[0].path (/etc/x): validate: not a path under /dev/",
        ),
        (
            r#"[{"path":"/dev/../etc/passwd","type":"c","major":1,"minor":1}]"#,
            "linux.devices[0].path (/dev/../etc/passwd): validate: not a path under /dev/",
        ),
        (
            r#"[{"path":"/dev/x","type":"z","major":1,"minor":1}]"#,
            "linux.devices[0].type (z): validate: not c, u, b or p",
        ),
        (
            r#"[{"path":"/dev/x","type":"c","minor":1}]"#,
            "linux.devices[0].major: validate: missing",
        ),
        (
            r#"[{"path":"/dev/x","type":"c","major":-1,"minor":1}]"#,
            "linux.devices[0].major (-1): validate: out of range for a 32-bit unsigned id",
        ),
        (
            r#"[{"path":"/dev/x","type":"c","major":1,"minor":1,"fileMode":8192}]"#,
            "linux.devices[0].fileMode (8192): validate: above 0o7777",
        ),
        (
            r#"[{"path":"/dev/x\u0000y","type":"c","major":1,"minor":1}]"#,
            "linux.devices[0].path",
        ),
    ] {
        let o = b.run(&with_devices(&b, &["sh", "-c", "touch /out/ran"], devices));
        assert!(!o.status.success(), "{devices}");
        assert!(
            stderr(&o).contains(want),
            "{devices}: want {want:?} in {}",
            stderr(&o)
        );
        assert!(!b.out("ran").exists());
    }
    // Devices need the container's own mount namespace (a /dev of its own).
    let config = with_devices(
        &b,
        &["true"],
        r#"[{"path":"/dev/x","type":"c","major":1,"minor":3}]"#,
    )
    .replace(r#"{"type":"pid"},{"type":"mount"},"#, "")
    .replace(r#""mounts":["#, r#""mounts":[],"x":["#);
    let o = b.run(&config);
    assert!(
        stderr(&o).contains("linux.devices: validate: needs a new mount namespace"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn modes_do_not_depend_on_the_parents_umask() {
    // The init creates with umask 0: default nodes are 0666 and new mount points 0755 even when
    // the runtime runs with umask 077; the process gets process.user.umask (default 022).
    if !root_or_skip("modes_do_not_depend_on_the_parents_umask") {
        return;
    }
    let b = Bundle::new("umask");
    let script = "stat -c '%n %a' /dev/null /dev/zero /dev/tty /dev/shm /made; umask";
    let config = b.config(&["sh", "-c", script], "", "").replace(
        r#"{"destination":"/proc","type":"proc","source":"proc"}"#,
        r#"{"destination":"/proc","type":"proc","source":"proc"},
           {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["mode=755"]},
           {"destination":"/dev/shm","type":"tmpfs","source":"shm"},
           {"destination":"/made/deep","type":"tmpfs","source":"tmpfs"}"#,
    );
    b.write_config(&config);
    let run = b.run_command();
    let o = std::process::Command::new("sh")
        .args(["-c", "umask 077; exec \"$@\"", "sh"])
        .args(run)
        .output()
        .expect("spawn");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "/dev/null 666\n/dev/zero 666\n/dev/tty 666\n/dev/shm 1777\n/made 755\n0022\n"
    );
}
