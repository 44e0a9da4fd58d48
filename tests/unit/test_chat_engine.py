"""The chat engine (core/chat.py) with a real Store on disk and the real loopback server.

What the user typed and what the model sent so far must survive every way a reply can end:
finished, stopped, failed mid-stream, failed before it started, or the process killed.
The database is read from a second sqlite3 connection, as another process would see it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient, RetryNotice
from assistant_app.api.endpoint import Endpoint
from assistant_app.core import chat as chat_module
from assistant_app.core.chat import (
    CONTINUE_PROMPT,
    ChatOptions,
    ChatService,
    ReplyDelta,
    ReplyEvent,
    ReplyFailed,
    ReplyFinished,
    ReplyStarted,
)
from assistant_app.core.store import Message, Store
from tests.support import fake_content, schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-engine-test-5e6f7a8b9c0d"
MODEL = "gpt-4o-mini"
SYSTEM = "You are terse."
REPLY = "Bonjour — voilà 東京 🎉 a reply in several tokens, with `code` and more words."
TOKENS = fake_content.split_tokens(REPLY)
PARTIAL = "".join(TOKENS[:2])  # what arrives before a fault placed after event 3 (event 0 is the role chunk)


# ---------------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------------


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY, chat_reply=REPLY) as server:
        server.validate_requests = True
        yield server
        for rec in server.requests:
            schema.validate_recorded(rec)
            if rec.json and rec.json.get("stream"):
                assert rec.json["stream_options"] == {"include_usage": True}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "assistant.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as s:
        yield s


class Engine:
    """A ChatService wired to the fake server; ``client_kw`` is read each time a client is made."""

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url
        self.sleeps = SleepRecorder()
        self.client_kw: dict[str, Any] = {}
        self.clients: list[OpenAIClient] = []
        self.service = ChatService(store, self._client)
        self.options = ChatOptions(model=MODEL, system_prompt=SYSTEM)

    def _client(self) -> OpenAIClient:
        kw = {"max_retries": 2, "read_timeout": 10.0, **self.client_kw}
        base_url = kw.pop("base_url", self.base_url)
        client = OpenAIClient(Endpoint(base_url=base_url, api_key=KEY), sleep=self.sleeps, **kw)
        self.clients.append(client)
        return client

    def new_conversation(self) -> int:
        return self.store.create_conversation(model=MODEL, system_prompt=SYSTEM).id

    def send(self, conv_id: int, text: str, parent_id: int | None = None) -> tuple[Message, AsyncIterator[ReplyEvent]]:
        user = self.service.add_user_message(conv_id, text, parent_id=parent_id)
        return user, self.service.generate(conv_id, user.id, self.options)


@pytest_asyncio.fixture
async def engine(store: Store, srv: FakeOpenAI) -> AsyncIterator[Engine]:
    eng = Engine(store, srv.base_url)
    yield eng
    for client in eng.clients:
        await client.aclose()


async def collect(events: AsyncIterator[ReplyEvent]) -> list[ReplyEvent]:
    return [ev async for ev in events]


def final(events: list[ReplyEvent]) -> ReplyFinished | ReplyFailed:
    assert isinstance(events[0], ReplyStarted)
    last = events[-1]
    assert isinstance(last, ReplyFinished | ReplyFailed)
    assert sum(isinstance(e, ReplyFinished | ReplyFailed) for e in events) == 1
    return last


def streamed_text(events: list[ReplyEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReplyDelta))


def peek(db_path: Path, message_id: int) -> tuple[str, str, str, str | None]:
    """(role, content, status, error) of one message, read through an independent connection."""
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute("SELECT role, content, status, error FROM messages WHERE id = ?", (message_id,)).fetchone()
    finally:
        conn.close()
    assert row is not None, f"message {message_id} is not in the database"
    return row


def peek_all(db_path: Path) -> list[tuple[int, str, str, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT id, role, content, status FROM messages ORDER BY id").fetchall()
    finally:
        conn.close()


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


def wait_for_sync(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.01)


def request_messages(srv: FakeOpenAI, index: int = -1) -> list[dict[str, Any]]:
    chats = [r for r in srv.requests if r.operation == "createChatCompletion"]
    return chats[index].json["messages"]


# ---------------------------------------------------------------------------------------------
# the happy path
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reply_is_streamed_saved_and_measured(engine: Engine, srv: FakeOpenAI, db_path: Path) -> None:
    srv.cached_tokens = 4
    engine.options = ChatOptions(model=MODEL, system_prompt=SYSTEM, temperature=0.3, top_p=0.8, max_tokens=500)
    conv = engine.new_conversation()
    user, events = engine.send(conv, "What is the capital of France?")
    evs = await collect(events)
    done = final(evs)
    assert isinstance(done, ReplyFinished)
    assert streamed_text(evs) == REPLY
    msg = done.message
    assert (msg.role, msg.content, msg.status, msg.error) == ("assistant", REPLY, "complete", None)
    assert (msg.parent_id, msg.model, msg.finish_reason) == (user.id, MODEL, "stop")
    sent = srv.last_request.json
    assert sent["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    assert (sent["temperature"], sent["top_p"], sent["max_completion_tokens"]) == (0.3, 0.8, 500)
    prompt = fake_content.prompt_token_count(sent["messages"])
    assert (msg.prompt_tokens, msg.completion_tokens, msg.cached_tokens) == (prompt, len(TOKENS), 4)
    assert msg.reasoning_tokens == 0
    assert msg.ttft_ms is not None and msg.ttft_ms > 0
    assert msg.tokens_per_s is not None and msg.tokens_per_s > 0
    # What another reader sees, and the conversation around it.
    assert peek(db_path, msg.id) == ("assistant", REPLY, "complete", None)
    assert peek(db_path, user.id) == ("user", "What is the capital of France?", "complete", None)
    c = engine.store.get_conversation(conv)
    assert c.head_id == msg.id and c.title == "What is the capital of France?"
    assert [m.id for m in engine.store.active_path(conv)] == [user.id, msg.id]


@pytest.mark.asyncio
async def test_follow_up_sends_the_whole_branch(engine: Engine, srv: FakeOpenAI) -> None:
    conv = engine.new_conversation()
    _u1, events = engine.send(conv, "first")
    a1 = final(await collect(events)).message
    _u2, events = engine.send(conv, "second", parent_id=a1.id)
    assert isinstance(final(await collect(events)), ReplyFinished)
    assert request_messages(srv) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": "second"},
    ]
    assert engine.store.get_conversation(conv).title == "first"  # only the first message names it


# ---------------------------------------------------------------------------------------------
# saved before sending, saved while streaming
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_user_message_is_saved_before_the_request_is_answered(
    engine: Engine, srv: FakeOpenAI, db_path: Path
) -> None:
    srv.enqueue_fault(Fault.hang())
    conv = engine.new_conversation()
    user, events = engine.send(conv, "Saved first, please")
    task = asyncio.ensure_future(collect(events))
    await asyncio.to_thread(srv.wait_for_stalls, 1)  # the server holds the request: nothing answered yet
    rows = peek_all(db_path)
    assert rows[0] == (user.id, "user", "Saved first, please", "complete")
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [("assistant", "", "streaming")]
    srv.release_stalls()
    done = final(await asyncio.wait_for(task, 10))
    assert isinstance(done, ReplyFinished) and done.message.content == REPLY


@pytest.mark.asyncio
async def test_reply_is_saved_while_it_streams(
    engine: Engine, srv: FakeOpenAI, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_module, "SAVE_INTERVAL", 0.0)
    srv.tokens_per_second = 200  # the server is still writing while we look
    conv = engine.new_conversation()
    user, events = engine.send(conv, "stream slowly")
    started = await anext(events)
    assert isinstance(started, ReplyStarted)
    reply_id = started.message.id
    seen = ""
    checks = 0
    async for ev in events:
        if isinstance(ev, ReplyDelta):
            seen += ev.text
            assert peek(db_path, reply_id) == ("assistant", seen, "streaming", None)
            checks += 1
        else:
            assert isinstance(ev, ReplyFinished)
    assert checks == len(TOKENS) and seen == REPLY
    assert peek(db_path, reply_id) == ("assistant", REPLY, "complete", None)
    assert peek(db_path, user.id)[1:3] == ("stream slowly", "complete")


@pytest.mark.asyncio
async def test_saves_are_throttled_by_save_interval(
    engine: Engine, srv: FakeOpenAI, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a long interval nothing is written per token; the final save still has everything."""
    monkeypatch.setattr(chat_module, "SAVE_INTERVAL", 3600.0)
    conv = engine.new_conversation()
    _user, events = engine.send(conv, "hi")
    started = await anext(events)
    assert isinstance(started, ReplyStarted)
    async for ev in events:
        if isinstance(ev, ReplyDelta):
            assert peek(db_path, started.message.id)[1:3] == ("", "streaming")
    assert peek(db_path, started.message.id)[1:3] == (REPLY, "complete")


