"""The HTTP core of the OpenAI client: one ``httpx.AsyncClient``, retries, typed errors, SSE.

Endpoint-specific code (chat, models, images, audio) builds on ``request_json`` and
``stream_events``. This is the only layer that talks to httpx.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from assistant_app import __version__
from assistant_app.api import errors as E
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.error_map import error_from_response, error_from_transport, parse_error_body
from assistant_app.api.redact import register_secret
from assistant_app.api.retry import retry_delay, should_retry
from assistant_app.api.sse import SSEDecoder, SSEEvent

log = logging.getLogger("assistant_app.api")

DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True)
class RetryNotice:
    """Told to the caller before waiting: attempt ``attempt`` of ``max_attempts`` starts in ``delay`` s."""

    attempt: int
    max_attempts: int
    delay: float
    error: E.APIError


RetryCallback = Callable[[RetryNotice], None]


def system_ssl_context() -> ssl.SSLContext | bool:
    """Certificates from the OS trust store (truststore), falling back to certifi via httpx."""
    try:
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except Exception:  # truststore missing or unsupported platform
        return True


def make_http_client(read_timeout: float = 60.0) -> httpx.AsyncClient:
    """The app's single shared AsyncClient. Proxies come from HTTPS_PROXY/NO_PROXY (trust_env)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=10.0, read=read_timeout, write=60.0, pool=10.0),
        verify=system_ssl_context(),
        trust_env=True,
        headers={"User-Agent": f"assistant-app/{__version__}"},
        follow_redirects=False,
    )


