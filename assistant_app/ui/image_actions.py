"""The image viewer's actions for the chat window: open, preview a chip, Edit…, Use as reference."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt

from assistant_app.api import errors as E
from assistant_app.core.attachments import AttachmentError
from assistant_app.ui.image_jobs import ImageJob
from assistant_app.ui.image_toolbar import ImageRequest
from assistant_app.ui.image_viewer import ImageViewer

if TYPE_CHECKING:
    from assistant_app.ui.image_controller import ImageController


class ImageActions(QObject):
    def __init__(self, images: ImageController) -> None:
        super().__init__(images)
        self.images = images
        self.viewer: ImageViewer | None = None  # the last one opened (tests drive it)

    def open_viewer(self, att: dict[str, Any]) -> ImageViewer | None:
        try:
            data = self.images.store.load_bytes(att)
        except AttachmentError as exc:
            self.images.window.statusBar().showMessage(str(exc), 8000)
            return None
        viewer = ImageViewer(
            data, str(att.get("name") or "image"), attachment=att, editable=True, parent=self.images.window
        )
        viewer.editRequested.connect(self.edit_image)
        viewer.referenceRequested.connect(self.use_as_reference)
        return self._show(viewer)

    def preview_attachment(self, key: int) -> ImageViewer | None:
        entry = next((e for e in self.images.attachments.entries() if e.key == key), None)
        if entry is None:
            return None
        data = entry.prepared.data if entry.prepared else entry.source
        if isinstance(data, str):
            try:
                data = Path(data).read_bytes()
            except OSError as exc:
                self.images.composer.show_status(f"“{entry.name}” cannot be read ({exc.strerror}).", error=True)
                return None
        if not data:
            return None
        return self._show(ImageViewer(data, entry.name, parent=self.images.window))

    def _show(self, viewer: ImageViewer) -> ImageViewer:
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()
        self.viewer = viewer
        return viewer

    def use_as_reference(self, att: dict[str, Any]) -> None:
        try:
            data = self.images.store.load_bytes(att)
        except AttachmentError as exc:
            self.images.composer.show_status(str(exc), error=True)
            return
        self.images.attachments.add_bytes(data, str(att.get("name") or "reference image"))
        self.images.composer.editor.setFocus()

    def edit_image(self, att: dict[str, Any], prompt: str, mask_path: str, model: str) -> None:
        """Edit… from the viewer: the image (and mask) to /images/edits; the result is a new image reply."""
        if self.images.chat.is_busy():
            self.images.composer.show_status("Wait for the current reply to finish, then edit the image.", error=True)
            return
        try:
            data = self.images.store.load_bytes(att)
            mask = Path(mask_path).read_bytes() if mask_path else None
        except (AttachmentError, OSError) as exc:
            self.images.composer.show_status(f"The image or mask cannot be read: {exc}", error=True)
            return
        job = ImageJob(0, 0, prompt.strip(), ImageRequest(model=model), (data,), mask)
        try:
            job.check()
        except E.InvalidOptionsError as exc:
            self.images.composer.show_status(exc.user_message, error=True)
            return
        self.images.ask(job, [att])
