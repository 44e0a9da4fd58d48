"""The off-screen warm-up draw (MessageView.warm_up) leaves nothing behind in the transcript."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent

from assistant_app.ui.message_bubble import MessageWidget
from assistant_app.ui.message_view import MessageItem, MessageView


def test_warm_up_draws_off_screen_and_leaves_the_transcript_as_it_was(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(1, "user", "hello", status="complete")])
    before = (view.message_ids(), view.loaded_count())
    view.warm_up()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert (view.message_ids(), view.loaded_count()) == before
    rows = [w for w in view.scroll_area().widget().findChildren(MessageWidget) if w.item.id == -1]
    assert rows == []  # the sample row is gone
    assert view.row(1) is not None and view.row(1).isVisible()
