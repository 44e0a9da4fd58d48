"""The main window: sidebar, conversation, composer, menus. It renders and emits intents only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.ui import qt_values as qv
from assistant_app.ui.composer import Composer
from assistant_app.ui.conversation_list import ConversationList
from assistant_app.ui.message_view import MessageView
from assistant_app.ui.notice_bar import NoticeBar
from assistant_app.ui.style import window_stylesheet

if TYPE_CHECKING:  # loaded with the menus, after the first frame
    from PySide6.QtGui import QAction, QCloseEvent


class ElidedLabel(QLabel):
    """One line of text that shortens itself with "…" when narrower than the text, instead of making
    the window wider; ``text()`` and the tooltip keep the whole text."""

    MIN_WIDTH = 80

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setText(text)

    def text(self) -> str:  # type: ignore[override]
        return self._full

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 2,
                     hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.MIN_WIDTH, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        metrics = self.fontMetrics()
        # Hidden, it has no real width yet: the resize event when it is shown elides it.
        if width <= 0 or not self.isVisible() or metrics.horizontalAdvance(self._full) <= width:
            shown = self._full
        else:  # Qt only when the title is too long: see ui/qt_values.py
            from PySide6.QtCore import Qt

            shown = metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, width) or self._full
        super().setText(shown)


def _set_shortcut(action: QAction, key: object, fallback: str = "") -> None:
    """The platform's bindings for a standard key (``QKeySequence.StandardKey``) or the given sequence
    (a string), ``fallback`` when the platform has none. Through ``setShortcuts``: resolving
    ``setShortcut``'s overloads builds Qt's whole enum namespace (see ui/qt_values.py)."""
    from PySide6.QtGui import QKeySequence

    if isinstance(key, str):
        keys = [QKeySequence(key)]
    else:
        keys = QKeySequence.keyBindings(key) or ([QKeySequence(fallback)] if fallback else [])
    action.setShortcuts(keys)


class MainWindow(QMainWindow):
    exportRequested = Signal(str, bool)  # format ("markdown" | "json"), all conversations?
    settingsRequested = Signal()
    conversationSettingsRequested = Signal()
    modelChosen = Signal(str)
    refreshModelsRequested = Signal()
    usageRequested = Signal(str)  # page of the Usage window: "spending" | "budgets"
    closing = Signal()

    def __init__(self, *, menus_later: bool = False) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Assistant")
        self.resize(1100, 760)

        self.sidebar = ConversationList(self)
        self.messages = MessageView(self)
        self.composer = Composer(self)

        self.title = ElidedLabel("New chat", self)  # a long title shortens; it never widens the window
        self.title.setObjectName("conversationTitle")
        qv.set_properties(self.title, textInteractionFlags=qv.SELECTABLE_BY_MOUSE)
        self.conversation_cost = QLabel(self)
        self.conversation_cost.setObjectName("conversationCost")
        self.conversation_cost.setAccessibleName("Cost of this conversation")
        self.conversation_cost.hide()
        self.model_picker = QComboBox(self)
        self.model_picker.setObjectName("modelPicker")
        self.model_picker.setAccessibleName("Model")
        self.model_picker.setEditable(True)
        self.model_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_picker.setMinimumWidth(220)
        self.model_picker.setToolTip("Model for this conversation (list from the server's /models)")
        self.conv_settings_button = QToolButton(self)
        self.conv_settings_button.setObjectName("conversationSettingsButton")
        self.conv_settings_button.setText("⚙")
        self.conv_settings_button.setAccessibleName("Conversation settings")
        self.conv_settings_button.setToolTip("System prompt, temperature, top_p, max tokens for this conversation")

        header = QHBoxLayout()
        header.setContentsMargins(16, 10, 12, 6)
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.conversation_cost)
        header.addStretch(1)
        header.addWidget(self.model_picker)
        header.addWidget(self.conv_settings_button)

        chat_page = QWidget(self)
        chat_page.setObjectName("chatPage")
        chat_layout = QVBoxLayout(chat_page)
        chat_layout.setContentsMargins(0, 0, 0, 0)
        chat_layout.setSpacing(0)
        chat_layout.addLayout(header)
        chat_layout.addWidget(self.messages, 1)
        self.budget_notice = NoticeBar("budgetNotice", chat_page)  # 80% / 100% of the monthly budget
        self.breaker_notice = NoticeBar("breakerNotice", chat_page)  # provider paused; "Try now"
        chat_layout.addWidget(self.budget_notice)
        chat_layout.addWidget(self.breaker_notice)
        chat_layout.addWidget(self.composer)

        self.pages = QStackedWidget(self)
        self.pages.addWidget(chat_page)
        self.chat_page = chat_page

        splitter = QSplitter(parent=self)  # horizontal; a positional parent would build Qt's enums
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 840])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self.splitter = splitter

        bar = self.menuBar()
        self._menus = [bar.addMenu(title) for title in ("&File", "&Edit", "&View")]
        self.help_menu = bar.addMenu("&Help")
        self._menus_built = False
        if menus_later:  # the app builds them right after the first frame (or when one is opened first)
            for menu in self._menus:
                menu.aboutToShow.connect(self.build_menus)
        else:
            self.build_menus()
        self.model_picker.activated.connect(lambda _i: self.modelChosen.emit(self.model_picker.currentText().strip()))
        self.model_picker.lineEdit().editingFinished.connect(self._model_edited)
        self.conv_settings_button.clicked.connect(self.conversationSettingsRequested)
        self.statusBar().setObjectName("statusBar")
        # One sheet for the whole window, set once its widgets exist: a sheet per widget, set while the
        # window is built, re-polishes the widgets below each one (7-10 ms more before the first frame).
        self.setStyleSheet(window_stylesheet(self.budget_notice.objectName(), self.breaker_notice.objectName()))

    def build_menus(self) -> None:
        """The menus' actions and their shortcuts. Not needed for the window's first frame (QAction,
        QKeySequence and a dozen actions: ~2 ms), so the app asks for them right after it."""
        if self._menus_built:
            return
        self._menus_built = True
        from PySide6.QtGui import QAction, QKeySequence

        file_menu, edit_menu, view_menu = self._menus
        new = QAction("&New chat", self)
        _set_shortcut(new, QKeySequence.StandardKey.New)
        new.triggered.connect(self.sidebar.newRequested)
        file_menu.addAction(new)
        file_menu.addSeparator()
        for label, fmt, everything in (
            ("Export conversation as &Markdown…", "markdown", False),
            ("Export conversation as &JSON…", "json", False),
            ("Export &all conversations as Markdown…", "markdown", True),
            ("Export all conversations as JSO&N…", "json", True),
        ):
            action = QAction(label, self)
            action.triggered.connect(lambda _c=False, f=fmt, a=everything: self.exportRequested.emit(f, a))
            file_menu.addAction(action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        _set_shortcut(quit_action, QKeySequence.StandardKey.Quit, "Ctrl+Q")
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        find = QAction("&Search conversations", self)
        _set_shortcut(find, QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.sidebar.search.setFocus(), self.sidebar.search.selectAll()))
        edit_menu.addAction(find)
        settings = QAction("&Settings…", self)
        _set_shortcut(settings, "Ctrl+,")
        settings.triggered.connect(self.settingsRequested)
        edit_menu.addAction(settings)
        conv = QAction("&Conversation settings…", self)
        conv.triggered.connect(self.conversationSettingsRequested)
        edit_menu.addAction(conv)
        models = QAction("&Refresh model list", self)
        models.triggered.connect(self.refreshModelsRequested)
        edit_menu.addAction(models)

        usage = QAction("&Usage…", self)
        _set_shortcut(usage, "Ctrl+Shift+U")
        usage.triggered.connect(lambda: self.usageRequested.emit("spending"))
        view_menu.addAction(usage)
        limits = QAction("&Budgets && limits…", self)
        limits.triggered.connect(lambda: self.usageRequested.emit("budgets"))
        view_menu.addAction(limits)

    def _model_edited(self) -> None:
        text = self.model_picker.currentText().strip()
        if text:
            self.modelChosen.emit(text)

    # -- what the controller sets -------------------------------------------------------------

    def show_page(self, widget: QWidget) -> None:
        if self.pages.indexOf(widget) < 0:
            self.pages.addWidget(widget)
        self.pages.setCurrentWidget(widget)

    def show_chat(self) -> None:
        self.pages.setCurrentWidget(self.chat_page)

    def set_models(self, models: list[str], current: str) -> None:
        self.model_picker.blockSignals(True)
        self.model_picker.clear()
        names = list(models)
        if current and current not in names:
            names.insert(0, current)
        self.model_picker.addItems(names)
        self.model_picker.setCurrentText(current)
        self.model_picker.blockSignals(False)

    def set_title(self, title: str) -> None:
        self.title.setText(title)
        self.setWindowTitle(f"{title} — Assistant" if title else "Assistant")

    def set_conversation_cost(self, text: str, tooltip: str = "") -> None:
        """The running total next to the title ("" hides it)."""
        self.conversation_cost.setText(text)
        self.conversation_cost.setToolTip(tooltip)
        self.conversation_cost.setVisible(bool(text))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)
