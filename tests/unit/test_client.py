"""The OpenAI client against the real loopback server: wire formats, request bodies, errors, retries, faults.

No httpx mocks: every test talks HTTP to tests.support.fake_openai.FakeOpenAI on 127.0.0.1. The
client's ``sleep`` is replaced by a recorder, so retry delays are asserted instead of waited for.
Every request the server recorded is validated strictly against the OpenAPI subset at teardown.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from assistant_app.api import errors as E
from assistant_app.api.chat import Finished, TextDelta, Usage, UsageReport, build_chat_request, stream_chat
from assistant_app.api.client import OpenAIClient, RetryNotice
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.models import list_models
from assistant_app.api.redact import RedactingFilter
from assistant_app.core.providers import endpoint_for
from assistant_app.core.settings import ProviderProfile
from tests.support import fake_content, schema
from tests.support.fake_faults import Fault, FaultKind
from tests.support.fake_openai import DEFAULT_MODELS, FakeOpenAI, RecordedRequest
from tests.support.fake_sse import format_event

KEY = "sk-client-test-7f3a9c2e1b4d"
WRONG_KEY = "sk-wrong-key-0d9e8f7a6b5c"
MODEL = "gpt-4o-mini"
CHAT = "/chat/completions"
# Multibyte characters (split across writes in "awkward"/byte mode), several lines, trailing spaces.
REPLY = "Grüße aus 東京 🎉 — naïve café.\nSecond line with `code`  \n\n| a | b |\nDone."
TOKENS = fake_content.split_tokens(REPLY)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


class SleepRecorder:
    """Stands in for ``asyncio.sleep`` in the client: records each retry delay, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@dataclass
class Outcome:
    text: str = ""
    deltas: list[str] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    finish: list[str] = field(default_factory=list)
    error: E.APIError | None = None


def validate_all(requests: list[RecordedRequest]) -> None:
    """Strict schema check of every request; streaming chat must always ask for usage."""
    for rec in requests:
        schema.validate_recorded(rec)
        if rec.operation == "createChatCompletion" and isinstance(rec.json, dict) and rec.json.get("stream"):
            assert rec.json.get("stream_options") == {"include_usage": True}, rec.json


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY, chat_reply=REPLY) as server:
        server.validate_requests = True  # a body that breaks the schema gets a 400, failing the test
        yield server
        validate_all(server.requests)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_client(
    base_url: str,
    sleeps: SleepRecorder,
    *,
    key: str | None = KEY,
    max_retries: int = 2,
    read_timeout: float = 10.0,
    **endpoint: Any,
) -> OpenAIClient:
    return OpenAIClient(
        Endpoint(base_url=base_url, api_key=key, **endpoint),
        max_retries=max_retries,
        read_timeout=read_timeout,
        sleep=sleeps,
    )


def body(text: str = "hi", **options: Any) -> dict[str, Any]:
    return build_chat_request(MODEL, [{"role": "user", "content": text}], **options)


async def run_stream(client: OpenAIClient, request: dict[str, Any], **kw: Any) -> Outcome:
    """Consume ``stream_chat`` fully; a typed error is captured (with what arrived before it)."""
    out = Outcome()
    try:
        async for ev in stream_chat(client, request, **kw):
            if isinstance(ev, TextDelta):
                out.deltas.append(ev.text)
            elif isinstance(ev, UsageReport):
                out.usage.append(ev.usage)
            elif isinstance(ev, Finished):
                out.finish.append(ev.reason)
    except E.APIError as exc:
        out.error = exc
    finally:
        await client.aclose()
    out.text = "".join(out.deltas)
    return out


