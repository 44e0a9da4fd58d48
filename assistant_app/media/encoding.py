"""Compact audio for upload, encoded while the user speaks, split below the upload limit.

Formats, best first (measured on speech at 16 kHz mono, against 16-bit WAV):
  ogg-vorbis  0.17-0.18x, ~0.25 % of one core while recording (libsndfile via ``soundfile``)
  ogg-opus    0.10-0.11x, but libsndfile's Opus encoder costs ~10x the CPU of Vorbis
  flac        0.57x on clean speech, ~0.7x with a real noise floor: misses the 0.6x target
  wav         1.0x, stdlib ``wave``: the fallback when libsndfile is missing
The transcription API accepts ogg, flac and wav.

``IncrementalEncoder`` runs libsndfile in one worker thread, fed with the samples the speech
trimmer keeps; on release only the last few hundred milliseconds remain to encode. A part is
closed and a new one started before it reaches the upload limit (or the duration limit), at a
pause when possible.
"""

from __future__ import annotations

import asyncio
import io
import wave
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant_app.media.audio_devices import AudioError

MAX_PART_BYTES = 24 * 1024 * 1024  # under the API's 25 MiB, leaving room for the multipart envelope
MAX_PART_SECONDS = 20 * 60  # gpt-4o transcription models also limit the duration of one upload
MAX_PARTS = 6
SOFT_FRACTION = 0.85  # past this share of a limit, split at the next pause


class RecordingTooLongError(AudioError):
    """More audio than MAX_PARTS uploads can carry."""


@dataclass(frozen=True)
class AudioFormat:
    name: str
    container: str  # libsndfile major format
    subtype: str
    extension: str
    mime: str


FORMATS = {
    "ogg-vorbis": AudioFormat("ogg-vorbis", "OGG", "VORBIS", "ogg", "audio/ogg"),
    "ogg-opus": AudioFormat("ogg-opus", "OGG", "OPUS", "ogg", "audio/ogg"),
    "flac": AudioFormat("flac", "FLAC", "PCM_16", "flac", "audio/flac"),
    "wav": AudioFormat("wav", "WAV", "PCM_16", "wav", "audio/wav"),
}
DEFAULT_PREFERENCE = ("ogg-vorbis", "ogg-opus", "flac", "wav")


def _soundfile() -> Any | None:
    try:
        import soundfile
    except (ImportError, OSError):  # not installed, or libsndfile missing
        return None
    return soundfile


def available_formats() -> list[str]:
    sf = _soundfile()
    names = []
    for name, fmt in FORMATS.items():
        if fmt.name == "wav" or (sf is not None and fmt.subtype in sf.available_subtypes(fmt.container)):
            names.append(name)
    return names


def choose_format(preference: tuple[str, ...] | list[str] = DEFAULT_PREFERENCE) -> AudioFormat:
    available = available_formats()
    for name in preference:
        if name in available:
            return FORMATS[name]
    return FORMATS["wav"]


@dataclass(frozen=True)
class EncodedAudio:
    data: bytes
    format: AudioFormat
    duration: float  # seconds of audio in this part

    @property
    def mime(self) -> str:
        return self.format.mime

    def filename(self, stem: str = "dictation") -> str:
        return f"{stem}.{self.format.extension}"


class _PartWriter:
    """One output file in memory: libsndfile, or stdlib wave for WAV."""

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        self.buffer = io.BytesIO()
        self.samples = 0
        sf = _soundfile() if fmt.name != "wav" else None
        if sf is not None:
            self._sf: Any = sf.SoundFile(self.buffer, "w", rate, 1, fmt.subtype, format=fmt.container)
            self._wav: wave.Wave_write | None = None
        else:
            self._sf = None
            self._wav = wave.open(self.buffer, "wb")  # noqa: SIM115 - closed in close()
            self._wav.setnchannels(1)
            self._wav.setsampwidth(2)
            self._wav.setframerate(rate)

    def write(self, samples: np.ndarray) -> None:
        if self._sf is not None:
            self._sf.write(samples)
        else:
            assert self._wav is not None
            self._wav.writeframes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
        self.samples += len(samples)

    def size(self) -> int:
        with self.buffer.getbuffer() as view:
            return view.nbytes

    def close(self) -> bytes:
        if self._sf is not None:
            self._sf.close()
        elif self._wav is not None:
            self._wav.close()
        return self.buffer.getvalue()


