"""First-run screen shown inside the main window until a provider is set up."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from assistant_app.ui.provider_form import ERROR_COLOR, MUTED_COLOR, ProviderForm

CONTENT_WIDTH = 600


class WelcomePanel(QWidget):
    """Title, one sentence, the provider form and "Save and start".

    ``saveRequested`` is emitted only when the form validates; otherwise the reason is shown inline.
    """

    saveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePanel")

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        page = QWidget()
        page.setObjectName("welcomePage")
        scroll.setWidget(page)
        centre = QHBoxLayout(page)
        centre.setContentsMargins(24, 32, 24, 24)
        centre.addStretch(1)

        column = QWidget()
        column.setMaximumWidth(CONTENT_WIDTH)
        column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        centre.addWidget(column, 100)
        centre.addStretch(1)

        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        title = QLabel("Welcome to Assistant")
        title.setObjectName("welcomeTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.7)
        font.setBold(True)
        title.setFont(font)
        title.setAccessibleName("Welcome to Assistant")
        layout.addWidget(title)
        layout.addSpacing(8)

        intro = QLabel(
            "To start chatting, connect to OpenAI with your API key, or to an OpenAI-compatible server "
            "such as Ollama or LM Studio running on this computer."
        )
        intro.setObjectName("welcomeIntro")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addSpacing(22)

        self.form = ProviderForm()
        layout.addWidget(self.form)
        layout.addSpacing(14)

        env_note = QLabel("OPENAI_API_KEY and OPENAI_BASE_URL in the environment are honoured too.")
        env_note.setObjectName("welcomeEnvNote")
        env_note.setWordWrap(True)
        env_note.setStyleSheet(f"color: {MUTED_COLOR};")
        layout.addWidget(env_note)
        layout.addSpacing(14)

        self.error_label = QLabel()
        self.error_label.setObjectName("welcomeError")
        self.error_label.setAccessibleName("Problem with the settings")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addSpacing(10)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("Save and start")
        self.save_button.setObjectName("saveStartButton")
        self.save_button.setAccessibleName("Save and start")
        self.save_button.setDefault(True)
        self.save_button.setMinimumWidth(140)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.save_button.clicked.connect(self._on_save)
        self.form.submitted.connect(self._on_save)
        self.form.changed.connect(self.clear_error)

    def show_error(self, message: str) -> None:
        """Show a problem under the form (validation, or a controller's failure to save)."""
        self.error_label.setText(message)
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def set_busy(self, busy: bool) -> None:
        """Disable "Save and start" while the controller is saving."""
        self.save_button.setEnabled(not busy)

    def _on_save(self) -> None:
        if not self.save_button.isEnabled():
            return
        problem = self.form.validate()
        if problem:
            self.show_error(problem)
            return
        self.clear_error()
        self.saveRequested.emit()
