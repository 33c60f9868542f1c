#!/usr/bin/env bash
# Installs what building and testing PyAirtable needs, skipping whatever is already there.
# Usage: scripts/install-tools.sh [build|test|fuzz]   ("test" adds Chromium and the Playwright
# packages; "fuzz" installs only cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-build}
CARGO_LEPTOS_VERSION=0.3.10
CARGO_DENY_VERSION=0.20.2
CARGO_FUZZ_VERSION=0.13.2
BINARYEN_VERSION=132
TOOLS_DIR=.tools

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "Please install $* with your system's package manager, then run this again." >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ ! -f "$TOOLS_DIR/.apt-updated" ]; then
    $sudo apt-get update -qq
    mkdir -p "$TOOLS_DIR" && touch "$TOOLS_DIR/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

if ! command -v cargo >/dev/null; then
  echo "Rust is not installed. Install it from https://rustup.rs (stable, 1.95 or later), then run this again." >&2
  exit 1
fi

# `make fuzz` needs nothing of the web build. Stable Rust runs cargo fuzz with RUSTC_BOOTSTRAP=1.
if [ "$want" = fuzz ]; then
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION (a few minutes on 2 cores)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
  exit 0
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# cargo-leptos runs the wasm-bindgen CLI, which must match the library version in Cargo.lock.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  say "Installing wasm-bindgen-cli $wasm_bindgen_version"
  # Not --locked: one of its locked dependencies is no longer in the registry.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

if ! command -v npm >/dev/null; then
  say "Installing Node.js and npm"
  apt_install nodejs npm
fi

# Release builds run wasm-opt. Debian's binaryen is too old (its output fails to hydrate),
# so it comes from npm into .tools/, which the Makefile puts on PATH.
if [ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
  say "Installing wasm-opt (binaryen $BINARYEN_VERSION) into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-save --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
fi

if [ "$want" = test ]; then
  if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
    say "Installing cargo-deny $CARGO_DENY_VERSION (about 10 minutes on 2 cores)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
  if ! command -v chromium >/dev/null; then
    say "Installing Chromium for the browser tests"
    apt_install chromium
  fi
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "Installing the Playwright packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
fi
