"""Benchmark: stream a ~20,000-token Markdown reply into a MessageView at 2,000 tokens/s.

Prints JSON (no pass/fail). Figures:

* ``baseline``: lateness of a 1 ms precise QTimer on a bare shown window (no streaming).
* ``streaming.timer_lateness_ms``: the same probe while the reply streams into a shown MessageView.
* ``streaming.arrival_to_screen_ms``: per delta, from ``append_stream_text`` to the end of the next
  window repaint (``UpdateRequest``) after the coalescing timer rendered it.
* ``streaming.render_cpu_us_per_token``: CPU time inside the coalescing render callback, attributed to
  the tokens each callback rendered, for the first and the last 1,000 tokens (flat = no growth).
* ``streaming.paint_ms``: wall time of the window repaints early vs late in the reply.
* ``finish_stream_ms``: the one exact final render; ``history_first_paint_ms``: set_messages(5,000 items)
  until the first repaint finishes.

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_stream_render.py [--tokens N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from assistant_app.ui.message_view import MessageItem, MessageView

WINDOW_SIZE = (900, 800)
VOCABULARY = (
    "the model streams tokens into a widget that renders markdown blocks once and keeps them while the tail "
    "stays plain text until a blank line arrives outside any fenced code block so cost per token stays flat"
)


# ------------------------------------------------------------------------------------------ content
def make_reply(n_tokens: int, seed: int = 7) -> list[str]:
    """A Markdown reply (prose, headings, lists, tables, code) cut into ~4-character tokens."""
    rng = random.Random(seed)
    words = re.findall(r"\w+", VOCABULARY)
    parts: list[str] = []

    def sentence() -> str:
        chosen = [rng.choice(words) for _ in range(rng.randint(8, 18))]
        if rng.random() < 0.3:
            chosen[rng.randrange(len(chosen))] = f"`{rng.choice(words)}()`"
        if rng.random() < 0.3:
            chosen[rng.randrange(len(chosen))] = f"**{rng.choice(words)}**"
        return " ".join(chosen).capitalize() + "."

    section = 0
    total = 0
    while total < n_tokens * 4.2:
        section += 1
        block_kind = section % 6
        if block_kind == 0:
            text = f"## Section {section}\n\n"
        elif block_kind in (1, 4):
            text = " ".join(sentence() for _ in range(rng.randint(2, 5))) + "\n\n"
        elif block_kind == 2:
            text = "".join(f"- {sentence()}\n" for _ in range(rng.randint(3, 6))) + "\n"
        elif block_kind == 3:
            lines = [f"def function_{section}(value: int) -> int:", '    """Docstring."""']
            for i in range(rng.randint(8, 30)):
                lines.append(f"    value = value * {i} + len('{rng.choice(words)}')  # step {i}")
            lines.append("    return value")
            text = "```python\n" + "\n".join(lines) + "\n```\n\n"
        else:
            rows = "".join(f"| {rng.choice(words)} | {rng.randint(1, 999)} | {rng.choice(words)} |\n" for _ in range(5))
            text = "| name | value | note |\n|:--|--:|---|\n" + rows + "\n"
        parts.append(text)
        total += len(text)
    full = "".join(parts)
    tokens = re.findall(r"\s*\S{1,4}|\s+", full)
    return tokens[:n_tokens]


# ------------------------------------------------------------------------------------------ probes
class LatenessProbe(QObject):
    """A 1 ms precise timer; lateness = (gap between ticks) - 1 ms."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(max(0.0, (now - self._last) * 1000.0 - 1.0))
        self._last = now

    def stats(self) -> dict[str, float]:
        return summarize(self.gaps)


def summarize(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100.0 * len(ordered)))]

    return {
        "n": len(values),
        "mean": round(statistics.fmean(values), 3),
        "p50": round(pct(50), 3),
        "p99": round(pct(99), 3),
        "max": round(ordered[-1], 3),
    }


