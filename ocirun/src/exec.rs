//! `ocirun exec`: another process in a running container, through the init's `exec` type.
//!
//! The config the init gets is the container's own, made a process's: `process` replaced (by
//! `--process FILE`, or by the container's process with `-- CMD...` and the overrides), every
//! namespace given by path (`/proc/PID/ns/*` of the container's process), and the fields that
//! set up the container itself removed. ocirun creates no cgroups, so it has none to place
//! the process in.

use std::fs;
use std::os::unix::process::ExitStatusExt;

use rustix::process::{Pid, WaitOptions};
use serde_json::{Value, json};

use crate::protocol::{self, Launch, Message, Spawned};
use crate::state::{State, Status};
use crate::{Global, Opts, Result, exit_code};

/// `/proc/PID/ns/` names of the OCI namespace types.
fn ns_file(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "pid" => "pid",
        "network" => "net",
        "mount" => "mnt",
        "ipc" => "ipc",
        "uts" => "uts",
        "user" => "user",
        "cgroup" => "cgroup",
        "time" => "time",
        _ => return None,
    })
}

/// The config for the init's `exec` type.
fn exec_config(container: &Value, pid: i32, o: &Opts) -> Result<Value> {
    let mut config = container.clone();
    let mut process = match &o.process {
        Some(file) => {
            let text = fs::read(file).map_err(|e| format!("--process {}: {e}", file.display()))?;
            serde_json::from_slice(&text)
                .map_err(|e| format!("--process {}: {e}", file.display()))?
        }
        None => {
            if o.command.is_empty() {
                return Err("exec needs `-- CMD...` or --process FILE".into());
            }
            let mut p = container["process"].clone();
            p["args"] = json!(o.command);
            p["terminal"] = json!(false);
            p.as_object_mut().map(|p| p.remove("consoleSize"));
            p
        }
    };
    if let Some(user) = &o.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let number = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| format!("--user {user}: expected UID[:GID]"))
        };
        process["user"] = json!({"uid": number(uid)?, "gid": number(gid)?});
    }
    if let Some(cwd) = &o.cwd {
        process["cwd"] = json!(cwd);
    }
    if !o.env.is_empty() {
        let mut env: Vec<String> = process["env"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for kv in &o.env {
            let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
            env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
            env.push(kv.clone());
        }
        process["env"] = json!(env);
    }
    for cap in &o.caps {
        for set in ["bounding", "effective", "permitted"] {
            let list = &mut process["capabilities"][set];
            if !list.is_array() {
                *list = json!([]);
            }
            if let Some(a) = list.as_array_mut()
                && !a.iter().any(|c| c == cap)
            {
                a.push(json!(cap));
            }
        }
    }
    if o.tty {
        process["terminal"] = json!(true);
    }
    config["process"] = process;
    let obj = config
        .as_object_mut()
        .ok_or("the container's config.json is not an object")?;
    for key in ["mounts", "hostname", "domainname", "hooks"] {
        obj.remove(key);
    }
    if let Some(root) = obj.get_mut("root").and_then(Value::as_object_mut) {
        root.remove("readonly");
    }
    let linux = obj
        .entry("linux")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or("linux: not an object")?;
    for key in [
        "devices",
        "sysctl",
        "readonlyPaths",
        "maskedPaths",
        "rootfsPropagation",
        "uidMappings",
        "gidMappings",
        "timeOffsets",
    ] {
        linux.remove(key);
    }
    let mut namespaces = Vec::new();
    for ns in linux
        .get("namespaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = ns["type"].as_str().unwrap_or("");
        let file = ns_file(kind).ok_or_else(|| format!("unknown namespace type {kind:?}"))?;
        namespaces.push(json!({"type": kind, "path": format!("/proc/{pid}/ns/{file}")}));
    }
    linux.insert("namespaces".into(), json!(namespaces));
    Ok(config)
}

/// An init error, as runc words the ones about the program itself (its tests expect
/// `exec /missing: no such file or directory`).
fn render(e: &Value, config: &Value) -> String {
    let step = e["step"].as_str().unwrap_or("");
    if step == "lookup" || step == "exec" {
        let program = config["process"]["args"][0].as_str().unwrap_or("?");
        return format!(
            "exec {program}: {}",
            e["message"].as_str().unwrap_or("failed")
        );
    }
    protocol::render_error(e, Some(config))
}

