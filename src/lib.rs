//! ocinit: a static, allocation-free OCI container init driven by a parent runtime.
//!
//! The parent spawns the binary with a control channel and a few other descriptors announced
//! in the environment (`docs/PROTOCOL.md`), streams it an unmodified OCI `config.json`, and the
//! init performs the container's setup itself and `execve`s the user process
//! (`docs/STEPS.md`). No heap: the config lives in a static buffer and everything decoded from
//! it is borrowed from there.
#![cfg_attr(not(test), no_std)]

pub mod caps;
pub mod cgroup;
pub mod config;
pub mod console;
pub mod copyup;
pub mod cpath;
pub mod devices;
pub mod entry;
pub mod error;
pub mod idmap;
pub mod json;
pub mod keyring;
pub mod lsm;
pub mod mounts;
pub mod names;
pub mod paths;
pub mod pid1;
pub mod process;
pub mod protocol;
pub mod resolve;
pub mod rootfs;
pub mod seccomp;
pub mod sys;
pub mod sysctl;
pub mod text;
pub mod texts;
pub mod vm;
