"""Benchmark the image UI in a shown main window (the real widgets and controllers, loopback server).

Prints one JSON document; never passes or fails on time. Figures:

* ``idle``: how late a 1 ms ``QTimer`` fires on the idle window (the baseline for stalls);
* ``drop_24mp_jpeg``: a 6000x4000 camera JPEG dropped onto the composer (a real ``QDropEvent``):
  time until its chip's thumbnail is set and until it is painted (target <= 200 ms), time until it
  is prepared for sending, and the worst 1 ms timer lateness from the drop to ready (target <= 16 ms);
* ``partial_images``: Create image with 1024x1024 partial previews from the server (its own process,
  so that it does not compete for this process's GIL; 0.15 s between events): from the moment
  an event leaves the API layer to the paint of its tile (target <= 16 ms), with the timer lateness
  during the whole generation.

    QT_QPA_PLATFORM=offscreen /tmp/venv/bin/python bench/bench_image_ui.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("ASSISTANT_APP_HOME", tempfile.mkdtemp(prefix="bench-image-ui-"))

import qasync  # noqa: E402
from _loopback import serve_in_subprocess  # noqa: E402
from PySide6.QtCore import QEvent, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.support import image_fixtures as F  # noqa: E402
from tests.support.memory_keyring import MemoryKeyring  # noqa: E402
from tests.ui.image_helpers import drop_on, file_mime  # noqa: E402


class Lateness:
    """A 1 ms precise timer; records how late each tick came (the UI thread's stalls)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.samples = []
        self._last = time.perf_counter()
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.samples.append(max(0.0, (now - self._last) * 1000 - 1.0))
        self._last = now

    def stop(self) -> dict[str, float]:
        self._timer.stop()
        s = sorted(self.samples) or [0.0]
        return {
            "max_ms": round(s[-1], 2),
            "p99_ms": round(s[int(0.99 * (len(s) - 1))], 2),
            "median_ms": round(statistics.median(s), 3),
            "ticks": len(self.samples),
        }


class PaintWatch(QObject):
    """Time of the first paint of a widget after ``arm()``."""

    def __init__(self) -> None:
        super().__init__()
        self.painted_at: float | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.painted_at is None:
            self.painted_at = time.perf_counter()
        return False


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "median_ms": round(statistics.median(values), 2),
        "max_ms": round(max(values), 2),
        "min_ms": round(min(values), 2),
        "runs": len(values),
    }


async def until(predicate, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step timed out")
        await asyncio.sleep(0.001)


async def idle(seconds: float) -> dict[str, float]:
    lateness = Lateness()
    lateness.start()
    await asyncio.sleep(seconds)
    return lateness.stop()


async def drop_runs(chat: Any, window: Any, photo: Path, runs: int) -> dict[str, Any]:
    att = chat.images.attachments
    set_ms, painted_ms, ready_ms, stalls = [], [], [], []
    for _ in range(runs):
        att.clear()
        await asyncio.sleep(0.2)
        shown: list[float] = []
        watch = PaintWatch()
        key_holder: list[int] = []

        def on_thumb(key: int, shown=shown, watch=watch, key_holder=key_holder) -> None:
            shown.append(time.perf_counter())
            chip = att.strip.chip(key)
            chip.thumb.installEventFilter(watch)
            key_holder.append(key)

        att.thumbnailShown.connect(on_thumb)
        lateness = Lateness()
        lateness.start()
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        drop_on(window.composer, file_mime(photo))
        await until(lambda shown=shown, watch=watch: shown and watch.painted_at is not None)
        await until(lambda: att.entries() and not att.is_preparing())
        done = time.perf_counter()
        stalls.append(lateness.stop())
        att.thumbnailShown.disconnect(on_thumb)
        set_ms.append((shown[0] - started) * 1000)
        painted_ms.append((watch.painted_at - started) * 1000)
        ready_ms.append((done - started) * 1000)
    att.clear()
    return {
        "thumbnail_set": summary(set_ms),
        "thumbnail_painted": summary(painted_ms),
        "prepared": summary(ready_ms),
        "max_timer_lateness_ms": summary([s["max_ms"] for s in stalls]),
        "p99_timer_lateness_ms": summary([s["p99_ms"] for s in stalls]),
    }


async def partial_runs(chat: Any, window: Any, runs: int) -> dict[str, Any]:
    images = chat.images
    images.toolbar.set_create_mode(True)
    images.toolbar.size.setCurrentText("1024x1024")
    latencies: list[float] = []
    stalls = []
    images.previewPainted.connect(lambda _mid, _index, ms: latencies.append(ms))
    for i in range(runs):
        lateness = Lateness()
        lateness.start()
        finished: list[str] = []
        images.generationFinished.connect(lambda _mid, status, finished=finished: finished.append(status))
        window.composer.set_text(f"a lighthouse, take {i}")
        chat.send(window.composer.text())
        await until(lambda finished=finished: finished)
        stalls.append(lateness.stop())
        assert finished == ["complete"], finished
    return {
        "partials_painted": len(latencies),
        "arrival_to_paint": summary(latencies),
        "max_timer_lateness_ms": summary([s["max_ms"] for s in stalls]),
        "p99_timer_lateness_ms": summary([s["p99_ms"] for s in stalls]),
    }


async def measure(chat: Any, window: Any, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-image-ui-") as tmp:
        photo = Path(tmp) / "camera-24mp.jpg"
        photo.write_bytes(F.jpeg_bytes(F.photo(6000, 4000, seed=24), exif=F.private_exif(6), quality=92))
        await asyncio.sleep(0.5)
        report: dict[str, Any] = {"platform": QApplication.platformName(), "idle": await idle(2.0)}
        report["drop_24mp_jpeg"] = {"jpeg_bytes": photo.stat().st_size, **await drop_runs(chat, window, photo, runs)}
        report["partial_images_1024"] = await partial_runs(chat, window, runs)
        report["idle_after"] = await idle(2.0)
    return report


_SERVER = """
import sys, threading
from tests.support.fake_openai import FakeOpenAI
srv = FakeOpenAI(api_key="sk-bench")
srv.image_partial_delay = 0.15
srv.start()
print("READY", srv.base_url, flush=True)
sys.stdin.read()
srv.stop()
"""


def run(loop: asyncio.AbstractEventLoop, runs: int) -> dict[str, Any]:
    from assistant_app.core.context import AppContext
    from assistant_app.core.secrets import SecretStore
    from assistant_app.ui.chat_controller import ChatController
    from assistant_app.ui.main_window import MainWindow

    server, base_url = serve_in_subprocess(_SERVER)
    os.environ["OPENAI_BASE_URL"] = base_url
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    ctx = AppContext.create(secrets=SecretStore(backend=MemoryKeyring()), log=False)
    window = MainWindow()
    chat = ChatController(ctx, window)
    window.resize(1200, 800)
    chat.new_conversation()
    window.show()
    try:
        return loop.run_until_complete(measure(chat, window, runs))
    finally:
        window.close()
        loop.run_until_complete(chat.images.wait())
        loop.run_until_complete(ctx.aclose())
        ctx.close()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    hooks = (getattr(loop, "_asyncgen_firstiter_hook", None), getattr(loop, "_asyncgen_finalizer_hook", None))
    if None not in hooks:
        sys.set_asyncgen_hooks(firstiter=hooks[0], finalizer=hooks[1])
    with loop:
        result = run(loop, args.runs)
        loop.run_until_complete(loop.shutdown_asyncgens())
    print(json.dumps({"bench": "image_ui", **result}, indent=2))
