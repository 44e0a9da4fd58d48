"""The SQLite schema of the store and its ordered migrations; no Qt.

Each migration runs in one transaction together with the row that records its version, so a crash
mid-upgrade leaves the previous version intact. A database made by a newer app is refused rather
than damaged.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class StoreError(Exception):
    """Base class of storage errors."""


class SchemaTooNewError(StoreError):
    """The database was made by a newer version of the app."""


class StoreDamagedError(StoreError):
    """The database file is not a readable SQLite database (truncated, overwritten, corrupted)."""


MigrationStep = str | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[MigrationStep, ...]


_V1 = (
    """CREATE TABLE IF NOT EXISTS conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL DEFAULT 'New chat',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        system_prompt TEXT,
        model TEXT,
        temperature REAL,
        head_id INTEGER REFERENCES messages(id) ON DELETE SET NULL
    )""",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        parent_id INTEGER REFERENCES messages(id),
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        content TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'streaming', 'incomplete', 'stopped', 'error')),
        error TEXT,
        model TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        attachments TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation_id, id)",
    "CREATE INDEX IF NOT EXISTS messages_parent ON messages(parent_id, id)",
    "CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated_at DESC, id DESC)",
)

_V2 = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF content ON messages
    WHEN old.content IS NOT new.content BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS conversations_fts USING fts5(
        title, content='conversations', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER IF NOT EXISTS conversations_fts_ai AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
    END""",
    """CREATE TRIGGER IF NOT EXISTS conversations_fts_ad AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title);
    END""",
    """CREATE TRIGGER IF NOT EXISTS conversations_fts_au AFTER UPDATE OF title ON conversations
    WHEN old.title IS NOT new.title BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
    END""",
    # Index whatever a v1 database already holds.
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild')",
)


def _add_columns(table: str, columns: Sequence[tuple[str, str]]) -> Callable[[sqlite3.Connection], None]:
    """A migration step adding columns that are not there yet (ALTER TABLE has no IF NOT EXISTS)."""

    def step(conn: sqlite3.Connection) -> None:
        existing = {row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))}
        for name, decl in columns:
            if name not in existing:
                # Identifiers cannot be bound as parameters; both come from the constants below.
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    return step


_V3 = (
    _add_columns(
        "messages",
        (
            ("finish_reason", "TEXT"),
            ("prompt_tokens", "INTEGER"),
            ("cached_tokens", "INTEGER"),
            ("completion_tokens", "INTEGER"),
            ("reasoning_tokens", "INTEGER"),
            ("ttft_ms", "REAL"),
            ("tokens_per_s", "REAL"),
        ),
    ),
    _add_columns("conversations", (("provider_id", "TEXT"), ("top_p", "REAL"), ("max_tokens", "INTEGER"))),
    # Tiny partial index: crash recovery at start-up must not scan every message.
    "CREATE INDEX IF NOT EXISTS messages_streaming ON messages(status) WHERE status = 'streaming'",
)

# One row per API call (core/usage.py). No foreign keys: spending outlives deleted conversations.
# ``day`` is the local date of the call, so daily charts and monthly budgets need no date maths.
_V4 = (
    """CREATE TABLE IF NOT EXISTS usage_calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at REAL NOT NULL,
        day TEXT NOT NULL,
        provider_id TEXT,
        host TEXT,
        path TEXT,
        kind TEXT NOT NULL,
        model TEXT,
        response_model TEXT,
        status TEXT NOT NULL,
        http_status INTEGER,
        ok INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL,
        ttft_ms REAL,
        request_id TEXT,
        attempt INTEGER,
        prompt_tokens INTEGER,
        cached_tokens INTEGER,
        completion_tokens INTEGER,
        reasoning_tokens INTEGER,
        image_tokens INTEGER,
        audio_tokens INTEGER,
        images INTEGER,
        image_size TEXT,
        image_quality TEXT,
        audio_seconds REAL,
        cost REAL,
        error TEXT,
        conversation_id INTEGER,
        message_id INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS usage_calls_started ON usage_calls(started_at)",
    # Covers the daily chart and the totals of a day range (no table reads over 100,000 rows).
    "CREATE INDEX IF NOT EXISTS usage_calls_day ON usage_calls(day, model, cost, ok, prompt_tokens, "
    "cached_tokens, completion_tokens, reasoning_tokens, images, audio_seconds)",
    "CREATE INDEX IF NOT EXISTS usage_calls_provider_day ON usage_calls(provider_id, day, cost)",
    "CREATE INDEX IF NOT EXISTS usage_calls_conversation ON usage_calls(conversation_id, message_id) "
    "WHERE conversation_id IS NOT NULL",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "conversations and message tree", _V1),
    Migration(2, "full-text search over messages and titles", _V2),
    Migration(3, "usage metrics and sampling settings", _V3),
    Migration(4, "usage log: one row per API call", _V4),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to ``conn`` (0 for an empty database)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply pending migrations in order, each atomically; return the resulting version.

    Idempotent: already-applied versions are skipped, and each step tolerates being re-run.
    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    target = SCHEMA_VERSION if target is None else target
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"The database has schema version {current}; this version of the app knows up to "
            f"{SCHEMA_VERSION}. Update the app to open it."
        )
    for migration in MIGRATIONS:
        if migration.version <= current or migration.version > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in migration.steps:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(
                "INSERT INTO schema_version(version, applied_at) VALUES (?, ?)",
                (migration.version, time.time()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = migration.version
    return current


# --------------------------------------------------------------------------------------------
# Search query handling
# --------------------------------------------------------------------------------------------
