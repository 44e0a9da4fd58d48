"""The row under the message box: Attach, image detail, and the Create image mode with its options.

The options offered follow the chosen model (``api.image_options``): sizes and qualities per
family, background and output format only for GPT image models, one image at a time for dall-e-3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget

from assistant_app.api.image_options import OUTPUT_FORMATS, QUALITIES, family, sizes_for

IMAGE_MODELS = ("gpt-image-1", "gpt-image-1-mini", "dall-e-3", "dall-e-2")
BACKGROUNDS = ("auto", "transparent", "opaque")
TOOLBAR_QSS = """
QToolButton#attachButton, QPushButton#createImageToggle { border: 1px solid #d5d8de; border-radius: 6px;
  padding: 3px 10px; background: #fff; color: #333; }
QToolButton#attachButton:hover, QPushButton#createImageToggle:hover { background: #eef1f6; }
QPushButton#createImageToggle:checked { background: #2f6fde; color: white; border-color: #2f6fde; }
QLabel#imageOptionLabel { color: #666; }
"""


@dataclass(frozen=True)
class ImageRequest:
    """What the options row asks for; ``options()`` gives the keyword arguments of the image API."""

    model: str
    size: str | None = None
    quality: str | None = None
    n: int = 1
    background: str | None = None
    output_format: str | None = None

    def options(self) -> dict[str, Any]:
        values = {
            "size": self.size,
            "quality": self.quality,
            "background": self.background,
            "output_format": self.output_format,
        }
        if family(self.model) in ("dall-e-2", "dall-e-3"):
            values["response_format"] = "b64_json"  # no second download, no expiring URL
        return {k: v for k, v in values.items() if v is not None and (v != "auto" or k == "size")}

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "n": self.n, **self.options()}


class ImageToolbar(QWidget):
    attachClicked = Signal()
    detailChanged = Signal(str)
    createModeChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageToolbar")
        self.setStyleSheet(TOOLBAR_QSS)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 4, 0, 0)
        outer.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.options_row = QWidget(self)  # the Create image options, shown in that mode only
        self.options_row.setObjectName("imageOptions")
        options = QHBoxLayout(self.options_row)
        options.setContentsMargins(0, 0, 0, 0)
        options.setSpacing(6)
        outer.addLayout(row)
        outer.addWidget(self.options_row)

        self.attach_button = QToolButton(self)
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setText("Attach…")
        self.attach_button.setAccessibleName("Attach images")
        self.attach_button.setToolTip("Attach images (or drop them here, or paste a screenshot)")
        self.attach_button.clicked.connect(self.attachClicked)
        self.detail = self._combo("detailPicker", "Image detail", ("auto", "low", "high"))
        self.detail.setToolTip("How closely the model looks at attached images (low: 512 px, cheaper)")
        self.detail.currentTextChanged.connect(self.detailChanged)
        self.create_toggle = QPushButton("Create image", self)
        self.create_toggle.setObjectName("createImageToggle")
        self.create_toggle.setAccessibleName("Create image")
        self.create_toggle.setCheckable(True)
        self.create_toggle.setToolTip("Generate an image from the prompt (or start a message with /image )")
        self.create_toggle.toggled.connect(self._mode_changed)

        self.model = self._combo("imageModel", "Image model", IMAGE_MODELS, editable=True)
        self.size = self._combo("imageSize", "Size", ())
        self.quality = self._combo("imageQuality", "Quality", ())
        self.count = QSpinBox(self)
        self.count.setObjectName("imageCount")
        self.count.setAccessibleName("Number of images")
        self.count.setRange(1, 10)
        self.count.setPrefix("× ")
        self.background = self._combo("imageBackground", "Background", BACKGROUNDS)
        self.output_format = self._combo("imageFormat", "Output format", OUTPUT_FORMATS)
        self._detail_label = QLabel("Detail", self)
        self._detail_label.setObjectName("imageOptionLabel")
        for widget in (self.attach_button, self._detail_label, self.detail, self.create_toggle):
            row.addWidget(widget)
        self._options: list[tuple[QLabel | None, QWidget]] = []
        for label, widget in (
            ("Model", self.model),
            ("Size", self.size),
            ("Quality", self.quality),
            ("", self.count),
            ("Background", self.background),
            ("Format", self.output_format),
        ):
            caption = QLabel(label, self.options_row) if label else None
            if caption is not None:
                caption.setObjectName("imageOptionLabel")
                options.addWidget(caption)
            widget.setParent(self.options_row)
            options.addWidget(widget)
            self._options.append((caption, widget))
        row.addStretch(1)
        options.addStretch(1)
        self.model.currentTextChanged.connect(self._model_changed)
        self._model_changed(self.model.currentText())
        self._mode_changed(False)

    def _combo(self, name: str, accessible: str, items: tuple[str, ...], editable: bool = False) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.setEditable(editable)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.addItems(list(items))
        return combo

    def _mode_changed(self, on: bool) -> None:
        self.options_row.setVisible(on)
        for caption, widget in self._options:
            visible = on and self._applies(widget)
            widget.setVisible(visible)
            if caption is not None:
                caption.setVisible(visible)
        self.detail.setVisible(not on)
        self._detail_label.setVisible(not on)
        self.createModeChanged.emit(on)

    def _applies(self, widget: QWidget) -> bool:
        fam = family(self.model.currentText())
        gpt = fam in ("gpt-image", "other")
        if widget in (self.background, self.output_format):
            return gpt
        if widget is self.count:
            return fam != "dall-e-3"
        return True

    def _model_changed(self, model: str) -> None:
        fam = family(model)
        self._refill(self.size, sizes_for(model) or ("auto", "1024x1024", "512x512"))
        self._refill(self.quality, QUALITIES[fam])
        if fam == "dall-e-3":
            self.count.setValue(1)
        if self.create_toggle.isChecked():
            self._mode_changed(True)

    @staticmethod
    def _refill(combo: QComboBox, items: tuple[str, ...]) -> None:
        current = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(list(items))
        combo.setCurrentText(current if current in items else ("auto" if "auto" in items else items[0]))
        combo.blockSignals(False)

    # -- public ---------------------------------------------------------------------------------
    def create_mode(self) -> bool:
        return self.create_toggle.isChecked()

    def set_create_mode(self, on: bool) -> None:
        self.create_toggle.setChecked(on)

    def set_model(self, model: str) -> None:
        self.model.setCurrentText(model)

    def request(self, model: str | None = None) -> ImageRequest:
        """The current choices (for ``model`` instead of the picked one, when given: a retry)."""
        model = (model or self.model.currentText()).strip() or IMAGE_MODELS[0]
        fam = family(model)
        gpt = fam in ("gpt-image", "other")
        size = self.size.currentText() if model == self.model.currentText() else None
        return ImageRequest(
            model=model,
            size=size or None,
            quality=self.quality.currentText() if model == self.model.currentText() else None,
            n=1 if fam == "dall-e-3" else self.count.value(),
            background=self.background.currentText() if gpt else None,
            output_format=self.output_format.currentText() if gpt else None,
        )
