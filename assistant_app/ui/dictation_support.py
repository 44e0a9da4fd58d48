"""The quieter parts of dictation, beside ``DictationController``: recordings kept from an earlier
run, Save recording… and Discard, the device list of the Settings page, and the client of a
separate transcription server (e.g. a local Whisper server while chatting with OpenAI).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFileDialog, QWidget

from assistant_app.media.audio_devices import NO_DEVICE_REASON, AudioError
from assistant_app.ui.dictation_prefs import HOLD, DictationPrefs
from assistant_app.ui.hold_key import key_text

if TYPE_CHECKING:
    from assistant_app.api.client import OpenAIClient
    from assistant_app.media.capture import Level
    from assistant_app.media.recorder import Recorder
    from assistant_app.media.recordings import RecordingStore
    from assistant_app.ui.dictation_controller import DictationController
    from assistant_app.ui.dictation_settings import DictationSettingsPage

log = logging.getLogger("assistant_app.ui.dictation_controller")
SPEECH_DBFS, QUIET_DBFS, QUIET_BLOCKS = -35.0, -45.0, 25  # for the log lines only (the trimmer decides)
FLOWING_BLOCKS = 10  # ~0.2 s of steady frames: the stream is past its start-up


def insert_at_cursor(cursor: QTextCursor, text: str) -> None:
    """Insert dictated ``text`` at ``cursor`` (replacing a selection), with a space on each side as needed."""
    doc = cursor.document()
    start, end = cursor.selectionStart(), cursor.selectionEnd()
    before = doc.characterAt(start - 1) if start > 0 else ""
    after = doc.characterAt(end)
    prefix = " " if before and not before.isspace() and before not in "([{\"'“‘" else ""
    suffix = " " if after and not after.isspace() and after not in ".,;:!?)]}\"'”’" else ""
    cursor.insertText(prefix + text.strip() + suffix)


def tooltip(prefs: DictationPrefs, available: bool | None, reason: str) -> str:
    """The microphone button's tooltip: how to use it with the configured key, or why it cannot work."""
    key = key_text(prefs.key)
    if available is None:
        return reason
    if not available:
        return f"Dictation is unavailable. {reason}"
    if prefs.mode == HOLD:
        return f"Dictate: hold this button, or hold {key}, and speak. Release to transcribe; Esc cancels."
    return f"Dictate: click this button (or press {key}) to start, and again to stop. Esc cancels."


