"""The file parts of an /images/edits upload, checked against the limits in CONTRACT.md §3."""

from __future__ import annotations

import io
from collections.abc import Sequence

from assistant_app.api.errors import InvalidOptionsError

GPT_MAX_BYTES = 50 * 1024 * 1024
DALLE2_MAX_BYTES = 4 * 1024 * 1024
MASK_MAX_BYTES = 4 * 1024 * 1024
MAX_IMAGES = 16

FilePart = tuple[str, tuple[str, bytes, str]]


def image_kind(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``webp`` from the first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header (Pillow reads no pixels here)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def edit_files(image: bytes | Sequence[bytes], mask: bytes | None, model_family: str) -> list[FilePart]:
    """``image`` (one) or ``image[]`` (several) parts, plus ``mask``; refuses what the server would."""
    images = [bytes(image)] if isinstance(image, bytes | bytearray | memoryview) else [bytes(b) for b in image]
    if not images:
        raise InvalidOptionsError("Editing needs at least one image.")
    dalle = model_family == "dall-e-2"
    if dalle and len(images) > 1:
        raise InvalidOptionsError("dall-e-2 edits one image at a time.")
    if len(images) > MAX_IMAGES:
        raise InvalidOptionsError(f"At most {MAX_IMAGES} images can be edited together (got {len(images)}).")
    limit = DALLE2_MAX_BYTES if dalle else GPT_MAX_BYTES
    parts: list[FilePart] = []
    field = "image" if len(images) == 1 else "image[]"
    for i, data in enumerate(images, 1):
        kind = image_kind(data)
        if kind is None or (dalle and kind != "png"):
            wanted = "a PNG" if dalle else "PNG, JPEG or WebP"
            raise InvalidOptionsError(f"Image {i} for editing must be {wanted}.")
        if len(data) >= limit:
            raise InvalidOptionsError(f"Image {i} for editing is {_mb(len(data))}; it must be under {_mb(limit)}.")
        if dalle:
            size = image_dimensions(data)
            if size is not None and size[0] != size[1]:
                raise InvalidOptionsError(f"dall-e-2 edits square images only (this one is {size[0]}×{size[1]}).")
        ext = "jpg" if kind == "jpeg" else kind
        parts.append((field, (f"image-{i}.{ext}", data, f"image/{kind}")))
    if mask is not None:
        if image_kind(mask) != "png":
            raise InvalidOptionsError("The mask must be a PNG whose transparent pixels mark the area to edit.")
        if len(mask) >= MASK_MAX_BYTES:
            raise InvalidOptionsError(f"The mask is {_mb(len(mask))}; it must be under {_mb(MASK_MAX_BYTES)}.")
        mask_size, image_size = image_dimensions(mask), image_dimensions(images[0])
        if mask_size and image_size and mask_size != image_size:
            raise InvalidOptionsError(
                f"The mask is {mask_size[0]}×{mask_size[1]} but the image is {image_size[0]}×{image_size[1]}; "
                "they must be the same size."
            )
        parts.append(("mask", ("mask.png", mask, "image/png")))
    return parts
