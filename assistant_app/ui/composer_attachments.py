"""The images attached to the next message: added by drop, paste or the Attach button, prepared off the UI thread.

Each image runs two jobs on one worker thread: ``thumbnail_only`` (a reduced JPEG decode, so the
chip shows quickly even for a 24-megapixel photo), then ``prepare_image`` (what is sent). A refusal
removes the chip and says why in the composer's status line; the typed text is never touched.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from assistant_app.core.attachments import AttachmentStore
from assistant_app.ui.attachment_strip import AttachmentStrip
from assistant_app.ui.composer import Composer
from assistant_app.ui.image_input import (
    DropFilter,
    Incoming,
    IncomingBitmap,
    IncomingBytes,
    IncomingFile,
    carries_images,
    encode_bitmap,
    incoming_images,
)

if TYPE_CHECKING:  # Pillow loads with the first image, not at start-up
    from assistant_app.media.images import PreparedImage

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 16
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff);;All files (*)"
THUMB_SIDE = 128


@dataclass
class Entry:
    key: int
    name: str
    source: str | bytes | None = None  # a path, or bytes once a bitmap is encoded
    prepared: PreparedImage | None = None
    task: asyncio.Task | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def describe(p: PreparedImage) -> str:
    """The chip's tooltip: what will actually be sent."""
    kind = "PNG" if p.mime == "image/png" else "JPEG"
    src = f"{p.source_size[0]}×{p.source_size[1]} {p.source_format}".strip()
    lines = [
        p.name,
        f"{src} → sent as {p.width}×{p.height} {kind} ({len(p.data) // 1024} KB), detail {p.detail}",
        "Metadata (EXIF, GPS, comments) removed.",
    ]
    if p.note:
        lines.append(p.note)
    return "\n".join(lines)


