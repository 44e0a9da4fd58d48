"""`python -m assistant_app` as a real process against the loopback server: chat, continue, failures, export.

Each test gets its own ASSISTANT_APP_HOME; the key comes from OPENAI_API_KEY (the keyring is the
null backend), the server from OPENAI_BASE_URL.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant_app import __version__
from tests.support import fake_content, schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-cli-chat-test-1a2b3c4d5e6f"
WRONG_KEY = "sk-cli-wrong-9f8e7d6c5b4a"
DEFAULT_SYSTEM = "You are a helpful assistant."
DEFAULT_MODEL = "gpt-4o-mini"


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as server:  # default reply: "Echo: <last user text>"
        server.validate_requests = True
        yield server
        for rec in server.requests:
            schema.validate_recorded(rec)
            assert rec.json["stream_options"] == {"include_usage": True}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run_cli(home: Path, base_url: str | None, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_APP_"))}
    env.update(
        ASSISTANT_APP_HOME=str(home),
        OPENAI_API_KEY=key,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",  # the key comes from the environment
        PYTHONIOENCODING="utf-8",
    )
    if base_url is not None:
        env["OPENAI_BASE_URL"] = base_url
    return subprocess.run(
        [sys.executable, "-m", "assistant_app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def rows(home: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(home / "data" / "assistant.sqlite3")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def messages(home: Path, conversation_id: int = 1) -> list[tuple[str, str, str]]:
    return rows(
        home, "SELECT role, content, status FROM messages WHERE conversation_id = ? ORDER BY id", conversation_id
    )


def log_text(home: Path) -> str:
    logs = home / "logs"
    return (
        "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs.glob("*.log*")) if logs.exists() else ""
    )


def test_chat_streams_to_stdout_and_is_stored(srv: FakeOpenAI, home: Path) -> None:
    result = run_cli(home, srv.base_url, "chat", "Héllo wörld 🎉")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Héllo wörld 🎉\n"
    assert "conversation 1" in result.stderr
    rec = srv.last_request
    assert rec.headers["authorization"] == f"Bearer {KEY}"
    assert rec.json["model"] == DEFAULT_MODEL
    assert rec.json["messages"] == [
        {"role": "system", "content": DEFAULT_SYSTEM},
        {"role": "user", "content": "Héllo wörld 🎉"},
    ]
    assert messages(home) == [("user", "Héllo wörld 🎉", "complete"), ("assistant", "Echo: Héllo wörld 🎉", "complete")]
    assert rows(home, "SELECT title, model, system_prompt FROM conversations") == [
        ("Héllo wörld 🎉", DEFAULT_MODEL, DEFAULT_SYSTEM)
    ]
    usage = rows(home, "SELECT prompt_tokens, completion_tokens FROM messages WHERE role = 'assistant'")
    assert usage == [
        (fake_content.prompt_token_count(rec.json["messages"]), len(fake_content.split_tokens(result.stdout.strip())))
    ]
    assert KEY not in result.stdout + result.stderr + log_text(home)


def test_model_and_system_options_then_continue_the_conversation(srv: FakeOpenAI, home: Path) -> None:
    first = run_cli(home, srv.base_url, "chat", "one", "--model", "gpt-4o", "--system", "Answer in French.")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "Echo: one\n"
    assert srv.last_request.json["model"] == "gpt-4o"
    assert srv.last_request.json["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert rows(home, "SELECT model, system_prompt FROM conversations") == [("gpt-4o", "Answer in French.")]

    second = run_cli(home, srv.base_url, "chat", "two", "--conversation", "1")
    assert second.returncode == 0, second.stderr
    assert second.stdout == "Echo: two\n"
    sent = srv.last_request.json
    assert sent["model"] == "gpt-4o"  # the conversation's settings carry over
    assert sent["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "Echo: one"},
        {"role": "user", "content": "two"},
    ]
    assert rows(home, "SELECT COUNT(*) FROM conversations") == [(1,)]
    assert messages(home) == [
        ("user", "one", "complete"),
        ("assistant", "Echo: one", "complete"),
        ("user", "two", "complete"),
        ("assistant", "Echo: two", "complete"),
    ]
    # The second exchange hangs under the first: one linear branch.
    parents = rows(home, "SELECT id, parent_id FROM messages ORDER BY id")
    assert [p for _i, p in parents] == [None, 1, 2, 3]

    third = run_cli(home, srv.base_url, "chat", "three", "-c", "1", "-m", "gpt-4o-mini")
    assert third.returncode == 0, third.stderr
    assert srv.last_request.json["model"] == "gpt-4o-mini"
    assert rows(home, "SELECT model FROM conversations") == [("gpt-4o-mini",)]


def test_unknown_conversation(srv: FakeOpenAI, home: Path) -> None:
    result = run_cli(home, srv.base_url, "chat", "hi", "--conversation", "42")
    assert result.returncode == 2
    assert "no conversation 42" in result.stderr
    assert srv.requests == []


def test_truncated_reply_exits_non_zero_and_keeps_the_partial_text(srv: FakeOpenAI, home: Path) -> None:
    srv.chat_reply = "A reply that will be cut off somewhere in the middle."
    partial = "".join(fake_content.split_tokens(srv.chat_reply)[:2])
    srv.enqueue_fault(Fault.truncate(after=3))
    result = run_cli(home, srv.base_url, "chat", "tell me")
    assert result.returncode == 1
    assert result.stdout == partial + "\n"
    assert "ended the reply before it was finished" in result.stderr
    assert "incomplete" in result.stderr
    assert messages(home) == [("user", "tell me", "complete"), ("assistant", partial, "incomplete")]
    assert len(srv.requests) == 1


def test_wrong_key_fails_with_a_message_and_no_key(srv: FakeOpenAI, home: Path) -> None:
    result = run_cli(home, srv.base_url, "chat", "hi", key=WRONG_KEY)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "401" in result.stderr and "Settings" in result.stderr
    everything = result.stdout + result.stderr + log_text(home)
    assert WRONG_KEY not in everything and KEY not in everything
    assert log_text(home), "the failure should be logged"
    assert srv.last_request.headers["authorization"] == f"Bearer {WRONG_KEY}"
    assert len(srv.requests) == 1
    assert messages(home) == [("user", "hi", "complete"), ("assistant", "", "error")]


def test_retry_notice_on_stderr(srv: FakeOpenAI, home: Path) -> None:
    srv.enqueue_fault(Fault.rate_limited(retry_after=None, retry_after_ms=100))
    result = run_cli(home, srv.base_url, "chat", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: hi\n"
    assert "Retrying in 0.1 s (attempt 2 of 3)" in result.stderr
    assert "429" in result.stderr
    assert len(srv.requests) == 2


def test_server_down_is_a_clear_error(home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = home / "config"
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"max_retries": 0}), encoding="utf-8")  # no backoff waits
    result = run_cli(home, f"http://127.0.0.1:{port}/v1", "chat", "hi")
    assert result.returncode == 1
    assert "connection refused" in result.stderr and f"127.0.0.1:{port}" in result.stderr
    assert "Retrying" not in result.stderr
    assert messages(home) == [("user", "hi", "complete"), ("assistant", "", "error")]


def test_export_json_and_markdown(srv: FakeOpenAI, home: Path) -> None:
    assert run_cli(home, srv.base_url, "chat", "first chat").returncode == 0
    srv.chat_reply = "cut short right here and more"
    srv.enqueue_fault(Fault.truncate(after=3))
    assert run_cli(home, srv.base_url, "chat", "second chat", "--model", "gpt-4o").returncode == 1
    partial = "".join(fake_content.split_tokens(srv.chat_reply)[:2])

    everything = run_cli(home, None, "export", "--format", "json")
    assert everything.returncode == 0, everything.stderr
    doc = json.loads(everything.stdout)
    assert doc["format"] == "assistant-app-export"
    assert [c["title"] for c in doc["conversations"]] == ["first chat", "second chat"]
    first, second = doc["conversations"]
    assert [(m["role"], m["content"], m["status"]) for m in first["messages"]] == [
        ("user", "first chat", "complete"),
        ("assistant", "Echo: first chat", "complete"),
    ]
    assert [(m["role"], m["content"], m["status"]) for m in second["messages"]] == [
        ("user", "second chat", "complete"),
        ("assistant", partial, "incomplete"),
    ]
    assert second["model"] == "gpt-4o"

    one = run_cli(home, None, "export", "-f", "json", "--conversation", str(second["id"]))
    assert one.returncode == 0, one.stderr
    assert [c["title"] for c in json.loads(one.stdout)["conversations"]] == ["second chat"]

    md = run_cli(home, None, "export", "--format", "markdown")
    assert md.returncode == 0, md.stderr
    assert md.stdout.index("# first chat") < md.stdout.index("# second chat")
    assert "## User" in md.stdout and "Echo: first chat" in md.stdout
    assert f"## Assistant ({DEFAULT_MODEL})" in md.stdout
    assert "## Assistant (gpt-4o) (incomplete)" in md.stdout and partial in md.stdout

    md_one = run_cli(home, None, "export", "--conversation", str(first["id"]))  # markdown is the default
    assert md_one.returncode == 0, md_one.stderr
    assert "# first chat" in md_one.stdout and "second chat" not in md_one.stdout

    missing = run_cli(home, None, "export", "--conversation", "999")
    assert missing.returncode == 2 and "no conversation 999" in missing.stderr


def test_version(home: Path) -> None:
    result = run_cli(home, None, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"assistant-app {__version__}"


def test_a_damaged_database_is_reported_not_a_traceback_and_left_alone(home: Path) -> None:
    db = home / "data" / "assistant.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    for args in (("export",), ("chat", "hello")):
        result = run_cli(home, "http://127.0.0.1:9/v1", *args)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert f"The conversation database at {db} is damaged" in result.stderr
    assert db.read_bytes() == b"this is not a database" * 100  # never touched