/// `ocirun exec`: returns the process's exit status (0 with `--detach`).
pub fn exec(g: &Global, id: &str, o: &Opts) -> Result<u8> {
    let st = State::load(&g.root, id)?;
    if st.status() != Status::Running {
        return Err(format!(
            "cannot exec in a container that is {}",
            st.status().name()
        ));
    }
    let path = st.bundle().join("config.json");
    let container: Value =
        serde_json::from_slice(&fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    let config = exec_config(&container, st.pid, o)?;
    let terminal = config["process"]["terminal"].as_bool() == Some(true);
    crate::check_console(terminal, o.detach, o)?;
    let bytes = serde_json::to_vec(&config).map_err(|e| e.to_string())?;
    let init = protocol::find_init(g.init.as_ref()).map_err(|e| e.to_string())?;
    let launch = Launch {
        init: &init,
        bundle: st.bundle(),
        config: &bytes,
        fifo: None,
        preserved_fds: o.preserve_fds,
        debug: g.debug,
        keyring: Some(format!("_ses.{id}")),
        init_type: "exec",
        listen_fds: 0,
    };
    let mut spawned =
        Spawned::start(launch).map_err(|e| format!("spawning {}: {e}", init.display()))?;
    let mut pid = None;
    let mut console = None;
    let failed = |spawned: &mut Spawned, pid: Option<i32>, why: String| {
        if let Some(p) = pid.and_then(Pid::from_raw) {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            let _ = rustix::process::waitpid(Some(p), WaitOptions::empty());
        }
        let _ = spawned.child.kill();
        let _ = spawned.child.wait();
        why
    };
    loop {
        match spawned.recv() {
            Ok(Message::Pid(p)) => pid = Some(p),
            Ok(Message::Console(master)) => {
                if let Err(e) = crate::take_console(master, o, &mut console) {
                    return Err(failed(&mut spawned, pid, e.to_string()));
                }
            }
            Ok(Message::SeccompListener(fd)) => {
                let p = pid.unwrap_or_else(|| i32::try_from(spawned.child.id()).unwrap_or(0));
                let seccomp = &config["linux"]["seccomp"];
                let process_state = json!({
                    "ociVersion": "1.2.0",
                    "fds": ["seccompFd"],
                    "pid": p,
                    "metadata": seccomp["listenerMetadata"].as_str().unwrap_or(""),
                    "state": st.oci_state(),
                });
                let listener = seccomp["listenerPath"].as_str().unwrap_or("");
                if let Err(e) = spawned.hand_over_listener(p, fd, listener, &process_state) {
                    return Err(failed(&mut spawned, pid, e.to_string()));
                }
            }
            Ok(Message::Ready) => {
                if let Err(e) = spawned.send_run() {
                    return Err(failed(&mut spawned, pid, format!("control channel: {e}")));
                }
            }
            Ok(Message::Created) => break,
            Ok(Message::Error(e)) => {
                return Err(failed(&mut spawned, pid, render(&e, &config)));
            }
            Ok(Message::IdMap { .. }) => {
                return Err(failed(&mut spawned, pid, "unexpected idmap request".into()));
            }
            Ok(Message::Eof) => {
                return Err(failed(
                    &mut spawned,
                    pid,
                    "the init exited before the process was set up".into(),
                ));
            }
            Err(e) => return Err(failed(&mut spawned, pid, format!("control channel: {e}"))),
        }
    }
    // After `created`: EOF means the exec happened; an error frame means it did not.
    match spawned.recv() {
        Ok(Message::Eof) => {}
        Ok(Message::Error(e)) => {
            return Err(failed(&mut spawned, pid, render(&e, &config)));
        }
        Ok(other) => {
            return Err(failed(
                &mut spawned,
                pid,
                format!("unexpected message after created: {other:?}"),
            ));
        }
        Err(e) => return Err(failed(&mut spawned, pid, format!("control channel: {e}"))),
    }
    let own = i32::try_from(spawned.child.id()).unwrap_or(0);
    let process = pid.unwrap_or(own);
    if let Some(f) = &o.pid_file {
        fs::write(f, process.to_string())
            .map_err(|e| format!("--pid-file {}: {e}", f.display()))?;
    }
    if o.detach {
        return Ok(0);
    }
    let _proxy = match console.map(protocol::proxy_console) {
        Some(Err(e)) => return Err(format!("console: {e}")),
        Some(Ok(proxy)) => Some(proxy),
        None => None,
    };
    if process == own {
        let s = spawned.child.wait().map_err(|e| e.to_string())?;
        return Ok(exit_code(s.code(), s.signal()));
    }
    // The init forked the process as our child (CLONE_PARENT) and exited.
    let _ = spawned.child.wait();
    let p = Pid::from_raw(process).ok_or("bad pid")?;
    let (_, s) = rustix::process::waitpid(Some(p), WaitOptions::empty())
        .map_err(|e| format!("waitpid: {e}"))?
        .ok_or("waitpid: no status")?;
    Ok(exit_code(s.exit_status(), s.terminating_signal()))
}
