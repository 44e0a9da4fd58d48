"""assistant_app.media.resample: frequencies survive, aliases do not, streaming equals one shot."""

from __future__ import annotations

import numpy as np
import pytest

from assistant_app.media.resample import StreamResampler, resample
from tests.support.speech_audio import dominant_hz, rms_db, tone


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 32000, 44100, 48000, 96000])
def test_a_tone_keeps_its_frequency_and_level(rate: int) -> None:
    out = resample(tone(1000, rate), rate, 16000)
    assert len(out) == 16000
    middle = out[2000:-2000]
    assert dominant_hz(middle, 16000) == pytest.approx(1000, abs=2)
    assert rms_db(middle) == pytest.approx(rms_db(tone(1000, 16000)), abs=0.2)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_content_above_the_new_nyquist_is_filtered_out(rate: int) -> None:
    """10 kHz cannot exist at 16 kHz; without a low-pass it would alias to 6 kHz at full level."""
    out = resample(tone(10000, rate), rate, 16000)
    assert rms_db(out[2000:-2000]) < rms_db(tone(10000, rate)) - 60


def test_passband_speech_frequencies_are_kept() -> None:
    out = resample(tone(3400, 48000), 48000, 16000)
    assert rms_db(out[2000:-2000]) == pytest.approx(rms_db(tone(3400, 48000)), abs=0.5)


@pytest.mark.parametrize("rate", [44100, 48000, 22050])
def test_block_by_block_equals_one_shot(rate: int) -> None:
    x = np.random.default_rng(rate).standard_normal(rate * 2).astype(np.float32) * 0.2
    whole = resample(x, rate, 16000)
    r = StreamResampler(rate, 16000)
    rng = np.random.default_rng(1)
    parts, i = [], 0
    while i < len(x):
        n = int(rng.integers(1, 2000))
        parts.append(r.push(x[i : i + n]))
        i += n
    parts.append(r.flush())
    streamed = np.concatenate(parts)
    assert len(streamed) == len(whole) == -(-len(x) * 16000 // rate)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_same_rate_is_a_copy() -> None:
    x = tone(440, 16000)
    r = StreamResampler(16000, 16000)
    out = np.concatenate([r.push(x[:100]), r.push(x[100:]), r.flush()])
    np.testing.assert_array_equal(out, x)
