//! Decode time of a config, measured on the host (std only for timing and file reading).
//!
//! `cargo run --release --example decode_time -- FILE [ITERATIONS]` prints the median time of
//! (1) JSON validation plus a walk that decodes every string of the document (what any reader
//! must do to see all of it) and (2) `config::decode` (validation of the fields ocinit acts on).
use std::time::Instant;

use ocinit::json::{self, Kind, Value};

fn walk(v: Value<'_>, buf: &mut [u8]) -> usize {
    match v.kind() {
        Kind::Object => v
            .members()
            .map(|(k, v)| k.decode_into(buf).unwrap_or(0) + walk(v, buf))
            .sum(),
        Kind::Array => v.elements().map(|e| walk(e, buf)).sum(),
        Kind::String => v.as_str().and_then(|s| s.decode_into(buf)).unwrap_or(0),
        _ => 1,
    }
}

fn median(mut f: impl FnMut() -> usize, n: usize) -> (f64, usize) {
    let mut times = Vec::with_capacity(n);
    let mut out = 0;
    for _ in 0..n {
        let t = Instant::now();
        out = std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], out)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: decode_time FILE [ITERATIONS]");
    let n: usize = args.next().map_or(2000, |s| s.parse().expect("iterations"));
    let doc: &'static [u8] = Box::leak(std::fs::read(&path).expect("read").into_boxed_slice());
    let mut buf = vec![0u8; doc.len()];
    let (walk_us, bytes) = median(
        || {
            json::validate_static(doc, json::MAX_DEPTH).expect("valid JSON");
            walk(Value::root(doc), &mut buf)
        },
        n,
    );
    let (decode_us, _) = median(
        || usize::from(ocinit::config::decode_static(doc).is_ok()),
        n,
    );
    println!(
        "{path}: {} bytes; validate + decode every string: {walk_us:.1} µs ({bytes} bytes of text); config::decode: {decode_us:.1} µs",
        doc.len()
    );
}
