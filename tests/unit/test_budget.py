"""Monthly budgets: 80 % warning, 100 % over, confirmation only when the user asked for it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from assistant_app.api.calls import CallRecord
from assistant_app.core.budget import Budgets, BudgetStatus
from assistant_app.core.chat import ChatOptions, ReplyFinished
from assistant_app.core.context import AppContext
from assistant_app.core.paths import AppPaths
from assistant_app.core.pricing import PriceTable
from assistant_app.core.settings import ProviderProfile, Settings
from assistant_app.core.store import Store
from assistant_app.core.usage import UsageLog
from tests.support.fake_openai import FakeOpenAI

TODAY = date(2025, 6, 15)


def spend(log: UsageLog, usd: float, day: date = TODAY, provider: str = "openai", model: str = "gpt-4o") -> None:
    """Record one gpt-4o call costing ``usd`` (input tokens only, $2.50 per 1M)."""
    tokens = round(usd / 2.50 * 1_000_000)
    stamp = datetime(day.year, day.month, day.day, 12).timestamp()
    rec = CallRecord(stamp, "h", "/chat/completions", "chat", model=model, status="200", http_status=200, ok=True,
                     prompt_tokens=tokens, completion_tokens=0)  # fmt: skip
    log.record(rec, provider_id=provider)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[UsageLog]:
    with Store(tmp_path / "db.sqlite3") as store:
        yield UsageLog(store, PriceTable.load(None))


def test_levels_at_the_thresholds(log: UsageLog) -> None:
    settings = Settings()
    budgets = Budgets(settings, log, today=lambda: TODAY)
    assert budgets.status("openai").level == "none"
    budgets.set_budget("openai", 10.0)
    assert settings.extra["budgets"] == {"openai": 10.0}
    spend(log, 7.9)
    assert budgets.status("openai").level == "ok"
    spend(log, 0.1)
    status = budgets.status("openai")
    assert status.level == "warning" and status.spent == pytest.approx(8.0) and "80%" in status.message()
    spend(log, 1.99)
    assert budgets.status("openai").level == "warning"
    spend(log, 0.01)
    status = budgets.status("openai")
    assert status.level == "over" and status.remaining == pytest.approx(0.0) and "spent" in status.message()


def test_only_this_month_and_this_provider_count(log: UsageLog) -> None:
    budgets = Budgets(Settings(extra={"budgets": {"openai": 1.0}}), log, today=lambda: TODAY)
    spend(log, 5.0, day=date(2025, 5, 31))
    spend(log, 5.0, provider="other")
    spend(log, 0.5)
    status = budgets.status("openai")
    assert (status.month, status.spent, status.level) == ("2025-06", pytest.approx(0.5), "ok")


def test_unknown_costs_are_reported_not_counted_as_zero(log: UsageLog) -> None:
    budgets = Budgets(Settings(extra={"budgets": {"openai": 1.0}}), log, today=lambda: TODAY)
    spend(log, 0.9)
    spend(log, 0.0, model="some-new-model")
    status = budgets.status("openai")
    assert status.unknown_calls == 1 and "1 calls of unknown cost" in status.message()


def test_confirmation_only_when_chosen_and_over(log: UsageLog) -> None:
    settings = Settings(extra={"budgets": {"openai": 1.0}})
    budgets = Budgets(settings, log, today=lambda: TODAY)
    spend(log, 1.5)
    assert budgets.status("openai").level == "over"
    assert not budgets.needs_confirmation("openai")
    budgets.confirm_over = True
    assert settings.extra["budget_confirm_over"] is True
    assert budgets.needs_confirmation("openai")
    budgets.set_budget("openai", 2.0)
    assert not budgets.needs_confirmation("openai")
    budgets.set_budget("openai", None)
    assert budgets.budget_for("openai") is None and not budgets.needs_confirmation("openai")


def test_bad_budget_values_mean_no_budget(log: UsageLog) -> None:
    budgets = Budgets(Settings(extra={"budgets": {"a": "lots", "b": -5, "c": "3.5"}}), log)
    assert [budgets.budget_for(p) for p in ("a", "b", "c", "d")] == [None, None, 3.5, None]
    assert BudgetStatus("x", None, 3.0, 0, "2025-06").fraction is None


class NoSecrets:
    def get(self, account: str) -> None:
        return None


def test_budget_driven_by_real_calls_through_the_loopback_server(tmp_path: Path) -> None:
    """Each reply costs the same; a budget of 1.5 replies warns after one and needs confirmation after two."""
    with FakeOpenAI(chat_reply="A reply of a fixed length.") as srv:
        paths = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "logs").ensure()
        profile = ProviderProfile(id="fake", name="Fake", kind="compatible", base_url=srv.base_url, needs_key=False)
        settings = Settings(providers=[profile], active_provider="fake", extra={"budget_confirm_over": True})
        ctx = AppContext(paths=paths, settings=settings, store=Store(paths.database), secrets_override=NoSecrets())  # type: ignore[arg-type]

        async def send(conv_id: int) -> None:
            service = ctx.chat_service()
            user = service.add_user_message(conv_id, "Same question", parent_id=None)
            events = [ev async for ev in service.generate(conv_id, user.id, ChatOptions(model="gpt-4o"))]
            assert isinstance(events[-1], ReplyFinished)

        async def go() -> list[str]:
            budgets = ctx.budgets()
            levels = [budgets.status("fake").level]
            await send(ctx.store.create_conversation().id)
            one_call = ctx.usage.totals().cost
            assert one_call > 0
            budgets.set_budget("fake", one_call * 1.2)  # 83 % spent
            levels.append(budgets.status("fake").level)
            assert not budgets.needs_confirmation("fake")
            await send(ctx.store.create_conversation().id)
            levels.append(budgets.status("fake").level)
            assert budgets.needs_confirmation("fake")
            await ctx.aclose()
            return levels

        try:
            assert asyncio.run(go()) == ["none", "warning", "over"]
        finally:
            ctx.close()
