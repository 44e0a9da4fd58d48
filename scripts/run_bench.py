"""Run every bench/bench_*.py and collect the JSON each prints into artifacts/bench.json.

Usage: .venv/bin/python scripts/run_bench.py [name-substring ...]

Each benchmark runs in its own process with this interpreter, QT_QPA_PLATFORM=offscreen and a
throw-away ASSISTANT_APP_HOME. A benchmark's stdout must be one JSON document (or end with one
JSON line). Figures are reported, never judged; the exit status is non-zero only if a benchmark
crashed or printed no JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT", "1800"))


def parse_output(stdout: str) -> Any:
    """The whole stdout as JSON, else its last line that parses."""
    text = stdout.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    raise ValueError("printed no JSON")


def run_one(script: Path) -> tuple[Any | None, str | None, float]:
    with tempfile.TemporaryDirectory(prefix="aa-bench-") as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6", ASSISTANT_APP_HOME=home)
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, str(script)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return None, f"timed out after {TIMEOUT_S:.0f} s", time.perf_counter() - started
        wall = time.perf_counter() - started
    if proc.stderr.strip():
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        return None, f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}", wall
    try:
        return parse_output(proc.stdout), None, wall
    except ValueError as exc:
        return None, f"{exc}: {proc.stdout.strip()[-300:]!r}", wall


def main(argv: list[str]) -> int:
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    wall: dict[str, float] = {}
    for script in scripts:
        print(f"[bench] {script.name} ...", file=sys.stderr, flush=True)
        data, error, seconds = run_one(script)
        wall[script.stem] = round(seconds, 3)
        if error is None:
            results[script.stem] = data
        else:
            errors[script.stem] = error
            print(f"[bench] {script.name} FAILED: {error}", file=sys.stderr)
    report = {
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "results": results,
        "errors": errors,
        "wall_seconds": wall,
    }
    out = ROOT / "artifacts" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"[bench] {len(results)} ok, {len(errors)} failed -> {out.relative_to(ROOT)}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
