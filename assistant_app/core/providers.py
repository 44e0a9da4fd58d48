"""Turn a provider profile plus secrets and environment into an ``Endpoint``.

``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` are honoured as the official SDKs do: they apply to
the OpenAI profile when nothing more specific is configured (a key in the keyring wins over
the environment, as an explicit setting wins over the environment in the SDKs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from assistant_app.api.endpoint import OPENAI_BASE_URL, Endpoint
from assistant_app.core.settings import ProviderProfile

KNOWN_LOCAL_SERVERS: list[tuple[str, str, int]] = [
    ("ollama", "Ollama", 11434),
    ("lmstudio", "LM Studio", 1234),
    ("llamacpp", "llama.cpp server", 8080),
]


class SecretGetter(Protocol):
    def get(self, account: str) -> str | None: ...


def key_for(profile: ProviderProfile, secrets: SecretGetter | None, env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    key = secrets.get(profile.key_account) if secrets is not None else None
    if not key and profile.kind == "openai":
        key = env.get("OPENAI_API_KEY") or None
    return key


def endpoint_for(
    profile: ProviderProfile, secrets: SecretGetter | None, env: Mapping[str, str] | None = None
) -> Endpoint:
    env = os.environ if env is None else env
    base_url = profile.base_url
    if profile.kind == "openai" and env.get("OPENAI_BASE_URL") and base_url.rstrip("/") == OPENAI_BASE_URL:
        base_url = env["OPENAI_BASE_URL"]
    return Endpoint(
        base_url=base_url,
        api_key=key_for(profile, secrets, env),
        kind=profile.kind,
        azure_deployment=profile.azure_deployment,
        azure_api_version=profile.azure_api_version,
        organization=env.get("OPENAI_ORG_ID", "") if profile.kind == "openai" else "",
        project=env.get("OPENAI_PROJECT_ID", "") if profile.kind == "openai" else "",
    )


def has_credentials(
    profile: ProviderProfile, secrets: SecretGetter | None, env: Mapping[str, str] | None = None
) -> bool:
    return (not profile.needs_key) or bool(key_for(profile, secrets, env))


def local_profile(provider_id: str, name: str, port: int) -> ProviderProfile:
    return ProviderProfile(
        id=provider_id, name=name, kind="compatible", base_url=f"http://127.0.0.1:{port}/v1", needs_key=False
    )
