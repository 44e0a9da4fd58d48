#!/usr/bin/env bash
# `make test`: the whole test run, including set-up on a fresh Debian/Ubuntu machine.
#
#   scripts/test.sh [pytest args...]        e.g. scripts/test.sh -k secrets   or   tests/unit/test_secrets.py
#
# 1. apt packages (scripts/setup-system.sh) when running as root and some are missing
# 2. .venv with `pip install -e '.[test]'`
# 3. ruff check assistant_app tests bench (lint errors fail the run)
# 4. a private PulseAudio with a virtual microphone (virt_speaker -> virt_mic, plus the fifo_mic pipe source)
# 5. pytest inside `dbus-run-session` with an unlocked gnome-keyring, a throw-away HOME and ASSISTANT_APP_HOME,
#    QT_QPA_PLATFORM=offscreen; tests that need a real display start their own Xvfb.
# Everything temporary lives in one private directory that is removed on exit; daemons are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
started_at=$(date +%s)

log() { printf '[test.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$ROOT/artifacts/logs"
rm -f "$ROOT/artifacts/junit.xml"  # a stale report must not feed the summary

# ---- 1. system packages ---------------------------------------------------------------------------
missing="$(scripts/setup-system.sh --missing test)"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    scripts/setup-system.sh test
  else
    log "WARNING: missing system packages: $missing"
    log "WARNING: install them with: sudo scripts/setup-system.sh test   (real-component tests will skip)"
  fi
fi

# ---- 2. virtualenv --------------------------------------------------------------------------------
scripts/ensure-venv.sh test
PY="$ROOT/.venv/bin/python"

# ---- 3. lint --------------------------------------------------------------------------------------
if [ "${SKIP_LINT:-0}" = 1 ] && [ "${CI:-}" != true ]; then
  log "WARNING: SKIP_LINT=1: ruff not run"
else
  log "ruff check assistant_app tests bench"
  "$ROOT/.venv/bin/ruff" check assistant_app tests bench || die "lint errors (fix them, or see: make lint)"
fi

# ---- 4. private temp dir, cleanup -----------------------------------------------------------------
TMP_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/aa-test.XXXXXX")"
RUN_DIR="$TMP_ROOT/run"         # XDG_RUNTIME_DIR for PulseAudio, D-Bus and gnome-keyring (mode 700)
TEST_HOME="$TMP_ROOT/home"      # HOME of pytest and the keyring
PA_HOME="$TMP_ROOT/pa-home"     # HOME of the PulseAudio daemon
APP_HOME="$TMP_ROOT/app"        # ASSISTANT_APP_HOME
mkdir -p "$TEST_HOME" "$PA_HOME" "$APP_HOME"
mkdir -m 700 "$RUN_DIR"
PULSE_PID=""
pytest_rc=""

is_running() {  # PID 1 here does not reap orphans: a zombie counts as gone
  [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]
}

cleanup() {
  local rc=$?
  if [ -n "$PULSE_PID" ] && is_running "$PULSE_PID"; then
    kill "$PULSE_PID" 2>/dev/null || true
    for _ in $(seq 50); do is_running "$PULSE_PID" || break; sleep 0.1; done
  fi
  if [ "$rc" != 0 ] && [ -f "$TMP_ROOT/pulse.log" ]; then
    cp "$TMP_ROOT/pulse.log" "$ROOT/artifacts/logs/pulse.log" 2>/dev/null || true
  fi
  rm -rf "$TMP_ROOT"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 5. PulseAudio virtual microphone -------------------------------------------------------------
export XDG_RUNTIME_DIR="$RUN_DIR"
audio="off"
if command -v pulseaudio >/dev/null && command -v pactl >/dev/null; then
  HOME="$PA_HOME" pulseaudio -D -n --exit-idle-time=-1 --system=false --disallow-exit \
    --log-target=file:"$TMP_ROOT/pulse.log" \
    --load="module-native-protocol-unix" \
    --load="module-null-sink sink_name=virt_speaker sink_properties=device.description=VirtualSpeaker" \
    --load="module-virtual-source source_name=virt_mic master=virt_speaker.monitor" \
    --load="module-pipe-source source_name=fifo_mic file=$RUN_DIR/mic.fifo format=s16le rate=16000 channels=1" \
    || die "PulseAudio did not start; see artifacts/logs/pulse.log"
  PULSE_PID="$(cat "$RUN_DIR/pulse/pid" 2>/dev/null || true)"
  export PULSE_SERVER="unix:$RUN_DIR/pulse/native"
  export PULSE_LATENCY_MSEC=30   # otherwise the monitor runs at ~2 s latency and the first words are lost
  for _ in $(seq 100); do pactl info >/dev/null 2>&1 && break; sleep 0.05; done
  pactl info >/dev/null 2>&1 || die "PulseAudio does not answer on $PULSE_SERVER; see artifacts/logs/pulse.log"
  [ -n "$PULSE_PID" ] || die "PulseAudio wrote no pid file"
  pactl set-default-sink virt_speaker
  pactl set-default-source virt_mic
  audio="on (pid $PULSE_PID)"
else
  log "WARNING: pulseaudio/pactl not installed: audio tests will skip"
fi

# ---- 6. pytest inside a private D-Bus session with gnome-keyring ---------------------------------
export ASSISTANT_APP_HOME="$APP_HOME"
export QT_QPA_PLATFORM=offscreen
export QT_API=pyside6
export PYTHONDONTWRITEBYTECODE=1
# Hermetic: no real display, session bus, desktop keyring, XDG dirs or API credentials leak in
# (E2E tests start their own Xvfb; tests talk to local fake servers, never to a real account).
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS PYTHON_KEYRING_BACKEND \
  XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME \
  OPENAI_API_KEY OPENAI_BASE_URL OPENAI_ORG_ID OPENAI_PROJECT_ID
export NO_PROXY="${NO_PROXY:+$NO_PROXY,}127.0.0.1,localhost,::1"
export no_proxy="$NO_PROXY"

keyring="off"
have_keyring=0
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  have_keyring=1
  keyring="on (gnome-keyring in a private D-Bus session)"
  export ASSISTANT_APP_TEST_KEYRING=private
else
  log "WARNING: dbus-run-session/gnome-keyring-daemon not installed: keyring tests will skip"
fi

if [ "$audio" != off ] && [ "$have_keyring" = 1 ]; then
  export ASSISTANT_APP_REQUIRE_REAL=1   # harness tests then fail instead of skipping
elif [ "${CI:-}" = true ]; then
  die "CI must run the real-component tests, but audio=$audio keyring=$keyring"
fi

pytest_cmd=(
  "$PY" -m pytest
  -rfEs
  -o faulthandler_timeout=300
  --junitxml="$ROOT/artifacts/junit.xml"
  "$@"
)
# A hung test cannot keep CI busy forever; the traceback dump above shows where it hung.
# --foreground keeps pytest in the terminal's process group, so Ctrl-C still reaches it.
guard=(timeout --foreground --kill-after=30 "${ASSISTANT_APP_TEST_TIMEOUT:-1500}")

log "audio: $audio; keyring: $keyring; HOME=$TEST_HOME ASSISTANT_APP_HOME=$APP_HOME"
log "python ${pytest_cmd[*]:1}"
set +e
if [ "$have_keyring" = 1 ]; then
  # The keyring password is throw-away; it unlocks (and on first use creates) the login collection.
  # Without --unlock the collection stays locked and every call raises KeyringLocked (no display for a prompt).
  KR_PASS="test-$RANDOM-$RANDOM" HOME="$TEST_HOME" dbus-run-session -- bash -c '
      printf "%s" "$KR_PASS" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
      unset KR_PASS
      exec "$@" </dev/null
    ' bash "${guard[@]}" "${pytest_cmd[@]}" \
    2> >(grep --line-buffered -v -e 'Failed to set fd limit' >&2)
  pytest_rc=$?
else
  HOME="$TEST_HOME" "${guard[@]}" "${pytest_cmd[@]}" </dev/null
  pytest_rc=$?
fi
set -e

# ---- 7. summary -----------------------------------------------------------------------------------
counts=""
if [ -f "$ROOT/artifacts/junit.xml" ]; then
  counts="$("$PY" - "$ROOT/artifacts/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
t = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
passed = t["tests"] - t["failures"] - t["errors"] - t["skipped"]
print(f"{passed} passed, {t['failures']} failed, {t['errors']} errors, {t['skipped']} skipped")
EOF
)" || counts=""
fi
elapsed=$(( $(date +%s) - started_at ))
case "$pytest_rc" in
  0) verdict="PASSED" ;;
  97) verdict="FAILED (gnome-keyring-daemon could not be unlocked)" ;;
  124|137) verdict="FAILED (timed out after ${ASSISTANT_APP_TEST_TIMEOUT:-1500}s)" ;;
  2) verdict="FAILED (pytest exit 2: interrupted or bad arguments)" ;;
  5) verdict="FAILED (no tests were collected)" ;;
  *) verdict="FAILED (pytest exit $pytest_rc)" ;;
esac
echo "==== make test: $verdict - ${counts:-no report} - audio: ${audio%% *}, keyring: ${keyring%% *} - ${elapsed}s ===="
exit "$pytest_rc"
