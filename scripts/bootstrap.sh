#!/usr/bin/env bash
# Idempotent set-up for Riffle: installs only what is missing, at pinned versions.
# Tools and build outputs live outside the clone (RIFFLE_CACHE), so a warm run is quick.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
tools="$cache/tools"
mkdir -p "$tools/bin"

TRUNK_VERSION="0.21.14"
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WBG_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; sub(/^version = "/, ""); sub(/"$/, ""); print; exit }' "$here/Cargo.lock" 2>/dev/null || true)"
WBG_VERSION="${WBG_VERSION:-0.2.130}"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# 1. The wasm32 target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. Debian packages: Chromium and its driver for browser tests; clang and
#    llvm-ar to compile zstd's C code (a Polars dependency) to wasm32; cmake and
#    OpenSSL headers to build librdkafka (the gateway's Kafka client); a Java
#    runtime and Maven for the Kafka broker (scripts/kafka.sh); kcat for the W2
#    benchmark; Node.js and npm for the editor bundle.
need_apt=()
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
[ -e /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -e /usr/include/curl/curl.h ] || need_apt+=(libcurl4-openssl-dev)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
command -v llvm-ar >/dev/null 2>&1 || need_apt+=(llvm)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# Node.js and npm build the cell editor's JavaScript (scripts/editor.sh).
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# Python 3 with venv for the test that validates .ipynb exports with pip's
# nbformat (scripts/python.sh makes the venv).
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# 3. Cargo-installed tools, pinned, into the cache.
have_version() { # bin version
  [ -x "$tools/bin/$1" ] && "$tools/bin/$1" --version 2>/dev/null | grep -q -- "$2"
}
if ! have_version trunk "$TRUNK_VERSION"; then
  log "installing trunk $TRUNK_VERSION (takes a few minutes once)"
  cargo install --quiet --root "$tools" trunk --version "=$TRUNK_VERSION" --locked \
    || cargo install --quiet --root "$tools" trunk --version "=$TRUNK_VERSION"
fi
if ! have_version wasm-bindgen "$WBG_VERSION"; then
  log "installing wasm-bindgen-cli $WBG_VERSION (takes a few minutes once)"
  # Without --locked: with it, the install fails on this toolchain.
  cargo install --quiet --root "$tools" wasm-bindgen-cli --version "=$WBG_VERSION"
fi

log "ready: trunk $TRUNK_VERSION, wasm-bindgen $WBG_VERSION, $(chromium --version 2>/dev/null | head -1)"
