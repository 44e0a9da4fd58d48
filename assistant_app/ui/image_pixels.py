"""Decoding images for display without stalling the UI thread.

Worker threads decode with Pillow, which releases the GIL while it decodes and resamples. Qt's
``QImage.fromData``/``scaled`` do not release it (measured: a 1024x1024 PNG decode in a worker
made the UI thread's 1 ms timer up to 18 ms late; the same with Pillow, under 1 ms). So workers
return plain ``Pixels`` and the UI thread wraps them in a ``QImage`` (one memory copy).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

_FORMATS = {"RGB": QImage.Format.Format_RGB888, "RGBA": QImage.Format.Format_RGBA8888}


@dataclass(frozen=True)
class Pixels:
    data: bytes
    width: int
    height: int
    mode: str  # "RGB" or "RGBA"
    source_size: tuple[int, int] = (0, 0)


def scaled_size(width: int, height: int, side: int) -> QSize:
    """``width`` x ``height`` fitted into ``side`` x ``side`` (never enlarged)."""
    if width <= 0 or height <= 0:
        return QSize(side, side)
    scale = min(1.0, side / max(width, height))
    return QSize(max(1, round(width * scale)), max(1, round(height * scale)))


def decode_pixels(source: bytes | str | os.PathLike[str], side: int) -> Pixels:
    """Decode to at most ``side`` pixels on the long side (any thread). Raises OSError/ValueError if unreadable."""
    from PIL import Image  # loaded on first image, not at start-up

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
        size = im.size
        if im.format == "JPEG":
            im.draft("RGB", (side, side))  # DCT scaling: decode a JPEG at 1/2, 1/4 or 1/8 size
        im.load()
        out = im.convert("RGBA" if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info else "RGB")
    if max(out.size) > side:
        out.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=1.0)  # box-reduce first: fast
    return Pixels(out.tobytes(), out.width, out.height, out.mode, size)


def to_qimage(pixels: Pixels) -> QImage:
    """A ``QImage`` that owns a copy of the pixels (UI thread; about 0.2 ms for 512x512)."""
    channels = 4 if pixels.mode == "RGBA" else 3
    view = QImage(pixels.data, pixels.width, pixels.height, pixels.width * channels, _FORMATS[pixels.mode])
    return view.copy()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header only."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except (OSError, ValueError):
        return 0, 0
