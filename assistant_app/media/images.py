"""Images into a message: validate, orient, strip metadata, downscale and encode (Pillow, no Qt).

``prepare_image`` and ``thumbnail_only`` are pure functions that may take a while on big photos;
callers run them off the UI thread (``loop.run_in_executor`` / ``asyncio.to_thread``).

Why the output never carries metadata: the pixels are re-encoded from a fresh ``info``-less image
and nothing (EXIF, GPS, XMP, ICC, comments, text chunks) is passed to the encoder. An embedded ICC
profile is first used to convert the pixels to sRGB, so colours survive its removal.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import os
from dataclasses import dataclass

from PIL import Image

try:  # colour management is optional in some Pillow builds
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on the Pillow build
    ImageCms = None  # type: ignore[assignment]

from assistant_app.media.image_source import (
    DECODE_ERRORS,
    DEFAULT_MAX_PIXELS,
    MAX_FILE_BYTES,
    ImageError,
    open_image,
    read_source,
    too_many_pixels,
)

__all__ = ["DETAILS", "MAX_FILE_BYTES", "ImageError", "PreparedImage", "Thumbnail", "prepare_image",
           "target_size", "thumbnail_only"]  # fmt: skip

log = logging.getLogger(__name__)

DETAILS = ("auto", "low", "high")
THUMBNAIL_SIDE = 160
JPEG_QUALITY = 85
LOSSLESS_SOURCES = {"PNG", "GIF", "BMP", "TIFF", "WEBP"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PreparedImage:
    """What is stored and sent: metadata-free bytes plus what the UI shows about them."""

    data: bytes
    mime: str  # image/jpeg or image/png
    width: int
    height: int
    sha256: str
    thumbnail: bytes  # PNG, longest side <= THUMBNAIL_SIDE
    detail: str
    name: str
    note: str | None = None  # e.g. "Animated GIF: only the first frame is sent."
    source_format: str = ""
    source_size: tuple[int, int] = (0, 0)

    @property
    def extension(self) -> str:
        return "png" if self.mime == "image/png" else "jpg"

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Thumbnail:
    png: bytes
    width: int
    height: int
    source_size: tuple[int, int]  # as displayed (after EXIF orientation)


def target_size(size: tuple[int, int], detail: str) -> tuple[int, int]:
    """The size the model uses: ``low`` fits 512x512; otherwise long side <= 2048 and short side <= 768."""
    w, h = size
    low = detail == "low"
    scale = min(1.0, 512 / w, 512 / h) if low else min(1.0, 2048 / max(w, h), 768 / min(w, h))
    if scale >= 1.0:
        return w, h
    return max(1, round(w * scale)), max(1, round(h * scale))


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except DECODE_ERRORS:  # a broken EXIF block must not block the image
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def _swapped(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _frame_note(im: Image.Image) -> str | None:
    if im.format == "MPO":
        return None  # a camera's extra pictures (previews, depth), not an animation
    frames = getattr(im, "n_frames", 1) if im.format == "TIFF" else 2 if getattr(im, "is_animated", False) else 1
    if frames <= 1:
        return None
    im.seek(0)
    if im.format == "TIFF":
        return f"Multi-page TIFF: only the first of {frames} pages is sent."
    kind = {"GIF": "Animated GIF", "WEBP": "Animated WebP", "PNG": "Animated PNG"}.get(im.format or "", "Animation")
    return f"{kind}: only the first frame is sent."


def _decode(im: Image.Image, label: str, want: tuple[int, int], orientation: int) -> Image.Image:
    """Load the pixels; JPEGs are decoded at a reduced scale (``draft``) that still covers ``want``."""
    if im.format in ("JPEG", "MPO"):
        im.draft(im.mode, _swapped(want, orientation))
    try:
        im.load()
    except Image.DecompressionBombError:
        raise too_many_pixels(label, im.size, DEFAULT_MAX_PIXELS) from None
    except DECODE_ERRORS:
        raise ImageError(f"“{label}” is damaged or truncated and cannot be decoded.", "corrupt") from None
    if orientation != 1:
        im = im.transpose(_TRANSPOSE[orientation])
    return im


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert RGB/CMYK pixels from their embedded profile to sRGB (grey images are left alone)."""
    icc = im.info.get("icc_profile")
    if not icc or ImageCms is None or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if im.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(im, src, _srgb_profile(), outputMode=mode) or im
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        log.info("embedded colour profile ignored (unreadable)")
        return im


