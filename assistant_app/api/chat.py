"""POST /chat/completions with streaming: request bodies and a tolerant chunk parser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient, RetryCallback
from assistant_app.api.redact import redact_text


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Usage:
        def num(value: Any) -> int:
            return int(value) if isinstance(value, int | float) else 0

        prompt_details = data.get("prompt_tokens_details") or {}
        completion_details = data.get("completion_tokens_details") or {}
        return cls(
            prompt_tokens=num(data.get("prompt_tokens")),
            completion_tokens=num(data.get("completion_tokens")),
            total_tokens=num(data.get("total_tokens")),
            cached_tokens=num(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else 0,
            reasoning_tokens=(
                num(completion_details.get("reasoning_tokens")) if isinstance(completion_details, dict) else 0
            ),
        )


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class UsageReport:
    usage: Usage


@dataclass(frozen=True)
class Finished:
    reason: str


ChatEvent = TextDelta | UsageReport | Finished


def build_chat_request(
    model: str,
    messages: list[dict[str, Any]],
    *,
    temperature: float | None = None,
    top_p: float | None = None,
    max_completion_tokens: int | None = None,
    stream: bool = True,
) -> dict[str, Any]:
    """A ``CreateChatCompletionRequest`` body; optional settings are sent only when set."""
    body: dict[str, Any] = {"model": model, "messages": messages}
    if temperature is not None:
        body["temperature"] = temperature
    if top_p is not None:
        body["top_p"] = top_p
    if max_completion_tokens:
        body["max_completion_tokens"] = max_completion_tokens
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _from_completion(data: dict[str, Any]) -> list[ChatEvent]:
    """A server that ignored ``stream`` sent a whole completion: turn it into events."""
    events: list[ChatEvent] = []
    choices = data.get("choices") or []
    if choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        text = message.get("content") or message.get("refusal") or ""
        if text:
            events.append(TextDelta(str(text)))
    if isinstance(data.get("usage"), dict):
        events.append(UsageReport(Usage.from_json(data["usage"])))
    reason = choices[0].get("finish_reason") if choices and isinstance(choices[0], dict) else None
    events.append(Finished(str(reason or "stop")))
    return events


def _stream_error(payload: Any, request_id: str | None) -> E.ServerStreamError:
    if isinstance(payload, dict):
        message = payload.get("message") or json.dumps(payload)[:300]
        code = payload.get("code")
    else:
        message, code = str(payload), None
    return E.ServerStreamError(
        f"The server reported an error mid-reply: {redact_text(str(message))}",
        code=str(code) if code is not None else None,
        request_id=request_id,
    )


async def stream_chat(
    client: OpenAIClient, body: dict[str, Any], *, on_retry: RetryCallback | None = None
) -> AsyncIterator[ChatEvent]:
    """Yield text deltas, usage and the finish reason.

    A stream that ends without a ``finish_reason`` and without ``[DONE]`` raises
    ``StreamInterruptedError``: a truncated reply is never reported as finished.
    """
    finish: str | None = None
    done = False
    request_id: str | None = None

    def remember(headers: Any) -> None:
        nonlocal request_id
        request_id = headers.get("x-request-id")

    events = client.stream_events(
        "POST", "/chat/completions", json=body, on_retry=on_retry, model=body.get("model"), on_headers=remember
    )
    async with aclosing(events):  # leaving the loop early ([DONE], an error) must close the response now
        async for event in events:
            if event.event == "__json__":
                try:
                    data = json.loads(event.data)
                except ValueError:
                    raise E.MalformedStreamError("The server sent a reply that is not valid JSON.") from None
                if "error" in data:
                    raise _stream_error(data["error"], request_id)
                for item in _from_completion(data):
                    yield item
                return
            if not event.data:
                continue
            if done:
                continue  # read to the end so the connection is released cleanly
            if event.data.startswith("[DONE]"):
                done = True
                continue
            try:
                chunk = json.loads(event.data)
            except ValueError:
                raise E.MalformedStreamError(
                    "The server sent a garbled chunk mid-reply; the reply is incomplete.", request_id=request_id
                ) from None
            if not isinstance(chunk, dict):
                raise E.MalformedStreamError("The server sent an unexpected chunk; the reply is incomplete.")
            if chunk.get("error"):
                raise _stream_error(chunk["error"], request_id)
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta") or {}
                text = delta.get("content") or delta.get("refusal")
                if text:
                    yield TextDelta(str(text))
                if choice.get("finish_reason"):
                    finish = str(choice["finish_reason"])
                    if finish == "error":
                        raise _stream_error(chunk.get("error") or "the generation failed", request_id)
            usage = chunk.get("usage")
            if isinstance(usage, dict):
                yield UsageReport(Usage.from_json(usage))
    if finish is None and not done:
        raise E.StreamInterruptedError(
            "The server ended the reply before it was finished; the reply is incomplete.", request_id=request_id
        )
    yield Finished(finish or "stop")
