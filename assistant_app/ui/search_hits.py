"""How the sidebar draws search results: the title, then the snippet muted, matched words in bold.

Loaded with the first search (QStyle and the delegate classes cost ~8 ms to set up, and the window
opens without them).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from assistant_app.core.search_text import MATCH_END, MATCH_START


def _bold_matches(text: str) -> str:
    return html.escape(text).replace(MATCH_START, "<b>").replace(MATCH_END, "</b>")


def hit_html(title: str, snippet: str) -> str:
    """A search result as rich text: the title, then the snippet muted; matched words in bold."""
    snippet_html = f'<div style="color:#59636e; margin-top:2px;">{_bold_matches(snippet)}</div>' if snippet else ""
    return f"<div>{_bold_matches(title)}</div>{snippet_html}"


class SearchHitDelegate(QStyledItemDelegate):
    """Draws search results (rich text: matches in bold); plain rows are left to the default."""

    PAD_X, PAD_Y = 11, 7  # where the sidebar's stylesheet puts the text of plain rows

    def __init__(self, role: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._role = role  # the item data role holding (title, snippet) of a hit

    def _document(self, index, option: QStyleOptionViewItem, width: int) -> QTextDocument | None:
        hit = index.data(self._role)
        if not hit:
            return None
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(option.font)
        doc.setHtml(hit_html(*hit))
        doc.setTextWidth(max(40, width - 2 * self.PAD_X))
        return doc

    def _width(self, option: QStyleOptionViewItem) -> int:
        view = self.parent()
        return view.viewport().width() if view is not None else option.rect.width()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        doc = self._document(index, option, self._width(option))
        if doc is None:
            return super().sizeHint(option, index)
        return QSize(self._width(option), int(doc.size().height()) + 2 * self.PAD_Y + 2)

    def paint(self, painter, option: QStyleOptionViewItem, index) -> None:
        doc = self._document(index, option, option.rect.width())
        if doc is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the background, selection and hover as styled; the text is ours
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        painter.save()
        painter.translate(option.rect.left() + self.PAD_X, option.rect.top() + self.PAD_Y)
        doc.drawContents(painter, QRectF(0, 0, option.rect.width() - 2 * self.PAD_X, option.rect.height()))
        painter.restore()
