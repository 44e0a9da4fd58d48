"""Find OpenAI-compatible servers already running on this computer (Ollama, LM Studio, llama.cpp)."""

from __future__ import annotations

import asyncio

import httpx

from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.errors import APIError
from assistant_app.api.models import list_models
from assistant_app.core.providers import KNOWN_LOCAL_SERVERS, local_profile
from assistant_app.core.settings import ProviderProfile


async def _probe(http: httpx.AsyncClient, pid: str, name: str, port: int, timeout: float) -> ProviderProfile | None:
    profile = local_profile(pid, name, port)
    client = OpenAIClient(Endpoint(base_url=profile.base_url, kind="compatible"), http=http, max_retries=0,
                          read_timeout=timeout)
    try:
        models = await asyncio.wait_for(list_models(client), timeout)
    except (APIError, TimeoutError, httpx.HTTPError):
        return None
    if models:
        profile.default_model = models[0]
    return profile


async def probe_local_servers(
    http: httpx.AsyncClient, servers: list[tuple[str, str, int]] | None = None, timeout: float = 0.8
) -> list[ProviderProfile]:
    """Profiles of the local servers that answer /v1/models, in the order of ``servers``."""
    candidates = servers if servers is not None else KNOWN_LOCAL_SERVERS
    found = await asyncio.gather(*(_probe(http, pid, name, port, timeout) for pid, name, port in candidates))
    return [p for p in found if p is not None]
