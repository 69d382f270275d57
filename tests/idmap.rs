//! Idmapped mounts (`mounts[i]` with `idmap`/`ridmap`, or `uidMappings`/`gidMappings` of its
//! own): the owners seen from inside the container, with and without a user namespace, the
//! recursive and non-recursive forms, and every bad input refused by name with nothing left
//! behind.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

const PLAIN: &str = r#""linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]"#;
const USERNS: &str = r#""linux":{"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}],"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]"#;
const MAP_1000: &str = r#""uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}]"#;

/// A source directory on the host: `root-file` owned by 0:0, `user-file` by 1000:1000, and
/// `sub`, on which `sub_tmpfs` mounts a tmpfs holding `root-file` (0:0).
fn source(b: &Bundle, sub_tmpfs: bool) -> std::path::PathBuf {
    let src = b.dir.join("src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    std::fs::write(src.join("root-file"), "r").expect("write");
    std::fs::write(src.join("user-file"), "u").expect("write");
    std::os::unix::fs::chown(src.join("user-file"), Some(1000), Some(1000)).expect("chown");
    if sub_tmpfs {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "tmpfs"])
            .arg(src.join("sub"))
            .status()
            .expect("mount");
        assert!(ok.success());
        std::fs::write(src.join("sub/root-file"), "r").expect("write");
    }
    src
}

/// The bundle's rootfs and `out` given to the container's root of `USERNS` (host 100000).
fn owned_by_container_root(b: &Bundle) {
    let ok = Command::new("chown")
        .args(["-R", "100000:100000"])
        .arg(b.dir.join("rootfs"))
        .arg(b.dir.join("out"))
        .status()
        .expect("chown");
    assert!(ok.success());
}

/// Unmounts its paths when dropped, in order, whether the test passed or not.
struct Unmount(Vec<std::path::PathBuf>);

impl Drop for Unmount {
    fn drop(&mut self) {
        for path in &self.0 {
            umount(path);
        }
    }
}

fn umount(path: &Path) {
    let _ = Command::new("umount").arg(path).status();
}

