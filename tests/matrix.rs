//! The malformed-payload matrix: every case through the real binary, driven by the raw Python
//! parent, asserting the exact step, operation, errno, config path and reason the init reports,
//! and that it exits 255 without running anything.

mod common;

use std::path::Path;
use std::process::Command;

use common::{bin, root_or_skip, stderr};

/// A config that decodes: `/bin/true` in the runtime's own namespaces (no case below reaches
/// its execve).
const BASE: &str =
    r#"{"ociVersion":"1.2.0","root":{"path":"/"},"process":{"args":["/bin/true"],"cwd":"/"}}"#;

fn with_process(members: &str) -> String {
    BASE.replace(r#""cwd":"/"}"#, &format!(r#""cwd":"/",{members}}}"#))
}

fn with_top(members: &str) -> String {
    BASE.replace(r#"{"ociVersion""#, &format!(r#"{{{members},"ociVersion""#))
}

fn with_linux(members: &str) -> String {
    with_top(&format!(r#""linux":{{{members}}}"#))
}

/// Send `payload` as the config (or raw bytes with `raw`), return the init's error frame as
/// (step, op, errno, path, message) and its exit line.
fn run(
    name: &str,
    payload: &[u8],
    reply: Option<&str>,
) -> ((String, String, i64, String, String), String) {
    let file = std::env::temp_dir().join(format!("ocinit-matrix-{}-{name}", std::process::id()));
    std::fs::write(&file, payload).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/raw_parent.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(bin("ocinit")).arg("frame").arg(&file);
    if let Some(r) = reply {
        cmd.arg(r);
    }
    let o = cmd.output().expect("python3");
    let _ = std::fs::remove_file(&file);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{name}: raw parent failed: {}",
        stderr(&o)
    );
    let error = out
        .lines()
        .find(|l| l.contains(r#""type": "error""#))
        .unwrap_or_else(|| panic!("{name}: no error frame in {out}"));
    let field = |key: &str| {
        let start = error
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("{name}: no {key} in {error}"))
            + key.len()
            + 4;
        let rest = &error[start..];
        if let Some(s) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next().unwrap_or('\\')),
                    '"' => break,
                    c => value.push(c),
                }
            }
            value
        } else {
            rest.split([',', '}']).next().unwrap_or("").to_string()
        }
    };
    let exit = out.lines().last().unwrap_or("").to_string();
    let errno = field("errno").parse().unwrap_or(-1);
    (
        (
            field("step"),
            field("op"),
            errno,
            field("path"),
            field("message"),
        ),
        exit,
    )
}

struct Case {
    name: &'static str,
    payload: Vec<u8>,
    reply: Option<&'static str>,
    expect: (&'static str, &'static str, i64, &'static str, &'static str),
}

fn case(
    name: &'static str,
    payload: impl Into<Vec<u8>>,
    expect: (&'static str, &'static str, i64, &'static str, &'static str),
) -> Case {
    Case {
        name,
        payload: payload.into(),
        reply: None,
        expect,
    }
}

fn decode_error(
    path: &'static str,
    message: &'static str,
) -> (&'static str, &'static str, i64, &'static str, &'static str) {
    ("decode", "validate", 0, path, message)
}

