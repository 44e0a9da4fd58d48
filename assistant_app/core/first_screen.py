"""What the window's first frame shows, read before the rest of the app loads.

The window opens before the store, the settings and the engine are imported (app._show_window):
that work happens while the window is already on screen. This module reads just what the first
frame shows (the saved window geometry, the model the picker starts with and a screenful of
conversation titles) with nothing but ``json`` and ``sqlite3``, and never writes or creates
anything. When it cannot read something, that part is left empty: the real store and settings,
opened right after the window is shown, report any problem (a damaged database, a bad settings
file) in full. tests/unit/test_first_screen.py checks it against Store and Settings.
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from pathlib import Path

# The defaults of core/settings.py's Settings and its default provider.
_DEFAULT_PROVIDER = "openai"
_DEFAULT_MODEL = "gpt-4o-mini"


# geometry: base64 of QWidget.saveGeometry() ("" when none is saved); model: the active provider's default
# model, else the app's; conversations: (id, title) pairs, most recently active first; complete: False
# when there are more conversations than were read (or none could be read). collections.namedtuple,
# not typing.NamedTuple: that one compiles each annotation, ~1 ms before the first frame.
FirstScreen = namedtuple("FirstScreen", "geometry model conversations complete")


def read_first_screen(settings_file: Path, database: Path, rows: int) -> FirstScreen:
    geometry, model = _read_settings(settings_file)
    conversations, complete = _read_titles(database, rows)
    return FirstScreen(geometry, model, conversations, complete)


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
