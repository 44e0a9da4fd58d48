"""Dictation in the real main window: a fake sounddevice plays real speech (espeak-ng) into the real
Recorder/DictationSession, and the loopback server answers /audio/transcriptions."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from assistant_app.media.audio_devices import AudioDevices
from assistant_app.media.dictation import IDLE, RECORDING
from assistant_app.media.encoding import encode
from assistant_app.media.recordings import RecordingStore
from assistant_app.ui.dictation_banner import clock
from assistant_app.ui.dictation_controller import DictationController
from assistant_app.ui.dictation_prefs import TOGGLE, DictationPrefs
from tests.support import schema
from tests.support.audio_fixtures import no_portaudio  # noqa: F401 - fixture
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.support.speech_audio import PHRASE, espeak_speech, syllables
from tests.ui.conftest import App, button

SR = 16000
PATH = "/audio/transcriptions"


def speech() -> np.ndarray:
    """The phrase spoken by espeak-ng (speech-like bursts when espeak-ng is not installed)."""
    spoken = espeak_speech(PHRASE)
    return spoken if spoken is not None else syllables(1.7)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), np.float32)


@dataclass
class Rig:
    app: App
    ctrl: DictationController
    sd: FakeSoundDevice

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return self.app.run(coro, timeout)

    async def recording(self) -> None:
        await self.app.until(lambda: self.ctrl.state == RECORDING and self.ctrl.recorder.is_open, what="recording")

    async def speak(self, signal: np.ndarray) -> None:
        """Play 16 kHz mono through the 48 kHz stereo fake microphone, from PortAudio's side (a thread),
        and wait until the recorder has taken it all (the fake plays much faster than real time)."""
        stereo = np.repeat(np.repeat(signal, 3)[:, None], 2, axis=1)
        before = self.ctrl.recorder.elapsed
        await asyncio.to_thread(self.sd.last_stream.feed, stereo)
        fed = before + len(signal) / SR
        await self.app.until(lambda: self.ctrl.recorder.elapsed >= fed - 0.03, what="the recorder to catch up")

    def expect(self, signal: Any) -> asyncio.Future:
        """A future for the next emission of ``signal`` (its first argument)."""
        fut: asyncio.Future = self.app.loop.create_future()

        def done(*args: Any) -> None:
            if not fut.done():
                fut.set_result(args[0] if args else None)

        signal.connect(done)
        fut.add_done_callback(lambda _f: signal.disconnect(done))
        return fut

    def uploads(self, server: FakeOpenAI | None = None) -> list:
        return [r for r in (server or self.app.server).requests if r.path.endswith(PATH)]

    async def focus_editor(self) -> None:
        editor = self.app.window.composer.editor
        self.app.window.activateWindow()
        editor.setFocus()
        await self.app.until(lambda: QApplication.focusWidget() is editor, what="the message box to have focus")


@pytest.fixture
def dictation(make_app) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(*, devices: AudioDevices | None = None, prefs: DictationPrefs | None = None,
             before: Callable[[App], None] | None = None, **app_kw: Any) -> Rig:  # fmt: skip
        app = make_app(**app_kw)
        app.ctx.settings.max_retries = 0
        if prefs is not None:
            prefs.store(app.ctx.settings)
        if before is not None:
            before(app)
        sd = FakeSoundDevice([FakeDevice("Test Mic", rates={48000}, channels={2})])
        ctrl = DictationController(app.ctx, app.window, devices=devices or AudioDevices(sd))
        ctrl.start()
        rig = Rig(app, ctrl, sd)
        made.append(rig)
        rig.run(app.until(lambda: ctrl.available is not None, what="the microphone check"))
        return rig

    yield make
    for rig in made:
        rig.run(rig.ctrl.aclose())


def place_cursor(rig: Rig, text: str, position: int) -> None:
    editor = rig.app.window.composer.editor
    editor.setPlainText(text)
    cursor = editor.textCursor()
    cursor.setPosition(position)
    editor.setTextCursor(cursor)


def test_hold_the_button_speak_release_inserts_the_text_at_the_cursor(dictation, qtbot) -> None:
    rig = dictation()
    app, ctrl = rig.app, rig.ctrl
    app.server.validate_requests = True
    app.server.transcription_text = "hello world"
    place_cursor(rig, "Please fix this", len("Please fix"))
    mic = button(app.window, "Dictate")
    assert mic.objectName() == "micButton" and mic.isEnabled()
    assert "hold" in mic.toolTip().lower() and "F9" in mic.toolTip()
    meter = ctrl.banner.meter

    async def flow() -> str:
        qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        assert ctrl.banner.mode() == "recording"
        assert "Recording… release to transcribe" in ctrl.banner.title.text()
        assert mic.property("state") == "recording" and "release to transcribe" in mic.accessibleDescription()
        assert ctrl.banner.accessibleName().startswith("Dictation: Recording")
        quiet_image = meter.grab().toImage()
        spoken = speech()
        await rig.speak(np.concatenate([silence(0.4), spoken[: len(spoken) // 2]]))
        await app.until(lambda: meter.peak() > 0.5 and meter.level() > 0.2, what="the meter to show speech")
        assert meter.grab().toImage() != quiet_image, "the meter paints the level"
        await rig.speak(np.concatenate([spoken[len(spoken) // 2 :], silence(0.6)]))
        await app.until(lambda: ctrl.banner.elapsed.text() == clock(ctrl.recorder.elapsed), what="the clock")
        assert float(ctrl.banner.elapsed.text().split()[0]) >= 2.5, "0.4 s + the phrase + 0.6 s were heard"
        inserted = rig.expect(ctrl.textInserted)
        qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
        return await inserted

    assert rig.run(flow()) == "hello world"
    editor = app.window.composer.editor
    assert editor.toPlainText() == "Please fix hello world this"
    assert editor.textCursor().position() == len("Please fix hello world"), "the cursor follows the words"
    (upload,) = rig.uploads()
    schema.validate_recorded(upload)
    assert upload.form["model"] == "gpt-4o-mini-transcribe"  # automatic on OpenAI: the streaming model
    assert upload.form.get("stream") == "true"
    assert upload.headers.get("authorization") == "Bearer sk-ui-test-key-000"
    assert ctrl.banner.isHidden() and mic.property("state") == "idle" and ctrl.state == IDLE
    assert ctrl.store.all() == [], "a transcribed recording is not kept"


def test_toggle_mode_with_whisper_and_send_immediately(dictation, qtbot) -> None:
    prefs = DictationPrefs(mode=TOGGLE, model="whisper-1", language="en", prompt="PySide", send_immediately=True)
    rig = dictation(prefs=prefs)
    app, ctrl = rig.app, rig.ctrl
    app.server.transcription_text = "Toggle mode works."
    mic = button(app.window, "Dictate")
    assert "again to stop" in mic.toolTip()

    async def flow() -> None:
        qtbot.mouseClick(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        assert "press again to stop" in ctrl.banner.title.text()
        await rig.speak(np.concatenate([silence(0.3), speech(), silence(0.5)]))
        assert ctrl.state == RECORDING, "releasing the button does not stop a toggle recording"
        inserted = rig.expect(ctrl.textInserted)
        sent = rig.expect(app.chat.replyFinished)
        qtbot.mouseClick(mic, Qt.MouseButton.LeftButton)
        assert await inserted == "Toggle mode works."
        await sent

    rig.run(flow())
    (upload,) = rig.uploads()
    schema.validate_recorded(upload)
    assert upload.form == {"model": "whisper-1", "language": "en", "prompt": "PySide"}
    cid = app.chat.conversation_id
    assert cid is not None
    users = [m.content for m in app.ctx.store.messages(cid) if m.role == "user"]
    assert users == ["Toggle mode works."], "send immediately sent the dictated text"
    assert app.window.composer.text() == ""


def test_escape_cancels_and_uploads_nothing(dictation, qtbot) -> None:
    rig = dictation()
    app, ctrl = rig.app, rig.ctrl
    mic = button(app.window, "Dictate")
    editor = app.window.composer.editor

    async def flow() -> None:
        await rig.focus_editor()
        qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        await rig.speak(np.concatenate([silence(0.3), speech()]))
        qtbot.keyPress(editor, Qt.Key.Key_Escape)
        await app.until(lambda: ctrl.state == IDLE, what="the recording to be dropped")
        qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
        await asyncio.sleep(0)  # let a (wrong) stop task run, if the release started one

    rig.run(flow())
    assert ctrl.banner.isHidden() and rig.uploads() == [] and ctrl.store.all() == []
    assert editor.toPlainText() == "" and mic.property("state") == "idle"
    assert rig.sd.last_stream.closed, "the microphone is released"


def test_escape_while_transcribing_keeps_the_recording_for_retry(dictation, qtbot) -> None:
    rig = dictation(prefs=DictationPrefs(model="whisper-1"))
    app, ctrl = rig.app, rig.ctrl
    app.server.transcription_text = "Worth the wait."
    app.server.response_delay = 30.0  # the first upload hangs until Esc
    mic = button(app.window, "Dictate")
    editor = app.window.composer.editor

    async def flow() -> str:
        await rig.focus_editor()
        qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        await rig.speak(np.concatenate([silence(0.3), speech(), silence(0.5)]))
        qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
        await app.until(lambda: rig.uploads(), what="the upload")
        assert ctrl.banner.mode() == "transcribing" and "Esc" in ctrl.banner.hint.text()
        message = rig.expect(ctrl.messageShown)
        qtbot.keyPress(editor, Qt.Key.Key_Escape)
        assert "recording is kept" in await message
        assert ctrl.banner.retry_button.isVisible() and ctrl.state == IDLE
        app.server.response_delay = 0.0
        inserted = rig.expect(ctrl.textInserted)
        ctrl.banner.retry_button.click()
        return await inserted

    assert rig.run(flow()) == "Worth the wait."
    assert len(rig.uploads()) == 2 and ctrl.store.all() == []
    assert not app.chat.is_busy(), "Esc stopped the dictation, not the chat"


def test_silence_says_it_heard_nothing(dictation, qtbot) -> None:
    rig = dictation()
    app, ctrl = rig.app, rig.ctrl
    mic = button(app.window, "Dictate")

    async def flow() -> str:
        qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        await rig.speak(silence(1.5))
        message = rig.expect(ctrl.messageShown)
        qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
        return await message

    text = rig.run(flow())
    assert text.startswith("I heard nothing")
    assert ctrl.banner.isVisible() and ctrl.banner.title.text() == text and ctrl.banner.mode() == "info"
    assert not ctrl.banner.retry_button.isVisible()
    assert rig.uploads() == [] and ctrl.store.all() == []


def test_server_error_then_retry_transcription_without_speaking_again(dictation, qtbot, tmp_path) -> None:
    rig = dictation(prefs=DictationPrefs(model="whisper-1"))
    app, ctrl = rig.app, rig.ctrl
    app.server.transcription_text = "Second time lucky."
    app.server.enqueue_fault(Fault.server_error().only_for(PATH))
    mic = button(app.window, "Dictate")

    async def record() -> str:
        qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        await rig.speak(np.concatenate([silence(0.3), speech(), silence(0.5)]))
        message = rig.expect(ctrl.messageShown)
        qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
        return await message

    error = rig.run(record())
    assert "server" in error.lower()
    banner = ctrl.banner
    assert banner.mode() == "error" and banner.retry_button.isVisible() and banner.save_button.isVisible()
    (kept,) = ctrl.store.pending()

    ctrl.support.ask_path = lambda _rid: tmp_path / "my dictation.wav"  # the file dialog's answer
    banner.save_button.click()
    saved = tmp_path / f"my dictation.{kept.extension}"
    assert saved.read_bytes() == (ctrl.store.root / kept.parts[0]).read_bytes()

    async def retry() -> str:
        inserted = rig.expect(ctrl.textInserted)
        banner.retry_button.click()
        return await inserted

    assert rig.run(retry()) == "Second time lucky."
    first, second = rig.uploads()
    assert first.files["file"][2] == second.files["file"][2], "the same audio was sent again"
    schema.validate_recorded(second)
    assert ctrl.store.all() == [] and app.window.composer.text() == "Second time lucky."


def test_without_portaudio_the_button_explains_and_chat_still_works(dictation, no_portaudio) -> None:  # noqa: F811
    rig = dictation(devices=AudioDevices())
    app, ctrl = rig.app, rig.ctrl
    mic = app.window.findChild(type(ctrl.button), "micButton")
    assert mic is not None and not mic.isEnabled()
    assert "PortAudio" in mic.toolTip() and "libportaudio2" in mic.toolTip()
    assert ctrl.available is False

    async def chat() -> tuple[int, str]:
        done = rig.expect(app.chat.replyFinished)
        app.window.composer.set_text("Still there?")
        app.window.composer.send_button.click()
        await done
        return await app.until(lambda: app.chat.is_busy() is False and (1, "ok"))

    rig.run(chat())
    assert [m.content for m in app.ctx.store.messages(app.chat.conversation_id) if m.role == "user"] == ["Still there?"]


def test_without_an_input_device_the_button_says_so(dictation) -> None:
    rig = dictation(devices=AudioDevices(FakeSoundDevice([], default_input=None)))
    mic = rig.ctrl.button
    assert not mic.isEnabled() and "No microphone found" in mic.toolTip() and "Refresh" in mic.toolTip()


def test_hold_key_ignores_auto_repeat(dictation, qtbot) -> None:
    rig = dictation()
    app, ctrl = rig.app, rig.ctrl
    app.server.transcription_text = "By keyboard."
    editor = app.window.composer.editor
    states: list[str] = []
    ctrl.stateChanged.connect(states.append)

    def auto_repeat(kind: QEvent.Type, *, marked: bool) -> None:
        event = QKeyEvent(kind, Qt.Key.Key_F9, Qt.KeyboardModifier.NoModifier, "", marked)
        QApplication.sendEvent(editor, event)

    async def flow() -> str:
        await rig.focus_editor()
        qtbot.keyPress(editor, Qt.Key.Key_F9)
        await rig.recording()
        await rig.speak(np.concatenate([silence(0.3), speech()]))
        for marked in (True, False) * 3:
            # Holding the key: X11 sends release/press pairs, marked as auto-repeat, or (Xvfb) not marked.
            auto_repeat(QEvent.Type.KeyRelease, marked=marked)
            auto_repeat(QEvent.Type.KeyPress, marked=marked)
        await rig.speak(silence(0.5))
        assert ctrl.state == RECORDING and len(rig.sd.streams) == 1
        inserted = rig.expect(ctrl.textInserted)
        qtbot.keyRelease(editor, Qt.Key.Key_F9)
        return await inserted

    assert rig.run(flow()) == "By keyboard."
    assert states.count(RECORDING) == 1 and len(rig.uploads()) == 1
    assert editor.toPlainText() == "By keyboard."


def test_streamed_transcript_shows_words_as_they_arrive(dictation, qtbot) -> None:
    rig = dictation(prefs=DictationPrefs(model="gpt-4o-transcribe"), tokens_per_second=40)
    app, ctrl = rig.app, rig.ctrl
    text = "Streaming words appear in the preview line one by one before the final text is inserted."
    app.server.transcription_text = text
    mic = button(app.window, "Dictate")
    partials: list[str] = []
    previews: list[bool] = []

    def on_partial(words: str) -> None:
        partials.append(words)
        previews.append(ctrl.banner.preview.isVisible() and ctrl.banner.preview.text() == words)

    ctrl.partialShown.connect(on_partial)

    async def flow() -> str:
        qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
        await rig.recording()
        await rig.speak(np.concatenate([silence(0.3), speech(), silence(0.5)]))
        inserted = rig.expect(ctrl.textInserted)
        qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
        await app.until(lambda: ctrl.banner.mode() == "transcribing", what="Transcribing…")
        assert ctrl.banner.title.text() == "Transcribing…"
        return await inserted

    assert rig.run(flow()) == text
    assert len(partials) > 5 and all(previews)
    assert all(b.startswith(a) for a, b in itertools.pairwise(partials)), "partials only grow"
    assert partials[-1] == text and app.window.composer.text() == text


def test_recordings_kept_from_a_previous_run_are_offered_for_retry(dictation) -> None:
    def keep_two(app: App) -> None:
        store = RecordingStore(app.ctx.paths.recordings)
        for _ in range(2):
            rec = store.add(encode(np.concatenate([silence(0.2), speech(), silence(0.3)])))
            store.mark_failed(rec.id, "The app was closed.")

    rig = dictation(before=keep_two, prefs=DictationPrefs(model="whisper-1"))
    app, ctrl = rig.app, rig.ctrl
    app.server.transcription_text = "Recovered words."
    banner = ctrl.banner
    older, newer = (r.id for r in ctrl.store.pending())
    assert banner.isVisible() and "was not transcribed yet" in banner.title.text()
    assert "1 older one(s) are kept too" in banner.title.text() and banner.recording_id == newer
    banner.discard_button.click()
    assert [r.id for r in ctrl.store.all()] == [older]
    assert banner.isVisible() and banner.recording_id == older and "older" not in banner.title.text()
    assert banner.retry_button.isVisible() and banner.discard_button.isVisible()

    async def retry() -> str:
        inserted = rig.expect(ctrl.textInserted)
        banner.retry_button.click()
        return await inserted

    assert rig.run(retry()) == "Recovered words."
    assert ctrl.store.all() == [] and len(rig.uploads()) == 1 and banner.isHidden()


def test_separate_transcription_server_gets_no_key(dictation, qtbot) -> None:
    with FakeOpenAI() as local_whisper:
        local_whisper.transcription_text = "From the local server."
        rig = dictation(prefs=DictationPrefs(base_url=local_whisper.base_url))
        app, ctrl = rig.app, rig.ctrl
        mic = button(app.window, "Dictate")

        async def flow() -> str:
            qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
            await rig.recording()
            await rig.speak(np.concatenate([silence(0.3), speech(), silence(0.5)]))
            inserted = rig.expect(ctrl.textInserted)
            qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
            return await inserted

        assert rig.run(flow()) == "From the local server."
        (upload,) = rig.uploads(local_whisper)
        assert upload.form["model"] == "whisper-1"  # automatic on another server
        assert "authorization" not in upload.headers
        assert rig.uploads() == [], "nothing went to the chat provider"


def test_settings_tab_lists_refreshes_and_saves(dictation, qtbot) -> None:
    from assistant_app.ui.settings_dialog import SettingsDialog

    rig = dictation()
    app, ctrl = rig.app, rig.ctrl
    app.window.settingsRequested.emit()
    dialog = app.window.findChild(SettingsDialog)
    assert dialog is not None
    page = dialog.dictation_page
    combo = page.device_combo
    rig.run(app.until(lambda: combo.count() == 2, what="the device list"))
    assert [combo.itemText(i) for i in range(2)] == ["System default (Test Mic (ALSA))", "Test Mic (ALSA)"]

    rig.sd.after_refresh = [FakeDevice("USB Headset", rates={16000}, channels={1})]
    page.refresh_button.click()
    rig.run(app.until(lambda: combo.findText("USB Headset (ALSA)") >= 0, what="the refreshed list"))
    combo.setCurrentIndex(combo.findText("USB Headset (ALSA)"))
    page.toggle_radio.setChecked(True)
    page.key_edit.setKeySequence("A")
    dialog.accept()
    assert dialog.isVisible() and "types a character" in page.problem_label.text()
    page.key_edit.setKeySequence("F8")
    page.base_url_edit.setText("http://127.0.0.1:9/v1")
    with qtbot.waitSignal(dialog.finished):
        dialog.accept()
    rig.run(app.until(lambda: ctrl.prefs.key == "F8", what="the controller to take the new settings"))
    saved = app.ctx.settings.extra["dictation"]
    assert saved["device"] == {"name": "USB Headset", "hostapi": "ALSA"}
    assert (saved["mode"], saved["key"], saved["base_url"]) == ("toggle", "F8", "http://127.0.0.1:9/v1")
    assert ctrl.recorder.device_key is not None and ctrl.recorder.device_key.name == "USB Headset"
    assert "F8" in ctrl.button.toolTip() and "again to stop" in ctrl.button.toolTip()


def test_settings_dialog_alone_keeps_dictation_untouched(qtbot, tmp_path: Path) -> None:
    from assistant_app.core.settings import Settings
    from assistant_app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), key_status=lambda _pid: False, keyring_status=(True, ""))
    qtbot.addWidget(dialog)
    assert "main window" in dialog.dictation_page.device_status.text()
    assert "dictation" not in dialog.result_settings().extra


def test_space_on_the_focused_button_holds_it(dictation, qtbot) -> None:
    rig = dictation()
    app, ctrl = rig.app, rig.ctrl
    app.server.transcription_text = "Spacebar."
    mic = ctrl.button

    async def flow() -> str:
        mic.setFocus()
        qtbot.keyPress(mic, Qt.Key.Key_Space)
        await rig.recording()
        await rig.speak(np.concatenate([silence(0.3), speech(), silence(0.5)]))
        inserted = rig.expect(ctrl.textInserted)
        qtbot.keyRelease(mic, Qt.Key.Key_Space)
        return await inserted

    assert rig.run(flow()) == "Spacebar."


def test_prefs_survive_a_hand_edited_file_and_keys_are_checked() -> None:
    from assistant_app.ui.dictation_settings import key_problem

    junk = DictationPrefs.from_json({"mode": "sideways", "key": "", "keep_ready": "yes", "device": 3, "future": 1})
    assert junk == DictationPrefs() and junk.to_json()["future"] == 1, "unknown keys are kept for newer versions"
    prefs = DictationPrefs.from_json(DictationPrefs(mode=TOGGLE, key="Ctrl+Alt+D", base_url="http://h/v1").to_json())
    assert (prefs.mode, prefs.key, prefs.base_url) == (TOGGLE, "Ctrl+Alt+D", "http://h/v1")
    assert prefs.model_for("openai") == "whisper-1", "a separate server gets the classic model name"
    assert DictationPrefs().model_for("openai") == "gpt-4o-mini-transcribe"
    assert key_problem("F9") is None and key_problem("Ctrl+Alt+D") is None
    assert "types a character" in (key_problem("D") or "") and "types a character" in (key_problem("Shift+D") or "")
    assert "Esc" in (key_problem("Esc") or "") and key_problem("") is not None