fn cases() -> Vec<Case> {
    const NS: &str = "not supported by this version of ocinit";
    let mut v = vec![
        // Not JSON.
        case(
            "empty",
            "",
            ("decode", "parse", 0, "byte[0]", "unexpected end of input"),
        ),
        case(
            "trailing",
            format!("{BASE} x"),
            ("decode", "parse", 0, "byte[86]", "trailing characters"),
        ),
        case(
            "utf8",
            b"{\"a\":\"\xff\"}".to_vec(),
            ("decode", "parse", 0, "byte[6]", "invalid UTF-8"),
        ),
        case(
            "escape",
            r#"{"a":"\q"}"#,
            ("decode", "parse", 0, "byte[7]", "invalid escape"),
        ),
        case(
            "surrogate",
            r#"{"a":"\udc00"}"#,
            (
                "decode",
                "parse",
                0,
                "byte[12]",
                "lone low surrogate in \\u escape",
            ),
        ),
        case(
            "high-surrogate",
            r#"{"a":"\ud800x"}"#,
            (
                "decode",
                "parse",
                0,
                "byte[12]",
                "lone high surrogate in \\u escape",
            ),
        ),
        case(
            "deep",
            format!("{}{}", "[".repeat(65), "]".repeat(65)),
            ("decode", "parse", 0, "byte[64]", "nested too deep"),
        ),
        case(
            "comma",
            r#"{"a":1,}"#,
            ("decode", "parse", 0, "byte[7]", "expected a string key"),
        ),
        case(
            "number",
            r#"{"a":01}"#,
            (
                "decode",
                "parse",
                0,
                "byte[6]",
                "expected ',' or a closing bracket",
            ),
        ),
        case(
            "control",
            "{\"a\":\"\x01\"}",
            (
                "decode",
                "parse",
                0,
                "byte[6]",
                "control character in string",
            ),
        ),
        // Wrong types and missing fields, top level.
        case("array", "[]", decode_error("", "expected an object")),
        case(
            "string",
            r#""config""#,
            decode_error("", "expected an object"),
        ),
        case(
            "no-version",
            BASE.replace(r#""ociVersion":"1.2.0","#, ""),
            decode_error("ociVersion", "missing"),
        ),
        case(
            "version-type",
            BASE.replace(r#""1.2.0""#, "1"),
            decode_error("ociVersion", "expected a string"),
        ),
        case(
            "no-root",
            BASE.replace(r#""root":{"path":"/"},"#, ""),
            decode_error("root", "missing"),
        ),
        case(
            "root-type",
            BASE.replace(r#"{"path":"/"}"#, r#""/""#),
            decode_error("root", "expected an object"),
        ),
        case(
            "root-path-type",
            BASE.replace(r#"{"path":"/"}"#, r#"{"path":7}"#),
            decode_error("root.path", "expected a string"),
        ),
        case(
            "root-path-empty",
            BASE.replace(r#"{"path":"/"}"#, r#"{"path":""}"#),
            decode_error("root.path", "empty"),
        ),
        case(
            "root-readonly",
            BASE.replace(r#"{"path":"/"}"#, r#"{"path":"/","readonly":"yes"}"#),
            decode_error("root.readonly", "expected a boolean"),
        ),
        case(
            "no-process",
            BASE.replace(r#","process":{"args":["/bin/true"],"cwd":"/"}"#, ""),
            decode_error("process", "missing"),
        ),
        case(
            "process-type",
            BASE.replace(r#"{"args":["/bin/true"],"cwd":"/"}"#, "[]"),
            decode_error("process", "expected an object"),
        ),
        // process.*
        case(
            "no-args",
            BASE.replace(r#""args":["/bin/true"],"#, ""),
            decode_error("process.args", "missing"),
        ),
        case(
            "args-type",
            BASE.replace(r#"["/bin/true"]"#, r#""/bin/true""#),
            decode_error("process.args", "expected an array"),
        ),
        case(
            "args-empty",
            BASE.replace(r#"["/bin/true"]"#, "[]"),
            decode_error("process.args", "empty"),
        ),
        case(
            "args-item",
            BASE.replace(r#"["/bin/true"]"#, r#"["/bin/true",{}]"#),
            decode_error("process.args[1]", "expected a string"),
        ),
        case(
            "env-type",
            with_process(r#""env":"A=1""#),
            decode_error("process.env", "expected an array"),
        ),
        case(
            "env-no-eq",
            with_process(r#""env":["A=1","B"]"#),
            decode_error("process.env[1]", "no '=' in entry"),
        ),
        case(
            "env-no-name",
            with_process(r#""env":["=1"]"#),
            decode_error("process.env[0]", "empty variable name"),
        ),
        case(
            "env-null",
            with_process(r#""env":[null]"#),
            decode_error("process.env[0]", "expected a string"),
        ),
        case(
            "no-cwd",
            BASE.replace(r#","cwd":"/""#, ""),
            decode_error("process.cwd", "missing"),
        ),
        case(
            "cwd-relative",
            BASE.replace(r#""cwd":"/""#, r#""cwd":"tmp""#),
            decode_error("process.cwd", "not an absolute path"),
        ),
        case(
            "cwd-type",
            BASE.replace(r#""cwd":"/""#, r#""cwd":5"#),
            decode_error("process.cwd", "expected a string"),
        ),
        case(
            "user-type",
            with_process(r#""user":"root""#),
            decode_error("process.user", "expected an object"),
        ),
        case(
            "uid-negative",
            with_process(r#""user":{"uid":-1}"#),
            decode_error("process.user.uid", "out of range for a 32-bit unsigned id"),
        ),
        case(
            "uid-big",
            with_process(r#""user":{"uid":4294967296}"#),
            decode_error("process.user.uid", "out of range for a 32-bit unsigned id"),
        ),
        case(
            "uid-float",
            with_process(r#""user":{"uid":1.5}"#),
            decode_error("process.user.uid", "expected an integer"),
        ),
        case(
            "gid-string",
            with_process(r#""user":{"gid":"0"}"#),
            decode_error("process.user.gid", "expected a number"),
        ),
        case(
            "umask",
            with_process(r#""user":{"umask":512}"#),
            decode_error("process.user.umask", "above 0777"),
        ),
        case(
            "groups",
            with_process(r#""user":{"additionalGids":[1,-2]}"#),
            decode_error(
                "process.user.additionalGids[1]",
                "out of range for a 32-bit unsigned id",
            ),
        ),
        case(
            "username",
            with_process(r#""user":{"username":"root"}"#),
            decode_error("process.user.username", NS),
        ),
        case(
            "console-size-type",
            with_process(r#""terminal":true,"consoleSize":[24,80]"#),
            decode_error("process.consoleSize", "expected an object"),
        ),
        case(
            "console-size-range",
            with_process(r#""terminal":true,"consoleSize":{"height":24,"width":65536}"#),
            decode_error("process.consoleSize.width", "out of range (0 to 65535)"),
        ),
        case(
            "console-size-negative",
            with_process(r#""consoleSize":{"height":-1}"#),
            decode_error(
                "process.consoleSize.height",
                "out of range for a 32-bit unsigned id",
            ),
        ),
        case(
            "terminal-type",
            with_process(r#""terminal":"no""#),
            decode_error("process.terminal", "expected a boolean"),
        ),
        case(
            "nnp-type",
            with_process(r#""noNewPrivileges":1"#),
            decode_error("process.noNewPrivileges", "expected a boolean"),
        ),
        case(
            "caps-type",
            with_process(r#""capabilities":[]"#),
            decode_error("process.capabilities", "expected an object"),
        ),
        case(
            "caps-set-type",
            with_process(r#""capabilities":{"bounding":"CAP_KILL"}"#),
            decode_error("process.capabilities.bounding", "expected an array"),
        ),
        case(
            "rlimits-type",
            with_process(r#""rlimits":{}"#),
            decode_error("process.rlimits", "expected an array"),
        ),
        case(
            "rlimit-soft",
            with_process(r#""rlimits":[{"type":"RLIMIT_NOFILE","hard":1}]"#),
            decode_error("process.rlimits[0].soft", "missing"),
        ),
        case(
            "rlimit-order",
            with_process(r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}]"#),
            decode_error("process.rlimits[0].soft", "soft limit above the hard limit"),
        ),
        case(
            "rlimit-type",
            with_process(r#""rlimits":[{"type":"RLIMIT_NOPE","soft":1,"hard":1}]"#),
            decode_error("process.rlimits[0].type", "unknown rlimit type"),
        ),
        case(
            "rlimit-big",
            with_process(
                r#""rlimits":[{"type":"RLIMIT_CORE","soft":1,"hard":18446744073709551616}]"#,
            ),
            decode_error("process.rlimits[0].hard", "out of range for a 64-bit limit"),
        ),
        case(
            "oom-high",
            with_process(r#""oomScoreAdj":1001"#),
            decode_error("process.oomScoreAdj", "out of range (-1000 to 1000)"),
        ),
        case(
            "oom-low",
            with_process(r#""oomScoreAdj":-1001"#),
            decode_error("process.oomScoreAdj", "out of range (-1000 to 1000)"),
        ),
        case(
            "oom-type",
            with_process(r#""oomScoreAdj":"5""#),
            decode_error("process.oomScoreAdj", "expected a number"),
        ),
        case(
            "apparmor",
            with_process(r#""apparmorProfile":7"#),
            decode_error("process.apparmorProfile", "expected a string"),
        ),
        case(
            "scheduler",
            with_process(r#""scheduler":{"policy":"SCHED_OTHER","nice":-21}"#),
            decode_error("process.scheduler.nice", "out of range (-20 to 19)"),
        ),
        case(
            "io-priority",
            with_process(r#""ioPriority":{"class":"IOPRIO_CLASS_RT","priority":"high"}"#),
            decode_error("process.ioPriority.priority", "expected a number"),
        ),
        // Hostname, mounts.
        case(
            "hostname-type",
            with_top(r#""hostname":5"#),
            decode_error("hostname", "expected a string"),
        ),
        case(
            "hostname-no-uts",
            with_top(r#""hostname":"h""#),
            decode_error("hostname", "needs a new uts namespace"),
        ),
        case(
            "mounts-type",
            with_top(r#""mounts":{}"#),
            decode_error("mounts", "expected an array"),
        ),
        case(
            "mount-type",
            with_top(r#""mounts":[1]"#),
            decode_error("mounts[0]", "expected an object"),
        ),
        case(
            "mount-no-dest",
            with_top(r#""mounts":[{"type":"tmpfs"}]"#),
            decode_error("mounts[0].destination", "missing"),
        ),
        case(
            "mount-relative",
            with_top(r#""mounts":[{"destination":"tmp","type":"tmpfs"}]"#),
            decode_error("mounts[0].destination", "not an absolute path"),
        ),
        case(
            "mount-type-type",
            with_top(r#""mounts":[{"destination":"/tmp","type":1}]"#),
            decode_error("mounts[0].type", "expected a string"),
        ),
        case(
            "mount-options",
            with_top(r#""mounts":[{"destination":"/tmp","type":"tmpfs","options":"ro"}]"#),
            decode_error("mounts[0].options", "expected an array"),
        ),
        case(
            "mount-option",
            with_top(r#""mounts":[{"destination":"/tmp","type":"tmpfs","options":[1]}]"#),
            decode_error("mounts[0].options[0]", "expected a string"),
        ),
        case(
            "bind-data",
            with_top(
                r#""mounts":[{"destination":"/x","source":"/y","options":["bind","mode=1"]}]"#,
            ),
            decode_error(
                "mounts[0].options",
                "bind mounts cannot take filesystem data",
            ),
        ),
        case(
            "bind-source",
            with_top(r#""mounts":[{"destination":"/x","options":["rbind"]}]"#),
            decode_error("mounts[0].source", "missing for a bind mount"),
        ),
        case(
            "idmap",
            with_top(r#""mounts":[{"destination":"/x","type":"tmpfs","options":["idmap"]}]"#),
            decode_error("mounts[0]", "idmapped mounts must be bind mounts"),
        ),
        case(
            "idmap-one-list",
            with_top(
                r#""mounts":[{"destination":"/x","source":"/y","options":["bind"],"gidMappings":[{"containerID":0,"hostID":1,"size":1}]}]"#,
            ),
            decode_error(
                "mounts[0]",
                "an idmapped mount needs both uidMappings and gidMappings",
            ),
        ),
        case(
            "tmpcopyup-bind",
            with_top(
                r#""mounts":[{"destination":"/x","source":"/y","options":["rbind","tmpcopyup"]}]"#,
            ),
            decode_error("mounts[0]", "tmpcopyup is for tmpfs mounts"),
        ),
        case(
            "empty-option",
            with_top(r#""mounts":[{"destination":"/x","type":"tmpfs","options":["size=1k",""]}]"#),
            decode_error("mounts[0].options[1]", "empty option"),
        ),
        case(
            "mount-data-page",
            with_top(&format!(
                r#""mounts":[{{"destination":"/x","type":"tmpfs","options":["{}"]}}]"#,
                "a".repeat(4096)
            )),
            decode_error(
                "mounts[0].options[0]",
                "filesystem data longer than one page",
            ),
        ),
        case(
            "mounts-no-ns",
            with_top(r#""mounts":[{"destination":"/x","type":"tmpfs"}]"#),
            decode_error("mounts", "needs a new mount namespace"),
        ),
        // linux.*
        case(
            "linux-type",
            with_top(r#""linux":"x""#),
            decode_error("linux", "expected an object"),
        ),
        case(
            "namespaces-type",
            with_linux(r#""namespaces":{}"#),
            decode_error("linux.namespaces", "expected an array"),
        ),
        case(
            "ns-unknown",
            with_linux(r#""namespaces":[{"type":"pid"},{"type":"vm"}]"#),
            decode_error("linux.namespaces[1].type", "unknown namespace type"),
        ),
        case(
            "ns-duplicate",
            with_linux(r#""namespaces":[{"type":"ipc"},{"type":"ipc"}]"#),
            decode_error("linux.namespaces[1].type", "duplicate namespace type"),
        ),
        case(
            "ns-no-type",
            with_linux(r#""namespaces":[{}]"#),
            decode_error("linux.namespaces[0].type", "missing"),
        ),
        case(
            "ns-path-relative",
            with_linux(r#""namespaces":[{"type":"network","path":"proc/1/ns/net"}]"#),
            decode_error("linux.namespaces[0].path", "not an absolute path"),
        ),
        case(
            "ns-path-type",
            with_linux(r#""namespaces":[{"type":"network","path":7}]"#),
            decode_error("linux.namespaces[0].path", "expected a string"),
        ),
        case(
            "time-offsets-without-time-ns",
            with_linux(r#""timeOffsets":{"boottime":{"secs":1}}"#),
            decode_error("linux.timeOffsets", "needs a new time namespace"),
        ),
        case(
            "propagation",
            with_linux(r#""rootfsPropagation":"sideways""#),
            decode_error("linux.rootfsPropagation", "unknown propagation"),
        ),
        case(
            "propagation-shared",
            with_linux(r#""rootfsPropagation":"shared""#),
            decode_error("linux.rootfsPropagation", NS),
        ),
        case(
            "userns-no-maps",
            with_linux(r#""namespaces":[{"type":"user"}]"#),
            decode_error("linux.uidMappings", "a user namespace needs id mappings"),
        ),
        case(
            "maps-no-userns",
            with_linux(r#""uidMappings":[{"containerID":0,"hostID":1,"size":1}]"#),
            decode_error("linux.uidMappings", "id mappings need a new user namespace"),
        ),
        case(
            "sysctl-host",
            with_linux(r#""sysctl":{"vm.swappiness":"1"}"#),
            decode_error(
                "linux.sysctl[0]",
                "not in a namespace of the container: it would change the host",
            ),
        ),
        case(
            "sysctl-type",
            with_linux(r#""sysctl":[]"#),
            decode_error("linux.sysctl", "expected an object"),
        ),
        case(
            "masked-relative",
            with_linux(r#""namespaces":[{"type":"mount"}],"maskedPaths":["proc/kcore"]"#),
            decode_error("linux.maskedPaths[0]", "not an absolute path"),
        ),
        case(
            "seccomp-action",
            with_linux(
                r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"ALLOW"}]}"#,
            ),
            (
                "seccomp",
                "validate",
                0,
                "linux.seccomp.syscalls[0].action",
                "unknown action",
            ),
        ),
        case(
            "seccomp-errno-range",
            with_linux(r#""seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":65536}"#),
            (
                "seccomp",
                "validate",
                0,
                "linux.seccomp.defaultErrnoRet",
                "above the kernel's MAX_ERRNO (4095)",
            ),
        ),
        case(
            "devices-without-mount-ns",
            with_linux(r#""devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229}]"#),
            decode_error("linux.devices", "needs a new mount namespace"),
        ),
        case(
            "start-hooks",
            with_top(r#""hooks":{"startContainer":[{"path":"/bin/true"}]}"#),
            decode_error("hooks.startContainer", NS),
        ),
        case(
            "pid1-annotation",
            with_top(r#""annotations":{"org.ocinit.pid1":"yes"}"#),
            decode_error(
                "annotations[\"org.ocinit.pid1\"]",
                r#"expected "true" or "false""#,
            ),
        ),
        // Out of order: the parent's `run` arrives where the config belongs.
        case(
            "run-first",
            r#"{"type":"run"}"#,
            decode_error("ociVersion", "missing"),
        ),
    ];
    // A second config where `run` belongs, and an unknown message type.
    v.push(Case {
        name: "second-config",
        payload: BASE.into(),
        reply: Some(BASE),
        expect: (
            "handshake",
            "parse",
            0,
            "",
            "malformed message from the parent",
        ),
    });
    v.push(Case {
        name: "unknown-reply",
        payload: BASE.into(),
        reply: Some(r#"{"type":"go"}"#),
        expect: (
            "handshake",
            "validate",
            0,
            "",
            "unexpected message type from the parent",
        ),
    });
    v.push(Case {
        name: "reply-garbage",
        payload: BASE.into(),
        reply: Some("{"),
        expect: (
            "handshake",
            "parse",
            0,
            "",
            "malformed message from the parent",
        ),
    });
    // Past decode: capacities and NUL bytes, found while the process is prepared.
    let args = format!("[{}]", vec![r#""a""#; 4097].join(","));
    v.push(case(
        "args-capacity",
        BASE.replace(r#"["/bin/true"]"#, &args),
        (
            "lookup",
            "validate",
            0,
            "process.args[4096]",
            "more than 4096 entries",
        ),
    ));
    let env = format!(
        r#""env":[{}]"#,
        (0..4097)
            .map(|i| format!(r#""V{i}=1""#))
            .collect::<Vec<_>>()
            .join(",")
    );
    v.push(case(
        "env-capacity",
        with_process(&env),
        (
            "env",
            "validate",
            0,
            "process.env[4096]",
            "more than 4096 entries",
        ),
    ));
    let groups = format!(
        r#""user":{{"additionalGids":[{}]}}"#,
        (0..257)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    v.push(case(
        "groups-capacity",
        with_process(&groups),
        (
            "user",
            "validate",
            0,
            "process.user.additionalGids[256]",
            "more than 256 additional groups",
        ),
    ));
    v.push(case(
        "nul-arg",
        BASE.replace(r#"["/bin/true"]"#, r#"["/bin/tr\u0000ue"]"#),
        (
            "lookup",
            "validate",
            0,
            "process.args[0]",
            "contains a NUL byte",
        ),
    ));
    v.push(case(
        "nul-env",
        with_process(r#""env":["A=\u0000"]"#),
        (
            "env",
            "validate",
            0,
            "process.env[0]",
            "contains a NUL byte",
        ),
    ));
    v.push(case(
        "long-cwd",
        BASE.replace(r#""cwd":"/""#, &format!(r#""cwd":"/{}""#, "d".repeat(5000))),
        ("cwd", "validate", 0, "process.cwd", "longer than PATH_MAX"),
    ));
    v.push(case(
        "missing-exe",
        BASE.replace("/bin/true", "/no/such/exe"),
        (
            "lookup",
            "access",
            2,
            "process.args[0]",
            "no such file or directory",
        ),
    ));
    v
}

#[test]
fn every_malformed_payload_gets_its_exact_error() {
    // Cases past decode run the init's process steps in the runtime's namespaces (never its
    // execve): as root, like the other container tests.
    if !root_or_skip("every_malformed_payload_gets_its_exact_error") {
        return;
    }
    let cases = cases();
    assert!(cases.len() >= 60, "the matrix has {} cases", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let (got, exit) = run(c.name, &c.payload, c.reply);
        let got_ref = (
            got.0.as_str(),
            got.1.as_str(),
            got.2,
            got.3.as_str(),
            got.4.as_str(),
        );
        if got_ref != c.expect || exit != "exit 255" {
            wrong.push(format!(
                "{}: got {got_ref:?} ({exit}), want {:?}",
                c.name, c.expect
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    eprintln!(
        "{} malformed payloads, each with its exact error",
        cases.len()
    );
}
