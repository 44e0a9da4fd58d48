"""The chart's data model and the money formatting, without Qt."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from assistant_app.core.usage_types import DailyCost
from assistant_app.ui.usage_chart_data import OTHER, OTHER_COLOR, ChartData, nice_ticks, tick_label
from assistant_app.ui.usage_format import format_cost, format_ms, format_total

TODAY = date(2025, 8, 20)


def row(back: int, model: str, cost: float, calls: int = 1, unknown: int = 0) -> DailyCost:
    return DailyCost((TODAY - timedelta(days=back)).isoformat(), model, cost, calls, unknown)


def test_days_are_consecutive_and_end_today_even_without_data() -> None:
    data = ChartData.build([row(3, "gpt-4o", 1.5)], days=30, today=TODAY)
    assert len(data.days) == 30 and data.days[-1] == TODAY and data.days[0] == date(2025, 7, 22)
    assert data.stack(TODAY) == [] and data.day_total(TODAY - timedelta(days=3)) == 1.5


def test_rows_outside_the_window_are_ignored_and_costs_stack_in_legend_order() -> None:
    rows = [row(0, "gpt-4o-mini", 0.5), row(0, "gpt-4o", 2.0), row(1, "gpt-4o", 1.0), row(30, "gpt-4o", 99.0),
            row(0, "llama", 0.0, calls=4, unknown=4)]  # fmt: skip
    data = ChartData.build(rows, days=30, today=TODAY)
    assert data.models == ("gpt-4o", "gpt-4o-mini")  # by total spend; an unpriced model has no bar
    assert data.stack(TODAY) == [("gpt-4o", 2.0), ("gpt-4o-mini", 0.5)]
    assert data.total == pytest.approx(3.5) and data.max_day_total == pytest.approx(2.5)
    assert data.unknown == {TODAY: 4} and data.calls[TODAY] == 6 and data.unknown_total == 4


def test_small_spenders_are_summed_as_other_with_a_neutral_colour() -> None:
    rows = [row(0, f"m{i}", float(10 - i)) for i in range(10)]
    data = ChartData.build(rows, days=7, today=TODAY, max_models=4)
    assert data.models == ("m0", "m1", "m2", OTHER)
    assert data.cost(TODAY, OTHER) == pytest.approx(sum(range(1, 8)))
    assert data.color(OTHER) == OTHER_COLOR
    assert len({data.color(m) for m in data.models}) == 4


@pytest.mark.parametrize(
    ("maximum", "step", "top"),
    [(0.9, 0.2, 1.0), (3.7, 1.0, 4.0), (12, 2.5, 12.5), (0.013, 0.005, 0.015), (260, 100, 300), (0, 1.0, 1.0)],
)
def test_nice_ticks_cover_the_maximum_with_round_steps(maximum: float, step: float, top: float) -> None:
    got_step, ticks = nice_ticks(maximum)
    assert got_step == pytest.approx(step) and ticks[0] == 0 and ticks[-1] == pytest.approx(top)
    assert ticks[-1] >= maximum


def test_tick_labels_use_the_decimals_the_step_needs() -> None:
    assert [tick_label(v, 0.2) for v in (0, 0.2, 1.0)] == ["$0", "$0.20", "$1.00"]
    assert [tick_label(v, 100) for v in (100, 1200)] == ["$100", "$1,200"]
    assert tick_label(0.0015, 0.0005) == "$0.0015"


def test_costs_are_never_shown_as_zero_when_unknown_or_tiny() -> None:
    assert format_cost(None) == "cost unknown"
    assert format_cost(0.0012) == "$0.0012"
    assert format_cost(0.00045105) == "$0.00045"
    assert format_cost(0.000003) == "$0.0000030"
    assert format_cost(12.345) == "$12.35" and format_cost(0) == "$0.00"
    assert format_total(0.5, 3) == "$0.5000 + 3 unknown"
    assert format_ms(850) == "850 ms" and format_ms(2400) == "2.4 s" and format_ms(None) == ""
