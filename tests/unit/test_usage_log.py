"""The usage_calls table: migration, recording, filters, the chart query, totals, CSV, and the
link from a chat reply (through AppContext and ChatService) to its row."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from assistant_app.api.calls import CallRecord
from assistant_app.core.chat import ChatOptions, ReplyFailed, ReplyFinished
from assistant_app.core.context import AppContext
from assistant_app.core.paths import AppPaths
from assistant_app.core.pricing import PriceTable
from assistant_app.core.settings import ProviderProfile, Settings
from assistant_app.core.store import SCHEMA_VERSION, Store, migrate, schema_version
from assistant_app.core.usage import UsageLog, month_bounds
from tests.support import fake_content as content
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

M = 1_000_000
TODAY = date(2025, 3, 31)


def at(day: date, hour: int = 12) -> float:
    return datetime(day.year, day.month, day.day, hour).timestamp()


def call(day: date, model: str = "gpt-4o", prompt: int = 1000, completion: int = 100, status: int = 200,
         kind: str = "chat", hour: int = 12, **kw) -> CallRecord:  # fmt: skip
    ok = status == 200
    rec = CallRecord(at(day, hour), "api.example", "/chat/completions", kind, model=model, status=str(status),
                     http_status=status, ok=ok, prompt_tokens=prompt if ok else None,
                     completion_tokens=completion if ok else None, **kw)  # fmt: skip
    return rec


@pytest.fixture
def log(tmp_path: Path) -> Iterator[UsageLog]:
    with Store(tmp_path / "db.sqlite3") as store:
        yield UsageLog(store, PriceTable.load(None))


def test_migration_adds_the_table_to_an_existing_database(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    assert migrate(conn, target=3) == 3
    conn.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES ('kept', 0, 0)")
    conn.close()
    with Store(tmp_path / "old.sqlite3") as store:
        assert store.schema_version == SCHEMA_VERSION >= 4
        assert store.list_conversations()[0].title == "kept"
        names = {r[0] for r in store.connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"usage_calls_started", "usage_calls_day", "usage_calls_provider_day"} <= names
        assert schema_version(store.connection) == SCHEMA_VERSION


def test_record_and_query_with_filters(log: UsageLog) -> None:
    d = TODAY
    log.record(call(d - timedelta(days=2), "gpt-4o"), provider_id="openai")
    log.record(call(d - timedelta(days=1), "gpt-4o-mini"), provider_id="openai")
    log.record(call(d, "llama3"), provider_id="ollama")
    log.record(call(d, "gpt-4o", status=429), provider_id="openai")
    log.record(call(d, "gpt-image-1", kind="image", images=1, image_size="1024x1024", image_quality="low"),
               provider_id="openai")  # fmt: skip
    assert [r.model for r in log.query()] == ["gpt-image-1", "gpt-4o", "llama3", "gpt-4o-mini", "gpt-4o"]
    assert [r.model for r in log.query(provider="ollama")] == ["llama3"]
    assert [r.status for r in log.query(status="error")] == ["429"]
    assert [r.status for r in log.query(status="429")] == ["429"]
    assert len(log.query(status="ok")) == 4
    assert [r.model for r in log.query(kind="image")] == ["gpt-image-1"]
    assert [r.model for r in log.query(since=d)] == ["gpt-image-1", "gpt-4o", "llama3"]
    assert [r.model for r in log.query(until=d, newest_first=False)] == ["gpt-4o", "gpt-4o-mini"]
    assert len(log.query(model="gpt-4o")) == 2
    assert len(log.query(limit=2, offset=1)) == 2
    assert log.count(provider="openai") == 4
    rows = {r.model: r for r in log.query(status="ok")}
    assert rows["llama3"].cost is None  # unknown price
    assert rows["gpt-4o"].cost == pytest.approx((1000 * 2.50 + 100 * 10.00) / M)
    assert log.query(status="429")[0].cost == 0.0


def test_daily_cost_by_model_over_30_days(log: UsageLog) -> None:
    for back in range(0, 40):
        day = TODAY - timedelta(days=back)
        log.record(call(day, "gpt-4o"))
        log.record(call(day, "gpt-4o-mini", hour=9))
        if back % 10 == 0:
            log.record(call(day, "mystery-model"))
    rows = log.daily_cost_by_model(30, today=TODAY)
    days = sorted({r.day for r in rows})
    assert days[0] == (TODAY - timedelta(days=29)).isoformat() and days[-1] == TODAY.isoformat()
    assert len(days) == 30
    one = {(r.day, r.model): r for r in rows}
    gpt4o = one[(TODAY.isoformat(), "gpt-4o")]
    assert gpt4o.calls == 1 and gpt4o.cost == pytest.approx((1000 * 2.50 + 100 * 10.00) / M)
    mystery = one[(TODAY.isoformat(), "mystery-model")]
    assert (mystery.cost, mystery.unknown) == (0, 1)


def test_totals_per_conversation_and_month(log: UsageLog) -> None:
    log.record(call(TODAY, conversation_id=1, message_id=10, cached_tokens=200))
    log.record(call(TODAY, conversation_id=1, message_id=11, status=500))
    log.record(call(TODAY, "unknown-model", conversation_id=1, message_id=12))
    log.record(call(date(2025, 2, 28), conversation_id=2, message_id=20))
    conv = log.totals(conversation_id=1)
    assert (conv.calls, conv.failed, conv.unknown) == (3, 1, 1)
    assert conv.prompt_tokens == 2000 and conv.cached_tokens == 200
    assert conv.cost == pytest.approx((800 * 2.50 + 200 * 1.25 + 100 * 10.00) / M)
    assert log.totals(month="2025-02").calls == 1
    assert log.totals(month="2025-03").calls == 3
    assert log.message_costs(1) == {10: pytest.approx(conv.cost), 11: 0.0, 12: None}
    assert month_bounds("2025-12") == ("2025-12-01", "2026-01-01")


def test_csv_export_round_trips(log: UsageLog) -> None:
    log.record(call(TODAY, request_id="req_1"), provider_id="openai")
    log.record(call(TODAY, "llama3"), provider_id="ollama")
    out = io.StringIO()
    assert log.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["model"] for r in rows] == ["gpt-4o", "llama3"]
    assert rows[0]["request_id"] == "req_1" and float(rows[0]["cost"]) > 0
    assert rows[1]["cost"] == ""  # unknown is empty, not 0
    assert rows[0]["time"].startswith(TODAY.isoformat())


def test_reprice_fills_unknown_costs_after_the_user_adds_a_price(log: UsageLog, tmp_path: Path) -> None:
    log.record(call(TODAY, "llama3"))
    assert log.query()[0].cost is None
    (tmp_path / "prices.json").write_text(json.dumps({"chat": {"llama3": {"input": 1.0, "output": 2.0}}}))
    log.prices = PriceTable.load(tmp_path / "prices.json")
    assert log.reprice() == 1
    assert log.query()[0].cost == pytest.approx((1000 * 1.0 + 100 * 2.0) / M)


# -- through the app's composition root ------------------------------------------------------


class NoSecrets:
    def get(self, account: str) -> None:
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(chat_reply="Short answer.") as srv:
        yield srv


def make_ctx(tmp_path: Path, srv: FakeOpenAI) -> AppContext:
    paths = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "logs").ensure()
    profile = ProviderProfile(id="fake", name="Fake AI", kind="compatible", base_url=srv.base_url, needs_key=False)
    settings = Settings(providers=[profile], active_provider="fake", max_retries=0)
    return AppContext(paths=paths, settings=settings, store=Store(paths.database), secrets_override=NoSecrets())  # type: ignore[arg-type]


def reply(ctx: AppContext, text: str, model: str = "gpt-4o") -> tuple[int, object]:
    async def go() -> tuple[int, object]:
        service = ctx.chat_service()
        conv = ctx.store.create_conversation()
        user = service.add_user_message(conv.id, text, parent_id=None)
        events = [ev async for ev in service.generate(conv.id, user.id, ChatOptions(model=model))]
        await ctx.aclose()
        return conv.id, events[-1]

    return asyncio.run(go())


def test_chat_reply_is_logged_with_its_conversation_message_and_provider(tmp_path: Path, server: FakeOpenAI) -> None:
    server.cached_tokens = 2
    ctx = make_ctx(tmp_path, server)
    try:
        conv_id, last = reply(ctx, "What is a usage log?")
        assert isinstance(last, ReplyFinished)
        (row,) = ctx.usage.query(conversation_id=conv_id)
        assert (row.message_id, row.provider_id, row.kind, row.ok, row.cached_tokens) == (
            last.message.id, "fake", "chat", True, 2)  # fmt: skip
        assert (
            row.prompt_tokens == last.message.prompt_tokens and row.completion_tokens == last.message.completion_tokens
        )
        p, c = row.prompt_tokens, row.completion_tokens
        assert row.cost == pytest.approx(((p - 2) * 2.50 + 2 * 1.25 + c * 10.00) / M)
        assert ctx.usage.message_costs(conv_id) == {last.message.id: pytest.approx(row.cost)}
        assert row.request_id == server.last_request.request_id
    finally:
        server.cached_tokens = 0
        ctx.close()


def test_a_reply_that_fails_mid_stream_is_logged_as_failed(tmp_path: Path, server: FakeOpenAI) -> None:
    server.enqueue_fault(Fault.malformed_chunk(after=2))
    ctx = make_ctx(tmp_path, server)
    try:
        conv_id, last = reply(ctx, "Break please")
        assert isinstance(last, ReplyFailed)
        (row,) = ctx.usage.query(conversation_id=conv_id)
        assert (row.status, row.ok, row.prompt_tokens, row.message_id) == ("malformed", False, None,
                                                                           last.message.id)  # fmt: skip
        assert row.cost is None  # a 200 with no usage may have been billed: unknown, not 0
    finally:
        ctx.close()


def test_the_usage_object_matches_the_fake_servers_arithmetic(tmp_path: Path, server: FakeOpenAI) -> None:
    ctx = make_ctx(tmp_path, server)
    try:
        conv_id, _last = reply(ctx, "Count my tokens")
        (row,) = ctx.usage.query(conversation_id=conv_id)
        sent = server.last_request.json["messages"]
        assert row.prompt_tokens == content.prompt_token_count(sent)
        assert row.completion_tokens == content.count_tokens("Short answer.")
    finally:
        ctx.close()
