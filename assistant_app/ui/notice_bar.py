"""A slim banner above the composer for things the user should know before sending (a budget nearly
or fully spent, a provider paused after repeated failures), with one optional action and a close button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from assistant_app.ui import qt_values as qv

_QSS = """
#{name} {{ border-top: 1px solid #e6e8eb; }}
#{name}[level="warning"] {{ background: #fef7e0; }}
#{name}[level="error"] {{ background: #fce8e6; }}
#{name} QLabel {{ color: #3c4043; }}
#{name}[level="error"] QLabel {{ color: #a50e0e; }}
#noticeAction {{ padding: 3px 12px; border: 1px solid #c9ccd1; border-radius: 6px; background: #fff; }}
#noticeClose {{ border: none; background: transparent; color: #5f6368; font-size: 14px; }}
"""


def notice_bar_qss(name: str) -> str:
    """The rules for the notice bar named ``name``; the window that holds it sets them (ui/style.py)."""
    return _QSS.format(name=name)


class NoticeBar(QFrame):
    actionTriggered = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName("Notice")
        self.setProperty("level", "")
        self.label = QLabel(self)
        self.label.setObjectName("noticeText")
        self.label.setWordWrap(True)
        qv.set_properties(self.label, textFormat=qv.PLAIN_TEXT)
        self.action = QPushButton(self)
        self.action.setObjectName("noticeAction")
        self.action.clicked.connect(self.actionTriggered)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("noticeClose")
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Dismiss the notice")
        self.close_button.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 6, 10, 6)
        row.addWidget(self.label, 1)
        row.addWidget(self.action)
        row.addWidget(self.close_button)
        self.dismissed_text = ""
        self.hide()

    def show_notice(self, text: str, level: str = "warning", action: str | None = None) -> None:
        """Show ``text`` (unless the user dismissed this very text); ``level`` is "warning" or "error"."""
        if not text or text == self.dismissed_text:
            self.hide()
            return
        self.label.setText(text)
        self.action.setText(action or "")
        self.action.setAccessibleName(action or "")
        self.action.setVisible(bool(action))
        if self.property("level") != level:
            self.setProperty("level", level)
            self.style().unpolish(self)
            self.style().polish(self)
        self.show()

    def clear(self) -> None:
        self.hide()

    def dismiss(self) -> None:
        self.dismissed_text = self.label.text()
        self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