def expected_usage(rec: RecordedRequest, completion_tokens: int, cached: int) -> Usage:
    prompt = fake_content.prompt_token_count(rec.json["messages"])
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        total_tokens=prompt + completion_tokens,
        cached_tokens=min(cached, prompt),
    )


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(exc)
        assert secret not in repr(exc)
        assert secret not in repr(exc.args)
        assert secret not in str(getattr(exc, "detail", "") or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sse_body(*payloads: Any) -> bytes:
    return b"".join(format_event(p if isinstance(p, str) else json.dumps(p)) for p in payloads)


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


# ---------------------------------------------------------------------------------------------
# streaming: text, usage and finish reason under every wire format
# ---------------------------------------------------------------------------------------------

WIRE_FORMATS = {
    "plain": {},
    "awkward-splits": {"split_writes": "awkward"},
    "byte-at-a-time": {"split_writes": 1},
    "crlf": {"sse_newline": "\r\n", "split_writes": "awkward"},
    "lone-cr": {"sse_newline": "\r", "split_writes": "awkward"},
    "keepalive-comments": {"keepalive_comment": ": OPENROUTER PROCESSING", "split_writes": "awkward"},
    "azure-empty-choices-first": {"azure_first_chunk": True},
    "close-framing": {"stream_framing": "close", "split_writes": 7},
    "multi-line-data": {"sse_json_indent": 2, "sse_newline": "\r\n"},
}


@pytest.mark.asyncio
@pytest.mark.parametrize("wire", list(WIRE_FORMATS), ids=list(WIRE_FORMATS))
async def test_stream_reassembles_text_usage_and_finish(srv: FakeOpenAI, sleeps: SleepRecorder, wire: str) -> None:
    for name, value in WIRE_FORMATS[wire].items():
        setattr(srv, name, value)
    srv.cached_tokens = 5
    out = await run_stream(make_client(srv.base_url, sleeps), body("Grüße? 東京"))
    assert out.error is None
    assert out.text == REPLY
    assert out.deltas == [t for t in TOKENS if t]  # no empty deltas, none lost or merged
    assert out.finish == ["stop"]
    rec = srv.last_request
    assert out.usage == [expected_usage(rec, len(TOKENS), 5)]
    assert out.usage[0].cached_tokens == 5
    assert len(srv.requests) == 1 and sleeps.delays == []


@pytest.mark.asyncio
async def test_finish_reason_length_with_max_completion_tokens(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    out = await run_stream(make_client(srv.base_url, sleeps), body(max_completion_tokens=3))
    assert out.error is None
    assert out.text == "".join(TOKENS[:3])
    assert out.finish == ["length"]
    assert out.usage[0].completion_tokens == 3
    assert srv.last_request.json["max_completion_tokens"] == 3


@pytest.mark.asyncio
async def test_server_that_ignores_stream_and_sends_one_completion(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY},
                "finish_reason": "length",
                "logprobs": None,
            }
        ],
        "usage": fake_content.chat_usage(11, 7, 3),
    }
    srv.enqueue_fault(Fault(FaultKind.HTTP, status=200, body=json.dumps(completion).encode()))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert out.error is None
    assert out.text == REPLY
    assert out.finish == ["length"]
    assert out.usage == [Usage(prompt_tokens=11, completion_tokens=7, total_tokens=18, cached_tokens=3)]


