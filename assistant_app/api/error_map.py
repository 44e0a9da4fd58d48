"""Turn HTTP responses and transport failures into typed errors with actionable messages."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import httpx

from assistant_app.api import errors as E
from assistant_app.api.redact import redact_text


def parse_error_body(body: bytes | str) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) from OpenAI's, vLLM's (flat, integer code) or Ollama's (string) envelopes."""
    try:
        data: Any = json.loads(body)
    except (ValueError, TypeError):
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None
    err = data.get("error")
    if isinstance(err, str):
        return err, None, None
    if isinstance(err, dict):
        data = err
    elif data.get("object") != "error" and "message" not in data:
        return None, None, None
    message = data.get("message")
    code = data.get("code")
    return (
        str(message) if message is not None else None,
        str(data["type"]) if data.get("type") is not None else None,
        str(code) if code is not None else None,
    )


def looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:200].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html"))


def error_from_response(
    status: int, headers: httpx.Headers, body: bytes, *, host: str, path: str, model: str | None = None
) -> E.APIError:
    request_id = headers.get("x-request-id")
    message, _type, code = parse_error_body(body)
    if message:
        message = redact_text(message)  # some servers echo the key they rejected
    server = f" The server said: {message}" if message else ""
    kw: dict[str, Any] = {"status": status, "code": code, "request_id": request_id, "detail": message}
    html = message is None and looks_like_html(body, headers.get("content-type", ""))

    if status == 401:
        return E.AuthenticationError(
            f"The API key was rejected by {host} (401). Open Settings → Providers to replace it.{server}", **kw
        )
    if status == 403:
        return E.PermissionDeniedError(
            f"Access denied by {host} (403): this key, project or region has no access to this.{server}", **kw
        )
    if status == 404:
        if code == "model_not_found" or (message and "model" in message.lower()):
            name = f"“{model}” " if model else ""
            return E.NotFoundError(
                f"The model {name}was not found on {host} (404). Pick another model in the model list.{server}",
                **kw,
            )
        return E.NotFoundError(
            f"{host} has no {path} endpoint (404). Check the base URL: for most servers it ends in /v1.", **kw
        )
    if status == 400 and (code == "context_length_exceeded" or (message and "context length" in message.lower())):
        return E.ContextLengthError(
            "This conversation is too long for the model's context window. Start a new conversation, "
            f"shorten the message, or pick a model with a larger context.{server}",
            **kw,
        )
    if status == 400:
        return E.BadRequestError(f"The server refused the request as invalid (400).{server}", **kw)
    if status == 408:
        return E.RequestTimeoutError(f"{host} timed out handling the request (408).", **kw)
    if status == 409:
        return E.ConflictError(f"{host} reported a conflict (409); retrying usually helps.{server}", **kw)
    if status == 422:
        return E.UnprocessableEntityError(f"The server could not process the request (422).{server}", **kw)
    if status == 429:
        if code == "insufficient_quota":
            return E.QuotaExceededError(
                "Your account has run out of credit (insufficient_quota). Add credit or check the plan and "
                f"billing of this key, then retry.{server}",
                **kw,
            )
        return E.RateLimitError(
            f"{host} is rate-limiting requests (429). Wait a moment and retry, or lower the request rate.{server}",
            **kw,
        )
    if status >= 500:
        what = "an error page" if html else "an error"
        return E.ServerError(
            f"{host} had {what} ({status}). This is usually temporary; retry in a moment.{server}", **kw
        )
    if html:
        return E.NotCompatibleError(
            f"{host} answered with a web page ({status}), not an OpenAI-compatible API. Check the base URL.", **kw
        )
    return E.APIError(f"Unexpected answer from {host} ({status}).{server}", **kw)


def error_from_transport(exc: Exception, *, host: str, timeout: float | None = None) -> E.APIError:
    """Map httpx transport exceptions; the message names the host, never the key."""
    text = str(exc)
    lower = text.lower()
    if isinstance(exc, httpx.ProxyError):
        return E.ProxyError(
            f"The proxy refused or failed the connection to {host}. Check HTTPS_PROXY / NO_PROXY. ({text})"
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return E.RequestTimeoutError(f"Connecting to {host} timed out. Check the address and your network.")
    if isinstance(exc, httpx.TimeoutException):
        secs = f" within {timeout:g} s" if timeout else ""
        return E.RequestTimeoutError(f"{host} did not answer{secs}. The server may be overloaded; retry.")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return E.TLSError(
                f"The secure connection to {host} failed: its certificate is not trusted "
                f"({cause.verify_message}). Behind a corporate proxy, install its certificate in the system "
                "trust store."
            )
        if isinstance(cause, ssl.SSLError):
            return E.TLSError(
                f"The secure connection to {host} failed ({cause.reason or cause}). If the server speaks plain "
                "HTTP, use an http:// address."
            )
        # httpx/anyio wrap these in "All connection attempts failed": the cause says what happened.
        if isinstance(cause, socket.gaierror):
            return _dns_failed(host)
        if isinstance(cause, ConnectionRefusedError):
            return _refused(host)
        cause = cause.__cause__ or cause.__context__
    if "certificate" in lower or "ssl" in lower or "tls" in lower:
        return E.TLSError(f"The secure connection to {host} failed: {text}")
    if "name or service not known" in lower or "nodename nor servname" in lower or "getaddrinfo" in lower or (
        "name resolution" in lower
    ):
        return _dns_failed(host)
    if "refused" in lower or "errno 111" in lower:
        return _refused(host)
    if isinstance(exc, httpx.RemoteProtocolError):
        return E.ConnectionFailedError(f"{host} closed the connection unexpectedly. Retry in a moment.")
    return E.ConnectionFailedError(f"Could not reach {host}: {text or type(exc).__name__}.")


def _dns_failed(host: str) -> E.ConnectionFailedError:
    return E.ConnectionFailedError(
        f"Could not find the server “{host}” (DNS lookup failed). Check the address and your network."
    )


def _refused(host: str) -> E.ConnectionFailedError:
    return E.ConnectionFailedError(f"Could not connect to {host}: connection refused. Is the server running?")
