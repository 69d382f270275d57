//! The state directory `<root>/<id>/`: `state.json` and, until `start`, `exec.fifo`.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use rustix::process::{Pid, Signal};
use serde_json::{Value, json};

/// OCI status of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Set up, waiting on the exec FIFO.
    Created,
    /// The user process runs.
    Running,
    /// The container's process is gone.
    Stopped,
}

impl Status {
    /// The OCI name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// IDs become directory names: keep them to a safe alphabet.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid container ID {id:?}"))
    }
}

/// A container's recorded state.
#[derive(Debug)]
pub struct State {
    dir: PathBuf,
    id: String,
    bundle: PathBuf,
    /// Host pid of the container's process.
    pub pid: i32,
    /// Its start time (`/proc/PID/stat` field 22), which tells a reused pid apart.
    start_time: u64,
    annotations: Value,
}

/// Field 22 of `/proc/PID/stat` and whether the process is a zombie; `None` if it is gone.
fn proc_stat(pid: i32) -> Option<(u64, bool)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let zombie = matches!(fields.first(), Some(&"Z" | &"X"));
    Some((fields.get(19)?.parse().ok()?, zombie))
}

impl State {
    /// Reserve `<root>/<id>`; fails if the ID is taken.
    pub fn new(
        root: &Path,
        id: &str,
        bundle: &Path,
        config: Option<&Value>,
    ) -> Result<State, String> {
        fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
        let dir = root.join(id);
        fs::create_dir(&dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!("container {id} already exists"),
            _ => format!("{}: {e}", dir.display()),
        })?;
        let annotations = config
            .and_then(|c| c.get("annotations"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        Ok(State {
            dir,
            id: id.into(),
            bundle: bundle.into(),
            pid: 0,
            start_time: 0,
            annotations,
        })
    }

    /// Remove the state directory and pass `why` on.
    pub fn fail(&self, why: String) -> String {
        self.remove();
        why
    }

    /// Path of the exec FIFO.
    pub fn fifo_path(&self) -> PathBuf {
        self.dir.join("exec.fifo")
    }

    /// Record the container's pid.
    pub fn save(&mut self, pid: i32) -> Result<(), String> {
        self.pid = pid;
        self.start_time = proc_stat(pid).map_or(0, |s| s.0);
        let v = json!({"id": self.id, "pid": pid, "startTime": self.start_time, "bundle": self.bundle,
                       "annotations": self.annotations});
        let tmp = self.dir.join("state.json.tmp");
        fs::write(&tmp, v.to_string()).map_err(|e| format!("{}: {e}", tmp.display()))?;
        fs::rename(&tmp, self.dir.join("state.json")).map_err(|e| format!("state.json: {e}"))
    }

    /// Load `<root>/<id>/state.json`.
    pub fn load(root: &Path, id: &str) -> Result<State, String> {
        let dir = root.join(id);
        let text = fs::read_to_string(dir.join("state.json"))
            .map_err(|_| format!("container {id} does not exist"))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{id}: corrupt state: {e}"))?;
        Ok(State {
            dir,
            id: id.into(),
            bundle: v["bundle"].as_str().unwrap_or("").into(),
            pid: v["pid"]
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(0),
            start_time: v["startTime"].as_u64().unwrap_or(0),
            annotations: v["annotations"].clone(),
        })
    }

    /// Current status, from the process and the FIFO.
    pub fn status(&self) -> Status {
        match proc_stat(self.pid) {
            Some((start, false)) if start == self.start_time => {
                if self.fifo_path().exists() {
                    Status::Created
                } else {
                    Status::Running
                }
            }
            _ => Status::Stopped,
        }
    }

    /// The bundle the container was created from.
    pub fn bundle(&self) -> &Path {
        &self.bundle
    }

    /// The OCI state object.
    pub fn oci_state(&self) -> Value {
        let status = self.status();
        json!({
            "ociVersion": "1.2.0",
            "id": self.id,
            "status": status.name(),
            "pid": if status == Status::Stopped { 0 } else { self.pid },
            "bundle": self.bundle,
            "annotations": self.annotations,
        })
    }

    /// The OCI state object while the container is being created (for a seccomp agent).
    pub fn oci_state_creating(&self, pid: i32) -> Value {
        json!({
            "ociVersion": "1.2.0",
            "id": self.id,
            "status": "creating",
            "pid": pid,
            "bundle": self.bundle,
            "annotations": self.annotations,
        })
    }

    /// SIGKILL the container's process and wait (up to 5 s) until it is gone.
    pub fn kill_and_wait(&self) {
        if let Some(p) = Pid::from_raw(self.pid) {
            let _ = rustix::process::kill_process(p, Signal::KILL);
        }
        for _ in 0..500 {
            if self.status() == Status::Stopped {
                return;
            }
            sleep(Duration::from_millis(10));
        }
    }

    /// Remove the state directory.
    pub fn remove(&self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A signal by name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(s: &str) -> Result<Signal, String> {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    let n = match s.parse::<i32>() {
        Ok(n) => n,
        Err(_) => {
            let name = s.strip_prefix("SIG").unwrap_or(s);
            let i = NAMES
                .iter()
                .position(|&n| n == name)
                .ok_or_else(|| format!("unknown signal {s}"))?;
            i32::try_from(i + 1).map_err(|e| e.to_string())?
        }
    };
    Signal::from_named_raw(n).ok_or_else(|| format!("unknown signal {s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_and_ids() {
        assert_eq!(parse_signal("TERM"), Ok(Signal::TERM));
        assert_eq!(parse_signal("SIGKILL"), Ok(Signal::KILL));
        assert_eq!(parse_signal("9"), Ok(Signal::KILL));
        assert!(parse_signal("NOPE").is_err());
        assert!(check_id("a/b").is_err());
        assert!(check_id("..").is_err());
        assert!(check_id("web-1_x.y").is_ok());
    }
}
