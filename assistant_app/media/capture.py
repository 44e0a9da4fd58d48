"""What the recorder produces and the PortAudio side of it (the stream and its callback).

The callback runs on PortAudio's own thread. It does only ``indata.copy()`` and
``loop.call_soon_threadsafe(...)``: no allocation beyond the copy, no locks, no Qt, no numpy maths.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant_app.media.audio_devices import AudioDevices, AudioError, InputDevice

STREAM_END = object()  # put into the queue when the stream finishes (closed by us, or died)


class RecorderError(AudioError):
    """A capture failure. ``recording`` holds what was captured before it, if anything."""

    def __init__(self, message: str, recording: Recording | None = None) -> None:
        super().__init__(message)
        self.recording = recording


class StreamOpenError(RecorderError):
    """The device refused every format we tried, or could not be opened."""


class DeviceLostError(RecorderError):
    """The device vanished or stopped delivering audio mid-recording (unplugged, server gone)."""


@dataclass(frozen=True)
class Level:
    rms_dbfs: float
    peak_dbfs: float
    elapsed: float  # seconds captured since the press


@dataclass
class CaptureStats:
    device: str = ""
    stream_rate: int = 0
    channels: int = 0
    blocks: int = 0
    dropped_blocks: int = 0  # the loop fell behind and the bounded queue was full
    input_overflows: int = 0  # PortAudio reported input overflow (samples lost before the callback)
    press_to_first_block: float | None = None  # seconds from start() to the first block captured after it


@dataclass
class Recording:
    samples: np.ndarray  # float32 mono, -1..1
    rate: int
    preroll_seconds: float = 0.0
    stats: CaptureStats = field(default_factory=CaptureStats)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


class SampleRing:
    """The last ``limit`` samples, as blocks: the pre-roll kept while the microphone is ready."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._blocks: collections.deque[np.ndarray] = collections.deque()
        self._length = 0

    def push(self, block: np.ndarray) -> None:
        self._blocks.append(block)
        self._length += len(block)
        while self._blocks and self._length - len(self._blocks[0]) >= self.limit:
            self._length -= len(self._blocks.popleft())

    def take(self) -> list[np.ndarray]:
        blocks = list(self._blocks)
        self._blocks.clear()
        self._length = 0
        return blocks


def dbfs(value: float) -> float:
    return 20.0 * float(np.log10(value)) if value > 1e-10 else -200.0


Enqueue = Callable[[asyncio.Queue[Any], np.ndarray, Any], None]


def candidate_formats(device: InputDevice, target_rate: int) -> list[tuple[int, int]]:
    """(rate, channels) to try, best first: the target rate, then the device's own; mono, then stereo."""
    rates = [target_rate]
    if device.default_samplerate and int(device.default_samplerate) != target_rate:
        rates.append(int(device.default_samplerate))
    channels = [1] + ([2] if device.max_input_channels >= 2 else [])
    return [(rate, ch) for ch in channels for rate in rates]


def open_input_stream(
    devices: AudioDevices,
    device: InputDevice,
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[Any],
    enqueue: Enqueue,
    *,
    target_rate: int,
    block_seconds: float,
    latency: str | float | None = None,
) -> tuple[Any, int, int]:
    """Open and start an input stream; returns (stream, rate, channels). Blocking: call it in an executor.

    Formats the device refuses (``check_input_settings``) or fails to open are skipped; when none
    works, ``StreamOpenError`` lists what was tried.
    """
    sd = devices.sd

    def callback(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the app is quitting
            loop.call_soon_threadsafe(enqueue, queue, indata.copy(), status)

    def finished() -> None:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, STREAM_END)

    tried: list[str] = []
    for rate, channels in candidate_formats(device, target_rate):
        if not devices.supports(device, rate, channels):
            tried.append(f"{rate} Hz/{channels} ch refused")
            continue
        try:
            stream = sd.InputStream(
                samplerate=rate, blocksize=max(1, round(rate * block_seconds)), device=device.index,
                channels=channels, dtype="float32", latency=latency, callback=callback, finished_callback=finished,
            )  # fmt: skip
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            tried.append(f"{rate} Hz/{channels} ch: {exc}")
            continue
        return stream, rate, channels
    raise StreamOpenError(
        f"The microphone “{device.label}” could not be opened ({'; '.join(tried)}). "
        "Choose another device in Settings, or press Refresh."
    )
