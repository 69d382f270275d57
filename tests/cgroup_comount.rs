//! A co-mounted cgroup v1 hierarchy (`net_cls,net_prio`) seen from a container's `cgroup` mount:
//! a directory for the hierarchy and a link per controller, as runc makes them; and left out
//! when the host mounts it elsewhere than under /sys/fs/cgroup. A test binary of
//! its own: the hierarchy it mounts on the host appears in every process's /proc/self/cgroup
//! while it exists, so no other container may start meanwhile.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Bundle, host_mounts, root_or_skip, stderr, stdout};

const HIERARCHY: &str = "/sys/fs/cgroup/net_cls,net_prio";

/// The hierarchy mounted at a path; unmounted when dropped (also when an assertion fails),
/// waiting until the kernel has let go of it.
struct Mounted(String);

impl Mounted {
    fn at(path: &str) -> Mounted {
        std::fs::create_dir_all(path).expect("mkdir");
        let status = Command::new("mount")
            .args(["-t", "cgroup", "-o", "net_cls,net_prio", "cgroup", path])
            .status()
            .expect("mount");
        let mounted = Mounted(path.to_string());
        assert!(status.success(), "mounting {path}");
        mounted
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string("/proc/self/cgroup").is_ok_and(|c| c.contains("net_prio"))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_co_mounted_hierarchy_gets_a_link_per_controller() {
    if !root_or_skip("a_co_mounted_hierarchy_gets_a_link_per_controller") {
        return;
    }
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("cgroup");
    let hybrid = own.lines().any(|l| !l.starts_with("0::"));
    let free = !own.contains("net_cls") && !own.contains("net_prio");
    if !hybrid || !free {
        let why = if hybrid {
            "net_cls or net_prio is mounted on this host already"
        } else {
            "a unified cgroup host has no v1 hierarchies"
        };
        assert!(
            std::env::var("OCINIT_MUST_WORK").as_deref() != Ok("1"),
            "{why}, and OCINIT_MUST_WORK=1 forbids skipping"
        );
        eprintln!("SKIP: a_co_mounted_hierarchy_gets_a_link_per_controller: {why}");
        return;
    }
    let mounted = Mounted::at(HIERARCHY);
    let before = host_mounts();
    let b = Bundle::new("comount");
    let script = "cd /sys/fs/cgroup; readlink net_cls; readlink net_prio; \
                  ls net_cls/ | grep -x net_cls.classid; ls net_prio/ | grep -x net_prio.ifpriomap";
    let config = b.config(&["sh", "-c", script], "", "").replacen(
        r#""options":["rbind"]}]"#,
        r#""options":["rbind"]},{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]}]"#,
        1,
    );
    let o = b.run(&config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "net_cls,net_prio\nnet_cls,net_prio\nnet_cls.classid\nnet_prio.ifpriomap\n"
    );
    assert_eq!(before, host_mounts(), "host mount table changed");
    drop(mounted);

    // The same hierarchy mounted elsewhere than /sys/fs/cgroup: nothing to bind it from, so
    // the container goes without it (runc binds what the host mounts there), and starts.
    let elsewhere = std::env::temp_dir().join(format!("ocinit-netcls-{}", std::process::id()));
    let _mounted = Mounted::at(&elsewhere.display().to_string());
    let o = b.run(&config.replace(script, "ls /sys/fs/cgroup | grep -c net_; true"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0\n");
}
