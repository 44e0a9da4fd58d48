"""Benchmark: how long the Usage window takes from construction to its first paint, with 100,000 calls.

Records the calls (spread over the last 30 days, so every one is inside the chart and the default
table range) in a temporary home directory, reopens the database as the app does at start-up,
then for each run: construct ``UsageWindow`` -> ``show()`` -> process events until the window,
its chart and its table have each been painted once (offscreen platform). For comparison the
same run times a bare ``QWidget`` of the same size from ``show()`` to its first paint. Prints JSON;
never passes or fails on time.

    QT_QPA_PLATFORM=offscreen /tmp/venv/bin/python bench/bench_usage_window.py [--calls 100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
from usage_fixture import PROVIDERS, NullKeyring, usage_context

from assistant_app.core.context import AppContext
from assistant_app.core.secrets import SecretStore

TIMEOUT_S = 10.0


class FirstPaint(QObject):
    """Remembers when each watched widget received its first paint event."""

    def __init__(self, widgets: dict[str, QWidget]) -> None:
        super().__init__()
        self.names = {id(w): name for name, w in widgets.items()}
        self.at: dict[str, float] = {}
        for w in widgets.values():
            w.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            name = self.names.get(id(obj))
            if name is not None and name not in self.at:
                self.at[name] = time.perf_counter()
        return False

    def wait(self, app: QApplication) -> None:
        deadline = time.perf_counter() + TIMEOUT_S
        while len(self.at) < len(self.names):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no first paint within {TIMEOUT_S} s: {sorted(self.at)}")
            app.processEvents()


def dispose(widget: QWidget) -> None:
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def time_usage_window(app: QApplication, ctx: AppContext) -> dict[str, float]:
    from assistant_app.ui.usage_window import UsageWindow

    t0 = time.perf_counter()
    window = UsageWindow(ctx)
    t_built = time.perf_counter()
    watch = FirstPaint({"window": window, "chart": window.chart, "table": window.table.viewport()})
    window.show()
    t_shown = time.perf_counter()
    watch.wait(app)
    t_painted = max(watch.at.values())
    rows = window.model.rowCount()
    dispose(window)
    return {
        "construct_ms": (t_built - t0) * 1000,
        "show_to_paint_ms": (t_painted - t_shown) * 1000,
        "construct_to_paint_ms": (t_painted - t0) * 1000,
        "rows_loaded": rows,
    }


def time_bare_widget(app: QApplication, size: tuple[int, int]) -> float:
    widget = QWidget()
    widget.resize(*size)
    watch = FirstPaint({"widget": widget})
    t0 = time.perf_counter()
    widget.show()
    watch.wait(app)
    elapsed = (watch.at["widget"] - t0) * 1000
    dispose(widget)
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1),
            "max_ms": round(max(samples), 1), "first_ms": round(samples[0], 1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    result: dict[str, Any] = {"calls": args.calls, "days_of_data": args.days, "platform": app.platformName()}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        seeded = usage_context(args.calls, args.days, home=home)
        seeded.save_settings()
        seeded.close()
        result["insert_s"] = round(time.perf_counter() - t0, 1)
        ctx = AppContext.create(secrets=SecretStore(backend=NullKeyring()), log=False)  # reopened, as at start-up
        assert [p.id for p in ctx.settings.providers] == [p.id for p in PROVIDERS]
        result["calls_in_chart_range"] = ctx.usage.totals(days=30).calls

        runs = [time_usage_window(app, ctx) for _ in range(args.repeat)]
        size = (1180, 800)
        bare = [time_bare_widget(app, size) for _ in range(args.repeat)]
        ctx.close()
    result["rows_loaded_at_open"] = runs[0]["rows_loaded"]
    result["usage_window_construct"] = summary([r["construct_ms"] for r in runs])
    result["usage_window_show_to_first_paint"] = summary([r["show_to_paint_ms"] for r in runs])
    result["usage_window_construct_to_first_paint"] = summary([r["construct_to_paint_ms"] for r in runs])
    result["bare_qwidget_show_to_first_paint"] = summary(bare)
    result["target_ms"] = 200
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
