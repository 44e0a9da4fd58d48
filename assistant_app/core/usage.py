"""The usage log: one SQLite row per API call, with what it cost. No Qt.

Rows live in the ``usage_calls`` table of the conversation database (migration 4 in store.py).
The cost is computed when the call is recorded, with the prices of that day; :meth:`UsageLog.reprice`
fills in costs that were unknown once the user adds a price. Queries are shaped for the Usage
window and the ``usage`` command, and stay fast at 100,000+ rows through the indexes on
``started_at``, ``(provider_id, day, cost)`` and ``day`` (covering every column the daily chart
and day-range totals read). A call's cost is unknown when it is NULL: a billable call with no
price or no reported usage; refused calls cost 0.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from assistant_app.api.calls import RECORD_FIELDS, CallRecord
from assistant_app.core.pricing import PriceTable, cost_of
from assistant_app.core.store import Store
from assistant_app.core.usage_types import (
    DailyCost,
    TimeArg,
    UsageRow,
    UsageTotals,
    local_day,
    month_bounds,
    to_epoch,
)

__all__ = ["DailyCost", "UsageLog", "UsageRow", "UsageTotals", "local_day", "month_bounds", "to_epoch"]


COLUMNS = tuple(f.name for f in fields(UsageRow))
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM usage_calls"
# What is inserted: the record's own fields, plus the computed day and cost.
_INSERT_FIELDS = tuple(n for n in COLUMNS if n != "id")
_INSERT = f"INSERT INTO usage_calls({', '.join(_INSERT_FIELDS)}) VALUES ({', '.join(':' + n for n in _INSERT_FIELDS)})"
_OK_INDEX = COLUMNS.index("ok")
assert set(_INSERT_FIELDS) - {"day", "cost"} <= set(RECORD_FIELDS)


def _row(values: tuple[Any, ...]) -> UsageRow:
    row = UsageRow(*values)
    row.ok = bool(values[_OK_INDEX])
    return row


class UsageLog:
    def __init__(self, store: Store, prices: PriceTable | None = None) -> None:
        self.store = store
        self.prices = prices
        self._conn = store.connection

    # -- writing ----------------------------------------------------------------------------

    def observer(self, provider_id: str | None = None) -> Callable[[CallRecord], None]:
        """A client observer that records every call, tagged with ``provider_id``."""

        def observe(call: CallRecord) -> None:
            self.record(call, provider_id=provider_id)

        return observe

    def _values(self, call: CallRecord, provider_id: str | None) -> dict[str, Any]:
        values = {name: getattr(call, name, None) for name in _INSERT_FIELDS}
        values["provider_id"] = call.provider_id or provider_id
        values["day"] = local_day(call.started_at)
        values["ok"] = 1 if call.ok else 0
        values["cost"] = cost_of(call, self.prices)
        return values

    def record(self, call: CallRecord, *, provider_id: str | None = None) -> int:
        """Store one call (computing its cost); returns the row id."""
        values = self._values(call, provider_id)
        with self.store.transaction():
            return int(self._conn.execute(_INSERT, values).lastrowid)

    def record_many(self, calls: Iterable[CallRecord], *, provider_id: str | None = None) -> int:
        """Store many calls in one transaction (imports, benchmarks); returns how many."""
        rows = [self._values(c, provider_id) for c in calls]
        with self.store.transaction():
            self._conn.executemany(_INSERT, rows)
        return len(rows)

    def reprice(self) -> int:
        """Compute the cost of rows whose cost is unknown, with the current prices."""
        changed = 0
        with self.store.transaction():
            rows = [_row(r) for r in self._conn.execute(_SELECT + " WHERE cost IS NULL")]
            for row in rows:
                cost = cost_of(row, self.prices)
                if cost is not None:
                    self._conn.execute("UPDATE usage_calls SET cost = ? WHERE id = ?", (cost, row.id))
                    changed += 1
        return changed

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def _where(
        since: TimeArg = None,
        until: TimeArg = None,
        provider: str | None = None,
        model: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        conversation_id: int | None = None,
    ) -> tuple[str, list[Any]]:
        """A WHERE clause from constant fragments; values are bound, never interpolated."""
        parts: list[str] = []
        args: list[Any] = []
        for fragment, value in (
            ("started_at >= ?", to_epoch(since)),
            ("started_at < ?", to_epoch(until)),
            ("provider_id = ?", provider),
            ("(model = ? OR response_model = ?)", model),
            ("kind = ?", kind),
            ("conversation_id = ?", conversation_id),
        ):
            if value is not None:
                parts.append(fragment)
                args.extend([value] * fragment.count("?"))
        if status in ("ok", "error"):
            parts.append("ok = 1" if status == "ok" else "ok = 0")
        elif status is not None:
            parts.append("status = ?")
            args.append(status)
        return (" WHERE " + " AND ".join(parts)) if parts else "", args

    def query(
        self,
        since: TimeArg = None,
        until: TimeArg = None,
        provider: str | None = None,
        model: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        *,
        conversation_id: int | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[UsageRow]:
        """Calls matching every given filter (``until`` exclusive; ``status`` "ok", "error" or exact)."""
        where, args = self._where(since, until, provider, model, kind, status, conversation_id)
        order = " ORDER BY started_at DESC, id DESC" if newest_first else " ORDER BY started_at, id"
        sql = _SELECT + where + order + " LIMIT ? OFFSET ?"
        rows = self._conn.execute(sql, [*args, -1 if limit is None else limit, offset]).fetchall()
        return [_row(r) for r in rows]

    def count(
        self,
        since: TimeArg = None,
        until: TimeArg = None,
        provider: str | None = None,
        model: str | None = None,
        kind: str | None = None,
        status: str | None = None,
    ) -> int:
        where, args = self._where(since, until, provider, model, kind, status)
        return int(self._conn.execute("SELECT COUNT(*) FROM usage_calls" + where, args).fetchone()[0])

    def models(self) -> list[str]:
        """Every model that appears in the log (for a filter list)."""
        rows = self._conn.execute("SELECT DISTINCT model FROM usage_calls WHERE model IS NOT NULL ORDER BY model")
        return [r[0] for r in rows]

    def daily_cost_by_model(
        self, days: int = 30, *, provider: str | None = None, today: date | None = None
    ) -> list[DailyCost]:
        """Known cost per local day and model over the last ``days`` days (today included)."""
        end = today or date.today()
        first = (end - timedelta(days=days - 1)).isoformat()
        last = end.isoformat()
        sql = (
            "SELECT day, COALESCE(model, '?'), COALESCE(SUM(cost), 0), COUNT(*), COUNT(*) - COUNT(cost) "
            "FROM usage_calls WHERE day BETWEEN ? AND ?"
        )
        args: list[Any] = [first, last]
        if provider is not None:
            sql += " AND provider_id = ?"
            args.append(provider)
        sql += " GROUP BY day, model ORDER BY day, model"
        return [DailyCost(*r) for r in self._conn.execute(sql, args)]

    def totals(
        self,
        conversation_id: int | None = None,
        month: str | None = None,
        *,
        provider: str | None = None,
        since: TimeArg = None,
        until: TimeArg = None,
        model: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        days: int | None = None,
        today: date | None = None,
    ) -> UsageTotals:
        """Sums over the calls matching every filter. ``month`` ("YYYY-MM") and ``days`` (the last
        ``days`` local days, today included) select by day, which the covering index makes fast."""
        where, args = self._where(since, until, provider, model, kind, status, conversation_id)
        ranges = []
        if month is not None:
            ranges.append(month_bounds(month))
        if days is not None:
            end = today or date.today()
            ranges.append(((end - timedelta(days=days - 1)).isoformat(), (end + timedelta(days=1)).isoformat()))
        for first, stop in ranges:
            where += (" AND " if where else " WHERE ") + "day >= ? AND day < ?"
            args += [first, stop]
        sql = (
            "SELECT COUNT(*), SUM(ok = 0), COALESCE(SUM(cost), 0), COUNT(*) - COUNT(cost), "
            "SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens), SUM(reasoning_tokens), "
            "SUM(images), SUM(audio_seconds) FROM usage_calls" + where
        )
        row = self._conn.execute(sql, args).fetchone()
        return UsageTotals(*(v or 0 for v in row))

    def month_cost(self, provider: str, month: str | None = None) -> tuple[float, int]:
        """(known cost, calls of unknown cost) of ``provider`` in ``month`` (default: this month)."""
        first, end = month_bounds(month or date.today().strftime("%Y-%m"))
        row = self._conn.execute(
            "SELECT COALESCE(SUM(cost), 0), COUNT(*) - COUNT(cost) FROM usage_calls "
            "WHERE provider_id = ? AND day >= ? AND day < ?",
            (provider, first, end),
        ).fetchone()
        return float(row[0]), int(row[1])

    def message_costs(self, conversation_id: int) -> dict[int, float | None]:
        """Cost per message of a conversation (``None`` if any of its calls has an unknown cost)."""
        out: dict[int, float | None] = {}
        for mid, cost, unknown in self._conn.execute(
            "SELECT message_id, SUM(cost), COUNT(*) - COUNT(cost) FROM usage_calls "
            "WHERE conversation_id = ? AND message_id IS NOT NULL GROUP BY message_id",
            (conversation_id,),
        ):
            out[int(mid)] = None if unknown else float(cost or 0.0)
        return out

    # -- export -----------------------------------------------------------------------------

    def export_csv(self, out: TextIO | Path, **filters: Any) -> int:
        """Write the matching calls (oldest first) as CSV with a header; returns the row count."""
        if isinstance(out, Path):
            with out.open("w", encoding="utf-8", newline="") as f:
                return self.export_csv(f, **filters)
        writer = csv.writer(out)
        writer.writerow(["time", *COLUMNS])
        n = 0
        for row in self.query(newest_first=False, **filters):
            stamp = datetime.fromtimestamp(row.started_at).isoformat(timespec="seconds")
            writer.writerow(
                [
                    stamp,
                    *(
                        "" if v is None else int(v) if isinstance(v, bool) else v
                        for v in (getattr(row, c) for c in COLUMNS)
                    ),
                ]
            )
            n += 1
        return n