/// `b.config` running `script` with one more mount (`mount`, JSON; none if empty) and `linux`
/// replaced.
fn config(b: &Bundle, script: &str, mount: &str, linux: &str) -> String {
    let config = b
        .config(&["sh", "-c", script], "", "")
        .replace(PLAIN, linux);
    if mount.is_empty() {
        return config;
    }
    config.replacen(
        r#""options":["rbind"]}]"#,
        &format!(r#""options":["rbind"]}},{mount}]"#),
        1,
    )
}

/// Every test here compares the host's mount table before and after, and one mounts on the
/// host: they run one at a time.
static HOST: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    HOST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const OWNERS: &str = "stat -c '%n %u:%g' /m/root-file /m/user-file /m/sub/root-file 2>&1";

#[test]
fn mappings_of_its_own_without_a_user_namespace() {
    if !root_or_skip("mappings_of_its_own_without_a_user_namespace") {
        return;
    }
    let _host = one_at_a_time();
    let before = host_mounts();
    let b = Bundle::new("idmapown");
    let src = source(&b, true);
    let cleanup = Unmount(vec![src.join("sub")]);
    // idmap (the tree's top only) and ridmap (every mount of it), both over an rbind.
    for (word, sub) in [("idmap", "0:0"), ("ridmap", "1000:1000")] {
        let mount = format!(
            r#"{{"destination":"/m","type":"bind","source":"{}","options":["rbind","{word}"],{MAP_1000}}}"#,
            src.display()
        );
        let o = b.run(&config(&b, OWNERS, &mount, PLAIN));
        assert!(o.status.success(), "{word}: {}", stderr(&o));
        // On-disk 0 shows as 1000 (the map's 0 → 1000); on-disk 1000 has no mapping: overflow.
        assert_eq!(
            stdout(&o),
            format!("/m/root-file 1000:1000\n/m/user-file 65534:65534\n/m/sub/root-file {sub}\n"),
            "{word}"
        );
    }
    // Mappings alone make it idmapped.
    let mount = format!(
        r#"{{"destination":"/m","type":"bind","source":"{}","options":["rbind"],{MAP_1000}}}"#,
        src.display()
    );
    let o = b.run(&config(&b, "stat -c '%u:%g' /m/root-file", &mount, PLAIN));
    assert_eq!(stdout(&o), "1000:1000\n", "{}", stderr(&o));
    // Without rbind and without a user namespace, as runc: the tree's top only, the directory
    // under the host's submount shows.
    let o = b.run(&config(&b, OWNERS, &mount.replace("rbind", "bind"), PLAIN));
    assert_eq!(
        stdout(&o),
        "/m/root-file 1000:1000\n/m/user-file 65534:65534\nstat: can't stat '/m/sub/root-file': No such file or directory\n",
        "{}",
        stderr(&o)
    );
    // In a container with a user namespace the submount is locked in the copy of the host's
    // mounts the tree comes from: it cannot be left out (runc refuses it too).
    let b2 = Bundle::new("idmapownns");
    owned_by_container_root(&b2);
    let o = b2.run(&config(
        &b2,
        "true",
        &mount.replace("rbind", "bind"),
        USERNS,
    ));
    assert!(
        stderr(&o).contains("): open: Invalid argument (mounts on it need rbind: they are locked)"),
        "{}",
        stderr(&o)
    );
    // The host's files are untouched.
    assert_eq!(
        std::fs::metadata(src.join("root-file"))
            .expect("stat")
            .uid(),
        0
    );
    drop(cleanup);
    assert_eq!(before, host_mounts(), "host mount table changed");
}

#[test]
fn without_mappings_it_takes_the_containers_user_namespace() {
    if !root_or_skip("without_mappings_it_takes_the_containers_user_namespace") {
        return;
    }
    let _host = one_at_a_time();
    let before = host_mounts();
    let b = Bundle::new("idmapns");
    let src = source(&b, false);
    owned_by_container_root(&b);
    let script =
        "stat -c '%n %u:%g' /m/root-file /m/user-file; touch /m/new && stat -c '%n %u:%g' /m/new";
    let idmapped = format!(
        r#"{{"destination":"/m","type":"bind","source":"{}","options":["bind","idmap"]}}"#,
        src.display()
    );
    let o = b.run(&config(&b, script, &idmapped, USERNS));
    assert!(o.status.success(), "{}", stderr(&o));
    // The container's root is host 100000: through the mount, the host's root files are its own.
    assert_eq!(
        stdout(&o),
        "/m/root-file 0:0\n/m/user-file 1000:1000\n/m/new 0:0\n"
    );
    // What the container's root creates there is root's on the disk.
    assert_eq!(
        std::fs::metadata(src.join("new"))
            .map(|m| (m.uid(), m.gid()))
            .expect("created"),
        (0, 0)
    );
    // The same mount without idmap (a fresh bundle: the first made its /dev nodes): the
    // host's root is nobody in the container.
    let b2 = Bundle::new("idmapns2");
    owned_by_container_root(&b2);
    let plain = idmapped.replace(r#","idmap""#, "");
    let o = b2.run(&config(&b2, "stat -c '%u:%g' /m/root-file", &plain, USERNS));
    assert_eq!(stdout(&o), "65534:65534\n", "{}", stderr(&o));
    assert_eq!(before, host_mounts(), "host mount table changed");
}

#[test]
fn bad_idmapped_mounts_are_refused_by_name() {
    if !root_or_skip("bad_idmapped_mounts_are_refused_by_name") {
        return;
    }
    let _host = one_at_a_time();
    let before = host_mounts();
    let b = Bundle::new("idmapbad");
    let src = source(&b, false);
    let src = src.display();
    let one = r#"[{"containerID":0,"hostID":1000,"size":1}]"#;
    for (mount, linux, expected) in [
        (
            r#"{"destination":"/m","type":"tmpfs","source":"tmpfs","options":["idmap"]}"#
                .to_string(),
            PLAIN,
            "mounts[2] (",
        ),
        (
            format!(
                r#"{{"destination":"/m","type":"bind","source":"{src}","options":["bind"],"uidMappings":{one}}}"#
            ),
            PLAIN,
            "an idmapped mount needs both uidMappings and gidMappings",
        ),
        (
            format!(
                r#"{{"destination":"/m","type":"bind","source":"{src}","options":["bind"],"uidMappings":{one},"gidMappings":[{{"containerID":0,"hostID":1000,"size":0}}]}}"#
            ),
            PLAIN,
            "mounts[2].gidMappings[0].size (0): validate: zero",
        ),
        (
            format!(
                r#"{{"destination":"/m","type":"bind","source":"{src}","options":["bind"],"uidMappings":"0 1000 1","gidMappings":{one}}}"#
            ),
            PLAIN,
            "mounts[2].uidMappings (",
        ),
        (
            format!(
                r#"{{"destination":"/m","type":"bind","source":"{src}","options":["bind","idmap"]}}"#
            ),
            PLAIN,
            "without mappings of its own, an idmapped mount takes the container's: there is no user namespace",
        ),
        (
            format!(
                r#"{{"destination":"/m","type":"bind","source":"{src}/missing","options":["bind","idmap"],"uidMappings":{one},"gidMappings":{one}}}"#
            ),
            PLAIN,
            "mounts[2].source (",
        ),
    ] {
        let o = b.run(&config(&b, "touch /out/ran", &mount, linux));
        assert!(!o.status.success(), "{mount}");
        assert!(stderr(&o).contains(expected), "{mount}: {}", stderr(&o));
        assert!(!b.out("ran").exists(), "{mount}: the process ran");
    }
    // The tmpfs one says why.
    let o = b.run(&config(
        &b,
        "true",
        r#"{"destination":"/m","type":"tmpfs","source":"tmpfs","options":["idmap"]}"#,
        PLAIN,
    ));
    assert!(
        stderr(&o).contains("validate: idmapped mounts must be bind mounts"),
        "{}",
        stderr(&o)
    );
    // The helpers are found through /proc: a /proc of another PID namespace is refused.
    let mount = format!(
        r#"{{"destination":"/m","type":"bind","source":"{src}","options":["bind"],"uidMappings":{one},"gidMappings":{one}}}"#
    );
    b.write_config(&config(&b, "touch /out/ran", &mount, PLAIN));
    let o = Command::new("unshare")
        .args(["--pid", "--fork", "--"])
        .args(b.run_command())
        .output()
        .expect("unshare");
    assert!(
        stderr(&o)
            .contains("/m): validate: /proc is not this PID namespace's: idmapped mounts need it"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    // No process of these inits (the id mapping's helper included) outlives a failure: none
    // is left with the bundle as its working directory.
    let left: Vec<_> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter(|p| std::fs::read_link(p.path().join("cwd")).is_ok_and(|cwd| cwd == b.dir))
        .map(|p| p.file_name())
        .collect();
    assert!(left.is_empty(), "processes left: {left:?}");
    assert_eq!(before, host_mounts(), "host mount table changed");
}

#[test]
fn without_mappings_it_takes_a_joined_user_namespace() {
    if !root_or_skip("without_mappings_it_takes_a_joined_user_namespace") {
        return;
    }
    let _host = one_at_a_time();
    let before = host_mounts();
    // A running container holds a user namespace with 0 → 100000.
    let holder = Bundle::new("idmapholder");
    owned_by_container_root(&holder);
    let running = config(&holder, "echo up > /out/up; exec sleep 60", "", USERNS);
    holder.start_until_up(&running);
    let state = stdout(&holder.ocirun(&["state", &holder.id]));
    let pid: u32 = state
        .split("\"pid\": ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {state}"));
    let b = Bundle::new("idmapjoin");
    owned_by_container_root(&b);
    let src = source(&b, false);
    let mount = format!(
        r#"{{"destination":"/m","type":"bind","source":"{}","options":["bind","idmap"]}}"#,
        src.display()
    );
    let linux = format!(
        r#""linux":{{"namespaces":[{{"type":"user","path":"/proc/{pid}/ns/user"}},{{"type":"pid"}},{{"type":"mount"}}]"#
    );
    let config = config(&b, "stat -c '%u:%g' /m/root-file", &mount, &linux)
        .replace(r#""hostname":"box","#, "");
    let o = b.run(&config);
    let _ = holder.ocirun(&["delete", "-f", &holder.id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0:0\n");
    assert_eq!(before, host_mounts(), "host mount table changed");
}

#[test]
fn rootless_idmapped_mounts_fail_clearly() {
    // runc refuses them in rootless mode; here the kernel does: an unprivileged parent may not
    // map ids it does not own, so writing the helper's map fails, naming the mount.
    if !root_or_skip("rootless_idmapped_mounts_fail_clearly") {
        return;
    }
    let _host = one_at_a_time();
    let before = host_mounts();
    let b = Bundle::new("idmaprootless");
    let src = source(&b, false);
    let mount = format!(
        r#"{{"destination":"/m","type":"bind","source":"{}","options":["bind","idmap"],{MAP_1000}}}"#,
        src.display()
    );
    let rootless = USERNS
        .replace(
            r#""hostID":100000,"size":65536"#,
            r#""hostID":65534,"size":1"#,
        )
        .replace(r#"{"type":"pid"},"#, "")
        .replace(r#",{"type":"network"}"#, "");
    b.write_config(
        &config(&b, "touch /out/ran", &mount, &rootless).replace(r#""hostname":"box","#, ""),
    );
    let ok = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(&b.dir)
        .status()
        .expect("chown");
    assert!(ok.success());
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(b.run_command())
        .output()
        .expect("setpriv");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("init failed at mounts[2] (")
            && stderr(&o).contains("): write: Operation not permitted"),
        "{}",
        stderr(&o)
    );
    assert!(!b.out("ran").exists());
    assert_eq!(before, host_mounts(), "host mount table changed");
}

/// The trees come from a copy of the host's mounts owned by a user namespace, as runc clones
/// them from the container's: a shared host mount gives a slave (nothing mounted in the
/// container reaches the host), and in a container with a user namespace everything the host
/// set is locked: its submounts cannot be unmounted, its read-only flag cannot be dropped.
#[test]
fn idmapped_trees_are_slaves_and_locked_as_binds_are() {
    if !root_or_skip("idmapped_trees_are_slaves_and_locked_as_binds_are") {
        return;
    }
    let _host = one_at_a_time();
    let before = host_mounts();
    let b = Bundle::new("idmaplock");
    owned_by_container_root(&b);
    let mount = |args: &[&str]| {
        let ok = Command::new("mount").args(args).status().expect("mount");
        assert!(ok.success(), "mount {args:?}");
    };
    let cleanup = Unmount(vec![
        b.dir.join("readonly"),
        b.dir.join("shared/hidden"),
        b.dir.join("shared"),
    ]);
    // A shared source with a tmpfs over `hidden` (which holds a secret), and a read-only one.
    let shared = b.dir.join("shared");
    std::fs::create_dir_all(shared.join("hidden")).expect("mkdir");
    std::fs::write(shared.join("hidden/secret"), "host secret\n").expect("write");
    std::fs::write(shared.join("f"), "f\n").expect("write");
    let s = shared.to_str().expect("utf-8");
    mount(&["--bind", s, s]);
    mount(&["--make-shared", s]);
    mount(&["-t", "tmpfs", "tmpfs", &format!("{s}/hidden")]);
    let readonly = b.dir.join("readonly");
    std::fs::create_dir_all(&readonly).expect("mkdir");
    std::fs::write(readonly.join("file"), "original\n").expect("write");
    let r = readonly.to_str().expect("utf-8");
    mount(&["--bind", r, r]);
    mount(&["-o", "remount,bind,ro", r]);
    let mounts = format!(
        r#"{{"destination":"/m","type":"bind","source":"{s}","options":["rbind","ridmap"]}},
        {{"destination":"/m/sub","type":"tmpfs","source":"tmpfs"}},
        {{"destination":"/r","type":"bind","source":"{r}","options":["bind","idmap"]}}"#
    );
    let script = "umount /m/hidden 2>/dev/null && echo unmounted; cat /m/hidden/secret 2>/dev/null; \
                  mount -o remount,bind,rw /r 2>/dev/null && echo remounted; \
                  echo changed 2>/dev/null > /r/file || echo read-only; \
                  mount -t tmpfs tmpfs /m/sub && echo mounted";
    let linux = USERNS.to_string() + r#","maskedPaths":["/m/f"]"#;
    let o = b.run(&config(&b, script, &mounts, &linux));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "read-only\nmounted\n");
    assert_eq!(
        std::fs::read_to_string(readonly.join("file")).expect("read"),
        "original\n"
    );
    // Without a user namespace the tree is not locked (runc), but still a slave: the
    // container's mounts below it stay in the container.
    let b2 = Bundle::new("idmapslave");
    let own = format!(
        r#"{{"destination":"/m","type":"bind","source":"{s}","options":["rbind","idmap"],{MAP_1000}}},
        {{"destination":"/m/sub","type":"tmpfs","source":"tmpfs"}}"#
    );
    let plain = PLAIN.to_string() + r#","maskedPaths":["/m/f"]"#;
    let o = b2.run(&config(
        &b2,
        "mount -t tmpfs tmpfs /m/sub && echo mounted",
        &own,
        &plain,
    ));
    assert_eq!(stdout(&o), "mounted\n", "{}", stderr(&o));
    // Nothing the containers mounted (mounts[], the mask, their own) reached the host.
    drop(cleanup);
    assert_eq!(before, host_mounts(), "host mount table changed");
}