# ---------------------------------------------------------------------------------------------
# stop
# ---------------------------------------------------------------------------------------------


async def consume_until(
    events: AsyncIterator[ReplyEvent], n_deltas: int, reached: asyncio.Event, busy: asyncio.Event | None = None
) -> list[ReplyEvent]:
    """Consume events the way a UI should (closing them on the way out, however it leaves).

    Once ``n_deltas`` deltas arrived, set ``reached``; then, if ``busy`` is given, wait on it as if
    doing work of its own, so that a cancellation lands in the consumer, not in the engine.
    """
    got: list[ReplyEvent] = []
    async with aclosing(events):
        async for ev in events:
            got.append(ev)
            if sum(isinstance(e, ReplyDelta) for e in got) == n_deltas and not reached.is_set():
                reached.set()
                if busy is not None:
                    await busy.wait()
    return got


@pytest.mark.asyncio
async def test_stop_while_waiting_for_the_network_keeps_the_partial_reply(
    engine: Engine, srv: FakeOpenAI, db_path: Path
) -> None:
    srv.enqueue_fault(Fault.stall(after=3))
    conv = engine.new_conversation()
    user, events = engine.send(conv, "a long story please")
    reached = asyncio.Event()
    task = asyncio.ensure_future(consume_until(events, 2, reached))
    await asyncio.wait_for(reached.wait(), 10)
    await asyncio.to_thread(srv.wait_for_stalls, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply = engine.store.messages(conv)[-1]
    assert (reply.role, reply.content, reply.status, reply.error) == ("assistant", PARTIAL, "stopped", "Stopped.")
    assert peek(db_path, reply.id) == ("assistant", PARTIAL, "stopped", "Stopped.")
    assert peek(db_path, user.id) == ("user", "a long story please", "complete", None)
    assert len(srv.requests) == 1


@pytest.mark.asyncio
async def test_stop_while_the_consumer_is_busy_keeps_the_partial_reply(
    engine: Engine, srv: FakeOpenAI, db_path: Path
) -> None:
    """The task is cancelled while it awaits something of its own: closing the events stops the reply."""
    srv.enqueue_fault(Fault.stall(after=3))
    conv = engine.new_conversation()
    user, events = engine.send(conv, "busy consumer")
    reached = asyncio.Event()
    task = asyncio.ensure_future(consume_until(events, 2, reached, busy=asyncio.Event()))
    await asyncio.wait_for(reached.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply_id = engine.store.messages(conv)[-1].id
    assert peek(db_path, reply_id) == ("assistant", PARTIAL, "stopped", "Stopped.")
    assert peek(db_path, user.id)[1:3] == ("busy consumer", "complete")


@pytest.mark.asyncio
async def test_stop_right_after_started(engine: Engine, srv: FakeOpenAI, db_path: Path) -> None:
    srv.enqueue_fault(Fault.hang())
    conv = engine.new_conversation()
    _user, events = engine.send(conv, "never mind")
    started = await anext(events)
    assert isinstance(started, ReplyStarted)
    await events.aclose()
    assert peek(db_path, started.message.id) == ("assistant", "", "stopped", "Stopped.")


@pytest.mark.asyncio
async def test_closing_the_event_stream_early_counts_as_stop(engine: Engine, srv: FakeOpenAI, db_path: Path) -> None:
    srv.enqueue_fault(Fault.stall(after=3))
    conv = engine.new_conversation()
    _user, events = engine.send(conv, "close early")
    deltas = 0
    async for ev in events:
        deltas += isinstance(ev, ReplyDelta)
        if deltas == 2:
            break
    await events.aclose()  # what `async with aclosing(...)` does on the way out
    reply = engine.store.messages(conv)[-1]
    assert (reply.content, reply.status) == (PARTIAL, "stopped")


# ---------------------------------------------------------------------------------------------
# failures
# ---------------------------------------------------------------------------------------------

MID_STREAM = {
    "reset": (Fault.reset(after=3), E.StreamInterruptedError, {}),
    "truncated": (Fault.truncate(after=3), E.StreamInterruptedError, {}),
    "malformed": (Fault.malformed_chunk(after=3), E.MalformedStreamError, {}),
    "error-event": (Fault.stream_error(after=3, message="Model overloaded"), E.ServerStreamError, {}),
    "openrouter-error": (
        Fault.stream_error(after=3, message="Provider down", openrouter_style=True),
        E.ServerStreamError,
        {},
    ),
    "stalled": (Fault.stall(after=3), E.StreamStalledError, {"read_timeout": 0.5}),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(MID_STREAM))
async def test_mid_stream_failure_keeps_partial_text_as_incomplete(
    engine: Engine, srv: FakeOpenAI, db_path: Path, name: str
) -> None:
    fault, cls, client_kw = MID_STREAM[name]
    engine.client_kw = client_kw
    srv.enqueue_fault(fault)
    conv = engine.new_conversation()
    user, events = engine.send(conv, "tell me")
    evs = await collect(events)
    failed = final(evs)
    assert isinstance(failed, ReplyFailed)
    assert type(failed.error) is cls
    assert failed.error.partial == PARTIAL
    assert streamed_text(evs) == PARTIAL
    msg = failed.message
    assert (msg.content, msg.status, msg.error) == (PARTIAL, "incomplete", failed.error.user_message)
    assert msg.ttft_ms is not None  # the first token did arrive
    assert msg.prompt_tokens is None and msg.finish_reason is None  # usage never came
    assert peek(db_path, msg.id) == ("assistant", PARTIAL, "incomplete", failed.error.user_message)
    assert peek(db_path, user.id) == ("user", "tell me", "complete", None)
    assert len(srv.requests) == 1  # a started stream is never retried
    assert engine.store.get_conversation(conv).head_id == msg.id


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "cls", "attempts"),
    [
        (Fault.unauthorized(), E.AuthenticationError, 1),
        (Fault.insufficient_quota(), E.QuotaExceededError, 1),
        (Fault.context_length_exceeded(), E.ContextLengthError, 1),
        (Fault.server_error(), E.ServerError, 3),
        (Fault.stream_error(after=1), E.ServerStreamError, 1),
    ],
    ids=["401", "quota", "context", "500", "error-before-text"],
)
async def test_failure_before_any_text_is_an_error(
    engine: Engine, srv: FakeOpenAI, db_path: Path, fault: Fault, cls: type[E.APIError], attempts: int
) -> None:
    srv.enqueue_fault(fault, times=3)
    notices: list[tuple[int, RetryNotice]] = []
    conv = engine.new_conversation()
    user = engine.service.add_user_message(conv, "hello?", parent_id=None)
    evs = await collect(engine.service.generate(conv, user.id, engine.options, on_retry=lambda *a: notices.append(a)))
    failed = final(evs)
    assert isinstance(failed, ReplyFailed) and type(failed.error) is cls
    assert (failed.message.content, failed.message.status) == ("", "error")
    assert failed.message.error == failed.error.user_message
    assert failed.message.ttft_ms is None
    assert peek(db_path, failed.message.id) == ("assistant", "", "error", failed.error.user_message)
    assert peek(db_path, user.id) == ("user", "hello?", "complete", None)
    assert len(srv.requests) == attempts
    assert [(mid, n.attempt, n.max_attempts) for mid, n in notices] == [
        (failed.message.id, k, 3) for k in range(2, attempts + 1)
    ]
    assert KEY not in (failed.message.error or "")


