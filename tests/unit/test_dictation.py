"""DictationSession end to end with a fake microphone (fake sounddevice) and the loopback OpenAI server."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.media.audio_devices import AudioDevices
from assistant_app.media.dictation import (
    IDLE,
    PROCESSING,
    RECORDING,
    TRANSCRIBING,
    DictationOptions,
    DictationSession,
    Failed,
    Finished,
    HeardNothing,
    LevelChanged,
    PartialText,
    StateChanged,
)
from assistant_app.media.encoding import FORMATS, IncrementalEncoder, decode_file
from assistant_app.media.recorder import Recorder
from assistant_app.media.recordings import RecordingStore
from tests.support import schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI, RecordedRequest
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.support.speech_audio import syllables

pytestmark = pytest.mark.asyncio
KEY = "sk-test-dictation-0000"
SR = 16000


def uploaded_seconds(req: RecordedRequest) -> str:
    """The fake's transcript: how many seconds of audio the upload decodes to."""
    return f"{len(decode_file(req.files['file'][2])) / SR:.2f} seconds"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        srv.validate_requests = True
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.clear_requests()
    server.clear_faults()
    server.transcription_text = uploaded_seconds
    yield server
    server.clear_faults()
    server.release_stalls()


@pytest_asyncio.fixture
async def client(srv: FakeOpenAI):
    async def no_wait(_s: float) -> None:
        return None

    c = OpenAIClient(Endpoint(base_url=srv.base_url, api_key=KEY), max_retries=0, read_timeout=10.0, sleep=no_wait)
    yield c
    await c.aclose()


class Rig:
    def __init__(self, tmp_path: Path, client: OpenAIClient, *, options: DictationOptions | None = None,
                 devices: list[FakeDevice] | None = None, **session_kw) -> None:  # fmt: skip
        self.sd = FakeSoundDevice(devices if devices is not None else [FakeDevice("Mic", rates={48000}, channels={2})])
        self.recorder = Recorder(AudioDevices(self.sd))
        self.store = RecordingStore(tmp_path / "recordings")
        self.events: list[object] = []
        self.session = DictationSession(self.recorder, self.store, lambda: client, options=options,
                                        on_event=self.events.append, **session_kw)  # fmt: skip

    async def speak(self, signal: np.ndarray) -> None:
        """Play 16 kHz mono through the 48 kHz stereo fake microphone."""
        stereo = np.repeat(np.repeat(signal, 3)[:, None], 2, axis=1)
        await asyncio.to_thread(self.sd.last_stream.feed, stereo)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def states(self) -> list[str]:
        return [e.state for e in self.of(StateChanged)]


