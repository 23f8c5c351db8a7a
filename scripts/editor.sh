#!/usr/bin/env bash
# Builds the cell editor's JavaScript (CodeMirror 6) into www/editor/dist/riffle-editor.js,
# which the UI imports through wasm-bindgen (www/src/bin/app/editor.rs).
# The npm packages are pinned in www/editor/package-lock.json and installed with
# `npm ci` only when node_modules is missing or older than the lockfile; npm's
# cache lives in RIFFLE_CACHE, so a second machine state builds offline.
# Idempotent: when neither the sources nor the lockfile changed, it does nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
dir="$here/www/editor"
out="$dir/dist/riffle-editor.js"

log() { printf '[editor] %s\n' "$*" >&2; }
fail() { printf '[editor] error: %s\n' "$*" >&2; exit 1; }

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 \
    || fail "'$tool' is not on PATH; the editor bundle needs Node.js 18+ and npm (run scripts/bootstrap.sh, or apt-get install nodejs npm)"
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] || fail "Node.js $(node --version) is too old for esbuild; install Node.js 18 or newer"

cd "$dir"
[ -f package-lock.json ] || fail "www/editor/package-lock.json is missing; it pins the editor's npm packages (restore it from git)"

# npm writes node_modules/.package-lock.json on every install: it is the stamp.
stamp="node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  log "installing the pinned npm packages (npm ci)"
  npm ci --no-audit --no-fund --prefer-offline --cache "$cache/npm-cache" --loglevel=error \
    || fail "npm ci failed in www/editor (see above); the npm registry must be reachable the first time, later runs use $cache/npm-cache"
  touch "$stamp"
fi

esbuild="node_modules/.bin/esbuild"
[ -x "$esbuild" ] || fail "$esbuild is missing after npm ci; delete www/editor/node_modules and run this script again"

# Rebuild only when a source, the lockfile or the installed packages are newer than the bundle.
if [ -f "$out" ] && [ -z "$(find src package-lock.json "$stamp" -newer "$out" -print -quit)" ]; then
  log "up to date: www/editor/dist/riffle-editor.js ($(wc -c <"$out") bytes)"
  exit 0
fi

"$esbuild" src/index.js --bundle --format=esm --minify --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$out" \
  || fail "esbuild could not bundle www/editor/src/index.js (see the error above)"
raw="$(wc -c <"$out")"
gz="$(gzip -9 -c "$out" | wc -c)"
log "built www/editor/dist/riffle-editor.js: $raw bytes, $gz gzipped"
