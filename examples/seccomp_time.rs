//! Compile a `linux.seccomp` profile (a file: the object itself or a whole config) and print
//! the program length and the median compile time: `cargo run --release --example
//! seccomp_time -- PROFILE [ROUNDS]`.
use std::time::Instant;

use linux_raw_sys::ptrace::sock_filter;
use ocinit::json::{MAX_DEPTH, Value, validate_static};
use ocinit::protocol::Log;
use ocinit::seccomp::{compile, limits};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: seccomp_time PROFILE [ROUNDS]");
    let rounds: usize = args.next().map_or(2000, |r| r.parse().expect("rounds"));
    let bytes = std::fs::read(&path).expect("read profile");
    // Indexed, as the init's config buffer is.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    validate_static(bytes, MAX_DEPTH).expect("valid JSON");
    let root = Value::root(bytes);
    let profile = root
        .get("linux")
        .and_then(|l| l.get("seccomp"))
        .unwrap_or(root);
    let log = Log {
        fd: None,
        debug: false,
    };
    let mut buf = [sock_filter {
        code: 0,
        jt: 0,
        jf: 0,
        k: 0,
    }; limits::INSNS];
    let len = compile(profile, false, &log, &mut buf)
        .expect("compiles")
        .program
        .len();
    let mut times: Vec<u128> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let f = compile(profile, false, &log, &mut buf).expect("compiles");
            std::hint::black_box(f.program.len());
            t.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    println!(
        "{path}: {len} instructions, compile median {:.1} µs (min {:.1}, {rounds} rounds)",
        times[rounds / 2] as f64 / 1000.0,
        times[0] as f64 / 1000.0
    );
}
