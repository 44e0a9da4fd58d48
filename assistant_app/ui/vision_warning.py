"""The warning before sending images to a model known not to see them, with a per-model "don't warn" box."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from assistant_app.core.capabilities import set_vision_override
from assistant_app.core.context import AppContext


def warn_blind_model(parent: QWidget, ctx: AppContext, model: str, proceed: Callable[[], None]) -> QMessageBox:
    """Open (not exec: no nested loop under qasync) the warning; "Send anyway" calls ``proceed``."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "This model cannot see images",
        f"{model} is not known to accept images: it may ignore them or refuse the request.",
        QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName("visionWarning")
    box.setInformativeText("Pick a model that accepts images (gpt-4o, gpt-4.1, …), or send anyway.")
    send = box.addButton("Send anyway", QMessageBox.ButtonRole.AcceptRole)
    send.setObjectName("visionSendAnyway")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    remember = QCheckBox(f"Don't warn again for {model}", box)
    box.setCheckBox(remember)

    def done(_result: int) -> None:
        if box.clickedButton() is not send:
            return
        if remember.isChecked():
            set_vision_override(ctx.settings.extra, model, True)
            ctx.save_settings()
        proceed()

    box.finished.connect(done)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box
