"""Sample-rate conversion for microphone audio (numpy only).

A rational-ratio polyphase resampler: each output sample is a dot product of the nearest input
samples with a Kaiser-windowed sinc low-pass (cut-off just below the lower Nyquist frequency, so
44.1/48 kHz input is anti-aliased before it becomes 16 kHz). The filter bank holds one row per
phase (``out_rate / gcd`` rows), computed once.

It works block by block with exact continuity, so the recorder resamples each callback block as
it arrives and nothing is left to do on release.
"""

from __future__ import annotations

import math

import numpy as np

_MAX_TABLE_PHASES = 4096  # above this (odd rates) weights are computed per block instead of tabulated


class StreamResampler:
    """Convert float32 mono audio from ``in_rate`` to ``out_rate``; feed with ``push``, end with ``flush``."""

    def __init__(
        self, in_rate: float, out_rate: float, *, zero_crossings: int = 16, rolloff: float = 0.92, beta: float = 8.6
    ) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.in_rate = round(in_rate)
        self.out_rate = round(out_rate)
        g = math.gcd(self.in_rate, self.out_rate)
        self.up = self.out_rate // g  # L: output steps per period
        self.down = self.in_rate // g  # M: input steps per period
        self.passthrough = self.up == self.down
        self._cutoff = rolloff * min(1.0, self.out_rate / self.in_rate)  # relative to the input Nyquist
        self.half = math.ceil(zero_crossings / self._cutoff)
        self._beta = beta
        self._offsets = np.arange(-self.half + 1, self.half + 1)
        self._table = self._weights(np.arange(self.up)) if self.up <= _MAX_TABLE_PHASES else None
        self._buf = np.zeros(self.half, dtype=np.float32)  # left zero padding: output 0 is centred on input 0
        self._buf_start = -self.half  # absolute index of _buf[0]
        self._next = 0  # next output index
        self._total_in = 0
        self._flushed = False

    def _weights(self, phases: np.ndarray) -> np.ndarray:
        """Filter rows for the given phases, each normalised to unity gain at DC."""
        frac = phases.astype(np.float64) / self.up
        d = self._offsets[None, :] - frac[:, None]  # distance of each tap from the output instant
        x = np.clip(d / self.half, -1.0, 1.0)
        window = np.i0(self._beta * np.sqrt(1.0 - x * x)) / np.i0(self._beta)
        h = self._cutoff * np.sinc(self._cutoff * d) * window
        h /= h.sum(axis=1, keepdims=True)
        return h.astype(np.float32)

    def _produce(self, last: int) -> np.ndarray:
        """Outputs ``self._next .. last`` (inclusive) from the buffer, then drop input no longer needed."""
        if last < self._next:
            return np.zeros(0, dtype=np.float32)
        n = np.arange(self._next, last + 1, dtype=np.int64)
        pos = n * self.down
        centre = pos // self.up
        phase = pos % self.up
        idx = (centre - self._buf_start)[:, None] + self._offsets[None, :]
        weights = self._table[phase] if self._table is not None else self._weights(phase)
        out = np.einsum("ij,ij->i", self._buf[idx], weights).astype(np.float32)
        self._next = last + 1
        keep_from = (self._next * self.down) // self.up - self.half + 1
        if keep_from > self._buf_start:
            self._buf = self._buf[keep_from - self._buf_start :]
            self._buf_start = keep_from
        return out

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add input samples; returns every output sample that is now final."""
        if self._flushed:
            raise RuntimeError("push() after flush()")
        x = np.asarray(block, dtype=np.float32).reshape(-1)
        self._total_in += len(x)
        if self.passthrough:
            return x.copy()
        self._buf = np.concatenate([self._buf, x]) if len(self._buf) else x.copy()
        last_centre = self._buf_start + len(self._buf) - self.half - 1  # the rightmost tap must be present
        if last_centre < 0:
            return np.zeros(0, dtype=np.float32)
        return self._produce(((last_centre + 1) * self.up - 1) // self.down)

    def flush(self) -> np.ndarray:
        """The remaining output (the input is padded with silence); the resampler is finished afterwards."""
        if self._flushed:
            return np.zeros(0, dtype=np.float32)
        self._flushed = True
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        total_out = -(-self._total_in * self.up // self.down)  # ceil
        self._buf = np.concatenate([self._buf, np.zeros(self.half, dtype=np.float32)])
        return self._produce(total_out - 1)


def resample(samples: np.ndarray, in_rate: int, out_rate: int, *, block: int = 16384) -> np.ndarray:
    """One-shot resampling of a whole signal (float32 mono); fed in blocks to bound memory."""
    r = StreamResampler(in_rate, out_rate)
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    parts = [r.push(x[i : i + block]) for i in range(0, len(x), block)]
    parts.append(r.flush())
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
