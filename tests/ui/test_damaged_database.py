"""A conversation database the app cannot read: a clear choice, never a crash, never data deleted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant_app.app import _open_store
from assistant_app.core.store import SCHEMA_VERSION, Store


def answer_dialog(button_text: str, seen: list[str]) -> None:
    """Click ``button_text`` in the message box that is about to open (it runs its own event loop)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(box.text())
        for button in box.buttons():
            if button.text() == button_text:
                button.click()
                return
        raise AssertionError(f"no {button_text!r} button in {[b.text() for b in box.buttons()]}")

    QTimer.singleShot(0, click)


def test_damaged_database_moved_aside_on_request(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "assistant.sqlite3"
    db.write_bytes(b"not a database" * 50)
    seen: list[str] = []
    answer_dialog("Move it aside and start fresh", seen)
    opened = _open_store(db)
    assert opened is not None
    store, kept = opened
    try:
        assert "is damaged" in seen[0] and str(db) in seen[0]
        assert kept is not None and kept.read_bytes() == b"not a database" * 50
        assert store.count_conversations() == 0
    finally:
        store.close()


def test_damaged_database_left_alone_when_the_user_quits(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "assistant.sqlite3"
    db.write_bytes(b"not a database" * 50)
    answer_dialog("Quit", [])
    assert _open_store(db) is None
    assert db.read_bytes() == b"not a database" * 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assistant.sqlite3"]


def test_database_from_a_newer_version_is_not_touched(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "assistant.sqlite3"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_version(version, applied_at) VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    before = db.read_bytes()
    seen: list[str] = []
    answer_dialog("OK", seen)
    assert _open_store(db) is None
    assert "Update the app" in seen[0]
    assert db.read_bytes() == before
