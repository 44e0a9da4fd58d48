#!/usr/bin/env bash
# Build Assistant.app (PyInstaller onedir + BUNDLE), sign and notarise it when credentials are set, make a .dmg.
#
#   packaging/macos/build-macos.sh [--out DIR]      default DIR: dist/   (`make dist` on macOS runs this)
#
# Signing (skipped cleanly when unset: the app keeps PyInstaller's ad-hoc signature and runs locally):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Name (TEAMID)", in an unlocked keychain
# Notarisation (only after signing; skipped cleanly when unset), either
#   MACOS_NOTARY_PROFILE  a profile stored with `xcrun notarytool store-credentials`, or
#   MACOS_NOTARY_APPLE_ID + MACOS_NOTARY_TEAM_ID + MACOS_NOTARY_PASSWORD (an app-specific password)
# Other: PYTHON (default python3), BUILD_VENV (default build/venv-dist).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

OUT="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) mkdir -p "$2"; OUT="$(cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '[build-macos] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(uname -s)" = Darwin ] || die "this script runs on macOS (hdiutil, codesign, notarytool)"

PYTHON="${PYTHON:-python3}"
VENV="${BUILD_VENV:-$ROOT/build/venv-dist}"
WORK="$ROOT/build/pyinstaller"
ENTITLEMENTS="$ROOT/packaging/macos/entitlements.plist"

# ---- 1. clean build venv (the app + PyInstaller, no test tools) -------------------------------------------
stamp="$(cat pyproject.toml packaging/requirements-build.txt | shasum -a 256 | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.build-stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -U pip
  "$VENV/bin/python" -m pip install -q . -r packaging/requirements-build.txt
  echo "$stamp" >"$VENV/.build-stamp"
fi
"$VENV/bin/python" -m pip install -q --no-deps --force-reinstall .
VERSION="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("assistant-app"))')"
ARCH="$(uname -m)"

# ---- 2. PyInstaller: dist/Assistant.app --------------------------------------------------------------------
log "pyinstaller -> $WORK/dist/Assistant.app"
(cd "$ROOT/build" && "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$WORK/dist" --workpath "$WORK/work" "$ROOT/packaging/assistant-app.spec")
APP="$WORK/dist/Assistant.app"
[ -d "$APP" ] || die "no $APP"
mic="$(/usr/libexec/PlistBuddy -c 'Print :NSMicrophoneUsageDescription' "$APP/Contents/Info.plist" 2>/dev/null || true)"
[ -n "$mic" ] || die "Info.plist lacks NSMicrophoneUsageDescription (recordings would be silent)"

# The frozen app must start and report (no keyring prompt in CI).
"$APP/Contents/MacOS/assistant-app" doctor --no-keyring-probe --output "$WORK/doctor.json" \
  || die "the frozen app failed to run 'doctor'"

# ---- 3. signing (hardened runtime, inside-out) ---------------------------------------------------------------
signed=0
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  log "signing with '$MACOS_SIGN_IDENTITY' (hardened runtime, $ENTITLEMENTS)"
  # Nested code first (deepest paths first), then the app with its entitlements.
  while IFS= read -r f; do
    if file -b "$f" | grep -q 'Mach-O'; then
      codesign --force --timestamp --options runtime --sign "$MACOS_SIGN_IDENTITY" "$f"
    fi
  done < <(find "$APP/Contents" -type f \( -name '*.so' -o -name '*.dylib' -o -perm -u+x \) \
             | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-)
  codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
    --sign "$MACOS_SIGN_IDENTITY" "$APP"
  codesign --verify --deep --strict --verbose=2 "$APP"
  signed=1
else
  log "MACOS_SIGN_IDENTITY is not set: skipping signing and notarisation (PyInstaller's ad-hoc signature stays;"
  log "Gatekeeper will ask users to confirm the first start)"
fi

# ---- 4. .dmg -----------------------------------------------------------------------------------------------
mkdir -p "$OUT"
DMG="$OUT/assistant-app-$VERSION-macos-$ARCH.dmg"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
log "hdiutil -> $DMG"
hdiutil create -volname "Assistant $VERSION" -srcfolder "$STAGE" -ov -format UDZO -fs HFS+ "$DMG" >/dev/null
if [ "$signed" = 1 ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
fi

# ---- 5. notarisation ---------------------------------------------------------------------------------------
if [ "$signed" = 1 ]; then
  notary=()
  if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
    notary=(--keychain-profile "$MACOS_NOTARY_PROFILE")
  elif [ -n "${MACOS_NOTARY_APPLE_ID:-}" ] && [ -n "${MACOS_NOTARY_TEAM_ID:-}" ] && [ -n "${MACOS_NOTARY_PASSWORD:-}" ]; then
    notary=(--apple-id "$MACOS_NOTARY_APPLE_ID" --team-id "$MACOS_NOTARY_TEAM_ID" --password "$MACOS_NOTARY_PASSWORD")
  fi
  if [ ${#notary[@]} -gt 0 ]; then
    log "notarising $DMG (xcrun notarytool, waits for Apple)"
    xcrun notarytool submit "$DMG" "${notary[@]}" --wait
    xcrun stapler staple "$DMG"
    xcrun stapler validate "$DMG"
  else
    log "no notarisation credentials (MACOS_NOTARY_PROFILE or MACOS_NOTARY_APPLE_ID/TEAM_ID/PASSWORD): skipping"
  fi
fi

log "done: $DMG ($(du -h "$DMG" | cut -f1))"
echo "$DMG"
