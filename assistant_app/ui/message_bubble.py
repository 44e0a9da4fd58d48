"""One message in the transcript: the bubble (block widgets), its status line, meta line and actions.

The widget never holds the reply's text as the source of truth: complete messages render from
``MessageItem.content``; a streaming reply renders from a ``StreamBuffer`` the view feeds.
"""

from __future__ import annotations

import dataclasses
import re
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.ui.markdown import (
    CodeSegment,
    highlight_in_background,
    is_highlighted,
    prose_before_fence,
    render_segments,
    split_open_fence,
)
from assistant_app.ui.message_blocks import (
    BlockStack,
    LiveCodeBlock,
    PlainBlock,
    create_block,
    hold_height,
    segment_key,
)
from assistant_app.ui.message_images import MessageImages, image_attachments
from assistant_app.ui.message_model import MessageItem, StreamBuffer

USER_BUBBLE_FRACTION = 0.78
_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System prompt"}


def status_text(item: MessageItem) -> tuple[str, str]:
    """(text, kind) of the status line; kind is "", "info", "warning" or "error"."""
    error = (item.error or "").strip()
    if item.status == "streaming":
        return "Generating…", "info"
    if item.status == "stopped":
        detail = "" if error.rstrip(".").lower() == "stopped" else error  # the engine's plain "Stopped."
        return (f"Stopped — {detail}" if detail else "Stopped"), "warning"
    if item.status == "incomplete":
        if not error:
            return "Incomplete — the reply was cut off", "warning"
        if error.lower().startswith("incomplete"):
            return error, "warning"
        return f"Incomplete — {error}", "warning"
    if item.status == "error":
        return (error or "The request failed"), "error"
    return "", ""


# The exact final render of a long reply runs here (pure Python, Qt-free), off the GUI thread.
_FINAL_PASS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="markdown")


def start_workers() -> None:
    """Start the final-render thread now rather than with the first finished reply (~6 ms)."""
    _FINAL_PASS.submit(int)


def _final_render(text: str) -> tuple:
    """Worker thread: the exact render, with every code block highlighted (into the shared cache), so
    the GUI thread creates the blocks without running Pygments."""
    segments = render_segments(text)
    for segment in segments:
        if isinstance(segment, CodeSegment):
            segment.html  # noqa: B018  (highlights into the cache)
    return segments


_BETWEEN_TAGS = re.compile(r">\s+<")


def _looks_the_same(shown: list[tuple], exact: list[tuple]) -> bool:
    """Whether the exact render of a reply shows what the streamed blocks already show.

    Streaming renders each finished block on its own; the exact pass renders runs of prose together
    (which matters for reference links and loose lists). When joining the streamed prose of each run
    gives the same HTML, the picture is the same and the widgets can stay."""

    def runs(keys: list[tuple]) -> list[tuple] | None:
        out: list[tuple] = []
        for key in keys:
            if not key:
                return None  # a block we cannot compare
            if key[0] == "prose" and out and out[-1][0] == "prose":
                out[-1] = ("prose", out[-1][1] + key[1])
            else:
                out.append(key)
        return [("prose", _BETWEEN_TAGS.sub("><", k[1]).strip()) if k[0] == "prose" else k for k in out]

    a, b = runs(shown), runs(exact)
    return a is not None and a == b


class _EditBox(QPlainTextEdit):
    """The in-place editor of a user message: as tall as its text (3 to 14 lines), Ctrl+Enter saves
    and sends, Esc cancels."""

    submitted = Signal()
    cancelled = Signal()
    MIN_LINES, MAX_LINES = 3, 14

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.textChanged.connect(self._fit)

    def keyPressEvent(self, event) -> None:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
        elif key == Qt.Key.Key_Escape:
            self.cancelled.emit()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        doc = self.document()
        lines = 0
        block = doc.begin()
        while block.isValid():
            lines += max(1, block.layout().lineCount()) if block.layout() is not None else 1
            block = block.next()
        lines = max(self.MIN_LINES, min(self.MAX_LINES, lines))
        margins = self.contentsMargins()
        height = int(lines * self.fontMetrics().lineSpacing() + 2 * doc.documentMargin())
        height += margins.top() + margins.bottom()
        if self.height() != height:
            self.setFixedHeight(height)


