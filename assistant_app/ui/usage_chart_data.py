"""What the daily-cost chart draws, computed without Qt: days, stacked costs per model, colours, ticks."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from assistant_app.core.usage_types import DailyCost

OTHER = "Other models"
OTHER_COLOR = "#a3a9b3"
# Distinct, colour-blind-friendly hues (Tableau 10 order, minus the grey kept for "Other").
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


@dataclass(frozen=True)
class ChartData:
    """Costs per (day, model) over ``days`` consecutive local days, oldest first.

    ``models`` is the legend order (biggest spender first, bottom of each stack); models beyond
    ``max_models`` are summed as :data:`OTHER`. Only known costs are drawn; calls of unknown cost
    are counted per day in ``unknown`` so the window can say what the bars leave out.
    """

    days: tuple[date, ...]
    models: tuple[str, ...]
    values: dict[tuple[date, str], float] = field(default_factory=dict)
    unknown: dict[date, int] = field(default_factory=dict)
    calls: dict[date, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls, rows: Iterable[DailyCost], *, days: int = 30, today: date | None = None, max_models: int = 7
    ) -> ChartData:
        end = today or date.today()
        span = tuple(end - timedelta(days=days - 1 - i) for i in range(days))
        first, last = span[0], span[-1]
        raw: dict[tuple[date, str], float] = {}
        per_model: dict[str, float] = {}
        unknown: dict[date, int] = {}
        calls: dict[date, int] = {}
        for row in rows:
            day = date.fromisoformat(row.day)
            if not first <= day <= last:
                continue
            calls[day] = calls.get(day, 0) + row.calls
            if row.unknown:
                unknown[day] = unknown.get(day, 0) + row.unknown
            if row.cost > 0:
                raw[(day, row.model)] = raw.get((day, row.model), 0.0) + row.cost
                per_model[row.model] = per_model.get(row.model, 0.0) + row.cost
        ranked = sorted(per_model, key=lambda m: (-per_model[m], m))
        kept = ranked if len(ranked) <= max_models else ranked[: max_models - 1]
        values: dict[tuple[date, str], float] = {}
        for (day, model), cost in raw.items():
            key = (day, model if model in kept else OTHER)
            values[key] = values.get(key, 0.0) + cost
        models = tuple(kept) + ((OTHER,) if len(kept) < len(ranked) else ())
        return cls(span, models, values, unknown, calls)

    def cost(self, day: date, model: str) -> float:
        return self.values.get((day, model), 0.0)

    def stack(self, day: date) -> list[tuple[str, float]]:
        """(model, cost) from the bottom of the day's bar up; models with no cost that day left out."""
        return [(m, c) for m in self.models if (c := self.cost(day, m)) > 0]

    def day_total(self, day: date) -> float:
        return sum(c for _m, c in self.stack(day))

    @property
    def total(self) -> float:
        return sum(self.values.values())

    @property
    def max_day_total(self) -> float:
        return max((self.day_total(d) for d in self.days), default=0.0)

    @property
    def unknown_total(self) -> int:
        return sum(self.unknown.values())

    def color(self, model: str) -> str:
        if model == OTHER:
            return OTHER_COLOR
        index = self.models.index(model) if model in self.models else len(self.models)
        return PALETTE[index % len(PALETTE)]


def nice_ticks(maximum: float, target: int = 5) -> tuple[float, list[float]]:
    """A round step (1, 2, 2.5 or 5 x 10^k) and the tick values from 0 to at least ``maximum``."""
    if maximum <= 0:
        return 1.0, [0.0, 1.0]
    rough = maximum / target
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    count = max(1, math.ceil(maximum / step - 1e-9))
    return step, [round(i * step, 10) for i in range(count + 1)]


def tick_label(value: float, step: float) -> str:
    """``$0``, ``$0.25``, ``$12``: as many decimals as the step needs, no more."""
    if value == 0:
        return "$0"
    decimals = next((d for d in range(7) if math.isclose(step * 10**d, round(step * 10**d))), 6)
    if 0 < decimals < 2:
        decimals = 2  # cents
    return f"${value:,.{decimals}f}"