@pytest.mark.asyncio
async def test_connection_refused_is_an_error_with_the_user_message_kept(
    engine: Engine, store: Store, db_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine.client_kw = {"base_url": f"http://127.0.0.1:{port}/v1"}
    conv = engine.new_conversation()
    user, events = engine.send(conv, "anyone there?")
    failed = final(await collect(events))
    assert isinstance(failed, ReplyFailed) and isinstance(failed.error, E.ConnectionFailedError)
    assert failed.message.status == "error" and "refused" in (failed.message.error or "")
    assert peek(db_path, user.id)[1:3] == ("anyone there?", "complete")
    assert len(engine.sleeps.delays) == 2


@pytest.mark.asyncio
async def test_retry_after_failure_skips_the_empty_failed_reply(engine: Engine, srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.unauthorized())
    conv = engine.new_conversation()
    user, events = engine.send(conv, "first try")
    failed = final(await collect(events))
    assert failed.message.status == "error"
    # Retry = regenerate under the same user message: the failed, empty reply is not sent.
    done = final(await collect(engine.service.generate(conv, user.id, engine.options)))
    assert isinstance(done, ReplyFinished)
    assert request_messages(srv) == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "first try"}]


# ---------------------------------------------------------------------------------------------
# branches: regenerate, edit, switch; continue
# ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_regenerate_makes_a_sibling_and_keeps_the_old_branch(engine: Engine, srv: FakeOpenAI) -> None:
    conv = engine.new_conversation()
    user, events = engine.send(conv, "pick a number")
    old = final(await collect(events)).message
    srv.chat_reply = "Forty-two."
    new = final(await collect(engine.service.generate(conv, user.id, engine.options))).message
    assert new.id != old.id and new.parent_id == user.id and new.content == "Forty-two."
    # The regenerated request is the conversation up to the user message, without the old answer.
    assert request_messages(srv) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "pick a number"},
    ]
    assert [m.id for m in engine.store.siblings(new.id)] == [old.id, new.id]
    assert engine.store.get_message(old.id).content == REPLY  # untouched
    assert [m.id for m in engine.store.active_path(conv)] == [user.id, new.id]
    assert [m.id for m in engine.store.switch_to(old.id)] == [user.id, old.id]
    assert engine.store.get_conversation(conv).head_id == old.id


