"""Conversation storage on SQLite (stdlib ``sqlite3``); no Qt.

Messages form a tree per conversation: every message points at its ``parent_id`` and editing a
message adds a *sibling* instead of overwriting, so older branches survive. A conversation's
``head_id`` is the leaf of the branch on screen; the visible conversation is the path from the root
to that head (:meth:`Store.active_path`).

Design notes:

* Transactions are explicit (``isolation_level=None`` + ``BEGIN IMMEDIATE``) so migrations, which
  include DDL, are atomic together with the row that records their version.
* SQL is parameterised. The only composed statements are the ``UPDATE ... SET`` lists, assembled
  from constant fragments chosen by whitelisted field names, never from caller text.
* ``parent_id`` deliberately has no ``ON DELETE CASCADE``: a long linear chat would cascade one
  level per message and hit SQLite's trigger depth limit. Subtrees are deleted in one statement
  (recursive CTE) instead, and ``conversation_id`` cascades flatly.
* Search uses an external-content FTS5 index kept in sync by triggers. Cascading deletes fire the
  delete trigger too, so the index never holds rows that no longer exist.
* The connection may be created with ``check_same_thread=False``; an internal re-entrant lock keeps
  each public call (and :meth:`Store.transaction` blocks) atomic if a worker thread shares it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from assistant_app.core.schema import MIGRATIONS as MIGRATIONS  # re-exported: the store's public API
from assistant_app.core.schema import SCHEMA_VERSION as SCHEMA_VERSION
from assistant_app.core.schema import SchemaTooNewError as SchemaTooNewError
from assistant_app.core.schema import StoreDamagedError as StoreDamagedError
from assistant_app.core.schema import StoreError, migrate, schema_version
from assistant_app.core.search_text import fts_query, like_pattern, snippet_around

ROLES = ("user", "assistant", "system")
STATUSES = ("complete", "streaming", "incomplete", "stopped", "error")

#: Fields :meth:`Store.update_conversation` accepts.
CONVERSATION_FIELDS = ("system_prompt", "model", "provider_id", "temperature", "top_p", "max_tokens")
#: Fields :meth:`Store.update_message` accepts.
MESSAGE_FIELDS = (
    "content",
    "status",
    "error",
    "model",
    "finish_reason",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "tokens_per_s",
    "attachments",
)


class NotFoundError(StoreError, LookupError):
    """A conversation or message id that does not exist."""


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created_at: float  # seconds since the Unix epoch
    updated_at: float
    system_prompt: str | None = None
    model: str | None = None
    provider_id: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    head_id: int | None = None


@dataclass(slots=True)
class Message:
    """One node of a conversation's message tree.

    Not frozen: a frozen dataclass costs ~2 us per instance, which is most of the time spent
    loading a 5,000-message conversation. Changing an instance does not write to the database.
    """

    id: int
    conversation_id: int
    parent_id: int | None
    role: str
    content: str
    status: str
    error: str | None
    model: str | None
    created_at: float
    updated_at: float
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SearchHit:
    """One search result. Title matches have ``message_id`` and ``role`` set to ``None``."""

    conversation_id: int
    message_id: int | None
    conversation_title: str
    snippet: str
    role: str | None


# --------------------------------------------------------------------------------------------
# Schema and migrations
# --------------------------------------------------------------------------------------------

_CONV_COLS = (
    "id, title, created_at, updated_at, system_prompt, model, provider_id, temperature, top_p, max_tokens, head_id"
)
_MSG_COLS = (
    "id, conversation_id, parent_id, role, content, status, error, model, created_at, updated_at, "
    "finish_reason, prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens, ttft_ms, "
    "tokens_per_s, attachments"
)
_N_MSG_COLS = _MSG_COLS.count(",") + 1
# The same columns qualified with the alias ``m`` for joins.
_MSG_COLS_M = ", ".join("m." + c.strip() for c in _MSG_COLS.split(","))

# Optional per-item fields of Store.add_messages, in the order of its INSERT.
_BULK_EXTRA_FIELDS = (
    "error",
    "finish_reason",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "tokens_per_s",
)
# Constant SET fragments; update statements are assembled only from these.
_CONV_SET = {name: f"{name} = :{name}" for name in CONVERSATION_FIELDS}
_MSG_SET = {name: f"{name} = :{name}" for name in MESSAGE_FIELDS}


def _conversation(row: sqlite3.Row | tuple[Any, ...]) -> Conversation:
    return Conversation(*row)


def _message(row: sqlite3.Row | tuple[Any, ...]) -> Message:
    values = list(row[:_N_MSG_COLS])
    raw = values[-1]
    values[-1] = json.loads(raw) if raw and raw != "[]" else []
    return Message(*values)


def _attachments_json(attachments: Sequence[Mapping[str, Any]] | None) -> str:
    return json.dumps([dict(a) for a in attachments or ()], ensure_ascii=False, sort_keys=True)


def _check_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


# Walks parent links up from a leaf; depth 0 is the leaf.
_PATH_CTE = """WITH RECURSIVE path(id, depth) AS (
    SELECT ?, 0
    UNION ALL
    SELECT m.parent_id, path.depth + 1 FROM messages AS m JOIN path ON m.id = path.id
    WHERE m.parent_id IS NOT NULL
) """


# --------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------


def set_aside(path: str | Path, clock: Callable[[], float] = time.time) -> Path:
    """Rename a damaged database (and its WAL and shared-memory files) out of the way, keeping it for
    recovery: ``assistant.sqlite3`` -> ``assistant.sqlite3.damaged-20261126-081500``. Returns the new path."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock()))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target


