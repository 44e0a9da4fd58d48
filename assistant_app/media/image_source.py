"""Reading an image source safely: size limits, format sniffing, and a reason for every refusal.

Shared by :mod:`assistant_app.media.images` (full preparation) and its fast thumbnail path. Every
failure raises :class:`ImageError` whose ``reason`` is a stable code for the UI and whose message a
person can act on. No Qt.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

#: Formats Pillow may decode for us; everything else is refused even if Pillow could read it.
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "GIF": "GIF", "BMP": "BMP",
                    "TIFF": "TIFF"}  # fmt: skip
ACCEPTED_LIST = "PNG, JPEG, WebP, GIF, BMP or TIFF"
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Pillow's own decompression-bomb threshold (about 89 megapixels) unless the app changed it.
DEFAULT_MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485

# Errors Pillow raises while decoding damaged data (it has no single base class for them).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, MemoryError)

_SUPPORTED_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
)


_PILLOW_NAMES = {"ICO": "an icon (ICO) file", "CUR": "a cursor (CUR) file", "PSD": "a Photoshop (PSD) file",
                 "EPS": "an EPS (PostScript) file", "PDF": "a PDF document"}  # fmt: skip


class ImageError(Exception):
    """An image was refused. ``reason`` is one of: missing, unreadable, empty, too_large, not_image,
    corrupt, unsupported, too_many_pixels."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Source:
    data: bytes
    label: str  # the file name shown in messages ("pasted image" for raw bytes)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def read_source(source: str | os.PathLike[str] | bytes, name: str | None, max_bytes: int) -> Source:
    """The bytes of ``source`` (a path or raw bytes), refusing empty, huge and unreadable inputs."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label = name or "pasted image"
        if not data:
            raise ImageError(f"“{label}” is empty (0 bytes).", "empty")
        if len(data) > max_bytes:
            raise ImageError(f"“{label}” is too large ({_mb(len(data))}; the limit is {_mb(max_bytes)}).",
                             "too_large")  # fmt: skip
        return Source(data, label)
    path = Path(source)
    label = name or path.name or str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageError(f"“{label}” was not found.", "missing") from None
    except OSError as exc:
        raise ImageError(f"“{label}” cannot be read ({exc.strerror or type(exc).__name__}).", "unreadable") from None
    if path.is_dir():
        raise ImageError(f"“{label}” is a folder, not an image.", "not_image")
    if st.st_size == 0:
        raise ImageError(f"“{label}” is empty (0 bytes).", "empty")
    if st.st_size > max_bytes:
        raise ImageError(f"“{label}” is too large ({_mb(st.st_size)}; the limit is {_mb(max_bytes)}).", "too_large")
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise ImageError(f"“{label}” cannot be read (permission denied).", "unreadable") from None
    except OSError as exc:
        raise ImageError(f"“{label}” cannot be read ({exc.strerror or type(exc).__name__}).", "unreadable") from None
    if not data:
        raise ImageError(f"“{label}” is empty (0 bytes).", "empty")
    if len(data) > max_bytes:  # it grew between stat() and read()
        raise ImageError(f"“{label}” is too large (over {_mb(max_bytes)}).", "too_large")
    return Source(data, label)


def known_other_format(head: bytes) -> str | None:
    """A human name for well-known file types we refuse, from their first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text[:4096]):
        return "an SVG (vector) image"
    if head.startswith(b"8BPS"):
        return "a Photoshop (PSD) file"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")) and 0 < int.from_bytes(head[4:6], "little") < 256:
        return "an icon (ICO/CUR) file"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"):
            return "a HEIC/HEIF image"
        return "a video or MP4-family file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "a JPEG 2000 image"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")):
        return "a JPEG XL image"
    return None


def looks_supported(head: bytes) -> bool:
    return head.startswith(_SUPPORTED_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def refuse_unsupported(label: str, what: str) -> ImageError:
    return ImageError(f"“{label}” is {what}, which is not supported. Use {ACCEPTED_LIST}.", "unsupported")


def too_many_pixels(label: str, size: tuple[int, int] | None, limit: int) -> ImageError:
    dims = f" ({size[0]}×{size[1]} = {size[0] * size[1] / 1e6:.0f} megapixels)" if size else ""
    return ImageError(
        f"“{label}” is too large in pixels{dims}; the limit is {limit / 1e6:.0f} megapixels. "
        "It may be a decompression bomb, so it was not opened.",
        "too_many_pixels",
    )


def open_image(data: bytes, label: str, max_pixels: int | None) -> Image.Image:
    """Open (headers only) and check the format and pixel count; pixels are not decoded yet."""
    limit = max_pixels or DEFAULT_MAX_PIXELS
    head = data[:4096]
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise too_many_pixels(label, None, limit) from None
    except UnidentifiedImageError:
        other = known_other_format(head)
        if other:
            raise refuse_unsupported(label, other) from None
        if looks_supported(head):
            raise ImageError(f"“{label}” is damaged: it starts like an image but cannot be read.", "corrupt") from None
        raise ImageError(f"“{label}” is not an image (or not one this app can read).", "not_image") from None
    except DECODE_ERRORS:
        raise ImageError(f"“{label}” is damaged and cannot be decoded.", "corrupt") from None
    fmt = im.format or ""
    if fmt not in ACCEPTED_FORMATS:
        im.close()
        raise refuse_unsupported(label, _PILLOW_NAMES.get(fmt) or f"a {fmt or 'different'} image")
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise ImageError(f"“{label}” has no pixels ({width}×{height}).", "corrupt")
    if width * height > limit:
        im.close()
        raise too_many_pixels(label, (width, height), limit)
    return im
