"""A dialog to look at one image: zoom (wheel, +/-), fit, 100%; save, copy, drag out; Edit… and Use as reference."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import (
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

SAVE_FILTERS = "PNG image (*.png);;JPEG image (*.jpg *.jpeg);;WebP image (*.webp)"
_FORMAT_OF_SUFFIX = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.05, 16.0


def save_image(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` in the format its suffix names (PNG when it names none); returns the path."""
    from assistant_app.commands.images import convert_to

    fmt = _FORMAT_OF_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        path = path.with_name(path.name + ".png")
        fmt = "png"
    path.write_bytes(convert_to(data, fmt))
    return path


def drag_file(data: bytes, name: str) -> Path:
    """A copy of the image under a readable name, for drags into file managers."""
    folder = Path(tempfile.gettempdir()) / "assistant-app-drag"
    folder.mkdir(exist_ok=True)
    target = folder / Path(name).name
    if not target.exists() or target.stat().st_size != len(data):
        target.write_bytes(data)
    return target


def image_mime(data: bytes, name: str, image: QImage) -> QMimeData:
    """File URL + image data: file managers take the file, other apps the pixels."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(drag_file(data, name)))])
    mime.setImageData(image)
    return mime


class _Canvas(QGraphicsView):
    """Zoomable view. Dragging pans when the image is larger than the view, otherwise drags the image out."""

    zoomChanged = Signal(float)
    dragOut = Signal()

    def __init__(self, pixmap: QPixmap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageCanvas")
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem(pixmap)
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(Qt.GlobalColor.darkGray)
        self.fit_mode = True
        self._press: QPoint | None = None

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.fit_mode = False
        self.resetTransform()
        self.scale(factor, factor)
        self.zoomChanged.emit(factor)

    def fit(self) -> None:
        self.fit_mode = True
        self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:  # small images are shown at 100%, not blown up
            self.resetTransform()
        self.zoomChanged.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.zoom() * ZOOM_STEP**steps)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()

    def _scrollable(self) -> bool:
        return self.horizontalScrollBar().maximum() > 0 or self.verticalScrollBar().maximum() > 0

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self.setDragMode(
                QGraphicsView.DragMode.ScrollHandDrag if self._scrollable() else QGraphicsView.DragMode.NoDrag
            )
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if (
            self._press is not None
            and self.dragMode() == QGraphicsView.DragMode.NoDrag
            and (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance()
        ):
            self._press = None
            self.dragOut.emit()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)


class ImageViewer(QDialog):
    """``editable`` adds Edit… and Use as reference (for images in the conversation)."""

    editRequested = Signal(dict, str, str, str)  # attachment, prompt, mask path ("" for none), model
    referenceRequested = Signal(dict)  # attachment to attach to the next message

    def __init__(
        self,
        data: bytes,
        name: str,
        *,
        attachment: dict[str, Any] | None = None,
        editable: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setWindowTitle(name)
        self.data = data
        self.name = name
        self.attachment = dict(attachment or {})
        self.image = QImage.fromData(data)
        self.resize(900, 700)

        self.canvas = _Canvas(QPixmap.fromImage(self.image), self)
        self.zoom_label = QLabel(self)
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setMinimumWidth(48)
        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            ("out", "−", "Zoom out (-)"),
            ("in", "+", "Zoom in (+)"),
            ("fit", "Fit", "Fit to window"),
            ("actual", "100%", "Actual size"),
            ("save", "Save as…", "Save as PNG, JPEG or WebP"),
            ("copy", "Copy", "Copy the image"),
            ("drag", "⇱ Drag", "Drag the image to another app"),
        ):
            self._button(bar, key, text, tip)
        bar.insertWidget(2, self.zoom_label)
        if editable:
            self._button(bar, "edit", "Edit…", "Change this image with a prompt (and an optional mask)")
            self._button(bar, "reference", "Use as reference", "Attach this image to your next message")
        bar.addStretch(1)
        info = QLabel(f"{self.image.width()}×{self.image.height()} · {len(data) // 1024} KB", self)
        info.setObjectName("imageInfo")
        bar.addWidget(info)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self.canvas.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.canvas.dragOut.connect(self.start_drag)
        self.buttons["out"].clicked.connect(self.zoom_out)
        self.buttons["in"].clicked.connect(self.zoom_in)
        self.buttons["fit"].clicked.connect(self.canvas.fit)
        self.buttons["actual"].clicked.connect(lambda: self.canvas.set_zoom(1.0))
        self.buttons["save"].clicked.connect(self.save_dialog)
        self.buttons["copy"].clicked.connect(self.copy)
        self.buttons["drag"].pressed.connect(self.start_drag)
        if editable:
            self.buttons["edit"].clicked.connect(self.edit_dialog)
            self.buttons["reference"].clicked.connect(self._use_as_reference)
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            (QKeySequence.StandardKey.Copy, self.copy),
            (QKeySequence.StandardKey.Save, self.save_dialog),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)
        self.canvas.fit()

    def _button(self, bar: QHBoxLayout, key: str, text: str, tip: str) -> None:
        button = QPushButton(text, self)
        button.setObjectName(f"viewer_{key}")
        button.setAccessibleName(tip.split(" (")[0])
        button.setToolTip(tip)
        button.setAutoDefault(False)
        bar.addWidget(button)
        self.buttons[key] = button

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.text() in ("+", "="):
            self.zoom_in()
        elif event.text() in ("-", "_"):
            self.zoom_out()
        elif event.text() == "0":
            self.canvas.fit()
        elif event.text() == "1":
            self.canvas.set_zoom(1.0)
        else:
            super().keyPressEvent(event)

    def zoom_in(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.canvas.set_zoom(self.canvas.zoom() / ZOOM_STEP)

    # -- actions --------------------------------------------------------------------------------
    def save_dialog(self) -> None:
        stem = Path(self.name).stem or "image"
        path, _ = QFileDialog.getSaveFileName(self, "Save image", str(Path.home() / f"{stem}.png"), SAVE_FILTERS)
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> Path | None:
        try:
            written = save_image(self.data, path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Save failed", f"Could not save {path}: {getattr(exc, 'strerror', None) or exc}")
            return None
        return written

    def mime_data(self) -> QMimeData:
        return image_mime(self.data, self.name, self.image)

    def copy(self) -> None:
        QApplication.clipboard().setMimeData(self.mime_data())

    def start_drag(self) -> None:
        from PySide6.QtGui import QDrag

        drag = QDrag(self)
        drag.setMimeData(self.mime_data())
        drag.setPixmap(
            QPixmap.fromImage(
                self.image.scaled(
                    128, 128, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
        )
        drag.exec(Qt.DropAction.CopyAction)
        self.buttons["drag"].setDown(False)

    def edit_dialog(self) -> None:
        from assistant_app.ui.image_edit_dialog import ImageEditDialog

        dialog = ImageEditDialog(self)
        dialog.accepted.connect(
            lambda: self.editRequested.emit(self.attachment, dialog.prompt(), dialog.mask_path(), dialog.model())
        )
        dialog.accepted.connect(self.accept)
        dialog.open()

    def _use_as_reference(self) -> None:
        self.referenceRequested.emit(self.attachment)
        self.accept()