class ComposerAttachments(QObject):
    changed = Signal()  # an image was added, became ready, or was removed
    thumbnailShown = Signal(int)  # chip key: its thumbnail is on screen
    ready = Signal(int)  # chip key: prepared and sendable
    refused = Signal(str)  # the message shown

    def __init__(self, composer: Composer, drop_targets: list[QWidget], parent: QObject | None = None) -> None:
        super().__init__(parent or composer)
        self.composer = composer
        self.detail = "auto"
        self.strip = AttachmentStrip(composer)
        composer.add_above_editor(self.strip)
        composer.editor.mime_handler = self
        composer.extra_content = self.has_any
        self._entries: dict[int, Entry] = {}
        self._next_key = 1
        self.drops = DropFilter(self.take, self)
        for widget in [composer, *drop_targets]:
            self.drops.watch(widget)
        self.strip.removeRequested.connect(self.remove)
        self.changed.connect(composer.refresh_send)

    # -- the editor's MimeHandler protocol ------------------------------------------------------
    def can_take(self, mime: QMimeData) -> bool:
        return carries_images(mime)

    def take(self, mime: QMimeData) -> bool:
        """Attach what ``mime`` carries; False when it is plain text for the editor."""
        items, refused = incoming_images(mime)
        if not items and not refused:
            return False
        if refused:
            self._refuse(" ".join(refused))
        for item in items:
            self.add(item)
        return True

    # -- adding -------------------------------------------------------------------------------
    def choose_files(self, parent: QWidget) -> None:
        paths, _ = QFileDialog.getOpenFileNames(parent, "Attach images", "", FILE_FILTER)
        for path in paths:
            self.add(IncomingFile(path))

    def add_file(self, path: str) -> int | None:
        return self.add(IncomingFile(str(path)))

    def add_bytes(self, data: bytes, name: str, **extra: Any) -> int | None:
        return self.add(IncomingBytes(data, name), **extra)

    def add(self, item: Incoming, **extra: Any) -> int | None:
        if len(self._entries) >= MAX_ATTACHMENTS:
            self._refuse(f"At most {MAX_ATTACHMENTS} images can be attached to one message.")
            return None
        key = self._next_key
        self._next_key += 1
        source = item.path if isinstance(item, IncomingFile) else item.data if isinstance(item, IncomingBytes) else None
        entry = Entry(key, item.name, source, extra=dict(extra))
        self._entries[key] = entry
        self.strip.add(key, item.name)
        bitmap = item.image if isinstance(item, IncomingBitmap) else None
        entry.task = asyncio.ensure_future(self._prepare(entry, bitmap, with_thumbnail=True))
        self.changed.emit()
        return key

    async def _prepare(self, entry: Entry, bitmap: Any, *, with_thumbnail: bool) -> None:
        from assistant_app.media.images import ImageError, prepare_image, thumbnail_only

        loop = asyncio.get_running_loop()
        worker = _worker()
        try:
            if entry.source is None:
                entry.source = await loop.run_in_executor(worker, encode_bitmap, bitmap, entry.name)
            if with_thumbnail:
                thumb = await loop.run_in_executor(
                    worker, functools.partial(thumbnail_only, entry.source, THUMB_SIDE, name=entry.name)
                )
                self._show_thumbnail(entry, thumb.png)
            prepared = await loop.run_in_executor(
                worker, functools.partial(prepare_image, entry.source, self.detail, name=entry.name)
            )
        except ImageError as exc:
            self._drop(entry.key)
            self._refuse(exc.message)
            return
        except MemoryError:
            self._drop(entry.key)
            self._refuse(f"“{entry.name}” is too large to prepare (out of memory).")
            return
        except Exception as exc:  # a bug or an odd file must not leave the chip (and Send) waiting forever
            log.exception("preparing %s failed", entry.name)
            self._drop(entry.key)
            self._refuse(f"“{entry.name}” could not be prepared ({type(exc).__name__}: {exc}).")
            return
        if self._entries.get(entry.key) is not entry:
            return  # removed meanwhile
        entry.prepared = prepared
        chip = self.strip.chip(entry.key)
        if chip is not None:
            if not chip.has_thumbnail():
                self._show_thumbnail(entry, prepared.thumbnail)
            badge = "GIF" if prepared.note and "GIF" in prepared.note else ("1st page" if prepared.note else "")
            chip.set_ready(describe(prepared), badge)
        self.ready.emit(entry.key)
        self.changed.emit()

    def _show_thumbnail(self, entry: Entry, png: bytes) -> None:
        chip = self.strip.chip(entry.key)
        if chip is None or self._entries.get(entry.key) is not entry:
            return
        chip.set_thumbnail(png)
        self.thumbnailShown.emit(entry.key)

    def set_detail(self, detail: str) -> None:
        """Prepare again when the size the model uses changes (``low`` fits 512x512)."""
        if detail == self.detail:
            return
        resize = (detail == "low") != (self.detail == "low")
        self.detail = detail
        if not resize:
            return
        for entry in self._entries.values():
            if entry.task is not None and not entry.task.done():
                entry.task.cancel()
            entry.prepared = None
            chip = self.strip.chip(entry.key)
            if chip is not None:
                chip.set_preparing()
            entry.task = asyncio.ensure_future(self._prepare(entry, None, with_thumbnail=False))
        self.changed.emit()

    # -- state --------------------------------------------------------------------------------
    def has_any(self) -> bool:
        return bool(self._entries)

    def count(self) -> int:
        return len(self._entries)

    def is_preparing(self) -> bool:
        return any(e.prepared is None for e in self._entries.values())

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def prepared(self) -> list[PreparedImage]:
        return [e.prepared for e in self._entries.values() if e.prepared is not None]

    def store_all(self, store: AttachmentStore) -> list[dict[str, Any]]:
        """Write the prepared images (content-addressed) and return the message's attachment dicts."""
        return [store.add_prepared(e.prepared, detail=self.detail) for e in self._entries.values() if e.prepared]

    def remove(self, key: int) -> None:
        self._drop(key)
        self.changed.emit()

    def clear(self) -> None:
        for key in list(self._entries):
            self._drop(key)
        self.changed.emit()

    def _drop(self, key: int) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.task is not None and not entry.task.done():
            entry.task.cancel()
        self.strip.remove(key)

    def _refuse(self, message: str) -> None:
        self.composer.show_status(message, error=True)
        self.refused.emit(message)
        self.changed.emit()


_executor: ThreadPoolExecutor | None = None


def _worker() -> ThreadPoolExecutor:
    """One thread for all image preparation: jobs run one at a time, in order (every chip's quick
    thumbnail is queued before the slower full preparations), so decoding never competes with itself
    for the CPU or with the UI thread for more than one worker's share of the GIL."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-prepare")
    return _executor
