"""The window comes first: nothing heavy loads before it is on screen (bench_startup.py has the figures)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import REPO

# Loaded only once the window is shown (asyncio and qasync alone take 0.04 s; httpx, keyring, numpy,
# Pillow, Markdown and Pygments more).
LATER = ("asyncio", "qasync", "httpx", "keyring", "numpy", "PIL", "markdown_it", "pygments", "sounddevice")


def _app_env(tmp_path: Path) -> dict[str, str]:
    """The app started offscreen, exiting once its window is shown, with a key and no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        ASSISTANT_APP_HOME=str(tmp_path / "home"),
        ASSISTANT_APP_EXIT_AFTER_SHOWN="1",
        QT_QPA_PLATFORM="offscreen",
        OPENAI_API_KEY="sk-startup-test",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PYTHONPATH=str(REPO),
    )
    return env


def test_window_is_shown_before_the_event_loop_and_engine_load(tmp_path: Path) -> None:
    env = _app_env(tmp_path)
    # -X importtime writes a line per module to stderr as it loads, SHOWN goes to stdout: on one pipe,
    # the lines before SHOWN are the modules loaded before the window was on screen.
    both = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant_app"], env=env, cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)  # fmt: skip
    assert both.returncode == 0, both.stdout
    assert re.search(r"^SHOWN \d+\.\d+$", both.stdout, re.M), both.stdout
    before = both.stdout.split("SHOWN", 1)[0]
    loaded_before = {line.rsplit("|", 1)[1].strip() for line in before.splitlines() if line.count("|") == 2}
    assert "assistant_app.ui.main_window" in loaded_before  # the parsing works
    assert not loaded_before & set(LATER), sorted(loaded_before & set(LATER))
    after = both.stdout.split("SHOWN", 1)[1]
    assert re.search(r"\|\s+asyncio$", after, re.M), "the event loop loads after the window is shown"


# Runs the app with its "shown" report wrapped to also say whether PySide6 had built its ``Qt``
# namespace by then (18-20 ms of enums the first frame does not need: see ui/qt_values.py).
# Building the namespace creates all its enum classes (Qt.AlignmentFlag, ...): look for any of them.
_REPORT_QT_NAMESPACE = """
import enum, gc, sys
import assistant_app.app as app
report_shown = app._report_shown_and_close
def report(window):
    built = any(isinstance(o, enum.EnumType) and o.__qualname__.startswith("Qt.") for o in gc.get_objects())
    print("QT_NAMESPACE_BUILT", built, flush=True)
    report_shown(window)
app._report_shown_and_close = report
from assistant_app.cli import main
sys.exit(main([]))
"""


def test_first_frame_does_not_build_the_qt_enum_namespace(tmp_path: Path) -> None:
    env = _app_env(tmp_path)
    seed = (
        "from assistant_app.core.paths import app_paths; from assistant_app.core.store import Store\n"
        "s = Store(app_paths().ensure().database)\n"
        "for i in range(120): s.create_conversation(title=f'A long conversation title number {i} ' * 3)\n"
        "s.close()\n"
    )
    subprocess.run([sys.executable, "-c", seed], env=env, check=True, timeout=60)
    run = subprocess.run([sys.executable, "-c", _REPORT_QT_NAMESPACE], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stdout
    assert "QT_NAMESPACE_BUILT False" in run.stdout, run.stdout


def _loaded_before_shown(env: dict[str, str], cwd: Path) -> set[str]:
    both = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant_app"], env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)  # fmt: skip
    assert both.returncode == 0, both.stdout
    before = both.stdout.split("SHOWN", 1)[0]
    return {line.rsplit("|", 1)[1].strip() for line in before.splitlines() if line.count("|") == 2}


def test_a_later_start_shows_the_snapshot_titles_without_loading_sqlite(tmp_path: Path) -> None:
    env = _app_env(tmp_path)
    seed = (
        "import sys\nfrom assistant_app.core.store import Store\n"
        "with Store(sys.argv[1]) as store: store.create_conversation(title='One')\n"
    )
    database = tmp_path / "home" / "data" / "assistant.sqlite3"
    subprocess.run([sys.executable, "-c", seed, str(database)], env=env, check=True, timeout=60)
    assert "sqlite3" in _loaded_before_shown(env, tmp_path)  # no snapshot yet: the database is read
    snapshot = database.with_name("first-screen.json")
    assert snapshot.exists(), "the app writes it as it quits"
    assert "sqlite3" not in _loaded_before_shown(env, tmp_path)