@pytest.mark.asyncio
async def test_regenerate_in_the_middle_of_a_conversation(engine: Engine, srv: FakeOpenAI) -> None:
    conv = engine.new_conversation()
    u1, events = engine.send(conv, "one")
    a1 = final(await collect(events)).message
    u2, events = engine.send(conv, "two", parent_id=a1.id)
    a2 = final(await collect(events)).message
    srv.chat_reply = "again"
    new = final(await collect(engine.service.generate(conv, u1.id, engine.options))).message
    assert request_messages(srv) == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "one"}]
    assert [m.id for m in engine.store.active_path(conv)] == [u1.id, new.id]
    assert [m.id for m in engine.store.switch_to(a1.id)] == [u1.id, a1.id, u2.id, a2.id]


@pytest.mark.asyncio
async def test_edit_makes_a_user_sibling_and_switch_to_restores_the_original(engine: Engine, srv: FakeOpenAI) -> None:
    conv = engine.new_conversation()
    u1, events = engine.send(conv, "first question")
    a1 = final(await collect(events)).message
    u2, events = engine.send(conv, "second question", parent_id=a1.id)
    a2 = final(await collect(events)).message
    srv.chat_reply = "answer to the edit"
    edited, events = engine.send(conv, "second question, edited", parent_id=u2.parent_id)
    a3 = final(await collect(events)).message
    assert request_messages(srv) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": "second question, edited"},
    ]
    assert [m.id for m in engine.store.siblings(u2.id)] == [u2.id, edited.id]
    assert [m.id for m in engine.store.active_path(conv)] == [u1.id, a1.id, edited.id, a3.id]
    assert [m.content for m in engine.store.switch_to(u2.id)] == [
        "first question",
        REPLY,
        "second question",
        REPLY,
    ]
    assert engine.store.get_conversation(conv).head_id == a2.id
    assert engine.store.get_conversation(conv).title == "first question"