class IncrementalEncoder:
    """Encode mono float32 samples in a worker thread; ``finish`` returns the parts."""

    def __init__(
        self,
        rate: int = 16000,
        fmt: AudioFormat | None = None,
        *,
        max_part_bytes: int = MAX_PART_BYTES,
        max_part_seconds: float = MAX_PART_SECONDS,
        max_parts: int = MAX_PARTS,
    ) -> None:
        self.rate = rate
        self.format = fmt or choose_format()
        self.max_part_bytes = max_part_bytes
        self.max_part_seconds = max_part_seconds
        self.max_parts = max_parts
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="audio-encoder")
        self._parts: list[EncodedAudio] = []
        self._writer: _PartWriter | None = None
        self._error: BaseException | None = None
        self._closed = False

    # ---- called from the loop ---------------------------------------------------------------
    def write(self, samples: np.ndarray, after_pause: bool = False) -> None:
        if self._closed:
            raise RuntimeError("write() after finish()")
        self._executor.submit(self._write, np.asarray(samples, dtype=np.float32).reshape(-1), after_pause)

    def finish_future(self) -> Future[list[EncodedAudio]]:
        self._closed = True
        future = self._executor.submit(self._finish)
        self._executor.shutdown(wait=False)
        return future

    async def finish(self) -> list[EncodedAudio]:
        return await asyncio.wrap_future(self.finish_future())

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.submit(self._discard)
        self._executor.shutdown(wait=False)

    # ---- in the worker thread -----------------------------------------------------------------
    def _write(self, samples: np.ndarray, after_pause: bool) -> None:
        if self._error is not None:
            return
        try:
            step = self.rate  # one second at a time, so a part never overshoots its limit by much
            for i in range(0, len(samples), step):
                self._maybe_split(after_pause and i == 0)
                assert self._writer is not None
                self._writer.write(samples[i : i + step])
        except BaseException as exc:  # reported by finish()
            self._error = exc

    def _maybe_split(self, at_pause: bool) -> None:
        w = self._writer
        if w is not None and w.samples:
            seconds, size = w.samples / self.rate, w.size()
            soft = size >= SOFT_FRACTION * self.max_part_bytes or seconds >= SOFT_FRACTION * self.max_part_seconds
            hard = size >= 0.95 * self.max_part_bytes or seconds + 1.0 > self.max_part_seconds
            if hard or (soft and at_pause):
                self._close_part()
                w = None
        if w is None:
            if len(self._parts) >= self.max_parts:
                limit = self.max_parts * self.max_part_seconds / 60
                raise RecordingTooLongError(
                    f"The recording is too long to transcribe: at most about {limit:.0f} minutes "
                    f"({self.max_parts} uploads). Record shorter pieces."
                )
            self._writer = _PartWriter(self.format, self.rate)

    def _close_part(self) -> None:
        w, self._writer = self._writer, None
        if w is not None and w.samples:
            self._parts.append(EncodedAudio(w.close(), self.format, w.samples / self.rate))

    def _finish(self) -> list[EncodedAudio]:
        if self._error is not None:
            self._discard()
            raise self._error
        self._close_part()
        return list(self._parts)

    def _discard(self) -> None:
        w, self._writer = self._writer, None
        if w is not None:
            try:
                w.close()
            except Exception:  # a half-written file is thrown away anyway
                pass
        self._parts = []


def encode(samples: np.ndarray, rate: int = 16000, fmt: AudioFormat | None = None, **limits: Any) -> list[EncodedAudio]:
    """Encode a whole signal (blocking) into one or more parts."""
    encoder = IncrementalEncoder(rate, fmt, **limits)
    encoder.write(samples)
    return encoder.finish_future().result()


def decode_file(data: bytes, rate: int = 16000) -> np.ndarray:
    """Decode an audio file libsndfile reads (wav, flac, ogg, ...) to float32 mono at ``rate``."""
    from assistant_app.media.resample import resample

    sf = _soundfile()
    if sf is None:
        raise AudioError("Reading this audio file needs the soundfile package (libsndfile).")
    try:
        samples, file_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile's error type differs by version
        raise AudioError(f"This audio file cannot be read: {exc}") from None
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return resample(mono, file_rate, rate)
