"""Dictation with real components: the PulseAudio virtual microphone and a real faster-whisper-server.

- ``audio``: the Recorder records espeak-ng speech played into virt_speaker and heard on virt_mic
  (scripts/test.sh starts that PulseAudio; PULSE_SERVER must be set).
- ``whisper``: faster-whisper-server with Whisper tiny.en on 127.0.0.1 (tests/support/whisper_server.py;
  installed into .venv-whisper on first use). ``ASSISTANT_APP_WHISPER=0`` turns these off.
Both together: a DictationSession from the virtual microphone to the real server.

They skip when a component is absent, except under scripts/test.sh (ASSISTANT_APP_REQUIRE_REAL=1),
where a missing component fails the run instead of silently testing nothing.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant_app.api.audio import stream_transcription, transcribe
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.media.audio_devices import AudioDevices, AudioError
from assistant_app.media.capture import Level, Recording
from assistant_app.media.dictation import DictationSession, Finished, LevelChanged
from assistant_app.media.encoding import encode
from assistant_app.media.recorder import Recorder
from assistant_app.media.recordings import RecordingStore
from assistant_app.media.speech import trim_silence
from tests.e2e.harness import REPO
from tests.support.speech_audio import PHRASE, espeak_speech
from tests.support.whisper_server import WhisperServer, WhisperUnavailable

SR = 16000
WAIT_S = 30.0  # generous: a PulseAudio stream can take ~2 s to deliver its first frames on a loaded 2-core machine
SPEECH_DBFS = -30.0  # espeak through the loopback measures -20..-10 dBFS per block
QUIET_DBFS = -60.0  # the null sink's monitor is digital silence when nothing plays


def _unavailable(reason: str) -> None:
    if os.environ.get("ASSISTANT_APP_REQUIRE_REAL") == "1":
        pytest.fail(f"the harness promised real components, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def virtual_mic() -> AudioDevices:
    if not os.environ.get("PULSE_SERVER"):
        _unavailable("PULSE_SERVER is unset (no private PulseAudio)")
    for tool in ("pactl", "paplay", "espeak-ng"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed")
    sources = subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=15).stdout
    if "virt_mic" not in sources:
        _unavailable("this PulseAudio server has no virt_mic (not the test harness's server)")
    devices = AudioDevices()
    try:
        if not devices.list_inputs():
            devices.refresh()  # sounddevice was imported before PulseAudio started
        devices.resolve(None)
    except AudioError as exc:
        _unavailable(f"no usable input device: {exc}")
    return devices


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperServer]:
    try:
        server = WhisperServer().start()
    except WhisperUnavailable as exc:
        if os.environ.get("ASSISTANT_APP_WHISPER") == "0":
            pytest.skip(str(exc))
        _unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def phrase_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        _unavailable("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "phrase.wav"
    subprocess.run(["espeak-ng", "-w", str(path), PHRASE], check=True, timeout=60)
    return path


def assert_heard_the_phrase(text: str) -> None:
    """The phrase came back, allowing Whisper tiny.en to mishear a word or two: on this loaded 2-core
    machine it has heard "hello world this is a test" as "the low world is in the test" and "the low
    world isn't at best" (similarity 0.78 and 0.68). Silence or noise gives nothing like it ("Thank
    you.", Whisper's usual answer to no speech: 0.23)."""
    heard = " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
    similarity = difflib.SequenceMatcher(None, heard, PHRASE).ratio()
    assert similarity >= 0.6 and "world" in heard.split(), f"{text!r} (similarity {similarity:.2f})"


class LevelWatch:
    """Follows the level meter: frames flowing, speech heard, quiet again after it."""

    def __init__(self, flowing_blocks: int = 10) -> None:
        self.flowing_blocks = flowing_blocks
        self.blocks = 0
        self.flowing = asyncio.Event()
        self.heard = asyncio.Event()
        self.quiet = asyncio.Event()
        self._quiet_run = 0

    def __call__(self, level: Level) -> None:
        self.blocks += 1
        if self.blocks >= self.flowing_blocks:
            self.flowing.set()
        if level.rms_dbfs > SPEECH_DBFS:
            self.heard.set()
            self._quiet_run = 0
        elif self.heard.is_set() and level.rms_dbfs < QUIET_DBFS:
            self._quiet_run += 1
            if self._quiet_run >= 25:  # half a second of silence after the last word
                self.quiet.set()

    async def play(self, wav: Path) -> None:
        """Play only once frames flow (or the first words are lost), then wait for the end of the speech."""
        await asyncio.wait_for(self.flowing.wait(), WAIT_S)
        await asyncio.to_thread(subprocess.run, ["paplay", "--device=virt_speaker", str(wav)], check=True, timeout=60)
        await asyncio.wait_for(self.heard.wait(), WAIT_S)
        await asyncio.wait_for(self.quiet.wait(), WAIT_S)


