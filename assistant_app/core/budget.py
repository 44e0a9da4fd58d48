"""Monthly spending budgets per provider. No Qt.

Settings hold them in ``Settings.extra["budgets"] = {provider_id: usd}``; the user's choice to be
asked before each send once a budget is spent is ``Settings.extra["budget_confirm_over"]`` (bool).
Spending is the known cost of the provider's calls this calendar month (local time); calls whose
cost is unknown are counted separately, so the UI can say "at least $x".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from assistant_app.core.settings import Settings
from assistant_app.core.usage import UsageLog

WARN_FRACTION = 0.8
_EPS = 1e-9
BUDGETS_KEY = "budgets"
CONFIRM_KEY = "budget_confirm_over"


@dataclass(frozen=True)
class BudgetStatus:
    provider_id: str
    budget: float | None  # USD per month; None = no budget
    spent: float  # known cost this month
    unknown_calls: int  # calls this month whose cost is unknown
    month: str  # YYYY-MM

    @property
    def fraction(self) -> float | None:
        if not self.budget:
            return None
        return self.spent / self.budget

    @property
    def level(self) -> str:
        """ "none" (no budget), "ok", "warning" (>= 80 %) or "over" (>= 100 %)."""
        fraction = self.fraction
        if fraction is None:
            return "none"
        if fraction >= 1.0 - _EPS:  # cents summed as floats must not miss a threshold by 1e-16
            return "over"
        if fraction >= WARN_FRACTION - _EPS:
            return "warning"
        return "ok"

    @property
    def remaining(self) -> float | None:
        return None if self.budget is None else self.budget - self.spent

    def message(self) -> str:
        """A sentence for the status bar or the confirmation dialog ("" when nothing to say)."""
        if self.level in ("none", "ok") or self.budget is None:
            return ""
        extra = f" (plus {self.unknown_calls} calls of unknown cost)" if self.unknown_calls else ""
        amounts = f"${self.spent:.2f} of ${self.budget:.2f}{extra}"
        if self.level == "over":
            return f"This month's budget for {self.provider_id} is spent: {amounts}."
        pct = 100 * (self.fraction or 0.0)
        return f"{pct:.0f}% of this month's budget for {self.provider_id} is spent: {amounts}."


class Budgets:
    def __init__(self, settings: Settings, usage: UsageLog, today: Callable[[], date] = date.today) -> None:
        self.settings = settings
        self.usage = usage
        self._today = today

    def budget_for(self, provider_id: str) -> float | None:
        raw = (self.settings.extra.get(BUDGETS_KEY) or {}).get(provider_id)
        try:
            value = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            return None
        return value if value is not None and value > 0 else None

    def set_budget(self, provider_id: str, usd: float | None) -> None:
        """Set (or with ``None``/0 remove) a provider's monthly budget; the caller saves settings."""
        budgets = dict(self.settings.extra.get(BUDGETS_KEY) or {})
        if usd:
            budgets[provider_id] = float(usd)
        else:
            budgets.pop(provider_id, None)
        self.settings.extra[BUDGETS_KEY] = budgets

    @property
    def confirm_over(self) -> bool:
        return bool(self.settings.extra.get(CONFIRM_KEY, False))

    @confirm_over.setter
    def confirm_over(self, value: bool) -> None:
        self.settings.extra[CONFIRM_KEY] = bool(value)

    def status(self, provider_id: str) -> BudgetStatus:
        month = self._today().strftime("%Y-%m")
        spent, unknown = self.usage.month_cost(provider_id, month)
        return BudgetStatus(provider_id, self.budget_for(provider_id), spent, unknown, month)

    def needs_confirmation(self, provider_id: str) -> bool:
        """True when the user asked to confirm each send and the budget is spent."""
        return self.confirm_over and self.status(provider_id).level == "over"
