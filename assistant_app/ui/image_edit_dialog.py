"""Edit… an image: a prompt, an optional PNG mask (transparent where to change), and the model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

EDIT_MODELS = ("gpt-image-1", "gpt-image-1-mini", "dall-e-2")


class ImageEditDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, model: str = EDIT_MODELS[0]) -> None:
        super().__init__(parent)
        self.setObjectName("imageEditDialog")
        self.setWindowTitle("Edit image")
        self.prompt_box = QPlainTextEdit(self)
        self.prompt_box.setObjectName("editPrompt")
        self.prompt_box.setAccessibleName("Edit prompt")
        self.prompt_box.setPlaceholderText("Describe the change, e.g. “make the sky a sunset”")
        self.prompt_box.setMinimumHeight(80)
        self.mask_edit = QLineEdit(self)
        self.mask_edit.setObjectName("maskPath")
        self.mask_edit.setAccessibleName("Mask file")
        self.mask_edit.setPlaceholderText("Optional: a PNG the size of the image, transparent where to edit")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        mask_row = QHBoxLayout()
        mask_row.addWidget(self.mask_edit, 1)
        mask_row.addWidget(browse)
        self.model_box = QComboBox(self)
        self.model_box.setObjectName("editModel")
        self.model_box.setAccessibleName("Edit model")
        self.model_box.setEditable(True)
        self.model_box.addItems(list(EDIT_MODELS))
        self.model_box.setCurrentText(model)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Edit")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Prompt", self.prompt_box)
        form.addRow("Mask", mask_row)
        form.addRow("Model", self.model_box)
        form.addRow(self.error)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Mask (PNG with transparency)", "", "PNG image (*.png)")
        if path:
            self.mask_edit.setText(path)

    def _accept(self) -> None:
        if not self.prompt().strip():
            self._fail("Describe the change you want.")
            return
        mask = self.mask_path()
        if mask and not Path(mask).is_file():
            self._fail(f"The mask file “{mask}” was not found.")
            return
        self.accept()

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def prompt(self) -> str:
        return self.prompt_box.toPlainText()

    def mask_path(self) -> str:
        return self.mask_edit.text().strip()

    def model(self) -> str:
        return self.model_box.currentText().strip() or EDIT_MODELS[0]
