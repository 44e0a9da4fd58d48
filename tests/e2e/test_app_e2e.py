"""The real app process, in a real X window, against the loopback server: type, send, read, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import REPO, fake_server, have, main_window, query, wait_until, xdotool, xvfb

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not have("Xvfb", "xdotool", "import"), reason="needs Xvfb, xdotool and ImageMagick"),
]

ARTIFACTS = Path(os.environ.get("ASSISTANT_APP_ARTIFACTS", REPO / "artifacts"))


def _app_env(home: Path, base_url: str, display: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        ASSISTANT_APP_HOME=str(home),
        OPENAI_API_KEY="sk-e2e-test-key-not-real-0000",
        OPENAI_BASE_URL=base_url,
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        PYTHONFAULTHANDLER="1",  # a hung start shows every thread's stack (see harness.main_window)
    )
    return env


def test_type_prompt_get_streamed_reply_and_export(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = home / "data" / "assistant.sqlite3"
    prompt = "How do I count the most common words in a file with Python?"
    reply_file = Path(__file__).parent / "data" / "reply.md"
    with (
        fake_server("--api-key", "sk-e2e-test-key-not-real-0000", "--reply-file", str(reply_file),
                    "--tokens-per-second", "300") as base_url,
        xvfb() as display,
    ):
        env = _app_env(home, base_url, display)
        app = subprocess.Popen([sys.executable, "-m", "assistant_app"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wid = main_window(display, app=app)
            xdotool("windowmove", wid, "0", "0", display=display)
            xdotool("windowsize", wid, "1200", "780", display=display)
            xdotool("windowfocus", "--sync", wid, display=display)
            xdotool("type", "--delay", "5", prompt, display=display)
            xdotool("key", "Return", display=display)
            rows = wait_until(
                lambda: query(db, "SELECT id, content FROM messages WHERE role='assistant' AND status='complete'"),
                timeout=60, what="a complete assistant reply in the database",
            )
            reply_id, reply = rows[0]
            log_file = home / "logs" / "assistant-app.log"
            wait_until(
                lambda: log_file.exists() and f"reply {reply_id} shown with status complete" in log_file.read_text(),
                timeout=30, what="the window to show the finished reply",
            )
            assert reply == reply_file.read_text(), "the streamed reply arrived whole"
            # The window has rendered the reply: take the screenshot the README shows.
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "e2e-chat.png"
            subprocess.run(["import", "-display", display, "-window", "root", str(shot)], check=True, timeout=30)
            assert shot.stat().st_size > 10_000
            xdotool("key", "ctrl+q", display=display)
            app.wait(30)
        finally:
            if app.poll() is None:
                app.terminate()
                app.wait(10)
        output = app.stdout.read() if app.stdout else ""
        assert app.returncode == 0, output

    users = query(db, "SELECT content FROM messages WHERE role='user'")
    assert [u[0] for u in users] == [prompt]
    export = subprocess.run([sys.executable, "-m", "assistant_app", "export", "--format", "json"],
                            env={**env, "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True, timeout=60)
    assert export.returncode == 0, export.stderr
    data = json.loads(export.stdout)
    text = json.dumps(data)
    assert prompt in text
    assert json.dumps(reply)[1:-1][:80] in text
    md = subprocess.run([sys.executable, "-m", "assistant_app", "export"], env=env, capture_output=True, text=True,
                        timeout=60)
    assert prompt in md.stdout and "```" in md.stdout
