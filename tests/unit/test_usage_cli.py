"""``assistant-app usage`` in a real subprocess against a prepared data directory."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from assistant_app.api.calls import CallRecord
from assistant_app.core.paths import AppPaths
from assistant_app.core.pricing import PriceTable
from assistant_app.core.store import Store
from assistant_app.core.usage import UsageLog

M = 1_000_000
ROOT = Path(__file__).resolve().parents[2]


def rec(day: date, model: str, prompt: int, completion: int, status: int = 200, **kw) -> CallRecord:
    ok = status == 200
    return CallRecord(datetime(day.year, day.month, day.day, 10, 30).timestamp(), "api.openai.com",
                      "/chat/completions", "chat", model=model, status=str(status), http_status=status, ok=ok,
                      prompt_tokens=prompt if ok else None, completion_tokens=completion if ok else None,
                      latency_ms=812.4, **kw)  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("usage-home")
    paths = AppPaths(base / "data", base / "config", base / "logs").ensure()
    with Store(paths.database) as store:
        log = UsageLog(store, PriceTable.load(None))
        log.record(rec(date(2025, 4, 1), "gpt-4o", 10_000, 1_000, cached_tokens=4_000), provider_id="openai")
        log.record(rec(date(2025, 4, 2), "llama3", 500, 50), provider_id="ollama")
        log.record(rec(date(2025, 4, 3), "gpt-4o-mini", 0, 0, status=429), provider_id="openai")
        log.record(rec(date(2025, 4, 5), "gpt-4o-mini", 2_000, 500), provider_id="openai")
    return base


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_APP_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "assistant_app", "usage", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)  # fmt: skip


GPT4O = ((10_000 - 4_000) * 2.50 + 4_000 * 1.25 + 1_000 * 10.00) / M
MINI = (2_000 * 0.15 + 500 * 0.60) / M


def test_json_has_every_call_and_the_totals(home: Path) -> None:
    proc = run(home, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [c["model"] for c in doc["calls"]] == ["gpt-4o", "llama3", "gpt-4o-mini", "gpt-4o-mini"]
    assert doc["calls"][0]["cost"] == pytest.approx(GPT4O)
    assert doc["calls"][1]["cost"] is None
    totals = doc["totals"]
    assert (totals["calls"], totals["failed"], totals["unknown"]) == (4, 1, 1)
    assert totals["cost"] == pytest.approx(GPT4O + MINI)


def test_table_is_aligned_with_totals_and_unknown_costs(home: Path) -> None:
    proc = run(home)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["time", "provider", "kind", "model", "status", "in", "cached", "out", "ms", "cost"]
    body = lines[2:-2]
    assert len(body) == 4 and lines[-1].startswith("total")
    cost_end = len(lines[0])  # right-aligned numbers end under their header
    assert all(len(line) == cost_end for line in body)
    assert body[1].endswith("unknown") and "llama3" in body[1]
    assert body[0].endswith(f"${GPT4O:.4f}") and "10,000" in body[0] and "4,000" in body[0]
    assert f"${GPT4O + MINI:.4f} + 1 unknown" in lines[-1] and "4 calls" in lines[-1]
    assert lines[1].replace(" ", "").strip("-") == "" and lines[-2] == lines[1]


def test_since_and_until_are_inclusive_local_dates(home: Path) -> None:
    proc = run(home, "--since", "2025-04-02", "--until", "2025-04-03", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [c["model"] for c in json.loads(proc.stdout)["calls"]] == ["llama3", "gpt-4o-mini"]


def test_csv_export_and_filters(home: Path) -> None:
    proc = run(home, "--format", "csv", "--provider", "openai", "--status", "ok")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["model"] for r in rows] == ["gpt-4o", "gpt-4o-mini"]
    assert float(rows[1]["cost"]) == pytest.approx(MINI)


def test_bad_date_is_a_usage_error(home: Path) -> None:
    proc = run(home, "--since", "last tuesday")
    assert proc.returncode == 2 and "not a date" in proc.stderr


def test_empty_log_prints_zero_totals(tmp_path: Path) -> None:
    proc = run(tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"calls": [], "totals": json.loads(proc.stdout)["totals"]}
    assert json.loads(proc.stdout)["totals"]["calls"] == 0
