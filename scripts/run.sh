#!/usr/bin/env bash
# `make run`: start the app from this checkout, setting up .venv on first use.
#   scripts/run.sh [assistant-app args...]
set -euo pipefail
cd "$(dirname "$0")/.."

missing="$(scripts/setup-system.sh --missing run)"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    scripts/setup-system.sh run
  else
    echo "[run] WARNING: missing system packages: $missing" >&2
    echo "[run] WARNING: install them with: sudo scripts/setup-system.sh run" >&2
  fi
fi

scripts/ensure-venv.sh

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "[run] WARNING: no DISPLAY or WAYLAND_DISPLAY: the window cannot open." >&2
  echo "[run]          Use a desktop session, or e.g.: xvfb-run -a make run" >&2
fi
exec .venv/bin/assistant-app "$@"
