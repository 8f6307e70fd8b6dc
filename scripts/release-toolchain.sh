# Sourced by scripts/release.sh, scripts/bench/frontend.sh and
# scripts/bootstrap.sh: the nightly the release wasm is built with, and how.
#
# Pinned, so a release is the same build on every machine; the date is the
# nightly this project's machines carry. `rust-src` lets cargo rebuild the
# standard library (`-Zbuild-std`) with these flags:
#   -Cpanic=immediate-abort  a panic traps at once: no unwinding, no message
#   -Zlocation-detail=none   no file/line strings for panics
# (Not `-Zfmt-debug=none`: dependencies build some messages with `{:?}`.)
RELEASE_NIGHTLY="nightly-2026-05-20"
# Its rustc's commit: `rustc 1.97.0-nightly (e50aa6fba 2026-05-19)`.
RELEASE_NIGHTLY_COMMIT="e50aa6fba"
RELEASE_WASM_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"

# Prints the installed toolchain to build the release wasm with (the pinned
# nightly under its own name, or a `nightly` that is the same build); fails when there
# is none with rust-src and the wasm32 target.
release_nightly() {
  command -v rustup >/dev/null 2>&1 || return 1
  local t
  for t in "$RELEASE_NIGHTLY" nightly; do
    rustup run "$t" rustc -V 2>/dev/null | grep -q "($RELEASE_NIGHTLY_COMMIT " || continue
    rustup component list --toolchain "$t" --installed 2>/dev/null | grep -q '^rust-src' || continue
    rustup target list --toolchain "$t" --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || continue
    echo "$t"
    return 0
  done
  return 1
}

# Sets RELEASE_WASM_ENV, the environment a release wasm build runs in
# (`env "${RELEASE_WASM_ENV[@]}" cargo leptos build … --frontend-only`):
# the pinned nightly with -Zbuild-std and the flags above, or nothing (the
# stable toolchain) when release_nightly finds none. RELEASE_WASM_TOOLCHAIN
# says which, for logs and reports.
release_wasm_env() {
  local nightly
  if nightly="$(release_nightly)"; then
    RELEASE_WASM_ENV=(RUSTUP_TOOLCHAIN="$nightly" CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$RELEASE_WASM_RUSTFLAGS")
    RELEASE_WASM_TOOLCHAIN="\`$(rustup run "$nightly" rustc --version)\` with -Zbuild-std, RUSTFLAGS \`$RELEASE_WASM_RUSTFLAGS\`"
  else
    RELEASE_WASM_ENV=()
    RELEASE_WASM_TOOLCHAIN="the stable toolchain (no $RELEASE_NIGHTLY with rust-src here: scripts/bootstrap.sh release)"
  fi
}
