#!/usr/bin/env bash
# Installs what `make run` / `make test` need, and only what is missing.
#
# Idempotent: every step checks first and prints `ok` or what it installs.
# Works on an ordinary machine with rustup and internet, and on an offline
# Debian machine (root, package registries only) where rustup cannot fetch the
# wasm32 standard library: there it builds that std from Debian's rust-web-src.
#
# Usage: scripts/bootstrap.sh [rust|e2e|release|all]   (default: all; release
# adds the pinned nightly `make release` and `make bench` build the wasm with)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/target/tools"            # project-local tools (gitignored)
CARGO_LEPTOS_VERSION="0.3.11"
BINARYEN_VERSION="132.0.0"            # npm binaryen; Debian's wasm-opt 108 breaks hydration
STRIPE_PYTHON_VERSION="16.1.0"        # stripe-python for server/tests/stripe_python.rs (pins API 2026-10-28.endive)
WASM_TARGET="wasm32-unknown-unknown"
SYSTEM_SYSROOT="/usr/lib/rustlib"

say()  { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }
die()  { printf '\033[1;31m[bootstrap] error:\033[0m %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"

SUDO=""
if [ "$(id -u)" -ne 0 ] && have sudo; then SUDO="sudo"; fi
APT_UPDATED=""
can_apt() { have apt-get && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; }
apt_install() {
  have apt-get || die "need the Debian packages: $* (no apt-get here; install them by hand)"
  can_apt || die "need the Debian packages: $* (run as root, or install sudo)"
  if [ -z "$APT_UPDATED" ]; then say "apt-get update"; $SUDO apt-get update -qq; APT_UPDATED=1; fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wasm_bindgen_version() {
  # The CLI must equal the library in Cargo.lock exactly.
  awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock"
}

# --- Rust: a toolchain (>= 1.96) that can build wasm32 ------------------------
# The choice is written to target/tools/toolchain and exported as
# RUSTUP_TOOLCHAIN by the Makefile: "" = rustup's default, "1.96" = a rustup
# toolchain fetched for this project, "system" = Debian's rustc-web.
TOOLCHAIN_FILE="$TOOLS/toolchain"
MIN_RUST_MINOR=96

rustc_minor() { "$@" --version 2>/dev/null | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p'; }
rustup_has_wasm() {  # $1 = toolchain name ("" = default)
  rustup ${1:++$1} target list --installed 2>/dev/null | grep -qx "$WASM_TARGET"
}
system_has_wasm() { ls "$SYSTEM_SYSROOT/$WASM_TARGET/lib/"libstd-*.rlib >/dev/null 2>&1; }
use_toolchain() { mkdir -p "$TOOLS"; printf '%s\n' "$1" > "$TOOLCHAIN_FILE"; say "ok: Rust toolchain '${1:-default}' ($2)"; }

ensure_wasm_toolchain() {
  # Judge rustup's own default, not a toolchain inherited from the caller's
  # environment (a shell that sourced scripts/env.sh exports one); the choice
  # made here is exported again by select_toolchain.
  unset RUSTUP_TOOLCHAIN
  if have rustup; then
    local m; m="$(rustc_minor rustc)"
    if [ "${m:-0}" -ge "$MIN_RUST_MINOR" ]; then
      if rustup_has_wasm "" || rustup target add "$WASM_TARGET" 2>/dev/null; then
        use_toolchain "" "rustup default, rustc 1.$m"; return
      fi
    fi
    if rustup_has_wasm "1.$MIN_RUST_MINOR"; then use_toolchain "1.$MIN_RUST_MINOR" "rustup"; return; fi
    say "trying: rustup toolchain install 1.$MIN_RUST_MINOR --target $WASM_TARGET"
    if rustup toolchain install "1.$MIN_RUST_MINOR" --profile minimal --target "$WASM_TARGET" 2>/dev/null; then
      use_toolchain "1.$MIN_RUST_MINOR" "rustup"; return
    fi
    say "rustup cannot fetch it; falling back to Debian's rustc-web and building the wasm32 std"
  fi
  if ! system_has_wasm; then
    [ "$(rustc_minor /usr/bin/rustc)" -ge "$MIN_RUST_MINOR" ] 2>/dev/null \
      && [ -d "$SYSTEM_SYSROOT/src/rust/library" ] && have lld-22 \
      || apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
    # rustc calls `rust-lld` for wasm; Debian ships it as lld-22.
    if ! have rust-lld && [ -e /usr/bin/lld-22 ]; then $SUDO ln -sf /usr/bin/lld-22 /usr/local/bin/rust-lld; fi
    say "building the $WASM_TARGET std from Debian's rust source (about a minute)"
    STD_TMP="$(mktemp -d)"
    trap 'rm -rf "${STD_TMP:-}"' EXIT
    local tmp="$STD_TMP"
    mkdir -p "$tmp/src"
    printf '[package]\nname = "wasm-std"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' > "$tmp/Cargo.toml"
    printf '#![no_std]\n' > "$tmp/src/lib.rs"
    ( cd "$tmp" && env -u RUSTUP_TOOLCHAIN RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        /usr/bin/cargo build -q --release --target "$WASM_TARGET" -Zbuild-std=std,panic_abort )
    $SUDO mkdir -p "$SYSTEM_SYSROOT/$WASM_TARGET/lib"
    $SUDO cp "$tmp/target/$WASM_TARGET/release/deps/"lib*.rlib "$SYSTEM_SYSROOT/$WASM_TARGET/lib/"
    rm -rf "$tmp"
    system_has_wasm || die "building the wasm32 std failed"
    say "installed: $WASM_TARGET std into $SYSTEM_SYSROOT"
  fi
  if have rustup; then
    rustup toolchain list | grep -q '^system' || { say "rustup toolchain link system /usr"; rustup toolchain link system /usr; }
    use_toolchain system "Debian rustc-web"
  else
    export PATH="/usr/bin:$PATH"; use_toolchain system-path "Debian rustc-web on PATH"
  fi
}

# Every cargo below runs on the chosen toolchain.
select_toolchain() {
  [ -f "$TOOLCHAIN_FILE" ] || return 0
  local t; t="$(cat "$TOOLCHAIN_FILE")"
  case "$t" in
    "") ;;
    system-path) export PATH="/usr/bin:$PATH" ;;
    *) export RUSTUP_TOOLCHAIN="$t" ;;
  esac
}

