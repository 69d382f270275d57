//! Replays every corpus file of every fuzz target (and the shared test data) through the
//! targets' checks: a crash found once stays fixed, on stable Rust.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        check(&std::fs::read(&path).expect("read"));
        n += 1;
    }
    assert!(n > 0, "empty corpus {}", dir.display());
    n
}

#[test]
fn config_decode_corpus() {
    let both = |data: &[u8]| {
        checks::config_decode(data);
        checks::indexed_config_decode(Box::leak(data.to_vec().into_boxed_slice()));
    };
    let n = replay("config_decode", both);
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    for sub in ["configs", "seccomp"] {
        for entry in std::fs::read_dir(shared.join(sub)).expect("shared testdata") {
            both(&std::fs::read(entry.expect("entry").path()).expect("read"));
        }
    }
    eprintln!("config_decode: {n} corpus files");
}

#[test]
fn frames_corpus() {
    replay("frames", checks::frames);
}

#[test]
fn mount_options_corpus() {
    replay("mount_options", checks::mount_options);
}

#[test]
fn seccomp_compile_corpus() {
    replay("seccomp_compile", checks::seccomp_compile);
}

#[test]
fn names_corpus() {
    replay("names", checks::names);
}

#[test]
fn unescape_corpus() {
    replay("unescape", checks::unescape);
}
