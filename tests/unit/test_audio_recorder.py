"""assistant_app.media.recorder with an injected fake sounddevice: formats, resampling, overflow, unplug.

The fake stream runs the recorder's real PortAudio callback on a thread of its own, as PortAudio does.
"""

from __future__ import annotations

import asyncio
import itertools
import threading

import numpy as np
import pytest

from assistant_app.media.audio_devices import AudioDevices, AudioUnavailableError, NoInputDeviceError
from assistant_app.media.recorder import DeviceLostError, Level, Recorder, RecorderError, StreamOpenError
from tests.support.audio_fixtures import no_portaudio  # noqa: F401 - fixture
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.support.speech_audio import dominant_hz, rms_db, tone

pytestmark = pytest.mark.asyncio


def recorder(*devices: FakeDevice, **kw) -> tuple[Recorder, FakeSoundDevice]:
    sd = FakeSoundDevice(list(devices))
    return Recorder(AudioDevices(sd), **kw), sd


def stereo(left: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
    return np.stack([left, left if right is None else right], axis=1)


async def test_opens_at_16k_mono_when_allowed_and_keeps_samples_exactly() -> None:
    rec, sd = recorder(FakeDevice("Mic", rates={16000, 48000}))
    await rec.start()
    stream = sd.last_stream
    assert (stream.samplerate, stream.channels, stream.dtype) == (16000, 1, "float32")
    signal = tone(440, 16000)
    fed = await asyncio.to_thread(stream.feed, signal)
    result = await rec.stop()
    assert result.rate == 16000
    np.testing.assert_array_equal(result.samples, signal[: fed * stream.blocksize])
    assert result.stats.blocks == fed and result.stats.dropped_blocks == 0
    assert result.stats.press_to_first_block is not None and result.stats.press_to_first_block >= 0
    await rec.close()
    assert stream.closed  # not kept ready: the microphone is released after each recording


@pytest.mark.parametrize(("rate", "freq"), [(48000, 1000), (44100, 700)])
async def test_a_device_that_refuses_16k_is_opened_at_its_own_rate_and_resampled(rate: int, freq: int) -> None:
    rec, sd = recorder(FakeDevice("hw:0", rates={rate}, channels={2}, default_samplerate=rate))
    await rec.start()
    stream = sd.last_stream
    assert (stream.samplerate, stream.channels) == (rate, 2)
    fed = await asyncio.to_thread(stream.feed, stereo(tone(freq, rate, 2.0)))
    result = await rec.stop()
    await rec.close()
    assert result.rate == 16000
    assert len(result.samples) == pytest.approx(fed * stream.blocksize * 16000 / rate, abs=2)
    middle = result.samples[1600:-1600]
    assert dominant_hz(middle, 16000) == pytest.approx(freq, abs=2)
    assert rms_db(middle) == pytest.approx(rms_db(tone(freq, 16000)), abs=0.3)


async def test_stereo_is_mixed_down_to_mono() -> None:
    rec, sd = recorder(FakeDevice("hw:0", rates={48000}, channels={2}))
    await rec.start()
    left = tone(500, 48000)
    await asyncio.to_thread(sd.last_stream.feed, stereo(left, np.zeros_like(left)))
    result = await rec.stop()
    await rec.close()
    assert rms_db(result.samples[1600:-1600]) == pytest.approx(rms_db(left) - 6.02, abs=0.3)


async def test_a_rate_that_passes_the_check_but_fails_to_open_falls_back() -> None:
    rec, sd = recorder(FakeDevice("liar", rates={16000, 48000}, refuse_open_at={16000}))
    await rec.start()
    assert sd.last_stream.samplerate == 48000
    await rec.cancel()
    await rec.close()


async def test_a_device_that_accepts_nothing_says_what_was_tried() -> None:
    rec, _sd = recorder(FakeDevice("odd", rates={8000}, default_samplerate=8000, channels={4}, max_input_channels=4))
    with pytest.raises(StreamOpenError, match=r"“odd \(ALSA\)” could not be opened \(16000 Hz/1 ch refused") as info:
        await rec.start()
    assert "8000 Hz/2 ch refused" in str(info.value)
    assert not rec.capturing


async def test_no_device_and_no_portaudio_fail_clearly(no_portaudio) -> None:  # noqa: F811
    with pytest.raises(NoInputDeviceError):
        await Recorder(AudioDevices(FakeSoundDevice([], default_input=None))).start()
    with pytest.raises(AudioUnavailableError, match="PortAudio"):
        await Recorder(AudioDevices()).start()


async def test_a_full_queue_drops_and_counts_blocks_and_overflow_flags_are_counted() -> None:
    rec, sd = recorder(FakeDevice("Mic"), max_queue_blocks=4)
    await rec.start()
    stream = sd.last_stream
    # The loop is stuck (this thread blocks it) while PortAudio delivers 50 blocks: only 4 fit in the queue.
    feeder = threading.Thread(target=stream.feed, args=(tone(440, 16000, 1.0),), kwargs={"overflow_blocks": {1, 2}})
    feeder.start()
    feeder.join()
    result = await rec.stop()
    await rec.close()
    assert stream.blocks_fed == 50
    assert result.stats.dropped_blocks == 46
    assert result.stats.blocks == 4
    assert result.stats.input_overflows == 2


async def test_unplugged_mid_recording_keeps_what_was_recorded() -> None:
    errors: list[RecorderError] = []
    noticed = asyncio.Event()

    def on_error(err: RecorderError) -> None:
        errors.append(err)
        noticed.set()

    rec, sd = recorder(FakeDevice("USB Mic"), on_error=on_error)
    await rec.start()
    stream = sd.last_stream
    fed = await asyncio.to_thread(stream.feed, tone(300, 16000, 0.5))
    await asyncio.to_thread(stream.unplug)  # PortAudio ends the stream on a device error
    await asyncio.wait_for(noticed.wait(), 5)
    assert "disconnected" in str(errors[0])
    with pytest.raises(DeviceLostError) as info:
        await rec.stop()
    assert info.value.recording is not None
    assert len(info.value.recording.samples) == fed * stream.blocksize
    assert not rec.is_open
    await rec.close()


async def test_a_stream_that_stops_delivering_is_reported() -> None:
    noticed = asyncio.Event()
    rec, sd = recorder(FakeDevice("BT headset"), stall_timeout=0.2, on_error=lambda e: noticed.set())
    await rec.start()
    await asyncio.to_thread(sd.last_stream.feed, tone(300, 16000, 0.2))
    await asyncio.wait_for(noticed.wait(), 5)  # no block for 0.2 s: the device went quiet without an error
    with pytest.raises(DeviceLostError, match="stopped sending sound") as info:
        await rec.stop()
    assert info.value.recording is not None and len(info.value.recording.samples) > 0
    await rec.close()


async def test_keep_ready_keeps_a_preroll_and_the_stream_open() -> None:
    rec, sd = recorder(FakeDevice("Mic", rates={16000}), keep_ready=True, preroll_seconds=0.3)
    await rec.open()
    stream = sd.last_stream
    before = np.linspace(-0.5, 0.5, 16000, dtype=np.float32)  # sound before the press
    await asyncio.to_thread(stream.feed, before)
    await rec.start()
    after = tone(440, 16000, 0.5)
    await asyncio.to_thread(stream.feed, after)
    first = await rec.stop()
    preroll = len(first.samples) - len(after)
    assert 0.3 * 16000 <= preroll < 0.3 * 16000 + stream.blocksize
    assert first.preroll_seconds == pytest.approx(preroll / 16000)
    np.testing.assert_array_equal(first.samples[:preroll], before[-preroll:])  # the first syllable is kept
    np.testing.assert_array_equal(first.samples[preroll:], after)
    assert rec.is_open and not stream.closed  # ready for the next press

    await rec.start()
    await asyncio.to_thread(stream.feed, after)
    second = await rec.stop()
    assert len(sd.streams) == 1
    np.testing.assert_array_equal(second.samples[-len(after) :], after)
    await rec.close()
    assert stream.closed


async def test_level_and_elapsed_are_reported_per_block() -> None:
    levels: list[Level] = []
    rec, sd = recorder(FakeDevice("Mic", rates={16000}), on_level=levels.append)
    await rec.start()
    await asyncio.to_thread(sd.last_stream.feed, tone(440, 16000, 1.0, amp=0.5))
    await rec.stop()
    await rec.close()
    assert len(levels) == 50
    assert levels[-1].elapsed == pytest.approx(1.0)
    assert all(b.elapsed > a.elapsed for a, b in itertools.pairwise(levels))
    assert levels[10].rms_dbfs == pytest.approx(-9.03, abs=0.2)  # a 0.5 sine: RMS 0.354
    assert levels[10].peak_dbfs == pytest.approx(-6.02, abs=0.2)


async def test_cancel_discards_the_recording() -> None:
    rec, sd = recorder(FakeDevice("Mic"))
    await rec.start()
    await asyncio.to_thread(sd.last_stream.feed, tone(440, 16000, 0.2))
    await rec.cancel()
    with pytest.raises(RecorderError, match="Not recording"):
        await rec.stop()
    await rec.close()
    assert sd.last_stream.closed
