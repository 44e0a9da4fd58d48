"""Test audio: real synthetic speech from espeak-ng (when installed) and speech-like bursts (always)."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

import numpy as np

PHRASE = "hello world this is a test"


@functools.lru_cache(maxsize=8)
def _espeak_wav(text: str) -> bytes | None:
    if shutil.which("espeak-ng") is None:
        return None
    return subprocess.run(["espeak-ng", "--stdout", text], check=True, capture_output=True, timeout=60).stdout


def espeak_wav(text: str = PHRASE) -> bytes | None:
    """espeak-ng's WAV (22050 Hz mono 16-bit) of ``text``, or None when espeak-ng is not installed."""
    return _espeak_wav(text)


def espeak_speech(text: str = PHRASE, rate: int = 16000) -> np.ndarray | None:
    """The phrase as float32 mono at ``rate``, or None without espeak-ng."""
    import wave

    from assistant_app.media.resample import resample

    data = espeak_wav(text)
    if data is None:
        return None
    # espeak-ng --stdout writes a streaming header (sizes 0xFFFFFFFF): read the frames that are there.
    with wave.open(io.BytesIO(data)) as w:
        src_rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return resample(pcm.astype(np.float32) / 32768.0, src_rate, rate)


def syllables(seconds: float, rate: int = 16000, seed: int = 0, level: float = 0.3) -> np.ndarray:
    """Speech-like sound: voiced bursts of 120-250 ms with short gaps (a harmonic tone plus breath noise)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate), dtype=np.float32)
    pos = 0
    while pos < len(out):
        n = int(rng.uniform(0.12, 0.25) * rate)
        t = np.arange(n) / rate
        f0 = rng.uniform(100, 220)
        voiced = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
        burst = (voiced + 0.2 * rng.standard_normal(n)) * np.hanning(n)
        end = min(len(out), pos + n)
        out[pos:end] = (level * burst[: end - pos] / np.max(np.abs(burst))).astype(np.float32)
        pos = end + int(rng.uniform(0.03, 0.12) * rate)
    return out


def noise(seconds: float, dbfs: float, rate: int = 16000, seed: int = 1) -> np.ndarray:
    """White noise whose RMS is ``dbfs``."""
    rms = 10 ** (dbfs / 20)
    return (np.random.default_rng(seed).standard_normal(int(seconds * rate)) * rms).astype(np.float32)


def tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spec))])


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)
