"""Real processes for end-to-end tests: an Xvfb display, the loopback server, the app itself."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def have(*tools: str) -> bool:
    return all(shutil.which(t) for t in tools)


@contextlib.contextmanager
def xvfb(size: str = "1280x800x24") -> Iterator[str]:
    """Start Xvfb on a free display; ``-displayfd`` tells us the number once it is ready (no sleeps)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def fake_server(*args: str) -> Iterator[str]:
    """The loopback OpenAI server as a separate process; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"fake server did not start: {line!r}")
        yield line.split(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(10)


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll a condition until it holds (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # schema not created yet
    finally:
        conn.close()


def xdotool(*args: str, display: str, timeout: float = 20) -> str:
    out = subprocess.run(
        ["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise AssertionError(f"xdotool {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout.strip()


def main_window(display: str, name: str = "Assistant", timeout: float = 60, app: subprocess.Popen | None = None) -> str:
    """The app's main window id: the largest visible window whose title contains ``name``.

    ``xdotool search`` also lists short-lived windows with the app's name (tooltips, popups); sending
    keys to one of those after it is gone fails with BadWindow. With ``app`` (started with stdout piped
    and ``PYTHONFAULTHANDLER=1``), an app that exits or never shows its window fails the test with
    its output, and with every thread's stack when it hangs."""
    try:
        _wait_visible(display, name, timeout, app)
    except AssertionError as exc:
        if app is None:
            raise
        if app.poll() is None:
            app.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
        try:
            out, _ = app.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            out, _ = app.communicate()
        raise AssertionError(f"{exc}; the app (exit status {app.returncode}) printed:\n{out}") from None
    def largest() -> str | None:
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                             env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=20)
        best, best_area = None, 0
        for wid in out.stdout.split():
            geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wid],
                                 env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=20)
            fields = dict(line.split("=", 1) for line in geo.stdout.splitlines() if "=" in line)
            area = int(fields.get("WIDTH", 0)) * int(fields.get("HEIGHT", 0))
            if area > best_area:
                best, best_area = wid, area
        return best if best_area >= 200 * 200 else None

    return wait_until(largest, timeout=timeout, what=f"the {name} main window")


def _wait_visible(display: str, name: str, timeout: float, app: subprocess.Popen | None) -> None:
    def visible() -> bool:
        if app is not None and app.poll() is not None:
            raise AssertionError("the app exited before its window appeared")
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                             env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=20)
        return bool(out.stdout.strip())

    wait_until(visible, timeout=timeout, interval=0.1, what=f"a visible {name} window")
