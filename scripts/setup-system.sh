#!/usr/bin/env bash
# System (apt) packages for assistant-app on Debian/Ubuntu.
#
#   scripts/setup-system.sh [run|test]            install what is missing (root; apt-get update once)
#   scripts/setup-system.sh --missing [run|test]  print the missing packages (space separated), install nothing
#
# "run":  what the app needs to start its Qt window and reach the microphone.
# "test": also Xvfb + screenshot/input tools, PulseAudio + espeak-ng/sox for the virtual microphone,
#         D-Bus + gnome-keyring + secret-tool for a real Secret Service (default).
# When everything is installed it returns in a few milliseconds (dpkg-query only, no apt).
set -euo pipefail

RUN_PKGS=(
  # Qt 6 offscreen + xcb platform plugins (icccm4 and keysyms1 are the ones a minimal image lacks)
  libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-sync1
  libxcb-shm0 libx11-xcb1
  # sounddevice loads PortAudio from the system; ALSA's pulse plugin routes it to PulseAudio/PipeWire
  libportaudio2 libasound2-plugins
)
TEST_PKGS=(
  xvfb xauth x11-apps imagemagick xdotool
  pulseaudio pulseaudio-utils espeak-ng sox
  dbus dbus-x11 gnome-keyring libsecret-tools
  # the Linux package build and its test (tests/e2e/test_installed_package.py): desktop-file-validate,
  # and icupkg + a C compiler to trim Qt's ICU data (packaging/linux/trim_icu.py)
  desktop-file-utils icu-devtools gcc
)

list_only=0
if [ "${1:-}" = "--missing" ]; then
  list_only=1
  shift
fi
profile="${1:-test}"
case "$profile" in
  run) wanted=("${RUN_PKGS[@]}") ;;
  test) wanted=("${RUN_PKGS[@]}" "${TEST_PKGS[@]}") ;;
  *) echo "usage: $0 [--missing] [run|test]" >&2; exit 2 ;;
esac

# A Debian system python without ensurepip cannot create the venv.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  wanted+=(python3-venv)
fi

missing_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "${wanted[*]}"  # not a dpkg system: everything counts as missing
    return
  fi
  local installed
  installed=" $(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${wanted[@]}" 2>/dev/null \
    | awk '$1 == "ii" { printf "%s ", $2 }')"
  local out=() p
  for p in "${wanted[@]}"; do
    [[ "$installed" == *" $p "* ]] || out+=("$p")
  done
  echo "${out[*]}"
}

missing="$(missing_packages)"
if [ "$list_only" = 1 ]; then
  echo "$missing"
  exit 0
fi
if [ -z "$missing" ]; then
  echo "[setup-system] all ${#wanted[@]} '$profile' packages already installed" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup-system] not a Debian/Ubuntu system; install the equivalents of: $missing" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "[setup-system] missing packages: $missing" >&2
  echo "[setup-system] run: sudo $0 $profile" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log_dir="$(cd "$(dirname "$0")/.." && pwd)/artifacts/logs"
mkdir -p "$log_dir"
log="$log_dir/apt.log"
echo "[setup-system] installing: $missing (log: $log)" >&2
{
  # .ci/run may already have refreshed the lists to install make; do it once per run.
  if [ "${ASSISTANT_APP_APT_UPDATED:-0}" != 1 ]; then
    apt-get update -q
  fi
  # shellcheck disable=SC2086  # word splitting of the package list is intended
  apt-get install -y -q --no-install-recommends $missing
} >"$log" 2>&1 || {
  echo "[setup-system] apt-get failed; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
}
still="$(missing_packages)"
if [ -n "$still" ]; then
  echo "[setup-system] still missing after install: $still" >&2
  exit 1
fi
echo "[setup-system] done" >&2
