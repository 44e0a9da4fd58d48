"""What each image model accepts, and request bodies checked against it before anything is sent.

Rules come from CONTRACT.md §3. A bad choice raises :class:`InvalidOptionsError` naming the option,
the model and what it does accept, instead of a 400 from the server after a long upload.
"""

from __future__ import annotations

import re
from typing import Any

from assistant_app.api.errors import InvalidOptionsError

GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
DALLE2_SIZES = ("256x256", "512x512", "1024x1024")
DALLE3_SIZES = ("1024x1024", "1792x1024", "1024x1792")
PROMPT_LIMITS = {"gpt-image": 32_000, "dall-e-2": 1_000, "dall-e-3": 4_000}
QUALITIES = {
    "gpt-image": ("low", "medium", "high", "auto"),
    "dall-e-3": ("standard", "hd", "auto"),
    "dall-e-2": ("standard", "auto"),
    "other": ("standard", "hd", "low", "medium", "high", "auto"),
}
OUTPUT_FORMATS = ("png", "jpeg", "webp")
MIME_OF_FORMAT = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_SIZE_RE = re.compile(r"(\d{1,5})x(\d{1,5})")
_GPT_ONLY = ("background", "output_format", "output_compression", "moderation", "input_fidelity")
_GENERATION_GPT_OPTIONS = set(_GPT_ONLY) - {"input_fidelity"}


def family(model: str) -> str:
    """``gpt-image``, ``dall-e-3``, ``dall-e-2`` or ``other`` (a compatible server's own model)."""
    m = model.strip().lower()
    if m.startswith("dall-e-3"):
        return "dall-e-3"
    if m.startswith("dall-e"):
        return "dall-e-2"
    if m.startswith(("gpt-image", "chatgpt-image")):
        return "gpt-image"
    return "other"


def supports_streaming(model: str) -> bool:
    """Only GPT image models stream partial images."""
    return family(model) == "gpt-image"


def flexible_sizes(model: str) -> bool:
    """gpt-image-2 takes any WxH (multiples of 16, aspect 1:3..3:1, up to 3840x2160)."""
    return model.strip().lower().startswith("gpt-image-2")


def sizes_for(model: str) -> tuple[str, ...] | None:
    """The fixed sizes of ``model``; None when any ``WxH`` is worth a try."""
    fam = family(model)
    if fam == "other":
        return None
    return {"gpt-image": GPT_IMAGE_SIZES, "dall-e-3": DALLE3_SIZES, "dall-e-2": DALLE2_SIZES}[fam]


def check_size(model: str, size: str) -> None:
    allowed = sizes_for(model)
    if allowed is None:
        if size != "auto" and not _SIZE_RE.fullmatch(size):
            raise InvalidOptionsError(f"Size “{size}” is not of the form WIDTHxHEIGHT (for example 1024x1024).")
        return
    if size in allowed:
        return
    if flexible_sizes(model):
        m = _SIZE_RE.fullmatch(size)
        if m:
            w, h = int(m.group(1)), int(m.group(2))
            if w % 16 or h % 16:
                raise InvalidOptionsError(f"{model}: both sides of “{size}” must be multiples of 16.")
            if max(w, h) > 3 * min(w, h):
                raise InvalidOptionsError(f"{model}: “{size}” is too narrow; the aspect ratio must be 1:3 to 3:1.")
            if max(w, h) > 3840 or min(w, h) > 2160:
                raise InvalidOptionsError(f"{model}: “{size}” is too large; the maximum is 3840x2160.")
            return
    raise InvalidOptionsError(f"{model} cannot make {size} images. Choose one of: {', '.join(allowed)}.")


def _check_common(prompt: str, model: str, n: int, size: str | None, quality: str | None) -> str:
    fam = family(model)
    if not prompt.strip():
        raise InvalidOptionsError("The prompt is empty: describe the image you want.")
    limit = PROMPT_LIMITS.get(fam)
    if limit and len(prompt) > limit:
        raise InvalidOptionsError(f"The prompt has {len(prompt):,} characters; {model} accepts at most {limit:,}.")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
        raise InvalidOptionsError(f"The number of images must be 1 to 10 (got {n}).")
    if fam == "dall-e-3" and n != 1:
        raise InvalidOptionsError("dall-e-3 makes one image per request: use n=1 (or several requests).")
    if size is not None:
        check_size(model, size)
    if quality is not None and quality not in QUALITIES[fam]:
        raise InvalidOptionsError(f"{model} has no “{quality}” quality. Choose one of: {', '.join(QUALITIES[fam])}.")
    return fam


