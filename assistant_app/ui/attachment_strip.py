"""Thumbnail chips above the message box: a spinner while an image is prepared, then its thumbnail.

Each chip has an × to remove it and opens a preview when clicked. The strip only shows things;
``ComposerAttachments`` decides what is in it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

CHIP_SIDE = 64
STRIP_QSS = """
QFrame#attachmentChip { background: #f4f6f9; border: 1px solid #d5d9e0; border-radius: 8px; }
QFrame#attachmentChip[state="ready"]:hover { border-color: #4c7bd9; }
QToolButton#removeAttachment { background: rgba(30, 30, 30, 170); color: white; border: none; border-radius: 9px;
  font-weight: bold; padding: 0; }
QToolButton#removeAttachment:hover { background: #b3261e; }
QLabel#chipBadge { background: rgba(30, 30, 30, 160); color: white; border-radius: 4px; padding: 0 3px;
  font-size: 9px; }
"""


class _Spinner(QWidget):
    """A small turning arc; it only animates while visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(80)
        self._timer.timeout.connect(self._step)
        self.setFixedSize(24, 24)
        self.setAccessibleName("Preparing")

    def _step(self) -> None:
        self._angle = (self._angle + 30) % 360
        self.update()

    def showEvent(self, event) -> None:
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor("#4c7bd9"), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawArc(QRectF(3, 3, 18, 18), -self._angle * 16, 270 * 16)


class AttachmentChip(QFrame):
    """One attachment: spinner or thumbnail, an × button, and a tooltip with what will be sent."""

    removeClicked = Signal(int)
    clicked = Signal(int)

    def __init__(self, key: int, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.name = name
        self.setObjectName("attachmentChip")
        self.setProperty("state", "preparing")
        self.setFixedSize(CHIP_SIDE, CHIP_SIDE)
        self.setAccessibleName(f"Attachment {name}")
        self.setToolTip(f"{name}\nPreparing…")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

        self.thumb = QLabel(self)
        self.thumb.setObjectName("chipThumbnail")
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setGeometry(2, 2, CHIP_SIDE - 4, CHIP_SIDE - 4)
        self.spinner = _Spinner(self)
        self.spinner.move((CHIP_SIDE - 24) // 2, (CHIP_SIDE - 24) // 2)
        self.badge = QLabel(self)
        self.badge.setObjectName("chipBadge")
        self.badge.hide()
        self.remove_button = QToolButton(self)
        self.remove_button.setObjectName("removeAttachment")
        self.remove_button.setText("×")
        self.remove_button.setAccessibleName(f"Remove {name}")
        self.remove_button.setToolTip("Remove this image")
        self.remove_button.setFixedSize(18, 18)
        self.remove_button.move(CHIP_SIDE - 20, 2)
        self.remove_button.clicked.connect(lambda: self.removeClicked.emit(self.key))

    @property
    def ready(self) -> bool:
        return self.property("state") == "ready"

    def has_thumbnail(self) -> bool:
        pixmap = self.thumb.pixmap()
        return pixmap is not None and not pixmap.isNull()

    def set_thumbnail(self, png: bytes) -> None:
        pixmap = QPixmap()
        if pixmap.loadFromData(png):
            side = CHIP_SIDE - 4
            self.thumb.setPixmap(
                pixmap.scaled(
                    QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
        self.remove_button.raise_()

    def set_ready(self, tooltip: str, badge: str = "") -> None:
        self.setProperty("state", "ready")
        self.style().unpolish(self)
        self.style().polish(self)
        self.spinner.hide()
        self.setToolTip(tooltip)
        if badge:
            self.badge.setText(badge)
            self.badge.adjustSize()
            self.badge.move(4, CHIP_SIDE - self.badge.height() - 4)
            self.badge.show()
        self.remove_button.raise_()

    def set_preparing(self) -> None:
        self.setProperty("state", "preparing")
        self.spinner.show()
        self.spinner.raise_()
        self.remove_button.raise_()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit(self.key)
        super().mouseReleaseEvent(event)


class AttachmentStrip(QWidget):
    """A row of chips; hidden while empty."""

    removeRequested = Signal(int)
    previewRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentStrip")
        self.setAccessibleName("Attached images")
        self.setStyleSheet(STRIP_QSS)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 2, 0, 2)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self._chips: dict[int, AttachmentChip] = {}
        self.hide()

    def add(self, key: int, name: str) -> AttachmentChip:
        chip = AttachmentChip(key, name, self)
        chip.removeClicked.connect(self.removeRequested)
        chip.clicked.connect(self.previewRequested)
        self._layout.insertWidget(self._layout.count() - 1, chip)
        self._chips[key] = chip
        self.show()
        return chip

    def chip(self, key: int) -> AttachmentChip | None:
        return self._chips.get(key)

    def chips(self) -> list[AttachmentChip]:
        return list(self._chips.values())

    def remove(self, key: int) -> None:
        chip = self._chips.pop(key, None)
        if chip is not None:
            self._layout.removeWidget(chip)
            chip.hide()
            chip.deleteLater()
        if not self._chips:
            self.hide()

    def clear(self) -> None:
        for key in list(self._chips):
            self.remove(key)