async def record_phrase(devices: AudioDevices, wav: Path) -> Recording:
    watch = LevelWatch()
    recorder = Recorder(devices, on_level=watch)
    await recorder.start()
    try:
        await watch.play(wav)
        return await recorder.stop()
    finally:
        await recorder.close()


def best_correlation(recording: np.ndarray, reference: np.ndarray) -> float:
    r, s = recording.astype(np.float64), reference.astype(np.float64)
    n = 1 << (len(r) + len(s)).bit_length()
    xc = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(s, n)), n)
    lag = int(np.argmax(xc[: max(1, len(r) - len(s) + 1)]))
    seg = r[lag : lag + len(s)]
    s = s[: len(seg)]
    return float(seg @ s / (np.linalg.norm(seg) * np.linalg.norm(s) + 1e-12))


@pytest.mark.audio
@pytest.mark.asyncio
async def test_recorder_records_speech_from_the_virtual_microphone(virtual_mic, phrase_wav) -> None:
    recording = await record_phrase(virtual_mic, phrase_wav)
    assert recording.rate == SR
    assert recording.stats.dropped_blocks == 0
    kept, verdict = trim_silence(recording.samples)
    assert not verdict.silent
    assert verdict.speech_seconds > 1.0
    reference = espeak_speech(PHRASE)
    assert reference is not None
    assert best_correlation(recording.samples, reference) > 0.9
    assert len(kept) < len(recording.samples)  # the silence before and after was trimmed


@pytest.mark.whisper
@pytest.mark.asyncio
async def test_whisper_server_transcribes_our_upload(whisper) -> None:
    speech = espeak_speech(PHRASE)
    if speech is None:
        _unavailable("espeak-ng is not installed")
    kept, _ = trim_silence(np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(SR, np.float32)]))
    (part,) = encode(kept)
    client = OpenAIClient(Endpoint(base_url=whisper.base_url, kind="compatible"), read_timeout=120.0)
    try:
        assert_heard_the_phrase(await transcribe(client, part.data, part.filename(), part.mime, language="en"))
        # A whisper server ignores stream=true and answers with one JSON document.
        deltas = [d async for d in stream_transcription(client, part.data, part.filename(), part.mime,
                                                        model="gpt-4o-mini-transcribe")]  # fmt: skip
        assert len(deltas) == 1
        assert_heard_the_phrase(deltas[0])
    finally:
        await client.aclose()


@pytest.mark.audio
@pytest.mark.whisper
@pytest.mark.asyncio
async def test_virtual_microphone_recording_is_transcribed_by_whisper(virtual_mic, whisper, phrase_wav) -> None:
    recording = await record_phrase(virtual_mic, phrase_wav)
    kept, verdict = trim_silence(recording.samples)
    assert not verdict.silent
    (part,) = encode(kept)
    client = OpenAIClient(Endpoint(base_url=whisper.base_url, kind="compatible"), read_timeout=120.0)
    try:
        assert_heard_the_phrase(await transcribe(client, part.data, part.filename(), part.mime))
    finally:
        await client.aclose()


@pytest.mark.audio
@pytest.mark.whisper
@pytest.mark.asyncio
async def test_dictation_session_from_virtual_microphone_to_whisper(virtual_mic, whisper, phrase_wav, tmp_path) -> None:
    watch = LevelWatch()
    events: list[object] = []

    def on_event(event: object) -> None:
        events.append(event)
        if isinstance(event, LevelChanged):
            watch(event.level)

    client = OpenAIClient(Endpoint(base_url=whisper.base_url, kind="compatible"), read_timeout=120.0)
    store = RecordingStore(tmp_path / "recordings")
    session = DictationSession(Recorder(virtual_mic, keep_ready=True), store, lambda: client, on_event=on_event)
    try:
        await session.prepare()  # "keep the microphone ready": the stream is open before the press
        assert await session.start()
        await watch.play(phrase_wav)
        text = await session.stop()
    finally:
        await session.close()
        await client.aclose()
    assert text is not None
    assert_heard_the_phrase(text)
    assert [e for e in events if isinstance(e, Finished)] == [Finished(text, session.last_recording_id)]
    assert store.all() == []  # transcribed: nothing left behind


@pytest.mark.whisper
def test_cli_transcribe_against_the_real_server(whisper, phrase_wav, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(ASSISTANT_APP_HOME=str(tmp_path / "home"), OPENAI_BASE_URL=whisper.base_url, OPENAI_API_KEY="unused",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "assistant_app", "transcribe", str(phrase_wav), "--language", "en"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert_heard_the_phrase(proc.stdout)
