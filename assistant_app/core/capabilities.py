"""Can a model see images? A name heuristic plus the user's per-model overrides. No Qt.

Servers do not report this (``GET /models`` has no capability field), so the answer is a guess
from the model id: True (known to accept images), False (known not to), or None (unknown; the UI
lets the user send anyway and remember the choice in ``Settings.extra["vision_overrides"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

OVERRIDES_KEY = "vision_overrides"

# Checked first: names that would otherwise match a vision pattern below.
NO_VISION = (
    "gpt-3.5*",
    "gpt-4",
    "gpt-4-0314",
    "gpt-4-0613",
    "gpt-4-32k*",
    "gpt-4-1106-preview",
    "gpt-4-0125-preview",
    "gpt-4o-audio*",
    "gpt-4o-mini-audio*",
    "gpt-4o-realtime*",
    "gpt-4o-mini-realtime*",
    "gpt-4o-transcribe*",
    "gpt-4o-mini-transcribe*",
    "gpt-4o-mini-tts*",
    "gpt-realtime*",
    "o1-mini*",
    "o1-preview*",
    "o3-mini*",
    "gpt-image*",
    "chatgpt-image*",
    "dall-e*",
    "whisper*",
    "tts-*",
    "text-*",
    "*embed*",
    "davinci*",
    "babbage*",
    "omni-moderation*",
)

VISION = (
    "gpt-4o*",
    "chatgpt-4o*",
    "gpt-4.1*",
    "gpt-4.5*",
    "gpt-4-turbo*",
    "gpt-5*",
    "o1",
    "o1-20*",
    "o1-pro*",
    "o3",
    "o3-20*",
    "o3-pro*",
    "o3-deep-research*",
    "o4*",
    "*vision*",
    "llava*",
    "bakllava*",
    "gemma3*",
    "gemma-3*",
    "qwen*-vl*",
    "qwen*vl*",
    "claude-3*",
    "claude-*-4*",
    "claude-sonnet-4*",
    "claude-opus-4*",
    "claude-haiku-4*",
    "gemini*",
    "pixtral*",
    "minicpm-v*",
    "moondream*",
    "llama-4*",
    "llama4*",
    "mistral-small3.1*",
    "mistral-small-3.1*",
    "granite3.2-vision*",
    "internvl*",
    "phi-3.5-vision*",
    "phi-4-multimodal*",
)


def normalise(model: str) -> str:
    """Lower case, without a router prefix (``openai/gpt-4o`` -> ``gpt-4o``)."""
    name = model.strip().lower()
    return name.rsplit("/", 1)[-1] if "/" in name else name


def _matches(name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(fnmatchcase(name, p) for p in patterns)


def guess_vision(model: str) -> bool | None:
    """The heuristic alone: True, False, or None when the name says nothing."""
    name = normalise(model)
    if not name:
        return None
    if _matches(name, NO_VISION):
        return False
    if _matches(name, VISION):
        return True
    return None


def can_see_images(model: str, overrides: Mapping[str, Any] | None = None) -> bool | None:
    """The user's override for ``model`` (exact id, then a glob pattern key) wins over the heuristic."""
    if overrides:
        wanted = {normalise(k): v for k, v in overrides.items() if isinstance(v, bool)}
        name = normalise(model)
        if name in wanted:
            return wanted[name]
        for pattern, value in wanted.items():
            if any(c in pattern for c in "*?[") and fnmatchcase(name, pattern):
                return value
    return guess_vision(model)


def vision_overrides(extra: Mapping[str, Any]) -> dict[str, bool]:
    """The overrides stored in ``Settings.extra`` (bad entries ignored)."""
    raw = extra.get(OVERRIDES_KEY)
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, bool)}


def set_vision_override(extra: dict[str, Any], model: str, value: bool | None) -> None:
    """Remember (or with ``None`` forget) the user's answer for ``model`` in ``Settings.extra``."""
    current = vision_overrides(extra)
    key = normalise(model)
    if value is None:
        current.pop(key, None)
    else:
        current[key] = value
    extra[OVERRIDES_KEY] = current


def model_can_see_images(settings: Any, model: str) -> bool | None:
    """Convenience for callers holding a :class:`~assistant_app.core.settings.Settings`."""
    return can_see_images(model, vision_overrides(getattr(settings, "extra", {}) or {}))