@pytest.mark.asyncio
async def test_eof_after_finish_reason_without_done_is_complete(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    stream = sse_body(chunk({"role": "assistant", "content": ""}), chunk({"content": "Hi"}), chunk({}, "stop"))
    srv.enqueue_fault(Fault(FaultKind.HTTP, status=200, body=stream, content_type="text/event-stream"))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert out.error is None
    assert (out.text, out.finish, out.usage) == ("Hi", ["stop"], [])


@pytest.mark.asyncio
async def test_sequential_streams_reuse_one_connection(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    """A finished stream hands its connection back: the response is closed as soon as [DONE] arrives."""
    client = make_client(srv.base_url, sleeps)
    for _ in range(3):
        async for _ev in stream_chat(client, body()):
            pass
    await client.aclose()
    assert len(srv.requests) == 3
    assert srv.connections_opened == 1


# ---------------------------------------------------------------------------------------------
# request bodies
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_chat_bodies_with_sampling_options_validate_strictly(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "second"},
    ]
    options = {"temperature": 0.7, "top_p": 0.9, "max_completion_tokens": 50}
    client = make_client(srv.base_url, sleeps)
    out = await run_stream(client, build_chat_request(MODEL, messages, **options))
    assert out.error is None and out.text == REPLY
    streamed = srv.last_request.json
    assert streamed == {
        "model": MODEL,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        **options,
    }

    client = make_client(srv.base_url, sleeps)
    payload, headers = await client.request_json(
        "POST", CHAT, json=build_chat_request(MODEL, messages, stream=False, **options)
    )
    await client.aclose()
    assert srv.last_request.json == {"model": MODEL, "messages": messages, **options}
    assert "stream_options" not in srv.last_request.json and "stream" not in srv.last_request.json
    assert payload["choices"][0]["message"]["content"] == REPLY
    assert headers["x-request-id"] == srv.last_request.request_id
    for rec in srv.requests:
        schema.validate_recorded(rec)
        assert rec.headers["authorization"] == f"Bearer {KEY}"
        assert rec.headers["content-type"] == "application/json"


def test_validator_is_strict_enough_to_catch_a_bad_body() -> None:
    """The teardown check is only worth something if the validator rejects bad bodies."""
    good = body(temperature=1.0)
    assert schema.request_errors("createChatCompletion", good) == []
    assert schema.request_errors("createChatCompletion", {**good, "temperature": 3})
    assert schema.request_errors("createChatCompletion", {**good, "temprature": 1})
    assert schema.request_errors("createChatCompletion", {**good, "messages": []})


def test_unset_options_are_not_sent() -> None:
    assert body() == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert "max_completion_tokens" not in body(max_completion_tokens=0)
    assert body(temperature=0.0)["temperature"] == 0.0  # zero is a value, not "unset"


@pytest.mark.asyncio
async def test_list_models(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.models = ["zeta", "alpha", "gpt-4o-mini", "alpha"]
    client = make_client(srv.base_url, sleeps)
    assert await list_models(client) == ["alpha", "gpt-4o-mini", "zeta"]
    await client.aclose()
    rec = srv.last_request
    assert (rec.method, rec.path, rec.body) == ("GET", "/v1/models", b"")
    assert rec.headers["authorization"] == f"Bearer {KEY}"
    assert rec.headers["x-stainless-retry-count"] == "0"
    schema.validate_recorded(rec)


@pytest.mark.asyncio
async def test_list_models_default_set(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    client = make_client(srv.base_url, sleeps)
    assert await list_models(client) == sorted(DEFAULT_MODELS)
    await client.aclose()


# ---------------------------------------------------------------------------------------------
# HTTP errors -> typed errors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    fault: Fault
    cls: type[E.APIError]
    words: tuple[str, ...]
    status: int
    requests: int = 1  # how many requests the client makes with max_retries=2 and the fault queued 3 times
    code: str | None = None


ERROR_CASES = {
    "401": ErrorCase(Fault.unauthorized(), E.AuthenticationError, ("401", "Settings"), 401, code="invalid_api_key"),
    "403": ErrorCase(
        Fault.forbidden(), E.PermissionDeniedError, ("403", "region"), 403, code="unsupported_country_region_territory"
    ),
    "404-model": ErrorCase(
        Fault.model_not_found("gpt-4o-mini"),
        E.NotFoundError,
        ("gpt-4o-mini", "not found", "model list"),
        404,
        code="model_not_found",
    ),
    "400-context": ErrorCase(
        Fault.context_length_exceeded(),
        E.ContextLengthError,
        ("too long", "context", "128000 tokens"),
        400,
        code="context_length_exceeded",
    ),
    "400": ErrorCase(
        Fault.http_error(400, "Invalid value for 'top_p'.", "invalid_request_error", "invalid_value", "top_p"),
        E.BadRequestError,
        ("400", "Invalid value for 'top_p'"),
        400,
        code="invalid_value",
    ),
    "422": ErrorCase(
        Fault.http_error(422, "Unprocessable: bad messages", "invalid_request_error"),
        E.UnprocessableEntityError,
        ("422", "bad messages"),
        422,
    ),
    "429-quota": ErrorCase(
        Fault.insufficient_quota(), E.QuotaExceededError, ("credit", "billing", "quota"), 429, code="insufficient_quota"
    ),
    "429": ErrorCase(Fault.rate_limited(), E.RateLimitError, ("429", "rate-limiting"), 429, 3, "rate_limit_exceeded"),
    "500": ErrorCase(Fault.server_error(), E.ServerError, ("500", "temporary"), 500, 3),
    "503": ErrorCase(Fault.overloaded(), E.ServerError, ("503", "overloaded"), 503, 3, "server_is_overloaded"),
    "502-html": ErrorCase(Fault.html(502), E.ServerError, ("502", "error page"), 502, 3),
    "405-html": ErrorCase(Fault.html(405), E.NotCompatibleError, ("web page", "base URL"), 405),
    "vllm-flat": ErrorCase(
        Fault.vllm_error(400, "max_tokens must be at least 1"),
        E.BadRequestError,
        ("max_tokens must be",),
        400,
        code="400",
    ),
    "vllm-wrapped": ErrorCase(
        Fault.vllm_error(400, "max_tokens must be at least 1", wrapped=True),
        E.BadRequestError,
        ("max_tokens must be",),
        400,
        code="400",
    ),
    "vllm-context": ErrorCase(
        Fault.vllm_error(400, "This model's maximum context length is 4096 tokens."),
        E.ContextLengthError,
        ("too long", "4096"),
        400,
        code="400",
    ),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(ERROR_CASES))
@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "json"])
async def test_http_errors_become_typed_errors(
    srv: FakeOpenAI, sleeps: SleepRecorder, name: str, streaming: bool
) -> None:
    case = ERROR_CASES[name]
    srv.enqueue_fault(case.fault, times=3)
    client = make_client(srv.base_url, sleeps)
    if streaming:
        out = await run_stream(client, body())
        assert out.text == "" and out.finish == []
        exc = out.error
    else:
        with pytest.raises(E.APIError) as info:
            await client.request_json("POST", CHAT, json=body(stream=False), model=MODEL)
        await client.aclose()
        exc = info.value
    assert type(exc) is case.cls, f"{type(exc).__name__}: {exc}"
    for word in case.words:
        assert word.lower() in exc.user_message.lower(), exc.user_message
    assert exc.status == case.status
    assert exc.code == case.code
    assert len(srv.requests) == case.requests
    assert len(sleeps.delays) == case.requests - 1
    assert exc.request_id == srv.last_request.request_id  # the failing attempt's id
    assert exc.request_id in str(exc)
    assert_no_secret(exc, KEY)


@pytest.mark.asyncio
async def test_wrong_key_is_rejected_and_never_shown(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    out = await run_stream(make_client(srv.base_url, sleeps, key=WRONG_KEY), body())
    assert isinstance(out.error, E.AuthenticationError)
    assert "Settings" in out.error.user_message and "401" in out.error.user_message
    assert_no_secret(out.error, WRONG_KEY, KEY)
    assert len(srv.requests) == 1
    assert srv.last_request.headers["authorization"] == f"Bearer {WRONG_KEY}"


@pytest.mark.asyncio
async def test_a_server_echoing_the_key_does_not_leak_it(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.http_error(401, f"Incorrect API key provided: {KEY}.", "invalid_request_error"))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert isinstance(out.error, E.AuthenticationError)
    assert "Incorrect API key provided" in out.error.user_message
    assert_no_secret(out.error, KEY)


@pytest.mark.asyncio
async def test_missing_endpoint_404_points_at_the_base_url(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    out = await run_stream(make_client(srv.root_url + "/api", sleeps), body())
    assert isinstance(out.error, E.NotFoundError)
    assert "/v1" in out.error.user_message and "base URL" in out.error.user_message
    assert len(srv.requests) == 1
    assert srv.last_request.path == "/api/chat/completions"
    schema.validate_request("createChatCompletion", srv.last_request.json)
    srv.clear_requests()  # the teardown check maps paths to operations; this one has none


@pytest.mark.asyncio
@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "models"])
async def test_non_json_200_body_is_not_compatible(srv: FakeOpenAI, sleeps: SleepRecorder, streaming: bool) -> None:
    srv.enqueue_fault(Fault.non_json())
    client = make_client(srv.base_url, sleeps)
    if streaming:
        exc = (await run_stream(client, body())).error
    else:
        with pytest.raises(E.APIError) as info:
            await list_models(client)
        await client.aclose()
        exc = info.value
    assert isinstance(exc, E.NotCompatibleError)
    assert "127.0.0.1" in exc.user_message and "text/html" in exc.user_message
    assert exc.request_id == srv.last_request.request_id
    assert len(srv.requests) == 1


@pytest.mark.asyncio
async def test_models_reply_that_is_not_a_list(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault(FaultKind.HTTP, status=200, body=b'{"hello": "world"}'))
    client = make_client(srv.base_url, sleeps)
    with pytest.raises(E.NotCompatibleError, match="model list"):
        await list_models(client)
    await client.aclose()


# ---------------------------------------------------------------------------------------------
# retries
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "delay"),
    [
        (Fault.rate_limited(retry_after=2), 2.0),
        (Fault.rate_limited(retry_after=3, retry_after_ms=250), 0.25),  # retry-after-ms wins
        (Fault.rate_limited(retry_after=None, retry_after_ms=1500), 1.5),
        (Fault.overloaded().with_headers(retry_after="7"), 7.0),
    ],
    ids=["retry-after", "retry-after-ms-wins", "retry-after-ms-only", "503-retry-after"],
)
async def test_retry_honours_server_delay(srv: FakeOpenAI, sleeps: SleepRecorder, fault: Fault, delay: float) -> None:
    srv.enqueue_fault(fault)
    notices: list[RetryNotice] = []
    out = await run_stream(make_client(srv.base_url, sleeps), body(), on_retry=notices.append)
    assert out.error is None and out.text == REPLY
    assert sleeps.delays == [delay]
    assert len(srv.requests) == 2
    assert [(n.attempt, n.max_attempts, n.delay) for n in notices] == [(2, 3, delay)]
    assert type(notices[0].error) is (E.RateLimitError if fault.status == 429 else E.ServerError)


