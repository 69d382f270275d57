#!/usr/bin/env bash
# The whole test suite (the README's test command): build the release binaries that the
# integration tests drive, then run every test of both workspaces.
# Needs: the x86_64-unknown-linux-musl Rust target, Debian's busybox-static, binutils, python3;
# .ci/run installs them on a fresh machine. Root-only tests skip with a reason unless
# OCINIT_MUST_WORK=1 (CI), where a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Lints first: formatting, and clippy with every warning an error (both workspaces).
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
  cargo fmt --check && cargo fmt --check --manifest-path ocirun/Cargo.toml && cargo fmt --check --manifest-path fuzz/Cargo.toml --all
  cargo clippy --locked --all-targets -q -- -D warnings
  cargo clippy --locked --all-targets -q --manifest-path ocirun/Cargo.toml -- -D warnings
  cargo clippy --locked --all-targets -q --manifest-path fuzz/checks/Cargo.toml -- -D warnings
else
  echo "note: rustfmt/clippy not installed; lint checks not run" >&2
fi

cargo build --release --locked
cargo build --release --locked --manifest-path ocirun/Cargo.toml
# aarch64: the init built with Debian's cross linker, its library tests run under qemu-user
# (`.cargo/config.toml`); tests/aarch64.rs drives the binary. Needed in CI, optional elsewhere.
if [ "${OCINIT_MUST_WORK:-}" = 1 ] || { rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-musl \
     && command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null; }; then
  cargo build --release --locked --target aarch64-unknown-linux-musl
  cargo test --release --locked --target aarch64-unknown-linux-musl --lib
else
  echo "note: no aarch64 target, cross linker or qemu-aarch64-static: the aarch64 build and its tests are skipped" >&2
fi
cargo test --release --locked
cargo test --release --locked --manifest-path ocirun/Cargo.toml
# The fuzz targets' checks over every corpus file (stable; the long fuzz runs are bench/fuzz.sh).
cargo test --release --locked --manifest-path fuzz/checks/Cargo.toml
