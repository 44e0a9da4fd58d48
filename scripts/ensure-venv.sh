#!/usr/bin/env bash
# Create ./.venv if needed and install this project into it in editable mode.
#
#   scripts/ensure-venv.sh          pip install -e .
#   scripts/ensure-venv.sh test     pip install -e '.[test]'
#
# pip runs only when the venv is new, pyproject.toml changed, or the install is broken, so repeated
# `make run` / `make test` start quickly. VENV overrides the location (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
extras="${1:-}"
spec="."
[ -n "$extras" ] && spec=".[$extras]"

log() { printf '[venv] %s\n' "$*" >&2; }

# Quiet: pip's output is shown only when it fails. pip on these machines also prints the harmless
# "WARNING: Location 'file:///...' is ignored" for its local indexes; those lines are always dropped.
quiet_pip() {
  local out rc=0
  out="$("$VENV/bin/python" -m pip "$@" 2>&1)" || rc=$?
  if [ "$rc" != 0 ]; then
    printf '%s\n' "$out" | grep -v -e '^WARNING: Location' >&2 || true
  fi
  return "$rc"
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "creating $VENV with $(command -v python3) ($(python3 --version 2>&1))"
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV"; then
    log "python3 -m venv failed; on Debian/Ubuntu install python3-venv (scripts/setup-system.sh does)"
    exit 1
  fi
  quiet_pip install -q -U pip
fi

hash_now="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
stamp_dir="$VENV/.assistant-app"
mkdir -p "$stamp_dir"

installed_ok() {
  # An editable install of THIS checkout (not merely importable from the current directory).
  (cd / && "$VENV/bin/python" -c 'import sys, assistant_app; print(assistant_app.__file__)' 2>/dev/null) \
    | grep -q "^$PWD/assistant_app/" && [ -x "$VENV/bin/assistant-app" ]
}

# The "test" install is a superset of the plain one.
for candidate in "${extras:-base}" test; do
  if [ "$(cat "$stamp_dir/$candidate" 2>/dev/null)" = "$hash_now" ] && installed_ok; then
    exit 0
  fi
  [ -n "$extras" ] && break
done

log "pip install -e '$spec'"
quiet_pip install -q -e "$spec"
installed_ok || { log "the editable install did not produce an importable assistant_app"; exit 1; }
echo "$hash_now" >"$stamp_dir/${extras:-base}"
