"""Microphone capture: a PortAudio input stream drained by the asyncio loop.

The PortAudio callback (capture.py) only copies and hands over with ``call_soon_threadsafe``. On
the loop, blocks go into a bounded queue (a full queue drops the block and counts it); a drain task
mixes down to mono, resamples to 16 kHz block by block, keeps the blocks in a list, and reports the
level and the elapsed time.

"Keep the microphone ready" leaves the stream open between recordings and keeps the last
~300 ms in a ring, so a press starts capturing at once and the first syllable is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from assistant_app.media.audio_devices import AudioDevices, DeviceKey, InputDevice
from assistant_app.media.capture import (
    STREAM_END,
    CaptureStats,
    DeviceLostError,
    Level,
    RecorderError,
    Recording,
    SampleRing,
    StreamOpenError,
    dbfs,
    open_input_stream,
)
from assistant_app.media.resample import StreamResampler

__all__ = ["CaptureStats", "DeviceLostError", "Level", "Recorder", "RecorderError", "Recording", "StreamOpenError"]

TARGET_RATE = 16000
_MARK = object()  # stop(): everything queued before this belongs to the recording


class Recorder:
    def __init__(
        self,
        devices: AudioDevices,
        *,
        device: DeviceKey | None = None,
        target_rate: int = TARGET_RATE,
        keep_ready: bool = False,
        preroll_seconds: float = 0.3,
        block_seconds: float = 0.02,
        max_queue_blocks: int = 256,
        first_block_timeout: float = 10.0,
        stall_timeout: float = 3.0,
        latency: str | float | None = None,
        on_level: Callable[[Level], None] | None = None,
        on_error: Callable[[RecorderError], None] | None = None,
        on_samples: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.devices, self.device_key, self.target_rate = devices, device, target_rate
        self.keep_ready, self.preroll_seconds, self.block_seconds = keep_ready, preroll_seconds, block_seconds
        self.max_queue_blocks, self.latency = max_queue_blocks, latency
        self.first_block_timeout, self.stall_timeout = first_block_timeout, stall_timeout
        self.on_level, self.on_error, self.on_samples = on_level, on_error, on_samples  # called on the loop
        self.stats = CaptureStats()
        self.device: InputDevice | None = None
        self._stream: Any = None
        self._queue: asyncio.Queue[Any] | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._capturing = False
        self._stop_future: asyncio.Future[Recording] | None = None
        self._failure: DeviceLostError | None = None
        self._preroll = SampleRing(0)
        self._chunks: list[np.ndarray] = []
        self._resampler: StreamResampler | None = None
        self._captured_in = self._preroll_in = 0
        self._before_press = False
        self._pressed_at = 0.0

    # ---- public API ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._stream is not None and self._drain_task is not None and not self._drain_task.done()

    @property
    def capturing(self) -> bool:
        return self._capturing

    @property
    def elapsed(self) -> float:
        rate = self.stats.stream_rate
        return (self._captured_in - self._preroll_in) / rate if self._capturing and rate else 0.0

    async def open(self) -> None:
        """Open the stream (idle, filling the pre-roll ring); start() opens it when needed."""
        if self.is_open:
            return
        await self._wait_closed()
        loop = asyncio.get_running_loop()
        device = self.devices.resolve(self.device_key)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stream, rate, channels = await loop.run_in_executor(
            None,
            functools.partial(
                open_input_stream, self.devices, device, loop, queue, self._enqueue,
                target_rate=self.target_rate, block_seconds=self.block_seconds, latency=self.latency,
            ),
        )  # fmt: skip
        self.device, self._stream, self._queue = device, stream, queue
        self.stats = CaptureStats(device=device.label, stream_rate=rate, channels=channels)
        self._preroll = SampleRing(round(self.preroll_seconds * rate))
        self._drain_task = loop.create_task(self._drain(queue, stream), name="recorder-drain")

    async def start(self) -> None:
        """Begin a recording (press). With the microphone ready, the pre-roll becomes its first samples."""
        if self._capturing:
            return
        self._pressed_at = time.perf_counter()
        self._begin()
        if not self.is_open:
            try:
                await self.open()
            except BaseException:
                self._capturing = False
                raise

    async def stop(self) -> Recording:
        """Release: the recording. ``DeviceLostError`` (with the audio so far) if the device failed."""
        await asyncio.sleep(0)  # blocks PortAudio handed over before the release reach the queue first
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        if not self._capturing or self._queue is None:
            raise RecorderError("Not recording.")
        self._stop_future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_MARK)
        try:
            return await self._stop_future
        finally:
            self._stop_future = None
            if not self.keep_ready:
                self._close_in_background()

    async def cancel(self) -> None:
        """Discard the recording in progress."""
        self._capturing = False
        self._chunks, self._failure = [], None
        if not self.keep_ready:
            self._close_in_background()

    async def close(self) -> None:
        """Close the stream and wait for the drain task to end."""
        self._capturing = False
        self._close_in_background()
        await self._wait_closed()

    # ---- the PortAudio side ---------------------------------------------------------------------
    def _enqueue(self, queue: asyncio.Queue[Any], block: np.ndarray, status: Any) -> None:
        """On the loop: the bounded queue. A full queue drops the block (counted while recording)."""
        if self._capturing and getattr(status, "input_overflow", False):
            self.stats.input_overflows += 1
        if queue.qsize() >= self.max_queue_blocks:
            self.stats.dropped_blocks += self._capturing
            return
        queue.put_nowait((block, time.perf_counter()))

    # ---- the loop side ------------------------------------------------------------------------
    async def _drain(self, queue: asyncio.Queue[Any], stream: Any) -> None:
        got_any = False
        try:
            while True:
                timeout = self.stall_timeout if got_any else self.first_block_timeout
                try:
                    item = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    if self._capturing:
                        self._fail(f"The microphone “{self.stats.device}” stopped sending sound (nothing for "
                                   f"{timeout:g} s). Is it unplugged or used by another app?")  # fmt: skip
                        break
                    continue
                if item is STREAM_END:
                    if self._stream is stream and self._capturing:
                        self._fail(f"The microphone “{self.stats.device}” was disconnected or its stream failed.")
                    break
                if item is _MARK:
                    self._finish()
                    continue
                got_any = True
                block, arrived = item
                mono = block.mean(axis=1) if block.ndim == 2 and block.shape[1] > 1 else block.reshape(-1)
                self._process(mono.astype(np.float32, copy=False), arrived)
        finally:
            if self._stop_future is not None and not self._stop_future.done():
                self._fail(f"The microphone “{self.stats.device}” stream ended while recording.")
            if self._stream is stream:
                self._stream = None
                self._close_in_background(stream)

    def _begin(self) -> None:
        self._capturing = True
        self._failure, self._resampler = None, None
        self._chunks = []
        self._captured_in = self._preroll_in = 0
        self._before_press = True  # blocks that arrived before the press still belong to the pre-roll
        self.stats = CaptureStats(self.stats.device, self.stats.stream_rate, self.stats.channels)

    def _end_preroll(self) -> None:
        """At the first block after the press, the pre-roll ring becomes the start of the recording."""
        self._before_press = False
        self._resampler = StreamResampler(self.stats.stream_rate or self.target_rate, self.target_rate)
        for block in self._preroll.take():
            self._keep(block)
        self._preroll_in = self._captured_in

    def _keep(self, mono: np.ndarray) -> None:
        assert self._resampler is not None
        out = self._resampler.push(mono)
        if len(out):
            self._chunks.append(out)
            if self.on_samples is not None:
                self.on_samples(out)
        self._captured_in += len(mono)

    def _process(self, mono: np.ndarray, arrived: float) -> None:
        if not self._capturing or (self._before_press and arrived < self._pressed_at):
            if self.keep_ready:
                self._preroll.push(mono)
            return
        if self._before_press:
            self._end_preroll()
        if self.stats.press_to_first_block is None and arrived >= self._pressed_at:
            self.stats.press_to_first_block = arrived - self._pressed_at
        self.stats.blocks += 1
        self._keep(mono)
        if self.on_level is not None and len(mono):
            rms = float(np.sqrt(np.mean(np.square(mono, dtype=np.float64))))
            self.on_level(Level(dbfs(rms), dbfs(float(np.max(np.abs(mono)))), self.elapsed))

    def _recording(self) -> Recording:
        if self._before_press:
            self._end_preroll()
        chunks = self._chunks
        if self._resampler is not None:
            chunks = [*chunks, self._resampler.flush()]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        rate = self.stats.stream_rate or self.target_rate
        self._chunks, self._resampler = [], None
        return Recording(samples, self.target_rate, self._preroll_in / rate, dataclasses.replace(self.stats))

    def _finish(self) -> None:
        if self._stop_future is not None and not self._stop_future.done():
            self._stop_future.set_result(self._recording())
        self._capturing = False

    def _fail(self, message: str) -> None:
        err = DeviceLostError(message, self._recording() if self._capturing else None)
        self._capturing = False
        if self._stop_future is not None and not self._stop_future.done():
            self._stop_future.set_exception(err)
        else:
            self._failure = err  # raised by the next stop()
        if self.on_error is not None:
            self.on_error(err)

    def _close_in_background(self, stream: Any = None) -> None:
        if stream is None:
            stream = self._stream
        if stream is None:
            return
        queue = self._queue
        if stream is self._stream:
            self._stream = None
        previous = self._closing

        async def close() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(None, stream.close)
            if queue is not None:
                queue.put_nowait(STREAM_END)  # in case the host API did not call finished_callback

        self._closing = asyncio.get_running_loop().create_task(close(), name="recorder-close")

    async def _wait_closed(self) -> None:
        if self._closing is not None:
            await asyncio.gather(self._closing, return_exceptions=True)
            self._closing = None
        task = self._drain_task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 5.0)
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
