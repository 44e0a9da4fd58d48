"""One record per HTTP call the client makes, for the usage log, plus the hooks that receive it.

``OpenAIClient`` creates a :class:`CallRecord` for every attempt, fills in what the wire tells it
(status, latency, ``x-request-id``, the ``usage`` object of the reply, image count and size, audio
seconds) and hands it to its observers once the call is over: when a JSON body has been read, or
when a stream reaches its terminal event, ends, fails or is closed by its consumer. Usage is read
from the reply generically (chat, images and transcriptions each have a recognisable shape), so
endpoint modules need no changes; :func:`apply_payload` is public for any that want to add more.

Streams are sniffed cheaply: an event is JSON-decoded only when a regular expression says it holds
a ``usage`` or ``error`` object, so the usual chat chunk (``"usage": null``) costs one regex search.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

log = logging.getLogger("assistant_app.api")

KINDS = ("chat", "models", "image", "transcription", "other")
#: Tags a caller may attach to the calls of a client view (``OpenAIClient.tagged``).
TAG_FIELDS = ("provider_id", "conversation_id", "message_id")

_USAGE_RE = re.compile(r'"usage"\s*:\s*\{')
_ERROR_RE = re.compile(r'"error"\s*:\s*[{"]')
_CONTENT_RE = re.compile(r'"(?:content|refusal|delta|b64_json)"\s*:\s*"[^"]')
_FINISH_RE = re.compile(r'"finish_reason"\s*:\s*"')
_TERMINAL_TYPES = re.compile(r'"type"\s*:\s*"(?:[a-z_]+\.completed|transcript\.text\.done)"')


@dataclass(eq=False)  # records are compared by identity
class CallRecord:
    """What one API call did. ``status`` is the HTTP status ("200", "429") or an error kind
    ("connection", "timeout", "interrupted", "cancelled", ...); ``ok`` is True only for a call that
    finished normally. Token fields are ``None`` when the server did not report them."""

    started_at: float  # seconds since the Unix epoch
    host: str
    path: str
    kind: str
    model: str | None = None
    response_model: str | None = None  # the model the server says it used (dated snapshot)
    status: str = "pending"
    http_status: int | None = None
    ok: bool = False
    latency_ms: float | None = None  # start of the request to the end of the body
    ttft_ms: float | None = None  # start of the request to the first content of a stream
    request_id: str | None = None
    attempt: int = 1
    prompt_tokens: int | None = None  # chat prompt, or input tokens of images/transcriptions
    cached_tokens: int | None = None
    completion_tokens: int | None = None  # chat completion, or output tokens
    reasoning_tokens: int | None = None
    image_tokens: int | None = None  # input tokens that were images (part of prompt_tokens)
    audio_tokens: int | None = None  # input tokens that were audio (part of prompt_tokens)
    images: int | None = None
    image_size: str | None = None
    image_quality: str | None = None
    audio_seconds: float | None = None
    error: str | None = None  # the server's error code or message, short
    provider_id: str | None = None
    conversation_id: int | None = None
    message_id: int | None = None
    _t0: float = field(default=0.0, repr=False, compare=False)
    _first: float | None = field(default=None, repr=False, compare=False)
    _ended: bool = field(default=False, repr=False, compare=False)  # a finish_reason or terminal event seen
    emitted: bool = field(default=False, repr=False, compare=False)
    terminal: bool = field(default=False, repr=False, compare=False)

    @property
    def billable(self) -> bool:
        """The server accepted the request (2xx), so it may have charged for it."""
        return self.http_status is not None and 200 <= self.http_status < 300


CallObserver = Callable[[CallRecord], None]

#: Column-like fields of a record (everything but the private bookkeeping).
RECORD_FIELDS = tuple(
    f.name for f in fields(CallRecord) if not f.name.startswith("_") and f.name not in ("emitted", "terminal")
)


class CallGuard(Protocol):
    """Optional gate around every attempt: rate limiting and a circuit breaker (see core/ratelimit.py)."""

    async def before(self, kind: str, est_tokens: int) -> None:
        """Wait for capacity, or raise (e.g. ``CircuitOpenError``) to refuse the call."""

    def after(self, kind: str, outcome: str, headers: Mapping[str, str] | None) -> None:
        """``outcome`` is "success", "failure" (connection, 5xx, 429) or "client_error" (other 4xx)."""


def kind_of(path: str) -> str:
    if path.startswith("/chat/"):
        return "chat"
    if path.startswith("/models"):
        return "models"
    if path.startswith("/images/"):
        return "image"
    if path.startswith("/audio/transcriptions"):
        return "transcription"
    return "other"


def outcome_of(status: int, error_code: str | None = None) -> str:
    """How a circuit breaker should count an HTTP status."""
    if 200 <= status < 400:
        return "success"
    if status >= 500 or (status == 429 and error_code != "insufficient_quota"):
        return "failure"
    return "client_error"


def estimate_tokens(body: Any) -> int:
    """A rough token count for rate limiting: characters of text / 4, plus the output cap."""
    if not isinstance(body, Mapping):
        return 0
    chars = 0
    for msg in body.get("messages") or ():
        content = msg.get("content") if isinstance(msg, Mapping) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    chars += len(part["text"])
                elif isinstance(part, Mapping) and part.get("type") == "image_url":
                    chars += 4 * 765  # a high-detail 1024x1024 image
    if isinstance(body.get("prompt"), str):
        chars += len(body["prompt"])
    cap = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return chars // 4 + (int(cap) if isinstance(cap, int | float) else 0)


def start_call(
    host: str,
    path: str,
    *,
    body: Any,
    form: Any,
    model: str | None,
    tags: Mapping[str, Any],
    attempt: int,
    clock: Callable[[], float] = time.monotonic,
) -> CallRecord:
    """A new record for one attempt; request-side facts (model, image size/quality) come from the body."""
    source = body if isinstance(body, Mapping) else form if isinstance(form, Mapping) else {}
    call = CallRecord(
        started_at=time.time(),
        host=host,
        path=path,
        kind=kind_of(path),
        attempt=attempt,
        model=model or _str(source.get("model")),
        _t0=clock(),
    )
    if call.kind == "image":
        call.image_size = _str(source.get("size"))
        call.image_quality = _str(source.get("quality"))
    for name in TAG_FIELDS:
        if tags.get(name) is not None:
            setattr(call, name, tags[name])
    return call


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and str(value) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def apply_usage(call: CallRecord, usage: Mapping[str, Any]) -> None:
    """Copy a ``usage`` object (chat, image or transcription shape) into ``call``."""
    if usage.get("type") == "duration":
        seconds = usage.get("seconds")
        if isinstance(seconds, int | float):
            call.audio_seconds = float(seconds)
        return
    chat = "prompt_tokens" in usage or "completion_tokens" in usage
    call.prompt_tokens = _int(usage.get("prompt_tokens" if chat else "input_tokens"))
    call.completion_tokens = _int(usage.get("completion_tokens" if chat else "output_tokens"))
    details = usage.get("prompt_tokens_details" if chat else "input_tokens_details")
    if not isinstance(details, Mapping):
        details = usage.get("input_token_details")  # the transcription spelling
    if isinstance(details, Mapping):
        call.cached_tokens = _int(details.get("cached_tokens"))
        call.image_tokens = _int(details.get("image_tokens"))
        call.audio_tokens = _int(details.get("audio_tokens"))
    out = usage.get("completion_tokens_details" if chat else "output_tokens_details")
    if isinstance(out, Mapping):
        call.reasoning_tokens = _int(out.get("reasoning_tokens"))


def apply_payload(call: CallRecord, payload: Any) -> None:
    """Read usage, served model, image count/size and audio duration from a reply or stream event."""
    if not isinstance(payload, Mapping):
        return
    if isinstance(payload.get("usage"), Mapping):
        apply_usage(call, payload["usage"])
    if _str(payload.get("model")):
        call.response_model = str(payload["model"])
    if call.kind == "image":
        data = payload.get("data")
        if isinstance(data, list):
            call.images = len(data)
        elif str(payload.get("type", "")).endswith(".completed"):
            call.images = (call.images or 0) + 1
        for attr, key in (("image_size", "size"), ("image_quality", "quality")):
            if getattr(call, attr) in (None, "auto") and _str(payload.get(key)):
                setattr(call, attr, str(payload[key]))
    if call.kind == "transcription" and call.audio_seconds is None and isinstance(payload.get("duration"), int | float):
        call.audio_seconds = float(payload["duration"])


def observe_event(call: CallRecord, data: str, event: str | None, clock: Callable[[], float] = time.monotonic) -> None:
    """Update ``call`` from one SSE event: first content time, usage, in-band errors, the end."""
    if call._first is None and _CONTENT_RE.search(data):
        call._first = clock()
        call.ttft_ms = (call._first - call._t0) * 1000
    if event == "__json__" or _USAGE_RE.search(data) or _ERROR_RE.search(data):
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        if isinstance(payload, Mapping):
            apply_payload(call, payload)
            err = payload.get("error")
            if err:  # an in-band error ends the stream: record it now
                call.status = "server_stream"
                call.terminal = call._ended = True
                code = (err.get("code") or err.get("message")) if isinstance(err, Mapping) else err
                call.error = str(code)[:200] if code else None
    if _FINISH_RE.search(data):
        call._ended = True
    named_end = bool(event) and (event.endswith(".completed") or event == "transcript.text.done")
    if data.startswith("[DONE]") or event == "__json__" or named_end or _TERMINAL_TYPES.search(data):
        call.terminal = call._ended = True


def stream_ended(call: CallRecord) -> None:
    """The body ended cleanly: without a finish_reason or terminal event the reply was cut short."""
    if not call._ended and call.status == "pending":
        call.status = "interrupted"


def stream_failed(call: CallRecord, exc: BaseException | str) -> None:
    """The stream raised, or its consumer gave up on it (``GeneratorExit``, cancellation, its own error).

    ``exc`` may also be the error kind as a string, from a consumer that ends abandoned calls."""
    if call.terminal or call.status != "pending":
        return
    kind = exc if isinstance(exc, str) else getattr(exc, "kind", None)
    call.status = kind if isinstance(kind, str) else "cancelled"


def finish(
    call: CallRecord,
    status: str | None = None,
    *,
    error: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Close the record: a 2xx with no error so far becomes ``ok``; ``status`` overrides."""
    if call.latency_ms is None:
        call.latency_ms = (clock() - call._t0) * 1000
    if status is not None and call.status != "server_stream":
        call.status = status
    elif call.status == "pending":
        call.status = str(call.http_status) if call.http_status is not None else "unknown"
    if error:
        call.error = error[:200]
    call.ok = call.billable and call.status == str(call.http_status)


def emit(observers: list[CallObserver], call: CallRecord) -> None:
    """Hand ``call`` to every observer once; an observer that raises is logged, never propagated."""
    if call.emitted:
        return
    call.emitted = True
    for observer in list(observers):
        try:
            observer(call)
        except Exception:
            log.exception("a call observer failed (ignored)")
