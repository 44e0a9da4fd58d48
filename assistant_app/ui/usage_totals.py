"""The totals beside the chart: the last 30 days, this month, and this month per provider."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from assistant_app.core.budget import BudgetStatus
from assistant_app.core.usage_types import UsageTotals
from assistant_app.ui.usage_format import format_cost, format_total


def _compact(n: int) -> str:
    """1234 -> "1.2k", 3400000 -> "3.4M": token sums at a glance."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f}{suffix}"
    return str(n)


@dataclass(frozen=True)
class ProviderLine:
    name: str
    status: BudgetStatus  # spent this month and the budget (if any)


class TotalsPanel(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageTotals")
        self.setMinimumWidth(270)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(2)
        self.days_caption = self._label("Last 30 days", "totalsCaption", layout)
        self.days_cost = self._label("", "totalsBig", layout)
        self.days_cost.setObjectName("totalDays")
        self.days_detail = self._label("", "totalsDetail", layout)
        layout.addSpacing(12)
        self.month_caption = self._label("This month", "totalsCaption", layout)
        self.month_cost = self._label("", "totalsBig", layout)
        self.month_cost.setObjectName("totalMonth")
        self.month_detail = self._label("", "totalsDetail", layout)
        layout.addSpacing(12)
        self._label("This month by provider", "totalsCaption", layout)
        self.providers = QGridLayout()
        self.providers.setHorizontalSpacing(12)
        self.providers.setVerticalSpacing(4)
        layout.addLayout(self.providers)
        layout.addStretch(1)
        self.provider_labels: dict[str, QLabel] = {}

    @staticmethod
    def _label(text: str, role: str, layout: QVBoxLayout) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", role)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(label)
        return label

    def set_totals(self, days: UsageTotals, month: UsageTotals, month_day: date, providers: Sequence[ProviderLine]):
        self.days_cost.setText(format_cost(days.cost))
        self.days_detail.setText(self._detail(days))
        self.month_caption.setText(f"This month ({month_day:%B %Y})")
        self.month_cost.setText(format_cost(month.cost))
        self.month_detail.setText(self._detail(month))
        while self.providers.count():
            item = self.providers.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.provider_labels = {}
        for row, line in enumerate(providers):
            name = QLabel(line.name)
            name.setProperty("role", "totalsDetail")
            status = line.status
            text = format_total(status.spent, status.unknown_calls)
            if status.budget:
                text += f" of ${status.budget:,.2f}"
            value = QLabel(text)
            value.setObjectName(f"providerTotal_{status.provider_id}")
            value.setProperty("level", status.level)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.providers.addWidget(name, row, 0)
            self.providers.addWidget(value, row, 1)
            self.provider_labels[status.provider_id] = value

    @staticmethod
    def _detail(t: UsageTotals) -> str:
        lines = [f"{t.calls:,} calls" + (f", {t.failed:,} failed" if t.failed else "")]
        if t.unknown:
            lines.append(f"+ {t.unknown:,} calls of unknown cost")
        if t.prompt_tokens or t.completion_tokens:
            lines.append(f"Input {_compact(t.prompt_tokens)} tokens ({_compact(t.cached_tokens)} cached)")
            lines.append(f"Output {_compact(t.completion_tokens)} tokens")
        return "\n".join(lines)
