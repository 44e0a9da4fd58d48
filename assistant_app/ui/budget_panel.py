"""Budgets & limits: a monthly budget per provider, "ask before sending when over", and the client-side
rate limits (requests and tokens per minute). Saved into ``Settings.extra`` (see core/budget.py and
``AppContext.guard_for``); new limits apply to the running app at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.context import AppContext
from assistant_app.core.ratelimit import RateLimiter
from assistant_app.ui.usage_format import format_cost

RATE_LIMITS_KEY = "rate_limits"
_LEVEL_COLOR = {"ok": "#4e79a7", "warning": "#e8a33d", "over": "#d93025", "none": "#bdc1c6"}


@dataclass
class _Row:
    provider_id: str
    budget: QDoubleSpinBox
    spent: QLabel
    bar: QProgressBar
    rpm: QSpinBox
    tpm: QSpinBox
    server: QLabel


def _limit_spin(maximum: int, name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, maximum)
    spin.setSingleStep(10)
    spin.setSpecialValueText("No limit")
    spin.setAccessibleName(name)
    spin.setMinimumWidth(120)
    spin.setGroupSeparatorShown(True)
    return spin


def rate_limits(ctx: AppContext, provider_id: str) -> tuple[int | None, int | None]:
    """The user's (rpm, tpm) for a provider; ``None`` = no client-side limit."""
    limits = (ctx.settings.extra.get(RATE_LIMITS_KEY) or {}).get(provider_id) or {}
    return limits.get("rpm") or None, limits.get("tpm") or None


def set_rate_limits(ctx: AppContext, provider_id: str, rpm: int | None, tpm: int | None) -> None:
    """Store a provider's limits and give its live guard a limiter with them (the next response's
    ``x-ratelimit-*`` headers tighten it again if the server's limits are lower)."""
    if rate_limits(ctx, provider_id) == (rpm or None, tpm or None):
        return
    table = dict(ctx.settings.extra.get(RATE_LIMITS_KEY) or {})
    if rpm or tpm:
        table[provider_id] = {"rpm": rpm or None, "tpm": tpm or None}
    else:
        table.pop(provider_id, None)
    ctx.settings.extra[RATE_LIMITS_KEY] = table
    guard = ctx.guards.get(provider_id)
    if guard is not None:
        guard.limiter = RateLimiter(rpm=rpm or None, tpm=tpm or None)


class BudgetPanel(QWidget):
    saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("budgetPanel")
        self.ctx = ctx
        self.rows: dict[str, _Row] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 16, 18, 16)
        outer.setSpacing(14)
        intro = QLabel(
            "A monthly budget per provider: the chat warns at 80% and can ask before each send once it is "
            "spent. Rate limits queue requests instead of letting the server refuse them; the limits the "
            "server reports are applied on top."
        )
        intro.setWordWrap(True)
        intro.setObjectName("budgetIntro")
        outer.addWidget(intro)

        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(8)
        for col, title in enumerate(("Provider", "Monthly budget", "Spent this month", "", "Requests / min",
                                     "Tokens / min", "")):  # fmt: skip
            head = QLabel(f"<b>{title}</b>")
            self.grid.addWidget(head, 0, col)
        for row, profile in enumerate(ctx.settings.providers, start=1):
            self._add_row(row, profile.id, profile.name or profile.id)
        self.grid.setColumnStretch(6, 1)
        outer.addLayout(self.grid)

        self.confirm = QCheckBox("Ask me before sending when a provider's budget is spent")
        self.confirm.setObjectName("budgetConfirmCheck")
        outer.addWidget(self.confirm)

        buttons = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("budgetStatus")
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("budgetSaveButton")
        self.save_button.setAccessibleName("Save budgets and limits")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        outer.addStretch(1)
        self.refresh()

    def _add_row(self, row: int, provider_id: str, name: str) -> None:
        label = QLabel(name)
        label.setToolTip(provider_id)
        budget = QDoubleSpinBox()
        budget.setRange(0.0, 1_000_000.0)
        budget.setDecimals(2)
        budget.setSingleStep(5.0)
        budget.setPrefix("$")
        budget.setSpecialValueText("No budget")
        budget.setAccessibleName(f"Monthly budget for {name}")
        budget.setMinimumWidth(120)
        spent = QLabel()
        bar = QProgressBar()
        bar.setRange(0, 100)
        bar.setTextVisible(False)
        bar.setFixedHeight(8)
        bar.setFixedWidth(140)
        rpm = _limit_spin(1_000_000, f"Requests per minute for {name}")
        tpm = _limit_spin(2_000_000_000, f"Tokens per minute for {name}")
        tpm.setSingleStep(1000)
        server = QLabel()
        server.setStyleSheet("color: #80868b;")
        for col, widget in enumerate((label, budget, spent, bar, rpm, tpm, server)):
            self.grid.addWidget(widget, row, col, Qt.AlignmentFlag.AlignVCenter)
        self.rows[provider_id] = _Row(provider_id, budget, spent, bar, rpm, tpm, server)

    def refresh(self) -> None:
        """Show what is saved and what was spent this month."""
        budgets = self.ctx.budgets()
        self.confirm.setChecked(budgets.confirm_over)
        for pid, row in self.rows.items():
            row.budget.setValue(budgets.budget_for(pid) or 0.0)
            status = budgets.status(pid)
            extra = f" + {status.unknown_calls} unknown" if status.unknown_calls else ""
            pct = f" ({100 * status.fraction:.0f}%)" if status.fraction is not None else ""
            row.spent.setText(f"{format_cost(status.spent)}{extra}{pct}")
            row.bar.setValue(min(100, round(100 * (status.fraction or 0.0))))
            row.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {_LEVEL_COLOR[status.level]}; }}")
            rpm, tpm = rate_limits(self.ctx, pid)
            row.rpm.setValue(rpm or 0)
            row.tpm.setValue(tpm or 0)
            row.server.setText(self._server_limits(pid))

    def _server_limits(self, provider_id: str) -> str:
        """What the provider's last response said its limits are (the ``x-ratelimit-*`` headers)."""
        guard = self.ctx.guards.get(provider_id)
        limiter = guard.limiter if guard is not None else None
        if limiter is None:
            return ""
        parts = [f"{info.limit:,} {unit}" for info, unit in ((limiter.requests.info, "rpm"),
                                                              (limiter.tokens.info, "tpm")) if info.limit]  # fmt: skip
        return ("server: " + " · ".join(parts)) if parts else ""

    def save(self) -> None:
        budgets = self.ctx.budgets()
        for pid, row in self.rows.items():
            budgets.set_budget(pid, row.budget.value() or None)
            set_rate_limits(self.ctx, pid, row.rpm.value() or None, row.tpm.value() or None)
        budgets.confirm_over = self.confirm.isChecked()
        try:
            self.ctx.save_settings()
        except OSError as exc:
            self.status.setText(f"Could not save the settings: {exc.strerror or exc}")
            return
        self.refresh()
        self.status.setText("Saved.")
        self.saved.emit()
