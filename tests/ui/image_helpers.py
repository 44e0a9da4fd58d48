"""Helpers for the image UI tests: real drag-and-drop events, signal waits, the image parts of a request."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl, SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from tests.support import image_fixtures as F
from tests.ui.conftest import App


def file_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop_on(widget: QWidget, mime: QMimeData) -> bool:
    """A drag entering ``widget`` and dropping there, as Qt delivers them; True if the drop was accepted."""
    centre = widget.rect().center()
    enter = QDragEnterEvent(
        centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(QPoint(centre)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def gps_photo(folder: Path, name: str = "holiday.jpg", size: tuple[int, int] = (900, 600)) -> Path:
    """A camera JPEG with GPS, camera make, comment, XMP and orientation 6 (rotate 90° on display)."""
    path = folder / name
    path.write_bytes(F.jpeg_bytes(F.photo(*size), exif=F.private_exif(6), private=True))
    return path


async def next_emit(app: App, signal: SignalInstance, timeout: float = 15.0, predicate=None) -> tuple:
    """The arguments of the next emission of ``signal`` (that satisfies ``predicate``)."""
    fut: asyncio.Future = app.loop.create_future()

    def got(*args) -> None:
        if not fut.done() and (predicate is None or predicate(*args)):
            fut.set_result(args)

    signal.connect(got)
    try:
        return await asyncio.wait_for(fut, timeout)
    finally:
        signal.disconnect(got)


async def ready(app: App, count: int = 1) -> None:
    att = app.chat.images.attachments
    await app.until(lambda: len(att.entries()) == count and not att.is_preparing(), what=f"{count} prepared image(s)")


def sent_images(body: dict) -> list[tuple[str, bytes, str]]:
    """(mime, bytes, detail) of every image_url part of a chat request body."""
    out = []
    for message in body["messages"]:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if part.get("type") == "image_url":
                url = part["image_url"]["url"]
                head, data = url.split(",", 1)
                assert head.startswith("data:image/") and head.endswith(";base64")
                out.append((head[5:-7], base64.b64decode(data), part["image_url"].get("detail", "auto")))
    return out


def chat_requests(app: App) -> list:
    return [r for r in app.server.requests if r.path.endswith("/chat/completions")]


def image_requests(app: App) -> list:
    return [r for r in app.server.requests if "/images/" in r.path]
