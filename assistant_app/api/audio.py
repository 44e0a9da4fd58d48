"""POST /audio/transcriptions: speech to text, whole or streamed.

The request is multipart. Only fields the schema allows are sent (``additionalProperties: false``):
``file``, ``model``, and when given ``language``, ``prompt`` and ``stream``.

gpt-4o(-mini)-transcribe stream ``transcript.text.delta`` events and end with
``transcript.text.done``; whisper-1 ignores ``stream`` and answers with one JSON document, and
so do many compatible servers: both shapes are handled.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient, RetryCallback

PATH = "/audio/transcriptions"
TRANSCRIPTION_MODELS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1")
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # the documented per-request limit (25 MiB)


def supports_streaming(model: str) -> bool:
    """Models that stream transcript deltas; whisper-1 (and whisper servers) answer in one piece."""
    name = model.lower()
    return "transcribe" in name and not name.startswith("whisper")


def supports_prompt(model: str) -> bool:
    return "diarize" not in model.lower()


def build_form(model: str, *, language: str | None = None, prompt: str | None = None,
               stream: bool = False) -> dict[str, str]:  # fmt: skip
    form = {"model": model}
    if language:
        form["language"] = language
    if prompt and supports_prompt(model):
        form["prompt"] = prompt
    if stream:
        form["stream"] = "true"
    return form


def _text_of(data: Any, host: str) -> str:
    if isinstance(data, str):  # response_format=text, or a server that answers text/plain
        return data.strip()
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        return data["text"].strip()
    raise E.NotCompatibleError(f"{host} answered the transcription request, but without a transcript.")


def _stream_error(payload: Any, request_id: str | None) -> E.ServerStreamError:
    error = payload.get("error") if isinstance(payload, dict) else payload
    if isinstance(error, dict):
        message, code = error.get("message") or json.dumps(error)[:300], error.get("code")
    else:
        message, code = str(error or "unknown error"), None
    return E.ServerStreamError(
        f"The server reported an error while transcribing: {message}",
        code=str(code) if code is not None else None, request_id=request_id,
    )  # fmt: skip


async def transcribe(
    client: OpenAIClient,
    data: bytes,
    filename: str,
    mime: str,
    *,
    model: str = "whisper-1",
    language: str | None = None,
    prompt: str | None = None,
    stream: bool = False,
    on_retry: RetryCallback | None = None,
) -> str:
    """The transcript of one audio file. ``stream=True`` uses the event stream and returns its final text."""
    if stream:
        deltas = stream_transcription(
            client, data, filename, mime, model=model, language=language, prompt=prompt, on_retry=on_retry
        )
        return "".join([delta async for delta in deltas]).strip()
    files = {"file": (filename, data, mime)}
    form = build_form(model, language=language, prompt=prompt)
    body, _headers = await client.request_json("POST", PATH, data=form, files=files, on_retry=on_retry, model=model)
    return _text_of(body, client.endpoint.host)


async def stream_transcription(
    client: OpenAIClient,
    data: bytes,
    filename: str,
    mime: str,
    *,
    model: str = "gpt-4o-mini-transcribe",
    language: str | None = None,
    prompt: str | None = None,
    on_retry: RetryCallback | None = None,
) -> AsyncIterator[str]:
    """Yield the transcript as text deltas, as the server produces them.

    A server that ignores ``stream`` yields its whole transcript once. A stream that ends without
    ``transcript.text.done`` raises ``StreamInterruptedError`` whose ``partial`` holds the text so far.
    """
    files = {"file": (filename, data, mime)}
    form = build_form(model, language=language, prompt=prompt, stream=True)
    request_id: str | None = None
    received: list[str] = []

    def remember(headers: Any) -> None:
        nonlocal request_id
        request_id = headers.get("x-request-id")

    async for event in client.stream_events(
        "POST", PATH, data=form, files=files, on_retry=on_retry, model=model, on_headers=remember
    ):
        if not event.data:
            continue
        if event.data.startswith("[DONE]"):
            break
        try:
            payload = json.loads(event.data)
        except ValueError:
            raise E.MalformedStreamError(
                "The server sent a garbled transcription event; the transcript is incomplete.",
                partial="".join(received), request_id=request_id,
            ) from None  # fmt: skip
        if not isinstance(payload, dict):
            raise E.MalformedStreamError("The server sent an unexpected transcription event.", request_id=request_id)
        kind = payload.get("type")
        if payload.get("error") or kind == "error":
            err = _stream_error(payload, request_id)
            err.partial = "".join(received)
            raise err
        if event.event == "__json__" or (kind is None and "text" in payload):
            text = _text_of(payload, client.endpoint.host)  # one JSON document: the whole transcript
            if text:
                yield text
            return
        if kind == "transcript.text.delta":
            delta = payload.get("delta")
            if isinstance(delta, str) and delta:
                received.append(delta)
                yield delta
        elif kind == "transcript.text.done":
            final = payload.get("text")
            if not received and isinstance(final, str) and final:
                yield final  # a server that sends only the final event
            return
    raise E.StreamInterruptedError(
        "The transcription stream ended before it was finished; the transcript is incomplete.",
        partial="".join(received), request_id=request_id,
    )  # fmt: skip