@pytest.mark.asyncio
async def test_retry_after_http_date(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    srv.enqueue_fault(Fault.rate_limited(retry_after=None).with_headers(retry_after=when))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert out.error is None
    assert len(sleeps.delays) == 1 and 25 < sleeps.delays[0] <= 30


@pytest.mark.asyncio
async def test_zero_or_negative_retry_after_falls_back_to_backoff(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.rate_limited(retry_after=0))  # Azure sends 0 / -1
    srv.enqueue_fault(Fault.rate_limited(retry_after=None).with_headers(retry_after="-1"))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert out.error is None
    assert len(sleeps.delays) == 2
    assert 0.375 <= sleeps.delays[0] <= 0.5 and 0.75 <= sleeps.delays[1] <= 1.0


@pytest.mark.asyncio
async def test_retry_after_beyond_two_minutes_is_not_retried(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.rate_limited(retry_after=600))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert isinstance(out.error, E.RateLimitError)
    assert len(srv.requests) == 1 and sleeps.delays == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fault",
    [
        Fault.http_error(408, "Request timed out.", "timeout"),
        Fault.http_error(409, "Conflict.", "conflict"),
        Fault.rate_limited(retry_after=None),
        Fault.server_error(),
        Fault.html(502),
        Fault.overloaded(),
        Fault.http_error(504, "Gateway timeout.", "server_error"),
        Fault.disconnect(),
    ],
    ids=["408", "409", "429", "500", "502-html", "503", "504", "connection-reset"],
)
async def test_transient_failures_are_retried_with_backoff(
    srv: FakeOpenAI, sleeps: SleepRecorder, fault: Fault
) -> None:
    srv.enqueue_fault(fault, times=2)
    notices: list[RetryNotice] = []
    out = await run_stream(make_client(srv.base_url, sleeps), body(), on_retry=notices.append)
    assert out.error is None and out.text == REPLY and out.finish == ["stop"]
    assert len(srv.requests) == 3
    assert [r.headers["x-stainless-retry-count"] for r in srv.requests] == ["0", "1", "2"]
    # No Retry-After: exponential backoff with jitter, min(0.5 * 2^n, 8) * U(0.75, 1].
    assert len(sleeps.delays) == 2
    for n, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**n * 0.75 <= delay <= 0.5 * 2**n
    assert [(n.attempt, n.max_attempts) for n in notices] == [(2, 3), (3, 3)]
    assert [n.delay for n in notices] == sleeps.delays
    assert all(n.error.retryable for n in notices)


