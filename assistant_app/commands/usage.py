"""``assistant-app usage [--since DATE] [--until DATE] [--format table|csv|json]``: the usage log.

Dates are local (``YYYY-MM-DD`` or an ISO date-time); ``--until`` includes that whole day when it
is a bare date. A cost the price table does not know prints as "unknown", never as 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, TextIO


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("usage", help="show recorded API calls, tokens and cost")
    p.add_argument("--since", type=_date_arg, help="from this local date or date-time (YYYY-MM-DD)")
    p.add_argument("--until", type=_date_arg, help="up to and including this local date (YYYY-MM-DD)")
    p.add_argument("--format", "-f", choices=["table", "csv", "json"], default="table")
    p.add_argument("--provider", help="only this provider id")
    p.add_argument("--model", help="only this model")
    p.add_argument("--kind", choices=["chat", "models", "image", "transcription", "other"])
    p.add_argument("--status", help='"ok", "error", or an exact status such as 429')
    p.set_defaults(handler=run)


def _date_arg(text: str) -> date | datetime:
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def _money(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


def _num(value: Any) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"


def _table(rows: list[Any], totals: Any, out: TextIO) -> None:
    headers = ["time", "provider", "kind", "model", "status", "in", "cached", "out", "ms", "cost"]
    lines = [
        [
            datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M:%S"),
            r.provider_id or r.host or "",
            r.kind,
            r.model or "",
            r.status,
            _num(r.prompt_tokens),
            _num(r.cached_tokens),
            _num(r.completion_tokens),
            _num(r.latency_ms),
            _money(r.cost),
        ]
        for r in rows
    ]
    cost = f"${totals.cost:.4f}" + (f" + {totals.unknown} unknown" if totals.unknown else "")
    total = ["total", "", "", f"{totals.calls} calls", f"{totals.failed} failed", _num(totals.prompt_tokens),
             _num(totals.cached_tokens), _num(totals.completion_tokens), "", cost]  # fmt: skip
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *lines, total, strict=True)]
    numeric = {5, 6, 7, 8, 9}

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in
                         enumerate(zip(cells, widths, strict=True))).rstrip()  # fmt: skip

    out.write(fmt(headers) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in lines:
        out.write(fmt(line) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    out.write(fmt(total) + "\n")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from assistant_app.core.paths import app_paths
    from assistant_app.core.pricing import USER_FILE_NAME, PriceTable
    from assistant_app.core.store import Store
    from assistant_app.core.usage import UsageLog

    out = out or sys.stdout
    until = args.until
    if isinstance(until, date) and not isinstance(until, datetime):
        until = until + timedelta(days=1)  # a bare date includes that whole day
    filters = {"since": args.since, "until": until, "provider": args.provider, "model": args.model,
               "kind": args.kind, "status": args.status}  # fmt: skip
    paths = app_paths().ensure()
    with Store(paths.database) as store:
        log = UsageLog(store, PriceTable.load(paths.config / USER_FILE_NAME))
        if args.format == "csv":
            log.export_csv(out, **filters)
            return 0
        rows = log.query(newest_first=False, **filters)
        totals = log.totals(**filters)
        if args.format == "json":
            json.dump({"calls": [r.to_json() for r in rows], "totals": asdict(totals)}, out, indent=2)
            out.write("\n")
        else:
            _table(rows, totals, out)
    return 0
