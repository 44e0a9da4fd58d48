"""Images inside a message bubble: thumbnails of what the user attached, large tiles for generated images.

A tile paints a ``QImage`` already scaled to its display size, so a paint is one ``drawImage``. Files
are decoded in a worker thread (``image_pixels``: Pillow, which releases the GIL) and kept in a small
cache by content hash, so scrolling back or re-rendering a row shows them at once. A live preview
(a partial image) replaces the tile's picture in place and reports its arrival-to-paint time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from assistant_app.core.attachments import AttachmentError, AttachmentStore
from assistant_app.ui.image_pixels import Pixels, decode_pixels, scaled_size, to_qimage

THUMB_SIDE = 140  # attached images in user bubbles
LARGE_SIDE = 512  # one generated image
GRID_SIDE = 300  # several generated images
_CACHE: OrderedDict[tuple[str, int], QImage] = OrderedDict()
_CACHE_SIZE = 96
_store: AttachmentStore | None = None


def set_store(store: AttachmentStore) -> None:
    """The attachment store tiles read from (the app's; tests set their own)."""
    global _store
    _store = store


def attachment_store() -> AttachmentStore:
    return _store or AttachmentStore.default()


def image_attachments(attachments: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [a for a in attachments if a.get("kind") == "image" and a.get("path")]


def caption_for(attachments: list[Mapping[str, Any]]) -> str:
    """Size and cost per image of generated images ("" for other images; the meta line names the model)."""
    made = [a for a in attachments if a.get("generated_by") and not a.get("partial")]
    if not made:
        return ""
    first = made[0]
    parts = [f"{first.get('width')}×{first.get('height')}"]
    cost = first.get("cost")
    if isinstance(cost, int | float):
        parts.append(f"${cost:.3f} per image" if cost < 0.1 else f"${cost:.2f} per image")
    return " · ".join(parts)


def side_for(role: str, count: int) -> int:
    if role == "user":
        return THUMB_SIDE
    return LARGE_SIDE if count <= 1 else GRID_SIDE


def remember(sha: str, side: int, image: QImage) -> None:
    """Put an already decoded (and scaled) image in the cache, e.g. a generation's final image."""
    _CACHE[(sha, side)] = image
    _CACHE.move_to_end((sha, side))
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


class ImageTile(QWidget):
    """One picture. ``painted`` carries the ms from a preview's arrival to its paint (after ``show_image``)."""

    clicked = Signal()
    painted = Signal(float)

    def __init__(self, side: int, size: QSize | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageTile")
        self.side = side
        self.image: QImage | None = None
        self._size = size or QSize(side, side)
        self._arrived: float | None = None
        self.badge = ""
        self.badge_kind = ""
        self.paint_count = 0
        self.attachment: Mapping[str, Any] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(self._size)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent covers every pixel

    def show_image(self, image: QImage, arrived_at: float | None = None) -> None:
        self.image = image
        self._arrived = arrived_at
        if image.size() != self._size and not image.isNull():
            self._size = image.size()
            self.setFixedSize(self._size)
            self.update()  # the layout changes: paint with it
        elif arrived_at is not None and self.isVisible():
            self.repaint()  # a live preview: paint now (one drawImage), not on the next pass of the loop
        else:
            self.update()

    def set_badge(self, text: str, kind: str = "") -> None:
        if (text, kind) != (self.badge, self.badge_kind):
            self.badge, self.badge_kind = text, kind
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        if self.image is None or self.image.isNull():
            p.fillRect(self.rect(), QColor("#eef1f4"))
            p.setPen(QColor("#8a919a"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "…")
        else:
            p.drawImage(QRect(0, 0, self.width(), self.height()), self.image)
        if self.badge:
            colour = {"error": "#b3261e", "warning": "#9a6700"}.get(self.badge_kind, "#333333")
            metrics = p.fontMetrics()
            box = QRect(0, 0, metrics.horizontalAdvance(self.badge) + 16, metrics.height() + 8)
            box.moveBottomLeft(self.rect().bottomLeft() + QPoint(8, -8))  # near the status line under it
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(colour))
            p.drawRoundedRect(box, 5, 5)
            p.setPen(QColor("white"))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.badge)
        p.end()
        self.paint_count += 1
        if self._arrived is not None:
            latency = (time.perf_counter() - self._arrived) * 1000
            self._arrived = None
            self.painted.emit(latency)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class MessageImages(QWidget):
    """The images of one message, plus a caption line (progress, cost)."""

    activated = Signal(dict)  # the attachment clicked
    previewPainted = Signal(float)  # arrival-to-paint ms of a live preview

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageImages")
        self.role = role
        self.tiles: list[ImageTile] = []
        self._keys: list[str] = []
        self._live: ImageTile | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self._grid = QGridLayout()
        self._grid.setSpacing(6)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        outer.addLayout(self._grid)
        self.caption = QLabel(self)
        self.caption.setObjectName("imageCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setStyleSheet("color: #6e7781;")
        self.caption.hide()
        outer.addWidget(self.caption)

    def columns(self, count: int) -> int:
        return 4 if self.role == "user" else (1 if count <= 1 else 2)

    def natural_width(self) -> int:
        count = max(1, len(self.tiles))
        cols = min(count, self.columns(count))
        return sum(t.width() for t in self.tiles[:cols]) + 6 * (cols - 1)

    def set_attachments(self, attachments: list[Mapping[str, Any]], status: str = "complete") -> None:
        images = image_attachments(attachments)
        keys = [str(a.get("sha256") or a.get("path")) for a in images]
        if keys != self._keys and (images or self._live is None):
            self._rebuild(images)
            self._keys = keys
        failed = status in ("error", "stopped", "incomplete")
        for tile in self.tiles:
            partial = bool(tile.attachment and tile.attachment.get("partial"))
            if partial and failed:
                tile.set_badge(
                    "Failed — preview only" if status == "error" else "Stopped — preview only",
                    "error" if status == "error" else "warning",
                )
            else:
                tile.set_badge("")
        if self._live is None:
            self.set_caption(caption_for(images))
        self.setVisible(bool(self.tiles) or not self.caption.isHidden())

    def _clear_tiles(self) -> None:
        for tile in self.tiles:
            self._grid.removeWidget(tile)
            tile.hide()
            tile.deleteLater()
        self.tiles = []
        self._live = None

    def _rebuild(self, images: list[Mapping[str, Any]]) -> None:
        self._clear_tiles()
        side = side_for(self.role, len(images))
        cols = self.columns(len(images))
        for i, att in enumerate(images):
            size = scaled_size(int(att.get("width") or side), int(att.get("height") or side), side)
            tile = ImageTile(side, size, self)
            tile.attachment = att
            tile.setCursor(Qt.CursorShape.PointingHandCursor)
            tile.setToolTip(str(att.get("name") or "image") + ("\n" + str(att["note"]) if att.get("note") else ""))
            tile.setAccessibleName(f"Image {att.get('name') or i + 1}")
            tile.clicked.connect(lambda a=att: self.activated.emit(dict(a)))
            self._grid.addWidget(tile, i // cols, i % cols)
            self.tiles.append(tile)
            self._load(tile, att, side)

    def _load(self, tile: ImageTile, att: Mapping[str, Any], side: int) -> None:
        key = (str(att.get("sha256") or att.get("path")), side)
        cached = _CACHE.get(key)
        if cached is not None:
            tile.show_image(cached)
            return
        try:
            path = attachment_store().path_of(att)
        except AttachmentError:
            tile.set_badge("Missing", "error")
            return
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or loop.is_closed():
            try:
                self._loaded(tile, key, decode_pixels(path, side))
            except (OSError, ValueError):
                tile.set_badge("Unreadable", "error")
            return
        future = loop.run_in_executor(None, decode_pixels, path, side)
        future.add_done_callback(lambda f: self._done(tile, key, f))

    def _done(self, tile: ImageTile, key: tuple[str, int], future: asyncio.Future) -> None:
        if future.cancelled():
            return
        try:
            if future.exception() is not None:
                tile.set_badge("Unreadable", "error")
            else:
                self._loaded(tile, key, future.result())
        except RuntimeError:  # the tile was deleted while its file was read
            pass

    def _loaded(self, tile: ImageTile, key: tuple[str, int], pixels: Pixels) -> None:
        image = to_qimage(pixels)
        remember(key[0], key[1], image)
        tile.show_image(image)

    # -- live previews ------------------------------------------------------------------------
    def live_tile(self) -> ImageTile:
        """The tile partial images are painted into (created on first use, replacing any others)."""
        if self._live is None:
            self._clear_tiles()
            self._keys = []
            tile = ImageTile(LARGE_SIDE, QSize(LARGE_SIDE, LARGE_SIDE), self)
            tile.setAccessibleName("Image preview")
            tile.painted.connect(self.previewPainted)
            self._grid.addWidget(tile, 0, 0)
            self.tiles = [tile]
            self._live = tile
            self.show()
        return self._live

    def show_preview(self, image: QImage, arrived_at: float | None = None) -> None:
        self.live_tile().show_image(image, arrived_at)

    def set_caption(self, text: str) -> None:
        if self.caption.text() != text:
            self.caption.setText(text)
        if self.caption.isHidden() == bool(text):
            self.caption.setVisible(bool(text))
        if text:
            self.show()
