"""The strip above the message box that shows what dictation is doing.

Recording: red, "Recording… release to transcribe", the elapsed time and the level meter.
Transcribing: "Transcribing…" with the words so far (gpt-4o models stream them).
Afterwards: a message ("I heard nothing…", an error) with Retry transcription / Save recording… /
Discard when the audio was kept. Each change is announced to screen readers.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from assistant_app.ui.mic_button import LevelMeter, announce

BANNER_QSS = """
#dictationBanner { border-radius: 8px; }
#dictationBanner[mode="recording"] { background: #d93025; }
#dictationBanner[mode="recording"] QLabel { color: #ffffff; }
#dictationBanner[mode="transcribing"] { background: #e8f0fe; }
#dictationBanner[mode="transcribing"] QLabel { color: #174ea6; }
#dictationBanner[mode="info"] { background: #f1f3f4; }
#dictationBanner[mode="info"] QLabel { color: #3c4043; }
#dictationBanner[mode="error"] { background: #fce8e6; }
#dictationBanner[mode="error"] QLabel { color: #a50e0e; }
#dictationBanner[mode="recording"] QLabel#dictationTitle, #dictationBanner[mode="transcribing"] QLabel#dictationTitle {
  font-weight: 600; }
#dictationBanner QLabel#dictationPreview { color: #3c4043; font-style: italic; }
#dictationBanner QPushButton { padding: 3px 12px; border: 1px solid #c9ccd1; border-radius: 6px; background: #fff;
  color: #202124; }
#dictationClose { border: none; background: transparent; color: #5f6368; font-size: 14px; }
"""


def clock(seconds: float) -> str:
    """Tenths for the first minute (it visibly runs from the first moment), then minutes:seconds."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds * 10) / 10:.1f} s"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class DictationBanner(QFrame):
    retryRequested = Signal(str)  # recording id
    saveRequested = Signal(str)
    discardRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dictationBanner")
        self.setAccessibleName("Dictation")
        self.setStyleSheet(BANNER_QSS)
        self.setProperty("mode", "")
        self.recording_id: str | None = None
        self.dot = QLabel("●", self)
        self.dot.setObjectName("dictationDot")
        self.dot.setAccessibleName("")
        self.title = QLabel(self)
        self.title.setObjectName("dictationTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.elapsed = QLabel(self)
        self.elapsed.setObjectName("dictationElapsed")
        self.elapsed.setAccessibleName("Recording time")
        self.meter = LevelMeter(self)
        self.hint = QLabel(self)
        self.hint.setObjectName("dictationHint")
        self.retry_button = self._button("Retry transcription", "retryTranscriptionButton")
        self.save_button = self._button("Save recording…", "saveRecordingButton")
        self.discard_button = self._button("Discard", "discardRecordingButton")
        self.discard_button.setAccessibleName("Discard the recording")
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("dictationClose")
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Dismiss")
        self.preview = QLabel(self)
        self.preview.setObjectName("dictationPreview")
        self.preview.setAccessibleName("Transcript so far")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setWordWrap(True)

        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(self.dot)
        row.addWidget(self.title, 1)
        row.addWidget(self.elapsed)
        row.addWidget(self.meter, 1)
        row.addWidget(self.hint)
        for b in (self.retry_button, self.save_button, self.discard_button, self.close_button):
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.preview)

        self.retry_button.clicked.connect(lambda: self._emit(self.retryRequested))
        self.save_button.clicked.connect(lambda: self._emit(self.saveRequested))
        self.discard_button.clicked.connect(lambda: self._emit(self.discardRequested))
        self.close_button.clicked.connect(self.clear)
        self.hide()

    def _button(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(text.rstrip("…"))
        button.setAutoDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def _emit(self, signal: Signal) -> None:
        if self.recording_id:
            signal.emit(self.recording_id)  # type: ignore[attr-defined]

    # ---- what the controller shows ------------------------------------------------------------
    def mode(self) -> str:
        return str(self.property("mode")) if self.isVisible() else ""

    def show_recording(self, title: str, hint: str) -> None:
        self.meter.reset()
        self._show("recording", title, hint=hint, elapsed=clock(0), meter=True)

    def set_elapsed(self, seconds: float) -> None:
        text = clock(seconds)
        if self.elapsed.text() != text:
            self.elapsed.setText(text)

    def set_level(self, rms_dbfs: float, peak_dbfs: float) -> None:
        self.meter.set_level(rms_dbfs, peak_dbfs)

    def show_transcribing(self, title: str = "Transcribing…", hint: str = "Esc stops waiting") -> None:
        self._show("transcribing", title, hint=hint)

    def show_partial(self, text: str) -> None:
        self.preview.setText(text)
        self.preview.setVisible(bool(text))

    def show_message(self, text: str, *, error: bool = False, recording_id: str | None = None,
                     retry: bool = False, discard: bool = False) -> None:  # fmt: skip
        """A result to read; the buttons act on ``recording_id`` (kept audio)."""
        self._show("error" if error else "info", text, recording_id=recording_id, retry=retry, discard=discard,
                   closable=True)  # fmt: skip

    def clear(self) -> None:
        self.recording_id = None
        self.hide()

    def _show(self, mode: str, title: str, *, hint: str = "", elapsed: str = "", meter: bool = False,
              recording_id: str | None = None, retry: bool = False, discard: bool = False,
              closable: bool = False) -> None:  # fmt: skip
        self.recording_id = recording_id
        if self.property("mode") != mode:
            self.setProperty("mode", mode)
            self.style().unpolish(self)
            self.style().polish(self)
            for child in self.findChildren(QWidget):
                child.style().unpolish(child)
                child.style().polish(child)
        self.dot.setVisible(mode == "recording")
        self.title.setText(title)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.elapsed.setText(elapsed)
        self.elapsed.setVisible(bool(elapsed))
        self.meter.setVisible(meter)
        self.retry_button.setVisible(bool(recording_id) and retry)
        self.save_button.setVisible(bool(recording_id))
        self.discard_button.setVisible(bool(recording_id) and discard)
        self.close_button.setVisible(closable)
        self.preview.clear()
        self.preview.hide()
        self.show()
        self.setAccessibleName(f"Dictation: {title}")
        self.setAccessibleDescription(hint)
        announce(self, QAccessible.Event.NameChanged)
        announce(self, QAccessible.Event.Alert)
