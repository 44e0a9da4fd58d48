"""Where the speech is: trim leading/trailing silence and tell an empty recording from speech.

An energy detector on 20 ms frames. The noise floor is the 10th percentile of the frame levels
seen so far; a frame is speech when it is 10 dB above that floor and above an absolute -55 dBFS.
Speech keeps 250 ms before its first frame and a 350 ms hangover after its last one.

``LiveTrimmer`` decides while the user speaks and hands the kept samples on (to the encoder)
as soon as they are known to be kept; at release only the hangover is left to do. Pauses inside
the speech are kept; only the edges are cut. ``trim_silence`` runs the same logic on a whole
signal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FRAME_SECONDS = 0.02
ABS_FLOOR_DBFS = -55.0  # quieter than this is never speech
NOISE_MARGIN_DB = 10.0  # speech stands this far above the noise floor
MIN_SPEECH_SECONDS = 0.12  # less speech than this is a click or a bump, not words
PRE_PAD_SECONDS = 0.25
HANGOVER_SECONDS = 0.35
PAUSE_SECONDS = 0.3  # a gap this long is a good place to split a long recording
WARMUP_FRAMES = 10  # frames seen before the noise floor is trusted

SILENT_MESSAGE = "I heard nothing: check the microphone and its level."

Commit = Callable[[np.ndarray, bool], None]  # (samples, starts_after_a_pause)


@dataclass(frozen=True)
class SpeechResult:
    silent: bool
    start: int  # first kept sample (index into the input)
    end: int  # one past the last kept sample
    rate: int
    speech_seconds: float
    peak_dbfs: float
    noise_floor_dbfs: float
    message: str = ""  # why it counts as silent

    @property
    def kept_seconds(self) -> float:
        return max(0, self.end - self.start) / self.rate


def silent_message(peak: float) -> str:
    if peak > 0.0:
        return SILENT_MESSAGE
    hint = " The microphone delivered pure digital silence: it may be muted"
    if sys.platform == "darwin":
        hint += ", or the app may not be allowed to use it (System Settings → Privacy & Security → Microphone)"
    return SILENT_MESSAGE + hint + "."


def _db(frames: np.ndarray) -> np.ndarray:
    """Level in dBFS of each row (frame)."""
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def _floor(levels: np.ndarray) -> float:
    """The noise floor: the 10th percentile of the frame levels (a partial sort, no interpolation)."""
    k = (len(levels) - 1) // 10
    return float(np.partition(levels, k)[k])


class LiveTrimmer:
    """Feed 16 kHz mono float32 blocks in order with ``push``; ``finish`` returns the verdict."""

    def __init__(
        self,
        rate: int = 16000,
        on_commit: Commit | None = None,
        *,
        pre_pad: float = PRE_PAD_SECONDS,
        hangover: float = HANGOVER_SECONDS,
    ) -> None:
        self.rate = rate
        self.on_commit = on_commit
        self.frame = max(1, round(rate * FRAME_SECONDS))
        self.pre_pad = round(rate * pre_pad)
        self.hangover = round(rate * hangover)
        self.pause = round(rate * PAUSE_SECONDS)
        self.seen = 0  # samples pushed so far
        self.start: int | None = None  # first kept sample, once speech was heard
        self.committed = 0  # end of what was handed to on_commit
        self.last_voiced_end = 0
        self._pending = np.zeros(0, dtype=np.float32)  # samples from _pending_start on, not committed yet
        self._pending_start = 0
        self._levels = np.empty(1024)  # dBFS per frame; the first _n are valid
        self._n = 0
        self._decided = 0  # frames decided so far
        self._floor = -200.0
        self._peak = 0.0
        self._finished: SpeechResult | None = None

    def push(self, samples: np.ndarray) -> None:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._finished is not None:
            raise RuntimeError("push() after finish()")
        if not len(x):
            return
        self._peak = max(self._peak, float(np.max(np.abs(x))))
        self._pending = np.concatenate([self._pending, x]) if len(self._pending) else x
        self.seen += len(x)
        measured = self._n * self.frame
        n_new = (self.seen - measured) // self.frame
        if n_new:
            offset = measured - self._pending_start
            block = self._pending[offset : offset + n_new * self.frame].reshape(n_new, self.frame)
            if self._n + n_new > len(self._levels):
                self._levels = np.resize(self._levels, 2 * (self._n + n_new))
            self._levels[self._n : self._n + n_new] = _db(block)
            self._n += n_new
        if self._n >= WARMUP_FRAMES:
            self._decide(self._n)
        self._drop_unneeded()

    def finish(self) -> SpeechResult:
        """Decide the rest, hand on the kept tail, and say whether there was speech at all."""
        if self._finished is not None:
            return self._finished
        self._decide(self._n)
        levels = self._levels[: self._n] if self._n else np.full(1, -200.0)
        floor = _floor(levels)
        threshold = max(ABS_FLOOR_DBFS, floor + NOISE_MARGIN_DB)
        speech = float(np.count_nonzero(levels > threshold)) * FRAME_SECONDS
        loud = float(levels.max())
        silent = self.start is None or loud < ABS_FLOOR_DBFS or speech < MIN_SPEECH_SECONDS
        start = end = 0
        if not silent:
            assert self.start is not None
            start, end = self.start, min(self.seen, self.last_voiced_end + self.hangover)
            self._commit(end, False)
        peak_db = 20.0 * float(np.log10(self._peak)) if self._peak > 0 else -200.0
        self._finished = SpeechResult(
            silent, start, end, self.rate, speech, peak_db, floor, silent_message(self._peak) if silent else ""
        )
        self._pending = np.zeros(0, dtype=np.float32)
        return self._finished

    def _threshold(self) -> float:
        if self._decided % WARMUP_FRAMES == 0:  # refresh the floor estimate every few frames
            self._floor = _floor(self._levels[: self._n])
        return max(ABS_FLOOR_DBFS, self._floor + NOISE_MARGIN_DB)

    def _decide(self, upto: int) -> None:
        while self._decided < upto:
            f = self._decided
            threshold = self._threshold()
            self._decided += 1
            if self._levels[f] <= threshold:
                continue
            begin, end = f * self.frame, (f + 1) * self.frame
            if self.start is None:
                self.start = self.committed = max(0, begin - self.pre_pad)
                after_pause = True
            else:
                after_pause = begin - self.last_voiced_end >= self.pause
            self._commit(end, after_pause)
            self.last_voiced_end = end

    def _commit(self, end: int, after_pause: bool) -> None:
        if end <= self.committed:
            return
        chunk = self._pending[self.committed - self._pending_start : end - self._pending_start]
        self.committed = end
        if self.on_commit is not None and len(chunk):
            self.on_commit(chunk.copy(), after_pause)

    def _drop_unneeded(self) -> None:
        """Keep only what may still be committed: the pre-pad before speech, or everything after it."""
        keep_from = self.committed if self.start is not None else max(0, self._decided * self.frame - self.pre_pad)
        if keep_from > self._pending_start:
            self._pending = self._pending[keep_from - self._pending_start :]
            self._pending_start = keep_from


def trim_silence(samples: np.ndarray, rate: int = 16000) -> tuple[np.ndarray, SpeechResult]:
    """The speech part of a whole signal (empty when silent) and the verdict."""
    kept: list[np.ndarray] = []
    trimmer = LiveTrimmer(rate, lambda chunk, _pause: kept.append(chunk))
    trimmer.push(samples)
    result = trimmer.finish()
    if result.silent or not kept:
        return np.zeros(0, dtype=np.float32), result
    return np.concatenate(kept), result
