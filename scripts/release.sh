#!/usr/bin/env bash
# `make release`: the production build. Serve target/release/server (with
# target/release/hash.txt beside it) and the site root (target/site, or
# LEPTOS_SITE_ROOT).
#
# - `--split`: every page but the link page is its own wasm chunk, fetched
#   when first shown (app/src/pages/mod.rs).
# - The wasm is built with the pinned nightly below and `-Zbuild-std`: a
#   standard library without panic messages or file locations (a panic
#   aborts at once; scripts/release-toolchain.sh has the flags). When that
#   nightly cannot be had (`scripts/bootstrap.sh release` installs it), the
#   stable toolchain builds the same site, some 10% larger, and says so.
# - wasm-opt, content-hashed file names, every static file precompressed
#   (brotli and gzip): cargo-leptos with `-P` and `hash-files`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh
# shellcheck source=release-toolchain.sh
source scripts/release-toolchain.sh

say() { printf '\033[1;34m[release]\033[0m %s\n' "$*"; }

release_wasm_env
say "wasm: $RELEASE_WASM_TOOLCHAIN"
env "${RELEASE_WASM_ENV[@]}" cargo leptos build --release -P --split --features split --frontend-only
say "server"
cargo leptos build --release -P --split --features split --server-only
say "done: target/release/server, $(tr '\n' ' ' < target/release/hash.txt)"
