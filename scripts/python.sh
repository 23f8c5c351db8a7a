#!/usr/bin/env bash
# A Python virtual environment with pip's `nbformat`, for the test that checks
# Riffle's .ipynb export against the nbformat 4 JSON schema
# (tests/tests/e2e/formats.rs). Lives in the cache, outside the clone.
# Idempotent: when the venv already imports nbformat at the pinned version, it does nothing.
# Prints the venv's python on stdout; `cargo xtask test` passes it on as RIFFLE_PYTHON.
set -euo pipefail

cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
venv="$cache/venv"
python="$venv/bin/python"
NBFORMAT_VERSION="5.10.4"

log() { printf '[python] %s\n' "$*" >&2; }
fail() { printf '[python] error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 \
  || fail "python3 is not on PATH; run scripts/bootstrap.sh (or apt-get install python3 python3-venv)"

if [ -x "$python" ] && "$python" -c "import nbformat, sys; sys.exit(nbformat.__version__ != '$NBFORMAT_VERSION')" 2>/dev/null; then
  echo "$python"
  exit 0
fi

if [ ! -x "$python" ]; then
  log "creating a virtual environment in $venv"
  python3 -m venv "$venv" \
    || fail "python3 -m venv failed; on Debian install python3-venv (scripts/bootstrap.sh does), then delete $venv and run this again"
fi
log "installing nbformat $NBFORMAT_VERSION (with its JSON schema validator) into $venv"
"$python" -m pip install --quiet --disable-pip-version-check "nbformat==$NBFORMAT_VERSION" \
  || fail "pip could not install nbformat==$NBFORMAT_VERSION into $venv; PyPI must be reachable the first time"
"$python" -c "import nbformat" || fail "nbformat does not import in $venv after pip install; delete $venv and run this again"
echo "$python"
