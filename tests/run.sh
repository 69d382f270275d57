#!/usr/bin/env bash
# The whole test suite (the README's test command): build the release binaries that the
# integration tests drive, then run every test of both workspaces.
# Needs: the x86_64-unknown-linux-musl Rust target, Debian's busybox-static, binutils, python3;
# .ci/run installs them on a fresh machine. Root-only tests skip with a reason unless
# OCINIT_MUST_WORK=1 (CI), where a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked
cargo build --release --locked --manifest-path ocirun/Cargo.toml
cargo test --release --locked
cargo test --release --locked --manifest-path ocirun/Cargo.toml
