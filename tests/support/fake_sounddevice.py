"""A stand-in for the ``sounddevice`` module, injected into AudioDevices/Recorder by tests.

It has the parts the app uses: ``query_devices``, ``query_hostapis``, ``default.device``,
``check_input_settings``, ``InputStream``, ``PortAudioError``, ``_terminate``/``_initialize``.
A test plays audio through the real callback from a thread of its own, as PortAudio would::

    sd = FakeSoundDevice([FakeDevice("USB Mic", rates={48000}, channels=2)])
    ...
    stream = sd.last_stream
    await asyncio.to_thread(stream.feed, stereo_48k)   # callback runs on a non-loop thread
    await asyncio.to_thread(stream.unplug)              # PortAudio's finished callback, as on a device error
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np


class PortAudioError(Exception):
    pass


class CallbackFlags:
    def __init__(self, input_overflow: bool = False) -> None:
        self.input_overflow = input_overflow

    def __bool__(self) -> bool:
        return self.input_overflow


@dataclass
class FakeDevice:
    name: str
    rates: set[int] = field(default_factory=lambda: {16000, 44100, 48000})  # what check_input_settings accepts
    channels: set[int] = field(default_factory=lambda: {1, 2})
    default_samplerate: float = 48000.0
    hostapi: int = 0
    max_input_channels: int = 2
    refuse_open_at: set[int] = field(default_factory=set)  # rates that pass the check but fail to open (-9997)


class FakeInputStream:
    def __init__(self, owner: FakeSoundDevice, *, samplerate: float, blocksize: int, device: int, channels: int,
                 dtype: str, latency: Any = None, callback: Callable[..., None], finished_callback: Callable[[], None],
                 **_: Any) -> None:  # fmt: skip
        self.owner = owner
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.device = device
        self.channels = channels
        self.dtype = dtype
        self.callback = callback
        self.finished_callback = finished_callback
        self.active = False
        self.closed = False
        self.blocks_fed = 0
        self._finished = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self._finish()

    def abort(self) -> None:
        self._finish()

    def close(self) -> None:
        self._finish()
        self.closed = True

    def _finish(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.active = False
        self.finished_callback()

    def feed(self, signal: np.ndarray, *, overflow_blocks: Iterable[int] = ()) -> int:
        """Run the callback for each block of ``signal`` (frames x channels, or mono), like PortAudio's thread."""
        data = np.asarray(signal, dtype=np.float32)
        if data.ndim == 1:
            data = np.repeat(data[:, None], self.channels, axis=1)
        assert data.shape[1] == self.channels, "the signal must have the stream's channel count"
        flagged = set(overflow_blocks)
        n = 0
        for start in range(0, len(data) - self.blocksize + 1, self.blocksize):
            if not self.active:
                break
            block = np.ascontiguousarray(data[start : start + self.blocksize])
            self.callback(block, len(block), None, CallbackFlags(self.blocks_fed in flagged))
            self.blocks_fed += 1
            n += 1
        return n

    def unplug(self) -> None:
        """The device vanished: PortAudio stops the stream and calls the finished callback."""
        self._finish()


class FakeSoundDevice:
    PortAudioError = PortAudioError
    CallbackFlags = CallbackFlags

    def __init__(self, devices: list[FakeDevice], *, hostapis: tuple[str, ...] = ("ALSA",),
                 default_input: int | None = 0) -> None:  # fmt: skip
        self.devices = list(devices)
        self.hostapis = hostapis
        self.default = SimpleNamespace(device=[default_input if default_input is not None else -1, -1])
        self.streams: list[FakeInputStream] = []
        self.after_refresh: list[FakeDevice] | None = None  # the devices a Refresh will find
        self.initialized = 1

    @property
    def last_stream(self) -> FakeInputStream:
        return self.streams[-1]

    def query_devices(self) -> list[dict[str, Any]]:
        return [
            {"name": d.name, "index": i, "hostapi": d.hostapi, "max_input_channels": d.max_input_channels,
             "max_output_channels": 0, "default_samplerate": d.default_samplerate}
            for i, d in enumerate(self.devices)
        ]  # fmt: skip

    def query_hostapis(self) -> tuple[dict[str, Any], ...]:
        return tuple({"name": name, "devices": []} for name in self.hostapis)

    def _device(self, index: Any) -> FakeDevice:
        if not isinstance(index, int) or not 0 <= index < len(self.devices):
            raise PortAudioError(f"Error querying device {index}")
        return self.devices[index]

    def check_input_settings(self, device: Any = None, channels: int | None = None, dtype: Any = None,
                             samplerate: float | None = None, **_: Any) -> None:  # fmt: skip
        d = self._device(device)
        if channels not in d.channels:
            raise PortAudioError(f"Invalid number of channels [PaErrorCode -9998]: {channels}")
        if int(samplerate or 0) not in d.rates:
            raise PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    def InputStream(self, **kwargs: Any) -> FakeInputStream:
        d = self._device(kwargs.get("device"))
        if int(kwargs["samplerate"]) in d.refuse_open_at:
            raise PortAudioError("Error opening InputStream: Invalid sample rate [PaErrorCode -9997]")
        stream = FakeInputStream(self, **kwargs)
        self.streams.append(stream)
        return stream

    def _terminate(self) -> None:
        self.initialized -= 1

    def _initialize(self) -> None:
        self.initialized += 1
        if self.after_refresh is not None:
            self.devices, self.after_refresh = self.after_refresh, None
