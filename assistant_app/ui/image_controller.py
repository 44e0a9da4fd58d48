"""Images in the chat window: attachments for the next message, Create image, previews that sharpen, the viewer.

Created by ``ChatController``; it calls ``handles`` (Create image mode, ``/image``), ``retry``,
``edit_prompt``, ``cancel`` and ``confirm_vision``. A generation paints each partial image into the
reply's tile as it arrives (decoded and scaled in a worker thread, so the UI thread only paints),
stores the final image content-addressed, and on failure keeps the last preview, marked, with Retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from assistant_app.api import errors as E
from assistant_app.api.image_results import CompletedImage, PartialImage
from assistant_app.core.attachments import AttachmentError, AttachmentStore
from assistant_app.core.capabilities import model_can_see_images
from assistant_app.core.store import NotFoundError
from assistant_app.ui.composer_attachments import ComposerAttachments
from assistant_app.ui.image_actions import ImageActions
from assistant_app.ui.image_jobs import (
    ImageJob,
    is_image_message,
    job_events,
    reply_fields,
    request_from,
    store_results,
)
from assistant_app.ui.image_pixels import decode_pixels, to_qimage
from assistant_app.ui.image_toolbar import ImageToolbar
from assistant_app.ui.items import sibling_map, to_item
from assistant_app.ui.message_images import LARGE_SIDE, image_attachments, set_store
from assistant_app.ui.vision_warning import warn_blind_model

if TYPE_CHECKING:
    from assistant_app.ui.chat_controller import ChatController

log = logging.getLogger(__name__)
IMAGE_PREFIX = "/image"


def image_prompt(text: str) -> str | None:
    """The prompt after ``/image`` (None when the text does not start with it)."""
    stripped = text.lstrip()
    if not stripped.startswith(IMAGE_PREFIX):
        return None
    rest = stripped[len(IMAGE_PREFIX) :]
    return rest if not rest or rest[0].isspace() else None


class ImageController(QObject):
    generationFinished = Signal(int, str)  # assistant message id, final status
    previewPainted = Signal(int, int, float)  # message id, partial index, arrival-to-paint ms

    def __init__(self, chat: ChatController) -> None:
        super().__init__(chat)
        self.chat = chat
        self.ctx = chat.ctx
        self.window = chat.window
        self.view = chat.view
        self.composer = chat.composer
        self.store = AttachmentStore(self.ctx.paths.attachments)
        set_store(self.store)
        self.attachments = ComposerAttachments(self.composer, [self.window])
        self.toolbar = ImageToolbar(self.composer)
        self.composer.add_below_editor(self.toolbar)
        self.actions = ImageActions(self)  # viewer, Edit…, Use as reference
        self.vision_box: QMessageBox | None = None
        self._task: asyncio.Task | None = None
        self._jobs: dict[int, ImageJob] = {}  # reply id -> what it asked (Retry keeps the mask, options)
        self._current: tuple[int, int] = (0, -1)  # reply id, index of the preview being painted
        self._previews = 0
        self._started = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._tick)
        self._placeholder = self.composer.editor.placeholderText()
        images_settings = self.ctx.settings.extra.get("images")
        if isinstance(images_settings, dict) and images_settings.get("model"):
            self.toolbar.set_model(str(images_settings["model"]))  # the same default as `assistant-app image`

        self.toolbar.attachClicked.connect(lambda: self.attachments.choose_files(self.window))
        self.toolbar.detailChanged.connect(self.attachments.set_detail)
        self.toolbar.createModeChanged.connect(self._mode_changed)
        self.attachments.strip.previewRequested.connect(self.actions.preview_attachment)
        self.view.imageActivated.connect(self.actions.open_viewer)
        self.window.closing.connect(self.cancel)

    def _mode_changed(self, on: bool) -> None:
        self.composer.editor.setPlaceholderText(
            "Describe the image to create…  (Enter to generate)" if on else self._placeholder
        )

    # -- state ----------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def cancel(self) -> None:
        if self.is_busy():
            assert self._task is not None
            self._task.cancel()

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    # -- sending a chat message with images -----------------------------------------------------
    def blocked_reason(self) -> str | None:
        if self.attachments.is_preparing():
            return "An image is still being prepared; you can send as soon as its chip stops spinning."
        return None

    def confirm_vision(self, model: str, proceed: Callable[[], None]) -> bool:
        """True to send now; False when the model is known to be blind (a warning opens; it may call ``proceed``)."""
        if not self.attachments.has_any() or model_can_see_images(self.ctx.settings, model) is not False:
            return True
        self.vision_box = warn_blind_model(self.window, self.ctx, model, proceed)
        return False

    def take_attachments(self) -> list[dict[str, Any]]:
        """Store the ready images and empty the strip; returns the message's attachment dicts."""
        atts = self.attachments.store_all(self.store)
        self.attachments.clear()
        return atts

    # -- Create image -----------------------------------------------------------------------------
    def handles(self, text: str) -> bool:
        """Start a generation when the composer is in Create image mode or the text starts with /image."""
        prompt = image_prompt(text)
        if prompt is None:
            if not self.toolbar.create_mode():
                return False
            prompt = text
        if self.is_busy() or self.chat.is_busy():
            return True
        if not prompt.strip():
            self.composer.show_status("Describe the image you want after /image.", error=True)
            return True
        if (reason := self.blocked_reason()) is not None:
            self.composer.show_status(reason, error=True)
            return True
        refs = tuple(p.data for p in self.attachments.prepared())
        job = ImageJob(0, 0, prompt.strip(), self.toolbar.request(), refs)
        try:
            job.check()
        except E.InvalidOptionsError as exc:
            self.composer.show_status(exc.user_message, error=True)
            return True
        atts = self.take_attachments()
        self.ask(job, atts)
        self.composer.clear()
        return True

    def ask(self, job: ImageJob, attachments: list[dict[str, Any]]) -> None:
        """Store the prompt (with ``attachments``) as a user message and start ``job`` under it."""
        conv_id = self.chat._ensure_conversation()
        conv = self.ctx.store.get_conversation(conv_id)
        user = self.ctx.chat_service().add_user_message(
            conv_id, job.prompt, parent_id=conv.head_id, attachments=attachments or None
        )
        self.view.append_message(to_item(user))
        self._start(ImageJob(conv_id, user.id, job.prompt, job.request, job.images, job.mask, job.partial_images))
        self.chat.refresh_list()
        self.window.set_title(self.ctx.store.get_conversation(conv_id).title)

    def _start(self, job: ImageJob) -> None:
        reply = self.ctx.store.add_message(
            job.conversation_id, "assistant", "", parent_id=job.parent_id, status="streaming", model=job.request.model
        )
        self._jobs[reply.id] = job
        self.view.append_message(to_item(reply))
        self.view.scroll_to_bottom()
        self.composer.set_busy(True)
        self.composer.clear_status()
        self._task = asyncio.ensure_future(self._run(reply.id, job))

    async def _run(self, reply_id: int, job: ImageJob) -> None:
        loop = asyncio.get_running_loop()
        self._current, self._previews, self._started = (reply_id, -1), 0, loop.time()
        self._timer.start()
        self._tick()
        last: PartialImage | None = None
        finals: list[CompletedImage] = []
        status, error = "error", None
        client = self.ctx.client().tagged(conversation_id=job.conversation_id, message_id=reply_id)
        try:
            async with aclosing(job_events(client, job)) as events:
                async for ev in events:
                    arrived = time.perf_counter()
                    if isinstance(ev, PartialImage):
                        last = ev
                        pixels = await loop.run_in_executor(None, decode_pixels, ev.data, LARGE_SIDE)
                        self._previews += 1
                        self._paint(reply_id, ev.index, to_qimage(pixels), arrived)
                    else:
                        finals.append(ev)
            status = "complete" if finals else "error"
            error = None if finals else "The server answered without an image."
        except asyncio.CancelledError:
            status, error = "stopped", "Cancelled; the last preview is kept." if last else "Cancelled."
        except E.APIError as exc:
            error = exc.user_message
        except Exception as exc:  # a bug must not leave the composer busy
            log.exception("image generation failed unexpectedly")
            error = f"Something went wrong: {type(exc).__name__}: {exc}"
        finally:
            self._timer.stop()
        try:
            await self._record(reply_id, job, finals, last, status, error)
        finally:
            self.composer.set_busy(False)
            if status == "error" and error:
                self.composer.show_status(error, error=True)
            elif status == "stopped":
                self.composer.show_status(error or "Cancelled.")
            self.chat.refresh_list()
            self.chat.usage_ui.after_call(None)  # budgets and an open Usage window (_record did the costs)
            self.generationFinished.emit(reply_id, status)

    def _paint(self, reply_id: int, index: int, image: Any, arrived: float) -> None:
        row = self.view.row(reply_id)
        if row is None:
            return
        images = row.ensure_images()
        tile = images.live_tile()
        if not tile.property("watched"):
            tile.setProperty("watched", True)
            tile.painted.connect(lambda ms, rid=reply_id: self.previewPainted.emit(rid, self._current[1], ms))
        self._current = (reply_id, index)
        images.show_preview(image, arrived)
        self._tick()

    def _tick(self) -> None:
        reply_id = self._current[0]
        row = self.view.row(reply_id)
        if row is None:
            return
        job = self._jobs.get(reply_id)
        expected = job.expected_previews() if job else 0
        elapsed = asyncio.get_event_loop().time() - self._started
        text = f"Generating… {elapsed:.0f} s"
        if expected:
            text += f" · preview {self._previews} of {expected}"
        row.status_label.setText(text + " · Esc cancels")
        row.status_label.show()

    async def _record(
        self,
        reply_id: int,
        job: ImageJob,
        finals: list[CompletedImage],
        last: PartialImage | None,
        status: str,
        error: str | None,
    ) -> None:
        atts = await store_results(self.store, self.ctx.usage.prices, job, finals, last)
        fields = reply_fields(finals, atts, status, error)
        try:
            self.ctx.store.update_message(reply_id, **fields)
            msg = self.ctx.store.get_message(reply_id)
        except NotFoundError:  # the conversation was deleted meanwhile
            return
        shown = msg.conversation_id == self.chat.conversation_id
        costs = self.chat.usage_ui.refresh_costs(msg.conversation_id) if shown else None  # and the title's total
        self.view.update_message(to_item(msg, sibling_map(self.ctx.store.messages(msg.conversation_id)), costs))

    # -- Retry / Regenerate / Edit of image messages -------------------------------------------
    def retry(self, message_id: int) -> bool:
        """Regenerate (or Retry) an image reply: a new image for the same prompt. False if not an image reply."""
        try:
            msg = self.ctx.store.get_message(message_id)
        except NotFoundError:
            return False
        if message_id not in self._jobs and not is_image_message(msg):
            return False
        if self.is_busy() or self.chat.is_busy() or msg.parent_id is None:
            return True
        job = self._job_for(msg)
        if job is None:
            return False
        self.view.remove_from(message_id)
        self._start(job)
        return True

    def edit_prompt(self, user_id: int, new_text: str) -> bool:
        """An edited prompt whose reply was an image: generate again as a new branch."""
        replies = [m for m in self.ctx.store.children(user_id) if m.id in self._jobs or is_image_message(m)]
        if not replies:
            return False
        if self.is_busy() or self.chat.is_busy():
            return True
        old = self.ctx.store.get_message(user_id)
        job = self._job_for(replies[-1])
        if job is None:
            return False
        user = self.ctx.chat_service().add_user_message(
            old.conversation_id, new_text, parent_id=old.parent_id, attachments=list(old.attachments or [])
        )
        self.chat._render_path(self.ctx.store.active_path(old.conversation_id))
        self._start(job.again(user.id, new_text.strip()))
        return True

    def _job_for(self, reply: Any) -> ImageJob | None:
        known = self._jobs.get(reply.id)
        if known is not None:
            return known
        parent = self.ctx.store.get_message(reply.parent_id)
        request = request_from(reply.attachments or [], reply.model or "") or self.toolbar.request()
        try:
            refs = tuple(self.store.load_bytes(a) for a in image_attachments(parent.attachments or []))
        except AttachmentError as exc:
            self.composer.show_status(str(exc), error=True)
            return None
        return ImageJob(reply.conversation_id, parent.id, parent.content, request, refs)
