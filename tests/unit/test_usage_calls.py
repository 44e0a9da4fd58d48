"""The client's call records: one per attempt, usage read from what the loopback server sends,
failures recorded with their status, and observers that can never break a request."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Iterator
from typing import Any

import pytest

from assistant_app.api import errors as E
from assistant_app.api.calls import CallRecord, estimate_tokens, kind_of, outcome_of
from assistant_app.api.chat import build_chat_request, stream_chat
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.models import list_models
from tests.support import fake_content as content
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to the world"}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as srv:
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> FakeOpenAI:
    server.clear_faults()
    server.clear_requests()
    server.cached_tokens = 0
    server.chat_reply = "Hello, world! Nice to meet you."
    return server


def make_client(srv: FakeOpenAI, retries: int = 0) -> tuple[OpenAIClient, list[CallRecord]]:
    async def no_wait(_s: float) -> None:
        return None

    client = OpenAIClient(Endpoint(base_url=srv.base_url, api_key="sk-test"), max_retries=retries, sleep=no_wait)
    records: list[CallRecord] = []
    client.observers.append(records.append)
    return client, records


async def chat(client: OpenAIClient, model: str = "gpt-4o", stop_after_first: bool = False) -> list[Any]:
    events = []
    stream = stream_chat(client, build_chat_request(model, MESSAGES))
    try:
        async for ev in stream:
            events.append(ev)
            if stop_after_first:
                break
    finally:
        await stream.aclose()
        client.end_open_calls()  # as ChatService does: a stream it gave up on is recorded now
    return events


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


def test_streamed_chat_records_usage_cached_tokens_and_timing(srv: FakeOpenAI) -> None:
    srv.cached_tokens = 4
    client, records = make_client(srv)

    async def go() -> None:
        await chat(client.tagged(conversation_id=7, message_id=70))
        await client.aclose()

    asyncio.run(go())
    expected = content.chat_usage(content.prompt_token_count(MESSAGES), content.count_tokens(srv.chat_reply), 4)
    (rec,) = records
    assert (rec.kind, rec.model, rec.status, rec.http_status, rec.ok) == ("chat", "gpt-4o", "200", 200, True)
    assert rec.prompt_tokens == expected["prompt_tokens"]
    assert rec.completion_tokens == expected["completion_tokens"]
    assert rec.cached_tokens == 4
    assert rec.reasoning_tokens == 0
    assert rec.request_id == srv.last_request.request_id
    assert (rec.conversation_id, rec.message_id) == (7, 70)
    assert rec.ttft_ms is not None and rec.latency_ms is not None and 0 <= rec.ttft_ms <= rec.latency_ms


def test_untagged_client_is_unchanged_by_a_tagged_view(srv: FakeOpenAI) -> None:
    client, _records = make_client(srv)
    view = client.tagged(conversation_id=1)
    assert client.call_tags == {} and view.call_tags == {"conversation_id": 1}
    assert view.observers is client.observers and view.http is client.http


def test_each_attempt_is_a_record_and_failures_carry_their_status(srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.server_error())
    client, records = make_client(srv, retries=1)

    async def go() -> None:
        await list_models(client)
        await client.aclose()

    asyncio.run(go())
    assert [(r.attempt, r.status, r.ok, r.kind) for r in records] == [
        (1, "500", False, "models"),
        (2, "200", True, "models"),
    ]
    assert records[0].prompt_tokens is None and records[0].request_id == srv.requests[0].request_id


def test_connection_failure_is_recorded_without_http_status(srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.disconnect())
    client, records = make_client(srv)

    async def go() -> None:
        with pytest.raises(E.APIError):
            await list_models(client)
        await client.aclose()

    asyncio.run(go())
    (rec,) = records
    assert rec.http_status is None and not rec.ok and rec.status not in ("200", "pending")


@pytest.mark.parametrize(
    ("fault", "status"),
    [(Fault.truncate(after=3), "interrupted"), (Fault.stream_error(after=3), "server_stream"),
     (Fault.reset(after=3), "interrupted")],
)  # fmt: skip
def test_broken_streams_are_recorded_as_failures_without_usage(srv: FakeOpenAI, fault: Fault, status: str) -> None:
    srv.enqueue_fault(fault)
    client, records = make_client(srv)

    async def go() -> None:
        with pytest.raises(E.StreamError):
            await chat(client)
        await client.aclose()

    asyncio.run(go())
    (rec,) = records
    assert (rec.status, rec.http_status, rec.ok, rec.prompt_tokens) == (status, 200, False, None)


def test_consumer_that_stops_early_is_recorded_as_cancelled(srv: FakeOpenAI) -> None:
    client, records = make_client(srv)

    async def go() -> None:
        await chat(client, stop_after_first=True)
        await client.aclose()

    asyncio.run(go())
    (rec,) = records
    assert rec.status == "cancelled" and not rec.ok


def test_a_stream_closed_early_is_recorded_by_the_loop_when_its_consumer_says_nothing(srv: FakeOpenAI) -> None:
    client, records = make_client(srv)

    async def go() -> list[str]:
        recorded = asyncio.Event()
        client.observers.append(lambda _rec: recorded.set())
        stream = stream_chat(client, build_chat_request("gpt-4o", MESSAGES))
        async for _ev in stream:
            break
        await stream.aclose()
        statuses = [r.status for r in records]  # not yet: the consumer could still call end_open_calls
        await asyncio.wait_for(recorded.wait(), 5)
        await client.aclose()
        return statuses

    assert asyncio.run(go()) == []
    assert [r.status for r in records] == ["cancelled"]


def test_the_consumer_can_name_the_reason_it_closed_a_stream(srv: FakeOpenAI) -> None:
    client, records = make_client(srv)

    async def go() -> None:
        stream = stream_chat(client, build_chat_request("gpt-4o", MESSAGES))
        async for _ev in stream:
            break
        await stream.aclose()
        client.end_open_calls("malformed")
        await client.aclose()

    asyncio.run(go())
    assert [r.status for r in records] == ["malformed"]


def test_observer_exceptions_never_break_a_request(srv: FakeOpenAI) -> None:
    client, records = make_client(srv)

    def broken(_rec: CallRecord) -> None:
        raise RuntimeError("observer bug")

    client.observers.insert(0, broken)

    async def go() -> list[Any]:
        events = await chat(client)
        ids = await list_models(client)
        await client.aclose()
        return [events, ids]

    events, ids = asyncio.run(go())
    assert events and "gpt-4o" in ids
    assert [r.kind for r in records] == ["chat", "models"]  # later observers still ran


def test_image_generation_records_usage_count_and_size(srv: FakeOpenAI) -> None:
    client, records = make_client(srv)
    body = {"model": "gpt-image-1", "prompt": "a red fox in the snow", "n": 2, "size": "1536x1024",
            "quality": "low"}  # fmt: skip

    async def go() -> None:
        await client.request_json("POST", "/images/generations", json=body)
        await client.aclose()

    asyncio.run(go())
    (rec,) = records
    usage = content.image_usage(body["prompt"], 0, 2)
    assert (rec.kind, rec.images, rec.image_size, rec.image_quality) == ("image", 2, "1536x1024", "low")
    assert (rec.prompt_tokens, rec.completion_tokens, rec.image_tokens) == (
        usage["input_tokens"],
        usage["output_tokens"],
        0,
    )


def test_transcription_usage_in_tokens_and_in_seconds(srv: FakeOpenAI) -> None:
    client, records = make_client(srv)
    audio = wav_bytes(2.6)

    async def go() -> None:
        for model in ("whisper-1", "gpt-4o-transcribe"):
            await client.request_json("POST", "/audio/transcriptions", data={"model": model},
                                      files={"file": ("a.wav", audio, "audio/wav")})  # fmt: skip
        await client.aclose()

    asyncio.run(go())
    whisper, gpt = records
    assert (whisper.kind, whisper.model, whisper.audio_seconds, whisper.prompt_tokens) == (
        "transcription", "whisper-1", 3.0, None)  # fmt: skip
    usage = content.transcription_token_usage(content.DEFAULT_TRANSCRIPT, 2.6)
    assert (gpt.prompt_tokens, gpt.audio_tokens, gpt.completion_tokens) == (
        usage["input_tokens"], usage["input_token_details"]["audio_tokens"], usage["output_tokens"])  # fmt: skip


def test_helpers() -> None:
    assert [kind_of(p) for p in ("/chat/completions", "/models", "/images/edits", "/audio/transcriptions",
                                 "/responses")] == ["chat", "models", "image", "transcription", "other"]  # fmt: skip
    assert [outcome_of(s) for s in (200, 400, 404, 429, 500, 503)] == [
        "success", "client_error", "client_error", "failure", "failure", "failure"]  # fmt: skip
    assert outcome_of(429, "insufficient_quota") == "client_error"
    body = {"messages": [{"role": "user", "content": "x" * 400}, {"role": "user", "content": [
        {"type": "text", "text": "y" * 40}]}], "max_completion_tokens": 50}  # fmt: skip
    assert estimate_tokens(body) == 440 // 4 + 50
    assert estimate_tokens(None) == 0
