"""User settings, kept as JSON in the config directory (never any secret)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class ProviderProfile:
    """One server the app can talk to. Its key, if any, lives in the keyring under ``key_account``."""

    id: str
    name: str
    kind: str = "openai"  # openai | azure | compatible
    base_url: str = "https://api.openai.com/v1"
    azure_deployment: str = ""
    azure_api_version: str = "2024-10-21"
    needs_key: bool = True
    default_model: str = ""

    @property
    def key_account(self) -> str:
        return f"provider:{self.id}"


def default_providers() -> list[ProviderProfile]:
    return [ProviderProfile(id="openai", name="OpenAI", kind="openai", default_model="gpt-4o-mini")]


@dataclass
class Settings:
    providers: list[ProviderProfile] = field(default_factory=default_providers)
    active_provider: str = "openai"
    default_model: str = "gpt-4o-mini"
    system_prompt: str = "You are a helpful assistant."
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_retries: int = 2
    read_timeout: float = 60.0
    window_geometry: str = ""
    # Sections owned by later features (audio, images, usage) keep their own dicts here.
    extra: dict[str, Any] = field(default_factory=dict)

    def provider(self, provider_id: str | None = None) -> ProviderProfile:
        wanted = provider_id or self.active_provider
        for p in self.providers:
            if p.id == wanted:
                return p
        if not self.providers:
            self.providers = default_providers()
        return self.providers[0]

    def upsert_provider(self, profile: ProviderProfile) -> None:
        for i, p in enumerate(self.providers):
            if p.id == profile.id:
                self.providers[i] = profile
                return
        self.providers.append(profile)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known and k != "providers"}
        providers = []
        pknown = {f.name for f in fields(ProviderProfile)}
        for raw in data.get("providers") or []:
            if isinstance(raw, dict) and raw.get("id"):
                providers.append(ProviderProfile(**{k: v for k, v in raw.items() if k in pknown}))
        settings = cls(**kwargs)
        if providers:
            settings.providers = providers
        return settings


def load_settings(path: Path) -> Settings:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        return Settings()
    try:
        return Settings.from_json(data if isinstance(data, dict) else {})
    except TypeError as exc:
        log.warning("settings file %s has bad values (%s); using defaults", path, exc)
        return Settings()


def save_settings(path: Path, settings: Settings) -> None:
    """Atomic write: a crash never leaves a half-written settings file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when saving: start-up reads settings before the window shows

    fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(settings.to_json(), f, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
