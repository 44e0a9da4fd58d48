"""Cold start and long-history figures for the chat window, each against a baseline run alongside.

1. Start to window shown and interactive, with 1,000 conversations stored, divided by the same
   figure for a bare PySide6 window (target <= 1.3). Two more baselines put it in context: a bare
   window that also runs a qasync loop, and the same kinds of widgets holding the same 1,000 titles
   with no app code at all (the floor for a window like this one in Python and Qt).
2. Opening a 5,000-message conversation: time to first paint (target <= 300 ms) and resident
   memory above a bare window (target <= 150 MB).

Prints one JSON object. Run: python bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BARE_WINDOW = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    app = QApplication(sys.argv)
    w = QMainWindow(); w.setCentralWidget(QLabel("bare window")); w.resize(1100, 760); w.show()
    def done():
        print("SHOWN", flush=True); w.close(); app.quit()
    QTimer.singleShot(0, done)
    app.exec()
    """
)

BARE_QASYNC_WINDOW = textwrap.dedent(
    """
    import asyncio, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    import qasync
    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app); asyncio.set_event_loop(loop)
    async def main():
        w = QMainWindow(); w.setCentralWidget(QLabel("bare window")); w.resize(1100, 760); w.show()
        done = loop.create_future(); QTimer.singleShot(0, lambda: done.set_result(None)); await done
        print("SHOWN", flush=True); w.close()
    with loop:
        loop.run_until_complete(main())
    """
)

# The floor for this window: the same kinds of widgets (sidebar list holding the 1,000 stored titles
# read straight from SQLite, header, transcript scroll area, composer, buttons) with no app code at all.
SAME_WIDGETS_NO_APP_CODE = textwrap.dedent(
    """
    import os, sqlite3, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import (QApplication, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
        QMainWindow, QPlainTextEdit, QPushButton, QScrollArea, QSplitter, QToolButton, QVBoxLayout, QWidget)
    app = QApplication(sys.argv)
    db = sqlite3.connect(os.path.join(os.environ["ASSISTANT_APP_HOME"], "data", "assistant.sqlite3"))
    titles = [r[0] for r in db.execute("SELECT title FROM conversations ORDER BY updated_at DESC")]
    w = QMainWindow(); split = QSplitter(parent=w)  # a positional parent would build the Qt enum namespace (18 ms)
    side = QWidget(split); sl = QVBoxLayout(side); sl.addWidget(QPushButton("+ New chat", side))
    sl.addWidget(QLineEdit(side)); lst = QListWidget(side); lst.setWordWrap(True); lst.addItems(titles)
    sl.addWidget(lst)
    main = QWidget(split); ml = QVBoxLayout(main); hdr = QHBoxLayout(); hdr.addWidget(QLabel("New chat", main))
    hdr.addStretch(1); cb = QComboBox(main); cb.setEditable(True); cb.addItem("gpt-4o-mini"); hdr.addWidget(cb)
    hdr.addWidget(QToolButton(main)); ml.addLayout(hdr)
    sa = QScrollArea(main); sa.setWidgetResizable(True); inner = QWidget(); il = QVBoxLayout(inner)
    il.addWidget(QLabel("Ask anything.", inner)); sa.setWidget(inner); ml.addWidget(sa, 1)
    comp = QHBoxLayout(); comp.addWidget(QPlainTextEdit(main)); bl = QVBoxLayout()
    bl.addWidget(QPushButton("Send", main)); bl.addWidget(QPushButton("Stop", main)); comp.addLayout(bl)
    ml.addLayout(comp)
    w.setCentralWidget(split); w.resize(1100, 760); w.show()
    def done():
        print("SHOWN", flush=True); w.close(); app.quit()
    QTimer.singleShot(0, done)
    app.exec()
    """
)

OPEN_LONG = textwrap.dedent(
    """
    import json, os, resource, sys, time
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv)
    mode = sys.argv[1]
    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    if mode == "bare":
        from PySide6.QtWidgets import QLabel, QMainWindow
        w = QMainWindow(); w.setCentralWidget(QLabel("bare")); w.resize(1100, 760); w.show()
        app.processEvents()
        print(json.dumps({"rss_mb": rss_mb()})); sys.exit(0)
    from assistant_app.core.context import AppContext
    from assistant_app.core.secrets import SecretStore
    from keyring.backends.null import Keyring
    from assistant_app.ui.chat_controller import ChatController
    from assistant_app.ui.main_window import MainWindow
    ctx = AppContext.create(secrets=SecretStore(backend=Keyring()), log=False)
    w = MainWindow(); chat = ChatController(ctx, w); w.resize(1100, 760); w.show(); app.processEvents()
    from assistant_app.ui.markdown import warm_up
    from assistant_app.ui.message_view import preload
    warm_up()  # as the running app does on a worker thread after start-up: measure the open, not first imports
    preload()  # and as it does on the GUI thread once idle
    w.messages.warm_up()  # and a moment later
    before = rss_mb()
    painted = []
    class Spy(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint and not painted:
                painted.append(time.perf_counter())
            return False
    spy = Spy(); w.messages.scroll_area().widget().installEventFilter(spy)  # the transcript (it covers the viewport)
    cid = int(sys.argv[2])
    t0 = time.perf_counter()
    chat.open_conversation(cid)
    while not painted and time.perf_counter() - t0 < 10:
        app.processEvents()
    print(json.dumps({"first_paint_ms": (painted[0] - t0) * 1000, "rss_mb": rss_mb(), "rss_before_mb": before,
                      "rows_created": w.messages.loaded_count()}))
    """
)


