"""Checks of the test harness itself (scripts/test.sh): the virtual microphone and the private keyring.

They skip when the harness is not around (plain `pytest` on a laptop). scripts/test.sh sets
ASSISTANT_APP_REQUIRE_REAL=1 when it provides the real components; then a missing component is a
failure, not a skip, so CI cannot go green while silently testing nothing real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

SR = 16000
SPEECH_RMS = 500.0  # espeak-ng speech through the loopback measures about 2000-5000
SILENCE_RMS = 50.0  # the null sink's monitor is digital silence when nothing plays
WAIT_S = 20.0  # generous: a callback stream can take ~2 s to start on a loaded 2-core machine


def _unavailable(reason: str) -> None:
    if os.environ.get("ASSISTANT_APP_REQUIRE_REAL") == "1":
        pytest.fail(f"the harness promised real components, but {reason}")
    pytest.skip(reason)


def _pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=15, check=True).stdout


@pytest.fixture(scope="module")
def virtual_audio():
    """The sounddevice module, once PulseAudio with virt_speaker / virt_mic / fifo_mic is confirmed."""
    if not os.environ.get("PULSE_SERVER"):
        _unavailable("PULSE_SERVER is unset (no private PulseAudio)")
    for tool in ("pactl", "paplay", "espeak-ng"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed")
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio missing (apt libportaudio2)
        _unavailable(f"sounddevice cannot load PortAudio: {exc}")
    sinks = _pactl("list", "short", "sinks")
    sources = _pactl("list", "short", "sources")
    if "virt_speaker" not in sinks or "virt_mic" not in sources:
        _unavailable("this PulseAudio server has no virt_speaker/virt_mic (not the test harness's server)")
    return sd


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A spoken phrase as a WAV file, and the same audio as 16 kHz int16 for comparison."""
    path = tmp_path_factory.mktemp("speech") / "phrase.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "hello world this is a test"], check=True, timeout=30)
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    t_out = np.arange(int(len(pcm) * SR / rate)) / SR
    resampled = np.interp(t_out, np.arange(len(pcm)) / rate, pcm)
    return path, resampled.astype(np.int16)


def _rms(block: np.ndarray) -> float:
    return float(np.sqrt(np.mean(block.astype(np.float64) ** 2))) if len(block) else 0.0


def best_correlation(recording: np.ndarray, reference: np.ndarray) -> float:
    """Normalised cross-correlation of the reference at its best offset inside the recording."""
    r = recording.astype(np.float64)
    s = reference.astype(np.float64)
    n = 1 << (len(r) + len(s)).bit_length()
    xc = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(s, n)), n)
    lag = int(np.argmax(xc[: max(1, len(r) - len(s) + 1)]))
    seg = r[lag : lag + len(s)]
    s = s[: len(seg)]
    return float(seg @ s / (np.linalg.norm(seg) * np.linalg.norm(s) + 1e-9))


class _Recorder:
    """PortAudio callback that only copies and flags; the test thread waits on the events."""

    def __init__(self, first_frames: int) -> None:
        self.chunks: list[np.ndarray] = []
        self.frames = 0
        self.first_frames = first_frames
        self.flowing = threading.Event()
        self.heard = threading.Event()
        self.quiet_after_speech = threading.Event()
        self.target_frames = 0
        self.enough = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        block = indata[:, 0].copy()
        level = _rms(block)
        with self._lock:
            self.chunks.append(block)
            self.frames += frames
            total = self.frames
        if total >= self.first_frames:
            self.flowing.set()
        if level > SPEECH_RMS:
            self.heard.set()
        elif self.heard.is_set() and level < SILENCE_RMS:
            self.quiet_after_speech.set()
        if self.target_frames and total >= self.target_frames:
            self.enough.set()

    def recording(self) -> np.ndarray:
        with self._lock:
            return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


@pytest.mark.audio
def test_virtual_mic_hears_speech_played_into_virtual_speaker(virtual_audio, speech) -> None:
    sd = virtual_audio
    wav, reference = speech
    rec = _Recorder(first_frames=SR // 10)
    with sd.InputStream(samplerate=SR, channels=1, dtype="int16", blocksize=SR // 50, callback=rec):
        # Inject audio only once frames flow, or the start of the phrase is lost.
        assert rec.flowing.wait(WAIT_S), "the default input device delivered no frames"
        baseline = rec.recording()
        subprocess.run(["paplay", "--device=virt_speaker", str(wav)], check=True, timeout=60)
        assert rec.heard.wait(WAIT_S), "frames flow but the speech never arrived"
        # paplay returns once its audio is drained into the sink; pauses between words may already have
        # set the flag, so re-arm it and wait for the silence after the last word.
        rec.quiet_after_speech.clear()
        assert rec.quiet_after_speech.wait(WAIT_S), "the speech never ended in the recording"
    assert _rms(baseline) < SILENCE_RMS
    recording = rec.recording()[len(baseline) :]
    assert _rms(recording) > SPEECH_RMS / 2
    assert best_correlation(recording, reference) > 0.9


@pytest.mark.audio
def test_fifo_mic_is_sample_exact(virtual_audio, speech) -> None:
    """The pipe source gives back exactly the samples written into it: the deterministic mic for tests."""
    sd = virtual_audio
    _, reference = speech
    fifo = Path(os.environ.get("XDG_RUNTIME_DIR", "")) / "mic.fifo"
    if not fifo.exists():
        _unavailable(f"no pipe-source FIFO at {fifo}")
    padding = np.zeros(SR, dtype=np.int16)  # the pipe source only advances while data is written
    payload = np.concatenate([reference, padding])
    rec = _Recorder(first_frames=1)
    rec.target_frames = len(reference) + SR // 2
    _pactl("set-default-source", "fifo_mic")
    try:
        with sd.InputStream(samplerate=SR, channels=1, dtype="int16", blocksize=SR // 50, callback=rec):
            writer = threading.Thread(target=fifo.write_bytes, args=(payload.tobytes(),), daemon=True)
            writer.start()
            assert rec.enough.wait(WAIT_S), f"only {rec.frames} frames came out of the FIFO mic"
            writer.join(WAIT_S)
    finally:
        _pactl("set-default-source", "virt_mic")
    assert best_correlation(rec.recording(), reference) > 0.99


@pytest.mark.keyring
def test_private_session_keyring_is_secret_service() -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        _unavailable("DBUS_SESSION_BUS_ADDRESS is unset (no D-Bus session)")
    if os.environ.get("ASSISTANT_APP_TEST_KEYRING") != "private":
        pytest.skip("a desktop session's keyring may legitimately be another backend (e.g. KWallet)")
    import keyring

    backend = keyring.get_keyring()
    assert type(backend).__module__ == "keyring.backends.SecretService", str(type(backend))
    # The collection is unlocked: a lookup of a missing entry answers instead of raising KeyringLocked.
    assert backend.get_password("assistant-app", "__harness_probe__") is None