class LevelLog:
    """Log lines from the level meter: audio flowing, speech heard, quiet after it (diagnostics; the
    end-to-end test waits on them)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self.recorder: Recorder | None = None
        self.blocks = self.quiet_blocks = 0
        self.in_speech = False

    def reset(self) -> None:
        self.blocks = self.quiet_blocks = 0
        self.in_speech = False

    def level(self, level: Level) -> None:
        self.blocks += 1
        if self.blocks == FLOWING_BLOCKS:
            device = self.recorder.stats.device if self.recorder is not None else "?"
            self.log.info("dictation: microphone delivers audio (%s)", device)
        if level.rms_dbfs > SPEECH_DBFS:
            if not self.in_speech:
                self.log.info("dictation: speech at %.1f s", level.elapsed)
            self.in_speech, self.quiet_blocks = True, 0
        elif self.in_speech and level.rms_dbfs < QUIET_DBFS:
            self.quiet_blocks += 1
            if self.quiet_blocks >= QUIET_BLOCKS:
                self.in_speech = False
                self.log.info("dictation: quiet after speech at %.1f s", level.elapsed)


def _when(created: str) -> str:
    try:
        return dt.datetime.fromisoformat(created).strftime("%d %b, %H:%M")
    except ValueError:
        return created


class DictationSupport(QObject):
    def __init__(self, ctrl: DictationController) -> None:
        super().__init__(ctrl)
        self.ctrl = ctrl
        self.offered: str | None = None  # the kept recording the banner offers
        self._separate: tuple[tuple[Any, ...], OpenAIClient] | None = None
        ctrl.banner.saveRequested.connect(self.save_recording)
        ctrl.banner.discardRequested.connect(self.discard)

    def _store(self) -> RecordingStore:
        assert self.ctrl.store is not None, "the dictation engine is not loaded yet"
        return self.ctrl.store

    # ---- recordings kept from before ---------------------------------------------------------
    def offer_pending(self) -> bool:
        """Offer the newest recording that was never transcribed (a crash, a failure, the app closed)."""
        pending = self._store().pending()
        if not pending:
            self.offered = None
            return False
        rec = pending[-1]
        more = f" {len(pending) - 1} older one(s) are kept too." if len(pending) > 1 else ""
        text = f"A recording from {_when(rec.created)} ({rec.duration:.0f} s) was not transcribed yet.{more}"
        self.offered = rec.id
        self.ctrl._show_message(text, recording_id=rec.id, retry=True, discard=True)
        log.info("dictation: offering %d kept recording(s)", len(pending))
        return True

    def recording_done(self, recording_id: str | None = None) -> None:
        """A transcript arrived: if it was the offered recording, offer the next one."""
        if self.offered is not None and recording_id in (None, self.offered):
            self.offered = None
            self.offer_pending()

    def kept(self, recording_id: str) -> bool:
        """Whether this recording's audio is still on disk (so Retry and Save can work)."""
        if self.ctrl.store is None:
            return False
        try:
            self.ctrl.store.get(recording_id)
        except LookupError:
            return False
        return True

    def ask_path(self, recording_id: str) -> Path | None:
        rec = self._store().get(recording_id)
        suggested = Path.home() / f"dictation-{recording_id}.{rec.extension}"
        path, _ = QFileDialog.getSaveFileName(
            self.ctrl.window, "Save recording", str(suggested), f"Audio (*.{rec.extension})"
        )
        return Path(path) if path else None

    def save_recording(self, recording_id: str) -> list[Path]:
        try:
            path = self.ask_path(recording_id)
            if path is None:
                return []
            saved = self._store().save_as(recording_id, path)
        except (OSError, LookupError) as exc:
            self.ctrl._show_message(f"The recording could not be saved: {exc}", error=True)
            return []
        names = ", ".join(str(p) for p in saved)
        self.ctrl.window.statusBar().showMessage(f"Recording saved to {names}", 10000)
        log.info("dictation: recording saved (%d file(s))", len(saved))
        return saved

    def discard(self, recording_id: str) -> None:
        self._store().delete(recording_id)
        self.ctrl.banner.clear()
        log.info("dictation: kept recording discarded")
        if recording_id == self.offered:
            self.offered = None
            self.offer_pending()

    # ---- availability and settings ------------------------------------------------------------
    def set_available(self, available: bool | None, reason: str) -> None:
        ctrl = self.ctrl
        ctrl.available, ctrl.unavailable_reason = available, reason
        ctrl.button.setEnabled(bool(available))
        self.update_tooltip()
        if available is not None:
            if not available:
                log.info("dictation unavailable: %s", reason)
            ctrl.availabilityChanged.emit(bool(available))

    def update_tooltip(self) -> None:
        ctrl = self.ctrl
        ctrl.button.setToolTip(tooltip(ctrl.prefs, ctrl.available, ctrl.unavailable_reason))

    def apply_settings(self) -> None:
        ctrl = self.ctrl
        old, ctrl.prefs = ctrl.prefs, DictationPrefs.from_settings(ctrl.ctx.settings)
        ctrl.keys.set_sequence(ctrl.prefs.key)
        self.update_tooltip()
        new = ctrl.prefs
        if ctrl.recorder is not None and (old.device, old.keep_ready) != (new.device, new.keep_ready):
            ctrl.recorder.device_key, ctrl.recorder.keep_ready = new.device, new.keep_ready
            if ctrl.state == "idle":
                ctrl.spawn(self._reopen())

    async def _reopen(self) -> None:
        if self.ctrl.recorder is not None:
            await self.ctrl.recorder.close()
            await self.ctrl.check_microphone()

    # ---- the Settings page ---------------------------------------------------------------------
    def attach_settings_page(self, page: DictationSettingsPage, dialog: QWidget) -> None:
        """Fill the page's device list (and Refresh it); take the new settings when the dialog closes."""
        page.refreshRequested.connect(lambda: self.ctrl.spawn(self._list_devices(page, refresh=True)))
        # Deferred: the provider controller stores the saved settings in its own finished() slot.
        dialog.finished.connect(lambda _result: QTimer.singleShot(0, self.ctrl.apply_settings))
        self.ctrl.spawn(self._list_devices(page, refresh=False))

    async def _list_devices(self, page: DictationSettingsPage, *, refresh: bool) -> None:
        ctrl = self.ctrl
        if refresh and ctrl.state != "idle":
            page.set_devices(None, "Finish the dictation in progress, then press Refresh.")
            return
        if refresh and ctrl.recorder is not None:
            await ctrl.recorder.close()  # re-initialising PortAudio invalidates open streams

        def probe() -> list[Any]:
            return ctrl.devices.refresh() if refresh else ctrl.devices.list_inputs()

        try:
            inputs = await asyncio.to_thread(probe)
            error = None if inputs else NO_DEVICE_REASON
        except AudioError as exc:
            inputs, error = [], str(exc)
        if shiboken6.isValid(page):
            page.set_devices([(d.label, d.key.to_json(), d.is_default) for d in inputs], error)
        if refresh:
            await ctrl.check_microphone()

    # ---- a separate transcription server ------------------------------------------------------
    def separate_client(self) -> OpenAIClient:
        """A client for ``prefs.base_url``; it gets the active provider's key only if the user said so."""
        from assistant_app.api.client import OpenAIClient  # httpx: loaded on first use, not at start-up
        from assistant_app.api.endpoint import Endpoint
        from assistant_app.core.providers import endpoint_for

        ctx, prefs = self.ctrl.ctx, self.ctrl.prefs
        key = endpoint_for(ctx.provider, ctx.secrets).api_key if prefs.send_key else None
        http = ctx.http_client()
        ident = (prefs.base_url, key, id(http), ctx.settings.max_retries, ctx.settings.read_timeout)
        if self._separate is None or self._separate[0] != ident:
            endpoint = Endpoint(base_url=prefs.base_url, api_key=key, kind="compatible")
            endpoint.validate()
            client = OpenAIClient(endpoint, http=http, max_retries=ctx.settings.max_retries,
                                  read_timeout=max(ctx.settings.read_timeout, 120.0))  # fmt: skip
            self._separate = (ident, client)
        return self._separate[1]
