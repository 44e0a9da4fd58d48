"""The "Dictation" tab of the Settings dialog: microphone, model, language, vocabulary, hold or
toggle, the key, pre-roll, send at once, and an optional separate transcription server.

The page never lists devices itself (that needs the audio library, and a Refresh must close the
open stream first): the dictation controller fills it through ``set_devices`` and answers
``refreshRequested``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.api.endpoint import Endpoint
from assistant_app.api.errors import ConfigurationError
from assistant_app.media.audio_devices import DeviceKey
from assistant_app.ui.dictation_prefs import AUTO_MODEL, DEFAULT_KEY, HOLD, MODELS, TOGGLE, DictationPrefs
from assistant_app.ui.hold_key import parse_key

MUTED = "color: #5f6368;"
ERROR = "color: #b3261e;"
RESERVED_KEYS = {
    Qt.Key.Key_Escape: "Esc cancels a dictation",
    Qt.Key.Key_Return: "Enter sends the message",
    Qt.Key.Key_Enter: "Enter sends the message",
    Qt.Key.Key_Tab: "Tab moves between fields",
    Qt.Key.Key_Backtab: "Shift+Tab moves between fields",
    Qt.Key.Key_Backspace: "Backspace edits the text",
    Qt.Key.Key_Delete: "Delete edits the text",
    Qt.Key.Key_Space: "Space types a space",
}


def key_problem(sequence: str) -> str | None:
    """Why ``sequence`` cannot be the hold-to-talk key, or None."""
    parsed = parse_key(sequence)
    if parsed is None:
        return "Choose a key for dictation (for example F9)."
    key, mods = parsed
    plain = mods & ~Qt.KeyboardModifier.ShiftModifier == Qt.KeyboardModifier.NoModifier
    if key in RESERVED_KEYS and mods == Qt.KeyboardModifier.NoModifier:
        return f"{RESERVED_KEYS[key]}: choose another dictation key (for example F9)."
    if plain and 0x20 <= key.value < 0x1000000:  # Qt's codes for printable characters are their Unicode
        return "That key types a character: choose a function key (F1–F12) or add Ctrl or Alt."
    return None


class DictationSettingsPage(QWidget):
    refreshRequested = Signal()

    def __init__(self, prefs: DictationPrefs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dictationSettings")
        self._loaded = prefs
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 14, 16, 14)
        outer.setSpacing(12)
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)

        self.device_combo = QComboBox()
        self.device_combo.setObjectName("dictationDeviceCombo")
        self.device_combo.setAccessibleName("Microphone")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("dictationRefreshButton")
        self.refresh_button.setAccessibleName("Refresh the list of microphones")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self._on_refresh)
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_combo, 1)
        device_row.addWidget(self.refresh_button)
        form.addRow("Microphone", device_row)
        self.device_status = _note("", "dictationDeviceStatus")
        form.addRow("", self.device_status)
        self.set_devices([], None, listing=True)

        self.model_combo = QComboBox()
        self.model_combo.setObjectName("dictationModelCombo")
        self.model_combo.setAccessibleName("Transcription model")
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.addItems(["Automatic", *MODELS])
        self.model_combo.setToolTip(
            "Automatic: gpt-4o-mini-transcribe on OpenAI (words appear as they are recognised), whisper-1 on "
            "other servers. A server's own model id can be typed."
        )
        self.model_combo.setCurrentText(prefs.model or "Automatic")
        form.addRow("Model", self.model_combo)

        self.language_edit = _line("dictationLanguageEdit", "Spoken language", prefs.language,
                                   "Detect automatically, or a code such as en, de, fr")  # fmt: skip
        form.addRow("Language", self.language_edit)
        self.prompt_edit = _line("dictationPromptEdit", "Vocabulary", prefs.prompt,
                                 "Names and words to spell right, e.g. Kubernetes, Nguyễn, PySide")  # fmt: skip
        form.addRow("Vocabulary", self.prompt_edit)

        self.hold_radio = QRadioButton("Hold to talk: press and hold, release to transcribe")
        self.hold_radio.setObjectName("dictationHoldRadio")
        self.toggle_radio = QRadioButton("Toggle: press once to start, again to stop")
        self.toggle_radio.setObjectName("dictationToggleRadio")
        self._mode_group = QButtonGroup(self)
        for radio in (self.hold_radio, self.toggle_radio):
            self._mode_group.addButton(radio)
        (self.toggle_radio if prefs.mode == TOGGLE else self.hold_radio).setChecked(True)
        mode_box = QVBoxLayout()
        mode_box.addWidget(self.hold_radio)
        mode_box.addWidget(self.toggle_radio)
        form.addRow("Mode", mode_box)

        self.key_edit = QKeySequenceEdit(QKeySequence.fromString(prefs.key))
        self.key_edit.setObjectName("dictationKeyEdit")
        self.key_edit.setAccessibleName("Dictation key")
        self.key_edit.setMaximumSequenceLength(1)
        self.key_edit.setClearButtonEnabled(True)
        self.key_edit.setMaximumWidth(220)
        for inner in self.key_edit.findChildren(QLineEdit):
            inner.setAccessibleName("Dictation key")
        self.key_edit.setToolTip("Works while this window is active. The default, F9, clashes with no typing "
                                 "or input-method shortcut.")  # fmt: skip
        form.addRow("Key", self.key_edit)

        self.keep_ready_check = _check("dictationKeepReady", "Keep the microphone ready (no cut first syllable)",
                                       prefs.keep_ready)  # fmt: skip
        self.keep_ready_check.setToolTip("Keeps the microphone open while the app runs and remembers the last "
                                         "0.3 s, so recording starts at once. Your system may show the "
                                         "microphone as in use.")  # fmt: skip
        form.addRow("", self.keep_ready_check)
        self.send_check = _check("dictationSendImmediately", "Send the message as soon as the text is in",
                                 prefs.send_immediately)  # fmt: skip
        form.addRow("", self.send_check)

        self.base_url_edit = _line(
            "dictationBaseUrlEdit", "Transcription server address", prefs.base_url,
            "The active provider (or e.g. http://127.0.0.1:8000/v1 for a local Whisper)",
        )  # fmt: skip
        form.addRow("Transcription server", self.base_url_edit)
        self.send_key_check = _check("dictationSendKey", "Send the active provider's API key to this server",
                                     prefs.send_key)  # fmt: skip
        form.addRow("", self.send_key_check)
        self.base_url_edit.textChanged.connect(self._update_key_check)
        self._update_key_check()

        self.problem_label = _note("", "dictationProblem", error=True)
        self.problem_label.hide()
        outer.addWidget(self.problem_label)
        outer.addStretch(1)

    # ---- devices ---------------------------------------------------------------------------------
    def set_devices(self, devices: list[tuple[str, dict[str, str], bool]] | None, error: str | None, *,
                    listing: bool = False) -> None:  # fmt: skip
        """(label, device key as JSON, is the default) per input; None keeps the list as it is."""
        self.refresh_button.setEnabled(not listing)
        if listing:
            self.device_status.setText("Looking for microphones…")
        else:
            self.device_status.setText(error or "")
            self.device_status.setStyleSheet(ERROR if error else MUTED)
        self.device_status.setVisible(bool(self.device_status.text()))
        if devices is None:
            return
        chosen = self.device_combo.currentData() if self.device_combo.count() else _key_json(self._loaded.device)
        default = next((label for label, _k, is_default in devices if is_default), "")
        self.device_combo.clear()
        self.device_combo.addItem(f"System default ({default})" if default else "System default", None)
        for label, key, _is_default in devices:
            self.device_combo.addItem(label, key)
        if chosen and self.device_combo.findData(chosen) < 0:
            missing = DeviceKey.from_json(chosen)
            name = f"{missing.name} ({missing.hostapi})" if missing else "?"
            self.device_combo.addItem(name if listing else f"{name}: not connected", chosen)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(chosen)) if chosen else 0)

    def _on_refresh(self) -> None:
        self.set_devices(None, None, listing=True)
        self.refreshRequested.emit()

    def _update_key_check(self) -> None:
        self.send_key_check.setEnabled(bool(self.base_url_edit.text().strip()))

    # ---- result --------------------------------------------------------------------------------
    def prefs(self) -> DictationPrefs:
        data = self.device_combo.currentData()
        model = self.model_combo.currentText().strip()
        return DictationPrefs(
            device=DeviceKey.from_json(data) if data else None,
            model=AUTO_MODEL if model in ("", "Automatic") else model,
            language=self.language_edit.text().strip().lower(),
            prompt=self.prompt_edit.text(),
            mode=TOGGLE if self.toggle_radio.isChecked() else HOLD,
            key=self.key_edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText) or DEFAULT_KEY,
            keep_ready=self.keep_ready_check.isChecked(),
            send_immediately=self.send_check.isChecked(),
            base_url=self.base_url_edit.text().strip(),
            send_key=self.send_key_check.isChecked() and bool(self.base_url_edit.text().strip()),
            extra=dict(self._loaded.extra),
        )

    def problem(self) -> str | None:
        """What must be fixed before saving (shown on the page), or None."""
        prefs = self.prefs()
        message = key_problem(prefs.key)
        if message is None and prefs.base_url:
            try:
                Endpoint(base_url=prefs.base_url, kind="compatible").validate()
            except ConfigurationError as exc:
                message = exc.user_message
        if message is None and prefs.language and not (prefs.language.isalpha() and 2 <= len(prefs.language) <= 3):
            message = "The language is a code of two or three letters, such as en or de (or leave it empty)."
        self.problem_label.setText(message or "")
        self.problem_label.setVisible(bool(message))
        return message


def _key_json(key: DeviceKey | None) -> dict[str, str] | None:
    return key.to_json() if key else None


def _note(text: str, name: str, *, error: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(ERROR if error else MUTED)
    return label


def _line(name: str, accessible: str, value: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit(value)
    edit.setObjectName(name)
    edit.setAccessibleName(accessible)
    edit.setPlaceholderText(placeholder)
    return edit


def _check(name: str, text: str, checked: bool) -> QCheckBox:
    box = QCheckBox(text)
    box.setObjectName(name)
    box.setAccessibleName(text)
    box.setChecked(checked)
    return box
