"""The Usage window over a month of generated calls: chart, totals, the lazily paged table, filters,
CSV export, and the Budgets & limits tab."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import QMainWindow

from assistant_app.api.calls import CallRecord
from assistant_app.core.settings import ProviderProfile
from assistant_app.ui.usage_format import format_cost
from assistant_app.ui.usage_window import UsageWindow
from tests.ui.conftest import App

DAYS_RECORDED = 35  # 5 more than the chart shows
PER_DAY = 24  # 10 gpt-4o + 10 gpt-4o-mini + 1 dall-e-3 + 1 failed (openai), 2 llama (ollama, no price)


@dataclass(frozen=True)
class Generated:
    today: date
    costs: list[tuple[date, str, str, float | None]]  # (day, provider, model, cost) per call
    earlier_today: int  # calls the app made itself before (GET /models): today, free

    def total(self, first: date, provider: str | None = None) -> float:
        return sum(c or 0.0 for d, p, _m, c in self.costs if d >= first and provider in (None, p))


def noon(day: date) -> float:
    return datetime.combine(day, dtime(12)).timestamp()


def record_month(app: App) -> Generated:
    """Per day (``back`` days ago): gpt-4o costs $0.02 x (back + 1), gpt-4o-mini $0.12, dall-e-3 $0.04,
    one 500 costs nothing, two llama calls have no price."""
    today = date.today()
    earlier = app.ctx.usage.count()
    openai: list[CallRecord] = []
    ollama: list[CallRecord] = []
    costs = []
    for back in range(DAYS_RECORDED):
        day = today - timedelta(days=back)
        t = noon(day)

        def chat(i: int, model: str, prompt: int, status: int = 200, t: float = t, back: int = back) -> CallRecord:
            ok = status == 200
            return CallRecord(
                t + i, "api.example", "/chat/completions", "chat", model=model, status=str(status),
                http_status=status, ok=ok, prompt_tokens=prompt if ok else None, completion_tokens=0 if ok else None,
                latency_ms=800.0, request_id=f"req_{back}_{i}",
            )  # fmt: skip

        for i in range(10):
            openai.append(chat(i, "gpt-4o", 800 * (back + 1)))  # $2.50/M -> $0.002 x (back + 1)
            costs.append((day, "openai", "gpt-4o", 0.002 * (back + 1)))
            openai.append(chat(10 + i, "gpt-4o-mini", 80_000))  # $0.15/M -> $0.012
            costs.append((day, "openai", "gpt-4o-mini", 0.012))
        image = CallRecord(
            t + 30, "api.example", "/images/generations", "image", model="dall-e-3", status="200",
            http_status=200, ok=True, images=1, image_size="1024x1024", image_quality="standard",
        )  # fmt: skip
        openai.append(image)
        costs.append((day, "openai", "dall-e-3", 0.04))
        openai.append(chat(40, "gpt-4o", 0, status=500))
        costs.append((day, "openai", "gpt-4o", 0.0))
        for i in range(2):
            ollama.append(chat(50 + i, "llama3.1:8b", 5000))
            costs.append((day, "ollama", "llama3.1:8b", None))
    app.ctx.usage.record_many(openai, provider_id="openai")
    app.ctx.usage.record_many(ollama, provider_id="ollama")
    return Generated(today, costs, earlier)


def menu_action(window: QMainWindow, text: str) -> QAction:
    for top in window.menuBar().actions():
        for action in top.menu().actions():
            if action.text() == text:
                return action
    raise AssertionError(f"no menu item {text!r}")


def open_usage(app: App, item: str = "&Usage…") -> UsageWindow:
    menu_action(app.window, item).trigger()
    window = app.chat.usage_ui.usage_window
    assert window is not None and window.objectName() == "usageWindow"
    app.run(app.until(window.isVisible, what="the Usage window"))
    return window


@pytest.fixture
def month(make_app) -> tuple[App, Generated]:
    app = make_app()
    app.run(app.until(app.chat.model_names, what="the model list"))  # no request left in flight
    app.ctx.settings.providers.append(
        ProviderProfile(
            id="ollama", name="Ollama", kind="compatible", base_url="http://127.0.0.1:9/v1", needs_key=False
        )
    )
    return app, record_month(app)


def test_chart_shows_daily_cost_by_model_for_the_last_30_days(month) -> None:
    app, gen = month
    window = open_usage(app)
    data = window.chart.chart_data()
    assert len(data.days) == 30 and data.days[-1] == gen.today and data.days[0] == gen.today - timedelta(days=29)
    assert data.models == ("gpt-4o", "gpt-4o-mini", "dall-e-3")  # biggest spend first; no price, no bar
    for back in (0, 7, 29):
        day = gen.today - timedelta(days=back)
        assert data.cost(day, "gpt-4o") == pytest.approx(0.02 * (back + 1))
        assert data.cost(day, "gpt-4o-mini") == pytest.approx(0.12)
        assert data.cost(day, "dall-e-3") == pytest.approx(0.04)
        assert data.unknown[day] == 2 and data.calls[day] == PER_DAY + (gen.earlier_today if back == 0 else 0)
    assert data.total == pytest.approx(0.02 * sum(range(1, 31)) + 30 * (0.12 + 0.04))  # days 31-35 left out
    assert "60 calls of unknown cost" in window.chart_note.text()

    chart = window.chart
    app.run(app.until(lambda: chart.paint_count > 0, what="the chart painted"))
    bars = {(b.day_index, b.model): b.rect for b in chart.bar_rects()}
    assert len(bars) == 30 * 3
    today_4o, first_4o = bars[(29, "gpt-4o")], bars[(0, "gpt-4o")]
    assert first_4o.height() / today_4o.height() == pytest.approx(30, rel=1e-6)  # $0.60 vs $0.02
    assert bars[(29, "gpt-4o-mini")].height() / today_4o.height() == pytest.approx(6, rel=1e-6)
    assert bars[(29, "gpt-4o-mini")].bottom() == pytest.approx(today_4o.top())  # stacked
    image = chart.grab().toImage()
    for (_i, model), rect in ((k, v) for k, v in bars.items() if k[0] in (0, 15)):
        centre = rect.center().toPoint()
        assert image.pixelColor(centre) == QColor(data.color(model)), model
    assert len({data.color(m) for m in data.models}) == 3
    tip = chart.tooltip_text(28)  # yesterday: $0.04 of gpt-4o
    assert "gpt-4o: $0.0400" in tip and "gpt-4o-mini: $0.1200" in tip and "(2 of unknown cost)" in tip


def test_totals_for_30_days_this_month_and_per_provider(month) -> None:
    app, gen = month
    window = open_usage(app)
    assert window.totals.days_cost.text() == format_cost(gen.total(gen.today - timedelta(days=29)))
    assert window.totals.days_cost.text() == "$14.10"
    month_start = gen.today.replace(day=1)
    assert window.totals.month_cost.text() == format_cost(gen.total(month_start))
    assert window.totals.provider_labels["openai"].text() == format_cost(gen.total(month_start, "openai"))
    assert "unknown" in window.totals.provider_labels["ollama"].text()


def test_table_pages_lazily_and_filters_narrow_it(month, qtbot) -> None:
    app, gen = month
    window = open_usage(app)
    model, table = window.model, window.table
    assert model.matching == 30 * PER_DAY + gen.earlier_today
    assert model.rowCount() == model.page_size == 200  # one page, not all 720
    assert model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 400
    table.scrollToBottom()  # the view asks for the next page when it reaches the end
    app.run(app.until(lambda: model.rowCount() > 400, what="another page"))
    assert model.rowCount() == 600 and model.pages_read == 3
    times = [model.row_at(i).started_at for i in range(model.rowCount())]
    assert times == sorted(times, reverse=True)  # newest first

    bar = window.filters
    bar.select(bar.provider, "ollama")
    assert model.matching == model.rowCount() == 60
    assert {model.row_at(i).provider_id for i in range(60)} == {"ollama"}
    assert {model.index(i, 10).data() for i in range(60)} == {"unknown"}
    bar.select(bar.provider, None)
    bar.select(bar.status, "error")
    assert model.matching == 30 and all(not model.row_at(i).ok for i in range(30))
    bar.select(bar.status, None)
    bar.select(bar.kind, "image")
    assert model.matching == 30 and {model.row_at(i).model for i in range(30)} == {"dall-e-3"}
    bar.select(bar.kind, None)
    assert bar.model.findData("llama3.1:8b") > 0  # listed from the chart's days
    bar.select(bar.model, "gpt-4o")
    assert model.matching == 30 * 11
    bar.select(bar.model, None)
    bar.set_dates(gen.today - timedelta(days=9), gen.today - timedelta(days=7))
    assert model.matching == 3 * PER_DAY
    days = {datetime.fromtimestamp(model.row_at(i).started_at).date() for i in range(model.rowCount())}
    assert days == {gen.today - timedelta(days=b) for b in (7, 8, 9)}
    assert "72 calls match" in window.footer.text()


def test_csv_export_writes_the_filtered_rows(month, tmp_path: Path) -> None:
    app, gen = month
    window = open_usage(app)
    bar = window.filters
    bar.select(bar.provider, "openai")
    bar.select(bar.kind, "chat")
    out = tmp_path / "usage.csv"
    assert window.export_csv(out) == 30 * 21
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 * 21 == window.model.matching
    assert {r["provider_id"] for r in rows} == {"openai"} and {r["kind"] for r in rows} == {"chat"}
    expected = sum(c or 0.0 for d, p, m, c in gen.costs if p == "openai" and m != "dall-e-3"
                   and d >= gen.today - timedelta(days=29))  # fmt: skip
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(expected)
    assert "Exported 630 calls" in window.footer.text()


def test_budgets_tab_saves_budgets_limits_and_the_confirmation_choice(month, qtbot) -> None:
    app, _gen = month
    window = open_usage(app, "&Budgets && limits…")
    panel = window.budgets
    app.run(app.until(panel.isVisible, what="the Budgets & limits tab"))
    assert not app.window.budget_notice.isVisible()
    row = panel.rows["openai"]
    row.budget.setValue(0.20)  # at least $0.18 is spent today alone: 90% or more
    row.rpm.setValue(30)
    row.tpm.setValue(40_000)
    panel.confirm.setChecked(True)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    extra = app.ctx.settings.extra
    assert extra["budgets"] == {"openai": 0.20}
    assert extra["rate_limits"] == {"openai": {"rpm": 30, "tpm": 40_000}}
    assert extra["budget_confirm_over"] is True
    saved = json.loads(app.ctx.paths.settings_file.read_text())
    assert saved["extra"]["budgets"] == {"openai": 0.20}
    limiter = app.ctx.guard_for(app.ctx.provider).limiter
    assert limiter is not None and (limiter.requests.capacity, limiter.tokens.capacity) == (30, 40_000)
    notice = app.window.budget_notice
    assert notice.isVisible() and notice.property("level") in ("warning", "error")
    assert "%" in row.spent.text() and panel.status.text() == "Saved."
