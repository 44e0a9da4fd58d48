"""Benchmark: the whole pipeline of a long streamed reply, from the loopback server into the real window.

``bench_stream_render.py`` feeds tokens straight into the transcript; this one sends a prompt from the
real main window through the ChatController, the chat engine, the HTTP client and SSE decoder, to a
loopback server in its own process (so its Python work does not compete for this process's GIL)
streaming a ~20,000-token Markdown reply at 2,000 tokens/s. The reply is saved while it streams, as in
the app. Figures (same-run baseline: the idle window's timer lateness):

* ``timer_lateness_ms_while_streaming``: how late a 1 ms precise timer fires from the first delta to
  the last (stalls); ``timer_lateness_ms_finishing``: the same for the second after it (the reply is
  saved, its costs shown, the exact final render applied);
* ``arrival_to_screen_ms``: per delta, from the controller handing it to the view to the end of the
  next window repaint that shows it;
* ``cpu_us_per_token``: this process's CPU time per token over the first and the last 1,000 tokens
  (everything: decoding, saving, rendering);
* ``tokens_per_s``: the rate the reply really arrived at.

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_stream_app.py [--tokens N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ["ASSISTANT_APP_HOME"] = tempfile.mkdtemp(prefix="bench-stream-app-")

import qasync  # noqa: E402
from _loopback import serve_in_subprocess  # noqa: E402
from bench_stream_render import LatenessProbe, make_reply, summarize  # noqa: E402
from PySide6.QtCore import QEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

KEY = "sk-bench-stream-app"

_SERVER = """
import sys
from tests.support.fake_openai import FakeOpenAI
srv = FakeOpenAI(api_key=sys.argv[1], tokens_per_second=float(sys.argv[2]))
srv.clock_pacing = True  # reach the rate: events due together go out together, as over a real network
srv.chat_reply = open(sys.argv[3], encoding="utf-8").read()
srv.start()
print("READY", srv.base_url, flush=True)
sys.stdin.read()
srv.stop()
"""


async def measure(app: QApplication, tokens: int, rate: float) -> dict:
    from assistant_app.core.context import AppContext
    from assistant_app.core.secrets import SecretStore
    from assistant_app.ui.chat_controller import ChatController
    from assistant_app.ui.main_window import MainWindow
    from tests.support.memory_keyring import MemoryKeyring

    class TimedWindow(MainWindow):
        """The main window, timestamping the end of each repaint (UpdateRequest flushes the backing store)."""

        def __init__(self) -> None:
            super().__init__()
            self.listeners: list = []

        def event(self, event: QEvent) -> bool:
            if event.type() == QEvent.Type.UpdateRequest:
                handled = super().event(event)
                end = time.perf_counter()
                for listener in self.listeners:
                    listener(end)
                return handled
            return super().event(event)

    ctx = AppContext.create(secrets=SecretStore(backend=MemoryKeyring()), log=False)
    window = TimedWindow()
    chat = ChatController(ctx, window)
    chat.images  # noqa: B018  (app.py builds the image controls once the window is shown)
    window.resize(1100, 760)
    chat.new_conversation()
    window.show()

    # As the running app is by the time the user sends: the model list fetched (the HTTP stack loaded,
    # the connection open), the Markdown renderer warmed, the message widgets loaded, a sample reply
    # drawn off screen (app._warm_up_in_background does all of it in the first second after start-up).
    from assistant_app.api.models import list_models
    from assistant_app.ui.markdown import warm_up
    from assistant_app.ui.message_view import preload

    await list_models(ctx.client())
    warm_up()
    preload()
    window.messages.warm_up()
    idle = LatenessProbe()
    idle.start()
    await asyncio.sleep(2.0)
    idle.stop()

    view = window.messages
    arrivals: list[float] = []  # perf_counter of each delta handed to the view
    cpu_at: list[float] = []  # process CPU time then
    painted_upto = 0
    lags: list[float] = []
    original_append = view.append_stream_text

    def timed_append(message_id: int, delta: str) -> None:
        arrivals.append(time.perf_counter())
        cpu_at.append(time.process_time())
        original_append(message_id, delta)

    view.append_stream_text = timed_append
    rendered = [0]  # deltas covered by the last coalesced render
    view.streamRendered.connect(lambda _mid: rendered.__setitem__(0, len(arrivals)))

    def on_paint(end: float) -> None:
        nonlocal painted_upto
        upto = rendered[0]
        for i in range(painted_upto, upto):
            lags.append((end - arrivals[i]) * 1000.0)
        painted_upto = max(painted_upto, upto)

    window.listeners.append(on_paint)
    done = asyncio.get_running_loop().create_future()
    chat.replyFinished.connect(lambda mid, status: done.done() or done.set_result(status))
    probe = LatenessProbe()
    ticks: list[float] = []  # when each probe tick came, to split the stalls into streaming / finishing
    original_tick = probe._tick

    def tick() -> None:
        ticks.append(time.perf_counter())
        original_tick()

    probe._timer.timeout.disconnect()
    probe._timer.timeout.connect(tick)
    window.composer.set_text("Write a long technical answer with code, lists and tables.")
    probe.start()
    chat.send(window.composer.text())
    status = await asyncio.wait_for(done, 120)
    await asyncio.sleep(1.0)  # the exact final render and the last repaints
    probe.stop()
    first, last = arrivals[0], arrivals[-1]
    streaming = [g for t, g in zip(ticks, probe.gaps, strict=False) if first <= t <= last]
    finishing = [g for t, g in zip(ticks, probe.gaps, strict=False) if t > last]
    window.listeners.clear()
    n = len(arrivals)
    k = min(1000, n // 2)

    def cpu_per_token(lo: int, hi: int) -> float:
        return (cpu_at[hi - 1] - cpu_at[lo]) / max(1, hi - 1 - lo) * 1e6

    result = {
        "status": status,
        "tokens": n,
        "tokens_per_s": round((n - 1) / (arrivals[-1] - arrivals[0]), 1) if n > 1 else None,
        "idle_timer_lateness_ms": idle.stats(),
        "timer_lateness_ms_while_streaming": summarize(streaming),
        "timer_lateness_ms_finishing": summarize(finishing),
        "arrival_to_screen_ms": summarize(lags),
        "cpu_us_per_token": {
            "first_1000": round(cpu_per_token(0, k), 1),
            "last_1000": round(cpu_per_token(n - k, n), 1),
        },
    }
    window.close()
    await ctx.aclose()
    ctx.close()
    return result


def reply_of(tokens: int) -> str:
    """The Markdown reply of bench_stream_render.py, long enough to be ``tokens`` server tokens."""
    from tests.support.fake_content import split_tokens

    size = tokens
    while True:
        text = "".join(make_reply(size))
        pieces = split_tokens(text)
        if len(pieces) >= tokens:
            return "".join(pieces[:tokens])
        size = int(size * 1.3) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2_000.0, help="tokens per second from the server")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        reply_file = Path(tmp) / "reply.md"
        reply_file.write_text(reply_of(args.tokens), encoding="utf-8")
        server, base_url = serve_in_subprocess(_SERVER, KEY, str(args.rate), str(reply_file))
        os.environ["OPENAI_BASE_URL"] = base_url
        os.environ["OPENAI_API_KEY"] = KEY
        try:
            app = QApplication.instance() or QApplication(sys.argv[:1])
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                result = loop.run_until_complete(measure(app, args.tokens, args.rate))
        finally:
            server.terminate()
            server.wait(10)
    result["rate_requested"] = args.rate
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
