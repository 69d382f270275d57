//! The shipped init is static, links no allocator, and no dependency of it was built with
//! `std` or `alloc` (Cargo feature unification included: the whole workspace is checked).

mod common;

use std::process::Command;

use common::bin;

fn u16_at(b: &[u8], off: usize) -> usize {
    usize::from(u16::from_le_bytes([b[off], b[off + 1]]))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;

#[test]
fn no_interpreter_and_no_shared_libraries() {
    let elf = std::fs::read(bin("ocinit")).expect("read ocinit");
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not ELF64");
    let (phoff, phentsize, phnum) = (
        u64_at(&elf, 0x20) as usize,
        u16_at(&elf, 0x36),
        u16_at(&elf, 0x38),
    );
    let mut dynamic = None;
    for i in 0..phnum {
        let ph = &elf[phoff + i * phentsize..];
        let p_type = u32::from_le_bytes(ph[..4].try_into().expect("4 bytes"));
        assert_ne!(
            p_type, PT_INTERP,
            "PT_INTERP present: the binary is dynamically linked"
        );
        if p_type == PT_DYNAMIC {
            dynamic = Some((u64_at(ph, 8) as usize, u64_at(ph, 32) as usize));
        }
    }
    // A static-pie has a DYNAMIC segment (it relocates itself) with no DT_NEEDED entries.
    if let Some((offset, size)) = dynamic {
        for entry in elf[offset..offset + size].chunks_exact(16) {
            assert_ne!(
                u64_at(entry, 0),
                DT_NEEDED,
                "DT_NEEDED present: the binary needs a shared library"
            );
        }
    }
}

#[test]
fn no_allocator_is_linked() {
    let o = Command::new("nm")
        .arg(bin("ocinit"))
        .output()
        .expect("nm (binutils)");
    let symbols = String::from_utf8_lossy(&o.stdout);
    assert!(
        symbols.lines().count() > 50,
        "no symbol table to check: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let allocators = [
        "malloc",
        "calloc",
        "realloc",
        "free",
        "__rust_alloc",
        "__rdl_alloc",
        "__rg_alloc",
        "__rust_alloc_error_handler",
    ];
    for line in symbols.lines() {
        let name = line.rsplit(' ').next().unwrap_or("");
        assert!(
            !allocators.contains(&name),
            "allocator symbol linked: {line}"
        );
    }
}

#[test]
fn no_dependency_has_std_or_alloc() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Every package of the workspace, dev-dependencies included: what `cargo test` unifies.
    let o = Command::new(&cargo)
        .args([
            "tree",
            "--manifest-path",
            manifest,
            "--workspace",
            "-e",
            "features,normal,build,dev",
            "--prefix",
            "none",
        ])
        .output()
        .expect("cargo tree");
    assert!(
        o.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let tree = String::from_utf8_lossy(&o.stdout);
    assert!(
        tree.contains("rustix feature"),
        "unexpected cargo tree output:\n{tree}"
    );
    for line in tree.lines() {
        assert!(
            !line.contains("feature \"std\"") && !line.contains("feature \"alloc\""),
            "std/alloc enabled: {line}"
        );
    }
    // Structural guarantee: the std parent is not in this workspace.
    let o = Command::new(&cargo)
        .args([
            "metadata",
            "--manifest-path",
            manifest,
            "--no-deps",
            "--format-version",
            "1",
        ])
        .output()
        .expect("cargo metadata");
    let meta = String::from_utf8_lossy(&o.stdout);
    assert!(
        meta.contains("\"name\":\"ocinit\"") && !meta.contains("\"name\":\"ocirun\""),
        "ocirun joined the init's workspace"
    );
}

#[test]
fn stripped_size_budget() {
    let tmp = std::env::temp_dir().join(format!("ocinit-stripped-{}", std::process::id()));
    let o = Command::new("strip")
        .arg("-o")
        .arg(&tmp)
        .arg(bin("ocinit"))
        .output()
        .expect("strip (binutils)");
    assert!(
        o.status.success(),
        "strip: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let size = std::fs::metadata(&tmp).expect("stripped").len();
    let _ = std::fs::remove_file(&tmp);
    eprintln!("ocinit stripped size: {size} bytes");
    // The budget for the whole init with every feature in (issue 9): 128 KiB.
    assert!(
        size <= 128 * 1024,
        "stripped ocinit is {size} bytes, over the 128 KiB budget"
    );
}