@pytest.mark.asyncio
async def test_edit_of_the_first_message(engine: Engine, srv: FakeOpenAI) -> None:
    conv = engine.new_conversation()
    u1, events = engine.send(conv, "orignal typo")
    a1 = final(await collect(events)).message
    u1b, events = engine.send(conv, "original, fixed", parent_id=None)
    a1b = final(await collect(events)).message
    assert request_messages(srv) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "original, fixed"},
    ]
    assert [m.id for m in engine.store.siblings(u1.id)] == [u1.id, u1b.id]
    assert [m.id for m in engine.store.switch_to(u1.id)] == [u1.id, a1.id]
    assert [m.id for m in engine.store.switch_to(u1b.id)] == [u1b.id, a1b.id]


@pytest.mark.asyncio
async def test_continue_appends_to_the_same_message(engine: Engine, srv: FakeOpenAI, db_path: Path) -> None:
    srv.enqueue_fault(Fault.truncate(after=3))
    conv = engine.new_conversation()
    user, events = engine.send(conv, "write a poem")
    cut = final(await collect(events))
    assert isinstance(cut, ReplyFailed) and cut.message.status == "incomplete"
    count = engine.store.count_messages(conv)

    srv.chat_reply = " and the rest."
    evs = await collect(engine.service.continue_reply(cut.message.id, engine.options))
    done = final(evs)
    assert isinstance(done, ReplyFinished)
    assert isinstance(evs[0], ReplyStarted) and evs[0].message.id == cut.message.id
    assert streamed_text(evs) == " and the rest."  # only the new text is streamed
    msg = done.message
    assert (msg.id, msg.content, msg.status, msg.error) == (
        cut.message.id,
        PARTIAL + " and the rest.",
        "complete",
        None,
    )
    assert engine.store.count_messages(conv) == count
    assert peek(db_path, msg.id) == ("assistant", PARTIAL + " and the rest.", "complete", None)
    assert request_messages(srv) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "write a poem"},
        {"role": "assistant", "content": PARTIAL},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
    assert [m.id for m in engine.store.active_path(conv)] == [user.id, msg.id]