class PaintClock(QWidget):
    """Top-level window that timestamps the end of each repaint (UpdateRequest flushes the backing store)."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: list = []

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.UpdateRequest:
            start = time.perf_counter()
            handled = super().event(event)
            end = time.perf_counter()
            for listener in self.listeners:
                listener(start, end)
            return handled
        return super().event(event)


def run_for(app: QApplication, seconds: float) -> None:
    stop = QTimer()
    stop.setSingleShot(True)
    stop.timeout.connect(app.quit)
    stop.start(int(seconds * 1000))
    app.exec()


def wait_until(app: QApplication, predicate, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate() and time.perf_counter() < deadline:
        app.processEvents()


# ------------------------------------------------------------------------------------------ phases
def baseline(app: QApplication, seconds: float) -> dict:
    window = QWidget()
    window.resize(*WINDOW_SIZE)
    window.show()
    probe = LatenessProbe()
    probe.start()
    run_for(app, seconds)
    probe.stop()
    window.close()
    return probe.stats()


def streaming(app: QApplication, tokens: list[str], rate: float) -> dict:
    window = PaintClock()
    window.resize(*WINDOW_SIZE)
    layout = QVBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    view = MessageView()
    layout.addWidget(view)
    window.show()
    view.set_messages([MessageItem(1, "user", "Write a long technical answer with code, lists and tables.")])
    wait_until(app, lambda: view.loaded_count() == 1)
    view.begin_stream(MessageItem(2, "assistant", "", status="streaming"))

    append_times: list[float] = [0.0] * len(tokens)
    sent = 0
    rendered_upto = 0  # tokens covered by completed render callbacks
    painted_upto = 0  # tokens whose render has reached the screen
    flushes: list[tuple[int, int, float, float]] = []  # (first token, end token, cpu s, wall s)
    lags_ms: list[float] = [0.0] * len(tokens)
    paints: list[tuple[int, float]] = []  # (tokens rendered so far, paint wall ms)

    original_flush = view.flush_pending

    def timed_flush() -> None:
        nonlocal rendered_upto
        first = rendered_upto
        end = sent
        cpu0 = time.thread_time()
        wall0 = time.perf_counter()
        original_flush()
        flushes.append((first, end, time.thread_time() - cpu0, time.perf_counter() - wall0))
        rendered_upto = end

    view.flush_pending = timed_flush  # the coalescing timer calls view.flush_pending()

    def on_paint(start: float, end: float) -> None:
        nonlocal painted_upto
        paints.append((rendered_upto, (end - start) * 1000.0))
        for i in range(painted_upto, rendered_upto):
            lags_ms[i] = (end - append_times[i]) * 1000.0
        painted_upto = rendered_upto

    window.listeners.append(on_paint)

    start_time = 0.0
    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(2)

    def feed() -> None:
        nonlocal sent
        due = min(len(tokens), int((time.perf_counter() - start_time) * rate) + 1)
        while sent < due:
            append_times[sent] = time.perf_counter()
            view.append_stream_text(2, tokens[sent])
            sent += 1
        if sent >= len(tokens):
            feeder.stop()
            QTimer.singleShot(300, app.quit)  # let the last render reach the screen

    feeder.timeout.connect(feed)
    probe = LatenessProbe()
    start_time = time.perf_counter()
    probe.start()
    feeder.start()
    app.exec()
    probe.stop()
    stream_seconds = time.perf_counter() - start_time

    def cpu_per_token(lo: int, hi: int) -> float:
        total = 0.0
        for first, end, cpu, _wall in flushes:
            overlap = max(0, min(end, hi) - max(first, lo))
            if overlap and end > first:
                total += cpu * overlap / (end - first)
        return total / max(1, hi - lo) * 1e6

    n = len(tokens)
    window_tokens = min(1000, n // 2)
    full_text = "".join(tokens)
    row = view.row(2)
    t0 = time.perf_counter()
    view.finish_stream(MessageItem(2, "assistant", full_text, meta="bench"))
    finish_ms = (time.perf_counter() - t0) * 1000.0
    painted = [lag for lag in lags_ms[:painted_upto] if lag > 0]
    early = [ms for upto, ms in paints if upto <= window_tokens]
    late = [ms for upto, ms in paints if upto >= n - window_tokens]
    result = {
        "tokens": n,
        "chars": len(full_text),
        "rate_tokens_per_s": rate,
        "seconds": round(stream_seconds, 2),
        "render_callbacks": len(flushes),
        "blocks_created": row.blocks_created if row is not None else None,
        "timer_lateness_ms": probe.stats(),
        "arrival_to_screen_ms": summarize(painted),
        "tokens_painted": painted_upto,
        "render_cpu_us_per_token": {
            "first_1000": round(cpu_per_token(0, window_tokens), 2),
            "last_1000": round(cpu_per_token(n - window_tokens, n), 2),
            "whole_reply": round(cpu_per_token(0, n), 2),
        },
        "render_callback_wall_ms": summarize([wall * 1000.0 for *_x, wall in flushes]),
        "paint_ms": {"first_1000_tokens": summarize(early), "last_1000_tokens": summarize(late)},
        "finish_stream_ms": round(finish_ms, 2),
    }
    window.close()
    return result


def history(app: QApplication, count: int) -> dict:
    window = PaintClock()
    window.resize(*WINDOW_SIZE)
    layout = QVBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    view = MessageView()
    layout.addWidget(view)
    window.show()
    wait_until(app, lambda: window.isVisible())
    items = [
        MessageItem(
            i,
            "user" if i % 2 == 0 else "assistant",
            f"Question {i}?"
            if i % 2 == 0
            else f"Answer {i} with **bold** and `code`.\n\n- one\n- two\n\n```python\nprint({i})\n```\n",
            meta="model · 10 tok/s",
        )
        for i in range(count)
    ]
    painted: list[float] = []
    window.listeners.append(lambda _s, end: painted.append(end))
    t0 = time.perf_counter()
    view.set_messages(items)
    build_ms = (time.perf_counter() - t0) * 1000.0
    wait_until(app, lambda: bool(painted))
    first_paint_ms = (painted[0] - t0) * 1000.0 if painted else None
    result = {
        "messages": count,
        "set_messages_ms": round(build_ms, 1),
        "first_paint_ms": round(first_paint_ms, 1) if first_paint_ms is not None else None,
        "widgets_created": view.loaded_count(),
    }
    window.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2_000.0, help="tokens per second")
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tokens = make_reply(args.tokens)
    # Warm-up: import Pygments lexers and polish styles once, outside the measured runs.
    warm = MessageView()
    warm.set_messages([MessageItem(1, "assistant", "x\n\n```python\nx = 1\n```\n\n| a |\n|---|\n| 1 |")])
    warm.show()
    app.processEvents()
    warm.close()

    report = {
        "platform": QApplication.platformName(),
        "baseline_timer_lateness_ms": baseline(app, args.baseline_seconds),
        "streaming": streaming(app, tokens, args.rate),
        "history": history(app, 5000),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