def seed(home: Path, conversations: int, long_messages: int) -> int:
    os.environ["ASSISTANT_APP_HOME"] = str(home)
    from assistant_app.core.paths import app_paths
    from assistant_app.core.store import Store

    paths = app_paths().ensure()
    store = Store(paths.database)
    body = "Here is an answer with some `code` and a list:\n\n- one\n- two\n\n```python\nprint('hi')\n```\n"
    for i in range(conversations):
        conv = store.create_conversation(title=f"Conversation {i}: planning notes")
        store.add_messages(
            conv.id, [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": body}]
        )
    long_conv = store.create_conversation(title="A very long conversation")
    items = [
        {"role": "user" if j % 2 == 0 else "assistant", "content": f"message {j}\n\n{body}"}
        for j in range(long_messages)
    ]
    store.add_messages(long_conv.id, items)
    store.close()
    return long_conv.id


def time_to_shown(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SHOWN"):
            elapsed = time.perf_counter() - t0
            break
    else:
        raise RuntimeError(f"{cmd} never reported SHOWN")
    proc.wait(30)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    # An installed app runs from byte-compiled modules; make sure ours are (PYTHONDONTWRITEBYTECODE may be set).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "assistant_app")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        long_id = seed(home, 1000, 5000)
        env = {
            **os.environ,
            "ASSISTANT_APP_HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
            "ASSISTANT_APP_EXIT_AFTER_SHOWN": "1",
            "OPENAI_API_KEY": "sk-bench",
            "PYTHONPATH": str(REPO),
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        app_times, bare_times, qasync_times, floor_times = [], [], [], []
        for _ in range(args.runs):  # interleaved, so machine noise hits all alike
            bare_times.append(time_to_shown([sys.executable, "-c", BARE_WINDOW], env))
            qasync_times.append(time_to_shown([sys.executable, "-c", BARE_QASYNC_WINDOW], env))
            floor_times.append(time_to_shown([sys.executable, "-c", SAME_WIDGETS_NO_APP_CODE], env))
            app_times.append(time_to_shown([sys.executable, "-m", "assistant_app"], env))
        open_env = {k: v for k, v in env.items() if k != "ASSISTANT_APP_EXIT_AFTER_SHOWN"}
        opens, bare_rss = [], []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", OPEN_LONG, "open", str(long_id)],
                env=open_env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            opens.append(json.loads(out.stdout.strip().splitlines()[-1]))
            out = subprocess.run(
                [sys.executable, "-c", OPEN_LONG, "bare"],
                env=open_env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            bare_rss.append(json.loads(out.stdout.strip().splitlines()[-1])["rss_mb"])
    app_med, bare_med = statistics.median(app_times), statistics.median(bare_times)
    result = {
        "cold_start": {
            "conversations": 1000,
            "app_s_median": round(app_med, 3),
            "bare_window_s_median": round(bare_med, 3),
            "ratio": round(app_med / bare_med, 2),
            "target_ratio": 1.3,
            "bare_window_with_qasync_loop_s_median": round(statistics.median(qasync_times), 3),
            "ratio_to_bare_qasync_window": round(app_med / statistics.median(qasync_times), 2),
            "same_widgets_no_app_code_s_median": round(statistics.median(floor_times), 3),
            "same_widgets_no_app_code_ratio": round(statistics.median(floor_times) / bare_med, 2),
            "runs": args.runs,
        },
        "open_5000_messages": {
            "first_paint_ms_median": round(statistics.median(o["first_paint_ms"] for o in opens), 1),
            "target_ms": 300,
            "rss_above_bare_window_mb": round(
                statistics.median(o["rss_mb"] for o in opens) - statistics.median(bare_rss), 1
            ),
            "target_mb": 150,
            "rows_created": opens[0]["rows_created"],
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
