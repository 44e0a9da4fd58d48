"""What a call cost, from the bundled price table (``resources/prices.json``) and the user's overrides.

A price that is not known gives ``None`` ("unknown"), never 0: a missing entry must not look free.
Requests the server refused (no 2xx) cost 0, as does listing models. Cached prompt tokens are
priced at the model's cached rate. Model names are normalised so dated snapshots find their family
(``gpt-4o-2024-08-06`` -> ``gpt-4o``), but an exact entry wins (``gpt-4o-2024-05-13`` has its own
price).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant_app.resources import resource

log = logging.getLogger(__name__)

PER_MILLION = 1_000_000.0
USER_FILE_NAME = "prices.json"
_SECTION_OF_KIND = {"chat": "chat", "other": "chat", "image": "images", "transcription": "audio"}
_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` deep-merged over ``base`` (dicts merge, anything else replaces)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def model_candidates(name: str) -> list[str]:
    """Names to look up, most specific first: as given, without a vendor prefix, without a date."""
    name = name.strip().lower()
    out = [name]
    if "/" in name and not name.startswith("ft:"):
        name = name.rsplit("/", 1)[1]  # OpenRouter-style "openai/gpt-4o"
        out.append(name)
    if name.startswith("ft:"):
        return out  # fine-tuned models have their own prices
    undated = _DATED.sub("", name)
    if undated != name:
        out.append(undated)
    return out


def _num(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _per_image(table: Any, quality: str | None, size: str | None, images: int | None) -> float | None:
    if not isinstance(table, Mapping) or not images:
        return None
    if quality in (None, "", "auto"):
        quality = "standard" if "standard" in table else None
    sizes = table.get(quality) if quality else None
    price = _num(sizes, size or "1024x1024") if isinstance(sizes, Mapping) else None
    return None if price is None else price * images


@dataclass(frozen=True)
class PriceTable:
    data: Mapping[str, Any]

    @classmethod
    def load(cls, user_file: Path | None = None, bundled: Path | None = None) -> PriceTable:
        """The bundled table with ``user_file`` merged over it (a broken user file is logged and ignored)."""
        data: dict[str, Any] = json.loads((bundled or resource("prices.json")).read_text(encoding="utf-8"))
        if user_file is not None and user_file.is_file():
            try:
                extra = json.loads(user_file.read_text(encoding="utf-8"))
                if not isinstance(extra, Mapping):
                    raise ValueError("not a JSON object")
                data = merge(data, extra)
            except (OSError, ValueError) as exc:
                log.warning("ignoring price overrides in %s: %s", user_file, exc)
        return cls(data)

    @property
    def as_of(self) -> str | None:
        return self.data.get("as_of")

    @property
    def source(self) -> str | None:
        return self.data.get("source")

    def lookup(self, section: str, model: str | None) -> tuple[str, Mapping[str, Any]] | None:
        """(matched name, entry) for ``model`` in ``section`` ("chat", "images", "audio")."""
        table = self.data.get(section)
        if not model or not isinstance(table, Mapping):
            return None
        for name in model_candidates(model):
            entry = table.get(name)
            if isinstance(entry, Mapping):
                return name, entry
        return None

    def cost(self, record: Any) -> float | None:
        """USD for one call record (a ``CallRecord`` or a usage-log row), or ``None`` when unknown."""
        kind = getattr(record, "kind", "other")
        if kind == "models":
            return 0.0
        http_status = getattr(record, "http_status", None)
        if http_status is None or not 200 <= http_status < 300:
            return 0.0  # refused or never answered: not billed
        section = _SECTION_OF_KIND.get(kind, "chat")
        found = None
        for name in (getattr(record, "response_model", None), getattr(record, "model", None)):
            found = self.lookup(section, name)
            if found:
                break
        if found is None:
            return None
        entry = found[1]
        if section == "chat":
            return _chat_cost(entry, record)
        if section == "images":
            return _image_cost(entry, record)
        return _audio_cost(entry, record)


def _tokens(record: Any, name: str) -> int:
    return int(getattr(record, name, None) or 0)


def _chat_cost(entry: Mapping[str, Any], record: Any) -> float | None:
    rate_in, rate_out = _num(entry, "input"), _num(entry, "output")
    if rate_in is None or rate_out is None:
        return None
    if getattr(record, "prompt_tokens", None) is None and getattr(record, "completion_tokens", None) is None:
        return None  # answered, but the server reported no usage
    rate_cached = _num(entry, "cached_input")
    prompt = _tokens(record, "prompt_tokens")
    cached = min(_tokens(record, "cached_tokens"), prompt)
    total = (prompt - cached) * rate_in + cached * (rate_in if rate_cached is None else rate_cached)
    return (total + _tokens(record, "completion_tokens") * rate_out) / PER_MILLION


def _image_cost(entry: Mapping[str, Any], record: Any) -> float | None:
    quality, size = getattr(record, "image_quality", None), getattr(record, "image_size", None)
    images = getattr(record, "images", None)
    if "per_image" in entry:
        return _per_image(entry["per_image"], quality, size, images)
    text_in, image_in, out = _num(entry, "text_input"), _num(entry, "image_input"), _num(entry, "output")
    has_usage = any(getattr(record, n, None) is not None for n in ("prompt_tokens", "completion_tokens"))
    if not has_usage or text_in is None or out is None:
        return _per_image(entry.get("per_image_when_no_usage"), quality, size, images)
    prompt = _tokens(record, "prompt_tokens")
    image_tokens = min(_tokens(record, "image_tokens"), prompt)
    text_tokens = prompt - image_tokens
    cached = min(_tokens(record, "cached_tokens"), text_tokens)
    cached_rate = _num(entry, "cached_text_input")
    total = (text_tokens - cached) * text_in + cached * (text_in if cached_rate is None else cached_rate)
    if image_tokens:
        if image_in is None:
            return None
        total += image_tokens * image_in
    return (total + _tokens(record, "completion_tokens") * out) / PER_MILLION


def _audio_cost(entry: Mapping[str, Any], record: Any) -> float | None:
    text_in, audio_in, out = _num(entry, "text_input"), _num(entry, "audio_input"), _num(entry, "output")
    prompt = getattr(record, "prompt_tokens", None)
    if prompt is not None and None not in (text_in, audio_in, out):
        audio = getattr(record, "audio_tokens", None)
        audio = prompt if audio is None else min(audio, prompt)
        total = (prompt - audio) * text_in + audio * audio_in + _tokens(record, "completion_tokens") * out
        return total / PER_MILLION
    per_minute, seconds = _num(entry, "per_minute"), getattr(record, "audio_seconds", None)
    if per_minute is not None and seconds is not None:
        return float(seconds) / 60.0 * per_minute
    return None


_default: PriceTable | None = None


def default_prices() -> PriceTable:
    """The bundled table merged with ``<config dir>/prices.json``; loaded once (see :func:`reload`)."""
    global _default
    if _default is None:
        from assistant_app.core.paths import app_paths

        _default = PriceTable.load(app_paths().config / USER_FILE_NAME)
    return _default


def reload() -> PriceTable:
    """Forget the cached table (after the user edited their price file)."""
    global _default
    _default = None
    return default_prices()


def cost_of(record: Any, prices: PriceTable | None = None) -> float | None:
    """USD for one call, or ``None`` when its price is unknown."""
    return (prices or default_prices()).cost(record)
