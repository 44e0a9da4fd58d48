"""Tests for assistant_app.core.export (plain pytest, no Qt)."""

from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

from assistant_app.core.export import EXPORT_FORMAT, close_open_fence, export_json, export_markdown
from assistant_app.core.store import NotFoundError, Store

CODE_REPLY = (
    "Here is the function:\n\n"
    "```python\n"
    "def add(a, b):\n"
    "    # keep    the spacing\n"
    "    return a + b\n"
    "```\n\n"
    "And a shell line:\n\n"
    "~~~bash\n"
    "echo '## not a heading' | grep -c '#'\n"
    "~~~"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_714_563_000.0  # 2024-05-01 11:30 UTC

    def __call__(self) -> float:
        self.now += 60.0
        return self.now


@pytest.fixture
def store() -> Store:
    s = Store(":memory:", clock=Clock())
    yield s
    s.close()


@pytest.fixture
def populated(store: Store) -> dict[str, int]:
    conv = store.create_conversation("Python help", model="gpt-4o", system_prompt="You are terse.\nUse code.")
    spec = {"name": "spec.txt", "path": "/data/att/12/34.txt", "mime": "text/plain"}
    q = store.add_message(conv.id, "user", "Write add()", parent_id=None, attachments=[spec])
    old = store.add_message(conv.id, "assistant", "OLD BRANCH reply", parent_id=q.id, model="gpt-4o")
    new = store.add_message(conv.id, "assistant", CODE_REPLY, parent_id=q.id, model="gpt-4o")
    q2 = store.add_message(conv.id, "user", "Now a loop", parent_id=new.id)
    cut = store.add_message(
        conv.id, "assistant", "Sure:\n\n```js\nfor (;;) {", parent_id=q2.id, status="streaming", model="gpt-4o"
    )
    second = store.create_conversation("Second chat")
    s1 = store.add_message(second.id, "user", "hello", parent_id=None)
    return {
        "conv": conv.id,
        "q": q.id,
        "old": old.id,
        "new": new.id,
        "q2": q2.id,
        "cut": cut.id,
        "second": second.id,
        "s1": s1.id,
    }


def test_markdown_active_path_with_code_intact(store: Store, populated: dict[str, int]) -> None:
    md = export_markdown(store, [populated["conv"]])
    assert md.startswith("# Python help\n")
    assert CODE_REPLY in md  # byte-for-byte, fences and indentation kept
    assert "OLD BRANCH" not in md  # only the active branch
    assert "- Model: gpt-4o" in md
    assert "- Created: 2024-05-01 11:31 UTC" in md
    assert "> You are terse.\n> Use code." in md
    assert "## User" in md and "## Assistant (gpt-4o)" in md
    assert "- spec.txt (text/plain, /data/att/12/34.txt)" in md
    # Order follows the path.
    assert md.index("Write add()") < md.index("def add") < md.index("Now a loop") < md.index("for (;;)")
    assert "Second chat" not in md


def test_markdown_marks_incomplete_and_closes_its_fence(store: Store, populated: dict[str, int]) -> None:
    md = export_markdown(store, [populated["conv"], populated["second"]])
    heading = "## Assistant (gpt-4o) (incomplete)"
    assert md.count(heading) == 1
    assert md.index(heading) < md.index("for (;;) {")
    # The cut-off ```js block is closed, so the next conversation is not swallowed by it.
    tail = md[md.index("for (;;) {") :]
    assert tail.index("\n```") < tail.index("# Second chat")
    assert md.count("```") % 2 == 0

    store.update_message(populated["cut"], status="error", error="Connection reset")
    md = export_markdown(store, [populated["conv"]])
    assert "(error)" in md and "> Error: Connection reset" in md and "(incomplete)" not in md


def test_markdown_all_conversations_oldest_first_and_deterministic(store: Store, populated: dict[str, int]) -> None:
    md = export_markdown(store)
    assert md.index("# Python help") < md.index("# Second chat")
    assert md == export_markdown(store)
    # Explicit order is honoured, duplicates dropped.
    md2 = export_markdown(store, [populated["second"], populated["conv"], populated["second"]])
    assert md2.index("# Second chat") < md2.index("# Python help") and md2.count("# Second chat") == 1
    with pytest.raises(NotFoundError):
        export_markdown(store, [999])


def test_markdown_timezone(store: Store, populated: dict[str, int]) -> None:
    md = export_markdown(store, [populated["second"]], tz=timezone(timedelta(hours=2)))
    assert "13:" in md and "+0200" in md and "UTC" not in md


def test_json_round_trip_has_all_branches(store: Store, populated: dict[str, int]) -> None:
    text = export_json(store)
    data = json.loads(text)
    assert data["format"] == EXPORT_FORMAT and data["version"] == 1
    convs = data["conversations"]
    assert [c["title"] for c in convs] == ["Python help", "Second chat"]
    first = convs[0]
    assert first["head_id"] == populated["cut"]
    msgs = {m["id"]: m for m in first["messages"]}
    assert [m["id"] for m in first["messages"]] == sorted(msgs)
    assert msgs[populated["old"]]["content"] == "OLD BRANCH reply"  # inactive branch included
    assert msgs[populated["old"]]["parent_id"] == msgs[populated["new"]]["parent_id"] == populated["q"]
    assert msgs[populated["q"]]["parent_id"] is None
    assert msgs[populated["new"]]["content"] == CODE_REPLY
    assert msgs[populated["cut"]]["status"] == "streaming"
    assert msgs[populated["q"]]["attachments"][0]["name"] == "spec.txt"
    assert first["system_prompt"] == "You are terse.\nUse code."
    assert export_json(store) == text  # deterministic
    only = json.loads(export_json(store, [populated["second"]]))
    assert [c["id"] for c in only["conversations"]] == [populated["second"]]


def test_empty_exports(store: Store) -> None:
    assert export_markdown(store) == ""
    assert json.loads(export_json(store))["conversations"] == []
    conv = store.create_conversation("  Multi\nline   title ")
    md = export_markdown(store, [conv.id])
    assert md.startswith("# Multi line title\n")


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ("no code", False),
        ("```\ncode\n```", False),
        ("```py\nopen", True),
        ("````\n```\ninner\n```\nstill open", True),
        ("~~~\nx\n```\n", True),
        ("``` not `a` fence\ntext", False),
    ],
)
def test_close_open_fence(text: str, closed: bool) -> None:
    out = close_open_fence(text)
    assert (out != text) is closed
    assert close_open_fence(out) == out
