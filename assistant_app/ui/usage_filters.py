"""The filter row above the Usage window's table: date range, provider, model, kind, status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QWidget

from assistant_app.api.calls import KINDS
from assistant_app.ui.usage_table import Filters

STATUSES = (("Any status", None), ("Succeeded", "ok"), ("Failed", "error"), ("Rate-limited (429)", "429"),
            ("Timed out", "timeout"), ("Connection failed", "connection"))  # fmt: skip


class LazyCombo(QComboBox):
    """A combo whose full list is read only when the user opens it (``loader``, called once)."""

    def __init__(self) -> None:
        super().__init__()
        self.loader: Callable[[], None] | None = None

    def load(self) -> None:
        loader, self.loader = self.loader, None
        if loader is not None:
            loader()

    def showPopup(self) -> None:
        self.load()
        super().showPopup()


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class FilterBar(QWidget):
    """Emits ``changed`` whenever a filter changes; ``filters()`` reads them all."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageFilters")
        today = today or date.today()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)

        self.since = self._date_edit("From", today - timedelta(days=29))
        self.until = self._date_edit("To", today)
        self.provider = self._combo("Provider", [("All providers", None)])
        self.model = self._combo("Model", [("All models", None)], LazyCombo())
        self.model.setMinimumWidth(150)
        self.kind = self._combo("Kind", [("All kinds", None), *((k.capitalize(), k) for k in KINDS)])
        self.status = self._combo("Status", list(STATUSES))
        for label, widget in (("From", self.since), ("to", self.until), (None, self.provider), (None, self.model),
                              (None, self.kind), (None, self.status)):  # fmt: skip
            if label:
                row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)

    def _date_edit(self, name: str, day: date) -> QDateEdit:
        edit = QDateEdit(_qdate(day))
        edit.setObjectName(f"usageFilter{name}")
        edit.setAccessibleName(f"{name} date")
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.dateChanged.connect(lambda _d: self.changed.emit())
        return edit

    def _combo(self, name: str, items: Sequence[tuple[str, str | None]], combo: QComboBox | None = None) -> QComboBox:
        combo = combo or QComboBox()
        combo.setObjectName(f"usageFilter{name}")
        combo.setAccessibleName(name)
        for text, value in items:
            combo.addItem(text, value)
        combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        return combo

    def set_choices(
        self,
        providers: Sequence[tuple[str, str]],
        models: Sequence[str],
        all_models: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        """Fill the provider ((id, name) pairs) and model lists, keeping what is selected.

        ``models`` are listed at once (e.g. those of the chart's days); ``all_models`` is read the
        first time the list opens, so opening the window never scans the whole log for names."""
        _refill(self.provider, list(providers))
        _refill(self.model, [(m, m) for m in models])
        self.model.loader = None if all_models is None else lambda: _refill(self.model, [(m, m) for m in all_models()])

    def select(self, combo: QComboBox, value: str | None) -> None:
        """Pick the entry whose data is ``value`` (tests and callers; emits ``changed``)."""
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def set_dates(self, since: date, until: date) -> None:
        self.since.setDate(_qdate(since))
        self.until.setDate(_qdate(until))

    def filters(self) -> Filters:
        return Filters(
            since=_pydate(self.since.date()),
            until=_pydate(self.until.date()),
            provider=self.provider.currentData(),
            model=self.model.currentData(),
            kind=self.kind.currentData(),
            status=self.status.currentData(),
        )


def _refill(combo: QComboBox, items: Sequence[tuple[str, str]]) -> None:
    """Replace everything after the "All ..." entry, keeping the current selection."""
    current, current_text = combo.currentData(), combo.currentText()
    combo.blockSignals(True)
    while combo.count() > 1:
        combo.removeItem(1)
    for value, text in items:
        combo.addItem(text, value)
    if current is not None and combo.findData(current) < 0:
        combo.addItem(current_text, current)  # still the filter in use
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
