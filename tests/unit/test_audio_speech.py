"""Silence trimming, empty-recording detection, compact encoding and splitting (assistant_app.media.speech/encoding)."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from assistant_app.media import encoding
from assistant_app.media.encoding import FORMATS, RecordingTooLongError, decode_file, encode
from assistant_app.media.speech import (
    HANGOVER_SECONDS,
    PRE_PAD_SECONDS,
    SILENT_MESSAGE,
    LiveTrimmer,
    trim_silence,
)
from tests.support.speech_audio import espeak_speech, noise, syllables

SR = 16000


def padded(speech: np.ndarray, before: float, after: float, floor: np.ndarray | None = None) -> np.ndarray:
    sig = np.concatenate([np.zeros(int(before * SR), np.float32), speech, np.zeros(int(after * SR), np.float32)])
    if floor is not None:
        sig = sig + floor[: len(sig)]
    return sig


@pytest.mark.parametrize("floor_db", [None, -60.0, -45.0])
def test_leading_and_trailing_silence_are_cut_with_pads(floor_db: float | None) -> None:
    speech = syllables(2.0)
    floor = noise(6.0, floor_db) if floor_db is not None else None
    kept, verdict = trim_silence(padded(speech, 1.5, 2.5, floor))
    assert not verdict.silent
    # The kept span starts about PRE_PAD before the speech and ends about HANGOVER after it.
    assert verdict.start / SR == pytest.approx(1.5 - PRE_PAD_SECONDS, abs=0.05)
    last_sound = 1.5 + np.flatnonzero(np.abs(speech) > 0.01)[-1] / SR
    assert verdict.end / SR == pytest.approx(last_sound + HANGOVER_SECONDS, abs=0.05)
    assert len(kept) == verdict.end - verdict.start
    assert verdict.speech_seconds > 1.0


def test_pauses_inside_speech_are_kept() -> None:
    sig = np.concatenate([syllables(1.0, seed=1), np.zeros(SR * 2, np.float32), syllables(1.0, seed=2)])
    kept, _verdict = trim_silence(padded(sig, 1.0, 1.0))
    assert len(kept) / SR > 3.9  # both phrases and the 2 s pause between them


@pytest.mark.parametrize(
    ("signal", "digital"),
    [
        (np.zeros(SR * 3, np.float32), True),  # a muted device, or macOS without microphone permission
        (noise(3.0, -62.0), False),  # a live microphone in a quiet room
        (noise(3.0, -30.0), False),  # loud steady noise (a fan), no speech
        (padded(np.full(80, 0.8, np.float32), 1.0, 1.0), True),  # a click: too short to be words
    ],
    ids=["zeros", "quiet-room", "fan", "click"],
)
def test_recordings_without_speech_are_silent(signal: np.ndarray, digital: bool) -> None:
    kept, verdict = trim_silence(signal)
    assert verdict.silent
    assert len(kept) == 0
    assert verdict.message.startswith(SILENT_MESSAGE)
    if np.max(np.abs(signal)) == 0:
        assert "digital silence" in verdict.message


def test_live_trimming_in_blocks_matches_one_pass() -> None:
    sig = padded(np.concatenate([syllables(1.2), np.zeros(SR, np.float32), syllables(0.8, seed=5)]), 0.7, 1.3)
    whole, verdict = trim_silence(sig)
    commits: list[tuple[np.ndarray, bool]] = []
    live = LiveTrimmer(SR, lambda chunk, pause: commits.append((chunk, pause)))
    rng = np.random.default_rng(3)
    i = 0
    while i < len(sig):
        n = int(rng.integers(50, 900))
        live.push(sig[i : i + n])
        i += n
    assert live.finish() == verdict
    np.testing.assert_array_equal(np.concatenate([c for c, _ in commits]), whole)
    # The first commit starts the speech; the phrase after the 1 s pause is flagged as a split point.
    assert commits[0][1] is True
    assert sum(p for _, p in commits) == 2


def test_most_audio_is_handed_on_before_release() -> None:
    """While speaking, everything up to the last voiced frame is already committed (for the encoder)."""
    sig = padded(syllables(3.0), 0.5, 0.0)
    committed = []
    live = LiveTrimmer(SR, lambda chunk, _p: committed.append(len(chunk)))
    live.push(sig)
    before_release = sum(committed)
    verdict = live.finish()
    assert verdict.end - verdict.start - before_release <= HANGOVER_SECONDS * SR + 320


# ---- encoding -------------------------------------------------------------------------------------


def wav_bytes(n: int) -> int:
    return 44 + 2 * n


def test_default_format_is_compact_on_real_speech() -> None:
    """Bytes per minute of speech against 16-bit 16 kHz WAV: the issue's target is <= 0.6x."""
    speech = espeak_speech("hello world this is a test of the dictation encoder, with a longer sentence to measure")
    if speech is None:
        pytest.skip("espeak-ng is not installed")
    sig = np.tile(speech, 6) + noise(len(speech) * 6 / SR, -55.0)[: len(speech) * 6]
    parts = encode(sig)
    assert len(parts) == 1
    assert parts[0].format is encoding.choose_format()
    ratio = len(parts[0].data) / wav_bytes(len(sig))
    assert ratio <= 0.6, f"{parts[0].format.name}: {ratio:.2f}x of WAV"


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_available_format_round_trips(name: str) -> None:
    if name not in encoding.available_formats():
        pytest.skip(f"{name} is not available in this libsndfile")
    sig = syllables(2.0)
    (part,) = encode(sig, fmt=FORMATS[name])
    assert part.filename("x").endswith("." + FORMATS[name].extension)
    assert part.duration == pytest.approx(2.0, abs=0.01)
    back = decode_file(part.data)
    assert len(back) == pytest.approx(len(sig), abs=400)  # codecs may pad a frame
    n = min(len(back), len(sig))
    lag = int(np.argmax(np.correlate(back[:4000], sig[:4000], "full"))) - 3999
    a, b = (back[lag:n], sig[: n - lag]) if lag >= 0 else (back[: n + lag], sig[-lag:n])
    corr = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    assert corr > (0.999 if name in ("wav", "flac") else 0.9)


