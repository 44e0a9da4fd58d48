"""Image files for tests and benchmarks, generated with Pillow (plus a header patch for bombs).

Every private marker below (camera make, GPS position, XMP, comment, PNG text) is a string a test
can search for in what the app sends: none of them may survive preparation.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageCms, ImageDraw

SECRET_MAKE = "LeakyCam-7731"
SECRET_COMMENT = b"secret-comment-5512"
SECRET_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description about="secret-xmp-8842"/></x:xmpmeta>'
SECRET_TEXT = "secret-png-text-9013"
GPS_LAT = (51.0, 30.0, 12.34)  # 51 deg 30' 12.34" N
GPS_IFD = 0x8825
ORIENTATION = 0x0112

RED = (220, 20, 20)
BLUE = (20, 20, 220)


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A photo-like RGB picture: smooth gradients plus sensor-like noise (many colours)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 128 + 100 * np.sin(x / max(width, 1) * 6.0)
    g = 128 + 100 * np.cos(y / max(height, 1) * 5.0)
    b = 128 + 80 * np.sin((x + y) / max(width + height, 1) * 9.0)
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: shows where the left edge went after orientation."""
    im = Image.new("RGB", (width, height), BLUE)
    ImageDraw.Draw(im).rectangle((0, 0, width // 2 - 1, height - 1), fill=RED)
    return im


def private_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = SECRET_MAKE  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = GPS_LAT
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.9)
    return exif


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_bytes(im: Image.Image, *, exif: Image.Exif | None = None, quality: int = 90, private: bool = False) -> bytes:
    buf = io.BytesIO()
    extra: dict = {}
    if exif is not None:
        extra["exif"] = exif
    if private:
        extra.update(comment=SECRET_COMMENT, xmp=SECRET_XMP, icc_profile=srgb_icc())
    im.save(buf, "JPEG", quality=quality, **extra)
    return buf.getvalue()


def png_bytes(im: Image.Image, *, private: bool = False) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    buf = io.BytesIO()
    extra: dict = {}
    if private:
        info = PngInfo()
        info.add_text("Location", SECRET_TEXT)
        info.add_itxt("Comment", SECRET_TEXT + "-itxt")
        extra.update(pnginfo=info, exif=private_exif(), icc_profile=srgb_icc())
    im.save(buf, "PNG", **extra)
    return buf.getvalue()


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def transparent_png(width: int = 300, height: int = 200) -> bytes:
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((20, 20, width - 20, height - 20), fill=(30, 160, 60, 255))
    return png_bytes(im)


def animated_gif(colours: tuple[tuple[int, int, int], ...] = (RED, BLUE, (20, 200, 20))) -> bytes:
    frames = [Image.new("RGB", (64, 48), c) for c in colours]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A small real PNG whose IHDR is patched to claim ``width`` x ``height`` (a decompression bomb's header)."""
    data = bytearray(png_bytes(Image.new("L", (8, 8), 0)))
    ihdr_at = data.index(b"IHDR")
    body = bytearray(data[ihdr_at + 4 : ihdr_at + 17])
    body[0:8] = struct.pack(">II", width, height)
    data[ihdr_at + 4 : ihdr_at + 17] = body
    data[ihdr_at + 17 : ihdr_at + 21] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(body)) & 0xFFFFFFFF)
    return bytes(data)


def minimal_psd(width: int = 4, height: int = 4) -> bytes:
    """A valid uncompressed 3-channel PSD (Pillow reads PSD but cannot write it)."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, image resources, layer and mask info
    return header + sections + struct.pack(">H", 0) + bytes(3 * width * height)


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>\n'