@pytest.mark.asyncio
async def test_retries_are_bounded(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.server_error(), times=10)
    notices: list[RetryNotice] = []
    client = make_client(srv.base_url, sleeps, max_retries=4)
    out = await run_stream(client, body(), on_retry=notices.append)
    assert isinstance(out.error, E.ServerError)
    assert len(srv.requests) == 5
    assert [r.headers["x-stainless-retry-count"] for r in srv.requests] == ["0", "1", "2", "3", "4"]
    assert [(n.attempt, n.max_attempts) for n in notices] == [(2, 5), (3, 5), (4, 5), (5, 5)]
    caps = [0.5, 1.0, 2.0, 4.0]
    assert all(cap * 0.75 <= d <= cap for cap, d in zip(caps, sleeps.delays, strict=True))
    assert len(srv.pending_faults) == 5


@pytest.mark.asyncio
async def test_max_retries_zero_means_one_attempt(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.server_error())
    out = await run_stream(make_client(srv.base_url, sleeps, max_retries=0), body())
    assert isinstance(out.error, E.ServerError)
    assert len(srv.requests) == 1 and sleeps.delays == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fault",
    [
        Fault.http_error(400, "Bad.", "invalid_request_error"),
        Fault.unauthorized(),
        Fault.forbidden(),
        Fault.model_not_found(),
        Fault.http_error(422, "Unprocessable.", "invalid_request_error"),
        Fault.insufficient_quota(),
        Fault.insufficient_quota().with_headers(retry_after="1"),
    ],
    ids=["400", "401", "403", "404", "422", "quota", "quota-with-retry-after"],
)
async def test_client_errors_are_never_retried(srv: FakeOpenAI, sleeps: SleepRecorder, fault: Fault) -> None:
    srv.enqueue_fault(fault, times=3)
    notices: list[RetryNotice] = []
    out = await run_stream(make_client(srv.base_url, sleeps), body(), on_retry=notices.append)
    assert out.error is not None and not out.error.retryable
    assert len(srv.requests) == 1
    assert sleeps.delays == [] and notices == []
    assert len(srv.pending_faults) == 2


