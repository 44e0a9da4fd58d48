"""Block widgets inside a message bubble: rendered prose, finished code blocks, and the streaming code block."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPlainTextEdit,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.ui.markdown import CodeSegment, ProseSegment, Segment

SAFE_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def open_link(url: str) -> bool:
    """Open web/mail links in the system browser; ignore anything else (file:, relative paths, ...)."""
    qurl = QUrl(url)
    if qurl.scheme().lower() not in SAFE_LINK_SCHEMES:
        return False
    return QDesktopServices.openUrl(qurl)


def _full_width_policy() -> QSizePolicy:
    """Take the width the layout offers (ignore our own hint) and derive the height from it; never be
    squeezed below that height (see hold_height)."""
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
    policy.setHeightForWidth(True)
    return policy


def hold_height(widget: QWidget, *, static: bool = True) -> None:
    """For the widgets that nest a message's blocks (row, bubble, stack, chunks, batches).

    When a streamed reply grows, Qt activates the innermost layout first, inside its widget's old
    geometry: it squeezed every finished block of the reply to make room, then the outer layouts grew
    and put them back: a re-layout and a repaint of the whole visible transcript on every update
    (measured: two resizes of each earlier batch per update). Here the widget's layout first grows the
    widget to its content's minimum, which with vertical Minimum policies is the content's real
    height, so nothing is squeezed. ``static``: the content stays put when the widget grows at the
    bottom, so only the new part is painted (not for bubbles with a border: it would stay behind)."""
    policy = widget.sizePolicy()
    policy.setVerticalPolicy(QSizePolicy.Policy.Minimum)
    widget.setSizePolicy(policy)
    layout = widget.layout()
    if layout is not None:
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
    widget.setAttribute(Qt.WidgetAttribute.WA_StaticContents, static)


def mono_font():
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(font.StyleHint.Monospace)
    return font


class _HeightCachingLabel(QLabel):
    """A word-wrapped label that remembers its height for each width.

    Qt asks a label for its height-for-width far more often than the text changes (and
    ``QWidgetItem.minimumHeightForWidth`` bypasses the layout's cache), and each answer lays out the
    whole text document. Blocks of a message are immutable once created, so caching is safe; the
    cache is dropped when the text, font or style changes.
    """

    PROBE_WIDTH = 160  # narrower than any real text column: layouts probing minimum sizes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hfw: dict[int, int] = {}
        self._probes: dict[int, int] = {}  # answers for widths we are never shown at (see heightForWidth)

    def heightForWidth(self, width: int) -> int:
        # Fast path first: a long reply's blocks are asked hundreds of times per layout pass.
        height = self._hfw.get(width)
        if height is not None:
            return height
        height = self._probes.get(width)
        if height is not None:
            return height
        if width < self.PROBE_WIDTH or not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            # Layouts also ask at widths no block is ever shown at (0 for their minimum size, the
            # default 100 px before the first layout), each a full document layout (2-3 ms for a
            # table); answer for the width we will really get instead (until our width changes).
            target = max(width, self._expected_width())
            height = self._probes[width] = self._hfw.get(target) or self._layout_height(target)
            return height
        return self._layout_height(width)

    def _layout_height(self, width: int) -> int:
        if len(self._hfw) > 8:
            self._hfw.clear()
        height = self._hfw[width] = super().heightForWidth(width)
        return height

    def resizeEvent(self, event) -> None:
        self._probes.clear()
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        """QLabel lays the text out three times for this; our heights come from ``heightForWidth``."""
        return QSize(0, self.fontMetrics().height())

    def sizeHint(self) -> QSize:
        """QLabel's own hint lays the text out at guessed widths (4 ms for a table, on every new block);
        our layouts ignore the hinted width and take the height from ``heightForWidth``, so answer
        with that at the width we have (or our parent's, before the first layout)."""
        width = self.width() if self.testAttribute(Qt.WidgetAttribute.WA_Resized) else self._expected_width()
        if width <= 0:
            return super().sizeHint()
        return QSize(width, self.heightForWidth(width))

    def _expected_width(self) -> int:
        """The width the layout is about to give us: that of the nearest ancestor already laid out
        (chunks and batches have no margins)."""
        parent = self.parentWidget()
        while parent is not None and not parent.testAttribute(Qt.WidgetAttribute.WA_Resized):
            parent = parent.parentWidget()
        return parent.contentsRect().width() if parent is not None else 0

    def setText(self, text: str) -> None:
        self._hfw.clear()
        self._probes.clear()
        super().setText(text)

    def changeEvent(self, event) -> None:
        self._hfw.clear()
        self._probes.clear()
        super().changeEvent(event)


class ProseBlock(_HeightCachingLabel):
    """Rendered Markdown (rich text), selectable, links opened externally."""

    # Assistant prose is never narrower than this (MessageView.MIN_WIDTH less the row's margins), so a
    # narrower width is a layout's minimum-size probe; answering them for real re-laid out every block
    # of a long reply when its buttons appeared (~90 ms for 20,000 tokens).
    PROBE_WIDTH = 400

    def __init__(self, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proseBlock")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setOpenExternalLinks(False)
        self.linkActivated.connect(open_link)
        self.setSizePolicy(_full_width_policy())
        self.setText(html)
        self.key: tuple = ("prose", html)


class _CodeFrame(QFrame):
    """Shared frame: a header (language + optional Copy button) above a monospace body."""

    def __init__(self, language: str, parent: QWidget | None = None, *, copy_button: bool) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QWidget(self)
        header.setObjectName("codeHeader")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(10, 3, 4, 3)
        header.setMinimumHeight(28)
        self.language_label = QLabel(header)
        self.language_label.setObjectName("codeLanguage")
        self.language_label.setTextFormat(Qt.TextFormat.PlainText)
        self.set_language(language)
        header_layout.addWidget(self.language_label)
        header_layout.addStretch(1)
        self.copy_button: QToolButton | None = None
        if copy_button:
            self.copy_button = QToolButton(header)
            self.copy_button.setObjectName("copyCodeButton")
            self.copy_button.setText("Copy")
            self.copy_button.setAccessibleName("Copy code")
            self.copy_button.setToolTip("Copy code to the clipboard")
            self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
            header_layout.addWidget(self.copy_button)
        layout.addWidget(header)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def set_language(self, language: str) -> None:
        self.language_label.setText(language or "text")


class _FittedTextEdit(QTextEdit):
    """Read-only, non-wrapping code view whose height always fits its content (no vertical scroll)."""

    def __init__(self, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeText")
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)
        self.setWordWrapMode(QTextOption.WrapMode.NoWrap)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFont(mono_font())
        self.document().setDocumentMargin(10)
        self.setHtml(html)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit()

    def _fit(self) -> None:
        doc = self.document()
        height = math.ceil(doc.size().height()) + 2 * self.frameWidth()
        if doc.idealWidth() > self.viewport().width() and self.isVisible():
            height += self.horizontalScrollBar().sizeHint().height()
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()


class CodeBlock(_CodeFrame):
    """A finished code block: language header, Copy button (raw code), highlighted code that scrolls sideways."""

    copied = Signal(str)

    def __init__(self, segment: CodeSegment, parent: QWidget | None = None) -> None:
        super().__init__(segment.language, parent, copy_button=True)
        self.code = segment.code
        self.key: tuple = ("code", segment.language, segment.code)
        self.text_view = _FittedTextEdit(segment.html, self)
        self.layout().addWidget(self.text_view)
        assert self.copy_button is not None
        self.copy_button.clicked.connect(self.copy_to_clipboard)

    def copy_to_clipboard(self) -> None:
        QApplication.clipboard().setText(self.code)
        self.copied.emit(self.code)


class LiveCodeBlock(_CodeFrame):
    """The code block still being streamed: plain monospace text, appended incrementally (O(delta))."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent, copy_button=False)
        self.setObjectName("liveCodeBlock")
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("liveCodeText")
        self.editor.setReadOnly(True)
        self.editor.setFrameShape(QFrame.Shape.NoFrame)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.editor.setFont(mono_font())
        self.editor.document().setDocumentMargin(10)
        self.editor.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.layout().addWidget(self.editor)
        self.editor.horizontalScrollBar().rangeChanged.connect(self._fit)
        self._shown = ""
        self._fit()

    @property
    def code(self) -> str:
        return self._shown

    def set_code(self, language: str, code: str) -> None:
        """Show ``code``; appends only the new part when the old text is its prefix (the usual case)."""
        if self.language_label.text() != (language or "text"):
            self.set_language(language)
        if code == self._shown:
            return
        if code.startswith(self._shown):
            cursor = QTextCursor(self.editor.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(code[len(self._shown) :])
        else:
            self.editor.setPlainText(code)
        self._shown = code
        self._fit()

    def reset(self) -> None:
        self._shown = ""
        self.editor.clear()
        self._fit()

    def _fit(self, *_args: object) -> None:
        doc = self.editor.document()
        line = self.editor.fontMetrics().height()
        height = doc.blockCount() * line + math.ceil(2 * doc.documentMargin()) + 2 * self.editor.frameWidth()
        if self.editor.horizontalScrollBar().maximum() > 0:
            height += self.editor.horizontalScrollBar().sizeHint().height()
        if height != self.editor.height():
            self.editor.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()


def create_block(segment: Segment, parent: QWidget | None = None) -> QWidget:
    if isinstance(segment, CodeSegment):
        return CodeBlock(segment, parent)
    assert isinstance(segment, ProseSegment)
    return ProseBlock(segment.html, parent)


def segment_key(segment: Segment) -> tuple:
    if isinstance(segment, CodeSegment):
        return ("code", segment.language, segment.code)
    return ("prose", segment.html)


class PlainBlock(_HeightCachingLabel):
    """Plain text (user messages, the streaming tail): word-wrapped, selectable, never interpreted."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setSizePolicy(_full_width_policy())
        self.setText(text)


class BlockStack(QWidget):
    """The block widgets of one message, grouped into fixed-size chunk widgets.

    Why chunks: when a layout activates, Qt invalidates the cached size of every item directly in it
    (``activateRecursiveHelper``), so a bubble holding N rich-text labels would re-lay out all N
    documents on every streaming update (measured: ~0.4 ms per label per update). A chunk is a child
    widget with its own layout; once full it never changes, and its height-for-width stays cached, so
    an update costs O(number of chunks + CHUNK) cached lookups instead of N document layouts.
    """

    CHUNK = 8
    SPACING = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("blockStack")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(self.SPACING)
        hold_height(self)
        self.blocks: list[QWidget] = []
        self._chunks: list[QWidget] = []

    def _open_chunk(self) -> QVBoxLayout:
        if self._chunks:
            last = self._chunks[-1].layout()
            if last.count() < self.CHUNK:
                return last
        chunk = QWidget(self)
        chunk.setObjectName("blockChunk")
        chunk_layout = QVBoxLayout(chunk)
        chunk_layout.setContentsMargins(0, 0, 0, 0)
        chunk_layout.setSpacing(self.SPACING)
        hold_height(chunk)
        self.layout().addWidget(chunk)  # shown by the layout (queued), not now: show() re-lays out the window
        self._chunks.append(chunk)
        return chunk_layout

    def append(self, widget: QWidget) -> None:
        self._open_chunk().addWidget(widget)
        self.blocks.append(widget)

    def append_many(self, widgets: list[QWidget]) -> None:
        """Append several blocks at once, shown together.

        Showing a widget lays out every ancestor up to the window, and a layout shows each widget
        added to it separately; blocks that finished together go into one (hidden) batch widget,
        so the window is laid out once for all of them, not once per block."""
        if len(widgets) <= 1:
            for widget in widgets:
                self.append(widget)
            return
        chunk_layout = self._open_chunk()
        batch = QWidget(chunk_layout.parentWidget())
        batch.setObjectName("blockBatch")
        batch_layout = QVBoxLayout(batch)
        batch_layout.setContentsMargins(0, 0, 0, 0)
        batch_layout.setSpacing(self.SPACING)
        hold_height(batch)
        for widget in widgets:
            batch_layout.addWidget(widget)
        chunk_layout.addWidget(batch)
        self.blocks.extend(widgets)

    def set_blocks(self, widgets: list[QWidget]) -> None:
        """Replace the blocks; widgets that appear in both lists are moved, not re-created."""
        current = self.blocks
        if len(widgets) >= len(current) and all(a is b for a, b in zip(current, widgets, strict=False)):
            for widget in widgets[len(current) :]:  # the usual end of a stream: only new blocks appended
                self.append(widget)
            return
        # A rebuild (the final exact render of a reply usually merges blocks): moved widgets are hidden
        # until their new chunk shows, and a chunk added to a layout only shows on a later event-loop
        # pass; so nothing is painted until the new chunks are shown, here and now (measured under X11:
        # otherwise the reply could vanish for a moment right after it finished).
        self.setUpdatesEnabled(False)
        try:
            keep = {id(w) for w in widgets}
            old_chunks = self._chunks
            for widget in self.blocks:
                if id(widget) not in keep:
                    widget.hide()
                    widget.deleteLater()
            self._chunks = []
            self.blocks = []
            for chunk in old_chunks:
                self.layout().removeWidget(chunk)
            for widget in widgets:
                self.append(widget)  # re-parents reused widgets into the new chunks
            for chunk in old_chunks:
                chunk.hide()
                chunk.deleteLater()
            if self.isVisible():
                for chunk in self._chunks:
                    chunk.show()
        finally:
            self.setUpdatesEnabled(True)
