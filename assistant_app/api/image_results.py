"""Image API results: dataclasses, tolerant parsing of ``ImagesResponse``, content-policy errors."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from assistant_app.api import errors as E
from assistant_app.api.image_options import MIME_OF_FORMAT

POLICY_CODES = {"content_policy_violation", "moderation_blocked", "image_generation_user_error"}


@dataclass(frozen=True)
class ImageUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    text_tokens: int = 0
    image_tokens: int = 0

    @classmethod
    def from_json(cls, data: Any) -> ImageUsage | None:
        if not isinstance(data, dict):
            return None

        def num(v: Any) -> int:
            return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0

        details = data.get("input_tokens_details") if isinstance(data.get("input_tokens_details"), dict) else {}
        return cls(num(data.get("input_tokens")), num(data.get("output_tokens")), num(data.get("total_tokens")),
                   num(details.get("text_tokens")), num(details.get("image_tokens")))  # fmt: skip


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes | None  # None only for a ``url`` result that was not downloaded
    mime: str
    url: str | None = None
    revised_prompt: str | None = None


@dataclass(frozen=True)
class ImageResult:
    images: list[GeneratedImage]
    usage: ImageUsage | None = None
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None

    @property
    def revised_prompt(self) -> str | None:
        return self.images[0].revised_prompt if self.images else None


@dataclass(frozen=True)
class PartialImage:
    index: int
    data: bytes
    mime: str


@dataclass(frozen=True)
class CompletedImage:
    data: bytes
    mime: str
    usage: ImageUsage | None = None
    revised_prompt: str | None = None
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None


ImageStreamEvent = PartialImage | CompletedImage


def sniff_mime(data: bytes, fallback: str = "image/png") -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return fallback


def decode_b64(text: Any, request_id: str | None, *, stream: bool) -> bytes:
    try:
        if not isinstance(text, str) or not text:
            raise ValueError("missing")
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        message = "The server sent an image that could not be decoded."
        if stream:
            raise E.MalformedStreamError(message, request_id=request_id) from None
        raise E.NotCompatibleError(message, request_id=request_id) from None


def policy_error(err: E.APIError) -> E.APIError:
    """A 400 for the content policy becomes :class:`ContentPolicyError`; others pass through."""
    if isinstance(err, E.ContentPolicyError):
        return err
    text = (err.detail or "").lower()
    if err.code in POLICY_CODES or "safety system" in text or "content policy" in text:
        server = f" The server said: {err.detail}" if err.detail else ""
        return E.ContentPolicyError(
            "The request was refused under the server's content policy. Change the prompt (or the image) "
            f"and try again.{server}",
            status=err.status, code=err.code, request_id=err.request_id, detail=err.detail,
        )  # fmt: skip
    return err


def parse_images_response(data: Any, output_format: str | None = None) -> ImageResult:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise E.NotCompatibleError("The server's answer has no image data: is it an OpenAI-compatible image API?")
    fallback = MIME_OF_FORMAT.get(str(data.get("output_format") or output_format or "png"), "image/png")
    images = []
    for item in data["data"]:
        if not isinstance(item, dict):
            continue
        revised = item.get("revised_prompt") if isinstance(item.get("revised_prompt"), str) else None
        if item.get("b64_json"):
            raw = decode_b64(item["b64_json"], None, stream=False)
            images.append(GeneratedImage(raw, sniff_mime(raw, fallback), None, revised))
        elif isinstance(item.get("url"), str):
            images.append(GeneratedImage(None, fallback, item["url"], revised))
    if not images:
        raise E.NotCompatibleError("The server answered without any image.")
    text = {k: str(data[k]) if data.get(k) is not None else None for k in ("size", "quality", "background")}
    fmt = data.get("output_format") or output_format
    return ImageResult(images, ImageUsage.from_json(data.get("usage")), output_format=fmt, **text)
