"""What keeps a streaming reply from dropping frames: no Pygments on the GUI thread, no full garbage
collections, no Qt text layouts at widths a block is never shown at."""

from __future__ import annotations

import gc
import threading
import uuid

import pytest
from PySide6.QtWidgets import QWidget

from assistant_app.ui import markdown
from assistant_app.ui.message_blocks import CodeBlock, LiveCodeBlock, ProseBlock
from assistant_app.ui.message_view import MessageItem, MessageView

TIMEOUT = 5000


@pytest.fixture
def highlight_threads(monkeypatch) -> list[str]:
    """Names of the threads that ran Pygments (through ``markdown.highlight_code``)."""
    names: list[str] = []
    real = markdown.highlight_code

    def spy(code: str, language: str = "", *, wrap: bool = False) -> str:
        if wrap or not markdown.is_highlighted(code, language):  # real Pygments work, not a cache hit
            names.append(threading.current_thread().name)
        return real(code, language, wrap=wrap)

    monkeypatch.setattr(markdown, "highlight_code", spy)
    return names


def test_a_finished_code_block_is_highlighted_off_the_gui_thread(view, qtbot, highlight_threads) -> None:
    code = f"def unique_{uuid.uuid4().hex}(x):\n    return x * 2"  # never highlighted before: not cached
    view.begin_stream(MessageItem(2, "assistant", "", status="streaming"))
    row = view.row(2)
    view.append_stream_text(2, f"Intro text.\n\n```python\n{code}\n```\n\nAfter the code")
    view.flush_pending()

    # Right after the flush the fence is closed but its colours are not ready: the code stays on screen
    # as live code (nothing flickers), the text after it waits.
    live = row.findChild(LiveCodeBlock)
    assert live is not None and live.isVisible() and live.code == code
    assert not any(isinstance(b, CodeBlock) for b in row.blocks)

    qtbot.waitUntil(lambda: any(isinstance(b, CodeBlock) for b in row.blocks), timeout=TIMEOUT)
    block = next(b for b in row.blocks if isinstance(b, CodeBlock))
    assert block.code == code and "color" in block.text_view.toHtml()
    assert not live.isVisible()
    qtbot.waitUntil(lambda: row.findChild(QWidget, "streamTail").text() == "After the code", timeout=TIMEOUT)
    assert highlight_threads and all(name.startswith("highlight") for name in highlight_threads)
    view.finish_stream(MessageItem(2, "assistant", "", status="complete"))


def test_finishing_while_a_block_waits_for_colours_loses_nothing(view, qtbot) -> None:
    code = f"fn waiting_{uuid.uuid4().hex}() {{}}"
    text = f"Before.\n\n```rust\n{code}\n```\n\nAfter."
    view.begin_stream(MessageItem(3, "assistant", "", status="streaming"))
    view.append_stream_text(3, text)
    view.flush_pending()
    view.finish_stream(MessageItem(3, "assistant", text, status="complete"))
    row = view.row(3)
    qtbot.waitUntil(lambda: [type(b).__name__ for b in row.blocks] == ["ProseBlock", "CodeBlock", "ProseBlock"],
                    timeout=TIMEOUT)
    assert row.blocks[1].code == code
    assert "After." in row.blocks[2].text()
    assert row.findChild(LiveCodeBlock) is None or not row.findChild(LiveCodeBlock).isVisible()


def test_finishing_with_new_code_runs_no_pygments_on_the_gui_thread(view, qtbot, highlight_threads) -> None:
    code = f"SELECT unique_{uuid.uuid4().hex} FROM t;"  # arrives with the last delta: never flushed
    view.begin_stream(MessageItem(4, "assistant", "", status="streaming"))
    view.append_stream_text(4, "Here it is.\n\n")
    view.flush_pending()
    text = f"Here it is.\n\n```sql\n{code}\n```\n\nDone."
    view.append_stream_text(4, text[len("Here it is.\n\n") :])
    view.finish_stream(MessageItem(4, "assistant", text, status="complete"))
    row = view.row(4)
    # Until the exact render is back, the code shows as it streamed (live code), never missing.
    live = row.findChild(LiveCodeBlock)
    assert live is not None and live.isVisible() and live.code == code
    qtbot.waitUntil(lambda: [type(b).__name__ for b in row.blocks] == ["ProseBlock", "CodeBlock", "ProseBlock"],
                    timeout=TIMEOUT)
    assert row.blocks[1].code == code and "color" in row.blocks[1].text_view.toHtml()
    assert "Done." in row.blocks[2].text()
    assert all(not w.isVisible() for w in row.findChildren(LiveCodeBlock))
    assert highlight_threads and threading.main_thread().name not in highlight_threads, highlight_threads


def test_no_full_collection_walks_old_objects_while_a_reply_streams(view, qtbot) -> None:
    assert gc.get_freeze_count() == 0
    view.begin_stream(MessageItem(4, "assistant", "", status="streaming"))
    assert gc.get_freeze_count() > 0
    view.append_stream_text(4, "Some text")
    view.finish_stream(MessageItem(4, "assistant", "Some text", status="complete"))
    assert gc.get_freeze_count() == 0
    # Every way a stream can end releases it: replaced transcript, removed message.
    view.begin_stream(MessageItem(5, "assistant", "", status="streaming"))
    view.set_messages([MessageItem(1, "user", "hi")])
    assert gc.get_freeze_count() == 0
    view.begin_stream(MessageItem(6, "assistant", "", status="streaming"))
    view.remove_from(6)
    assert gc.get_freeze_count() == 0
    # And a view destroyed mid-stream (a closed window).
    other = MessageView()
    other.begin_stream(MessageItem(8, "assistant", "", status="streaming"))
    assert gc.get_freeze_count() > 0
    other.deleteLater()
    qtbot.waitUntil(lambda: gc.get_freeze_count() == 0, timeout=TIMEOUT)


def test_blocks_answer_minimum_size_probes_without_laying_text_out_again(view, qtbot) -> None:
    table = "| a | b |\n|---|---|\n" + "".join(f"| row {i} | {i * i} |\n" for i in range(12))
    view.set_messages([MessageItem(7, "assistant", table)])
    row = view.row(7)
    qtbot.waitUntil(lambda: len(row.blocks) == 1 and row.blocks[0].isVisible(), timeout=TIMEOUT)
    block = row.blocks[0]
    assert isinstance(block, ProseBlock)
    real = block.heightForWidth(block.width())
    layouts: list[int] = []
    original = ProseBlock._layout_height

    def counting(self, width):
        layouts.append(width)
        return original(self, width)

    ProseBlock._layout_height = counting
    try:
        assert block.heightForWidth(0) == real  # a layout's minimum-size probe
        assert block.heightForWidth(80) == real
        assert block.heightForWidth(block.width()) == real
        assert layouts == []
        block.heightForWidth(500)  # a real (narrower) width is laid out for real
        assert layouts == [500]
        assert block.heightForWidth(300) == real  # narrower than prose is ever shown: a probe
        assert layouts == [500]
    finally:
        ProseBlock._layout_height = original