def _check_gpt_only(fam: str, model: str, options: dict[str, Any]) -> None:
    if fam in ("dall-e-2", "dall-e-3"):
        for name in _GPT_ONLY:
            if options.get(name) is not None:
                raise InvalidOptionsError(f"“{name}” is only supported by GPT image models, not {model}.")
    fmt = options.get("output_format")
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        raise InvalidOptionsError(f"Output format “{fmt}” is not one of: {', '.join(OUTPUT_FORMATS)}.")
    if options.get("background") not in (None, "transparent", "opaque", "auto"):
        raise InvalidOptionsError(f"Background “{options['background']}” is not transparent, opaque or auto.")
    if options.get("background") == "transparent" and fmt == "jpeg":
        raise InvalidOptionsError("A transparent background needs the png or webp output format, not jpeg.")
    compression = options.get("output_compression")
    if compression is not None:
        if not isinstance(compression, int) or not 0 <= compression <= 100:
            raise InvalidOptionsError(f"Output compression must be 0 to 100 (got {compression}).")
        if fmt not in ("jpeg", "webp"):
            raise InvalidOptionsError("Output compression applies to the jpeg and webp output formats only.")
    if options.get("moderation") not in (None, "low", "auto"):
        raise InvalidOptionsError(f"Moderation “{options['moderation']}” is not low or auto.")


def _check_response_format(fam: str, model: str, response_format: str | None) -> str | None:
    """dall-e gets ``b64_json`` unless asked otherwise (URLs expire after an hour)."""
    if response_format is not None and response_format not in ("url", "b64_json"):
        raise InvalidOptionsError(f"Response format “{response_format}” is not url or b64_json.")
    if fam == "gpt-image":
        if response_format == "url":
            raise InvalidOptionsError(f"{model} always returns the image itself (b64_json), never a URL.")
        return None
    if fam in ("dall-e-2", "dall-e-3"):
        return response_format or "b64_json"
    return response_format


def _check_stream(fam: str, model: str, stream: bool, partial_images: int | None) -> None:
    if stream and fam != "gpt-image":
        raise InvalidOptionsError(f"{model} cannot stream partial images; only GPT image models can.")
    if partial_images is not None and (
        not isinstance(partial_images, int) or isinstance(partial_images, bool) or not 0 <= partial_images <= 3
    ):
        raise InvalidOptionsError(f"Partial images must be 0 to 3 (got {partial_images}).")


def generation_body(
    prompt: str,
    *,
    model: str,
    n: int = 1,
    size: str | None = None,
    quality: str | None = None,
    style: str | None = None,
    response_format: str | None = None,
    stream: bool = False,
    partial_images: int | None = None,
    user: str | None = None,
    **gpt_options: Any,
) -> dict[str, Any]:
    """A checked ``CreateImageRequest``. ``gpt_options``: background, output_format, output_compression,
    moderation."""
    unknown = set(gpt_options) - _GENERATION_GPT_OPTIONS
    if unknown:
        raise TypeError(f"unexpected options: {', '.join(sorted(unknown))}")
    fam = _check_common(prompt, model, n, size, quality)
    _check_gpt_only(fam, model, gpt_options)
    _check_stream(fam, model, stream, partial_images)
    if style is not None:
        if fam not in ("dall-e-3", "other"):
            raise InvalidOptionsError(f"“style” is only supported by dall-e-3, not {model}.")
        if style not in ("vivid", "natural"):
            raise InvalidOptionsError(f"Style “{style}” is not vivid or natural.")
    body: dict[str, Any] = {"model": model, "prompt": prompt}
    extra = {
        "n": n if n != 1 else None,
        "size": size,
        "quality": quality,
        "style": style,
        "user": user,
        "response_format": _check_response_format(fam, model, response_format),
        **gpt_options,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    if stream:
        body["stream"] = True
        body["partial_images"] = 0 if partial_images is None else partial_images
    return body


def edit_fields(
    prompt: str,
    *,
    model: str,
    n: int = 1,
    size: str | None = None,
    quality: str | None = None,
    response_format: str | None = None,
    stream: bool = False,
    partial_images: int | None = None,
    user: str | None = None,
    **gpt_options: Any,
) -> dict[str, str]:
    """Checked text fields of a multipart ``CreateImageEditRequest`` (files are added by the caller)."""
    unknown = set(gpt_options) - set(_GPT_ONLY)
    if unknown:
        raise TypeError(f"unexpected options: {', '.join(sorted(unknown))}")
    fam = _check_common(prompt, model, n, size, quality)
    if fam == "dall-e-3":
        raise InvalidOptionsError("dall-e-3 cannot edit images; use a GPT image model or dall-e-2.")
    _check_gpt_only(fam, model, gpt_options)
    _check_stream(fam, model, stream, partial_images)
    fidelity = gpt_options.get("input_fidelity")
    if fidelity is not None and fidelity not in ("high", "low"):
        raise InvalidOptionsError(f"Input fidelity “{fidelity}” is not high or low.")
    values: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "n": n if n != 1 else None,
        "size": size,
        "quality": quality,
        "user": user,
        "response_format": _check_response_format(fam, model, response_format),
        **gpt_options,
    }
    fields = {k: str(v) for k, v in values.items() if v is not None}
    if stream:
        fields["stream"] = "true"
        fields["partial_images"] = str(0 if partial_images is None else partial_images)
    return fields