def _to_8bit(im: Image.Image) -> Image.Image:
    if im.mode.startswith("I;16"):
        return im.convert("I").point(lambda v: v / 257).convert("L")
    if im.mode in ("I", "F"):
        lo, hi = im.getextrema()
        if hi <= lo:
            return Image.new("L", im.size, 0)
        return im.point(lambda v: (v - lo) * 255.0 / (hi - lo)).convert("L")
    return im


def _normalise(im: Image.Image, label: str) -> tuple[Image.Image, bool]:
    """RGB, or RGBA when some pixel is actually transparent."""
    try:
        return _normalise_mode(_to_8bit(im))
    except ValueError:
        raise ImageError(f"“{label}” uses a colour mode ({im.mode}) this app cannot convert.", "unsupported") from None


def _normalise_mode(im: Image.Image) -> tuple[Image.Image, bool]:
    alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if alpha:
        im = im.convert("RGBA")
        lo, _hi = im.getchannel("A").getextrema()
        if lo < 255:
            return im, True
    return (im if im.mode == "RGB" else im.convert("RGB")), False


def _encode(im: Image.Image, fmt: str) -> bytes:
    im.info = {}  # never let the encoder pick up a comment, profile or EXIF from the source
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=JPEG_QUALITY)
    else:
        im.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _thumbnail_png(im: Image.Image, side: int) -> tuple[bytes, int, int]:
    thumb = im.copy()
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return _encode(thumb, "PNG"), thumb.width, thumb.height


def prepare_image(
    source: str | os.PathLike[str] | bytes,
    detail: str = "auto",
    *,
    name: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_pixels: int | None = None,
) -> PreparedImage:
    """Validate and prepare one image for sending. Raises :class:`ImageError` with the reason.

    Photos become JPEG (quality 85); images with transparent pixels become PNG, and so do
    lossless sources with few colours (screenshots, diagrams), which JPEG would smear.
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}")
    src = read_source(source, name, max_bytes)
    im = open_image(src.data, src.label, max_pixels)
    try:
        fmt = im.format or ""
        note = _frame_note(im)
        orientation = _orientation(im)
        shown = _swapped(im.size, orientation)
        want = target_size(shown, detail)
        out = _decode(im, src.label, want, orientation)
        out, transparent = _normalise(_to_srgb(out), src.label)
        if out.size != want:
            out = out.resize(want, Image.Resampling.LANCZOS, reducing_gap=3.0)
        few_colours = fmt in LOSSLESS_SOURCES and out.getcolors(256) is not None
        encoding = "PNG" if transparent or few_colours else "JPEG"
        data = _encode(out, encoding)
        thumb, _tw, _th = _thumbnail_png(out, THUMBNAIL_SIDE)
    finally:
        im.close()
    return PreparedImage(
        data=data,
        mime="image/png" if encoding == "PNG" else "image/jpeg",
        width=out.width,
        height=out.height,
        sha256=hashlib.sha256(data).hexdigest(),
        thumbnail=thumb,
        detail=detail,
        name=src.label,
        note=note,
        source_format=fmt,
        source_size=shown,
    )


def thumbnail_only(
    source: str | os.PathLike[str] | bytes,
    side: int = THUMBNAIL_SIDE,
    *,
    name: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_pixels: int | None = None,
) -> Thumbnail:
    """A quick PNG thumbnail for a chip, with the same checks as ``prepare_image``.

    JPEGs are decoded at 1/2, 1/4 or 1/8 scale (``Image.draft``), so a 24-megapixel photo costs a
    fraction of a full decode.
    """
    src = read_source(source, name, max_bytes)
    im = open_image(src.data, src.label, max_pixels)
    try:
        _frame_note(im)
        orientation = _orientation(im)
        shown = _swapped(im.size, orientation)
        out = _decode(im, src.label, (side, side), orientation)
        out, _transparent = _normalise(out, src.label)
        png, width, height = _thumbnail_png(out, side)
    finally:
        im.close()
    return Thumbnail(png=png, width=width, height=height, source_size=shown)
