"""GET /models: what the model picker offers, and the connection test."""

from __future__ import annotations

from typing import Any

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient


async def list_models(client: OpenAIClient) -> list[str]:
    """Model ids, sorted. Raises ``NotCompatibleError`` when the reply is not a model list."""
    data, _headers = await client.request_json("GET", "/models")
    items: Any = data.get("data") if isinstance(data, dict) else data
    if isinstance(data, dict) and items is None and isinstance(data.get("models"), list):
        items = data["models"]  # a few servers use "models"
    if not isinstance(items, list):
        raise E.NotCompatibleError(
            f"{client.endpoint.host} answered, but not with a model list: is it an OpenAI-compatible server?"
        )
    ids = []
    for item in items:
        if isinstance(item, dict) and item.get("id"):
            ids.append(str(item["id"]))
        elif isinstance(item, str):
            ids.append(item)
    return sorted(set(ids))
