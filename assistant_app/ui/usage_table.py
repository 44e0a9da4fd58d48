"""The Usage window's table of calls: a model that reads the usage log a page at a time.

Only the pages the view scrolls to are read (``canFetchMore``/``fetchMore``), so a log of
100,000 calls opens as fast as one of 100. Rows are newest first; the filters are the usage
log's own (dates are local days, both ends included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from assistant_app.core.usage import UsageLog, UsageRow
from assistant_app.ui.usage_format import format_cost, format_count, format_ms

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
_ERROR = QColor("#b3261e")
_MUTED = QColor("#80868b")


@dataclass(frozen=True)
class Filters:
    """What the user picked above the table; ``None`` means "any"."""

    since: date | None = None  # first local day, included
    until: date | None = None  # last local day, included
    provider: str | None = None
    model: str | None = None
    kind: str | None = None
    status: str | None = None  # "ok", "error" or an exact status ("429")

    def query_args(self) -> dict[str, Any]:
        """Keyword arguments for ``UsageLog.query``/``count``/``export_csv`` (``until`` made exclusive)."""
        args = asdict(self)
        if self.until is not None:
            args["until"] = self.until + timedelta(days=1)
        return args


def _tokens(value: int | None) -> str:
    return format_count(value)


COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Time", lambda r: datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M:%S")),
    ("Provider", lambda r: r.provider_id or r.host or ""),
    ("Kind", lambda r: r.kind),
    ("Model", lambda r: r.response_model or r.model or ""),
    ("Status", lambda r: r.status),
    ("Input", lambda r: _tokens(r.prompt_tokens)),
    ("Cached", lambda r: _tokens(r.cached_tokens)),
    ("Output", lambda r: _tokens(r.completion_tokens)),
    ("Latency", lambda r: format_ms(r.latency_ms)),
    ("TTFT", lambda r: format_ms(r.ttft_ms)),
    ("Cost", lambda r: format_cost(r.cost, unknown="unknown")),
    ("Request id", lambda r: r.request_id or ""),
)
NUMERIC = {"Input", "Cached", "Output", "Latency", "TTFT", "Cost"}
COST_COLUMN = [name for name, _f in COLUMNS].index("Cost")


class UsageTableModel(QAbstractTableModel):
    """Calls matching :class:`Filters`, newest first, read ``page_size`` rows at a time."""

    PAGE = 200

    def __init__(self, log: UsageLog, parent=None, *, page_size: int = PAGE) -> None:
        super().__init__(parent)
        self.log = log
        self.page_size = page_size
        self.filters = Filters()
        self.matching = 0  # calls matching the filters (the table holds only the pages read so far)
        self.pages_read = 0
        self._rows: list[UsageRow] = []
        self._exhausted = True
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_filters(self, filters: Filters) -> None:
        """Start over with new filters: count the matches and read the first page."""
        self.beginResetModel()
        self.filters = filters
        self._rows = []
        self._exhausted = False
        self.pages_read = 0
        self.matching = self.log.count(**filters.query_args())
        self._rows = self._next_page()
        self.endResetModel()

    def refresh(self) -> None:
        self.set_filters(self.filters)

    def _next_page(self) -> list[UsageRow]:
        page = self.log.query(**self.filters.query_args(), limit=self.page_size, offset=len(self._rows))
        self.pages_read += 1
        self._exhausted = len(page) < self.page_size
        return page

    def row_at(self, row: int) -> UsageRow:
        return self._rows[row]

    # -- lazy loading ----------------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 (Qt's default argument)
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        start = len(self._rows)
        page = self._next_page()
        if not page:
            return
        self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    # -- the table -------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            name = COLUMNS[section][0]
            if role == Qt.ItemDataRole.DisplayRole:
                return name
            if role == Qt.ItemDataRole.TextAlignmentRole:
                side = Qt.AlignmentFlag.AlignRight if name in NUMERIC else Qt.AlignmentFlag.AlignLeft
                return int(side | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        name, value = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return value(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            side = Qt.AlignmentFlag.AlignRight if name in NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.ok and name in ("Status", "Time"):
                return _ERROR
            if name == "Cost" and row.cost is None:
                return _MUTED
        if role == Qt.ItemDataRole.FontRole and name == "Cost" and row.cost is None:
            return self._italic
        if role == Qt.ItemDataRole.ToolTipRole:
            if name == "Status" and row.error:
                return row.error
            if name == "Cost" and row.cost is None:
                return "No price is known for this model, or the server reported no usage."
        if role == ROW_ROLE:
            return row
        return None