@pytest.mark.asyncio
async def test_x_should_retry_overrides_the_status(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.server_error().with_headers(x_should_retry="false"), times=2)
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert isinstance(out.error, E.ServerError)
    assert len(srv.requests) == 1 and sleeps.delays == []

    srv.clear_faults()
    srv.clear_requests()
    srv.enqueue_fault(Fault.http_error(400, "Try again.", "invalid_request_error").with_headers(x_should_retry="true"))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert out.error is None and out.text == REPLY
    assert len(srv.requests) == 2 and len(sleeps.delays) == 1


@pytest.mark.asyncio
async def test_connection_reset_before_response_exhausts_retries(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.disconnect(), times=3)
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert isinstance(out.error, E.ConnectionFailedError)
    assert "127.0.0.1" in out.error.user_message
    assert len(srv.requests) == 3 and len(sleeps.delays) == 2


@pytest.mark.asyncio
async def test_hang_before_headers_times_out_and_is_retried(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.hang())
    out = await run_stream(make_client(srv.base_url, sleeps, read_timeout=0.5), body())
    assert out.error is None and out.text == REPLY
    assert len(srv.requests) == 2 and len(sleeps.delays) == 1


@pytest.mark.asyncio
async def test_retry_does_not_happen_once_the_stream_started(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.reset(after=3))
    srv.enqueue_fault(Fault.reset(after=3))
    notices: list[RetryNotice] = []
    out = await run_stream(make_client(srv.base_url, sleeps), body(), on_retry=notices.append)
    assert isinstance(out.error, E.StreamInterruptedError)
    assert out.text == "".join(TOKENS[:2])
    assert len(srv.requests) == 1
    assert sleeps.delays == [] and notices == []


# ---------------------------------------------------------------------------------------------
# mid-stream faults
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "cls", "words", "framing"),
    [
        (Fault.reset(after=3), E.StreamInterruptedError, ("dropped", "incomplete"), "chunked"),
        (Fault.reset(after=3), E.StreamInterruptedError, ("dropped", "incomplete"), "close"),
        (Fault.truncate(after=3), E.StreamInterruptedError, ("ended the reply", "incomplete"), "chunked"),
        (Fault.truncate(after=3), E.StreamInterruptedError, ("ended the reply", "incomplete"), "close"),
        (Fault.malformed_chunk(after=3), E.MalformedStreamError, ("garbled", "incomplete"), "chunked"),
        (
            Fault.stream_error(after=3, message="Upstream model crashed", code="upstream_error"),
            E.ServerStreamError,
            ("Upstream model crashed",),
            "chunked",
        ),
        (
            Fault.stream_error(after=3, message="Provider returned error", openrouter_style=True),
            E.ServerStreamError,
            ("Provider returned error",),
            "chunked",
        ),
    ],
    ids=["reset", "reset-close", "truncate", "truncate-close", "malformed", "error-event", "openrouter-error"],
)
async def test_mid_stream_faults(
    srv: FakeOpenAI,
    sleeps: SleepRecorder,
    fault: Fault,
    cls: type[E.StreamError],
    words: tuple[str, ...],
    framing: str,
) -> None:
    srv.stream_framing = framing
    srv.split_writes = "awkward"
    srv.enqueue_fault(fault)
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert type(out.error) is cls, repr(out.error)
    # Event 0 is the role chunk; events 1-2 carried the first two tokens, kept for the caller.
    assert out.text == "".join(TOKENS[:2])
    assert out.finish == [] and out.usage == []
    for word in words:
        assert word in out.error.user_message
    assert out.error.request_id == srv.last_request.request_id
    assert len(srv.requests) == 1 and sleeps.delays == []
    assert_no_secret(out.error, KEY)


@pytest.mark.asyncio
async def test_stream_error_event_keeps_its_code(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.stream_error(after=1, message="Overloaded", code="server_is_overloaded"))
    out = await run_stream(make_client(srv.base_url, sleeps), body())
    assert isinstance(out.error, E.ServerStreamError)
    assert out.error.code == "server_is_overloaded"
    assert out.text == ""