class Store:
    """All conversations and messages of one user, in one SQLite file.

    Intended for the GUI thread; pass ``check_same_thread=False`` to share it with a worker.
    ``clock`` returns seconds since the epoch and exists so tests can control timestamps.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        check_same_thread: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.RLock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=check_same_thread)
        except sqlite3.Error as exc:
            raise StoreError(f"The conversation database at {self.path} cannot be opened: {exc}.") from exc
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA busy_timeout = 5000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            migrate(self._conn)
            self.recovered_count = self._recover_interrupted()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            text = str(exc).lower()
            if isinstance(exc, sqlite3.OperationalError) and not any(w in text for w in ("malformed", "corrupt")):
                raise StoreError(f"The conversation database at {self.path} cannot be opened: {exc}.") from exc
            raise StoreDamagedError(f"The conversation database at {self.path} is damaged ({exc}).") from exc
        except BaseException:
            self._conn.close()
            raise

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for diagnostics and tests; prefer the methods."""
        return self._conn

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._conn)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several calls into one transaction (nested blocks join the outer one)."""
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _recover_interrupted(self) -> int:
        """Replies still 'streaming' at open were cut off by a crash: mark them 'incomplete'."""
        with self.transaction():
            cur = self._conn.execute("UPDATE messages SET status = 'incomplete' WHERE status = 'streaming'")
            return cur.rowcount

    # -- conversations ------------------------------------------------------------------------

    def create_conversation(self, title: str = "New chat", **fields: Any) -> Conversation:
        self._check_fields(fields, CONVERSATION_FIELDS)
        now = self._clock()
        values = {name: fields.get(name) for name in CONVERSATION_FIELDS}
        with self.transaction():
            cur = self._conn.execute(
                "INSERT INTO conversations(title, created_at, updated_at, system_prompt, model, provider_id, "
                "temperature, top_p, max_tokens) VALUES (:title, :now, :now, :system_prompt, :model, "
                ":provider_id, :temperature, :top_p, :max_tokens)",
                {"title": title, "now": now, **values},
            )
            return self._get_conversation(cur.lastrowid)

    def get_conversation(self, conversation_id: int) -> Conversation:
        with self._lock:
            return self._get_conversation(conversation_id)

    def _get_conversation(self, conversation_id: int | None) -> Conversation:
        row = self._conn.execute(f"SELECT {_CONV_COLS} FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No conversation with id {conversation_id}")
        return _conversation(row)

    def list_conversations(self, limit: int | None = None, offset: int = 0) -> list[Conversation]:
        """Most recently active first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_CONV_COLS} FROM conversations ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (-1 if limit is None else limit, offset),
            ).fetchall()
        return [_conversation(r) for r in rows]

    def count_conversations(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])

    def rename_conversation(self, conversation_id: int, title: str) -> Conversation:
        with self.transaction():
            cur = self._conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"No conversation with id {conversation_id}")
            return self._get_conversation(conversation_id)

    def update_conversation(self, conversation_id: int, **fields: Any) -> Conversation:
        """Change settings (see ``CONVERSATION_FIELDS``); unknown names raise ``TypeError``.

        Settings changes do not bump ``updated_at``: the list is ordered by chat activity.
        """
        self._check_fields(fields, CONVERSATION_FIELDS)
        with self.transaction():
            if fields:
                sets = ", ".join(_CONV_SET[name] for name in CONVERSATION_FIELDS if name in fields)
                cur = self._conn.execute(
                    "UPDATE conversations SET " + sets + " WHERE id = :_id", {**fields, "_id": conversation_id}
                )
                if cur.rowcount == 0:
                    raise NotFoundError(f"No conversation with id {conversation_id}")
            return self._get_conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete the conversation and (by cascade) all of its messages."""
        with self.transaction():
            cur = self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"No conversation with id {conversation_id}")

    # -- messages -----------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        parent_id: int | None,
        status: str = "complete",
        model: str | None = None,
        attachments: Sequence[Mapping[str, Any]] | None = None,
    ) -> Message:
        """Append a message under ``parent_id`` (``None``: a new root) and make it the head.

        To "edit and resend", add the new text with the edited message's ``parent_id``: it becomes
        a sibling and the old branch stays reachable through :meth:`siblings`/:meth:`switch_to`.
        """
        _check_choice("role", role, ROLES)
        _check_choice("status", status, STATUSES)
        with self.transaction():
            self._get_conversation(conversation_id)
            if parent_id is not None:
                self._check_in_conversation(parent_id, conversation_id)
            now = self._clock()
            cur = self._conn.execute(
                "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at, "
                "updated_at, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, parent_id, role, content, status, model, now, now, _attachments_json(attachments)),
            )
            message_id = cur.lastrowid
            self._conn.execute(
                "UPDATE conversations SET head_id = ?, updated_at = ? WHERE id = ?",
                (message_id, now, conversation_id),
            )
            return self._get_message(message_id)

    def add_messages(
        self,
        conversation_id: int,
        items: Iterable[Mapping[str, Any]],
        *,
        parent_id: int | None = None,
    ) -> list[int]:
        """Bulk-append a linear chain (each item the child of the previous) in one transaction.

        Items are mappings with ``role`` and ``content`` and optionally ``status``, ``model``,
        ``attachments``, ``created_at`` and any of the usage fields. Used by imports and benchmarks.
        The head moves to the last message.
        """
        ids: list[int] = []
        with self.transaction():
            self._get_conversation(conversation_id)
            if parent_id is not None:
                self._check_in_conversation(parent_id, conversation_id)
            now = self._clock()
            last_time = now
            for item in items:
                role = item["role"]
                status = item.get("status", "complete")
                _check_choice("role", role, ROLES)
                _check_choice("status", status, STATUSES)
                created = item.get("created_at", now)
                last_time = created
                cur = self._conn.execute(
                    "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at, "
                    "updated_at, attachments, error, finish_reason, prompt_tokens, cached_tokens, "
                    "completion_tokens, reasoning_tokens, ttft_ms, tokens_per_s) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conversation_id,
                        parent_id,
                        role,
                        item.get("content", ""),
                        status,
                        item.get("model"),
                        created,
                        item.get("updated_at", created),
                        _attachments_json(item.get("attachments")),
                        *(item.get(name) for name in _BULK_EXTRA_FIELDS),
                    ),
                )
                parent_id = cur.lastrowid
                ids.append(parent_id)
            if ids:
                self._conn.execute(
                    "UPDATE conversations SET head_id = ?, updated_at = MAX(updated_at, ?) WHERE id = ?",
                    (ids[-1], last_time, conversation_id),
                )
        return ids

    def update_message(self, message_id: int, **fields: Any) -> None:
        """Update content/status/error/finish_reason/model/usage/attachments of one message.

        Cheap by design (one indexed UPDATE, no read-back) because a streaming reply is saved at
        least once a second. Unknown field names raise ``TypeError``.
        """
        self._check_fields(fields, MESSAGE_FIELDS)
        if "status" in fields:
            _check_choice("status", fields["status"], STATUSES)
        params: dict[str, Any] = dict(fields)
        if "attachments" in params:
            params["attachments"] = _attachments_json(params["attachments"])
        params["updated_at"] = self._clock()
        params["_id"] = message_id
        sets = ", ".join(_MSG_SET[name] for name in MESSAGE_FIELDS if name in fields)
        sets = sets + ", updated_at = :updated_at" if sets else "updated_at = :updated_at"
        with self.transaction():
            cur = self._conn.execute("UPDATE messages SET " + sets + " WHERE id = :_id", params)
            if cur.rowcount == 0:
                raise NotFoundError(f"No message with id {message_id}")

    def get_message(self, message_id: int) -> Message:
        with self._lock:
            return self._get_message(message_id)

    def _get_message(self, message_id: int | None) -> Message:
        row = self._conn.execute(f"SELECT {_MSG_COLS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No message with id {message_id}")
        return _message(row)

    def _check_in_conversation(self, message_id: int, conversation_id: int) -> None:
        row = self._conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No message with id {message_id}")
        if row[0] != conversation_id:
            raise ValueError(f"Message {message_id} belongs to conversation {row[0]}, not {conversation_id}")

    def siblings(self, message_id: int) -> list[Message]:
        """Messages sharing this one's parent in its conversation (itself included), oldest first."""
        with self._lock:
            msg = self._get_message(message_id)
            rows = self._conn.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id",
                (msg.conversation_id, msg.parent_id),
            ).fetchall()
        return [_message(r) for r in rows]

    def children(self, message_id: int) -> list[Message]:
        """Direct replies/edits under a message, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE parent_id = ? ORDER BY id", (message_id,)
            ).fetchall()
        return [_message(r) for r in rows]

    def active_path(self, conversation_id: int) -> list[Message]:
        """The visible conversation: root -> head along parent links (empty if no head)."""
        with self._lock:
            conv = self._get_conversation(conversation_id)
            return self._path_to(conv.head_id)

    def active_path_ids(self, conversation_id: int) -> list[int]:
        """Ids along the active path, root first: lets a view load message bodies lazily."""
        with self._lock:
            conv = self._get_conversation(conversation_id)
            if conv.head_id is None:
                return []
            rows = self._conn.execute(_PATH_CTE + "SELECT id, depth FROM path", (conv.head_id,)).fetchall()
        rows.sort(key=itemgetter(1), reverse=True)
        return [r[0] for r in rows]

    def get_messages(self, message_ids: Sequence[int]) -> list[Message]:
        """Messages by id, in the order given; ids that do not exist are skipped."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([int(i) for i in message_ids]),),
            ).fetchall()
        by_id = {r[0]: r for r in rows}
        return [_message(by_id[i]) for i in message_ids if i in by_id]

    def _path_to(self, leaf_id: int | None) -> list[Message]:
        if leaf_id is None:
            return []
        rows = self._conn.execute(
            _PATH_CTE + f"SELECT {_MSG_COLS_M}, path.depth FROM path JOIN messages AS m ON m.id = path.id",
            (leaf_id,),
        ).fetchall()
        # Sorting here is cheaper than ORDER BY, which would copy every content into a temp b-tree;
        # the rows usually arrive leaf-first, which timsort handles in linear time.
        rows.sort(key=itemgetter(-1), reverse=True)
        return [_message(r) for r in rows]

    def set_head(self, conversation_id: int, message_id: int) -> None:
        """Make ``message_id`` the head as is (no descent); it must belong to the conversation."""
        with self.transaction():
            self._check_in_conversation(message_id, conversation_id)
            self._conn.execute("UPDATE conversations SET head_id = ? WHERE id = ?", (message_id, conversation_id))

    def _latest_leaf(self, message_id: int) -> int:
        """From ``message_id``, follow the most recently created child until a leaf.

        "Most recently created" is the highest id: ids only grow, whereas wall-clock time can step back.
        """
        row = self._conn.execute(
            """WITH RECURSIVE descent(id, depth) AS (
                   SELECT ?, 0
                   UNION ALL
                   SELECT (SELECT c.id FROM messages AS c WHERE c.parent_id = descent.id
                           ORDER BY c.id DESC LIMIT 1), descent.depth + 1
                   FROM descent WHERE descent.id IS NOT NULL
               )
               SELECT id FROM descent WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1""",
            (message_id,),
        ).fetchone()
        return int(row[0])

    def switch_to(self, message_id: int) -> list[Message]:
        """Activate the branch through ``message_id`` and return the new active path.

        The head becomes the deepest descendant reached by taking the latest child at each step,
        which is what the user last saw on that branch in the common case.
        """
        with self.transaction():
            msg = self._get_message(message_id)
            head = self._latest_leaf(message_id)
            self._conn.execute("UPDATE conversations SET head_id = ? WHERE id = ?", (head, msg.conversation_id))
            return self._path_to(head)

    def count_messages(self, conversation_id: int | None = None) -> int:
        with self._lock:
            if conversation_id is None:
                row = self._conn.execute("SELECT COUNT(*) FROM messages").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
                ).fetchone()
        return int(row[0])

    def messages(self, conversation_id: int) -> list[Message]:
        """Every message of a conversation, all branches, in creation (id) order."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
        return [_message(r) for r in rows]

    def delete_message_subtree(self, message_id: int) -> int:
        """Delete a message and everything under it; return how many messages went.

        If the head was inside the subtree it moves to the latest leaf under the deleted message's
        parent (another branch, or the parent itself), or under the latest remaining root.
        """
        with self.transaction():
            msg = self._get_message(message_id)
            conv = self._get_conversation(msg.conversation_id)
            cur = self._conn.execute(
                """DELETE FROM messages WHERE id IN (
                       WITH RECURSIVE sub(id) AS (
                           SELECT ? UNION ALL SELECT m.id FROM messages AS m JOIN sub ON m.parent_id = sub.id
                       ) SELECT id FROM sub)""",
                (message_id,),
            )
            deleted = cur.rowcount
            still_there = (
                conv.head_id is not None
                and self._conn.execute("SELECT 1 FROM messages WHERE id = ?", (conv.head_id,)).fetchone()
            )
            if not still_there:
                anchor = msg.parent_id
                if anchor is None:
                    row = self._conn.execute(
                        "SELECT MAX(id) FROM messages WHERE conversation_id = ? AND parent_id IS NULL",
                        (msg.conversation_id,),
                    ).fetchone()
                    anchor = row[0]
                head = None if anchor is None else self._latest_leaf(anchor)
                self._conn.execute("UPDATE conversations SET head_id = ? WHERE id = ?", (head, msg.conversation_id))
            return deleted

    # -- search -------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50, *, marks: tuple[str, str] = ("[", "]")) -> list[SearchHit]:
        """Find conversations whose title matches, then messages, best first.

        Every word of ``query`` must occur (as a word prefix). Any text is accepted: it is never
        interpreted as FTS syntax. A query with no indexable characters (e.g. only emoji or
        punctuation) falls back to a plain substring scan. ``marks`` wrap the matched words in
        ``snippet``.
        """
        if limit <= 0 or not query.strip():
            return []
        match = fts_query(query)
        with self._lock:
            if not match:
                return self._substring_search(query.strip(), limit, marks)
            hits = [
                SearchHit(row[0], None, row[1], row[2], None)
                for row in self._conn.execute(
                    """SELECT c.id, c.title, highlight(conversations_fts, 0, ?, ?)
                       FROM conversations_fts JOIN conversations AS c ON c.id = conversations_fts.rowid
                       WHERE conversations_fts MATCH ? ORDER BY rank, c.id LIMIT ?""",
                    (marks[0], marks[1], match, limit),
                )
            ]
            if len(hits) < limit:
                rows = self._conn.execute(
                    """SELECT m.conversation_id, m.id, c.title, f.snip, m.role
                       FROM (SELECT rowid, rank, snippet(messages_fts, 0, ?, ?, '…', 16) AS snip
                             FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?) AS f
                       JOIN messages AS m ON m.id = f.rowid
                       JOIN conversations AS c ON c.id = m.conversation_id
                       ORDER BY f.rank, m.id""",
                    (marks[0], marks[1], match, limit - len(hits)),
                ).fetchall()
                hits.extend(SearchHit(*row) for row in rows)
        return hits

    def _substring_search(self, needle: str, limit: int, marks: tuple[str, str]) -> list[SearchHit]:
        pattern = like_pattern(needle)
        hits = [
            SearchHit(cid, None, title, snippet_around(title, needle, marks), None)
            for cid, title in self._conn.execute(
                "SELECT id, title FROM conversations WHERE title LIKE ? ESCAPE '\\' "
                "ORDER BY updated_at DESC, id DESC LIMIT ?",
                (pattern, limit),
            )
        ]
        if len(hits) < limit:
            rows = self._conn.execute(
                "SELECT m.conversation_id, m.id, c.title, m.content, m.role FROM messages AS m "
                "JOIN conversations AS c ON c.id = m.conversation_id "
                "WHERE m.content LIKE ? ESCAPE '\\' ORDER BY m.id DESC LIMIT ?",
                (pattern, limit - len(hits)),
            ).fetchall()
            hits.extend(
                SearchHit(cid, mid, title, snippet_around(content, needle, marks), role)
                for cid, mid, title, content, role in rows
            )
        return hits

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _check_fields(fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise TypeError(f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")
