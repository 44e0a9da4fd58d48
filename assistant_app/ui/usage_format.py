"""How money, token counts and durations read in the UI (one place, so the reply line, the header,
the Usage window and the tests agree)."""

from __future__ import annotations

import math

UNKNOWN_COST = "cost unknown"


def format_cost(cost: float | None, *, unknown: str = UNKNOWN_COST) -> str:
    """``$1.23``, ``$0.0012``, ``$0.000045``; ``None`` is ``unknown`` (never "$0").

    Cents are enough from a dollar up; below that four decimals; below a tenth of a cent two
    significant digits, so a single cheap reply never reads as "$0.0000".
    """
    if cost is None:
        return unknown
    if cost == 0:
        return "$0.00"
    sign = "-" if cost < 0 else ""
    value = abs(cost)
    if value >= 1:
        return f"{sign}${value:,.2f}"
    if value >= 0.001:
        return f"{sign}${value:.4f}"
    decimals = min(10, 1 - math.floor(math.log10(value)))
    return f"{sign}${value:.{decimals}f}"


def format_total(cost: float, unknown_calls: int) -> str:
    """A sum of known costs, saying how many calls it leaves out: "$0.42 + 3 unknown"."""
    text = format_cost(cost)
    return f"{text} + {unknown_calls} unknown" if unknown_calls else text


def format_count(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}"


def format_ms(value: float | None) -> str:
    """Milliseconds as "850 ms" or "2.4 s"."""
    if value is None:
        return ""
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"