@pytest.mark.asyncio
async def test_stall_past_read_timeout(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.stall(after=3))
    out = await run_stream(make_client(srv.base_url, sleeps, read_timeout=0.5), body())
    assert isinstance(out.error, E.StreamStalledError)
    assert "0.5 s" in out.error.user_message and "incomplete" in out.error.user_message
    assert out.text == "".join(TOKENS[:2])
    assert srv.stalls_entered == 1
    assert len(srv.requests) == 1 and sleeps.delays == []


@pytest.mark.asyncio
async def test_a_stall_shorter_than_the_timeout_is_harmless(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    srv.enqueue_fault(Fault.stall(after=3))
    client = make_client(srv.base_url, sleeps, read_timeout=30)
    task = asyncio.ensure_future(run_stream(client, body()))
    await asyncio.to_thread(srv.wait_for_stalls, 1)
    srv.release_stalls()
    out = await asyncio.wait_for(task, 10)
    assert out.error is None and out.text == REPLY and out.finish == ["stop"]


# ---------------------------------------------------------------------------------------------
# connection failures and configuration
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_connection_refused(sleeps: SleepRecorder) -> None:
    port = free_port()
    out = await run_stream(make_client(f"http://127.0.0.1:{port}/v1", sleeps), body())
    assert type(out.error) is E.ConnectionFailedError
    assert "refused" in out.error.user_message and f"127.0.0.1:{port}" in out.error.user_message
    assert "running" in out.error.user_message
    assert len(sleeps.delays) == 2  # connection errors are retried
    assert_no_secret(out.error, KEY)


@pytest.mark.asyncio
async def test_dns_failure(sleeps: SleepRecorder) -> None:
    out = await run_stream(make_client("http://no-such-host.invalid/v1", sleeps, max_retries=0), body())
    assert type(out.error) is E.ConnectionFailedError
    assert "no-such-host.invalid" in out.error.user_message and "DNS" in out.error.user_message


@pytest.mark.asyncio
async def test_tls_to_a_plain_http_server(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    out = await run_stream(make_client(srv.base_url.replace("http://", "https://"), sleeps), body())
    assert type(out.error) is E.TLSError
    assert "secure connection" in out.error.user_message and "http://" in out.error.user_message
    assert sleeps.delays == []  # retrying cannot fix TLS
    assert srv.requests == []
    assert_no_secret(out.error, KEY)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "url",
    [
        "",
        "api.openai.com/v1",
        "localhost:8080/v1",
        "ftp://example.com/v1",
        "http://",
        "http://host:notaport/v1",
        "http://host:99999/v1",
        "http://[::1/v1",
        "http://exa mple.com/v1",
    ],
)
async def test_invalid_base_url_is_a_configuration_error(sleeps: SleepRecorder, url: str) -> None:
    client = make_client(url, sleeps)
    with pytest.raises(E.ConfigurationError) as info:
        await list_models(client)
    out = await run_stream(client, body())
    assert isinstance(out.error, E.ConfigurationError)
    assert "not a valid server address" in info.value.user_message
    assert sleeps.delays == []


@pytest.mark.asyncio
async def test_azure_without_deployment_is_a_configuration_error(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    out = await run_stream(make_client(srv.root_url, sleeps, kind="azure"), body())
    assert isinstance(out.error, E.ConfigurationError) and "deployment" in out.error.user_message
    assert srv.requests == []


# ---------------------------------------------------------------------------------------------
# Azure and environment
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_azure_deployment_path_api_version_and_api_key(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    client = make_client(
        srv.root_url, sleeps, kind="azure", azure_deployment="my-gpt4o", azure_api_version="2024-10-21"
    )
    srv.cached_tokens = 2
    out = await run_stream(client, body())
    assert out.error is None
    assert out.text == REPLY and out.finish == ["stop"]  # first chunk had choices: [] (Azure content filter)
    assert out.usage[0].cached_tokens == 2
    rec = srv.last_request
    assert rec.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert rec.query == {"api-version": "2024-10-21"}
    assert rec.headers["api-key"] == KEY
    assert "authorization" not in rec.headers


@pytest.mark.asyncio
async def test_azure_wrong_key_is_401(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    client = make_client(srv.root_url, sleeps, key=WRONG_KEY, kind="azure", azure_deployment="dep")
    out = await run_stream(client, body())
    assert isinstance(out.error, E.AuthenticationError)
    assert_no_secret(out.error, WRONG_KEY)


class DictSecrets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, account: str) -> str | None:
        return self.values.get(account)


@pytest.mark.asyncio
async def test_openai_env_vars_are_honoured(srv: FakeOpenAI, sleeps: SleepRecorder) -> None:
    profile = ProviderProfile(id="openai", name="OpenAI")
    env = {"OPENAI_BASE_URL": srv.base_url, "OPENAI_API_KEY": KEY}
    endpoint = endpoint_for(profile, None, env)
    assert (endpoint.base_url, endpoint.api_key, endpoint.kind) == (srv.base_url, KEY, "openai")
    client = OpenAIClient(endpoint, sleep=sleeps)
    out = await run_stream(client, body())
    assert out.error is None and out.text == REPLY
    assert srv.last_request.headers["authorization"] == f"Bearer {KEY}"


def test_env_precedence() -> None:
    openai = ProviderProfile(id="openai", name="OpenAI")
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-env", "OPENAI_ORG_ID": "org-1"}
    # A key in the keyring wins over the environment.
    assert endpoint_for(openai, DictSecrets({"provider:openai": "sk-keyring"}), env).api_key == "sk-keyring"
    assert endpoint_for(openai, DictSecrets({}), env).api_key == "sk-env"
    assert endpoint_for(openai, None, env).organization == "org-1"
    # Neither variable set: the official URL and no key.
    bare = endpoint_for(openai, None, {})
    assert (bare.base_url, bare.api_key) == ("https://api.openai.com/v1", None)
    # A base URL configured in the profile wins over OPENAI_BASE_URL.
    custom = ProviderProfile(id="openai", name="OpenAI", base_url="http://proxy.local/v1")
    assert endpoint_for(custom, None, env).base_url == "http://proxy.local/v1"
    # Other kinds of provider ignore the OpenAI variables.
    local = ProviderProfile(id="ollama", name="Ollama", kind="compatible", base_url="http://127.0.0.1:11434/v1")
    ep = endpoint_for(local, None, env)
    assert (ep.base_url, ep.api_key, ep.organization) == ("http://127.0.0.1:11434/v1", None, "")
    azure = ProviderProfile(id="az", name="Azure", kind="azure", base_url="https://x.openai.azure.com",
                            azure_deployment="dep")  # fmt: skip
    ep = endpoint_for(azure, DictSecrets({"provider:az": "azure-key"}), env)
    assert (ep.kind, ep.api_key, ep.azure_deployment) == ("azure", "azure-key", "dep")
    assert ep.auth_headers() == {"api-key": "azure-key"}


# ---------------------------------------------------------------------------------------------
# secrets stay out of logs
# ---------------------------------------------------------------------------------------------


class RawRecords(logging.Handler):
    """Keeps each record's text as it was logged, before any redacting filter touched it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append(text)


@pytest.mark.asyncio
async def test_no_key_in_logs(srv: FakeOpenAI, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture) -> None:
    raw = RawRecords()
    loggers = [logging.getLogger(n) for n in ("assistant_app", "httpx", "httpcore")]
    for lg in loggers:
        caplog.set_level(logging.DEBUG, logger=lg.name)
        lg.addHandler(raw)  # logger-level handlers run before the root's caplog handler
    caplog.handler.addFilter(RedactingFilter())
    try:
        srv.enqueue_fault(Fault.server_error())
        srv.enqueue_fault(Fault.disconnect())
        assert (await run_stream(make_client(srv.base_url, sleeps), body())).error is None
        assert isinstance((await run_stream(make_client(srv.base_url, sleeps, key=WRONG_KEY), body())).error,
                          E.AuthenticationError)  # fmt: skip
        srv.enqueue_fault(Fault.reset(after=2))
        assert isinstance((await run_stream(make_client(srv.base_url, sleeps), body())).error, E.StreamError)
        srv.enqueue_fault(Fault.http_error(401, f"Incorrect API key provided: {KEY}", "invalid_request_error"))
        assert (await run_stream(make_client(srv.base_url, sleeps), body())).error is not None
        azure = make_client(srv.root_url, sleeps, kind="azure", azure_deployment="d", max_retries=0)
        srv.enqueue_fault(Fault.server_error())
        assert (await run_stream(azure, body())).error is not None
    finally:
        for lg in loggers:
            lg.removeHandler(raw)
    assert any("401" in t for t in raw.texts) and any("failed" in t for t in raw.texts)  # it did log
    assert len(caplog.records) >= len(raw.texts) > 0
    for text in [*raw.texts, caplog.text, *(r.getMessage() for r in caplog.records)]:
        assert KEY not in text and WRONG_KEY not in text
        assert "Bearer sk-" not in text