@pytest.mark.asyncio
async def test_continue_that_fails_keeps_what_was_there(engine: Engine, srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.truncate(after=3))
    conv = engine.new_conversation()
    _user, events = engine.send(conv, "write")
    cut = final(await collect(events)).message
    srv.chat_reply = "more words here please"
    srv.enqueue_fault(Fault.reset(after=2))
    failed = final(await collect(engine.service.continue_reply(cut.id, engine.options)))
    assert isinstance(failed, ReplyFailed)
    more = fake_content.split_tokens("more words here please")[0]
    assert failed.message.content == PARTIAL + more
    assert failed.message.status == "incomplete"
    assert failed.error.partial == PARTIAL + more


@pytest.mark.asyncio
async def test_continue_an_older_reply_sends_only_the_branch_up_to_it(engine: Engine, srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.truncate(after=3))
    conv = engine.new_conversation()
    u1, events = engine.send(conv, "start")
    cut = final(await collect(events)).message
    u2, events = engine.send(conv, "never mind, next topic", parent_id=cut.id)
    final(await collect(events))
    srv.chat_reply = " finished."
    done = final(await collect(engine.service.continue_reply(cut.id, engine.options)))
    assert isinstance(done, ReplyFinished) and done.message.content == PARTIAL + " finished."
    assert request_messages(srv) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "start"},
        {"role": "assistant", "content": PARTIAL},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
    assert [m.id for m in engine.store.active_path(conv)][:3] == [u1.id, cut.id, u2.id]  # later turns kept


# ---------------------------------------------------------------------------------------------
# a killed process
# ---------------------------------------------------------------------------------------------

CHILD = """
import asyncio, sys
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.core import chat
from assistant_app.core.store import Store

chat.SAVE_INTERVAL = 0.0
db, base_url, key = sys.argv[1:4]

async def main():
    store = Store(db)
    client = OpenAIClient(Endpoint(base_url=base_url, api_key=key))
    service = chat.ChatService(store, lambda: client)
    conv = store.create_conversation()
    user = service.add_user_message(conv.id, "Tell me a long story", parent_id=None)
    async for _ev in service.generate(conv.id, user.id, chat.ChatOptions(model="gpt-4o-mini")):
        pass
    print("finished", flush=True)

asyncio.run(main())
"""


def test_killed_process_leaves_an_incomplete_reply(srv: FakeOpenAI, db_path: Path) -> None:
    srv.enqueue_fault(Fault.stall(after=4))  # three tokens, then the server holds the stream open
    expected = "".join(TOKENS[:3])
    db_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), srv.base_url, KEY],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def partial_saved() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"child exited early: {proc.stderr.read().decode()}")
            if not db_path.exists():
                return False
            try:
                rows = peek_all(db_path)
            except sqlite3.OperationalError:  # schema not created yet
                return False
            return any(r[1] == "assistant" and r[2] == expected and r[3] == "streaming" for r in rows)

        wait_for_sync(partial_saved)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with Store(db_path) as reopened:
        assert reopened.recovered_count == 1
        conv = reopened.list_conversations()[0]
        user, reply = reopened.active_path(conv.id)
        assert (user.role, user.content, user.status) == ("user", "Tell me a long story", "complete")
        assert (reply.role, reply.content, reply.status) == ("assistant", expected, "incomplete")
    with Store(db_path) as again:  # recovery happens once
        assert again.recovered_count == 0
