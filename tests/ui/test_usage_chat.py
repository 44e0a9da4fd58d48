"""Money in the chat window, driven through the loopback server: the cost under each reply and beside the
title, the budget notice at 80% and the confirmation at 100%, and the circuit breaker's "Try now"."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from assistant_app.api.calls import CallRecord
from assistant_app.core.ratelimit import CircuitOpenError
from assistant_app.ui.usage_format import format_cost
from tests.support.fake_faults import Fault
from tests.ui.conftest import App, button

# gpt-4o-mini, USD per 1M tokens, from resources/prices.json (as_of 2025-08-20)
MINI_IN, MINI_CACHED, MINI_OUT = 0.15, 0.075, 0.60
REPLY = "Here is a short answer."  # the fake server's tokens: "Here", " is", " a", " short", " answer", "."


def mini_cost(prompt: int, cached: int, completion: int) -> float:
    return ((prompt - cached) * MINI_IN + cached * MINI_CACHED + completion * MINI_OUT) / 1_000_000


def send(app: App, qtbot, text: str) -> None:
    composer = app.window.composer
    composer.set_text(text)
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)


def finished(app: App, action: Callable[[], None]) -> tuple[int, str]:
    """Run ``action`` and wait for the reply it starts. Listening starts first: a request the
    circuit breaker refuses can finish while the click is still being processed."""
    got: list[tuple[int, str]] = []

    def done(mid: int, status: str) -> None:
        got.append((mid, status))

    app.chat.replyFinished.connect(done)
    try:
        action()
        app.run(app.until(lambda: got, what="the reply to finish"))
    finally:
        app.chat.replyFinished.disconnect(done)
    return got[0]


def chat_requests(app: App) -> int:
    return sum(1 for r in app.server.requests if r.path.endswith("/chat/completions"))


def spend(app: App, usd_at_gpt4o_input: float) -> None:
    """Record a gpt-4o call this month costing ``usd`` ($2.50 per 1M input tokens)."""
    tokens = round(usd_at_gpt4o_input / 2.50 * 1_000_000)
    call = CallRecord(time.time(), "api.example", "/chat/completions", "chat", model="gpt-4o", status="200",
                      http_status=200, ok=True, prompt_tokens=tokens, completion_tokens=0)  # fmt: skip
    app.ctx.usage.record(call, provider_id=app.ctx.provider.id)


def mini_app(make_app) -> App:
    app = make_app(chat_reply=REPLY, tokens_per_second=300)
    app.ctx.settings.system_prompt = ""  # the prompt is then exactly 3 + 4 per message + the words
    app.chat.set_model("gpt-4o-mini")
    app.run(app.until(app.chat.model_names, what="the model list"))  # no request left in flight
    return app


def test_reply_line_shows_tokens_cached_tokens_and_the_hand_computed_cost(make_app, qtbot) -> None:
    app = mini_app(make_app)
    app.server.cached_tokens = 2048
    send(app, qtbot, " ".join(["hello"] * 4000))  # 4000 tokens
    mid, status = app.run(app.reply_done())
    assert status == "complete"
    stored = app.ctx.store.get_message(mid)
    assert (stored.prompt_tokens, stored.cached_tokens, stored.completion_tokens) == (4007, 2048, 6)
    # (4007 - 2048) x $0.15 + 2048 x $0.075 + 6 x $0.60 per million = $0.00045105
    assert mini_cost(4007, 2048, 6) == pytest.approx(0.00045105)
    meta = app.window.messages.row(mid).meta_label.text()
    assert "4,007 prompt (2,048 cached)" in meta and "6 completion" in meta
    assert "$0.00045" in meta
    assert "$0.00060" not in meta  # what it would cost without the cached rate
    assert "TTFT" in meta and "tok/s" in meta
    assert app.window.conversation_cost.isVisible()
    assert app.window.conversation_cost.text() == "$0.00045"


def test_conversation_total_follows_each_reply_and_costs_are_read_once_per_render(make_app, qtbot, monkeypatch):
    app = mini_app(make_app)
    send(app, qtbot, " ".join(["alpha"] * 3000))
    first, _ = app.run(app.reply_done())
    header = app.window.conversation_cost
    after_one = header.text()
    send(app, qtbot, " ".join(["beta"] * 5000))
    second, _ = app.run(app.reply_done())
    costs = []
    for mid in (first, second):
        m = app.ctx.store.get_message(mid)
        costs.append(mini_cost(m.prompt_tokens, m.cached_tokens or 0, m.completion_tokens))
        assert app.ctx.usage.message_costs(app.chat.conversation_id)[mid] == pytest.approx(costs[-1])
    assert after_one == format_cost(costs[0])
    total = costs[0] + costs[1]
    assert header.text() == format_cost(total) != after_one

    # A new chat has no total; opening the conversation again shows both costs, from one query.
    cid = app.chat.conversation_id
    app.chat.new_conversation()
    assert not header.isVisible()
    calls = []
    original = app.ctx.usage.message_costs
    monkeypatch.setattr(app.ctx.usage, "message_costs", lambda c: calls.append(c) or original(c))
    app.chat.open_conversation(cid)
    assert calls == [cid]
    assert header.isVisible() and header.text() == format_cost(total)
    for mid, cost in zip((first, second), costs, strict=True):
        assert format_cost(cost) in app.window.messages.row(mid).meta_label.text()


def test_budget_warning_at_80_percent_and_confirmation_above_100(make_app, qtbot) -> None:
    app = mini_app(make_app)
    pid = app.ctx.provider.id
    budgets = app.ctx.budgets()
    budgets.set_budget(pid, 1.00)
    spend(app, 0.85)
    notice = app.window.budget_notice
    assert not notice.isVisible()
    send(app, qtbot, "first question")
    app.run(app.reply_done())
    assert notice.isVisible() and "85%" in notice.text() and "$1.00" in notice.text()
    assert notice.property("level") == "warning"

    spend(app, 0.20)  # now $1.05 of $1.00
    budgets.confirm_over = True
    requests_before = chat_requests(app)
    messages_before = len(app.ctx.store.messages(app.chat.conversation_id))
    send(app, qtbot, "over budget question")
    box = app.chat.usage_ui.confirm_box
    assert isinstance(box, QMessageBox) and box.objectName() == "budgetConfirm"
    app.run(app.until(box.isVisible, what="the confirmation dialog"))
    assert "spent" in box.text() and "$1.05 of $1.00" in box.text()
    assert notice.isVisible() and notice.property("level") == "error"
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    app.run(app.until(lambda: app.chat.usage_ui.confirm_box is None, what="the dialog closed"))
    assert app.window.composer.text() == "over budget question"  # the typed text stays
    assert chat_requests(app) == requests_before
    assert len(app.ctx.store.messages(app.chat.conversation_id)) == messages_before

    qtbot.mouseClick(app.window.composer.send_button, Qt.MouseButton.LeftButton)  # ask again, and agree
    box = app.chat.usage_ui.confirm_box
    assert box is not None
    app.run(app.until(box.isVisible, what="the confirmation dialog again"))
    send_anyway = next(b for b in box.buttons() if b.text() == "Send anyway")
    qtbot.mouseClick(send_anyway, Qt.MouseButton.LeftButton)
    _mid, status = app.run(app.reply_done())
    assert status == "complete"
    assert chat_requests(app) == requests_before + 1
    assert app.window.composer.text() == ""
    path = app.ctx.store.active_path(app.chat.conversation_id)
    assert path[-2].content == "over budget question"


def test_no_confirmation_unless_the_user_asked_for_it(make_app, qtbot) -> None:
    app = mini_app(make_app)
    app.ctx.budgets().set_budget(app.ctx.provider.id, 0.50)
    spend(app, 0.60)
    send(app, qtbot, "spend away")
    assert app.chat.usage_ui.confirm_box is None
    _mid, status = app.run(app.reply_done())
    assert status == "complete"
    assert app.window.budget_notice.isVisible() and "is spent" in app.window.budget_notice.text()


def test_circuit_breaker_message_and_try_now(make_app, qtbot) -> None:
    app = mini_app(make_app)  # the model list is loaded: its success must not interleave with the failures
    app.ctx.settings.max_retries = 0  # one attempt per send: five sends, five failures
    app.server.enqueue_fault(Fault.server_error().only_for("/chat/completions"), times=5)
    notice = app.window.breaker_notice
    for i in range(5):
        _mid, status = finished(app, lambda i=i: send(app, qtbot, f"attempt {i}"))
        assert status == "error"
        assert not notice.isVisible()  # the server answered each time; nothing was refused yet
    assert chat_requests(app) == 5
    breaker = app.ctx.guards[app.ctx.provider.id].breaker
    assert breaker.state == "open"

    mid, status = finished(app, lambda: send(app, qtbot, "are you back?"))
    assert status == "error"
    assert chat_requests(app) == 5  # refused without sending
    assert isinstance(app.chat.usage_ui._breaker, CircuitOpenError)
    assert notice.isVisible() and notice.property("level") == "error"
    assert "failed 5 times in a row" in notice.text() and "paused" in notice.text()
    assert app.window.composer.status.text() == ""  # said once, in the notice with its action

    new_id, status = finished(app, lambda: qtbot.mouseClick(button(notice, "Try now"), Qt.MouseButton.LeftButton))
    assert status == "complete" and new_id != mid
    assert breaker.state == "closed"
    assert chat_requests(app) == 6
    assert app.window.messages.message_text(new_id) == REPLY
    assert not notice.isVisible()
    user = app.ctx.store.get_message(app.ctx.store.get_message(new_id).parent_id)
    assert user.content == "are you back?"


def test_closing_at_once_cancels_the_first_budget_check(make_app, qtbot) -> None:
    """The budget banner is first checked 100 ms after start; a window closed sooner (its store with
    it) must not run that check on a closed database."""
    app = make_app()
    first_check = app.chat.usage_ui._first_refresh
    first_check.start()  # as right after start-up (the app above may have been up for 100 ms already)
    app.window.close()
    assert not first_check.isActive()