def test_long_recordings_are_split_below_the_limit() -> None:
    sig = syllables(20.0)
    parts = encode(sig, fmt=FORMATS["wav"], max_part_bytes=200_000)
    assert len(parts) >= 3
    assert all(len(p.data) <= 200_000 for p in parts)
    assert sum(p.duration for p in parts) == pytest.approx(20.0, abs=0.01)
    joined = np.concatenate([decode_file(p.data) for p in parts])
    np.testing.assert_allclose(joined, sig, atol=2 / 32768)  # nothing lost or repeated at the cuts


def test_split_prefers_a_pause() -> None:
    enc = encoding.IncrementalEncoder(SR, FORMATS["wav"], max_part_bytes=60_000)
    enc.write(syllables(1.4))  # 45 KB
    enc.write(syllables(0.3, seed=2), after_pause=False)
    enc.write(syllables(0.3, seed=3), after_pause=True)  # past 85 % of the limit at a pause: split here
    parts = enc.finish_future().result()
    assert [round(p.duration, 2) for p in parts] == [1.7, 0.3]


def test_too_long_is_refused_with_the_reason() -> None:
    with pytest.raises(RecordingTooLongError, match="too long"):
        encode(syllables(10.0), fmt=FORMATS["wav"], max_part_seconds=3.0, max_parts=2)


def test_without_libsndfile_wav_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "_soundfile", lambda: None)
    assert encoding.available_formats() == ["wav"]
    (part,) = encode(syllables(1.0))
    assert part.mime == "audio/wav"
    with wave.open(io.BytesIO(part.data)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (SR, 1, 2, SR)
