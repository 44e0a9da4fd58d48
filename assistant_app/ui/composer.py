"""The message box at the bottom of the window, with Send and Stop.

Image attachments and the Create image tools live in their own modules (``attachment_strip``,
``image_input``, ``image_toolbar``); they plug in through ``add_above_editor``/``add_below_editor``,
``_Editor.mime_handler`` and ``extra_content``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from assistant_app.ui import qt_values as qv

if TYPE_CHECKING:  # types only (creating them costs time before the first frame)
    from typing import Protocol

    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QKeyEvent

    class MimeHandler(Protocol):
        def can_take(self, mime: QMimeData) -> bool: ...
        def take(self, mime: QMimeData) -> bool: ...


class _Editor(QPlainTextEdit):
    """Enter sends, Shift+Enter inserts a new line, Esc asks to stop.

    Pasted or dropped data goes to ``mime_handler`` first (images become attachments); what it
    does not take is inserted as text as usual.
    """

    submit = Signal()
    escape = Signal()
    mime_handler: MimeHandler | None = None

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        handler = self.mime_handler
        return bool(handler is not None and handler.can_take(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        handler = self.mime_handler
        if handler is None or not handler.take(source):
            super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        from PySide6.QtCore import Qt  # not at import: see ui/qt_values.py

        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier)
        ):
            self.submit.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    """Grows with its text from two lines up to ``MAX_HEIGHT``, then scrolls."""

    sendRequested = Signal(str)
    stopRequested = Signal()
    MIN_HEIGHT = 60
    MAX_HEIGHT = 220

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composerPanel")
        self._busy = False
        self.extra_content: Callable[[], bool] | None = None  # e.g. attachments: sendable without text

        self.editor = _Editor(self)
        self.editor.setObjectName("composer")
        self.editor.setAccessibleName("Message")
        self.editor.setPlaceholderText("Message the assistant…  (Enter to send, Shift+Enter for a new line)")
        self.editor.setTabChangesFocus(True)
        self.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.editor.setFixedHeight(self.MIN_HEIGHT)

        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.setDefault(True)
        self.send_button.setEnabled(False)

        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setToolTip("Stop the reply (Esc); what arrived is kept")
        self.stop_button.setVisible(False)

        self.status = QLabel(self)
        self.status.setObjectName("composerStatus")
        self.status.setAccessibleName("Status")
        self.status.setWordWrap(True)
        qv.set_properties(self.status, textInteractionFlags=qv.SELECTABLE_BY_MOUSE)
        self.status.setVisible(False)

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.editor, 1)
        row.addLayout(buttons)
        self._row = row
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 12)
        layout.addWidget(self.status)
        self._above = QVBoxLayout()
        self._above.setSpacing(4)
        layout.addLayout(self._above)
        layout.addLayout(row)
        self._below = QVBoxLayout()
        layout.addLayout(self._below)

        self.editor.textChanged.connect(self._update_send)
        self.editor.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.editor.submit.connect(self._submit)
        self.editor.escape.connect(self._escape)
        self.send_button.clicked.connect(self._submit)
        self.stop_button.clicked.connect(self.stopRequested)

    # The text is only read when needed: a 100,000-character paste stays cheap.
    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.editor.setTextCursor(cursor)

    def insert_text(self, text: str) -> None:
        self.editor.insertPlainText(text)

    def clear(self) -> None:
        self.editor.clear()

    def set_busy(self, busy: bool) -> None:
        """While a reply streams: Stop shows, Send is disabled (the text box stays editable)."""
        self._busy = busy
        self.stop_button.setVisible(busy)
        self._update_send()

    def is_busy(self) -> bool:
        return self._busy

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("error", error)
        self.status.setStyleSheet("color: #b3261e;" if error else "color: #555;")
        self.status.setVisible(bool(text))

    def clear_status(self) -> None:
        self.show_status("")

    def add_above_editor(self, widget: QWidget) -> None:
        self._above.addWidget(widget)

    def add_below_editor(self, widget: QWidget) -> None:
        self._below.addWidget(widget)

    def add_beside_send(self, widget: QWidget) -> None:
        """A tool button between the message box and Send (the microphone)."""
        from PySide6.QtCore import Qt

        self._row.insertWidget(self._row.count() - 1, widget, 0, Qt.AlignmentFlag.AlignTop)

    def refresh_send(self) -> None:
        """Re-evaluate Send (after ``extra_content`` changed)."""
        self._update_send()

    def _has_extra(self) -> bool:
        return self.extra_content is not None and self.extra_content()

    def _has_text(self) -> bool:
        doc = self.editor.document()
        if doc.characterCount() > 2000:
            return True  # long pastes are never blank in practice; avoid scanning them on every keystroke
        return bool(self.text().strip())

    def _update_send(self) -> None:
        self.send_button.setEnabled(not self._busy and (self._has_text() or self._has_extra()))

    def _fit_height(self) -> None:
        doc_height = self.editor.document().documentLayout().documentSize().height()
        line = self.editor.fontMetrics().lineSpacing()
        margins = self.editor.contentsMargins()
        wanted = int(doc_height * line + margins.top() + margins.bottom() + 2 * self.editor.document().documentMargin())
        self.editor.setFixedHeight(max(self.MIN_HEIGHT, min(self.MAX_HEIGHT, wanted)))

    def _submit(self) -> None:
        if self._busy:
            return
        text = self.text()
        if not text.strip() and not self._has_extra():
            return
        self.sendRequested.emit(text)

    def _escape(self) -> None:
        if self._busy:
            self.stopRequested.emit()
