"""Core of the fake OpenAI server: lifecycle, connections, recording, auth, faults, response framing.

FakeServerCore knows HTTP, SSE and faults but no endpoint; fake_openai.FakeOpenAI adds those.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import socket
import sys
import threading
import traceback
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Self

from tests.support.fake_faults import Fault, FaultKind, error_body
from tests.support.fake_http import (
    BadRequest,
    HttpRequest,
    ResponseWriter,
    header_params,
    parse_multipart,
    read_request,
)
from tests.support.fake_sse import SplitMode, SseEmitter, encode_data

DEFAULT_RATELIMIT_HEADERS = {
    "x-ratelimit-limit-requests": "500",
    "x-ratelimit-limit-tokens": "30000",
    "x-ratelimit-remaining-requests": "499",
    "x-ratelimit-remaining-tokens": "29000",
    "x-ratelimit-reset-requests": "120ms",
    "x-ratelimit-reset-tokens": "2s",
}
_AZURE_RE = re.compile(r"/openai/deployments/([^/]+)(/.*)")
BLOB_PREFIX = "/_fake_blobs/"
_TERMINAL_TAGS = {"finish", "usage", "final", "done"}
_OPERATIONS = {
    ("GET", "/models"): "listModels",
    ("POST", "/chat/completions"): "createChatCompletion",
    ("POST", "/images/generations"): "createImage",
    ("POST", "/images/edits"): "createImageEdit",
    ("POST", "/audio/transcriptions"): "createTranscription",
    ("POST", "/responses"): "createResponse",
}


def route_path(path: str) -> tuple[str, str | None]:
    """Map a request path to (operation path such as "/chat/completions", Azure deployment or None)."""
    m = _AZURE_RE.fullmatch(path)
    if m:
        return m.group(2), m.group(1)
    if path == "/v1" or path.startswith("/v1/"):
        return path[3:], None
    return path, None


def operation_for(method: str, path: str) -> str | None:
    """The OpenAPI operationId a request path maps to (OpenAI or Azure style), if any."""
    return _OPERATIONS.get((method.upper(), route_path(path)[0]))


@dataclass
class RecordedRequest:
    """One request as the server saw it.  ``form``/``files`` are set for multipart bodies only."""

    method: str
    path: str
    query_string: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any | None = None
    form: dict[str, str | list[str]] | None = None
    files: dict[str, tuple[str | None, str | None, bytes]] | None = None
    file_parts: list[tuple[str, str | None, str | None, bytes]] = field(default_factory=list)
    request_id: str = ""  # the x-request-id the server answered with
    status: int | None = None  # the status line sent, once sent
    fault: Fault | None = None  # the fault this request consumed, if any

    @property
    def operation(self) -> str | None:
        return operation_for(self.method, self.path)

    @property
    def content_type(self) -> str:
        return header_params(self.headers.get("content-type", ""))[0]


@dataclass
class StreamEvent:
    """One event of a streamed body, before framing; ``tag`` tells faults what it is."""

    payload: Any  # dict (JSON) or str (sent verbatim, e.g. "[DONE]")
    tag: str  # meta, role, content, partial, delta, finish, usage, final, done
    event: str | None = None  # SSE "event:" name
    delay: float = 0.0  # seconds to wait before sending


@dataclass
class Exchange:
    """One request/response in flight, handed to endpoint handlers."""

    rec: RecordedRequest
    rw: ResponseWriter
    headers: dict[str, str]
    fault: Fault | None
    deployment: str | None


class FakeServerCore:
    """Serves on a background asyncio loop; subclasses map (method, path) to handlers."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key  # when set, requests need "Authorization: Bearer <key>" (or api-key on Azure)
        self.response_delay = 0.0  # seconds before any response (after the request is recorded)
        self.validate_requests = False  # 400 for bodies that fail tests.support.schema (strict)
        # ---- wire format ------------------------------------------------------------------
        self.stream_framing = "chunked"  # or "close": body ends when the connection closes
        self.split_writes: SplitMode = None  # None, n-byte slices, or "awkward"
        self.sse_newline = "\n"  # "\r\n" or "\r" to exercise other line endings
        self.sse_json_indent: int | None = None  # pretty JSON => several data: lines per event
        self.keepalive_comment: str | None = None  # e.g. ": keep-alive" or ": OPENROUTER PROCESSING"
        # Event delays as a schedule (sleep only when ahead of it; events due meanwhile go out back to
        # back), so a high rate such as 2,000 tokens/s is really reached; default: sleep every delay.
        self.clock_pacing = False
        self.ratelimit_headers: dict[str, str] = dict(DEFAULT_RATELIMIT_HEADERS)
        self.extra_headers: dict[str, str] = {}  # sent on every response
        self.log: Callable[[str], None] | None = None  # called with "METHOD path -> status"
        # ---- state ------------------------------------------------------------------------
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._stalls_entered = 0
        self._connections_opened = 0
        self._blobs: dict[str, tuple[bytes, str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._release: asyncio.Event | None = None
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def handler_for(self, method: str, op_path: str) -> Callable[[Exchange], Awaitable[None]] | None:
        """The coroutine serving ``method op_path`` (e.g. POST /chat/completions); None gives a 404."""
        return None

    # ---- lifecycle -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """Without /v1: the Azure-style endpoint (``{root_url}/openai/deployments/...``)."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, errors), name=type(self).__name__, daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"{type(self).__name__} did not start in time")
        if errors:
            self._thread.join(timeout)
            self._thread = None
            raise errors[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving: stalled and idle connections are dropped; never waits for a release."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        with contextlib.suppress(Exception):
            fut.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"{type(self).__name__} did not stop within {timeout}s")
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._release = asyncio.Event()
            self._server = loop.run_until_complete(asyncio.start_server(self._on_connection, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
            self._loop = loop
        except BaseException as exc:  # reported to start()
            errors.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            self._loop = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._conn_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    # ---- test helpers (thread-safe) ------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the fake server has received no request")
            return self._requests[-1]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests were recorded; returns the snapshot."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(f"expected {n} requests, got {len(self._requests)} within {timeout}s")
            return list(self._requests)

    def enqueue_fault(self, fault: Fault, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` matching requests (see Fault.only_for)."""
        with self._lock:
            self._faults.extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(path):
                    del self._faults[i]
                    return fault
        return None

    @property
    def stalls_entered(self) -> int:
        with self._lock:
            return self._stalls_entered

    def wait_for_stalls(self, n: int = 1, timeout: float = 5.0) -> None:
        """Block until ``n`` stalls/hangs in total have started (the client is now waiting)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._stalls_entered >= n, timeout):
                raise TimeoutError(f"expected {n} stalls, got {self._stalls_entered} within {timeout}s")

    def release_stalls(self) -> None:
        """Let every currently stalled response carry on."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._do_release)

    def _do_release(self) -> None:
        assert self._release is not None
        self._release.set()
        self._release = asyncio.Event()

    @property
    def connections_opened(self) -> int:
        with self._lock:
            return self._connections_opened

    def drop_connections(self) -> None:
        """Abort every open connection (idle keep-alive ones included)."""
        loop = self._loop
        if loop is None:
            return

        def _abort() -> None:
            for writer in list(self._writers):
                writer.transport.abort()

        done = threading.Event()
        loop.call_soon_threadsafe(lambda: (_abort(), done.set()))
        done.wait(5.0)

    # ---- blobs (image URLs) ----------------------------------------------------------------
    def publish_blob(self, data: bytes, content_type: str, suffix: str = "") -> str:
        """Serve ``data`` at a new URL on this server (no auth, like a signed URL); keeps the last 64."""
        blob_id = uuid.uuid4().hex
        self._blobs[blob_id] = (data, content_type)
        while len(self._blobs) > 64:
            self._blobs.pop(next(iter(self._blobs)))
        return f"{self.root_url}{BLOB_PREFIX}{blob_id}{suffix}"

    async def _serve_blob(self, ex: Exchange) -> None:
        blob_id = ex.rec.path[len(BLOB_PREFIX) :].split(".", 1)[0]
        found = self._blobs.get(blob_id)
        if found is None:
            await self.send_error(ex, 404, "Blob not found", "invalid_request_error")
            return
        await ex.rw.send(200, {**ex.headers, "Content-Type": found[1]}, found[0])

    # ---- connection handling -------------------------------------------------------------
    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self._connections_opened += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    req = await read_request(reader, writer)
                except BadRequest as exc:
                    rw = ResponseWriter(writer, keep_alive=False)
                    await rw.send(400, {"Content-Type": "text/plain"}, str(exc).encode())
                    break
                if req is None:
                    break
                rw = ResponseWriter(writer, keep_alive=not req.wants_close)
                await self._handle(req, rw)
                if not (rw.keep_alive and rw.finished):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # Server shutdown.  Returning (not re-raising) keeps asyncio's stream callback from
            # logging the cancellation as an error.
            writer.transport.abort()
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._conn_tasks.discard(task)
            writer.close()

    def _record(self, req: HttpRequest) -> RecordedRequest:
        rec = RecordedRequest(
            method=req.method,
            path=req.path,
            query_string=req.query_string,
            query=req.query,
            headers=req.headers,
            body=req.body,
            request_id=f"req_{uuid.uuid4().hex}",
        )
        if rec.content_type == "application/json" or (rec.content_type.endswith("+json")):
            with contextlib.suppress(ValueError):
                rec.json = json.loads(req.body)
        elif rec.content_type == "multipart/form-data":
            with contextlib.suppress(BadRequest):
                parts = parse_multipart(req.body, rec.headers["content-type"])
                form: dict[str, str | list[str]] = {}
                files: dict[str, tuple[str | None, str | None, bytes]] = {}
                for part in parts:
                    if part.filename is not None:
                        files.setdefault(part.name, (part.filename, part.content_type, part.data))
                        rec.file_parts.append((part.name, part.filename, part.content_type, part.data))
                        continue
                    value = part.data.decode("utf-8", "replace")
                    if part.name.endswith("[]") or part.name in form:
                        prev = form.get(part.name, [])
                        form[part.name] = [*([prev] if isinstance(prev, str) else prev), value]
                    else:
                        form[part.name] = value
                rec.form, rec.files = form, files
        with self._lock:
            self._requests.append(rec)
            self._lock.notify_all()
        return rec

    def _base_headers(self, request_id: str) -> dict[str, str]:
        headers = {
            "Date": formatdate(usegmt=True),
            "Server": "fake-openai",
            "x-request-id": request_id,
            "openai-version": "2020-10-01",
            "openai-processing-ms": "7",
        }
        headers.update(self.ratelimit_headers or {})
        headers.update(self.extra_headers)
        return headers

    def _authorized(self, rec: RecordedRequest, azure: bool) -> bool:
        key = self.api_key
        if not key:
            return True
        scheme, _, token = rec.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode()):
            return True
        return azure and hmac.compare_digest(rec.headers.get("api-key", "").encode(), key.encode())

    async def _handle(self, req: HttpRequest, rw: ResponseWriter) -> None:
        rec = self._record(req)
        rw.on_status = lambda status: setattr(rec, "status", status)
        headers = self._base_headers(rec.request_id)
        ex = Exchange(rec, rw, headers, None, None)
        try:
            await self._dispatch(ex)
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug in the fake: make it loud, not a hung test
            traceback.print_exc(file=sys.stderr)
            if not rw.headers_sent:
                await self.send_error(ex, 500, f"fake server bug: {type(exc).__name__}: {exc}", "server_error")
            else:
                rw.abort()
        finally:
            rec.status = rw.status
            if self.log is not None:
                self.log(f"{rec.method} {rec.path} -> {rw.status}")

    async def _dispatch(self, ex: Exchange) -> None:
        rec = ex.rec
        if rec.method == "GET" and rec.path.startswith(BLOB_PREFIX):
            await self._serve_blob(ex)
            return
        op_path, deployment = route_path(rec.path)
        ex.deployment = deployment
        if not self._authorized(rec, deployment is not None):
            await self._send_unauthorized(ex)
            return
        fault = self._take_fault(rec.path)
        rec.fault = fault
        if fault is not None and not fault.is_mid_stream:
            if fault.kind == FaultKind.DISCONNECT:
                ex.rw.abort()
                return
            if fault.kind == FaultKind.HTTP:
                hdrs = {**ex.headers, "Content-Type": fault.content_type, **fault.headers}
                await ex.rw.send(fault.status, hdrs, fault.body)
                return
            if fault.kind == FaultKind.HANG:
                await self._stall()
        ex.fault = fault if fault is not None and fault.is_mid_stream else None
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        handler = self.handler_for(rec.method, op_path)
        if handler is None:
            await self.send_error(ex, 404, f"Invalid URL ({rec.method} {rec.path})", "invalid_request_error")
            return
        if deployment is not None and "api-version" not in rec.query:
            await self.send_error(
                ex,
                400,
                "Missing required query parameter 'api-version'.",
                "invalid_request_error",
                "missing_required_parameter",
                "api-version",
            )
            return
        if self.validate_requests and rec.operation is not None and rec.operation != "listModels":
            problems = self._schema_problems(rec)
            if problems:
                await self.send_error(ex, 400, "Invalid request: " + "; ".join(problems), "invalid_request_error")
                return
        await handler(ex)

    def _schema_problems(self, rec: RecordedRequest) -> list[str]:
        from tests.support import schema  # lazy: jsonschema is only needed when asked for

        try:
            schema.validate_recorded(rec)
        except AssertionError as exc:
            return str(exc).splitlines()[1:] or [str(exc)]
        return []

    # ---- generic responses ---------------------------------------------------------------
    async def _stall(self) -> None:
        assert self._release is not None
        release = self._release
        with self._lock:
            self._stalls_entered += 1
            self._lock.notify_all()
        await release.wait()

    async def send_bytes(self, ex: Exchange, status: int, body: bytes, content_type: str) -> None:
        """A Content-Length response; a pending mid-stream fault applies to its body."""
        headers = {**ex.headers, "Content-Type": content_type}
        fault, rw = ex.fault, ex.rw
        if fault is None:
            await rw.send(status, headers, body)
            return
        half = body[: len(body) // 2]
        if fault.kind == FaultKind.STREAM_ERROR:
            payload = json.dumps({"error": dict(fault.error or {})}).encode()
            await rw.send(200, {**ex.headers, "Content-Type": "application/json"}, payload)
        elif fault.kind == FaultKind.MALFORMED:
            await rw.send(status, headers, half)
        elif fault.kind == FaultKind.STALL:
            await rw.start(status, headers, "length", content_length=len(body))
            await self._stall()
            await rw.write(body)
            rw.finished = True
        elif fault.kind == FaultKind.RESET:
            await rw.start(status, headers, "length", content_length=len(body))
            await rw.write(half)
            rw.abort()
        elif fault.kind == FaultKind.TRUNCATE:
            await rw.start(status, headers, "length", content_length=len(body))
            await rw.write(half)
            rw.keep_alive = False  # closing with the body short of Content-Length

    async def send_json(self, ex: Exchange, payload: Any, status: int = 200) -> None:
        await self.send_bytes(ex, status, json.dumps(payload).encode(), "application/json")

    async def send_error(
        self,
        ex: Exchange,
        status: int,
        message: str,
        type_: str,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        headers = {**ex.headers, "Content-Type": "application/json"}
        await ex.rw.send(status, headers, json.dumps(error_body(message, type_, code, param)).encode())

    async def _send_unauthorized(self, ex: Exchange) -> None:
        if "authorization" not in ex.rec.headers and "api-key" not in ex.rec.headers:
            message = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            await self.send_error(ex, 401, message, "invalid_request_error")
        else:  # never echo the key, not even masked
            message = (
                "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
            )
            await self.send_error(ex, 401, message, "invalid_request_error", "invalid_api_key")

    async def send_stream(self, ex: Exchange, events: list[StreamEvent]) -> None:
        """Send ``events`` as text/event-stream, applying the pending mid-stream fault."""
        headers = {**ex.headers, "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        rw = ex.rw
        await rw.start(200, headers, self.stream_framing)
        emitter = SseEmitter(rw, self.split_writes, self.sse_newline, self.keepalive_comment, self.sse_json_indent)
        fault = ex.fault
        loop = asyncio.get_running_loop()
        start, due = loop.time(), 0.0
        for i, ev in enumerate([*events, None]):
            if fault is not None and i == fault.after and await self._apply_stream_fault(fault, emitter, ev, events):
                return
            if ev is None:
                break
            if fault is not None and fault.kind == FaultKind.TRUNCATE and ev.tag in _TERMINAL_TAGS:
                break  # truncation never lets the client see an end marker
            if ev.delay > 0 and self.clock_pacing:
                due += ev.delay
                ahead = due - (loop.time() - start)
                if ahead > 0.001:
                    await emitter.flush()
                    await asyncio.sleep(ahead)
            elif ev.delay > 0:
                await emitter.flush()
                await asyncio.sleep(ev.delay)
            await emitter.event(ev.payload, ev.event)
        await emitter.flush()
        await rw.end()

    async def _apply_stream_fault(
        self, fault: Fault, emitter: SseEmitter, ev: StreamEvent | None, events: list[StreamEvent]
    ) -> bool:
        """Act on a mid-stream fault; True when the body has ended (or the connection is gone)."""
        await emitter.flush()
        if fault.kind == FaultKind.STALL:
            await self._stall()
            return False
        if fault.kind == FaultKind.RESET:
            emitter.rw.abort()
            return True
        if fault.kind == FaultKind.TRUNCATE:
            await emitter.rw.end()
            return True
        if fault.kind == FaultKind.MALFORMED:
            sample = ev if ev is not None and isinstance(ev.payload, dict) else events[0]
            text = encode_data(sample.payload)
            await emitter.raw_event(text[: max(1, len(text) // 2)], sample.event)
            await emitter.flush()
            return False
        if fault.kind == FaultKind.STREAM_ERROR:
            payload: dict[str, Any] = {"error": dict(fault.error or {})}
            named = any(e.event for e in events)
            if named:
                payload = {"type": "error", **payload}
            if fault.openrouter_style:
                payload["choices"] = [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]
            await emitter.event(payload, "error" if named else None)
            await emitter.flush()
            await emitter.rw.end()
            return True
        return False

    async def missing_parameter(self, ex: Exchange, param: str) -> None:
        await self.send_error(
            ex,
            400,
            f"Missing required parameter: '{param}'.",
            "invalid_request_error",
            "missing_required_parameter",
            param,
        )

    async def json_body(self, ex: Exchange) -> dict[str, Any] | None:
        body = ex.rec.json
        if not isinstance(body, dict):
            await self.send_error(
                ex,
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                "valid JSON.)",
                "invalid_request_error",
            )
            return None
        return body
