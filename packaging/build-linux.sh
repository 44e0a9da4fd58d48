#!/usr/bin/env bash
# Build the Linux packages: a PyInstaller onedir, then a .deb (dpkg-deb) and a .tar.gz of the onedir.
#
#   packaging/build-linux.sh [--out DIR]      default DIR: dist/   (`make dist` runs this)
#
# Environment:
#   PYTHON=python3          interpreter for the build venv (the bundle carries this Python)
#   BUILD_VENV=build/venv-dist
#   DEB_COMPRESSION=xz      xz (smallest, every dpkg) | zstd (fast; dpkg >= 1.21.18 / Debian 12, Ubuntu 21.10)
#   DEB_MAINTAINER="Name <mail>"
#   ICU_TRIM=1              shrink Qt's ICU data to what Qt uses (packaging/linux/trim_icu.py; needs icupkg
#                           from icu-devtools and cc); 0 ships the full 31 MB table
#
# The venv holds `pip install .` and PyInstaller only: test tools pull extra modules into the bundle
# (pytest -> pygments' image formatter -> PIL/numpy ...). It is re-created when pyproject.toml or
# packaging/requirements-build.txt change; the app itself is re-installed on every build.
# Build on the OLDEST distribution you support: the bundle links that system's glibc and libstdc++.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

OUT="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"
VENV="${BUILD_VENV:-$ROOT/build/venv-dist}"
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
WORK="$ROOT/build/pyinstaller"
APP=assistant-app
COMPRESSION="${DEB_COMPRESSION:-xz}"
MAINTAINER="${DEB_MAINTAINER:-assistant-app developers <assistant-app@example.invalid>}"
started=$(date +%s)

log() { printf '[build-linux] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in dpkg-deb dpkg-query ldd tar; do
  command -v "$tool" >/dev/null || die "$tool is needed (Debian/Ubuntu: dpkg, libc-bin, tar)"
done

pip_quiet() {  # pip's output only on failure; the local-index warnings of these machines are dropped
  local out rc=0
  out="$("$VENV/bin/python" -m pip "$@" 2>&1)" || rc=$?
  [ "$rc" = 0 ] || printf '%s\n' "$out" | grep -v '^WARNING: Location' >&2 || true
  return "$rc"
}

# ---- 1. clean build venv -----------------------------------------------------------------------------
stamp="$(cat pyproject.toml packaging/requirements-build.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.build-stamp" 2>/dev/null)" != "$stamp" ]; then
  log "creating $VENV ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python -m venv failed (Debian/Ubuntu: apt install python3-venv)"
  pip_quiet install -q -U pip
  pip_quiet install -q . -r packaging/requirements-build.txt
  echo "$stamp" >"$VENV/.build-stamp"
fi
log "installing the app from $ROOT into the build venv"
pip_quiet install -q --no-deps --force-reinstall .
# The venv must stay free of test tools (see the header).
if "$VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ("pytest", "ruff", "pytestqt", "IPython")))'; then :; else
  die "$VENV contains test tools; delete it and rebuild"
fi
VERSION="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("assistant-app"))')"
ARCH="$(dpkg --print-architecture)"

"$VENV/bin/python" packaging/make_icons.py --check || die "icons out of date: run python packaging/make_icons.py"

# ---- 2. PyInstaller onedir ---------------------------------------------------------------------------
log "pyinstaller (onedir) -> $WORK/dist/$APP"
(cd "$ROOT/build" && "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$WORK/dist" --workpath "$WORK/work" "$ROOT/packaging/assistant-app.spec") \
  || die "pyinstaller failed"
BUNDLE="$WORK/dist/$APP"
[ -x "$BUNDLE/$APP" ] || die "no executable at $BUNDLE/$APP"
# Strip symbol tables (pyenv/python.org builds ship libpython and lib-dynload with debug info; several wheels
# ship unstripped modules): ~10 MB. Never the auditwheel-vendored libraries in *.libs/: strip breaks their
# patchelf-ed layout (numpy's OpenBLAS then fails with "ELF load command address/offset not page-aligned").
# The smoke run below imports every module the app needs, so a library broken by this step fails the build.
if command -v strip >/dev/null && command -v readelf >/dev/null; then
  while IFS= read -r -d '' so; do
    if readelf -S "$so" 2>/dev/null | grep -q '\.symtab'; then
      strip --strip-unneeded "$so"
    fi
  done < <(find "$BUNDLE/_internal" -type f \( -name '*.so' -o -name '*.so.*' \) -not -path '*.libs/*' -print0)
