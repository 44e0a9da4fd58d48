"""``assistant-app image "PROMPT" --out FILE``: generate, save, and record the image in history.

Also ``attach_images`` for ``assistant-app chat --image FILE``. Imports stay light (argparse only)
until a command runs, as ``cli.COMMAND_MODULES`` requires.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEFAULT_IMAGE_MODEL = "gpt-image-1"
_EXT_FORMAT = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("image", help="generate an image from a prompt and save it")
    p.add_argument("prompt")
    p.add_argument("--out", "-o", required=True, type=Path, help="file to write (.png, .jpg or .webp)")
    p.add_argument("--model", "-m", help=f"image model (default: {DEFAULT_IMAGE_MODEL} or the images setting)")
    p.add_argument("--size", help="e.g. 1024x1024, 1536x1024, auto (depends on the model)")
    p.add_argument("--quality", help="low/medium/high/auto (GPT image), standard/hd (dall-e-3)")
    p.add_argument("--n", type=int, default=1, help="number of images (FILE, FILE-2, FILE-3...)")
    p.add_argument("--background", choices=["transparent", "opaque", "auto"], help="GPT image models only")
    p.add_argument("--provider", help="provider id from settings (default: the active one)")
    p.set_defaults(handler=run)


def attach_images(paths: Iterable[str | Path], attachments_root: Path, detail: str = "auto") -> list[dict[str, Any]]:
    """Prepare every image first (raising ``ImageError`` on the first bad one), then store them all."""
    from assistant_app.core.attachments import AttachmentStore
    from assistant_app.media.images import prepare_image

    prepared = [prepare_image(p, detail) for p in paths]
    store = AttachmentStore(attachments_root)
    return [store.add_prepared(p) for p in prepared]


def output_paths(out: Path, count: int) -> list[Path]:
    """``out`` for the first image, then ``stem-2.ext``, ``stem-3.ext``..."""
    return [out if i == 1 else out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]


def convert_to(data: bytes, fmt: str | None) -> bytes:
    """Re-encode ``data`` as ``fmt`` (png/jpeg/webp) when it is not already; ``None`` keeps it."""
    from PIL import Image

    from assistant_app.api.images import sniff_mime

    if fmt is None or sniff_mime(data, "") == f"image/{fmt}":
        return data
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        out = im.convert("RGB") if fmt == "jpeg" and im.mode not in ("RGB", "L") else im
        buf = io.BytesIO()
        out.save(buf, _PIL_FORMAT[fmt], **({"quality": 92} if fmt != "png" else {}))
    return buf.getvalue()


def _dimensions(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def _fail(message: str, code: int) -> int:
    print(f"assistant-app: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_image(args))


async def _image(args: argparse.Namespace) -> int:
    from assistant_app.api import errors as E
    from assistant_app.api.image_options import family, generation_body
    from assistant_app.core.context import AppContext

    out: Path = args.out.expanduser()
    if not out.parent.is_dir():
        return _fail(f"the folder {out.parent} does not exist", 2)
    wanted = _EXT_FORMAT.get(out.suffix.lower())
    ctx = AppContext.create()
    try:
        if args.provider:
            ctx.settings.active_provider = args.provider
        images_settings = ctx.settings.extra.get("images") if isinstance(ctx.settings.extra.get("images"), dict) else {}
        model = args.model or images_settings.get("model") or DEFAULT_IMAGE_MODEL
        options: dict[str, Any] = {"size": args.size, "quality": args.quality, "background": args.background}
        if family(model) == "gpt-image" and wanted:
            options["output_format"] = wanted
        options = {k: v for k, v in options.items() if v is not None}
        try:
            generation_body(args.prompt, model=model, n=args.n, **options)  # refuse bad options before recording
        except E.InvalidOptionsError as exc:
            return _fail(exc.user_message, 2)
        return await _generate(ctx, args, model, options, out, wanted)
    finally:
        await ctx.aclose()
        ctx.close()


async def _generate(ctx: Any, args: argparse.Namespace, model: str, options: dict[str, Any], out: Path,
                    wanted: str | None) -> int:  # fmt: skip
    from assistant_app.api import errors as E
    from assistant_app.api.images import generate_image
    from assistant_app.core.attachments import AttachmentStore
    from assistant_app.core.chat import title_from

    store = ctx.store
    conv = store.create_conversation(title_from(args.prompt), model=model)
    user = store.add_message(conv.id, "user", args.prompt, parent_id=None)

    def on_retry(notice: Any) -> None:
        print(f"assistant-app: {notice.error.user_message} Retrying in {notice.delay:.1f} s "
              f"(attempt {notice.attempt} of {notice.max_attempts}).", file=sys.stderr)  # fmt: skip

    try:
        result = await generate_image(ctx.client(), args.prompt, model=model, n=args.n, on_retry=on_retry, **options)
        blobs = [convert_to(img.data or b"", wanted) for img in result.images]
    except E.APIError as exc:
        failed = store.add_message(conv.id, "assistant", "", parent_id=user.id, status="error", model=model)
        store.update_message(failed.id, error=exc.user_message)
        print(f"conversation {conv.id}", file=sys.stderr)
        return _fail(str(exc), 1)
    except (OSError, ValueError) as exc:  # the server's bytes are not an image Pillow can convert
        return _fail(f"the generated image could not be converted: {exc}", 1)
    attachments = AttachmentStore(ctx.paths.attachments)
    atts = []
    written = []
    for path, data in zip(output_paths(out, len(blobs)), blobs, strict=True):
        try:
            path.write_bytes(data)
        except OSError as exc:
            return _fail(f"could not write {path}: {exc.strerror or exc}", 1)
        written.append(path)
        width, height = _dimensions(data)
        mime = f"image/{wanted}" if wanted else _mime(data)
        atts.append(attachments.add_image(data, mime=mime, name=path.name, width=width, height=height,
                                          generated_by=model))  # fmt: skip
    revised = result.revised_prompt
    reply = store.add_message(conv.id, "assistant", f"Revised prompt: {revised}" if revised else "",
                              parent_id=user.id, model=model, attachments=atts)  # fmt: skip
    if result.usage is not None:
        store.update_message(reply.id, prompt_tokens=result.usage.input_tokens,
                             completion_tokens=result.usage.output_tokens)  # fmt: skip
    for path in written:
        print(path)
    if revised:
        print(f"revised prompt: {revised}", file=sys.stderr)
    print(f"conversation {conv.id}", file=sys.stderr)
    return 0


def _mime(data: bytes) -> str:
    from assistant_app.api.images import sniff_mime

    return sniff_mime(data, "application/octet-stream")
