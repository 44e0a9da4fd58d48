"""Faults the fake OpenAI server can inject, one per request, from a queue.

A test queues faults with ``srv.enqueue_fault(Fault.rate_limited(), times=2)``; each matching
request takes the next one, later requests succeed.  Two families:

* response faults replace the whole response: an OpenAI (or vLLM) error status and body, an HTML
  page, a non-JSON 200 body, a connection dropped or held before any response byte;
* mid-stream faults act after ``after`` data events of a streamed body (or, on a non-streamed
  response, after the headers): stall, TCP reset, malformed JSON chunk, end without
  finish_reason/[DONE], an ``{"error": {...}}`` data event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    HTTP = "http"  # status + body + headers replace the response
    DISCONNECT = "disconnect"  # reset the connection before any response byte
    HANG = "hang"  # send nothing until released (or the server stops)
    STALL = "stall"  # mid-body: hold the connection after N events until released
    RESET = "reset"  # mid-body: TCP RST after N events
    MALFORMED = "malformed"  # mid-body: one data event whose JSON is cut short, then carry on
    TRUNCATE = "truncate"  # mid-body: clean end of body after N events, no finish_reason, no [DONE]
    STREAM_ERROR = "stream_error"  # mid-body: `data: {"error": {...}}` after N events, then end


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope (ErrorResponse): all four keys are always present."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass(frozen=True)
class Fault:
    """One injected failure.  Build it with the class methods; ``path`` limits which requests match."""

    kind: FaultKind
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    after: int = 0
    error: Mapping[str, Any] | None = None
    path: str | None = None  # substring of the request path; None matches every request
    openrouter_style: bool = False  # STREAM_ERROR: also send a choice with finish_reason "error"

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path

    def only_for(self, path: str) -> Fault:
        """The same fault, limited to requests whose path contains ``path`` (e.g. "/chat/completions")."""
        return replace(self, path=path)

    def with_headers(self, **headers: str) -> Fault:
        """Add response headers; underscores become dashes (``x_should_retry="false"``)."""
        merged = dict(self.headers)
        merged.update({k.replace("_", "-"): v for k, v in headers.items()})
        return replace(self, headers=merged)

    # ---- response faults -------------------------------------------------------------------
    @classmethod
    def http_error(
        cls,
        status: int,
        message: str,
        type_: str,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        body = json.dumps(error_body(message, type_, code, param)).encode()
        return cls(FaultKind.HTTP, status=status, body=body, headers=dict(headers or {}))

    @classmethod
    def unauthorized(cls) -> Fault:
        return cls.http_error(
            401,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )

    @classmethod
    def forbidden(cls) -> Fault:
        return cls.http_error(
            403,
            "Country, region, or territory not supported",
            "request_forbidden",
            "unsupported_country_region_territory",
        )

    @classmethod
    def model_not_found(cls, model: str = "gpt-nonexistent") -> Fault:
        return cls.http_error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )

    @classmethod
    def context_length_exceeded(cls, limit: int = 128000, requested: int = 130000) -> Fault:
        return cls.http_error(
            400,
            f"This model's maximum context length is {limit} tokens. However, your messages resulted in "
            f"{requested} tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
        )

    @classmethod
    def rate_limited(cls, retry_after: int | None = 1, retry_after_ms: float | None = None) -> Fault:
        """429 rate_limit_exceeded; ``retry-after`` (integer seconds) and optional ``retry-after-ms``."""
        headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s"}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        if retry_after_ms is not None:
            headers["retry-after-ms"] = f"{retry_after_ms:g}"
        return cls.http_error(
            429,
            "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
            "requests",
            "rate_limit_exceeded",
            headers=headers,
        )

    @classmethod
    def insufficient_quota(cls) -> Fault:
        """429 the user must act on: no Retry-After, never retried."""
        return cls.http_error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        )

    @classmethod
    def server_error(cls) -> Fault:
        return cls.http_error(
            500, "The server had an error while processing your request. Sorry about that!", "server_error"
        )

    @classmethod
    def overloaded(cls) -> Fault:
        return cls.http_error(
            503,
            "The server is overloaded or not ready yet.",
            "service_unavailable_error",
            "server_is_overloaded",
        )

    @classmethod
    def vllm_error(
        cls, status: int = 400, message: str = "The model does not support this request.", wrapped: bool = False
    ) -> Fault:
        """vLLM's envelope: flat before v0.10.1, ``{"error": {...}}`` after; ``code`` is an integer."""
        inner = {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": status}
        payload: dict[str, Any] = inner
        if wrapped:
            payload = {"error": {k: v for k, v in inner.items() if k != "object"}}
        return cls(FaultKind.HTTP, status=status, body=json.dumps(payload).encode())

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """A proxy's HTML error page instead of JSON."""
        body = (
            f"<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        ).encode()
        return cls(FaultKind.HTTP, status=status, body=body, content_type="text/html")

    @classmethod
    def non_json(
        cls, body: bytes = b"<html><body>Welcome! Please log in.</body></html>", content_type: str = "text/html"
    ) -> Fault:
        """A 200 whose body is not JSON (captive portal, misconfigured proxy)."""
        return cls(FaultKind.HTTP, status=200, body=body, content_type=content_type)

    @classmethod
    def disconnect(cls) -> Fault:
        """Reset the connection right after reading the request: no status line at all."""
        return cls(FaultKind.DISCONNECT)

    @classmethod
    def hang(cls) -> Fault:
        """Send nothing until ``srv.release_stalls()`` or server stop (a read timeout on the client)."""
        return cls(FaultKind.HANG)

    # ---- mid-stream faults -----------------------------------------------------------------
    @classmethod
    def stall(cls, after: int = 1) -> Fault:
        """After ``after`` events, hold the connection open until released; then carry on normally."""
        return cls(FaultKind.STALL, after=after)

    @classmethod
    def reset(cls, after: int = 1) -> Fault:
        """After ``after`` events, reset the TCP connection."""
        return cls(FaultKind.RESET, after=after)

    @classmethod
    def malformed_chunk(cls, after: int = 1) -> Fault:
        """After ``after`` events, one ``data:`` event with cut-short JSON; the stream then continues."""
        return cls(FaultKind.MALFORMED, after=after)

    @classmethod
    def truncate(cls, after: int = 1) -> Fault:
        """End the body cleanly after at most ``after`` events, never sending finish_reason, usage or [DONE]."""
        return cls(FaultKind.TRUNCATE, after=after)

    @classmethod
    def stream_error(
        cls,
        after: int = 1,
        message: str = "The server had an error while processing your request. Sorry about that!",
        type_: str = "server_error",
        code: str | None = None,
        openrouter_style: bool = False,
    ) -> Fault:
        """After ``after`` events, a ``data: {"error": {...}}`` event, then the body ends (no [DONE])."""
        return cls(
            FaultKind.STREAM_ERROR,
            after=after,
            error=error_body(message, type_, code)["error"],
            openrouter_style=openrouter_style,
        )

    @property
    def is_mid_stream(self) -> bool:
        return self.kind in {
            FaultKind.STALL,
            FaultKind.RESET,
            FaultKind.MALFORMED,
            FaultKind.TRUNCATE,
            FaultKind.STREAM_ERROR,
        }
