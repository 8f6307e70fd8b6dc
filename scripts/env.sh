# Sourced before every cargo/npx call of the Makefile: puts the project's tools
# on PATH and selects the Rust toolchain scripts/bootstrap.sh chose
# (target/tools/toolchain: empty = rustup default, `system-path` = Debian's
# rustc in /usr/bin without rustup, else a rustup toolchain name).
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$_root/target/tools/node_modules/.bin:$PATH"
if [ -s "$_root/target/tools/toolchain" ]; then
  _tc="$(cat "$_root/target/tools/toolchain")"
  case "$_tc" in
    system-path) export PATH="/usr/bin:$PATH" ;;  # Debian rustc-web, no rustup
    *) export RUSTUP_TOOLCHAIN="$_tc" ;;
  esac
fi
# leptos reads LEPTOS_OUTPUT_NAME at compile time (to name the wasm file).
# cargo-leptos sets it; setting it for plain cargo too means `cargo test` and
# `cargo leptos build` share artifacts instead of rebuilding each other's.
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-fc_app}"
unset _root _tc
