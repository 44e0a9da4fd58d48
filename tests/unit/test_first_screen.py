"""The first frame's quick read (core/first_screen.py) agrees with the real Store and Settings."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from assistant_app.core import first_screen
from assistant_app.core.first_screen import read_first_screen, write_snapshot
from assistant_app.core.settings import ProviderProfile, Settings, load_settings, save_settings
from assistant_app.core.store import Store


def model_as_settings_say(path: Path) -> str:
    settings = load_settings(path)
    return settings.provider().default_model or settings.default_model


def test_titles_in_the_store_order_and_nothing_written(tmp_path: Path) -> None:
    db = tmp_path / "assistant.sqlite3"
    store = Store(db, clock=iter(range(1000, 2000)).__next__)
    ids = [store.create_conversation(title=f"Conversation {i}").id for i in range(12)]
    store.add_messages(ids[3], [{"role": "user", "content": "bumps it to the top"}])
    store.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    first = read_first_screen(tmp_path / "settings.json", db, rows=5)

    expected = [(c.id, c.title) for c in Store(db).list_conversations(limit=5)]
    assert first.conversations == expected
    assert first.conversations[0] == (ids[3], "Conversation 3")
    assert not first.complete
    assert read_first_screen(tmp_path / "settings.json", db, rows=12).complete
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before}
    assert after["assistant.sqlite3"] == before["assistant.sqlite3"]


def test_no_database_yet_is_an_empty_complete_list_and_creates_nothing(tmp_path: Path) -> None:
    first = read_first_screen(tmp_path / "settings.json", tmp_path / "assistant.sqlite3", rows=5)
    assert first.conversations == [] and first.complete
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"not a database" * 50, b""])
def test_an_unreadable_database_leaves_the_list_to_the_store(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "assistant.sqlite3"
    db.write_bytes(content)
    first = read_first_screen(tmp_path / "settings.json", db, rows=5)
    assert first.conversations == [] and not first.complete
    assert db.read_bytes() == content


def test_a_database_without_the_table_leaves_the_list_to_the_store(tmp_path: Path) -> None:
    db = tmp_path / "assistant.sqlite3"
    sqlite3.connect(db).close()
    first = read_first_screen(tmp_path / "settings.json", db, rows=5)
    assert first.conversations == [] and not first.complete


def settings_cases() -> list[Settings]:
    local = ProviderProfile(id="ollama", name="Ollama", kind="compatible", default_model="llama3.2")
    blank = ProviderProfile(id="lmstudio", name="LM Studio", kind="compatible")
    return [
        Settings(),
        Settings(window_geometry="AdnQywADAAA=", default_model="gpt-4.1"),
        Settings(providers=[local, blank], active_provider="ollama"),
        Settings(providers=[local, blank], active_provider="lmstudio", default_model="qwen2.5"),
        Settings(providers=[local], active_provider="gone"),  # falls back to the first provider
        Settings(providers=[], default_model="x"),
    ]


@pytest.mark.parametrize("settings", settings_cases())
def test_geometry_and_model_as_settings_has_them(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "settings.json"
    save_settings(path, settings)
    first = read_first_screen(path, tmp_path / "assistant.sqlite3", rows=5)
    assert first.geometry == settings.window_geometry
    assert first.model == model_as_settings_say(path)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", json.dumps({"providers": "nonsense"}), ""])
def test_a_bad_settings_file_gives_the_defaults(tmp_path: Path, text: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(text)
    first = read_first_screen(path, tmp_path / "assistant.sqlite3", rows=5)
    assert first.geometry == ""
    assert first.model == model_as_settings_say(path) == "gpt-4o-mini"


def test_no_settings_file_gives_the_defaults(tmp_path: Path) -> None:
    first = read_first_screen(tmp_path / "settings.json", tmp_path / "assistant.sqlite3", rows=5)
    assert (first.geometry, first.model) == ("", model_as_settings_say(tmp_path / "settings.json"))


def snapshot_of(db: Path) -> None:
    with Store(db) as store:
        rows = [(c.id, c.title) for c in store.list_conversations(limit=80)]
    write_snapshot(db, rows)  # as the app does once its store is closed


def test_the_snapshot_gives_the_titles_without_reading_the_database(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "assistant.sqlite3"
    with Store(db) as store:
        for i in range(3):
            store.create_conversation(title=f"Conversation {i}")
    snapshot_of(db)
    monkeypatch.setattr(first_screen, "_read_titles", lambda *_a: pytest.fail("read the database"))
    first = read_first_screen(tmp_path / "settings.json", db, rows=5)
    assert [t for _i, t in first.conversations] == ["Conversation 2", "Conversation 1", "Conversation 0"]
    assert not first.complete  # the store lists them again once it is open


def test_a_database_written_since_the_snapshot_is_read_itself(tmp_path: Path) -> None:
    db = tmp_path / "assistant.sqlite3"
    with Store(db) as store:
        store.create_conversation(title="Old")
    st = db.stat()  # the file's time a second back, so the write below surely changes it
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns - 1_000_000_000))
    snapshot_of(db)
    with Store(db) as store:  # e.g. `assistant-app chat` while the window was closed
        store.create_conversation(title="Added from the command line")
    first = read_first_screen(tmp_path / "settings.json", db, rows=5)
    assert [t for _i, t in first.conversations] == ["Added from the command line", "Old"]
    assert first.complete


@pytest.mark.parametrize("text", ["{not json", "[]", json.dumps({"version": 99}), json.dumps({"version": 1})])
def test_a_bad_snapshot_is_ignored(tmp_path: Path, text: str) -> None:
    db = tmp_path / "assistant.sqlite3"
    with Store(db) as store:
        store.create_conversation(title="Kept")
    (tmp_path / first_screen.SNAPSHOT_NAME).write_text(text)
    assert read_first_screen(tmp_path / "settings.json", db, rows=5).conversations[0][1] == "Kept"
