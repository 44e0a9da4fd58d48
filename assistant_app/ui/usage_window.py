"""The Usage window: spending chart, totals, the table of calls with filters, CSV export, and the
Budgets & limits tab.

Everything it shows comes from the usage log's indexed queries: the chart and totals are a few
grouped sums, and the table reads one page at a time (see usage_table.py), so the window opens
quickly however many calls are recorded.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.context import AppContext
from assistant_app.core.usage_types import DailyCost, UsageTotals
from assistant_app.ui.budget_panel import BudgetPanel
from assistant_app.ui.usage_chart import DailyCostChart
from assistant_app.ui.usage_chart_data import ChartData
from assistant_app.ui.usage_filters import FilterBar
from assistant_app.ui.usage_table import COLUMNS, UsageTableModel
from assistant_app.ui.usage_totals import ProviderLine, TotalsPanel

CHART_DAYS = 30
_WIDTHS = {"Time": 140, "Provider": 84, "Kind": 84, "Model": 150, "Status": 64, "Cost": 82, "Request id": 150}

STYLE = """
#usageWindow, #usageWindow QTabWidget > QWidget { background: #f6f7f9; }
#usageCard, #usageTotals { background: #ffffff; border: 1px solid #e3e5e8; border-radius: 8px; }
#usageHeading { font-size: 14px; font-weight: 600; color: #202124; }
#usageNote, #usageFooter, #budgetIntro { color: #5f6368; }
QLabel[role="totalsCaption"] { color: #5f6368; font-size: 12px; font-weight: 600; }
QLabel[role="totalsBig"] { color: #202124; font-size: 22px; font-weight: 600; }
QLabel[role="totalsDetail"] { color: #5f6368; }
QLabel[level="warning"] { color: #b06000; font-weight: 600; }
QLabel[level="over"] { color: #c5221f; font-weight: 600; }
#usageTable { background: #ffffff; border: 1px solid #e3e5e8; border-radius: 6px; gridline-color: #f1f3f4;
  alternate-background-color: #f8f9fb; selection-background-color: #dfe6f3; selection-color: #111; }
#usageTable QHeaderView::section { background: #f1f3f4; border: none; border-bottom: 1px solid #e3e5e8;
  padding: 4px 6px; font-weight: 600; color: #3c4043; }
"""


class UsageWindow(QWidget):
    """``ctx`` supplies the usage log, the settings (providers, budgets) and the live guards."""

    budgetsSaved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("usageWindow")
        self.setWindowTitle("Usage")
        self.setStyleSheet(STYLE)
        self.ctx = ctx
        self._today = today
        self.resize(1180, 800)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("usageTabs")
        self.tabs.addTab(self._build_spending(), "Spending")
        self._budgets: BudgetPanel | None = None  # built when its tab is first shown
        self._budget_page = QWidget()
        QVBoxLayout(self._budget_page).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._budget_page, "Budgets && limits")
        self.tabs.currentChanged.connect(lambda i: self.budgets if self.tabs.widget(i) is self._budget_page else None)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.tabs)
        self.refresh()

    def today(self) -> date:
        return self._today or date.today()

    @property
    def budgets(self) -> BudgetPanel:
        if self._budgets is None:
            self._budgets = BudgetPanel(self.ctx)
            self._budgets.saved.connect(self.refresh_summary)
            self._budgets.saved.connect(self.budgetsSaved)
            self._budget_page.layout().addWidget(self._budgets)
        return self._budgets

    # -- construction ----------------------------------------------------------------------------

    def _build_spending(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(4, 10, 4, 4)
        outer.setSpacing(10)

        card = QFrame()
        card.setObjectName("usageCard")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(14, 12, 14, 10)
        heading = QLabel(f"Daily cost by model · last {CHART_DAYS} days")
        heading.setObjectName("usageHeading")
        self.chart = DailyCostChart()
        self.chart_note = QLabel()
        self.chart_note.setObjectName("usageNote")
        card_layout.addWidget(heading)
        card_layout.addWidget(self.chart, 1)
        card_layout.addWidget(self.chart_note)
        self.totals = TotalsPanel()
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(card, 1)
        top.addWidget(self.totals)
        outer.addLayout(top, 5)

        self.filters = FilterBar(today=self.today())
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("usageExportButton")
        self.export_button.setAccessibleName("Export the listed calls as CSV")
        self.export_button.clicked.connect(self.export_dialog)
        bar = QHBoxLayout()
        bar.addWidget(self.filters, 1)
        bar.addWidget(self.export_button)
        outer.addLayout(bar)

        self.model = UsageTableModel(self.ctx.usage, self)
        self.table = QTableView()
        self.table.setObjectName("usageTable")
        self.table.setAccessibleName("Recorded calls")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        for col, (name, _value) in enumerate(COLUMNS):
            header.resizeSection(col, _WIDTHS.get(name, 70))
        outer.addWidget(self.table, 6)

        self.footer = QLabel()
        self.footer.setObjectName("usageFooter")
        outer.addWidget(self.footer)
        self.filters.changed.connect(self.apply_filters)
        self.model.rowsInserted.connect(lambda *_a: self._update_footer())
        return page

    # -- data ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read everything (the window stays open while new calls are recorded)."""
        log, today = self.ctx.usage, self.today()
        rows = log.daily_cost_by_model(CHART_DAYS, today=today)
        providers = [(p.id, p.name or p.id) for p in self.ctx.settings.providers]
        recent = sorted({r.model for r in rows if r.model != "?"})
        self.filters.set_choices(providers, recent, log.models)  # the full list is read when it opens
        self.refresh_summary(rows)
        self.apply_filters()
        if self._budgets is not None:
            self._budgets.refresh()

    def refresh_summary(self, rows: list[DailyCost] | None = None) -> None:
        """The chart and the totals (not the table); ``rows``: the chart's query, if already made."""
        log, today = self.ctx.usage, self.today()
        if rows is None:
            rows = log.daily_cost_by_model(CHART_DAYS, today=today)
        data = ChartData.build(rows, days=CHART_DAYS, today=today)
        self.chart.set_data(data)
        unknown = data.unknown_total
        self.chart_note.setText(
            f"{unknown:,} calls of unknown cost are not in the bars (no price known for their model)."
            if unknown
            else "Known prices only; hover a day for its breakdown."
        )
        budgets = self.ctx.budgets()
        lines = [ProviderLine(p.name or p.id, budgets.status(p.id)) for p in self.ctx.settings.providers]
        self.totals.set_totals(log.totals(days=CHART_DAYS, today=today), self._month(rows, data), today, lines)

    def _month(self, rows: list[DailyCost], data: ChartData) -> UsageTotals:
        """This month's totals: from the chart's rows when the month lies inside the chart (calls,
        cost, unknown; no token sums), else from the log."""
        first = self.today().replace(day=1)
        if first < data.days[0]:
            return self.ctx.usage.totals(month=first.strftime("%Y-%m"))
        mine = [r for r in rows if r.day >= first.isoformat()]
        return UsageTotals(calls=sum(r.calls for r in mine), cost=sum(r.cost for r in mine),
                           unknown=sum(r.unknown for r in mine))  # fmt: skip

    def apply_filters(self) -> None:
        self.model.set_filters(self.filters.filters())
        self._update_footer()

    def _update_footer(self) -> None:
        shown, matching = self.model.rowCount(), self.model.matching
        more = f" · {shown:,} loaded (scroll for more)" if shown < matching else ""
        self.footer.setText(f"{matching:,} calls match the filters{more}")

    def show_budgets(self) -> None:
        self.tabs.setCurrentWidget(self._budget_page)  # builds the panel (currentChanged)

    # -- export ----------------------------------------------------------------------------------

    def export_dialog(self) -> None:
        default = Path.home() / f"usage-{self.today().isoformat()}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export usage", str(default), "CSV (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> int:
        """Write the calls matching the current filters (all of them, not only the loaded pages)."""
        try:
            count = self.ctx.usage.export_csv(path, **self.model.filters.query_args())
        except OSError as exc:
            self.footer.setText(f"Could not write {path}: {exc.strerror or exc}")
            return 0
        self.footer.setText(f"Exported {count:,} calls to {path}")
        return count
