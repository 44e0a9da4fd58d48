"""Which models can see images: the heuristic and the user's overrides."""

from __future__ import annotations

import pytest

from assistant_app.core.capabilities import (
    OVERRIDES_KEY,
    can_see_images,
    guess_vision,
    model_can_see_images,
    set_vision_override,
    vision_overrides,
)
from assistant_app.core.settings import Settings

SEES = [
    "gpt-4o", "gpt-4o-mini", "GPT-4o-2024-08-06", "chatgpt-4o-latest", "gpt-4.1-nano", "gpt-4-turbo", "gpt-5",
    "gpt-5-mini", "o1", "o1-2024-12-17", "o3", "o4-mini", "gpt-4-vision-preview", "llava:13b", "bakllava",
    "gemma3:4b", "qwen2.5-vl-7b-instruct", "qwen2.5vl:7b", "Qwen/Qwen2-VL-7B-Instruct", "claude-3-5-sonnet-20241022",
    "claude-sonnet-4-20250514", "openai/gpt-4o", "llama3.2-vision:11b", "pixtral-12b", "gemini-2.0-flash",
]  # fmt: skip
BLIND = [
    "gpt-3.5-turbo", "gpt-4", "gpt-4-0613", "gpt-4-32k", "o1-mini", "o1-preview", "o3-mini", "dall-e-3",
    "gpt-image-1", "whisper-1", "tts-1", "text-embedding-3-small", "gpt-4o-transcribe", "gpt-4o-mini-tts",
    "gpt-4o-realtime-preview", "gpt-4o-audio-preview", "nomic-embed-text",
]  # fmt: skip
UNKNOWN = ["llama3:8b", "mistral-7b-instruct", "deepseek-r1:14b", "my-azure-deployment", "", "phi3"]


@pytest.mark.parametrize("model", SEES)
def test_vision_models(model: str) -> None:
    assert guess_vision(model) is True and can_see_images(model) is True


@pytest.mark.parametrize("model", BLIND)
def test_blind_models(model: str) -> None:
    assert guess_vision(model) is False


@pytest.mark.parametrize("model", UNKNOWN)
def test_unknown_models(model: str) -> None:
    assert can_see_images(model) is None


def test_overrides_win_both_ways() -> None:
    overrides = {"gpt-4o": False, "Llama3:8B": True, "my-*": True, "junk": "yes"}
    assert can_see_images("gpt-4o", overrides) is False
    assert can_see_images("llama3:8b", overrides) is True  # case-insensitive
    assert can_see_images("my-azure-deployment", overrides) is True  # glob keys
    assert can_see_images("junk", overrides) is None  # non-boolean values are ignored
    assert can_see_images("gpt-4o-mini", overrides) is True  # exact key, not a prefix


def test_overrides_live_in_settings_extra_and_survive_a_round_trip() -> None:
    settings = Settings()
    assert model_can_see_images(settings, "llama3:8b") is None
    set_vision_override(settings.extra, "llama3:8b", True)
    set_vision_override(settings.extra, "gpt-4o", False)
    restored = Settings.from_json(settings.to_json())
    assert vision_overrides(restored.extra) == {"llama3:8b": True, "gpt-4o": False}
    assert model_can_see_images(restored, "llama3:8b") is True
    assert model_can_see_images(restored, "gpt-4o") is False
    set_vision_override(restored.extra, "gpt-4o", None)
    assert model_can_see_images(restored, "gpt-4o") is True
    restored.extra[OVERRIDES_KEY] = "garbage"
    assert vision_overrides(restored.extra) == {}
