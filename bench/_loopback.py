"""The loopback server in a process of its own, for benchmarks: its Python work must not compete for the
measured process's GIL. ``script`` builds and starts a server, prints ``READY <base url>`` and serves
until its stdin closes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def serve_in_subprocess(script: str, *args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "READY":
        proc.kill()
        raise RuntimeError(f"the loopback server did not start: {line}")
    return proc, line[1]
