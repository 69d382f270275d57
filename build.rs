//! Link-time shaping of the init binary.
//!
//! The init is built with `panic = "abort"` and never unwinds, yet the precompiled `core` carries
//! unwind tables that the linker keeps (`KEEP(*(.eh_frame))` in ld's default script): about 15 KiB,
//! an eighth of the binary. An implicit linker script inserted before `.text` discards them before
//! the default rule sees them. crtbegin/crtend keep theirs: crtbegin's `__do_init` refers to its own
//! `.eh_frame` section and the link fails without it (80 bytes remain).
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "linux" {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let script = out.join("discard-unwind-tables.ld");
    fs::write(
        &script,
        "SECTIONS { /DISCARD/ : { *(EXCLUDE_FILE(*crtbegin*.o *crtend*.o) .eh_frame) } } INSERT BEFORE .text;\n",
    )
    .expect("write linker script");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    println!("cargo:rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    // Without RELRO, ld may still start the data segment on a page boundary of the file (up to
    // 4 KiB of padding) when it would save a page of memory; with a small common page size it
    // packs data right after the code (same page offset, as ELF requires).
    println!("cargo:rustc-link-arg-bins=-Wl,-z,common-page-size=64");
    // Static musl never applies PT_GNU_RELRO (no dynamic loader runs; /proc/PID/maps shows the
    // segment rw-p), so RELRO protects nothing and only costs the padding that makes it end on
    // a page boundary: 2 KiB of file here.
    println!("cargo:rustc-link-arg-bins=-Wl,-z,norelro");
}
