//! The `ocinit` binary: musl's start-up code calls `main`, which hands the environment to
//! [`ocinit::entry::main`]. Everything else lives in the library.
// A test build of this file (`cargo clippy --all-targets`) is an empty std program.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// `#[no_mangle]` counts as unsafe code; this file only names the entry points musl expects.
#![allow(unsafe_code)]

#[cfg(not(test))]
use core::ffi::{c_char, c_int};

#[cfg(not(test))]
use ocinit::sys;

#[cfg(test)]
fn main() {}

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    sys::write_stderr(b"ocinit: internal error (panic)\n");
    sys::exit_group(255)
}

/// libcore is built with `panic = "unwind"` and references this symbol in non-LTO builds; with
/// `panic = "abort"` it is never called.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// Replaces musl's own, which crt1's `_start` calls: it would set up what only a libc program
/// needs (TLS, the thread pointer, stdio, atexit, auxv), while the init uses nothing of musl
/// but `memcpy`, `memmove`, `memcmp` and `strlen`. About 1.5 KiB less, and no `arch_prctl`
/// and `set_tid_address` at start. The C ABI lets us ignore the arguments after `argv`
/// (`init`, `fini`, the dynamic loader's).
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn __libc_start_main(
    main: extern "C" fn(c_int, *const *const c_char, *const *const c_char) -> c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // The kernel puts envp right after argv's NULL (not dereferenced here).
    let envp = argv.wrapping_add(usize::try_from(argc).unwrap_or(0) + 1);
    sys::exit_group(main(argc, argv, envp))
}

/// Called by our `__libc_start_main`, as musl's would, for any C program.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: musl passes the argv array the kernel built on the initial stack: NULL-terminated,
    // each entry NUL-terminated, alive and unmodified for the whole process.
    let args = unsafe { sys::StartupStrings::new(argv) };
    // SAFETY: the same holds for envp.
    let env = unsafe { sys::StartupStrings::new(envp) };
    ocinit::entry::main(args, env)
}
