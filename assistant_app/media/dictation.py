"""Push-to-talk dictation without Qt: record -> trim -> encode -> keep on disk -> transcribe.

The session reports through one callback, ``on_event(event)``, always on the asyncio loop
(the GUI thread under qasync): state changes, the level meter with the elapsed time, partial
text while a gpt-4o transcription streams, the final text, "heard nothing", and failures. On
any failure after the audio was captured, the recording stays on disk and ``retry()``
uploads it again without speaking again.

While the user speaks, the trimmer passes the kept samples to the encoder's worker thread, so
a release leaves only the last few hundred milliseconds to encode before the upload starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from assistant_app.api import errors as E
from assistant_app.api.audio import stream_transcription, supports_streaming, transcribe
from assistant_app.api.client import OpenAIClient
from assistant_app.media.audio_devices import AudioError
from assistant_app.media.capture import DeviceLostError
from assistant_app.media.dictation_events import (
    DictationEvent,
    DictationOptions,
    Failed,
    Finished,
    HeardNothing,
    LevelChanged,
    PartialText,
    StateChanged,
)
from assistant_app.media.encoding import IncrementalEncoder
from assistant_app.media.recorder import Recorder
from assistant_app.media.recordings import RecordingStore, StoredRecording
from assistant_app.media.speech import LiveTrimmer

log = logging.getLogger("assistant_app.dictation")

IDLE, RECORDING, PROCESSING, TRANSCRIBING = "idle", "recording", "processing", "transcribing"
__all__ = [
    "IDLE", "PROCESSING", "RECORDING", "TRANSCRIBING", "DictationEvent", "DictationOptions", "DictationSession",
    "Failed", "Finished", "HeardNothing", "LevelChanged", "PartialText", "StateChanged",
]  # fmt: skip
PROMPT_CONTEXT_CHARS = 200  # the end of the previous part's text, as context for the next part


class DictationSession:
    def __init__(
        self,
        recorder: Recorder,
        store: RecordingStore,
        client: Callable[[], OpenAIClient],
        *,
        options: DictationOptions | None = None,
        on_event: Callable[[DictationEvent], None] | None = None,
        encoder_factory: Callable[[int], IncrementalEncoder] = IncrementalEncoder,
    ) -> None:
        self.recorder = recorder
        self.store = store
        self.client = client
        self.options = options or DictationOptions()
        self.on_event = on_event
        self.encoder_factory = encoder_factory
        self.state = IDLE
        self.last_recording_id: str | None = None
        self._trimmer: LiveTrimmer | None = None
        self._encoder: IncrementalEncoder | None = None
        self._task: asyncio.Task[Any] | None = None
        self._auto_stop: asyncio.Task[Any] | None = None
        recorder.on_level = lambda level: self._emit(LevelChanged(level))
        recorder.on_error = self._on_device_lost

    # ---- public API -----------------------------------------------------------------------------
    async def prepare(self) -> None:
        """Open the microphone ahead of time when it is to be kept ready (errors surface on start)."""
        if self.recorder.keep_ready:
            try:
                await self.recorder.open()
            except AudioError as exc:
                log.info("microphone not ready: %s", exc)

    async def start(self) -> bool:
        """Press: start recording. False (and a Failed event) when the microphone cannot be used."""
        if self.state != IDLE:
            return False
        rate = self.recorder.target_rate
        self._encoder = self.encoder_factory(rate)
        self._trimmer = LiveTrimmer(rate, self._encoder.write)
        self.recorder.on_samples = self._trimmer.push
        self._set_state(RECORDING)
        try:
            await self.recorder.start()
        except AudioError as exc:
            self._drop_pipeline()
            self._set_state(IDLE)
            self._emit(Failed(str(exc), "device"))
            return False
        return True

    async def stop(self) -> str | None:
        """Release: finish the recording and transcribe it. Returns the text (None if there is none)."""
        if self.state != RECORDING:
            return None
        self._task = asyncio.current_task()
        try:
            return await self._finish_recording()
        except asyncio.CancelledError:
            self._drop_pipeline()
            self._set_state(IDLE)
            raise
        finally:
            self._task = None

    async def cancel(self) -> None:
        """Esc: drop the recording in progress, or stop waiting for the transcription (the audio stays kept)."""
        if self.state == RECORDING:
            await self.recorder.cancel()
            self._drop_pipeline()
            self._set_state(IDLE)
        elif self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    async def retry(self, recording_id: str | None = None) -> str | None:
        """Upload a kept recording again (default: the last one, else the newest pending one)."""
        if self.state != IDLE:
            return None
        rid = recording_id
        if rid is None:
            pending = [r.id for r in self.store.pending()]
            if not pending:
                self._emit(Failed("There is no kept recording to transcribe.", "error"))
                return None
            rid = self.last_recording_id if self.last_recording_id in pending else pending[-1]
        try:
            stored = self.store.get(rid)
        except LookupError as exc:
            self._emit(Failed(str(exc), "error"))
            return None
        self._task = asyncio.current_task()
        try:
            return await self._transcribe(stored)
        finally:
            self._task = None

    async def close(self) -> None:
        await self.cancel()
        await self.recorder.close()

    # ---- pipeline -------------------------------------------------------------------------------
    async def _finish_recording(self) -> str | None:
        self._set_state(PROCESSING)
        device_error: DeviceLostError | None = None
        try:
            recording = await self.recorder.stop()
        except DeviceLostError as exc:
            device_error, recording = exc, exc.recording
        except AudioError as exc:
            return self._give_up(Failed(str(exc), "device"))
        finally:
            self.recorder.on_samples = None
        trimmer, encoder = self._trimmer, self._encoder
        assert trimmer is not None and encoder is not None
        if recording is not None:
            trimmer.push(recording.samples[trimmer.seen :])
        verdict = trimmer.finish()
        if verdict.silent:
            if device_error is not None:
                return self._give_up(Failed(str(device_error), "device"))
            self._drop_pipeline()
            self._set_state(IDLE)
            self._emit(HeardNothing(verdict.message))
            return None
        try:
            parts = await encoder.finish()
        except AudioError as exc:
            return self._give_up(Failed(str(exc), "too_long"))
        finally:
            self._trimmer = self._encoder = None
        try:
            stored = self.store.add(parts, duration=verdict.kept_seconds)
        except OSError as exc:
            return self._give_up(Failed(f"The recording could not be saved in {self.store.root}: {exc}", "storage"))
        self.last_recording_id = stored.id
        if device_error is not None:
            message = f"{device_error} The {stored.duration:.1f} s recorded so far are kept: retry to transcribe them."
            self.store.mark_failed(stored.id, message)
            return self._give_up(Failed(message, "device", stored.id, retryable=True))
        return await self._transcribe(stored)

    async def _transcribe(self, stored: StoredRecording) -> str | None:
        self._set_state(TRANSCRIBING)
        opts = self.options
        streaming = supports_streaming(opts.model) if opts.stream is None else opts.stream
        texts: list[str] = []
        try:
            client = self.client()
            for part in self.store.read_parts(stored):
                prompt = " ".join(filter(None, [opts.prompt, " ".join(texts)[-PROMPT_CONTEXT_CHARS:]])) or None
                args = (client, part.data, part.filename, part.mime)
                kw: dict[str, Any] = {"model": opts.model, "language": opts.language, "prompt": prompt}
                if streaming:
                    current = ""
                    async for delta in stream_transcription(*args, **kw):
                        current += delta
                        self._emit(PartialText(" ".join([*texts, current.strip()]).strip()))
                    texts.append(current.strip())
                else:
                    texts.append(await transcribe(*args, **kw))
        except asyncio.CancelledError:
            self.store.mark_failed(stored.id, "Transcription cancelled.")
            self._set_state(IDLE)
            raise
        except E.APIError as exc:
            self.store.mark_failed(stored.id, exc.user_message)
            return self._give_up(Failed(str(exc), exc.kind, stored.id, retryable=True))
        except Exception as exc:  # e.g. the keyring failing while the client is built: keep the audio, say why
            log.warning("transcription of %s failed: %s", stored.id, type(exc).__name__)
            with contextlib.suppress(OSError):
                self.store.mark_failed(stored.id, str(exc))
            return self._give_up(Failed(f"The recording could not be transcribed: {exc}", "error", stored.id, True))
        text = " ".join(t for t in texts if t)
        self.store.mark_transcribed(stored.id, text)
        self._set_state(IDLE)
        if not text:
            self._emit(HeardNothing("The server heard no words in the recording."))
            return None
        self._emit(Finished(text, stored.id))
        return text

    # ---- helpers --------------------------------------------------------------------------------
    def _on_device_lost(self, error: Exception) -> None:
        """The microphone failed mid-recording: finish now with what was captured, without waiting for release."""
        if self.state == RECORDING and self._auto_stop is None:
            self._auto_stop = asyncio.get_running_loop().create_task(self._stop_after_loss())

    async def _stop_after_loss(self) -> None:
        try:
            await self.stop()
        finally:
            self._auto_stop = None

    def _give_up(self, event: Failed) -> None:
        self._drop_pipeline()
        self._set_state(IDLE)
        self._emit(event)
        return None

    def _drop_pipeline(self) -> None:
        if self._encoder is not None:
            self._encoder.abort()
        self._trimmer = self._encoder = None
        self.recorder.on_samples = None

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._emit(StateChanged(state))

    def _emit(self, event: DictationEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a listener bug must not break the recording
            log.exception("dictation listener failed on %s", type(event).__name__)
