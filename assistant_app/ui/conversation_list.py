"""The sidebar: new conversation, search across all conversations, the list itself."""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.ui import qt_values as qv

if TYPE_CHECKING:
    from PySide6.QtCore import QPoint

ID_ROLE = qv.USER_ROLE
MESSAGE_ROLE = qv.USER_ROLE + 1
HIT_ROLE = qv.USER_ROLE + 2  # (title, snippet with match marks) of a search result


# Plain namedtuples (typing.NamedTuple compiles each annotation: time before the first frame).
ConversationRow = namedtuple("ConversationRow", "id title subtitle", defaults=("",))
SearchRow = namedtuple("SearchRow", "conversation_id message_id title snippet")  # message_id None: the title


class ConversationList(QWidget):
    conversationSelected = Signal(int)
    searchHitSelected = Signal(int, int)  # conversation id, message id (-1: the title matched)
    newRequested = Signal()
    renameRequested = Signal(int, str)
    deleteRequested = Signal(int)
    searchChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self._current: int | None = None
        self._searching = False

        self.new_button = QPushButton("+  New chat", self)
        self.new_button.setObjectName("newChatButton")
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")

        self.search = QLineEdit(self)
        self.search.setObjectName("searchEdit")
        self.search.setAccessibleName("Search conversations")
        self.search.setPlaceholderText("Search all conversations…")
        self.search.setClearButtonEnabled(True)

        self._hit_delegate = None  # draws search results (ui/search_hits.py)
        self.list = QListWidget(self)
        self.list.setObjectName("conversationList")
        self.list.setAccessibleName("Conversations")
        self.list.setUniformItemSizes(False)
        self.list.setWordWrap(True)
        # Titles wrap and elide; a sideways scroll bar would only ever move them by a few pixels.
        qv.set_properties(
            self.list,
            contextMenuPolicy=qv.CUSTOM_CONTEXT_MENU,
            textElideMode=qv.ELIDE_RIGHT,
            horizontalScrollBarPolicy=qv.SCROLL_BAR_ALWAYS_OFF,
        )

        self.empty = QLabel("No conversations yet.", self)
        self.empty.setObjectName("sidebarHint")
        qv.set_properties(self.empty, alignment=qv.ALIGN_CENTER)
        self.empty.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(lambda: self.searchChanged.emit(self.search.text().strip()))

        self.new_button.clicked.connect(self.newRequested)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.list.itemClicked.connect(self._activated)
        self.list.itemActivated.connect(self._activated)
        self.list.customContextMenuRequested.connect(self._context_menu)

    # -- content ----------------------------------------------------------------------------

    def set_conversations(self, rows: list[ConversationRow], current: int | None = None) -> None:
        self._searching = False
        self._current = current
        self.list.setUpdatesEnabled(False)
        self.list.clear()
        for row in rows:
            item = QListWidgetItem(row.title or "New chat")
            item.setData(ID_ROLE, row.id)
            item.setToolTip(row.title)
            self.list.addItem(item)
            if row.id == current:
                self.list.setCurrentItem(item)
        self.list.setUpdatesEnabled(True)
        self.empty.setText("No conversations yet.\nType a message to start one.")
        self.empty.setVisible(not rows)

    def set_search_results(self, rows: list[SearchRow], query: str) -> None:
        from assistant_app.core.search_text import MATCH_END, MATCH_START

        if self._hit_delegate is None:  # loaded with the first search, not at start-up (QStyle: ~6 ms)
            from assistant_app.ui.search_hits import SearchHitDelegate

            self._hit_delegate = SearchHitDelegate(HIT_ROLE, self.list)
            self.list.setItemDelegate(self._hit_delegate)
        self._searching = True
        self.list.setUpdatesEnabled(False)
        self.list.clear()
        for row in rows:
            snippet = " ".join(row.snippet.split())
            plain = snippet.replace(MATCH_START, "").replace(MATCH_END, "")
            text = f"{row.title}\n{plain}" if plain and row.message_id is not None else row.title
            item = QListWidgetItem(text)  # what screen readers read
            item.setData(ID_ROLE, row.conversation_id)
            item.setData(MESSAGE_ROLE, row.message_id if row.message_id is not None else -1)
            # A title match shows the title with its matches; a message match adds the snippet.
            item.setData(HIT_ROLE, (snippet, "") if row.message_id is None and snippet else (row.title, snippet))
            item.setToolTip(plain or row.title)
            self.list.addItem(item)
        self.list.setUpdatesEnabled(True)
        self.empty.setText(f"Nothing found for “{query}”.")
        self.empty.setVisible(not rows)

    def is_searching(self) -> bool:
        return self._searching

    def select(self, conversation_id: int | None) -> None:
        self._current = conversation_id
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == conversation_id and not self._searching:
                self.list.setCurrentItem(item)
                return
        self.list.clearSelection()

    def ids(self) -> list[int]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    # -- interaction ------------------------------------------------------------------------

    def _activated(self, item: QListWidgetItem) -> None:
        cid = int(item.data(ID_ROLE))
        if self._searching:
            self.searchHitSelected.emit(cid, int(item.data(MESSAGE_ROLE)))
        elif cid != self._current:
            self._current = cid
            self.conversationSelected.emit(cid)

    def _context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or self._searching:
            return
        cid = int(item.data(ID_ROLE))
        from PySide6.QtWidgets import QMenu  # dialogs and menus load on first use, not with the window

        menu = QMenu(self)
        rename = menu.addAction("Rename…")
        delete = menu.addAction("Delete…")
        chosen = menu.exec(self.list.viewport().mapToGlobal(pos))
        if chosen is rename:
            self.prompt_rename(cid, item.text())
        elif chosen is delete:
            self.prompt_delete(cid, item.text())

    def prompt_rename(self, conversation_id: int, current_title: str) -> None:
        from PySide6.QtWidgets import QInputDialog

        title, ok = QInputDialog.getText(self, "Rename conversation", "Title:", text=current_title)
        if ok and title.strip():
            self.renameRequested.emit(conversation_id, title.strip())

    def prompt_delete(self, conversation_id: int, title: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self,
            "Delete conversation",
            f"Delete “{title}” and all its messages? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.deleteRequested.emit(conversation_id)
