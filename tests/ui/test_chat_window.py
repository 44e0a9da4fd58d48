"""The chat window as a user drives it: type, send, stream, stop, regenerate, edit, branches, search, export."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QPushButton

from tests.support.fake_faults import Fault
from tests.support.schema import validate_recorded
from tests.ui.conftest import App, button

LONG_REPLY = "First paragraph of a long answer.\n\n" + " ".join(f"word{i}" for i in range(300)) + "\n\nThe end."


def type_and_send(app: App, qtbot, text: str) -> None:
    composer = app.window.composer
    qtbot.keyClicks(composer.editor, text)
    assert composer.send_button.isEnabled()
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)


def chat_requests(app: App) -> list:
    return [r for r in app.server.requests if r.path.endswith("/chat/completions")]


def assistant_ids(app: App) -> list[int]:
    return [m.id for m in app.ctx.store.active_path(app.chat.conversation_id) if m.role == "assistant"]


def test_send_is_disabled_for_empty_or_blank_text(make_app, qtbot) -> None:
    app = make_app()
    composer = app.window.composer
    assert not composer.send_button.isEnabled()
    qtbot.keyClicks(composer.editor, "   ")
    assert not composer.send_button.isEnabled()
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return)  # Enter on blank text sends nothing
    assert app.ctx.store.count_conversations() == 0


def test_type_send_and_watch_the_reply_stream_in(make_app, qtbot) -> None:
    app = make_app(chat_reply=LONG_REPLY, tokens_per_second=400)
    type_and_send(app, qtbot, "Tell me something long")
    view = app.window.messages
    cid = app.chat.conversation_id
    assert cid is not None
    user = app.ctx.store.active_path(cid)[0]
    assert user.role == "user" and user.content == "Tell me something long"  # saved before the reply
    assert app.window.composer.text() == ""
    assert app.window.composer.stop_button.isVisible()

    async def scenario():
        def partial_on_screen() -> int | None:
            ids = assistant_ids(app)
            if ids and 0 < len(view.message_text(ids[0])) < len(LONG_REPLY):
                return ids[0]
            return None

        partial = await app.until(partial_on_screen, what="partial text on screen")
        text_mid = view.message_text(partial)
        assert LONG_REPLY.startswith(text_mid[:20])
        return await app.reply_done()

    mid, status = app.run(scenario())
    assert status == "complete"
    assert view.message_text(mid) == LONG_REPLY
    stored = app.ctx.store.get_message(mid)
    assert stored.content == LONG_REPLY and stored.completion_tokens > 0 and stored.ttft_ms is not None
    assert not app.window.composer.stop_button.isVisible()
    body = app.server.requests[-1].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    for req in app.server.requests:
        validate_recorded(req)
    row = view.row(mid)
    assert "completion" in row.meta_label.text()


def test_stop_keeps_what_arrived(make_app, qtbot) -> None:
    app = make_app(chat_reply=LONG_REPLY, tokens_per_second=100)
    type_and_send(app, qtbot, "go")

    async def scenario():
        view = app.window.messages
        await app.until(lambda: assistant_ids(app) and len(view.message_text(assistant_ids(app)[0])) > 20,
                        what="some streamed text")
        qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Escape)  # Esc stops
        return await app.reply_done()

    mid, status = app.run(scenario())
    assert status == "stopped"
    stored = app.ctx.store.get_message(mid)
    assert stored.status == "stopped" and 20 < len(stored.content) < len(LONG_REPLY)
    assert LONG_REPLY.startswith(stored.content)
    assert "Stopped" in app.window.composer.status.text()
    assert button(app.window.messages.row(mid), "Continue").isVisible()


def test_regenerate_keeps_the_old_reply_as_a_branch(make_app, qtbot) -> None:
    app = make_app(chat_reply="first answer")
    type_and_send(app, qtbot, "question")
    first, _ = app.run(app.reply_done())
    app.server.chat_reply = "second answer"
    qtbot.mouseClick(button(app.window.messages.row(first), "Regenerate reply"), Qt.MouseButton.LeftButton)
    second, status = app.run(app.reply_done())
    assert status == "complete" and second != first
    view = app.window.messages
    assert view.message_text(second) == "second answer"
    assert view.message_ids()[-1] == second and first not in view.message_ids()
    # ‹ 2/2 ›: go back to the first answer
    qtbot.mouseClick(button(view.row(second), "Previous version"), Qt.MouseButton.LeftButton)
    app.run(app.until(lambda: first in view.message_ids(), what="the first branch shown"))
    assert view.message_text(first) == "first answer"
    assert [m.content for m in app.ctx.store.active_path(app.chat.conversation_id)] == ["question", "first answer"]


def test_edit_and_resend_then_switch_between_branches(make_app, qtbot) -> None:
    app = make_app()  # the server echoes the last user message
    type_and_send(app, qtbot, "original question")
    app.run(app.reply_done())
    view = app.window.messages
    user_id = view.message_ids()[0]
    row = view.row(user_id)
    qtbot.mouseClick(button(row, "Edit message"), Qt.MouseButton.LeftButton)
    editor = row.findChild(QPlainTextEdit, "editBox")
    assert editor is not None
    editor.setPlainText("edited question")
    app.run(app.until(editor.isVisible, what="the inline editor shown"))
    qtbot.mouseClick(button(row, "Save and send"), Qt.MouseButton.LeftButton)
    _mid, status = app.run(app.reply_done())
    assert status == "complete"
    path = app.ctx.store.active_path(app.chat.conversation_id)
    assert path[0].content == "edited question"
    assert "edited question" in path[1].content
    new_user = path[0].id
    assert new_user != user_id
    qtbot.mouseClick(button(view.row(new_user), "Previous version"), Qt.MouseButton.LeftButton)
    app.run(app.until(lambda: user_id in view.message_ids(), what="the original branch"))
    path = app.ctx.store.active_path(app.chat.conversation_id)
    assert path[0].content == "original question" and "original question" in path[1].content


def test_search_finds_a_conversation_and_opens_it(make_app, qtbot) -> None:
    app = make_app()
    type_and_send(app, qtbot, "the zebra question")
    app.run(app.reply_done())
    first = app.chat.conversation_id
    app.window.sidebar.newRequested.emit()
    type_and_send(app, qtbot, "something else entirely")
    app.run(app.reply_done())
    assert app.chat.conversation_id != first
    sidebar = app.window.sidebar
    qtbot.keyClicks(sidebar.search, "zebra")
    app.run(app.until(lambda: sidebar.is_searching() and sidebar.list.count() > 0, what="search results"))
    assert all(i == first for i in sidebar.ids())
    item = sidebar.list.item(0)
    sidebar.list.itemClicked.emit(item)
    assert app.chat.conversation_id == first
    assert "zebra" in app.window.messages.message_text(app.window.messages.message_ids()[0])


def test_a_search_hit_deep_in_a_long_conversation_is_brought_into_view(make_app, qtbot) -> None:
    app = make_app()
    store = app.ctx.store
    conv = store.create_conversation(title="Long one")
    items = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"filler message {i}"} for i in range(200)]
    items[20] = {"role": "user", "content": "the okapi question"}
    ids = store.add_messages(conv.id, items)
    app.chat.refresh_list()
    sidebar = app.window.sidebar
    qtbot.keyClicks(sidebar.search, "okapi")
    app.run(app.until(lambda: sidebar.is_searching() and sidebar.list.count() > 0, what="search results"))
    sidebar.list.itemClicked.emit(sidebar.list.item(0))
    view = app.window.messages
    assert app.chat.conversation_id == conv.id
    row = view.row(ids[20])
    assert row is not None, "the hit's row was built although it is far from the end"
    viewport = view.scroll_area().viewport()
    app.run(app.until(lambda: not row.visibleRegion().isEmpty(), what="the hit scrolled into view"))
    assert 0 <= row.mapTo(viewport, row.rect().topLeft()).y() < viewport.height()


def test_export_markdown_and_json(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app(chat_reply="Here:\n\n```python\nprint('hi')\n```\n")
    type_and_send(app, qtbot, "code please")
    app.run(app.reply_done())
    md = tmp_path / "c.md"
    app.chat.export_to(md, "markdown", False)
    text = md.read_text()
    assert "code please" in text and "```python\nprint('hi')\n```" in text
    js = tmp_path / "all.json"
    app.chat.export_to(js, "json", True)
    data = json.loads(js.read_text())
    assert "code please" in json.dumps(data)


def test_401_shows_an_actionable_message_and_keeps_the_text(make_app, qtbot) -> None:
    app = make_app()
    app.server.enqueue_fault(Fault.unauthorized().only_for("/chat/completions"))
    type_and_send(app, qtbot, "hello there")
    mid, status = app.run(app.reply_done())
    assert status == "error"
    status_text = app.window.composer.status.text()
    assert "401" in status_text and "Settings" in status_text
    assert "sk-ui-test-key-000" not in status_text
    path = app.ctx.store.active_path(app.chat.conversation_id)
    assert path[0].content == "hello there"
    # Retry from the failed reply works once the server accepts the key
    qtbot.mouseClick(button(app.window.messages.row(mid), "Retry"), Qt.MouseButton.LeftButton)
    new_id, status = app.run(app.reply_done())
    assert status == "complete" and new_id != mid
    assert "hello there" in app.window.messages.message_text(new_id)


def test_reset_mid_stream_keeps_the_partial_reply_marked_incomplete(make_app, qtbot) -> None:
    app = make_app(chat_reply=LONG_REPLY)
    app.server.enqueue_fault(Fault.reset(after=20).only_for("/chat/completions"))
    type_and_send(app, qtbot, "long one")
    mid, status = app.run(app.reply_done())
    assert status == "incomplete"
    stored = app.ctx.store.get_message(mid)
    assert stored.content and LONG_REPLY.startswith(stored.content) and stored.content != LONG_REPLY
    row = app.window.messages.row(mid)
    assert "ncomplete" in row.status_label.text()
    assert button(row, "Retry").isVisible() and button(row, "Continue").isVisible()
    assert len(chat_requests(app)) == 1  # never retried after the stream started
    qtbot.mouseClick(button(row, "Continue"), Qt.MouseButton.LeftButton)
    cont_id, status = app.run(app.reply_done())
    assert cont_id == mid and status == "complete"
    assert app.ctx.store.get_message(mid).content.startswith(stored.content)


def test_rate_limit_shows_retry_countdown_then_succeeds(make_app, qtbot) -> None:
    app = make_app()
    app.server.enqueue_fault(Fault.rate_limited(retry_after=1).only_for("/chat/completions"))
    type_and_send(app, qtbot, "busy?")

    async def scenario():
        await app.until(lambda: "Retrying in" in app.window.composer.status.text(), what="the retry notice")
        assert "attempt 2 of 3" in app.window.composer.status.text()
        return await app.reply_done()

    _mid, status = app.run(scenario())
    assert status == "complete"
    assert len(chat_requests(app)) == 2


def test_a_huge_paste_stays_editable_and_sendable(make_app, qtbot) -> None:
    app = make_app(chat_reply="ok")
    big = ("lorem ipsum dolor sit amet " * 4000)[:100_000]
    app.window.composer.set_text(big)
    assert app.window.composer.send_button.isEnabled()
    qtbot.mouseClick(app.window.composer.send_button, Qt.MouseButton.LeftButton)
    _mid, status = app.run(app.reply_done())
    assert status == "complete"
    assert app.ctx.store.active_path(app.chat.conversation_id)[0].content == big


def test_first_run_welcome_tests_the_connection_and_stores_the_key(make_app, qtbot) -> None:
    app = make_app(key=None)
    app.server.api_key = "sk-welcome-key-1234567890"
    welcome = app.providers.welcome
    assert welcome is not None and app.window.pages.currentWidget() is welcome
    form = welcome.form
    key_edit = form.findChild(QLineEdit, "apiKeyEdit")
    result = form.findChild(QLabel, "testResultLabel")
    test_button = form.findChild(QPushButton, "testConnectionButton")
    qtbot.keyClicks(key_edit, "sk-wrong-key")
    qtbot.mouseClick(test_button, Qt.MouseButton.LeftButton)
    app.run(app.until(lambda: "401" in result.text(), what="the rejected-key message"))
    assert "sk-wrong-key" not in result.text()
    key_edit.clear()
    qtbot.keyClicks(key_edit, "sk-welcome-key-1234567890")
    qtbot.mouseClick(test_button, Qt.MouseButton.LeftButton)
    app.run(app.until(lambda: "Connected" in result.text(), what="the connected message"))
    qtbot.mouseClick(welcome.findChild(QPushButton, "saveStartButton"), Qt.MouseButton.LeftButton)
    assert app.window.pages.currentWidget() is app.window.chat_page
    assert app.keyring.values == {("assistant-app", "provider:openai"): "sk-welcome-key-1234567890"}
    assert "sk-welcome-key" not in app.ctx.paths.settings_file.read_text()
    type_and_send(app, qtbot, "hi after setup")
    _mid, status = app.run(app.reply_done())
    assert status == "complete"


def test_settings_offers_the_local_servers_found(make_app, monkeypatch) -> None:
    from assistant_app.core.providers import local_profile
    from assistant_app.ui import provider_controller

    async def found(_http, *args, **kwargs):
        return [local_profile("ollama", "Ollama", 11434)]

    monkeypatch.setattr(provider_controller, "probe_local_servers", found)
    app = make_app()
    app.providers.open_settings()
    dialog = app.window.findChild(provider_controller.SettingsDialog)
    assert dialog is not None
    button = "Use Ollama at http://127.0.0.1:11434/v1"
    app.run(app.until(lambda: any(b.text() == button for b in dialog.findChildren(QPushButton)),
                      what="the detected server offered"))
    dialog.reject()