class OpenAIClient:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        http: httpx.AsyncClient | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        read_timeout: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._owns_http = http is None
        self.http = http or make_http_client(read_timeout)
        self.max_retries = max_retries
        self.read_timeout = read_timeout
        self._sleep = sleep
        self.last_rate_limits: dict[str, str] = {}
        register_secret(endpoint.api_key)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    # -- plumbing -------------------------------------------------------------------------

    def _build(self, method: str, path: str, *, json: Any = None, data: Any = None, files: Any = None,
               retry_count: int = 0) -> httpx.Request:
        url, params = self.endpoint.url(path)
        headers = self.endpoint.auth_headers()
        headers["x-stainless-retry-count"] = str(retry_count)
        if json is not None:
            headers["Content-Type"] = "application/json"
            content: bytes | None = jsonlib.dumps(json).encode()
            return self.http.build_request(method, url, params=params, headers=headers, content=content,
                                           timeout=self._timeout())
        return self.http.build_request(method, url, params=params, headers=headers, data=data, files=files,
                                       timeout=self._timeout())

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(connect=10.0, read=self.read_timeout, write=60.0, pool=10.0)

    def _remember_headers(self, headers: httpx.Headers) -> None:
        limits = {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}
        if limits:
            self.last_rate_limits = limits

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        stream: bool,
        on_retry: RetryCallback | None,
        model: str | None,
    ) -> httpx.Response:
        """Send with retries until a 2xx response; the caller owns (and closes) the response."""
        self.endpoint.validate()
        max_attempts = self.max_retries + 1
        attempt = 0
        while True:
            attempt += 1
            request = self._build(method, path, json=json, data=data, files=files, retry_count=attempt - 1)
            started = time.monotonic()
            try:
                response = await self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                err = error_from_transport(exc, host=self.endpoint.host, timeout=self.read_timeout)
                log.warning("%s %s failed: %s (attempt %d/%d)", method, path, type(exc).__name__, attempt,
                            max_attempts)
                if err.retryable and attempt < max_attempts:
                    delay = retry_delay(attempt - 1)
                    await self._notify_and_wait(on_retry, attempt + 1, max_attempts, delay, err)
                    continue
                raise err from None
            self._remember_headers(response.headers)
            rid = response.headers.get("x-request-id")
            elapsed = (time.monotonic() - started) * 1000
            if response.is_success:
                log.info("%s %s -> %d in %.0f ms (request id %s)", method, path, response.status_code, elapsed, rid)
                if not stream:
                    try:
                        await response.aread()
                    except httpx.HTTPError as exc:
                        await response.aclose()
                        raise error_from_transport(exc, host=self.endpoint.host, timeout=self.read_timeout) from None
                return response
            try:
                body = await response.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
            err = error_from_response(response.status_code, response.headers, body, host=self.endpoint.host,
                                      path=path, model=model)
            log.warning("%s %s -> %d (request id %s, code %s)", method, path, response.status_code, rid, err.code)
            _msg, _type, code = parse_error_body(body)
            if attempt < max_attempts and should_retry(response.status_code, response.headers, code):
                delay = retry_delay(attempt - 1, response.headers)
                await self._notify_and_wait(on_retry, attempt + 1, max_attempts, delay, err)
                continue
            raise err

    async def _notify_and_wait(self, on_retry: RetryCallback | None, attempt: int, max_attempts: int,
                               delay: float, err: E.APIError) -> None:
        if on_retry is not None:
            on_retry(RetryNotice(attempt, max_attempts, delay, err))
        await self._sleep(delay)

    # -- public building blocks -----------------------------------------------------------

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        on_retry: RetryCallback | None = None,
        model: str | None = None,
    ) -> tuple[Any, httpx.Headers]:
        response = await self._send(method, path, json=json, data=data, files=files, stream=False,
                                    on_retry=on_retry, model=model)
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type and not response.content.lstrip().startswith((b"{", b"[")):
            if content_type.startswith("text/plain"):
                return response.text, response.headers
            raise E.NotCompatibleError(
                f"{self.endpoint.host} did not answer with JSON ({content_type or 'no content type'}). "
                "Check that the base URL points at an OpenAI-compatible API (it usually ends in /v1).",
                status=response.status_code, request_id=response.headers.get("x-request-id"),
            )
        try:
            return response.json(), response.headers
        except ValueError:
            raise E.NotCompatibleError(
                f"{self.endpoint.host} sent a reply that is not valid JSON. Is this an OpenAI-compatible server?",
                status=response.status_code, request_id=response.headers.get("x-request-id"),
            ) from None

    async def stream_events(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        on_retry: RetryCallback | None = None,
        model: str | None = None,
        on_headers: Callable[[httpx.Headers], None] | None = None,
    ) -> AsyncIterator[SSEEvent]:
        """Yield SSE events. Retries happen only before the response starts; afterwards a failure
        raises a ``StreamError`` subclass. The response is always closed when this generator ends."""
        response = await self._send(method, path, json=json, data=data, files=files, stream=True,
                                    on_retry=on_retry, model=model)
        rid = response.headers.get("x-request-id")
        try:
            if on_headers is not None:
                on_headers(response.headers)
            content_type = response.headers.get("content-type", "")
            if "event-stream" not in content_type:
                # Some servers ignore stream=true and send one JSON document.
                body = await response.aread()
                if "json" in content_type or body.lstrip().startswith(b"{"):
                    yield SSEEvent(body.decode("utf-8", "replace"), event="__json__")
                    return
                raise E.NotCompatibleError(
                    f"{self.endpoint.host} did not send an event stream ({content_type or 'no content type'}).",
                    request_id=rid,
                )
            decoder = SSEDecoder()
            try:
                async for chunk in response.aiter_raw():
                    for event in decoder.feed(chunk):
                        yield event
            except httpx.ReadTimeout:
                raise E.StreamStalledError(
                    f"{self.endpoint.host} stopped sending for more than {self.read_timeout:g} s; "
                    "the reply is incomplete.", request_id=rid,
                ) from None
            except httpx.HTTPError as exc:
                log.warning("stream from %s broke: %s (request id %s)", self.endpoint.host, type(exc).__name__, rid)
                raise E.StreamInterruptedError(
                    f"The connection to {self.endpoint.host} dropped mid-reply; the reply is incomplete.",
                    request_id=rid,
                ) from None
            for event in decoder.flush():
                yield event
        finally:
            await response.aclose()