# --- Rust tools ----------------------------------------------------------------
ensure_cargo_leptos() {
  if have cargo-leptos && cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "ok: cargo-leptos $CARGO_LEPTOS_VERSION"; return
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads; several minutes, once)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
}

ensure_wasm_bindgen() {
  local want; want="$(wasm_bindgen_version)"
  [ -n "$want" ] || die "no wasm-bindgen in Cargo.lock"
  if have wasm-bindgen && wasm-bindgen --version | grep -q " $want\$"; then
    say "ok: wasm-bindgen-cli $want"; return
  fi
  say "installing wasm-bindgen-cli $want (matches Cargo.lock)"
  # Not --locked: the CLI's own lock pins crates some registries lack.
  CARGO_PROFILE_RELEASE_LTO=false cargo install wasm-bindgen-cli --version "$want" --force
}

ensure_wasm_opt() {
  if [ -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then say "ok: wasm-opt (npm binaryen)"; return; fi
  have npm || die "need Node.js and npm"
  say "installing wasm-opt from npm binaryen@$BINARYEN_VERSION into target/tools"
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "binaryen@$BINARYEN_VERSION" >/dev/null
}

# --- Release: the pinned nightly for the release wasm (scripts/release.sh) ----
# Optional: without it the release wasm is built on the stable toolchain.
ensure_release_nightly() {
  # shellcheck source=release-toolchain.sh
  source "$ROOT/scripts/release-toolchain.sh"
  local t
  if t="$(release_nightly)"; then say "ok: release nightly ($t, rust-src)"; return; fi
  if have rustup && rustup toolchain install "$RELEASE_NIGHTLY" --profile minimal \
       --component rust-src --target "$WASM_TARGET" 2>/dev/null && release_nightly >/dev/null; then
    say "installed: $RELEASE_NIGHTLY with rust-src and $WASM_TARGET"
  else
    say "no $RELEASE_NIGHTLY here: release builds use the stable toolchain (larger wasm)"
  fi
}

# --- End-to-end: browser and Playwright ---------------------------------------
ensure_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then say "ok: chromium at $CHROMIUM_PATH"; return; fi
  for c in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$c" ]; then say "ok: chromium at $c"; return; fi
  done
  # Debian's chromium is a real package (Ubuntu's is a snap stub): use it where we may.
  if can_apt && [ -f /etc/debian_version ] && ! grep -qi '^ID=ubuntu' /etc/os-release 2>/dev/null; then
    if apt_install chromium; then return; fi
  fi
  say "no system chromium: asking Playwright to download its own"
  (cd "$ROOT/end2end" && npx playwright install chromium)
}

ensure_end2end_deps() {
  have npm || die "need Node.js and npm"
  if [ -d "$ROOT/end2end/node_modules/@playwright/test" ] \
     && [ "$ROOT/end2end/node_modules/.package-lock.json" -nt "$ROOT/end2end/package-lock.json" ]; then
    say "ok: end2end node_modules"; return
  fi
  say "npm ci in end2end/ (no browser download)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
}

# stripe-python, the second official library the sandbox is tested with, in
# a venv of its own under target/tools/py (server/tests/stripe_python.rs).
ensure_stripe_python() {
  local py="$TOOLS/py/bin/python"
  if [ -x "$py" ] && "$py" -c "import stripe, sys; sys.exit(stripe.VERSION != '$STRIPE_PYTHON_VERSION')" 2>/dev/null; then
    say "ok: stripe-python $STRIPE_PYTHON_VERSION"; return
  fi
  have python3 || apt_install python3 python3-venv
  python3 -c "import venv, ensurepip" 2>/dev/null || apt_install python3-venv
  say "installing stripe-python $STRIPE_PYTHON_VERSION into target/tools/py"
  mkdir -p "$TOOLS"
  python3 -m venv "$TOOLS/py"
  "$TOOLS/py/bin/python" -m pip install --quiet --disable-pip-version-check "stripe==$STRIPE_PYTHON_VERSION"
}

# Tests source this file to call single steps.
if [ "${BOOTSTRAP_SOURCE_ONLY:-}" = 1 ]; then return 0; fi

what="${1:-all}"
case "$what" in
  rust) ensure_wasm_toolchain; select_toolchain; ensure_cargo_leptos; ensure_wasm_bindgen; ensure_wasm_opt ;;
  e2e)  ensure_end2end_deps; ensure_chromium; ensure_stripe_python ;;
  release) ensure_wasm_toolchain; select_toolchain; ensure_cargo_leptos; ensure_wasm_bindgen; ensure_wasm_opt
        ensure_release_nightly ;;
  all)  ensure_wasm_toolchain; select_toolchain; ensure_cargo_leptos; ensure_wasm_bindgen; ensure_wasm_opt
        ensure_end2end_deps; ensure_chromium; ensure_stripe_python ;;
  *) die "usage: $0 [rust|e2e|release|all]" ;;
esac
say "done ($what)"
