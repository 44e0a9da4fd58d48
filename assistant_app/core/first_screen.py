"""What the window's first frame shows, read before the rest of the app loads.

The window opens before the store, the settings and the engine are imported (app._show_window):
that work happens while the window is already on screen. This module reads just what the first
frame shows (the saved window geometry, the model the picker starts with and a screenful of
conversation titles) with nothing but ``json`` (and ``sqlite3`` when needed), and never writes or
creates the database. When it cannot read something, that part is left empty: the real store and
settings, opened right after the window is shown, report any problem (a damaged database, a bad
settings file) in full. tests/unit/test_first_screen.py checks it against Store and Settings.

The titles come from a snapshot the app writes when it quits (``first-screen.json`` beside the
database), recording the database file's size and time: if anything wrote the database since (the
command line, a crash before the snapshot), they no longer match and the titles are read from the
database itself. Importing sqlite3 alone takes ~4 ms of a ~150 ms start.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple
from pathlib import Path

SNAPSHOT_NAME = "first-screen.json"
_SNAPSHOT_VERSION = 1

# The defaults of core/settings.py's Settings and its default provider.
_DEFAULT_PROVIDER = "openai"
_DEFAULT_MODEL = "gpt-4o-mini"


# geometry: base64 of QWidget.saveGeometry() ("" when none is saved); model: the active provider's default
# model, else the app's; conversations: (id, title) pairs, most recently active first; complete: True
# when they are all the stored conversations, read from the database (else the store lists them again).
# collections.namedtuple, not typing.NamedTuple: that one compiles each annotation, ~1 ms before the
# first frame.
FirstScreen = namedtuple("FirstScreen", "geometry model conversations complete")


def read_first_screen(settings_file: Path, database: Path, rows: int) -> FirstScreen:
    geometry, model = _read_settings(settings_file)
    conversations, complete = _read_snapshot(database, rows) or _read_titles(database, rows)
    return FirstScreen(geometry, model, conversations, complete)


def write_snapshot(database: Path, conversations: list[tuple[int, str]]) -> None:
    """The titles the next start shows first: call once nothing writes the database any more (the app,
    after closing its store). Best effort: without it, the next start reads the database."""
    data = {
        "version": _SNAPSHOT_VERSION,
        "database": _file_state(database),
        "conversations": [[int(cid), str(title)] for cid, title in conversations],
    }
    path = database.with_name(SNAPSHOT_NAME)
    tmp = path.with_name(f".{SNAPSHOT_NAME}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _file_state(database: Path) -> list:
    """What changes whenever SQLite writes the database: the main file's and its write-ahead log's
    modification time and size (the log exists while a connection is open, or after a crash)."""
    state: list = []
    for name in (database.name, f"{database.name}-wal"):
        try:
            st = os.stat(database.with_name(name))
        except OSError:
            state.append(None)
        else:
            state.append([st.st_mtime_ns, st.st_size])
    return state


def _read_snapshot(database: Path, rows: int) -> tuple[list[tuple[int, str]], bool] | None:
    try:
        data = json.loads(database.with_name(SNAPSHOT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _SNAPSHOT_VERSION:
        return None
    state = _file_state(database)
    if data.get("database") != state or state[0] is None:
        return None  # written since (or gone): the database itself is the truth
    found = data.get("conversations")
    if not isinstance(found, list) or not all(
        isinstance(r, list) and len(r) == 2 and isinstance(r[0], int) and isinstance(r[1], str) for r in found
    ):
        return None
    # Not "complete" even when it is the whole list: the store lists them again once it is open, so a
    # change the file's time and size did not reveal is gone a moment later.
    return [(cid, title) for cid, title in found[:rows]], False


def _read_settings(path: Path) -> tuple[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", _DEFAULT_MODEL
    if not isinstance(data, dict):
        return "", _DEFAULT_MODEL
    geometry = data.get("window_geometry")
    default_model = data.get("default_model", _DEFAULT_MODEL)
    providers = [p for p in data.get("providers") or [] if isinstance(p, dict) and p.get("id")]
    active = data.get("active_provider", _DEFAULT_PROVIDER)
    if not providers:  # as Settings: the built-in OpenAI profile
        provider_model = _DEFAULT_MODEL
    else:
        chosen = next((p for p in providers if p["id"] == active), providers[0])
        provider_model = chosen.get("default_model", "")
    model = provider_model or default_model
    return (geometry if isinstance(geometry, str) else ""), (model if isinstance(model, str) else "")


def _read_titles(path: Path, rows: int) -> tuple[list[tuple[int, str]], bool]:
    if not path.exists():
        return [], True
    import sqlite3  # only without a valid snapshot (see the module's docstring)

    try:
        # mode=rw: never create a database here (Store does, with its schema); nothing is written.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    except sqlite3.Error:
        return [], False
    try:
        found = conn.execute(
            "SELECT id, title FROM conversations ORDER BY updated_at DESC, id DESC LIMIT ?", (rows + 1,)
        ).fetchall()
    except sqlite3.Error:
        return [], False
    finally:
        conn.close()
    return [(int(i), str(t or "")) for i, t in found[:rows]], len(found) <= rows
