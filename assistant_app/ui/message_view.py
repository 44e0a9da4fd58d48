"""The chat transcript: a scrollable column of message bubbles with coalesced streaming and lazy history.

Performance rules (DESIGN.md §3):

* The text lives in ``StreamBuffer``s owned by the view, never in widgets. ``append_stream_text`` only
  appends the delta. A single-shot timer (30 ms) coalesces updates: each buffer splits its unfinished
  tail at the last safe boundary; the bubble renders every newly finished block once (its own widget,
  kept) and shows only the tail as plain text (or as live monospace code inside a fence, appended
  incrementally). ``finish_stream`` does one exact render of the whole reply and reuses the block
  widgets whose rendering did not change.
* Only a window of rows has widgets: ``set_messages`` creates the last ``PAGE_SIZE``; scrolling near the
  top (bottom) creates the previous (next) page and, past ``MAX_LOADED`` rows, drops a page at the
  far end, so memory stays bounded however far the user scrolls. Prepending or dropping rows above
  the viewport keeps the visible content where it was.
* The view follows new content only if the user was already at the bottom.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from assistant_app.ui import qt_values as qv
from assistant_app.ui.message_style import MESSAGE_VIEW_QSS

if TYPE_CHECKING:
    from PySide6.QtGui import QShowEvent

    from assistant_app.core.gc_quiet import QuietHold
    from assistant_app.ui.message_bubble import MessageWidget
    from assistant_app.ui.message_model import MessageItem, StreamBuffer

__all__ = ["MessageItem", "MessageView", "StreamBuffer"]


def __getattr__(name: str):
    # MessageItem and StreamBuffer (dataclasses) are re-exported but loaded on first use, after the
    # window's first frame, which needs neither.
    if name in ("MessageItem", "StreamBuffer"):
        from assistant_app.ui import message_model

        return getattr(message_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def preload() -> None:
    """Import the message widgets now (GUI thread, ~15 ms), so the first conversation opens without it,
    and pay the first reply's one-time costs: PySide building the QStyle types and their enums on the
    first re-polish (~15 ms) and the worker threads' start (~6 ms each, measured as pauses in the first
    streamed reply). The app calls this when idle after start-up; the window itself opens without them."""
    from PySide6.QtWidgets import QLabel

    from assistant_app.ui import markdown, message_bubble

    probe = QLabel()
    probe.style().unpolish(probe)
    probe.style().polish(probe)
    probe.deleteLater()
    message_bubble.start_workers()
    markdown.highlight_in_background("", "")  # not waited for: the GUI thread never blocks on a worker


class MessageView(QWidget):
    """Renders a conversation and emits the user's intents (the controller acts on them)."""

    regenerateRequested = Signal(int)  # assistant message id
    editSubmitted = Signal(int, str)  # user message id, new text
    branchRequested = Signal(int)  # sibling message id to switch to
    retryRequested = Signal(int)  # assistant message id
    continueRequested = Signal(int)  # assistant message id
    imageActivated = Signal(dict)  # an image attachment was clicked (open the viewer)
    streamRendered = Signal(int)  # message id; emitted after each coalesced streaming update
    pageLoaded = Signal(int)  # number of rows just created by paging (negative: the other direction)

    NEW_CHAT_HINT = "Ask anything. Replies stream in as Markdown; Esc stops a reply."
    MIN_WIDTH = 440
    PAGE_SIZE = 40
    FIRST_PAGE = 16  # rows created when a conversation opens: enough to fill the window, fast to build
    MAX_LOADED = 160  # rows with widgets at most (about 4 pages)
    FLUSH_INTERVAL_MS = 30
    LOAD_MARGIN_PX = 400  # load the next page when an end of the loaded rows is closer than this
    BOTTOM_SLACK_PX = 24  # "at the bottom" tolerance
    _LIST_MARGINS = (0, 12, 0, 16)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageView")
        self.setMinimumWidth(self.MIN_WIDTH)  # prose blocks rely on it (ProseBlock.PROBE_WIDTH)
        self.setAccessibleName("Conversation")
        if parent is None:  # on its own (tests, benches); in the main window, the window's sheet has these rules
            self.setStyleSheet(MESSAGE_VIEW_QSS)

        self._items: list[MessageItem] = []
        self._streams: dict[int, StreamBuffer] = {}
        self._quiet: QuietHold | None = None  # see _gc_quiet
        self._rows: dict[int, MessageWidget] = {}
        self._first = 0  # rows exist exactly for self._items[self._first : self._end]
        self._end = 0
        self._stick_bottom = True
        self._anchor: tuple[QWidget, int] | None = None
        self._page_check_scheduled = False
        self._restoring = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("messageScroll")
        self._scroll.setWidgetResizable(True)
        # Not "as needed": with a resizable height-for-width widget, QScrollArea then re-measures the
        # whole transcript at up to ~15 different widths (one pixel narrower each time) on every layout
        # change. _on_range_changed switches between off and on itself (no flip-flop: once on, the
        # narrower viewport only makes the content taller).
        qv.set_properties(
            self._scroll,
            horizontalScrollBarPolicy=qv.SCROLL_BAR_ALWAYS_OFF,
            verticalScrollBarPolicy=qv.SCROLL_BAR_ALWAYS_OFF,
        )
        self._vertical_bar_on = False
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(self._scroll)

        self._container = QWidget()
        self._container.setObjectName("messageContainer")
        self._list = QVBoxLayout(self._container)
        self._list.setContentsMargins(*self._LIST_MARGINS)
        self._list.setSpacing(6)
        self._placeholder = QLabel(self._container)
        self._placeholder.setObjectName("messagePlaceholder")
        self._placeholder.setWordWrap(True)
        qv.set_properties(self._placeholder, alignment=qv.ALIGN_CENTER, textFormat=qv.PLAIN_TEXT)
        self._placeholder.hide()
        self._list.addWidget(self._placeholder)
        self._list.addStretch(1)
        self._scroll.setWidget(self._container)

        bar = self._scroll.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)

        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(self.FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._on_flush_timeout)
        # Following new content at the bottom: the scroll happens on the next event-loop pass (see
        # _on_range_changed), so Qt can move what is on screen instead of repainting all of it.
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(0)
        self._follow_timer.timeout.connect(self._follow_bottom)
        self._container_tuned = False

    # ================================================================== public API
    def set_messages(self, items: list[MessageItem]) -> None:
        """Replace the whole transcript; only the last page gets widgets now."""
        self.clear()
        self._items = list(items)
        self._load_last_page()

    def append_message(self, item: MessageItem) -> None:
        """Add a message at the end. A user message brings the view to the bottom (they just sent it)."""
        self._placeholder.hide()
        self._items.append(item)
        if self._end == len(self._items) - 1:
            # Measure before adding: showing a row re-lays out the list with stale sizes until it settles.
            drop = self._far_above(self._end + 1 - self._first - self.MAX_LOADED) if self._stick_bottom else 0
            self._add_row(len(self._items) - 1)
            self._end += 1
            self._drop_top(drop)
        elif item.role == "user":
            self.scroll_to_bottom()

    def update_message(self, item: MessageItem) -> None:
        index = self._index_of(item.id)
        if index is None:
            return
        self._items[index] = item
        row = self._rows.get(item.id)
        if row is not None:
            row.set_item(item)

    def begin_stream(self, item: MessageItem) -> None:
        """Show ``item`` as a streaming reply: a new bubble, or the existing one (Continue)."""
        import dataclasses

        from assistant_app.ui.message_model import StreamBuffer

        item = dataclasses.replace(item, status="streaming", error=None)
        buffer = StreamBuffer(item.content)
        self._streams[item.id] = buffer
        self._gc_quiet(True)
        index = self._index_of(item.id)
        if index is None:
            self.append_message(item)
        else:
            self._items[index] = item
            row = self._rows.get(item.id)
            if row is not None:
                row.attach_stream(buffer)
        if item.content:
            self._schedule_flush()

    def append_stream_text(self, message_id: int, delta: str) -> None:
        """O(len(delta)): store it; the coalescing timer renders it."""
        buffer = self._streams.get(message_id)
        if buffer is None or not delta:
            return
        buffer.append(delta)
        self._schedule_flush()

    def finish_stream(self, item: MessageItem) -> None:
        """End the stream with one exact render. ``item.content`` is the final text (the buffer if empty)."""
        import dataclasses

        buffer = self._streams.pop(item.id, None)
        self._gc_quiet(bool(self._streams))
        text = item.content or (buffer.text() if buffer is not None else "")
        status = "complete" if item.status == "streaming" else item.status
        final = dataclasses.replace(item, content=text, status=status)
        index = self._index_of(item.id)
        if index is not None:
            self._items[index] = final
        row = self._rows.get(item.id)
        if row is not None:
            row.end_stream(final)

    def remove_from(self, message_id: int) -> None:
        """Drop this message and everything after it."""
        index = self._index_of(message_id)
        if index is None:
            return
        for item in self._items[index:]:
            self._remove_row(item.id)
            self._streams.pop(item.id, None)
        self._gc_quiet(bool(self._streams))
        del self._items[index:]
        self._end = min(self._end, len(self._items))
        self._first = min(self._first, self._end)
        if self._first == self._end and self._items:
            self._load_last_page()

    def message_text(self, message_id: int) -> str:
        """The raw Markdown of a message (loaded or not; the live buffer while streaming)."""
        buffer = self._streams.get(message_id)
        if buffer is not None:
            return buffer.text()
        index = self._index_of(message_id)
        if index is None:
            raise KeyError(message_id)
        return self._items[index].content

    def clear(self) -> None:
        self._flush_timer.stop()
        for message_id in list(self._rows):
            self._remove_row(message_id)
        self._items = []
        self._streams.clear()
        self._gc_quiet(False)
        self._first = self._end = 0
        self._anchor = None
        self._placeholder.hide()
        self._stick_bottom = True

    def show_placeholder(self, text: str) -> None:
        """Clear the transcript and show a hint (e.g. for an empty conversation)."""
        self.clear()
        self._placeholder.setText(text)
        self._placeholder.show()

    # ------------------------------------------------------------------ extras (tests, controller)
    def row(self, message_id: int) -> MessageWidget | None:
        """The widget of a message, or None if it has none now (outside the loaded window) or is unknown."""
        return self._rows.get(message_id)

    def loaded_count(self) -> int:
        return len(self._rows)

    def loaded_range(self) -> tuple[int, int]:
        """[first, end) indices of the messages that currently have widgets."""
        return self._first, self._end

    def message_ids(self) -> list[int]:
        return [item.id for item in self._items]

    def warm_up(self) -> None:
        """Draw a short sample reply once, off screen, so the first real reply does not pay the one-time
        costs of drawing one (fonts and glyphs for headings, bold and code, first text layouts: pauses
        of 5-10 ms in the first second of the first reply, measured). ~50 ms; the app runs it once
        the window is idle after start-up."""
        from assistant_app.ui.markdown import WARM_UP_TEXT
        from assistant_app.ui.message_bubble import MessageWidget
        from assistant_app.ui.message_model import MessageItem

        item = MessageItem(-1, "assistant", WARM_UP_TEXT, status="complete", meta="warm-up · 1 token")
        row = MessageWidget(item, self._container)  # not in the layout: never shown
        row.resize(max(self._scroll.viewport().width(), self.MIN_WIDTH), 600)
        row.grab()
        row.deleteLater()

    def scroll_area(self) -> QScrollArea:
        return self._scroll

    def is_at_bottom(self) -> bool:
        bar = self._scroll.verticalScrollBar()
        return self._end == len(self._items) and bar.value() >= bar.maximum() - self.BOTTOM_SLACK_PX

    def reveal(self, message_id: int) -> bool:
        """Bring a message into view (a search hit): build the rows around it if they have none yet."""
        index = self._index_of(message_id)
        if index is None:
            return False
        if message_id not in self._rows:
            for loaded in list(self._rows):
                self._remove_row(loaded)
            self._anchor = None
            self._first = max(0, index - 2)
            self._end = min(len(self._items), self._first + self.FIRST_PAGE)
            self._container.setUpdatesEnabled(False)
            try:
                for i in range(self._first, self._end):
                    self._add_row(i)
            finally:
                self._container.setUpdatesEnabled(True)
        self._stick_bottom = False
        row = self._rows[message_id]
        QTimer.singleShot(0, lambda: self._scroll.ensureWidgetVisible(row, 0, 40))
        return True

    def _show_editor(self, message_id: int) -> None:
        """Keep the opened editor in sight: it grows the row, which would push it out of a view that
        follows the bottom."""
        row = self._rows.get(message_id)
        if row is None:
            return
        self._stick_bottom = False
        self._pin(row)
        QTimer.singleShot(0, lambda: row.editor is not None and self._scroll.ensureWidgetVisible(row.editor, 0, 24))

    def scroll_to_bottom(self) -> None:
        """Show the end of the conversation (re-creating the last page if the user paged far up)."""
        if self._end < len(self._items):
            self._load_last_page()
        self._stick_bottom = True
        self._anchor = None
        self._set_scroll_value(self._scroll.verticalScrollBar().maximum())

    def flush_pending(self) -> None:
        """Render all pending stream text now (the coalescing timer calls this)."""
        self._flush_timer.stop()
        changed = [mid for mid, buffer in self._streams.items() if buffer.dirty]
        for message_id in changed:
            self._streams[message_id].take()
            row = self._rows.get(message_id)
            if row is not None:
                row.flush_stream()
        for message_id in changed:
            self.streamRendered.emit(message_id)

    def load_earlier(self) -> int:
        """Create widgets for the previous page (dropping far rows at the bottom); returns rows created."""
        if self._first <= 0:
            return 0
        start = max(0, self._first - self.PAGE_SIZE)
        # Decide from the current (settled) geometry, before new rows disturb it.
        drop = self._far_below(self._end - start - self.MAX_LOADED)
        self._restoring = True
        try:
            self._pin(self._rows.get(self._items[self._first].id) if self._end > self._first else None)
            self._container.setUpdatesEnabled(False)
            try:
                for offset, index in enumerate(range(start, self._first)):
                    self._add_row(index, layout_index=1 + offset)
                created = self._first - start
                self._first = start
                for index in range(self._end - drop, self._end):
                    self._remove_row(self._items[index].id)
                self._end -= drop
            finally:
                self._container.setUpdatesEnabled(True)
            self._settle()
        finally:
            self._restoring = False
        self.pageLoaded.emit(created)
        return created

    def load_later(self) -> int:
        """Create widgets for the next page (dropping far rows at the top); returns rows created."""
        if self._end >= len(self._items):
            return 0
        stop = min(len(self._items), self._end + self.PAGE_SIZE)
        drop = self._far_above(stop - self._first - self.MAX_LOADED)
        self._restoring = True
        try:
            if drop:
                self._pin(self._rows.get(self._items[self._first + drop].id))
            self._container.setUpdatesEnabled(False)
            try:
                for index in range(self._end, stop):
                    self._add_row(index)
                created = stop - self._end
                self._end = stop
                self._drop_top(drop)
            finally:
                self._container.setUpdatesEnabled(True)
            self._settle()
        finally:
            self._restoring = False
        self.pageLoaded.emit(-created)
        return created

    # ================================================================== internals
    def _index_of(self, message_id: int) -> int | None:
        # Messages acted on are usually near the end (streaming, edits), so search backwards.
        for index in range(len(self._items) - 1, -1, -1):
            if self._items[index].id == message_id:
                return index
        return None

    def _load_last_page(self) -> None:
        for message_id in list(self._rows):
            self._remove_row(message_id)
        self._anchor = None
        self._end = len(self._items)
        self._first = max(0, self._end - self.FIRST_PAGE)
        self._container.setUpdatesEnabled(False)
        try:
            for index in range(self._first, self._end):
                self._add_row(index)
        finally:
            self._container.setUpdatesEnabled(True)
        self._stick_bottom = True
        self._set_scroll_value(self._scroll.verticalScrollBar().maximum())

    def _add_row(self, index: int, layout_index: int | None = None) -> MessageWidget:
        from assistant_app.ui.message_bubble import MessageWidget  # with the first message, not at start-up

        self._tune_container()
        item = self._items[index]
        row = MessageWidget(item, self._container)
        row.regenerateRequested.connect(self.regenerateRequested)
        row.editSubmitted.connect(self.editSubmitted)
        row.branchRequested.connect(self.branchRequested)
        row.retryRequested.connect(self.retryRequested)
        row.continueRequested.connect(self.continueRequested)
        row.imageActivated.connect(self.imageActivated)
        row.streamFlushed.connect(self.streamRendered)
        row.editStarted.connect(self._show_editor)
        # Layout: [placeholder, rows..., stretch].
        self._list.insertWidget(self._list.count() - 1 if layout_index is None else layout_index, row)
        if self._container.isVisible():
            row.show()  # now rather than via the layout's queued show, so it is usable at once
        self._rows[item.id] = row
        buffer = self._streams.get(item.id)
        if buffer is not None:
            row.attach_stream(buffer)
            row.flush_stream()
        return row

    def _gc_quiet(self, on: bool) -> None:
        """No full garbage collection while a reply streams (core/gc_quiet.py; loaded with the first
        stream, not before the window's first frame)."""
        if self._quiet is None:
            if not on:
                return
            from assistant_app.core.gc_quiet import QuietHold

            self._quiet = QuietHold()
            self.destroyed.connect(functools.partial(QuietHold.set, self._quiet, False))
        self._quiet.set(on)

    def _tune_container(self) -> None:
        """Let Qt scroll the transcript by moving pixels: an opaque container whose contents stay put when
        it grows, so following a streamed reply repaints only the strip that scrolled into view and the
        text that changed, not the whole viewport (~4 ms a frame with a screenful of rich text).
        Not in __init__: that runs before the window's first frame, which needs none of it
        (ui/qt_values.py)."""
        if self._container_tuned:
            return
        self._container_tuned = True
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QColor, QPalette

        from assistant_app.ui.message_style import BACKGROUND

        palette = self._container.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
        self._container.setPalette(palette)
        self._container.setAutoFillBackground(True)
        self._container.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self._sync_bar_margin()  # the bar's width is known now (styled)

    def _remove_row(self, message_id: int) -> None:
        row = self._rows.pop(message_id, None)
        if row is None:
            return
        self._list.removeWidget(row)
        row.hide()
        row.deleteLater()
        if self._anchor is not None and self._anchor[0] is row:
            self._anchor = None

    def _far_above(self, limit: int) -> int:
        """How many of the first loaded rows (at most ``limit``) end well above the viewport."""
        line = self._scroll.verticalScrollBar().value() - self.LOAD_MARGIN_PX
        count = 0
        while count < limit and self._first + count < self._end:
            row = self._rows.get(self._items[self._first + count].id)
            if row is None or row.height() <= 0 or row.y() + row.height() > line:
                break  # visible, near, or not laid out yet: keep
            count += 1
        return count

    def _far_below(self, limit: int) -> int:
        """How many of the last loaded rows (at most ``limit``) start well below the viewport."""
        bar = self._scroll.verticalScrollBar()
        line = bar.value() + self._scroll.viewport().height() + self.LOAD_MARGIN_PX
        count = 0
        while count < limit and self._end - count > self._first:
            row = self._rows.get(self._items[self._end - 1 - count].id)
            if row is None or row.height() <= 0 or row.y() < line:
                break
            count += 1
        return count

    def _drop_top(self, count: int) -> None:
        for index in range(self._first, self._first + count):
            self._remove_row(self._items[index].id)
        self._first += count

    def _schedule_flush(self) -> None:
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _on_flush_timeout(self) -> None:
        self.flush_pending()

    # ------------------------------------------------------------------ scrolling
    def _pin(self, row: QWidget | None) -> None:
        """Remember where ``row`` is on screen so layout changes above it do not move it."""
        if row is not None and not self._stick_bottom:
            self._anchor = (row, row.y() - self._scroll.verticalScrollBar().value())

    def _settle(self) -> None:
        """Lay out now, so the first paint after paging already shows the pinned position."""
        self._list.activate()
        self._scroll.setWidgetResizable(True)  # re-runs QScrollArea's size/range update synchronously
        self._restore_anchor()

    def _set_scroll_value(self, value: int) -> None:
        was = self._restoring
        self._restoring = True
        try:
            self._scroll.verticalScrollBar().setValue(value)
        finally:
            self._restoring = was

    def _restore_anchor(self) -> None:
        if self._anchor is None:
            return
        row, offset = self._anchor
        self._set_scroll_value(row.y() - offset)

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        wanted = maximum > 0
        if self._vertical_bar_on != wanted:
            self._vertical_bar_on = wanted
            policy = qv.SCROLL_BAR_ALWAYS_ON if wanted else qv.SCROLL_BAR_ALWAYS_OFF
            self._sync_bar_margin()
            qv.set_properties(self._scroll, verticalScrollBarPolicy=policy)
        if self._anchor is not None:
            self._restore_anchor()
        elif self._stick_bottom and self._streams:
            # Following a streamed reply: not now, since this runs while Qt resizes the container and a
            # move made during a resize is repainted in full; on the next pass it is a plain move (see
            # _tune_container). The frame between shows the same picture (what grew is below the edge).
            self._follow_timer.start()
            return  # the page check follows the scroll
        elif self._stick_bottom:
            self._set_scroll_value(maximum)  # now: a conversation opens at its end, with no frame at the top
        self._schedule_page_check()

    def _sync_bar_margin(self) -> None:
        """The rows keep their width whether the scroll bar shows or not: without it, a right margin as
        wide as the bar stands in for it. Otherwise the bar appearing in the middle of a streamed reply
        re-lays out every block at a new width at once (a 15-30 ms pause, measured)."""
        left, top, _right, bottom = self._LIST_MARGINS
        right = 0 if self._vertical_bar_on else self._scroll.verticalScrollBar().sizeHint().width()
        if self._list.contentsMargins().right() != right:
            self._list.setContentsMargins(left, top, right, bottom)

    def _follow_bottom(self) -> None:
        if self._stick_bottom and self._anchor is None:
            self._set_scroll_value(self._scroll.verticalScrollBar().maximum())
        self._schedule_page_check()

    def _on_scrolled(self, value: int) -> None:
        if self._restoring:
            return
        # The user (or a test) moved the view: stop pinning, and follow new content only at the bottom.
        self._anchor = None
        bar = self._scroll.verticalScrollBar()
        self._stick_bottom = self._end == len(self._items) and value >= bar.maximum() - self.BOTTOM_SLACK_PX
        self._schedule_page_check()

    def _schedule_page_check(self) -> None:
        if (self._first > 0 or self._end < len(self._items)) and not self._page_check_scheduled:
            self._page_check_scheduled = True
            QTimer.singleShot(0, self._check_page)

    def _check_page(self) -> None:
        self._page_check_scheduled = False
        if not self.isVisible() or self._end <= self._first:
            return
        bar = self._scroll.verticalScrollBar()
        if bar.maximum() > 0:
            near_top = bar.value() < self.LOAD_MARGIN_PX
            near_bottom = bar.value() > bar.maximum() - self.LOAD_MARGIN_PX
        else:
            # No range yet: either the layout is pending (rangeChanged will call again) or it all fits.
            viewport = self._scroll.viewport()
            content = self._list.totalHeightForWidth(viewport.width()) if self._list.hasHeightForWidth() else -1
            near_top = near_bottom = 0 <= content <= viewport.height()
        if near_top and self._first > 0:
            self.load_earlier()
        elif near_bottom and self._end < len(self._items):
            self.load_later()

    def showEvent(self, event: QShowEvent) -> None:
        # Not an ``event()`` override: that would route every event of the view through Python (and
        # make PySide build a dozen event types' enums at start-up).
        super().showEvent(event)
        self._schedule_page_check()
