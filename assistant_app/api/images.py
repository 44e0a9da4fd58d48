"""POST /images/generations and /images/edits: whole results, and streamed partial previews.

``stream_image``/``stream_edit`` yield ``PartialImage`` events (each a complete PNG/JPEG/WebP the
UI can paint at once) and end with one ``CompletedImage``. A stream that breaks after a preview
raises a ``StreamError`` subclass; the caller still holds the last ``PartialImage`` it received.
Models that cannot stream (dall-e) are sent a plain request and yield only the completed image.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient, RetryCallback
from assistant_app.api.error_map import error_from_transport
from assistant_app.api.image_options import MIME_OF_FORMAT, edit_fields, family, generation_body, supports_streaming
from assistant_app.api.image_results import (
    CompletedImage,
    GeneratedImage,
    ImageResult,
    ImageStreamEvent,
    ImageUsage,
    PartialImage,
    decode_b64,
    parse_images_response,
    policy_error,
    sniff_mime,
)
from assistant_app.api.image_uploads import edit_files

__all__ = [
    "CompletedImage",
    "GeneratedImage",
    "ImageResult",
    "ImageStreamEvent",
    "ImageUsage",
    "PartialImage",
    "download_image",
    "edit_image",
    "generate_image",
    "stream_edit",
    "stream_image",
]


def _stream_failure(payload: Any, request_id: str | None) -> E.APIError:
    err = payload.get("error", payload) if isinstance(payload, dict) else payload
    message = err.get("message") if isinstance(err, dict) else str(err)
    code = err.get("code") if isinstance(err, dict) else None
    base = E.ServerStreamError(
        f"The image generation failed part-way: {message or 'the server reported an error'}",
        code=str(code) if code is not None else None, request_id=request_id, detail=message,
    )  # fmt: skip
    return policy_error(base)


async def download_image(client: OpenAIClient, url: str) -> bytes:
    """Fetch a result ``url`` (dall-e's ``response_format=url``); no credentials are sent with it."""
    host = httpx.URL(url).host or url
    try:
        response = await client.http.get(url, timeout=httpx.Timeout(60.0, connect=10.0))
    except httpx.HTTPError as exc:
        raise error_from_transport(exc, host=host) from None
    if not response.is_success:
        raise E.APIError(f"The generated image could not be downloaded from {host} ({response.status_code}).",
                         status=response.status_code)  # fmt: skip
    return response.content


async def _fetch_urls(client: OpenAIClient, result: ImageResult) -> ImageResult:
    images = []
    for img in result.images:
        if img.data is None and img.url:
            raw = await download_image(client, img.url)
            img = GeneratedImage(raw, sniff_mime(raw, img.mime), img.url, img.revised_prompt)
        images.append(img)
    return ImageResult(images, result.usage, result.size, result.quality, result.background, result.output_format)


async def _post(client: OpenAIClient, path: str, *, model: str, on_retry: RetryCallback | None, **body: Any) -> Any:
    try:
        data, _headers = await client.request_json("POST", path, model=model, on_retry=on_retry, **body)
    except E.BadRequestError as err:
        raise policy_error(err) from None
    return data


async def generate_image(
    client: OpenAIClient,
    prompt: str,
    *,
    model: str = "gpt-image-1",
    n: int = 1,
    on_retry: RetryCallback | None = None,
    fetch_urls: bool = True,
    **options: Any,
) -> ImageResult:
    """One non-streamed generation. ``options``: size, quality, style, response_format, background,
    output_format, output_compression, moderation, user (checked per model before sending)."""
    body = generation_body(prompt, model=model, n=n, **options)
    data = await _post(client, "/images/generations", model=model, on_retry=on_retry, json=body)
    result = parse_images_response(data, options.get("output_format"))
    return await _fetch_urls(client, result) if fetch_urls else result


async def edit_image(
    client: OpenAIClient,
    image: bytes | Sequence[bytes],
    prompt: str,
    mask: bytes | None = None,
    *,
    model: str = "gpt-image-1",
    n: int = 1,
    on_retry: RetryCallback | None = None,
    fetch_urls: bool = True,
    **options: Any,
) -> ImageResult:
    """Multipart POST /images/edits with one image or several (and an optional PNG mask)."""
    fields = edit_fields(prompt, model=model, n=n, **options)
    files = edit_files(image, mask, family(model))
    data = await _post(client, "/images/edits", model=model, on_retry=on_retry, data=fields, files=files)
    result = parse_images_response(data, options.get("output_format"))
    return await _fetch_urls(client, result) if fetch_urls else result


def _completed(payload: dict[str, Any], raw: bytes, fallback: str) -> CompletedImage:
    def text(key: str) -> str | None:
        return str(payload[key]) if payload.get(key) is not None else None

    return CompletedImage(raw, sniff_mime(raw, fallback), ImageUsage.from_json(payload.get("usage")),
                          text("revised_prompt"), text("size"), text("quality"), text("background"),
                          text("output_format"))  # fmt: skip


async def _events(
    client: OpenAIClient, path: str, prefix: str, *, model: str, on_retry: RetryCallback | None, **body: Any
) -> AsyncIterator[ImageStreamEvent]:
    request_id: str | None = None

    def remember(headers: httpx.Headers) -> None:
        nonlocal request_id
        request_id = headers.get("x-request-id")

    fmt = body["json"].get("output_format") if "json" in body else body["data"].get("output_format")
    fallback = MIME_OF_FORMAT.get(str(fmt or "png"), "image/png")
    stream = client.stream_events("POST", path, model=model, on_retry=on_retry, on_headers=remember, **body)
    try:
        async for sse in stream:
            if sse.event == "__json__":  # the server ignored stream=true
                result = parse_images_response(_loads(sse.data, request_id), fmt)
                img = result.images[0]
                if img.data is None:
                    raise E.NotCompatibleError("The server sent an image URL instead of a streamed image.")
                yield CompletedImage(img.data, img.mime, result.usage, img.revised_prompt, result.size,
                                     result.quality, result.background, result.output_format)  # fmt: skip
                return
            if not sse.data or sse.data.startswith("[DONE]"):
                continue
            payload = _loads(sse.data, request_id)
            kind = str(payload.get("type") or sse.event or "")
            if kind == "error" or sse.event == "error" or payload.get("error"):
                raise _stream_failure(payload, request_id)
            if kind == f"{prefix}.partial_image":
                raw = decode_b64(payload.get("b64_json"), request_id, stream=True)
                index = payload.get("partial_image_index")
                yield PartialImage(index if isinstance(index, int) else 0, raw, sniff_mime(raw, fallback))
            elif kind == f"{prefix}.completed":
                yield _completed(payload, decode_b64(payload.get("b64_json"), request_id, stream=True), fallback)
                return  # the completed event is the end (no [DONE] is promised)
    except E.BadRequestError as err:
        raise policy_error(err) from None
    finally:
        await stream.aclose()
    raise E.StreamInterruptedError(
        "The image stream ended before the final image arrived; the last preview is all there is.",
        request_id=request_id,
    )


def _loads(text: str, request_id: str | None) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError:
        raise E.MalformedStreamError("The server sent a garbled image event.", request_id=request_id) from None
    if not isinstance(payload, dict):
        raise E.MalformedStreamError("The server sent an unexpected image event.", request_id=request_id)
    return payload


async def _single(result: ImageResult) -> AsyncIterator[ImageStreamEvent]:
    img = result.images[0]
    assert img.data is not None
    yield CompletedImage(img.data, img.mime, result.usage, img.revised_prompt, result.size, result.quality,
                         result.background, result.output_format)  # fmt: skip


async def stream_image(
    client: OpenAIClient,
    prompt: str,
    *,
    model: str = "gpt-image-1",
    partial_images: int = 2,
    on_retry: RetryCallback | None = None,
    **options: Any,
) -> AsyncIterator[ImageStreamEvent]:
    """Partial previews (GPT image models, up to 3), then the completed image."""
    if not supports_streaming(model):
        async for ev in _single(await generate_image(client, prompt, model=model, on_retry=on_retry, **options)):
            yield ev
        return
    body = generation_body(prompt, model=model, stream=True, partial_images=partial_images, **options)
    async for ev in _events(client, "/images/generations", "image_generation", model=model, on_retry=on_retry,
                            json=body):  # fmt: skip
        yield ev


async def stream_edit(
    client: OpenAIClient,
    image: bytes | Sequence[bytes],
    prompt: str,
    mask: bytes | None = None,
    *,
    model: str = "gpt-image-1",
    partial_images: int = 2,
    on_retry: RetryCallback | None = None,
    **options: Any,
) -> AsyncIterator[ImageStreamEvent]:
    """Like ``stream_image`` for /images/edits (events ``image_edit.partial_image``/``.completed``)."""
    if not supports_streaming(model):
        result = await edit_image(client, image, prompt, mask, model=model, on_retry=on_retry, **options)
        async for ev in _single(result):
            yield ev
        return
    fields = edit_fields(prompt, model=model, stream=True, partial_images=partial_images, **options)
    files = edit_files(image, mask, family(model))
    async for ev in _events(client, "/images/edits", "image_edit", model=model, on_retry=on_retry, data=fields,
                            files=files):  # fmt: skip
        yield ev
