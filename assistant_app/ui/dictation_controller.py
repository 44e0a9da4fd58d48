"""Push-to-talk dictation in the main window: owns the DictationSession and its asyncio tasks.

Gestures come from the microphone button and the hold-to-talk key (``HoldKey``); the session's
events (``media/dictation.py``) drive the button, the banner above the message box and the
message box itself (the text goes in at the cursor). Widgets never touch the audio library:
``AudioDevices`` is only used here, off the UI thread when it may block.

The engine (numpy, the recorder, the encoder) is imported in a worker thread after the window is
shown, so dictation costs the start-up nothing; until then the button says it is checking.

Log lines (``assistant_app.ui.dictation_controller``) mark each step; the end-to-end test waits on
"recording started", "microphone delivers audio", "quiet after speech" and "transcription finished".
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from assistant_app.media.audio_devices import AudioDevices, AudioError
from assistant_app.ui.dictation_banner import DictationBanner
from assistant_app.ui.dictation_prefs import HOLD, TOGGLE, DictationPrefs
from assistant_app.ui.dictation_support import DictationSupport, LevelLog, insert_at_cursor
from assistant_app.ui.hold_key import HoldKey, key_text
from assistant_app.ui.main_window import MainWindow
from assistant_app.ui.mic_button import MicButton

if TYPE_CHECKING:
    from assistant_app.api.client import OpenAIClient
    from assistant_app.core.context import AppContext
    from assistant_app.media.dictation import DictationSession, Failed, Finished, HeardNothing, LevelChanged
    from assistant_app.media.recorder import Recorder
    from assistant_app.media.recordings import RecordingStore

log = logging.getLogger(__name__)
IDLE, RECORDING = "idle", "recording"  # DictationSession's states (media/dictation.py)
ENGINE = ("assistant_app.media.dictation", "assistant_app.media.recorder", "assistant_app.media.recordings")
MIN_HOLD_SECONDS = 0.3  # a shorter press is a tap: say how dictation works instead of uploading nothing


class DictationController(QObject):
    stateChanged = Signal(str)  # the session's state: idle | recording | processing | transcribing
    textInserted = Signal(str)  # the final transcript, once it is in the message box
    partialShown = Signal(str)  # the words so far (gpt-4o models)
    messageShown = Signal(str)  # "I heard nothing…", a failure, a pending-recording offer
    availabilityChanged = Signal(bool)  # after each microphone check

    def __init__(self, ctx: AppContext, window: MainWindow, *, devices: AudioDevices | None = None,
                 **session_kw: Any) -> None:  # fmt: skip
        super().__init__(window)
        self.setObjectName("dictationController")  # the Settings dialog finds it by this name
        self.ctx, self.window, self.composer = ctx, window, window.composer
        self.devices = devices or AudioDevices()
        self.prefs = DictationPrefs.from_settings(ctx.settings)
        self._session_kw = session_kw
        self.store: RecordingStore | None = None  # the engine: built by start(), see _build_engine
        self.recorder: Recorder | None = None
        self.session: DictationSession | None = None
        self._handlers: dict[type, Callable[[Any], None]] = {}
        self.available: bool | None = None  # None until the first check
        self.unavailable_reason = ""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._start_task: asyncio.Task[Any] | None = None
        self._work: asyncio.Task[Any] | None = None  # the stop/transcribe or retry in progress
        self._retrying: str | None = None  # the kept recording a retry uploads
        self._closing = False
        self._level_log = LevelLog(log)
        self._pressed_at = 0.0

        self.button = MicButton(self.composer)
        self.banner = DictationBanner(self.composer)
        self.composer.add_beside_send(self.button)
        self.composer.add_above_editor(self.banner)
        self.keys = HoldKey(window, self.prefs.key, self)
        self.support = DictationSupport(self)  # pending recordings, Save/Discard, the Settings page
        self.button.holdStarted.connect(self._gesture_down)
        self.button.holdEnded.connect(self._gesture_up)
        self.keys.pressed.connect(self._gesture_down)
        self.keys.released.connect(self._gesture_up)
        self.keys.escape.connect(self.cancel)
        self.banner.retryRequested.connect(self.retry)
        self.support.set_available(None, "Checking the microphone…")

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """After the window is shown: load the engine and check the microphone (off the UI thread), then
        offer recordings kept from an earlier run."""
        self.spawn(self._boot())

    async def _boot(self) -> None:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in ENGINE])
        self._build_engine()
        self.support.offer_pending()
        await self.check_microphone()

    def _build_engine(self) -> None:
        from assistant_app.media import dictation as d
        from assistant_app.media.recorder import Recorder
        from assistant_app.media.recordings import RecordingStore

        self.store = RecordingStore(self.ctx.paths.recordings)
        self.recorder = Recorder(self.devices, device=self.prefs.device, keep_ready=self.prefs.keep_ready)
        self.session = d.DictationSession(self.recorder, self.store, self._client, on_event=self._on_event,
                                          **self._session_kw)  # fmt: skip
        self._level_log.recorder = self.recorder
        self._handlers = {
            d.LevelChanged: self._on_level, d.StateChanged: lambda e: self._on_state(e.state),
            d.PartialText: self._on_partial, d.Finished: self._on_finished, d.HeardNothing: self._on_nothing,
            d.Failed: self._on_failed,
        }  # fmt: skip

    async def check_microphone(self, *, refresh: bool = False) -> None:
        if self.session is None or self.recorder is None:
            return
        if refresh:
            await self.recorder.close()  # re-initialising PortAudio invalidates open streams

        def probe() -> str | None:
            if refresh:
                try:
                    self.devices.refresh()
                except AudioError as exc:
                    return str(exc)
            return self.devices.unavailable_reason()

        reason = await asyncio.to_thread(probe)
        self.support.set_available(reason is None, reason or "")
        if reason is None:
            log.info("dictation ready (hold %s to talk)", self.prefs.key)
        if reason is None and self.session.state == IDLE:
            await self.session.prepare()  # opens the stream now when "keep the microphone ready" is on

    def apply_settings(self) -> None:
        """Settings were saved: take the new key, mode, device and options."""
        self.support.apply_settings()

    async def aclose(self) -> None:
        """Shutdown: the audio stream first, then this controller's tasks (HTTP is closed by the caller)."""
        self._closing = True
        self.keys.detach()
        if self.session is not None:
            await self.session.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("dictation task failed", exc_info=(type(exc), exc, exc.__traceback__))

    # ---- gestures -----------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self.session.state if self.session is not None else IDLE

    def _gesture_down(self) -> None:
        if self.prefs.mode == TOGGLE and (self.state == RECORDING or self._starting()):
            self.stop()
        else:
            self.begin()

    def _gesture_up(self) -> None:
        if self.prefs.mode == HOLD:
            self.stop()

    def _starting(self) -> bool:
        return self._start_task is not None and not self._start_task.done()

    def begin(self) -> None:
        """Press: start recording (ignored while busy, or when there is no microphone)."""
        if self._closing or self._starting() or self.state != IDLE:
            return
        if not self.available or self.session is None:
            self._show_message(self.unavailable_reason or "Dictation is not available.", error=True)
            return
        self.session.options = self.prefs.options(self.ctx.provider.kind)
        self._level_log.reset()
        self._pressed_at = time.monotonic()
        self._start_task = self.spawn(self._start())

    async def _start(self) -> None:
        assert self.session is not None and self.recorder is not None
        if await self.session.start():
            log.info("dictation: recording started (%s mode, %s)", self.prefs.mode, self.recorder.stats.device)

    def stop(self) -> None:
        """Release: stop and transcribe."""
        if self._starting() or self.state == RECORDING:
            self._work, self._retrying = self.spawn(self._stop()), None

    async def _stop(self) -> None:
        if self._start_task is not None:
            await asyncio.gather(self._start_task, return_exceptions=True)
        if self.state != RECORDING or self.session is None or self.recorder is None:
            return
        elapsed = self.recorder.elapsed
        held = time.monotonic() - self._pressed_at
        if self.prefs.mode == HOLD and max(held, elapsed) < MIN_HOLD_SECONDS:
            await self.session.cancel()
            self._show_message(f"Hold the microphone button (or {key_text(self.prefs.key)}) while you speak, "
                               "and let go when you are done.")  # fmt: skip
            return
        stats = self.recorder.stats
        log.info("dictation: recording stopped after %.1f s (%d input overflows, %d blocks dropped)",
                 elapsed, stats.input_overflows, stats.dropped_blocks)  # fmt: skip
        await self.session.stop()

    def cancel(self) -> None:
        """Esc: drop the recording, or stop waiting for the transcription (the audio stays kept)."""
        self.spawn(self._cancel())

    async def _cancel(self) -> None:
        if self._start_task is not None:
            await asyncio.gather(self._start_task, return_exceptions=True)
        if self.session is None:
            return
        was, work = self.state, self._work
        await self.session.cancel()
        log.info("dictation: cancelled while %s", was)
        if was == RECORDING:
            self.banner.clear()
        elif was != IDLE and work is not None:
            await asyncio.gather(work, return_exceptions=True)  # the session marks the recording as failed
            rid = self._retrying or self.session.last_recording_id
            if rid and self.support.kept(rid):
                self._show_message("Stopped waiting for the transcription. The recording is kept.",
                                   recording_id=rid, retry=True, discard=True)  # fmt: skip

    def retry(self, recording_id: str | None = None) -> None:
        """Transcribe a kept recording again, without speaking again."""
        if self.state != IDLE or self._starting() or self.session is None:
            return
        self.session.options = self.prefs.options(self.ctx.provider.kind)
        self._work, self._retrying = self.spawn(self.session.retry(recording_id)), recording_id

    # ---- session events -----------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def _on_partial(self, event: Any) -> None:
        self.banner.show_partial(event.text)
        self.partialShown.emit(event.text)

    def _on_finished(self, event: Finished) -> None:
        log.info("dictation: transcription finished (%d characters)", len(event.text))
        self._insert(event.text, event.recording_id)

    def _on_nothing(self, event: HeardNothing) -> None:
        log.info("dictation: heard nothing")
        self._show_message(event.message)

    def _on_failed(self, event: Failed) -> None:
        log.warning("dictation: failed (%s): %s", event.kind, event.message)
        rid = event.recording_id if event.recording_id and self.support.kept(event.recording_id) else None
        self._show_message(event.message, error=True, recording_id=rid, retry=event.retryable, discard=True)

    def _on_state(self, state: str) -> None:
        self.keys.active = state != IDLE
        if state == RECORDING:
            hint = "release to transcribe" if self.prefs.mode == HOLD else "press again to stop"
            self.banner.show_recording(f"Recording… {hint}", "Esc cancels")
            self.button.set_state("recording", f"Recording: {hint}. Escape cancels.")
        elif state != IDLE:
            if self.banner.mode() != "transcribing":
                self.banner.show_transcribing()
            self.button.set_state("busy", "Transcribing")
        else:
            if self.banner.mode() in ("recording", "transcribing"):
                self.banner.clear()
            self.button.set_state("idle", "")
        self.stateChanged.emit(state)

    def _on_level(self, event: LevelChanged) -> None:
        self.banner.set_level(event.level.rms_dbfs, event.level.peak_dbfs)
        self.banner.set_elapsed(event.level.elapsed)
        self._level_log.level(event.level)

    def _insert(self, text: str, recording_id: str) -> None:
        editor = self.composer.editor
        cursor = editor.textCursor()
        insert_at_cursor(cursor, text)
        editor.setTextCursor(cursor)
        editor.setFocus()
        self.support.recording_done(recording_id)
        self.textInserted.emit(text)
        if self.prefs.send_immediately and self.composer.send_button.isEnabled():
            self.composer.send_button.click()

    def _show_message(self, text: str, **kw: Any) -> None:
        self.banner.show_message(text, **kw)
        self.messageShown.emit(text)

    # ---- the transcription server --------------------------------------------------------------
    def _client(self) -> OpenAIClient:
        """The active provider's client, or one for the separate transcription server of the settings."""
        if not self.prefs.base_url:
            return self.ctx.client()
        return self.support.separate_client()

    def attach_settings_page(self, page: Any, dialog: Any) -> None:
        """Called by the Settings dialog's Dictation tab (it finds this object by its name)."""
        self.support.attach_settings_page(page, dialog)