class MessageWidget(QWidget):
    """A transcript row. Emits intents; the view re-emits them with its public signals."""

    regenerateRequested = Signal(int)
    editSubmitted = Signal(int, str)
    branchRequested = Signal(int)
    retryRequested = Signal(int)
    continueRequested = Signal(int)
    imageActivated = Signal(dict)  # an attachment's image was clicked
    editStarted = Signal(int)  # message id; the in-place editor is open (the view scrolls it into sight)
    streamFlushed = Signal(int)  # message id; the streamed blocks changed outside the view's flush
    FINAL_RENDER_DELAY_MS = 50  # see end_stream
    _final_ready = Signal(int, object)  # emitted from the worker thread; delivered queued on the GUI thread
    _highlight_ready = Signal()  # likewise, when code highlighted off the GUI thread is ready

    def __init__(self, item: MessageItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageRow")
        self.item = dataclasses.replace(item)
        self.role = item.role if item.role in _ROLE_NAMES else "assistant"
        self.setAccessibleName(_ROLE_NAMES[self.role])
        self.blocks_created = 0  # block widgets made so far (tests check finished blocks are made once)
        self._stream: StreamBuffer | None = None
        self._rendered = 0  # finished blocks of the stream already turned into widgets
        self._tail_label: PlainBlock | None = None
        self._tail_segments: tuple | None = None  # the end of a finished reply still shown by the tail widgets
        self._live_code: LiveCodeBlock | None = None
        self._editor: QWidget | None = None
        self._natural_width: int | None = None
        self._final_generation = 0  # bumps on every full render, so a late worker result is dropped
        self._final_ready.connect(self._apply_final, Qt.ConnectionType.QueuedConnection)
        self._highlight_job: Future | None = None
        self._highlight_ready.connect(self._highlight_done, Qt.ConnectionType.QueuedConnection)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 6, 16, 6)
        outer.setSpacing(3)

        self.bubble = QFrame(self)
        self.bubble.setObjectName("messageBubble")
        self.bubble.setProperty("role", self.role)
        self._bubble_layout = QVBoxLayout(self.bubble)
        if self.role == "assistant":
            self._bubble_layout.setContentsMargins(0, 2, 0, 2)
        else:
            self._bubble_layout.setContentsMargins(14, 9, 14, 9)
        self._bubble_layout.setSpacing(8)
        if self.role == "system":
            caption = QLabel("System prompt", self.bubble)
            caption.setObjectName("systemCaption")
            self._bubble_layout.addWidget(caption)
        self._stack = BlockStack(self.bubble)
        self._bubble_layout.addWidget(self._stack)
        self.images: MessageImages | None = None  # created for messages with images (or a live preview)
        self._sync_images()

        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        if self.role == "user":
            line.addStretch(1)
        line.addWidget(self.bubble, 0 if self.role == "user" else 1)
        outer.addLayout(line)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("messageStatus")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setProperty("kind", "")
        self.status_label.hide()
        outer.addWidget(self.status_label)

        self.meta_label = QLabel(self)
        self.meta_label.setObjectName("messageMeta")
        self.meta_label.setTextFormat(Qt.TextFormat.PlainText)
        self.meta_label.setWordWrap(True)
        self.meta_label.hide()
        outer.addWidget(self.meta_label)

        self._build_actions(outer)
        if self.role == "assistant":  # what streams (user bubbles size themselves to their text: _fit_width)
            hold_height(self.bubble)
            hold_height(self)
        self._render_content(self.item.content)
        self._update_decor()

    # ------------------------------------------------------------------ actions bar
    def _action(self, text: str, name: str, tip: str, parent: QWidget | None = None) -> QToolButton:
        button = QToolButton(parent or self._actions)
        button.setObjectName("messageAction")
        button.setText(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        if parent is None:
            self._actions_layout.addWidget(button)
        return button

    def _build_actions(self, outer: QVBoxLayout) -> None:
        self._actions = QWidget(self)
        self._actions.setObjectName("messageActions")
        self._actions_layout = QHBoxLayout(self._actions)
        self._actions_layout.setContentsMargins(0, 0, 0, 0)
        self._actions_layout.setSpacing(2)
        if self.role == "user":
            self._actions_layout.addStretch(1)

        self._recover_box: QWidget | None = None  # Retry / Continue, created when first needed
        self._branch_box: QWidget | None = None  # ‹ n/m ›, created when first needed

        self.copy_button = self._action("Copy", "Copy message", "Copy the message as Markdown")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.regenerate_button: QToolButton | None = None
        self.edit_button: QToolButton | None = None
        if self.role == "assistant":
            self.regenerate_button = self._action("Regenerate", "Regenerate reply", "Generate a new reply")
            self.regenerate_button.clicked.connect(lambda: self.regenerateRequested.emit(self.item.id))
        elif self.role == "user":
            self.edit_button = self._action("Edit", "Edit message", "Edit and send again")
            self.edit_button.clicked.connect(self.start_edit)
        if self.role != "user":
            self._actions_layout.addStretch(1)
        self.layout().addWidget(self._actions)

    def _ensure_recover_box(self) -> QWidget:
        if self._recover_box is None:
            box = QWidget(self._actions)
            layout = QHBoxLayout(box)
            layout.setContentsMargins(0, 0, 6, 0)
            layout.setSpacing(6)
            self.retry_button = QPushButton("Retry", box)
            self.retry_button.setObjectName("recoverButton")
            self.retry_button.setAccessibleName("Retry")
            self.retry_button.setToolTip("Send the request again")
            self.retry_button.clicked.connect(lambda: self.retryRequested.emit(self.item.id))
            self.continue_button = QPushButton("Continue", box)
            self.continue_button.setObjectName("recoverButton")
            self.continue_button.setAccessibleName("Continue")
            self.continue_button.setToolTip("Ask the model to continue this reply")
            self.continue_button.clicked.connect(lambda: self.continueRequested.emit(self.item.id))
            layout.addWidget(self.retry_button)
            layout.addWidget(self.continue_button)
            anchor = self._branch_box if self._branch_box is not None else self.copy_button
            self._actions_layout.insertWidget(self._actions_layout.indexOf(anchor), box)
            self._recover_box = box
        return self._recover_box

    def _ensure_branch_box(self) -> QWidget:
        if self._branch_box is None:
            box = QWidget(self._actions)
            layout = QHBoxLayout(box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(0)
            self.prev_button = self._action("‹", "Previous version", "Show the previous version", box)
            self.branch_label = QLabel(box)
            self.branch_label.setObjectName("branchLabel")
            self.next_button = self._action("›", "Next version", "Show the next version", box)
            self.prev_button.clicked.connect(lambda: self._branch(-1))
            self.next_button.clicked.connect(lambda: self._branch(+1))
            layout.addWidget(self.prev_button)
            layout.addWidget(self.branch_label)
            layout.addWidget(self.next_button)
            self._actions_layout.insertWidget(self._actions_layout.indexOf(self.copy_button), box)
            self._branch_box = box
        return self._branch_box

    def _branch(self, step: int) -> None:
        ids = self.item.sibling_ids
        if self.item.id not in ids:
            return
        target = ids.index(self.item.id) + step
        if 0 <= target < len(ids):
            self.branchRequested.emit(ids[target])

    def copy_to_clipboard(self) -> None:
        QApplication.clipboard().setText(self.text())

    # ------------------------------------------------------------------ content
    def text(self) -> str:
        """The raw Markdown of this message (the stream buffer while streaming)."""
        if self._stream is not None:
            return self._stream.text()
        return self.item.content

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    @property
    def blocks(self) -> list[QWidget]:
        """The block widgets (prose, code, or the plain text of a user message), in order."""
        return self._stack.blocks

    def _render_content(self, text: str) -> None:
        """Exact render of the whole text, reusing block widgets whose content is unchanged."""
        if self.role != "assistant":
            if self.blocks and isinstance(self.blocks[0], PlainBlock):
                self.blocks[0].setText(text)
            else:
                self._set_blocks([PlainBlock(text, self._stack)])
                self.blocks_created += 1
            self.blocks[0].setObjectName("plainBlock")
            self._natural_width = None
            self._fit_width()
            return
        self._final_generation += 1
        self._apply_segments(render_segments(text))

    def _apply_segments(self, segments: list) -> None:
        """Show ``segments``, reusing block widgets whose content is unchanged."""
        pool: dict[tuple, list[QWidget]] = {}
        for widget in self.blocks:
            pool.setdefault(getattr(widget, "key", ()), []).append(widget)
        new_blocks: list[QWidget] = []
        for segment in segments:
            reusable = pool.get(segment_key(segment))
            if reusable:
                new_blocks.append(reusable.pop(0))
            else:
                new_blocks.append(create_block(segment, self._stack))
                self.blocks_created += 1
        self._set_blocks(new_blocks)

    def _set_blocks(self, new_blocks: list[QWidget]) -> None:
        self._stack.set_blocks(new_blocks)

    # ------------------------------------------------------------------ streaming
    def attach_stream(self, buffer: StreamBuffer) -> None:
        """Render from ``buffer`` (owned by the view) until ``end_stream``; its blocks are drawn by flush."""
        self._set_blocks([])
        self._stream = buffer
        self._rendered = 0
        self.item.status = "streaming"
        self.item.error = None
        self._update_decor()

    def flush_stream(self) -> None:
        """Render the buffer's newly finished blocks once each; show its tail (plain text / live code).

        A finished code block whose highlighting is not ready yet is highlighted on a worker thread
        instead of here; until it is back, the live code block keeps showing its code (so nothing
        flickers) and later text waits, then this runs again (``_highlight_done``)."""
        stream = self._stream
        if stream is None:
            return
        finished = stream.blocks
        new_widgets: list[QWidget] = []
        try:
            while self._rendered < len(finished):
                block = finished[self._rendered]
                segments = render_segments(block)
                waiting = [
                    seg
                    for seg in segments
                    if isinstance(seg, CodeSegment) and not is_highlighted(seg.code, seg.language)
                ]
                if waiting:
                    self._wait_for_highlight(block, waiting)
                    return
                new_widgets.extend(create_block(segment, self._stack) for segment in segments)
                self._rendered += 1
        finally:
            self._stack.append_many(new_widgets)
            self.blocks_created += len(new_widgets)
        tail = stream.tail
        fence = split_open_fence(tail)
        prose = fence.before if fence is not None else tail
        self._show_tail(prose)
        if fence is not None:
            self._show_live_code(fence.info.split(maxsplit=1)[0] if fence.info else "", fence.code)
        elif self._live_code is not None and not self._live_code.isHidden():
            self._live_code.hide()
            self._live_code.reset()

    def _show_tail(self, prose: str) -> None:
        prose = prose.strip("\r\n")
        if prose or self._tail_label is not None:
            label = self._ensure_tail_label()
            if label.text() != prose:
                label.setText(prose)
            if label.isHidden() == bool(prose):  # show()/hide() re-lay out the window: only on change
                label.setVisible(bool(prose))

    def _show_live_code(self, language: str, code: str) -> None:
        live = self._ensure_live_code()
        live.set_code(language, code)
        if live.isHidden():
            live.show()

    def _wait_for_highlight(self, block: str, waiting: list[CodeSegment]) -> None:
        """Show ``block`` as it looked while streaming (prose before its fence, the code as live code)
        and highlight its code off the GUI thread."""
        self._show_tail(prose_before_fence(block))
        self._show_live_code(waiting[-1].language, waiting[-1].code)
        if self._highlight_job is not None and not self._highlight_job.done():
            return  # one job at a time; its completion flushes again and picks up the rest
        jobs = [highlight_in_background(seg.code, seg.language) for seg in waiting]
        self._highlight_job = jobs[-1]  # one worker thread: the last one finishes last
        self._highlight_job.add_done_callback(lambda _f: self._deliver_highlight())

    def _deliver_highlight(self) -> None:
        """Worker thread: wake the GUI thread (the row may be gone by now)."""
        try:
            self._highlight_ready.emit()
        except RuntimeError:  # the C++ widget was deleted
            pass

    def _highlight_done(self) -> None:
        self._highlight_job = None
        if self._stream is not None:
            self.flush_stream()
            self.streamFlushed.emit(self.item.id)

    def _ensure_tail_label(self) -> PlainBlock:
        if self._tail_label is None:
            self._tail_label = PlainBlock("", self.bubble)
            self._tail_label.setObjectName("streamTail")
            self._bubble_layout.insertWidget(self._bubble_layout.indexOf(self._stack) + 1, self._tail_label)
        return self._tail_label

    def _ensure_live_code(self) -> LiveCodeBlock:
        if self._live_code is None:
            self._live_code = LiveCodeBlock(self.bubble)
            self._live_code.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)  # grows at the bottom
            after = self._tail_label if self._tail_label is not None else self._stack
            self._bubble_layout.insertWidget(self._bubble_layout.indexOf(after) + 1, self._live_code)
        return self._live_code

    def end_stream(self, item: MessageItem) -> None:
        """Finish the reply without a long stall. The unfinished tail is rendered now when that is cheap
        (prose, or code already highlighted); code still to highlight stays on screen as it streamed.
        One exact render of the whole text (parsing a 20,000-token reply takes ~50 ms, highlighting its
        code more) runs on a worker thread, started once the finished reply has been laid out and painted:
        a pure-Python thread holds the GIL for 5 ms at a time, and every Qt callback into Python (a layout
        calls ours ~1,500 times) would wait for it. Blocks that differ are replaced when it is back."""
        text = item.content
        stream = self._stream
        self._stream = None
        self.item = dataclasses.replace(item)
        # Only the blocks that already have widgets (one may still be waiting for its highlighting).
        streamed = "".join(stream.blocks[: self._rendered]) if stream is not None else ""
        if self.role == "assistant" and text.startswith(streamed) and len(text) - len(streamed) < 20_000:
            rest = text[len(streamed) :]
            rest_segments = render_segments(rest) if rest.strip() else ()
            self._final_generation += 1
            code = [s for s in rest_segments if isinstance(s, CodeSegment)]
            if any(not is_highlighted(s.code, s.language) for s in code):
                # Shown as it streamed (the prose before the code, the code as live code) until the exact
                # render is back: Pygments on this thread would be a visible pause.
                self._tail_segments = rest_segments
                self._show_tail(prose_before_fence(rest))
                self._show_live_code(code[0].language, code[0].code)
            else:
                self._drop_stream_widgets()
                self._append_segments(rest_segments)
            generation = self._final_generation
            QTimer.singleShot(self.FINAL_RENDER_DELAY_MS, self, lambda: self._start_final_render(generation, text))
        else:
            self._drop_stream_widgets()
            self._render_content(text)
        self._sync_images()
        self._update_decor()

    def _drop_stream_widgets(self) -> None:
        self._tail_segments = None
        for widget in (self._tail_label, self._live_code):
            if widget is not None:
                self._bubble_layout.removeWidget(widget)
                widget.hide()
                widget.deleteLater()
        self._tail_label = None
        self._live_code = None

    def _append_segments(self, segments) -> None:
        for segment in segments:
            self._stack.append(create_block(segment, self._stack))
            self.blocks_created += 1

    def _start_final_render(self, generation: int, text: str) -> None:
        if generation != self._final_generation or self._stream is not None:
            return
        future = _FINAL_PASS.submit(_final_render, text)
        future.add_done_callback(lambda f: self._deliver_final(generation, f))

    def _deliver_final(self, generation: int, future: object) -> None:
        """Worker thread: hand the result to the GUI thread (the row may be gone by now)."""
        try:
            self._final_ready.emit(generation, future)
        except RuntimeError:  # the C++ widget was deleted (conversation switched)
            pass

    def _apply_final(self, generation: int, future: object) -> None:
        if generation != self._final_generation or self._stream is not None:
            return  # a newer render (or a new stream) superseded this one
        tail = self._tail_segments or ()
        try:
            segments = future.result()  # type: ignore[attr-defined]
        except Exception:  # the streamed rendering stays (it is only less exact), the tail becomes blocks
            self._drop_stream_widgets()
            self._append_segments(tail)
            return
        self._drop_stream_widgets()
        shown = [getattr(w, "key", ()) for w in self.blocks] + [segment_key(s) for s in tail]
        if _looks_the_same(shown, [segment_key(s) for s in segments]):
            # The usual case: only the grouping of prose differs; rebuilding would freeze a long reply.
            self._append_segments(tail)  # its code is highlighted by now (cached by the worker)
            return
        self._apply_segments(segments)

    # ------------------------------------------------------------------ updates
    def set_item(self, item: MessageItem) -> None:
        """Apply a changed item: re-render content only if it changed (never while streaming)."""
        old = self.item
        self.item = dataclasses.replace(item)
        if self._stream is not None:
            self.item.status = "streaming"
        elif item.content != old.content:
            self._render_content(item.content)
        self._sync_images()
        self._update_decor()

    def _update_decor(self) -> None:
        item = self.item
        text, kind = status_text(item)
        self.status_label.setText(text)
        if self.status_label.property("kind") != kind:
            self.status_label.setProperty("kind", kind)
            self.status_label.style().unpolish(self.status_label)
            self.status_label.style().polish(self.status_label)
        self.status_label.setVisible(bool(text))
        self.status_label.setAlignment(
            Qt.AlignmentFlag.AlignRight if self.role == "user" else Qt.AlignmentFlag.AlignLeft
        )
        self.meta_label.setText(item.meta if self.role == "assistant" else "")
        self.meta_label.setVisible(bool(item.meta) and self.role == "assistant" and item.status != "streaming")

        streaming = item.status == "streaming"
        recover = item.status in ("incomplete", "error", "stopped") and self.role == "assistant"
        if recover or self._recover_box is not None:
            self._ensure_recover_box().setVisible(recover)
            self.continue_button.setVisible(item.status in ("incomplete", "stopped"))
        ids = item.sibling_ids
        has_branches = len(ids) > 1 and item.id in ids
        if has_branches or self._branch_box is not None:
            self._ensure_branch_box().setVisible(has_branches and not streaming)
        if has_branches:
            pos = ids.index(item.id)
            self.branch_label.setText(f"{pos + 1}/{len(ids)}")
            self.branch_label.setAccessibleName(f"Version {pos + 1} of {len(ids)}")
            self.prev_button.setEnabled(pos > 0)
            self.next_button.setEnabled(pos < len(ids) - 1)
        if self.regenerate_button is not None:
            self.regenerate_button.setVisible(not streaming)
        if self.edit_button is not None:
            self.edit_button.setVisible(self._editor is None)
        self.copy_button.setVisible(not streaming)

    # ------------------------------------------------------------------ images
    def ensure_images(self) -> MessageImages:
        """The image area (above the text), created on first use."""
        if self.images is None:
            self.images = MessageImages(self.role, self.bubble)
            self.images.activated.connect(self.imageActivated)
            self._bubble_layout.insertWidget(self._bubble_layout.indexOf(self._stack), self.images)
        return self.images

    def _sync_images(self) -> None:
        if self.images is None and not image_attachments(self.item.attachments):
            return
        self.ensure_images().set_attachments(self.item.attachments, self.item.status)
        self._natural_width = None
        self._fit_width()

    # ------------------------------------------------------------------ inline editor (user messages)
    def start_edit(self) -> None:
        if self._editor is not None or self.role != "user":
            return
        editor = QWidget(self.bubble)
        editor.setObjectName("messageEditor")
        layout = QVBoxLayout(editor)
        layout.setContentsMargins(0, 0, 0, 0)
        box = _EditBox(editor)
        box.setObjectName("editBox")
        box.setAccessibleName("Edit message")
        box.setPlainText(self.item.content)
        layout.addWidget(box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", editor)
        cancel.setObjectName("recoverButton")
        cancel.setAccessibleName("Cancel editing")
        save = QPushButton("Save && send", editor)
        save.setObjectName("recoverButton")
        save.setAccessibleName("Save and send")
        save.setDefault(True)
        save.setToolTip("Save and send (Ctrl+Enter); Esc cancels")
        buttons.addWidget(cancel)
        buttons.addWidget(save)
        layout.addLayout(buttons)
        cancel.clicked.connect(self.cancel_edit)
        save.clicked.connect(self._submit_edit)
        box.submitted.connect(self._submit_edit)
        box.cancelled.connect(self.cancel_edit)
        self._stack.hide()
        self._bubble_layout.addWidget(editor)
        self._editor = editor
        self.edit_box = box
        self.save_button = save
        self.cancel_button = cancel
        self._update_decor()
        self._fit_width()
        box.setFocus()
        box.moveCursor(QTextCursor.MoveOperation.End)
        self.editStarted.emit(self.item.id)

    def _submit_edit(self) -> None:
        text = self.edit_box.toPlainText()
        if not text.strip():
            return
        self.cancel_edit()
        self.editSubmitted.emit(self.item.id, text)

    def cancel_edit(self) -> None:
        if self._editor is None:
            return
        self._bubble_layout.removeWidget(self._editor)
        self._editor.hide()
        self._editor.deleteLater()
        self._editor = None
        self._stack.show()
        self._update_decor()
        self._fit_width()

    @property
    def editing(self) -> bool:
        return self._editor is not None

    @property
    def editor(self) -> QWidget | None:
        """The open in-place editor (box and buttons), if any."""
        return self._editor

    # ------------------------------------------------------------------ geometry
    def _fit_width(self) -> None:
        """User bubbles hug their text up to a fraction of the row; the rest take the full width."""
        if self.role != "user" or self.width() <= 0:
            return
        margins = self.layout().contentsMargins()
        available = max(120, int((self.width() - margins.left() - margins.right()) * USER_BUBBLE_FRACTION))
        if self._editor is not None or not self.blocks:
            self.bubble.setFixedWidth(available)
            return
        if self._natural_width is None:
            label = self.blocks[0]
            metrics = label.fontMetrics()
            lines = self.item.content.split("\n")[:500]
            text_width = max((metrics.horizontalAdvance(line) for line in lines), default=0)
            bubble_margins = self._bubble_layout.contentsMargins()
            if self.images is not None:
                text_width = max(text_width, self.images.natural_width())
            self._natural_width = text_width + bubble_margins.left() + bubble_margins.right() + 6
        self.bubble.setFixedWidth(max(48, min(available, self._natural_width)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_width()
