"""Images arriving by drag-and-drop or paste: what a ``QMimeData`` holds, and an event filter for drops.

``incoming_images`` sorts a mime payload into local files, encoded image bytes (a browser's
``image/png``) and bitmaps (a screenshot on the clipboard). Bitmaps are encoded to PNG by
``encode_bitmap`` in a worker thread: ``QImage`` is reentrant, so it needs no GUI thread.

Text wins over a bitmap when both are offered (copied spreadsheet cells carry a picture of the
cells as well as their text): pasting text must keep working as before.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import QWidget

from assistant_app.media.image_source import DEFAULT_MAX_PIXELS, ImageError, too_many_pixels

__all__ = [
    "DropFilter",
    "IncomingBitmap",
    "IncomingBytes",
    "IncomingFile",
    "carries_images",
    "encode_bitmap",
    "incoming_images",
]

# Encoded image types a source application may offer directly (kept as they are: no re-encoding).
RAW_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
}
PASTED_NAME = "pasted image"


@dataclass(frozen=True)
class IncomingFile:
    path: str

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1] or self.path


@dataclass(frozen=True)
class IncomingBytes:
    data: bytes
    name: str


@dataclass(frozen=True)
class IncomingBitmap:
    image: QImage
    name: str = PASTED_NAME


Incoming = IncomingFile | IncomingBytes | IncomingBitmap


def _file_urls_in_text(mime: QMimeData) -> list[str]:
    """``file://`` lines of plain text (some apps copy files only as text)."""
    if not mime.hasText():
        return []
    lines = [ln.strip() for ln in mime.text().splitlines() if ln.strip()]
    if not lines or not all(ln.startswith("file://") for ln in lines):
        return []
    from PySide6.QtCore import QUrl

    return [QUrl(ln).toLocalFile() for ln in lines]


def _has_real_text(mime: QMimeData) -> bool:
    return mime.hasText() and bool(mime.text().strip()) and not _file_urls_in_text(mime)


def _bitmap(mime: QMimeData) -> QImage | None:
    data = mime.imageData()
    if isinstance(data, QPixmap):
        data = data.toImage()
    return data if isinstance(data, QImage) and not data.isNull() else None


def incoming_images(mime: QMimeData) -> tuple[list[Incoming], list[str]]:
    """(images to attach, reasons for what was refused); ``([], [])`` means "not for us" (plain text)."""
    files: list[Incoming] = []
    refused: list[str] = []
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                files.append(IncomingFile(url.toLocalFile()))
            elif url.scheme() in ("http", "https", "ftp"):
                refused.append(
                    f"“{url.toDisplayString()[:80]}” is a web address: save the image, then attach the file."
                )
    else:
        files = [IncomingFile(p) for p in _file_urls_in_text(mime)]
    if files:
        return files, refused
    if _has_real_text(mime) and not refused:
        return [], []  # text (with perhaps a picture of it): the editor pastes the text
    for fmt, ext in RAW_FORMATS.items():
        if mime.hasFormat(fmt):
            data = bytes(mime.data(fmt).data())
            if data:
                return [IncomingBytes(data, f"{PASTED_NAME}.{ext}")], []
    image = _bitmap(mime)
    if image is not None:
        return [IncomingBitmap(image)], []
    return [], refused


def carries_images(mime: QMimeData) -> bool:
    """Cheap test for drag-enter: files, encoded images or a bitmap (no decoding)."""
    if mime.hasUrls():
        return any(u.isLocalFile() or u.scheme() in ("http", "https") for u in mime.urls())
    if _file_urls_in_text(mime):
        return True
    if _has_real_text(mime):
        return False
    return any(mime.hasFormat(f) for f in RAW_FORMATS) or mime.hasImage()


# QImage formats Pillow can read in place (little-endian layouts): (Pillow mode, raw mode).
_RAW_LAYOUTS = {
    QImage.Format.Format_RGB32: ("RGB", "BGRX"),
    QImage.Format.Format_ARGB32: ("RGBA", "BGRA"),
    QImage.Format.Format_ARGB32_Premultiplied: ("RGBA", "BGRa"),
    QImage.Format.Format_RGBA8888: ("RGBA", "RGBA"),
    QImage.Format.Format_RGB888: ("RGB", "RGB"),
}


def encode_bitmap(image: QImage, name: str = PASTED_NAME) -> bytes:
    """PNG bytes of a pasted bitmap. Runs in a worker thread; refuses a bitmap too large to prepare.

    The pixels are read in place by Pillow (which releases the GIL while it converts and encodes);
    Qt's own conversions would hold the GIL and stall the UI thread for as long.
    """
    width, height = image.width(), image.height()
    if image.isNull() or width <= 0 or height <= 0:
        raise ImageError(f"“{name}” has no pixels.", "corrupt")
    if width * height > DEFAULT_MAX_PIXELS:
        raise too_many_pixels(name, (width, height), DEFAULT_MAX_PIXELS)
    layout = _RAW_LAYOUTS.get(image.format()) if sys.byteorder == "little" else None
    if layout is None:  # rare formats (indexed, 16-bit...): let Qt convert them first
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        layout = ("RGBA", "RGBA")
    mode, raw = layout
    from PIL import Image  # loaded with the first pasted bitmap, not at start-up

    pil = Image.frombuffer(mode, (width, height), image.constBits(), "raw", raw, image.bytesPerLine(), 1)
    if mode == "RGBA" and pil.getchannel("A").getextrema()[0] == 255:
        pil = pil.convert("RGB")
    buf = io.BytesIO()
    pil.save(buf, "PNG", compress_level=1)  # speed over size: prepare_image re-encodes it anyway
    return buf.getvalue()


class DropFilter(QObject):
    """Accepts drags that carry images or files on the widgets it watches; drops go to ``on_drop``.

    Qt delivers a drag to the innermost widget under the cursor that accepts drops, else to its
    nearest ancestor that does, so watching the main window covers the transcript and sidebar.
    """

    def __init__(self, on_drop: Callable[[QMimeData], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_drop = on_drop

    def watch(self, widget: QWidget) -> None:
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDragMoveEvent)
            if carries_images(event.mimeData()):
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
                return True
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            mime = event.mimeData()
            if carries_images(mime):
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
                self._on_drop(mime)
                return True
        return False
