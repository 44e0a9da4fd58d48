"""Screenshot of the Usage window over a month of generated calls (offscreen), for review.

    /tmp/venv/bin/python bench/shot_usage_window.py [--calls 3000] [--out /tmp/shots/usage.png ...]

Writes the Spending tab to each ``--out`` path and the Budgets & limits tab next to the first one
(``*-budgets.png``). Prints the paths as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication
from usage_fixture import usage_context

DEFAULT_OUT = ["/tmp/shots/usage.png", str(Path(__file__).resolve().parent.parent / "artifacts" / "usage.png")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", action="append", help="where to save (repeatable)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as home:
        print(json.dumps({"screenshots": shoot(app, Path(home), args), "calls": args.calls}, indent=2))


def shoot(app: QApplication, home: Path, args: argparse.Namespace) -> list[str]:
    ctx = usage_context(args.calls, days=30, seed=args.seed, home=home)
    budgets = ctx.budgets()
    budgets.set_budget("openai", 40.0)
    budgets.set_budget("openrouter", 0.25)
    budgets.confirm_over = True

    from assistant_app.ui.usage_window import UsageWindow

    window = UsageWindow(ctx)
    window.resize(1180, 800)
    window.show()
    app.processEvents()
    written = []
    for out in args.out or DEFAULT_OUT:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(path))
        written.append(str(path))
    window.show_budgets()
    app.processEvents()
    first = Path(written[0])
    budgets_path = first.with_name(first.stem + "-budgets.png")
    window.grab().save(str(budgets_path))
    written.append(str(budgets_path))
    window.close()
    ctx.close()
    return written


if __name__ == "__main__":
    main()
