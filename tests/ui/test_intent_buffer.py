"""The window is shown before its controllers exist (app.py); what the user asks meanwhile is replayed."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assistant_app.ui.intent_buffer import IntentBuffer, window_intents
from assistant_app.ui.main_window import MainWindow


def test_requests_made_before_the_controllers_exist_reach_them_in_order(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    buffer = IntentBuffer(window_intents(window))

    # The user acts while only the window exists: types and presses Enter, searches, picks a model.
    window.composer.editor.setFocus()
    qtbot.keyClicks(window.composer.editor, "hello there")
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return)
    window.sidebar.searchChanged.emit("notes")
    window.modelChosen.emit("gpt-4o")
    assert buffer.pending == 3
    assert window.composer.text() == "hello there"  # typed text needs no help: it stays in the box

    # The controller connects, then the recorded requests are replayed to it.
    heard: list[tuple[str, object]] = []
    window.composer.sendRequested.connect(lambda text: heard.append(("send", text)))
    window.sidebar.searchChanged.connect(lambda text: heard.append(("search", text)))
    window.modelChosen.connect(lambda model: heard.append(("model", model)))
    assert buffer.replay() == 3
    assert heard == [("send", "hello there"), ("search", "notes"), ("model", "gpt-4o")]

    # Afterwards the buffer is out of the way: requests go straight through, once, and are not kept.
    heard.clear()
    window.modelChosen.emit("gpt-4o-mini")
    assert heard == [("model", "gpt-4o-mini")]
    assert buffer.pending == 0
    assert buffer.replay() == 0


def test_nothing_recorded_means_nothing_replayed(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    buffer = IntentBuffer(window_intents(window))
    assert buffer.replay() == 0
