"""One image generation or edit: what is asked, the API events it yields, and how results are stored.

No widgets here. Storing runs in a worker thread (``store_image``): it writes the file
(content-addressed) and decodes a display-sized ``QImage`` for the bubble in the same pass.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from assistant_app.api.image_options import edit_fields, family, generation_body, supports_streaming
from assistant_app.api.image_results import CompletedImage, ImageStreamEvent, PartialImage
from assistant_app.core.attachments import AttachmentStore, extension_for
from assistant_app.core.pricing import PriceTable, cost_of
from assistant_app.core.store import Message
from assistant_app.ui.image_pixels import Pixels, decode_pixels, image_size, to_qimage
from assistant_app.ui.image_toolbar import ImageRequest
from assistant_app.ui.message_images import GRID_SIDE, LARGE_SIDE, remember

if TYPE_CHECKING:  # the HTTP stack loads with the first image request, not at start-up
    from assistant_app.api.client import OpenAIClient

PARTIAL_IMAGES = 3  # previews per streamed image (the API allows 0-3)


@dataclass(frozen=True)
class ImageJob:
    conversation_id: int
    parent_id: int  # the user message holding the prompt
    prompt: str
    request: ImageRequest
    images: tuple[bytes, ...] = ()  # inputs: an edit, or reference images -> /images/edits
    mask: bytes | None = None
    partial_images: int = PARTIAL_IMAGES
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_edit(self) -> bool:
        return bool(self.images)

    @property
    def streams(self) -> bool:
        return supports_streaming(self.request.model) and self.request.n == 1

    def expected_previews(self) -> int:
        return self.partial_images if self.streams else 0

    def check(self) -> None:
        """Raise ``InvalidOptionsError`` for options the model does not take (before anything is stored)."""
        opts = self.request.options()
        if self.is_edit:
            edit_fields(self.prompt, model=self.request.model, n=self.request.n, **opts)
        else:
            generation_body(self.prompt, model=self.request.model, n=self.request.n, **opts)

    def again(self, parent_id: int, prompt: str | None = None) -> ImageJob:
        return replace(self, parent_id=parent_id, prompt=self.prompt if prompt is None else prompt)


async def job_events(client: OpenAIClient, job: ImageJob) -> AsyncIterator[ImageStreamEvent]:
    """Partial previews then one ``CompletedImage`` per image (several only when n > 1, not streamed)."""
    from assistant_app.api.images import edit_image, generate_image, stream_edit, stream_image

    req = job.request
    opts = req.options()
    if job.streams:
        if job.is_edit:
            events = stream_edit(
                client,
                list(job.images),
                job.prompt,
                job.mask,
                model=req.model,
                partial_images=job.partial_images,
                **opts,
            )
        else:
            events = stream_image(client, job.prompt, model=req.model, partial_images=job.partial_images, **opts)
        async for ev in events:
            yield ev
        return
    if job.is_edit:
        result = await edit_image(client, list(job.images), job.prompt, job.mask, model=req.model, n=req.n, **opts)
    else:
        result = await generate_image(client, job.prompt, model=req.model, n=req.n, **opts)
    for img in result.images:
        if img.data is not None:
            yield CompletedImage(
                img.data,
                img.mime,
                result.usage,
                img.revised_prompt,
                result.size,
                result.quality,
                result.background,
                result.output_format,
            )


def store_image(store: AttachmentStore, data: bytes, mime: str, side: int, **extra: Any) -> tuple[dict, Pixels]:
    """Write the file and decode its display copy (worker thread). Returns (attachment dict, pixels)."""
    width, height = image_size(data)
    sha_hint = extra.pop("stem", "image")
    att = store.add_image(data, mime=mime, name="", width=width, height=height, **extra)
    att["name"] = f"{sha_hint}-{att['sha256'][:8]}.{extension_for(mime)}"
    return att, decode_pixels(data, side)


async def store_results(
    store: AttachmentStore,
    prices: PriceTable | None,
    job: ImageJob,
    finals: list[CompletedImage],
    last: PartialImage | None,
) -> list[dict[str, Any]]:
    """Store the final images (or, without any, the last preview marked ``partial``) off the UI thread.

    Their display copies go into the bubble's cache, so the reply shows them without reading the files.
    """
    loop = asyncio.get_running_loop()
    side = LARGE_SIDE if len(finals) <= 1 else GRID_SIDE
    request = job.request.as_dict()
    jobs = [
        (
            d.data,
            d.mime,
            {
                "stem": "image",
                "generated_by": job.request.model,
                "request": request,
                "cost": image_cost(prices, job, d, len(finals)),
                "revised_prompt": d.revised_prompt,
            },
        )
        for d in finals
    ]
    if not finals and last is not None:
        jobs.append((last.data, last.mime, {"stem": "preview", "partial": True, "request": request}))
    atts = []
    for data, mime, extra in jobs:
        att, pixels = await loop.run_in_executor(None, functools.partial(store_image, store, data, mime, side, **extra))
        remember(att["sha256"], side, to_qimage(pixels))
        atts.append(att)
    return atts


def reply_fields(finals: list[CompletedImage], atts: list[dict[str, Any]], status: str, error: str | None) -> dict:
    """The stored reply's fields: status, attachments, revised prompt, token usage."""
    fields: dict[str, Any] = {"status": status, "error": error, "attachments": atts}
    revised = finals[0].revised_prompt if finals else None
    if revised:
        fields["content"] = f"Revised prompt: {revised}"
    usage = finals[0].usage if finals else None
    if usage is not None:
        fields.update(prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens)
    return fields


def image_cost(prices: PriceTable | None, job: ImageJob, done: CompletedImage, count: int) -> float | None:
    """USD per image from the reported usage (or the per-image price when a model reports none)."""
    usage = done.usage
    record = SimpleNamespace(
        kind="image",
        http_status=200,
        model=job.request.model,
        response_model=None,
        prompt_tokens=usage.input_tokens if usage else None,
        completion_tokens=usage.output_tokens if usage else None,
        image_tokens=usage.image_tokens if usage else None,
        cached_tokens=0,
        images=count,
        image_size=done.size or job.request.size,
        image_quality=done.quality or job.request.quality,
    )
    total = cost_of(record, prices)
    return None if total is None else total / max(1, count)


def is_image_message(message: Message) -> bool:
    """An assistant message made by an image model (or holding generated images/previews)."""
    if message.role != "assistant":
        return False
    if any(a.get("generated_by") or a.get("partial") for a in message.attachments or []):
        return True
    return family(message.model or "") != "other"


def request_from(attachments: list[Mapping[str, Any]], model: str) -> ImageRequest | None:
    """The request recorded on a generated image (for Regenerate after a restart)."""
    for att in attachments:
        recorded = att.get("request")
        if isinstance(recorded, Mapping) and recorded.get("model"):
            keys = ("size", "quality", "background", "output_format")
            return ImageRequest(
                model=str(recorded["model"]), n=int(recorded.get("n") or 1), **{k: recorded.get(k) for k in keys}
            )
    return ImageRequest(model=model) if model else None
