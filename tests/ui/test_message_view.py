"""MessageView: streaming render, block reuse, actions, lazy history (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from assistant_app.ui.markdown import render_segments, split_blocks
from assistant_app.ui.message_blocks import CodeBlock, LiveCodeBlock, ProseBlock, segment_key
from assistant_app.ui.message_bubble import MessageWidget
from assistant_app.ui.message_view import MessageItem, MessageView

TIMEOUT = 5000

LONG_REPLY = (
    "".join(
        f"Paragraph {i} explains step {i} with **emphasis** and `inline_{i}()` calls.\n\n"
        + (f"```python\ndef step_{i}(x):\n\n    return x * {i}\n```\n\n" if i % 4 == 0 else "")
        for i in range(24)
    )
    + "The end of the reply"
)


def _tail_text(row: MessageWidget) -> str:
    label = row.findChild(QLabel, "streamTail")
    return label.text() if label is not None and label.isVisible() else ""


def _stream(view: MessageView, qtbot, message_id: int, text: str, chunk: int = 7) -> None:
    """Feed ``text`` in small deltas, letting the coalescing timer run now and then."""
    for start in range(0, len(text), chunk):
        view.append_stream_text(message_id, text[start : start + chunk])
        if (start // chunk) % 25 == 24:
            with qtbot.waitSignal(view.streamRendered, timeout=TIMEOUT):
                pass


# ------------------------------------------------------------------------------------------ streaming
def test_streaming_shows_finished_blocks_and_tail(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(1, "user", "Explain")])
    view.begin_stream(MessageItem(2, "assistant", "", status="streaming"))
    row = view.row(2)
    assert row is not None and row.streaming
    assert "Generating" in row.status_label.text()

    _stream(view, qtbot, 2, LONG_REPLY)
    qtbot.waitUntil(lambda: _tail_text(row) == "The end of the reply", timeout=TIMEOUT)

    expected_blocks, expected_tail = split_blocks(LONG_REPLY)
    assert expected_tail == "The end of the reply"
    expected_widgets = sum(len(render_segments(block)) for block in expected_blocks)
    assert len(row.blocks) == expected_widgets
    assert sum(isinstance(b, CodeBlock) for b in row.blocks) == 6
    assert view.message_text(2) == LONG_REPLY
    # The finished text is rendered (not shown raw): no Markdown markers in prose labels.
    first = row.blocks[0]
    assert isinstance(first, ProseBlock)
    assert "<strong>emphasis</strong>" in first.text()


def test_finished_blocks_are_created_once(view: MessageView, qtbot) -> None:
    view.begin_stream(MessageItem(5, "assistant", "", status="streaming"))
    row = view.row(5)
    paragraphs = [f"Block number {i} has some words in it." for i in range(12)]
    seen: list[object] = []
    for i, paragraph in enumerate(paragraphs):
        if i:
            view.append_stream_text(5, "\n\n")
        for word in paragraph.split(" "):
            view.append_stream_text(5, word + " ")
            view.flush_pending()  # what the coalescing timer does
            # Block i-1 finished when paragraph i began; the tail never becomes a block by itself.
            assert len(row.blocks) == i
            assert all(a is b for a, b in zip(row.blocks, seen, strict=False))
            assert row.blocks_created == i
            assert _tail_text(row) and (paragraph + " ").startswith(_tail_text(row))
        seen = list(row.blocks)
    # And through the real timer: one more block appears, the others are untouched.
    view.append_stream_text(5, "\n\nLast")
    with qtbot.waitSignal(view.streamRendered, timeout=TIMEOUT):
        pass
    assert len(row.blocks) == len(paragraphs)
    assert all(a is b for a, b in zip(row.blocks, seen, strict=False))
    assert row.blocks_created == len(paragraphs)
    assert _tail_text(row) == "Last"


def test_tail_inside_open_fence_is_shown_as_live_code(view: MessageView, qtbot) -> None:
    view.begin_stream(MessageItem(3, "assistant", "", status="streaming"))
    view.append_stream_text(3, 'Here it is:\n\n```rust\nfn main() {\n    println!("<hi>");\n')
    row = view.row(3)
    live = row.findChild(LiveCodeBlock)
    qtbot.waitUntil(lambda: live is not None or row.findChild(LiveCodeBlock) is not None, timeout=TIMEOUT)
    live = row.findChild(LiveCodeBlock)
    qtbot.waitUntil(lambda: live.code.startswith("fn main()"), timeout=TIMEOUT)
    assert live.language_label.text() == "rust"
    assert live.code == 'fn main() {\n    println!("<hi>");'
    view.append_stream_text(3, "}\n```\n\nDone")
    qtbot.waitUntil(lambda: any(isinstance(b, CodeBlock) for b in row.blocks), timeout=TIMEOUT)
    code = next(b for b in row.blocks if isinstance(b, CodeBlock))
    assert code.code == 'fn main() {\n    println!("<hi>");\n}'
    assert not live.isVisible()
    assert _tail_text(row) == "Done"


def test_finish_stream_renders_exactly_and_reuses_blocks(view: MessageView, qtbot) -> None:
    text = "Intro with a [ref][r].\n\n```sh\necho hi\n```\n\n- a\n- b\n\n[r]: https://example.org\n"
    view.begin_stream(MessageItem(9, "assistant", "", status="streaming"))
    view.append_stream_text(9, text)
    row = view.row(9)
    qtbot.waitUntil(lambda: any(isinstance(b, CodeBlock) for b in row.blocks), timeout=TIMEOUT)
    streamed_code = next(b for b in row.blocks if isinstance(b, CodeBlock))
    # Block by block, the reference link cannot resolve yet.
    assert "https://example.org" not in row.blocks[0].text()

    view.finish_stream(MessageItem(9, "assistant", text, meta="test-model · 10 tok/s"))
    assert not row.streaming
    # The exact pass runs on a worker thread and lands shortly after.
    exact = [segment_key(s) for s in render_segments(text)]
    qtbot.waitUntil(lambda: [getattr(b, "key", None) for b in row.blocks] == exact, timeout=TIMEOUT)
    assert 'href="https://example.org"' in row.blocks[0].text()
    assert any(b is streamed_code for b in row.blocks)  # unchanged code block kept
    assert row.meta_label.text() == "test-model · 10 tok/s"
    assert row.meta_label.isVisibleTo(row)
    assert row.findChild(QLabel, "streamTail") is None or not row.findChild(QLabel, "streamTail").isVisible()
    assert view.message_text(9) == text


def test_auto_scroll_only_when_at_bottom(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(i, "assistant", f"Message {i}\n\n" * 3) for i in range(30)])
    bar = view.scroll_area().verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=TIMEOUT)

    view.begin_stream(MessageItem(100, "assistant", "", status="streaming"))
    old_max = bar.maximum()
    view.append_stream_text(100, "line\n\n" * 40 + "x")
    qtbot.waitUntil(lambda: bar.maximum() > old_max + 200 and bar.value() == bar.maximum(), timeout=TIMEOUT)

    bar.setValue(bar.maximum() // 2)  # the user scrolls up to read
    pinned = bar.value()
    old_max = bar.maximum()
    view.append_stream_text(100, "\n\n" + "more\n\n" * 40 + "y")
    qtbot.waitUntil(lambda: bar.maximum() > old_max + 200, timeout=TIMEOUT)
    assert bar.value() == pinned


# ------------------------------------------------------------------------------------------ actions
def test_code_block_copy_puts_raw_code_on_clipboard(view: MessageView, qtbot) -> None:
    code = 'if a < b and c > d:\n    print("<tag> & more")'
    view.set_messages([MessageItem(1, "assistant", f"Look:\n\n```python\n{code}\n```\n")])
    block = view.row(1).findChild(CodeBlock)
    assert block.language_label.text() == "python"
    assert block.copy_button.accessibleName() == "Copy code"
    QApplication.clipboard().clear()
    qtbot.mouseClick(block.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == code


def test_message_copy_puts_raw_markdown_on_clipboard(view: MessageView, qtbot) -> None:
    text = "**Bold** and `code`\n\n| a |\n|---|\n| 1 |"
    view.set_messages([MessageItem(1, "assistant", text)])
    row = view.row(1)
    QApplication.clipboard().clear()
    qtbot.mouseClick(row.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == text


def test_branch_arrows_emit_sibling_ids(view: MessageView, qtbot) -> None:
    view.set_messages(
        [MessageItem(1, "user", "Q"), MessageItem(7, "assistant", "second version", sibling_ids=[3, 7, 9])]
    )
    row = view.row(7)
    assert row.branch_label.text() == "2/3"
    assert row.prev_button.accessibleName() == "Previous version"
    with qtbot.waitSignal(view.branchRequested, timeout=TIMEOUT) as prev:
        qtbot.mouseClick(row.prev_button, Qt.MouseButton.LeftButton)
    assert prev.args == [3]
    with qtbot.waitSignal(view.branchRequested, timeout=TIMEOUT) as nxt:
        qtbot.mouseClick(row.next_button, Qt.MouseButton.LeftButton)
    assert nxt.args == [9]

    view.update_message(MessageItem(7, "assistant", "second version", sibling_ids=[7, 9]))
    assert row.branch_label.text() == "1/2"
    assert not row.prev_button.isEnabled() and row.next_button.isEnabled()
    assert view.row(1).findChild(QLabel, "branchLabel") is None  # no arrows for a single version


def test_edit_flow_emits_edit_submitted(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(4, "user", "Original question"), MessageItem(5, "assistant", "A")])
    row = view.row(4)
    qtbot.mouseClick(row.edit_button, Qt.MouseButton.LeftButton)
    assert row.editing
    assert row.edit_box.toPlainText() == "Original question"
    assert not row.blocks[0].isVisible()

    # Cancel restores the bubble and emits nothing.
    with qtbot.assertNotEmitted(view.editSubmitted):
        qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert not row.editing and row.blocks[0].isVisible()

    qtbot.mouseClick(row.edit_button, Qt.MouseButton.LeftButton)
    row.edit_box.setPlainText("Better question")
    with qtbot.waitSignal(view.editSubmitted, timeout=TIMEOUT) as submitted:
        qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)
    assert submitted.args == [4, "Better question"]
    assert not row.editing


def test_edit_box_fits_its_text_and_answers_the_keyboard(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(4, "user", "Short"), MessageItem(5, "assistant", "A")])
    row = view.row(4)
    qtbot.mouseClick(row.edit_button, Qt.MouseButton.LeftButton)
    box = row.edit_box
    line = box.fontMetrics().lineSpacing()
    short = box.height()
    assert 3 * line <= short < 5 * line  # a one-line message gets a few lines, not a big empty box
    assert box.textCursor().atEnd()  # ready to add to the end
    box.setPlainText("\n".join(f"line {i}" for i in range(8)))
    assert box.height() > short + 4 * line  # it grows with the text...
    box.setPlainText("\n".join(f"line {i}" for i in range(40)))
    assert box.height() < 16 * line  # ...up to a limit, then scrolls
    with qtbot.assertNotEmitted(view.editSubmitted):
        qtbot.keyClick(box, Qt.Key.Key_Escape)  # Esc cancels
    assert not row.editing
    qtbot.mouseClick(row.edit_button, Qt.MouseButton.LeftButton)
    row.edit_box.setPlainText("Longer question")
    qtbot.keyClick(row.edit_box, Qt.Key.Key_Return)  # Enter alone is a new line
    assert row.editing and row.edit_box.toPlainText().count("\n") == 1
    with qtbot.waitSignal(view.editSubmitted, timeout=TIMEOUT) as submitted:
        qtbot.keyClick(row.edit_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert submitted.args[0] == 4 and submitted.args[1].strip() == "Longer question"


def test_opening_the_editor_keeps_it_in_sight(view: MessageView, qtbot) -> None:
    """At the bottom of a conversation a little taller than the window, the question's Edit button is
    in sight; the editor it opens grows the row and must not be pushed out of the top."""
    bar = view.scroll_area().verticalScrollBar()
    viewport = view.scroll_area().viewport()

    def in_sight(widget) -> bool:
        top = widget.mapTo(viewport, widget.rect().topLeft()).y()
        return top >= 0 and top + widget.height() <= viewport.height()

    for paragraphs in range(4, 60):  # the shortest reply that makes the view scroll a little
        reply = "\n\n".join(f"Paragraph {i} of a reply." for i in range(paragraphs))
        view.set_messages([MessageItem(1, "user", "Question"), MessageItem(2, "assistant", reply)])
        qtbot.waitUntil(lambda: view.row(2) is not None and view.row(2).isVisible(), timeout=TIMEOUT)
        view.scroll_to_bottom()
        if bar.maximum() > 0:
            break
    row = view.row(1)
    assert view.is_at_bottom() and in_sight(row.edit_button)
    before = bar.maximum()
    qtbot.mouseClick(row.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar.maximum() > before, timeout=TIMEOUT)  # laid out with the editor
    qtbot.waitUntil(lambda: in_sight(row.editor), timeout=TIMEOUT)
    assert row.edit_box.hasFocus() or not view.window().isActiveWindow()


def test_regenerate_emits_id(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(1, "user", "Q"), MessageItem(2, "assistant", "A")])
    assert view.row(1).regenerate_button is None  # only assistant replies regenerate
    with qtbot.waitSignal(view.regenerateRequested, timeout=TIMEOUT) as sig:
        qtbot.mouseClick(view.row(2).regenerate_button, Qt.MouseButton.LeftButton)
    assert sig.args == [2]


@pytest.mark.parametrize(
    ("status", "error", "expected", "has_continue"),
    [
        ("incomplete", "the connection dropped", "Incomplete — the connection dropped", True),
        ("stopped", None, "Stopped", True),
        ("stopped", "Stopped.", "Stopped", True),  # what the engine records: not "Stopped — Stopped."
        ("stopped", "the window closed", "Stopped — the window closed", True),
        ("error", "The key was rejected (401).", "The key was rejected (401).", False),
    ],
)
def test_recover_buttons_for_unfinished_replies(view, qtbot, status, error, expected, has_continue) -> None:
    view.set_messages([MessageItem(8, "assistant", "Partial rep", status=status, error=error)])
    row = view.row(8)
    assert row.status_label.isVisible()
    assert row.status_label.text() == expected
    assert row.retry_button.isVisible() and row.retry_button.accessibleName() == "Retry"
    assert row.continue_button.isVisible() == has_continue
    with qtbot.waitSignal(view.retryRequested, timeout=TIMEOUT) as retry:
        qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
    assert retry.args == [8]
    if has_continue:
        with qtbot.waitSignal(view.continueRequested, timeout=TIMEOUT) as cont:
            qtbot.mouseClick(row.continue_button, Qt.MouseButton.LeftButton)
        assert cont.args == [8]

    # Once complete, the reply no longer looks unfinished.
    view.update_message(MessageItem(8, "assistant", "Partial reply, now whole"))
    assert not row.status_label.isVisible()
    assert not row.retry_button.isVisible()
    assert view.message_text(8) == "Partial reply, now whole"


def test_stream_that_breaks_is_not_shown_complete(view: MessageView, qtbot) -> None:
    view.begin_stream(MessageItem(2, "assistant", "", status="streaming"))
    view.append_stream_text(2, "Half a sent")
    qtbot.waitUntil(lambda: _tail_text(view.row(2)) == "Half a sent", timeout=TIMEOUT)
    view.finish_stream(MessageItem(2, "assistant", "Half a sent", status="incomplete", error="the connection dropped"))
    row = view.row(2)
    assert row.status_label.text() == "Incomplete — the connection dropped"
    assert row.retry_button.isVisible() and row.continue_button.isVisible()


def test_continue_streams_into_the_existing_bubble(view: MessageView, qtbot) -> None:
    view.set_messages([MessageItem(2, "assistant", "First part. ", status="stopped")])
    row = view.row(2)
    view.begin_stream(MessageItem(2, "assistant", "First part. ", status="streaming"))
    assert view.row(2) is row and view.loaded_count() == 1
    view.append_stream_text(2, "Second part.")
    qtbot.waitUntil(lambda: _tail_text(row) == "First part. Second part.", timeout=TIMEOUT)
    view.finish_stream(MessageItem(2, "assistant", "First part. Second part."))
    assert view.message_text(2) == "First part. Second part."
    assert not row.status_label.isVisible()


# ------------------------------------------------------------------------------------------ content safety
def test_html_in_text_is_escaped(view: MessageView) -> None:
    evil = 'Hi <img src="/etc/passwd"> <b>bold</b> <script>alert(1)</script>'
    view.set_messages([MessageItem(1, "user", evil), MessageItem(2, "assistant", evil)])
    user_label = view.row(1).blocks[0]
    assert user_label.textFormat() == Qt.TextFormat.PlainText
    assert user_label.text() == evil  # shown literally
    prose = view.row(2).blocks[0]
    assert isinstance(prose, ProseBlock)
    assert "<b>" not in prose.text() and "<script>" not in prose.text() and "<img" not in prose.text()
    assert "&lt;b&gt;bold&lt;/b&gt;" in prose.text()


# ------------------------------------------------------------------------------------------ list operations
def test_append_update_remove_clear_and_placeholder(view: MessageView, qtbot) -> None:
    view.show_placeholder("Ask anything")
    placeholder = view.findChild(QLabel, "messagePlaceholder")
    assert placeholder.isVisible() and placeholder.text() == "Ask anything"
    for i in range(1, 6):
        view.append_message(MessageItem(i, "user" if i % 2 else "assistant", f"m{i}"))
    assert not placeholder.isVisible()
    assert view.message_ids() == [1, 2, 3, 4, 5]
    view.update_message(MessageItem(2, "assistant", "**changed**"))
    assert "<strong>changed</strong>" in view.row(2).blocks[0].text()
    view.remove_from(3)
    assert view.message_ids() == [1, 2]
    assert view.row(3) is None and view.row(5) is None
    with pytest.raises(KeyError):
        view.message_text(4)
    view.clear()
    assert view.message_ids() == [] and view.loaded_count() == 0


# ------------------------------------------------------------------------------------------ lazy history
def test_lazy_paging_of_5000_messages(view: MessageView, qtbot) -> None:
    items = [
        MessageItem(i, "user" if i % 2 == 0 else "assistant", f"Message {i}\n\nSome *text* number {i}.")
        for i in range(5000)
    ]
    view.set_messages(items)
    first, page = MessageView.FIRST_PAGE, MessageView.PAGE_SIZE
    assert view.loaded_count() == first
    assert len(view.findChildren(MessageWidget)) == first
    assert view.row(4999) is not None and view.row(0) is None
    assert view.message_text(10) == "Message 10\n\nSome *text* number 10."  # unloaded, still known

    bar = view.scroll_area().verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=TIMEOUT)
    assert view.loaded_count() == first  # at the bottom: nothing more is created

    top_row = view.row(5000 - first)
    viewport = view.scroll_area().viewport()
    bar.setValue(0)  # the user scrolls to the top
    before = top_row.mapTo(viewport, top_row.rect().topLeft()).y()
    qtbot.waitUntil(lambda: view.loaded_count() == first + page, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() > 0, timeout=TIMEOUT)
    after = top_row.mapTo(viewport, top_row.rect().topLeft()).y()
    assert abs(after - before) <= 2  # the content the user was looking at did not jump
    assert view.row(5000 - first - page) is not None and view.row(5000 - first - page - 1) is None
    # Rows stay in conversation order in the layout.
    rows = [w for w in view.findChildren(MessageWidget) if w.isVisibleTo(view)]
    ordered = sorted(rows, key=lambda w: w.y())
    assert [w.item.id for w in ordered] == list(range(5000 - first - page, 5000))


def test_screenshot(view: MessageView, qtbot) -> None:
    markdown = (
        "Here is **bold**, *italic*, ~~struck~~, `inline code` and a [link](https://example.com).\n\n"
        "## Steps\n\n1. Install\n2. Run `app --help`\n\n> A short quote.\n\n"
        "| Name | Value |\n|:-----|------:|\n| alpha | 1 |\n| beta | 22 |\n\n"
        '```python\ndef greet(name: str) -> str:\n    return f"Hello, {name}!"\n```\n\nThat\'s all.'
    )
    view.set_messages(
        [
            MessageItem(1, "user", "Show me what Markdown looks like"),
            MessageItem(2, "assistant", markdown, sibling_ids=[2, 6], meta="gpt-4o-mini · 12 prompt · 80 completion"),
            MessageItem(3, "user", "And a reply that broke?"),
            MessageItem(4, "assistant", "It was going well until", status="incomplete", error="the connection dropped"),
        ]
    )
    view.resize(820, 1000)
    labels = [view.row(i).blocks[0] for i in (1, 2, 3, 4)]
    # Layout settled: every label has the height its width calls for.
    qtbot.waitUntil(lambda: all(w.height() == w.heightForWidth(w.width()) for w in labels), timeout=TIMEOUT)
    out = Path("/tmp/shots")
    out.mkdir(parents=True, exist_ok=True)
    image = view.grab()
    assert not image.isNull()
    assert image.save(str(out / "message_view.png"))


def _scroll_and_wait_page(view: MessageView, qtbot, value: int) -> None:
    with qtbot.waitSignal(view.pageLoaded, timeout=TIMEOUT):
        view.scroll_area().verticalScrollBar().setValue(value)


def _viewport_y(view: MessageView, row: QWidget) -> int:
    return row.mapTo(view.scroll_area().viewport(), row.rect().topLeft()).y()


def test_loaded_window_stays_bounded_in_both_directions(view: MessageView, qtbot) -> None:
    view.PAGE_SIZE, view.MAX_LOADED = 10, 30
    items = [MessageItem(i, "user" if i % 2 == 0 else "assistant", f"Message {i}\n\nText {i}.") for i in range(300)]
    view.set_messages(items)
    bar = view.scroll_area().verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=TIMEOUT)
    assert view.loaded_range()[1] == 300 and view.loaded_count() <= 30

    while view.loaded_range()[0] > 200:
        _scroll_and_wait_page(view, qtbot, 0)
        assert view.loaded_count() <= 30
    first, end = view.loaded_range()
    assert end - first == view.loaded_count() <= 30
    assert end < 300  # the newest rows were dropped to stay within MAX_LOADED
    assert view.row(299) is None and view.row(first) is not None
    assert not view.is_at_bottom()

    # Scrolling down again re-creates later rows and drops the oldest, without moving what is visible.
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=TIMEOUT)
    visible = view.row(end - 1)
    with qtbot.waitSignal(view.pageLoaded, timeout=TIMEOUT) as loaded:
        bar.setValue(bar.maximum())
        before = _viewport_y(view, visible)
    assert loaded.args == [-10]
    new_first, new_end = view.loaded_range()
    assert new_end == end + 10 and new_first > first
    assert view.loaded_count() <= 30
    assert view.row(first) is None
    assert abs(_viewport_y(view, visible) - before) <= 2

    view.scroll_to_bottom()
    assert view.loaded_range()[1] == 300
    qtbot.waitUntil(view.is_at_bottom, timeout=TIMEOUT)


def test_stream_survives_its_row_being_paged_out(view: MessageView, qtbot) -> None:
    view.PAGE_SIZE, view.MAX_LOADED = 10, 20
    view.set_messages([MessageItem(i, "user" if i % 2 == 0 else "assistant", f"Old message {i}") for i in range(100)])
    view.begin_stream(MessageItem(500, "assistant", "", status="streaming"))
    view.append_stream_text(500, "First block.\n\nSecond")
    qtbot.waitUntil(lambda: len(view.row(500).blocks) == 1, timeout=TIMEOUT)

    bar = view.scroll_area().verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=TIMEOUT)
    while view.row(500) is not None:
        _scroll_and_wait_page(view, qtbot, 0)
    # Still streaming while nobody looks at it: the text keeps arriving into the model.
    view.append_stream_text(500, " block.\n\nThird")
    with qtbot.waitSignal(view.streamRendered, timeout=TIMEOUT):
        pass
    assert view.message_text(500) == "First block.\n\nSecond block.\n\nThird"

    view.scroll_to_bottom()
    row = view.row(500)
    assert row is not None and row.streaming
    assert len(row.blocks) == 2 and row.blocks_created == 2
    assert _tail_text(row) == "Third"
    view.finish_stream(MessageItem(500, "assistant", "First block.\n\nSecond block.\n\nThird."))
    assert not row.streaming
    assert view.message_text(500) == "First block.\n\nSecond block.\n\nThird."


def test_sending_while_paged_up_jumps_to_the_bottom(view: MessageView, qtbot) -> None:
    view.PAGE_SIZE, view.MAX_LOADED = 10, 20
    view.set_messages([MessageItem(i, "assistant", f"Reply {i}\n\nmore text") for i in range(200)])
    bar = view.scroll_area().verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=TIMEOUT)
    while view.loaded_range()[1] == 200:
        _scroll_and_wait_page(view, qtbot, 0)
    view.append_message(MessageItem(1000, "user", "New question"))
    assert view.row(1000) is not None
    assert view.loaded_range()[1] == 201
    qtbot.waitUntil(view.is_at_bottom, timeout=TIMEOUT)


def test_final_render_that_merges_blocks_never_leaves_the_reply_hidden(view: MessageView, qtbot) -> None:
    """The final exact pass merges blocks streamed one by one; the rebuilt bubble is visible at once
    (under X11 the reply used to vanish for a moment right after it finished)."""
    text = "First paragraph.\n\nSecond paragraph.\n\n```python\nx = 1\n```\n\nLast paragraph."
    view.set_messages([MessageItem(1, "user", "q")])
    view.begin_stream(MessageItem(2, "assistant", "", status="streaming"))
    row = view.row(2)
    view.append_stream_text(2, text)
    view.flush_pending()
    qtbot.waitUntil(lambda: any(isinstance(b, CodeBlock) for b in row.blocks), timeout=TIMEOUT)
    streamed = list(row.blocks)
    assert [type(b).__name__ for b in streamed] == ["ProseBlock", "ProseBlock", "CodeBlock"]  # one by one
    row._apply_segments(render_segments(text))  # what the worker's final pass hands back
    # The first two paragraphs are one run of prose now, and the tail is a block.
    assert [type(b).__name__ for b in row.blocks] == ["ProseBlock", "CodeBlock", "ProseBlock"]
    assert all(block.isVisible() for block in row.blocks)  # before any event is processed
    assert streamed[2] in row.blocks  # the code block was moved, not re-created
    view.finish_stream(MessageItem(2, "assistant", text, status="complete"))


def test_a_user_message_bubble_hugs_its_whole_text(view: MessageView, qtbot) -> None:
    text = "Show me a python function that adds two numbers, and a table"
    view.set_messages([MessageItem(1, "user", text, status="complete")])
    view.append_message(MessageItem(2, "user", text + "?", status="complete"))  # as when sending
    view.begin_stream(MessageItem(3, "assistant", "", status="streaming"))
    view.append_stream_text(3, "Hello there.\n\nMore")
    view.flush_pending()
    for message_id, shown in ((1, text), (2, text + "?")):
        row = view.row(message_id)
        label = row.blocks[0]
        qtbot.waitUntil(lambda label=label: label.width() > 0, timeout=TIMEOUT)
        QApplication.processEvents()
        assert label.isVisible() and label.text() == shown
        assert label.width() >= label.fontMetrics().horizontalAdvance(shown)  # one line, nothing cut off
        assert row.bubble.width() < row.width() * 0.9  # hugs the text, does not take the full row
        assert row.bubble.geometry().right() > row.width() * 0.8  # on the right, as user messages are
    view.finish_stream(MessageItem(3, "assistant", "Hello there.\n\nMore", status="complete"))


def test_a_growing_reply_never_squeezes_the_blocks_already_shown(view: MessageView, qtbot) -> None:
    """Qt lays out the innermost layout first, inside its old size: a growing tail used to squeeze
    every finished block of the reply and put it back on each update (a full re-layout and repaint)."""
    view.begin_stream(MessageItem(5, "assistant", "", status="streaming"))
    row = view.row(5)
    first = "".join(f"Paragraph {i} has some words in it to wrap.\n\n" for i in range(12))
    view.append_stream_text(5, first + "The tail starts here")
    view.flush_pending()

    def settled() -> bool:
        return len(row.blocks) >= 12 and all(b.width() > 0 and b.height() == b.heightForWidth(b.width())
                                             for b in row.blocks)  # fmt: skip

    qtbot.waitUntil(settled, timeout=TIMEOUT)
    heights = [b.height() for b in row.blocks]
    squeezed: list[tuple[str, int, int]] = []

    class Watch(QObject):
        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Resize and event.size().height() < event.oldSize().height():
                squeezed.append((obj.objectName(), event.oldSize().height(), event.size().height()))
            return False

    watch = Watch()
    for block in row.blocks:
        block.installEventFilter(watch)
    for i in range(8):  # the tail grows by a few lines per update, as it does while streaming
        view.append_stream_text(5, f" and more words, line {i}," * 6)
        with qtbot.waitSignal(view.streamRendered, timeout=TIMEOUT):
            pass
        QApplication.processEvents()
    assert not squeezed, squeezed
    assert [b.height() for b in row.blocks[: len(heights)]] == heights
    view.finish_stream(MessageItem(5, "assistant", "", status="complete"))
