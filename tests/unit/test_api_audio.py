"""assistant_app.api.audio against the loopback server; every request checked against the OpenAPI subset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_asyncio

from assistant_app.api import errors as E
from assistant_app.api.audio import build_form, stream_transcription, supports_streaming, transcribe
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from tests.support import schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

KEY = "sk-test-audio-0000"
AUDIO = b"OggS\x00\x02" + bytes(2000)  # the fake server does not decode audio
TEXT = "Hello world, this is a test of streaming transcription."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        srv.validate_requests = True  # the server answers 400 to a body that breaks the schema
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.clear_requests()
    server.clear_faults()
    server.transcription_text = TEXT
    server.transcription_stream_done_marker = False
    yield server
    server.clear_faults()


@pytest_asyncio.fixture
async def client(srv: FakeOpenAI):
    c = OpenAIClient(Endpoint(base_url=srv.base_url, api_key=KEY), max_retries=1, read_timeout=10.0,
                     sleep=lambda _s: _no_wait())  # fmt: skip
    yield c
    await c.aclose()


async def _no_wait() -> None:
    return None


def only_request(srv: FakeOpenAI):
    (req,) = srv.requests
    schema.validate_recorded(req)  # strict: unknown form fields fail
    return req


@pytest.mark.asyncio
async def test_whisper_upload_sends_the_file_and_only_the_fields_given(srv, client) -> None:
    text = await transcribe(client, AUDIO, "dictation.ogg", "audio/ogg", model="whisper-1", language="en",
                            prompt="Kubernetes, PySide6")  # fmt: skip
    assert text == TEXT
    req = only_request(srv)
    assert req.form == {"model": "whisper-1", "language": "en", "prompt": "Kubernetes, PySide6"}
    assert req.files["file"] == ("dictation.ogg", "audio/ogg", AUDIO)
    assert req.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.asyncio
async def test_defaults_send_just_model_and_file(srv, client) -> None:
    await transcribe(client, AUDIO, "a.wav", "audio/wav")
    assert only_request(srv).form == {"model": "whisper-1"}


@pytest.mark.asyncio
@pytest.mark.parametrize("done_marker", [False, True])
async def test_gpt4o_streams_text_deltas(srv, client, done_marker: bool) -> None:
    srv.transcription_stream_done_marker = done_marker
    deltas = [d async for d in stream_transcription(client, AUDIO, "a.ogg", "audio/ogg", model="gpt-4o-transcribe")]
    assert len(deltas) > 3
    assert "".join(deltas) == TEXT
    assert only_request(srv).form == {"model": "gpt-4o-transcribe", "stream": "true"}


@pytest.mark.asyncio
async def test_transcribe_with_stream_returns_the_joined_text(srv, client) -> None:
    text = await transcribe(client, AUDIO, "a.ogg", "audio/ogg", model="gpt-4o-transcribe", stream=True)
    assert text == TEXT


@pytest.mark.asyncio
async def test_a_server_that_ignores_stream_answers_with_plain_json(srv, client) -> None:
    """whisper-1 ignores stream=true: one JSON document comes back, and it is yielded whole."""
    deltas = [d async for d in stream_transcription(client, AUDIO, "a.ogg", "audio/ogg", model="whisper-1")]
    assert deltas == [TEXT]


def test_streaming_and_prompt_support_by_model() -> None:
    assert supports_streaming("gpt-4o-transcribe") and supports_streaming("gpt-4o-mini-transcribe")
    assert not supports_streaming("whisper-1")
    assert "prompt" not in build_form("gpt-4o-transcribe-diarize", prompt="names")
    assert build_form("whisper-1", language="", prompt="") == {"model": "whisper-1"}


@pytest.mark.asyncio
async def test_a_rejected_key_is_a_typed_error(srv, client) -> None:
    srv.enqueue_fault(Fault.unauthorized())
    with pytest.raises(E.AuthenticationError):
        await transcribe(client, AUDIO, "a.ogg", "audio/ogg")


@pytest.mark.asyncio
async def test_a_5xx_is_retried_with_the_same_upload(srv, client) -> None:
    srv.enqueue_fault(Fault.server_error())
    assert await transcribe(client, AUDIO, "a.ogg", "audio/ogg") == TEXT
    first, second = srv.requests
    assert first.files["file"][2] == second.files["file"][2] == AUDIO


@pytest.mark.asyncio
async def test_a_stream_cut_short_keeps_the_partial_text(srv, client) -> None:
    srv.enqueue_fault(Fault.truncate(after=3))
    received: list[str] = []
    with pytest.raises(E.StreamInterruptedError) as info:
        async for delta in stream_transcription(client, AUDIO, "a.ogg", "audio/ogg", model="gpt-4o-transcribe"):
            received.append(delta)
    assert received and info.value.partial == "".join(received)
    assert TEXT.startswith(info.value.partial)


@pytest.mark.asyncio
async def test_an_error_event_mid_stream_is_reported(srv, client) -> None:
    srv.enqueue_fault(Fault.stream_error(after=2, message="audio decoding failed"))
    with pytest.raises(E.ServerStreamError, match="audio decoding failed"):
        await transcribe(client, AUDIO, "a.ogg", "audio/ogg", model="gpt-4o-mini-transcribe", stream=True)