else
  log "WARNING: strip/readelf (binutils) not found: the bundle keeps its symbol tables (~10 MB more)"
fi
if [ "${ICU_TRIM:-1}" = 1 ]; then
  python3 packaging/linux/trim_icu.py "$BUNDLE" || die "ICU trimming failed (ICU_TRIM=0 skips it)"
fi

# Smoke run of the frozen app: every library it needs imports (catches a broken strip or a missed module).
smoke_home="$(mktemp -d)"
QT_QPA_PLATFORM=offscreen ASSISTANT_APP_HOME="$smoke_home" "$BUNDLE/$APP" doctor --no-keyring-probe \
  >"$WORK/doctor.json" 2>"$WORK/doctor.err" || { cat "$WORK/doctor.err" >&2; die "the frozen app failed to run 'doctor'"; }
rm -rf "$smoke_home"
python3 - "$WORK/doctor.json" <<'PY' || die "the frozen app cannot import all its modules (see above)"
import json, sys
report = json.load(open(sys.argv[1]))
broken = {k: v for k, v in report["modules"].items() if v != "ok"}
for name, error in broken.items():
    print(f"[build-linux] {name}: {error}", file=sys.stderr)
sys.exit(1 if broken or not report["frozen"] else 0)
PY

# ---- 3. .deb -----------------------------------------------------------------------------------------
GLIBC="$(ldd --version | head -n1 | grep -oE '[0-9]+\.[0-9]+$')"
STAGE="$ROOT/build/deb-root"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/doc/$APP" "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$STAGE/opt/$APP"
ln -s "/opt/$APP/$APP" "$STAGE/usr/bin/$APP"
install -m 644 resources/assistant-app.desktop "$STAGE/usr/share/applications/$APP.desktop"
install -m 644 resources/icons/assistant-app.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/$APP.svg"
for png in resources/icons/hicolor/*/apps/$APP.png; do
  size="$(basename "$(dirname "$(dirname "$png")")")"
  install -D -m 644 "$png" "$STAGE/usr/share/icons/hicolor/$size/apps/$APP.png"
done
install -m 644 packaging/linux/copyright "$STAGE/usr/share/doc/$APP/copyright"
install -m 755 packaging/linux/postinst packaging/linux/postrm "$STAGE/DEBIAN/"
# Files and folders: root-owned (--root-owner-group), 644/755, nothing group/world-writable.
find "$STAGE" -path "$STAGE/DEBIAN" -prune -o -type d -exec chmod 755 {} +
find "$STAGE/opt" -type f -exec chmod go-w {} +
installed_kb="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
  -e "s/@GLIBC@/$GLIBC/" -e "s|@MAINTAINER@|$MAINTAINER|" packaging/linux/control.in >"$STAGE/DEBIAN/control"
(cd "$STAGE" && find opt usr -type f -exec md5sum {} + | sort -k2) >"$STAGE/DEBIAN/md5sums"

depends="$(sed -n 's/^Depends: //p' "$STAGE/DEBIAN/control")"
log "checking the bundle's system libraries against Depends"
python3 packaging/linux/check_bundle.py "$BUNDLE" --depends "$depends" >&2 \
  || die "the bundle links libraries that are missing or not covered by Depends (see above)"

mkdir -p "$OUT"
DEB="$OUT/${APP}_${VERSION}_${ARCH}.deb"
TGZ="$OUT/${APP}-${VERSION}-linux-$(uname -m).tar.gz"
rm -f "$DEB" "$TGZ"
log "dpkg-deb ($COMPRESSION) -> $DEB"
dpkg-deb --build --root-owner-group -Z"$COMPRESSION" "$STAGE" "$DEB" >/dev/null

# ---- 4. .tar.gz of the onedir (the .desktop file and icons are inside, in _internal/resources) ------
log "tar.gz -> $TGZ"
tar -C "$WORK/dist" --owner=0 --group=0 --numeric-owner -czf "$TGZ" "$APP"

log "done in $(( $(date +%s) - started ))s: $(du -h "$DEB" | cut -f1) $DEB, $(du -h "$TGZ" | cut -f1) $TGZ," \
  "bundle $(du -sh "$BUNDLE" | cut -f1)"
printf '%s\n%s\n' "$DEB" "$TGZ"
