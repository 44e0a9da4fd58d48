"""The window's layout holds still: a long title or a cost appearing never resizes the transcript."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from assistant_app.ui.main_window import MainWindow


def test_a_long_title_is_shortened_not_widening_the_window(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    qtbot.waitExposed(window)
    before = window.minimumSizeHint().width()
    sizes = window.splitter.sizes()
    title = "Please explain in great detail how the garbage collector decides when to run " * 3
    window.set_title(title)
    window.set_conversation_cost("$0.00011")
    qtbot.waitUntil(lambda: window.conversation_cost.isVisible(), timeout=5000)
    assert window.title.text() == title and window.title.toolTip() == title  # the whole title is kept
    assert window.minimumSizeHint().width() <= before  # ...but it does not widen the window
    assert window.splitter.sizes() == sizes  # nor move the sidebar's edge (all transcript text re-laid out)
    shown = QLabel.text(window.title)  # what is drawn (ElidedLabel.text() answers the whole title)
    assert shown.endswith("…") and len(shown) < len(title)

