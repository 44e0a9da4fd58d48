"""Owns the chat's asyncio tasks and turns user intents into engine calls and view updates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from assistant_app.core.chat import ChatOptions, ReplyDelta, ReplyEvent, ReplyFailed, ReplyFinished, ReplyStarted
from assistant_app.core.context import AppContext
from assistant_app.core.search_text import MATCH_END, MATCH_START, readable_snippet
from assistant_app.core.store import NotFoundError
from assistant_app.ui.conversation_list import ConversationRow, SearchRow
from assistant_app.ui.items import items_for_path, sibling_map, to_item
from assistant_app.ui.main_window import MainWindow
from assistant_app.ui.usage_controller import UsageController

if TYPE_CHECKING:
    from assistant_app.api.client import RetryNotice
    from assistant_app.ui.image_controller import ImageController

log = logging.getLogger(__name__)


class ChatController(QObject):
    """One conversation at a time is shown; one reply at a time streams."""

    busyChanged = Signal(bool)
    replyFinished = Signal(int, str)  # message id, final status (tests and the e2e harness wait on it)

    def __init__(self, ctx: AppContext, window: MainWindow) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.view = window.messages
        self.composer = window.composer
        self.conversation_id: int | None = None
        self._task: asyncio.Task | None = None
        self._streaming_id: int | None = None
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(250)
        self._retry_timer.timeout.connect(self._tick_retry)
        self._retry_deadline = 0.0
        self._retry_text = ""
        self._pending_model: str | None = None  # picked before the conversation exists
        self._models: list[str] = []

        sb = window.sidebar
        sb.newRequested.connect(self.new_conversation)
        sb.conversationSelected.connect(self.open_conversation)
        sb.searchHitSelected.connect(self._open_hit)
        sb.renameRequested.connect(self.rename)
        sb.deleteRequested.connect(self.delete)
        sb.searchChanged.connect(self.search)
        self.composer.sendRequested.connect(self.send)
        self.composer.stopRequested.connect(self.stop)
        self.view.regenerateRequested.connect(self.regenerate)
        self.view.retryRequested.connect(self.regenerate)
        self.view.editSubmitted.connect(self.edit)
        self.view.branchRequested.connect(self.switch_branch)
        self.view.continueRequested.connect(self.continue_reply)
        window.exportRequested.connect(self.export_dialog)
        window.modelChosen.connect(self.set_model)
        self._images: ImageController | None = None  # built after the first frame (app.py) or on first use
        self.usage_ui = UsageController(ctx, window, self)  # costs, budgets, circuit breaker, Usage window

    # -- conversations ------------------------------------------------------------------------

    def refresh_list(self) -> None:
        if self.window.sidebar.is_searching():
            return
        rows = [ConversationRow(c.id, c.title) for c in self.ctx.store.list_conversations()]
        self.window.sidebar.set_conversations(rows, self.conversation_id)

    def new_conversation(self) -> None:
        """A blank page; the conversation is stored when the first message is sent."""
        if self.is_busy():
            self.stop()
        self.conversation_id = None
        self.view.clear()
        self.view.show_placeholder(self.view.NEW_CHAT_HINT)
        self.window.set_title("New chat")
        self.window.set_models(self.model_names(), self.ctx.default_options().model)
        self.window.sidebar.select(None)
        self.usage_ui.refresh_costs(None)
        self.composer.clear_status()
        self.composer.editor.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        if self.is_busy():
            self.stop()
        try:
            conv = self.ctx.store.get_conversation(conversation_id)
        except NotFoundError:
            self.refresh_list()
            return
        self.conversation_id = conv.id
        self._render_path(self.ctx.store.active_path(conv.id))
        self.window.set_title(conv.title)
        self.window.set_models(self.model_names(), conv.model or self.ctx.default_options().model)
        self.window.sidebar.select(conv.id)
        self.composer.clear_status()

    def _render_path(self, path: list) -> None:
        assert self.conversation_id is not None
        all_messages = self.ctx.store.messages(self.conversation_id)
        items = items_for_path(path, all_messages, self.usage_ui.refresh_costs(self.conversation_id))
        if items:
            self.view.set_messages(items)
        else:
            self.view.clear()
            self.view.show_placeholder("This conversation is empty.")

    def _open_hit(self, conversation_id: int, message_id: int) -> None:
        """Open the conversation of a search hit on the branch holding the message, scrolled to it."""
        self.open_conversation(conversation_id)
        if message_id < 0 or self.conversation_id != conversation_id:
            return  # the title matched, or the conversation is gone
        try:
            path = self.ctx.store.switch_to(message_id)
        except NotFoundError:
            return
        self._render_path(path)
        self.view.reveal(message_id)

    def rename(self, conversation_id: int, title: str) -> None:
        self.ctx.store.rename_conversation(conversation_id, title)
        if conversation_id == self.conversation_id:
            self.window.set_title(title)
        self.refresh_list()

    def delete(self, conversation_id: int) -> None:
        if conversation_id == self.conversation_id:
            self.new_conversation()
        self.ctx.store.delete_conversation(conversation_id)
        self.refresh_list()

    def search(self, query: str) -> None:
        if not query:
            self.window.sidebar.set_conversations(
                [ConversationRow(c.id, c.title) for c in self.ctx.store.list_conversations()], self.conversation_id
            )
            return
        hits = self.ctx.store.search(query, limit=100, marks=(MATCH_START, MATCH_END))
        rows = [
            SearchRow(h.conversation_id, h.message_id, h.conversation_title, readable_snippet(h.snippet)) for h in hits
        ]
        self.window.sidebar.set_search_results(rows, query)

    def set_model(self, model: str) -> None:
        if not model:
            return
        if self.conversation_id is not None:
            if self.ctx.store.get_conversation(self.conversation_id).model != model:
                self.ctx.store.update_conversation(self.conversation_id, model=model)
        else:
            self._pending_model = model

    def model_names(self) -> list[str]:
        return list(self._models)

    def set_available_models(self, models: list[str]) -> None:
        self._models = models
        current = self.window.model_picker.currentText() or self.ctx.default_options().model
        self.window.set_models(models, current)

    # -- sending ------------------------------------------------------------------------------

    def is_busy(self) -> bool:
        """A chat reply or an image generation is running."""
        return (self._task is not None and not self._task.done()) or (
            self._images is not None and self._images.is_busy()
        )

    def _options(self) -> ChatOptions:
        defaults = self.ctx.default_options()
        if self._pending_model:
            defaults.model = self._pending_model
        if self.conversation_id is None:
            return defaults
        return self.ctx.chat_service().options_for(self.conversation_id, defaults)

    def _ensure_conversation(self) -> int:
        if self.conversation_id is None:
            options = self._options()
            conv = self.ctx.store.create_conversation(model=options.model)
            self.conversation_id = conv.id
            self._pending_model = None
            self.view.clear()
        return self.conversation_id

    def send(self, text: str) -> None:
        if self.is_busy() or not (text.strip() or self.images.attachments.has_any()):
            return
        if not self.usage_ui.allow_send(text):  # over budget: asks first (and sends if the user agrees)
            return
        if self.images.handles(text) or not self._images_ready(text):  # Create image / /image; vision check
            return
        self._send_message(text)

    def _send_message(self, text: str) -> None:
        if self.is_busy():  # e.g. after the vision warning, if something started meanwhile
            return
        attachments = self.images.take_attachments()
        if not text.strip() and not attachments:
            return
        conv_id = self._ensure_conversation()
        conv = self.ctx.store.get_conversation(conv_id)
        service = self.ctx.chat_service()
        user = service.add_user_message(conv_id, text, parent_id=conv.head_id, attachments=attachments or None)
        self.composer.clear()
        self.view.append_message(to_item(user))
        self._start(service.generate(conv_id, user.id, self._options(), on_retry=self._on_retry))
        self.refresh_list()
        self.window.set_title(self.ctx.store.get_conversation(conv_id).title)

    def regenerate(self, message_id: int) -> None:
        """A new reply to the same user message; the old one stays as a branch."""
        if self.is_busy() or self.conversation_id is None or self.images.retry(message_id):
            return
        msg = self.ctx.store.get_message(message_id)
        if msg.parent_id is None:
            return
        self.view.remove_from(message_id)
        service = self.ctx.chat_service()
        self._start(service.generate(self.conversation_id, msg.parent_id, self._options(), on_retry=self._on_retry))

    def edit(self, message_id: int, new_text: str) -> None:
        """Resend an edited user message as a new branch beside the original."""
        if self.is_busy() or self.conversation_id is None or not new_text.strip():
            return
        if self.images.edit_prompt(message_id, new_text):
            return
        old = self.ctx.store.get_message(message_id)
        service = self.ctx.chat_service()
        user = service.add_user_message(self.conversation_id, new_text, parent_id=old.parent_id,
                                        attachments=list(old.attachments or []))
        self._render_path(self.ctx.store.active_path(self.conversation_id))
        self._start(service.generate(self.conversation_id, user.id, self._options(), on_retry=self._on_retry))

    def continue_reply(self, message_id: int) -> None:
        if self.is_busy() or self.conversation_id is None or self.images.retry(message_id):
            return
        service = self.ctx.chat_service()
        self._render_path(self.ctx.store.switch_to(message_id))
        self._start(service.continue_reply(message_id, self._options(), on_retry=self._on_retry), resume=message_id)

    def switch_branch(self, message_id: int) -> None:
        if self.is_busy() or self.conversation_id is None:
            return
        self._render_path(self.ctx.store.switch_to(message_id))

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._images is not None:
            self._images.cancel()

    def _start(self, events: AsyncIterator[ReplyEvent], *, resume: int | None = None) -> None:
        self.composer.set_busy(True)
        self.composer.clear_status()
        self.busyChanged.emit(True)
        self._task = asyncio.ensure_future(self._consume(events, resume))

    async def _consume(self, events: AsyncIterator[ReplyEvent], resume: int | None) -> None:
        final_id = -1
        final_status = "error"
        try:
            async for ev in events:
                if isinstance(ev, ReplyStarted):
                    self._streaming_id = ev.message.id
                    item = to_item(ev.message)
                    if resume is None:
                        self.view.begin_stream(item)
                    else:
                        self.view.update_message(item)
                elif isinstance(ev, ReplyDelta):
                    self._stop_retry_status()
                    self.view.append_stream_text(ev.message_id, ev.text)
                elif isinstance(ev, ReplyFinished):
                    final_id, final_status = ev.message.id, ev.message.status
                    # The reply was just saved (a 20,000-token one with its search index: a few ms); let
                    # the window take a breath before the finishing render, rather than do both at once.
                    await asyncio.sleep(0)
                    self._finish(ev.message)
                elif isinstance(ev, ReplyFailed):
                    final_id, final_status = ev.message.id, ev.message.status
                    self._finish(ev.message)
                    self.composer.show_status(ev.error.user_message, error=True)
                    self.usage_ui.reply_failed(ev.message.id, ev.error)
        except asyncio.CancelledError:
            if self._streaming_id is not None:
                try:
                    msg = self.ctx.store.get_message(self._streaming_id)
                    final_id, final_status = msg.id, msg.status
                    self._finish(msg)
                except NotFoundError:
                    pass
            if final_status != "complete":  # not when Stop landed just as the finished reply was shown
                self.composer.show_status("Stopped. What arrived is kept; Regenerate or Continue to go on.")
        except Exception as exc:  # a bug must not leave the window stuck in "busy"
            log.exception("reply failed unexpectedly")
            self.composer.show_status(f"Something went wrong: {type(exc).__name__}: {exc}", error=True)
        finally:
            self._stop_retry_status(clear=False)
            self._streaming_id = None
            self.composer.set_busy(False)
            self.busyChanged.emit(False)
            self.refresh_list()
            log.info("reply %s shown with status %s", final_id, final_status)  # e2e tests wait on this line
            self.replyFinished.emit(final_id, final_status)

    def _finish(self, message) -> None:
        assert self.conversation_id is not None
        all_messages = self.ctx.store.messages(self.conversation_id)
        costs = self.usage_ui.refresh_costs(self.conversation_id)
        self.view.finish_stream(to_item(message, sibling_map(all_messages), costs))

    # -- retry countdown ------------------------------------------------------------------------

    def _on_retry(self, _message_id: int, notice: RetryNotice) -> None:
        loop = asyncio.get_event_loop()
        self._retry_deadline = loop.time() + notice.delay
        self._retry_text = (
            f"{notice.error.user_message} Retrying in {{s}} s (attempt {notice.attempt} of {notice.max_attempts})…"
        )
        self._tick_retry()
        self._retry_timer.start()

    def _tick_retry(self) -> None:
        remaining = max(0.0, self._retry_deadline - asyncio.get_event_loop().time())
        self.composer.show_status(self._retry_text.format(s=f"{remaining:.0f}" if remaining >= 1 else "<1"))
        if remaining <= 0:
            self._retry_timer.stop()

    def _stop_retry_status(self, clear: bool = True) -> None:
        if self._retry_timer.isActive():
            self._retry_timer.stop()
            if clear:
                self.composer.clear_status()

    # -- images (ui/image_controller.py does the work) -----------------------------------------

    @property
    def images(self) -> ImageController:
        """Attachments, Create image and the viewer; its modules load after the window is shown."""
        if self._images is None:
            from assistant_app.ui.image_controller import ImageController

            self._images = ImageController(self)
        return self._images

    def _images_ready(self, text: str) -> bool:
        """Not while an image is being prepared; a warning first if the model is known not to see images."""
        reason = self.images.blocked_reason()
        if reason is not None:
            self.composer.show_status(reason, error=True)
            return False
        return self.images.confirm_vision(self._options().model, lambda: self._send_message(text))

    # -- export ---------------------------------------------------------------------------------

    def export_dialog(self, fmt: str, everything: bool) -> None:
        if not everything and self.conversation_id is None:
            QMessageBox.information(self.window, "Export", "Open a conversation first.")
            return
        suffix = ".md" if fmt == "markdown" else ".json"
        name = "conversations" if everything else f"conversation-{self.conversation_id}"
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export", str(Path.home() / f"{name}{suffix}"),
            "Markdown (*.md)" if fmt == "markdown" else "JSON (*.json)",
        )
        if path:
            self.export_to(Path(path), fmt, everything)

    def export_to(self, path: Path, fmt: str, everything: bool) -> None:
        ids = None if everything else [self.conversation_id]
        from assistant_app.core.export import export_json, export_markdown

        text = export_markdown(self.ctx.store, ids) if fmt == "markdown" else export_json(self.ctx.store, ids)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self.window, "Export failed", f"Could not write {path}: {exc.strerror or exc}")
            return
        self.window.statusBar().showMessage(f"Exported to {path}", 5000)
