"""Benchmark the usage log: what the Usage window queries when it opens, over 100,000 recorded calls.

Inserts deterministic calls spread over the last 45 days (several providers and models, some
failures, some unknown prices), reopens the database, then times the opening queries: daily cost by
model over 30 days, the first page of the call table (+ its row count), and the totals of the 30
days and of this month. Prints JSON;
never passes or fails on time.

    /tmp/venv/bin/python bench/bench_usage.py [--calls 100000] [--repeat 7] [--seed 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from assistant_app.api.calls import CallRecord
from assistant_app.core.pricing import PriceTable
from assistant_app.core.store import Store
from assistant_app.core.usage import UsageLog

MODELS = [("openai", "gpt-4o-mini", 40), ("openai", "gpt-4o", 20), ("openai", "gpt-4.1", 10), ("openai", "o4-mini", 8),
          ("openai", "gpt-image-1", 4), ("openai", "whisper-1", 4), ("ollama", "llama3.1:8b", 10),
          ("openrouter", "openai/gpt-4o-mini", 4)]  # fmt: skip
KIND = {"gpt-image-1": ("image", "/images/generations"), "whisper-1": ("transcription", "/audio/transcriptions")}
PAGE = 100


def make_calls(n: int, days: int, rng: random.Random) -> list[tuple[str, CallRecord]]:
    now = time.time()
    weights = [w for *_x, w in MODELS]
    out = []
    for i in range(n):
        provider, model, _w = rng.choices(MODELS, weights)[0]
        kind, path = KIND.get(model, ("chat", "/chat/completions"))
        started = now - rng.random() * days * 86400
        status = 200 if rng.random() > 0.03 else rng.choice([429, 500, 503])
        ok = status == 200
        rec = CallRecord(started, f"{provider}.example", path, kind, model=model, status=str(status),
                         http_status=status, ok=ok, latency_ms=rng.uniform(150, 9000), request_id=f"req_{i:08x}",
                         conversation_id=rng.randrange(1, 3000) if kind == "chat" else None)  # fmt: skip
        if ok and kind == "chat":
            rec.prompt_tokens = rng.randrange(20, 20000)
            rec.cached_tokens = rec.prompt_tokens // 2 if rng.random() < 0.3 else 0
            rec.completion_tokens = rng.randrange(5, 2000)
            rec.ttft_ms = rng.uniform(100, 1500)
            rec.message_id = i
        elif ok and kind == "image":
            rec.prompt_tokens, rec.completion_tokens, rec.images = rng.randrange(10, 200), 272, 1
        elif ok:
            rec.audio_seconds = rng.uniform(2, 300)
        out.append((provider, rec))
    return out


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(samples), 2), "max_ms": round(max(samples), 2),
            "first_ms": round(samples[0], 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=45)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    prices = PriceTable.load(None)
    result: dict[str, Any] = {"calls": args.calls, "days_of_data": args.days}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "usage.sqlite3"
        calls = make_calls(args.calls, args.days, rng)
        with Store(db) as store:
            log = UsageLog(store, prices)
            t0 = time.perf_counter()
            by_provider: dict[str, list[CallRecord]] = {}
            for provider, rec in calls:
                by_provider.setdefault(provider, []).append(rec)
            for provider, recs in by_provider.items():
                log.record_many(recs, provider_id=provider)
            result["insert_all_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            for _provider, rec in calls[:200]:
                log.record(rec, provider_id="openai")
            result["record_one_ms"] = round((time.perf_counter() - t0) * 1000 / 200, 3)
        result["db_mb"] = round(db.stat().st_size / 1e6, 1)

        with Store(db) as store:  # reopened, as the app does at start-up
            log = UsageLog(store, prices)
            since = date.today() - timedelta(days=29)

            def open_window() -> dict[str, Any]:
                return {
                    "chart": log.daily_cost_by_model(30),
                    "page": log.query(since=since, limit=PAGE),
                    "rows": log.count(since=since),
                    "totals": log.totals(days=30),
                    "month": log.totals(month=date.today().strftime("%Y-%m")),
                }

            first = open_window()
            result["chart_points"] = len(first["chart"])
            result["rows_in_30_days"] = first["rows"]
            result["window_open"] = timed(open_window, args.repeat)
            result["daily_cost_by_model_30d"] = timed(lambda: log.daily_cost_by_model(30), args.repeat)
            result["first_page_100"] = timed(lambda: log.query(since=since, limit=PAGE), args.repeat)
            result["count_30d"] = timed(lambda: log.count(since=since), args.repeat)
            result["totals_30d"] = timed(lambda: log.totals(days=30), args.repeat)
            result["totals_since_timestamp"] = timed(lambda: log.totals(since=since), args.repeat)
            result["budget_month_cost"] = timed(lambda: log.month_cost("openai"), args.repeat)
            result["filtered_page_model"] = timed(lambda: log.query(model="gpt-4o", limit=PAGE), args.repeat)
            result["conversation_totals"] = timed(lambda: log.totals(conversation_id=17), args.repeat)
            result["export_csv_all_s"] = round(timed(lambda: log.export_csv(Path(tmp) / "all.csv"), 1)["median_ms"]
                                               / 1000, 2)  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