def phrase(speech_seconds: float = 1.5) -> np.ndarray:
    gap = np.zeros(SR // 2, np.float32)
    return np.concatenate([gap, syllables(speech_seconds), gap, gap])


async def test_press_speak_release_gives_the_text_and_forgets_the_audio(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client)
    assert await rig.session.start()
    await rig.speak(phrase(1.5))
    text = await rig.session.stop()
    assert rig.states() == [RECORDING, PROCESSING, TRANSCRIBING, IDLE]
    (req,) = srv.requests
    schema.validate_recorded(req)
    assert req.files["file"][1] == "audio/ogg" and req.files["file"][0].endswith(".ogg")
    # The upload is the speech plus its pads, not the silence around it.
    seconds = float(text.split()[0])
    assert 1.5 + 0.25 <= seconds <= 1.5 + 0.25 + 0.35 + 0.05
    assert rig.of(Finished) == [Finished(text, rig.session.last_recording_id)]
    levels = rig.of(LevelChanged)
    assert levels and levels[-1].level.elapsed == pytest.approx(len(phrase(1.5)) / SR, abs=0.03)
    assert rig.store.pending() == [] and rig.store.all() == []
    await rig.session.close()


async def test_streaming_model_shows_words_as_they_arrive(tmp_path, srv, client) -> None:
    srv.transcription_text = "one two three four five six"
    rig = Rig(tmp_path, client, options=DictationOptions(model="gpt-4o-mini-transcribe", language="en"))
    await rig.session.start()
    await rig.speak(phrase())
    assert await rig.session.stop() == "one two three four five six"
    partials = [p.text for p in rig.of(PartialText)]
    assert len(partials) > 2
    assert all(b.startswith(a) for a, b in itertools.pairwise(partials))
    assert srv.last_request.form == {"model": "gpt-4o-mini-transcribe", "language": "en", "stream": "true"}
    await rig.session.close()


async def test_silence_is_not_uploaded(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client)
    await rig.session.start()
    await rig.speak(np.zeros(SR * 2, np.float32))
    assert await rig.session.stop() is None
    (nothing,) = rig.of(HeardNothing)
    assert nothing.message.startswith("I heard nothing: check the microphone and its level")
    assert srv.requests == [] and rig.store.all() == []
    assert rig.session.state == IDLE
    await rig.session.close()


async def test_a_failed_upload_keeps_the_audio_and_retry_sends_the_same_bytes(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client)
    srv.enqueue_fault(Fault.overloaded())
    await rig.session.start()
    await rig.speak(phrase())
    assert await rig.session.stop() is None
    (failed,) = rig.of(Failed)
    assert failed.retryable and failed.kind == "server" and failed.recording_id
    assert [r.id for r in rig.store.pending()] == [failed.recording_id]
    # The app restarts: a new store and session still find it, and retry needs no microphone.
    store = RecordingStore(tmp_path / "recordings")
    again = DictationSession(Recorder(AudioDevices(FakeSoundDevice([]))), store, lambda: client)
    text = await again.retry()
    assert text and text.endswith("seconds")
    first, second = srv.requests
    assert first.files["file"][2] == second.files["file"][2]
    assert store.pending() == []
    await rig.session.close()


async def test_unplugged_mid_sentence_keeps_the_recording_for_retry(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client)
    failed = asyncio.Event()
    rig.session.on_event = lambda e: (rig.events.append(e), isinstance(e, Failed) and failed.set())
    await rig.session.start()
    await rig.speak(phrase(1.0)[:SR])  # half a second of gap, then half of the speech
    await asyncio.to_thread(rig.sd.last_stream.unplug)
    await asyncio.wait_for(failed.wait(), 5)  # noticed without waiting for the release
    (event,) = rig.of(Failed)
    assert event.kind == "device" and event.retryable and "disconnected" in event.message
    assert srv.requests == []
    assert await rig.session.stop() is None  # the release after the loss does nothing more
    text = await rig.session.retry(event.recording_id)
    assert text is not None and float(text.split()[0]) > 0.5
    await rig.session.close()


async def test_cancel_while_recording_drops_everything(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client)
    await rig.session.start()
    await rig.speak(phrase())
    await rig.session.cancel()
    assert rig.session.state == IDLE and rig.states() == [RECORDING, IDLE]
    assert srv.requests == [] and rig.store.all() == []
    await rig.session.close()


async def test_cancel_while_transcribing_keeps_the_recording(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client)
    srv.enqueue_fault(Fault.hang())
    await rig.session.start()
    await rig.speak(phrase())
    task = asyncio.create_task(rig.session.stop())
    await asyncio.to_thread(srv.wait_for_stalls, 1, 10.0)
    await rig.session.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.session.state == IDLE
    (kept,) = rig.store.pending()
    assert kept.error == "Transcription cancelled."
    await rig.session.close()


async def test_no_microphone_is_reported_on_press(tmp_path, srv, client) -> None:
    rig = Rig(tmp_path, client, devices=[])
    assert not await rig.session.start()
    (failed,) = rig.of(Failed)
    assert failed.kind == "device" and "No microphone found" in failed.message
    assert rig.session.state == IDLE


async def test_a_long_recording_is_uploaded_in_parts_with_context(tmp_path, srv, client) -> None:
    def small_parts(rate: int) -> IncrementalEncoder:
        return IncrementalEncoder(rate, FORMATS["wav"], max_part_bytes=60_000)  # under 2 s per part

    srv.transcription_text = lambda req: f"part {len(srv.requests)}"
    rig = Rig(tmp_path, client, options=DictationOptions(prompt="Glossary: PySide6"), encoder_factory=small_parts)
    await rig.session.start()
    await rig.speak(phrase(4.0))
    assert await rig.session.stop() == "part 1 part 2 part 3"
    reqs = srv.requests
    for r in reqs:
        schema.validate_recorded(r)
        assert len(r.files["file"][2]) <= 60_000
    assert reqs[0].form["prompt"] == "Glossary: PySide6"
    assert reqs[2].form["prompt"] == "Glossary: PySide6 part 1 part 2"
    await rig.session.close()


async def test_a_client_that_cannot_be_built_keeps_the_audio(tmp_path, srv, client) -> None:
    def broken() -> OpenAIClient:
        raise RuntimeError("The system keyring is locked.")

    rig = Rig(tmp_path, client)
    rig.session.client = broken
    await rig.session.start()
    await rig.speak(phrase())
    assert await rig.session.stop() is None
    (failed,) = rig.of(Failed)
    assert failed.kind == "error" and failed.retryable and "keyring is locked" in failed.message
    assert rig.session.state == IDLE
    rig.session.client = lambda: client
    assert await rig.session.retry() is not None
    assert rig.store.pending() == []
    await rig.session.close()
