"""The HTTP core of the OpenAI client: one ``httpx.AsyncClient``, retries, typed errors, SSE.

Endpoint-specific code (chat, models, images, audio) builds on ``request_json`` and
``stream_events``. This is the only layer that talks to httpx.
"""

from __future__ import annotations

import asyncio
import copy
import json as jsonlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from assistant_app import __version__
from assistant_app.api import calls
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
        # Usage log hook: every attempt's CallRecord, once it is over (see api/calls.py).
        self.observers: list[calls.CallObserver] = []
        # Optional rate limiter / circuit breaker around each attempt (see core/ratelimit.py).
        self.guard: calls.CallGuard | None = None
        self.call_tags: dict[str, Any] = {}
        self._open_calls: list[calls.CallRecord] = []  # streams handed out whose record is not yet emitted
        register_secret(endpoint.api_key)

    def tagged(self, **tags: Any) -> OpenAIClient:
        """A view of this client whose calls carry ``tags`` (conversation_id, message_id...).

        Shares the connection pool, observers and guard; closing the view does nothing.
        """
        view = copy.copy(self)
        view._owns_http = False
        view.call_tags = {**self.call_tags, **tags}
        view._open_calls = []
        return view

    def end_open_calls(self, status: str = "cancelled") -> None:
        """Record the streams of this client (view) that their consumer closed early, with ``status``
        (the consumer's error kind, e.g. "malformed"). Call it right after closing the stream: an
        abandoned stream is otherwise recorded as "cancelled" on the next turn of the event loop."""
        for call in list(self._open_calls):
            calls.stream_failed(call, status)
            self._end_call(call)

    def _abandon_soon(self, call: calls.CallRecord) -> None:
        def end() -> None:
            calls.stream_failed(call, "cancelled")
            self._end_call(call)

        try:
            asyncio.get_running_loop().call_soon(end)
        except RuntimeError:  # finalised outside a running loop
            end()

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

    def _guard_after(self, kind: str, outcome: str, headers: httpx.Headers | None) -> None:
        if self.guard is not None:
            try:
                self.guard.after(kind, outcome, headers)
            except Exception:
                log.exception("call guard failed (ignored)")

    def _end_call(self, call: calls.CallRecord, status: str | None = None, error: str | None = None) -> None:
        if call.emitted:
            return
        if call in self._open_calls:
            self._open_calls.remove(call)
        calls.finish(call, status, error=error)
        calls.emit(self.observers, call)

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
    ) -> tuple[httpx.Response, calls.CallRecord]:
        """Send with retries until a 2xx response; the caller owns (and closes) the response and
        ends the returned call record."""
        self.endpoint.validate()
        max_attempts = self.max_retries + 1
        attempt = 0
        kind = calls.kind_of(path)
        est_tokens = calls.estimate_tokens(json)
        while True:
            attempt += 1
            if self.guard is not None:
                await self.guard.before(kind, est_tokens)
            request = self._build(method, path, json=json, data=data, files=files, retry_count=attempt - 1)
            call = calls.start_call(self.endpoint.host, path, body=json, form=data, model=model,
                                    tags=self.call_tags, attempt=attempt)
            started = time.monotonic()
            try:
                response = await self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                err = error_from_transport(exc, host=self.endpoint.host, timeout=self.read_timeout)
                self._guard_after(kind, "failure", None)
                self._end_call(call, err.kind)
                log.warning("%s %s failed: %s (attempt %d/%d)", method, path, type(exc).__name__, attempt,
                            max_attempts)
                if err.retryable and attempt < max_attempts:
                    delay = retry_delay(attempt - 1)
                    await self._notify_and_wait(on_retry, attempt + 1, max_attempts, delay, err)
                    continue
                raise err from None
            self._remember_headers(response.headers)
            rid = response.headers.get("x-request-id")
            call.http_status, call.request_id = response.status_code, rid
            elapsed = (time.monotonic() - started) * 1000
            if response.is_success:
                log.info("%s %s -> %d in %.0f ms (request id %s)", method, path, response.status_code, elapsed, rid)
                self._guard_after(kind, "success", response.headers)
                if not stream:
                    try:
                        await response.aread()
                    except httpx.HTTPError as exc:
                        await response.aclose()
                        err = error_from_transport(exc, host=self.endpoint.host, timeout=self.read_timeout)
                        self._end_call(call, err.kind)
                        raise err from None
                return response, call
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
            self._guard_after(kind, calls.outcome_of(response.status_code, code), response.headers)
            self._end_call(call, error=code or err.kind)
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
        response, call = await self._send(method, path, json=json, data=data, files=files, stream=False,
                                          on_retry=on_retry, model=model)
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type and not response.content.lstrip().startswith((b"{", b"[")):
            if content_type.startswith("text/plain"):
                self._end_call(call)
                return response.text, response.headers
            self._end_call(call, "not_compatible")
            raise E.NotCompatibleError(
                f"{self.endpoint.host} did not answer with JSON ({content_type or 'no content type'}). "
                "Check that the base URL points at an OpenAI-compatible API (it usually ends in /v1).",
                status=response.status_code, request_id=response.headers.get("x-request-id"),
            )
        try:
            payload = response.json()
        except ValueError:
            self._end_call(call, "not_compatible")
            raise E.NotCompatibleError(
                f"{self.endpoint.host} sent a reply that is not valid JSON. Is this an OpenAI-compatible server?",
                status=response.status_code, request_id=response.headers.get("x-request-id"),
            ) from None
        calls.apply_payload(call, payload)
        self._end_call(call)
        return payload, response.headers

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
        response, call = await self._send(method, path, json=json, data=data, files=files, stream=True,
                                          on_retry=on_retry, model=model)
        rid = response.headers.get("x-request-id")
        self._open_calls.append(call)
        abandoned = False
        try:
            if on_headers is not None:
                on_headers(response.headers)
            content_type = response.headers.get("content-type", "")
            if "event-stream" not in content_type:
                # Some servers ignore stream=true and send one JSON document.
                body = await response.aread()
                if "json" in content_type or body.lstrip().startswith(b"{"):
                    event = SSEEvent(body.decode("utf-8", "replace"), event="__json__")
                    calls.observe_event(call, event.data, event.event)
                    self._end_call(call)
                    yield event
                    return
                call.status = "not_compatible"
                raise E.NotCompatibleError(
                    f"{self.endpoint.host} did not send an event stream ({content_type or 'no content type'}).",
                    request_id=rid,
                )
            decoder = SSEDecoder()
            try:
                async for chunk in response.aiter_raw():
                    for event in decoder.feed(chunk):
                        calls.observe_event(call, event.data, event.event)
                        if call.terminal:  # the consumer may stop here: record the call now
                            self._end_call(call)
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
                calls.observe_event(call, event.data, event.event)
                yield event
            calls.stream_ended(call)
        except GeneratorExit:  # the consumer closed the stream early; it may still say why (end_open_calls)
            abandoned = True
            raise
        except BaseException as exc:  # a stream error, or the task was cancelled
            calls.stream_failed(call, exc)
            raise
        finally:
            if not abandoned:
                self._end_call(call)
            try:
                await response.aclose()
            finally:
                if abandoned:
                    self._abandon_soon(call)
