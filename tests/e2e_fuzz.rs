//! End-to-end fuzzing: mutated configs through the real binaries in throwaway containers. Each
//! run must either start the container or report an error through the parent; never hang past a
//! timeout, never panic, never leave state, mounts or processes behind.
//!
//! Deterministic (a fixed xorshift seed) so CI can gate on it; `OCINIT_E2E_FUZZ_RUNS` sets how
//! many mutants run (default 300).

mod common;

use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{Bundle, host_mounts, root_or_skip};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

const TOKENS: &[&str] = &[
    "true",
    "null",
    "-1",
    "0",
    "\"\"",
    "[]",
    "{}",
    "18446744073709551616",
    "\"/\"",
    "\"..\"",
    "1e9",
    "\"\\u0000\"",
];

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(v.len());
        match rng.below(5) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + 1 + rng.below(24)).min(v.len());
                v.drain(at..end);
            }
            2 => {
                let end = (at + 1 + rng.below(24)).min(v.len());
                let span = v[at..end].to_vec();
                v.splice(at..at, span);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let end = (at + 1 + rng.below(8)).min(v.len());
                v.splice(at..end, token.iter().copied());
            }
            _ => v.truncate(at),
        }
        if v.is_empty() {
            break;
        }
    }
    v
}

#[test]
fn mutated_configs_start_or_fail_cleanly() {
    if !root_or_skip("mutated_configs_start_or_fail_cleanly") {
        return;
    }
    let runs: usize = std::env::var("OCINIT_E2E_FUZZ_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let before = host_mounts();
    let b = Bundle::new("e2efuzz");
    // Harmless wherever it might end up running: it only writes to stdout.
    let seed = b
        .config(
            &["sh", "-c", "echo ok"],
            r#","user":{"uid":0,"gid":0,"additionalGids":[1]},"noNewPrivileges":true"#,
            "",
        )
        .replace(
            r#"{"type":"network"}]"#,
            r#"{"type":"network"}],"maskedPaths":["/etc"],"sysctl":{"net.ipv4.ip_forward":"1"}"#,
        );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut started, mut refused) = (0, 0);
    for i in 0..runs {
        let config = mutate(seed.as_bytes(), &mut rng);
        std::fs::write(b.dir.join("config.json"), &config).expect("write");
        let mut cmd = std::process::Command::new(common::bin("ocirun"));
        cmd.arg("--root")
            .arg(b.dir.join("state"))
            .arg("--init")
            .arg(common::bin("ocinit"));
        cmd.args(["run", "-b", b.dir.to_str().expect("utf8"), &b.id])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("ocirun");
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().expect("try_wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("mutant {i} hung: {}", String::from_utf8_lossy(&config));
            }
            sleep(Duration::from_millis(2));
        }
        let o = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&o.stderr);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            !err.contains("panic"),
            "mutant {i} panicked: {err}\n{}",
            String::from_utf8_lossy(&config)
        );
        if o.status.success() {
            assert_eq!(out, "ok\n", "mutant {i}: {err}");
            started += 1;
        } else {
            assert!(
                err.lines().any(|l| l.starts_with("ocirun: ")),
                "mutant {i}: no error reported: {err}\n{}",
                String::from_utf8_lossy(&config)
            );
            assert!(out.is_empty() || out == "ok\n", "mutant {i}: {out}");
            refused += 1;
        }
        assert!(
            !b.dir.join("state").join(&b.id).exists(),
            "mutant {i}: state left behind"
        );
    }
    assert_eq!(before, host_mounts(), "the host mount table changed");
    eprintln!("{runs} mutants: {started} started, {refused} refused with an error");
    assert!(
        started > 0 && refused > 0,
        "the mutator must produce both outcomes"
    );
}
