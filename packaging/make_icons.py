"""Render resources/icons/assistant-app.svg to the hicolor PNG sizes, a Windows .ico and a macOS .icns.

    python packaging/make_icons.py            write resources/icons/hicolor/<N>x<N>/apps/assistant-app.png,
                                              resources/icons/assistant-app.ico and assistant-app.icns
    python packaging/make_icons.py --check    exit 1 if a committed icon is missing or has the wrong size

The icons are committed, so a package build never depends on this generator; run it after editing the SVG.
It renders with PySide6's QSvgRenderer (QtSvg ships in pyside6-essentials, offscreen, no display) and
writes .ico/.icns with Pillow.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "assistant-app.svg"
NAME = "assistant-app"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO = ICONS / f"{NAME}.ico"
ICNS = ICONS / f"{NAME}.icns"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_path(size: int) -> Path:
    return ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"


def render(svg: Path, size: int, out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"not a valid SVG: {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if the file is missing or not a PNG."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def stale() -> list[Path]:
    """Icons that are missing or not the size their folder names (file times mean nothing after a git checkout)."""
    out = [png_path(s) for s in SIZES if png_size(png_path(s)) != (s, s)]
    out += [p for p in (ICO, ICNS) if not p.is_file() or p.stat().st_size < 1024]
    return out


def write_ico_icns(work: Path) -> None:
    """Windows .ico (several sizes) and macOS .icns (up to 1024 px) from high-resolution renders."""
    from PIL import Image

    big = work / "1024.png"
    render(SVG, 1024, big)
    with Image.open(big) as im:
        im.load()
        im.save(ICNS, format="ICNS")
        im.save(ICO, format="ICO", sizes=[(s, s) for s in ICO_SIZES])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report missing or outdated PNGs")
    args = parser.parse_args(argv)
    if args.check:
        missing = stale()
        for path in missing:
            print(f"outdated or missing: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if missing else 0
    for size in SIZES:
        render(SVG, size, png_path(size))
        print(png_path(size).relative_to(ROOT))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_ico_icns(Path(tmp))
    print(ICO.relative_to(ROOT))
    print(ICNS.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
