"""Tests for assistant_app.core.store (plain pytest, no Qt)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from assistant_app.core.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    NotFoundError,
    SchemaTooNewError,
    Store,
    fts_query,
    migrate,
    schema_version,
)


class FakeClock:
    """Strictly increasing fake time so ordering by timestamps is testable without sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def store() -> Store:
    s = Store(":memory:", clock=FakeClock())
    yield s
    s.close()


def fts_ok(store: Store) -> None:
    """FTS5's own check that the index matches the content table."""
    store.connection.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    store.connection.execute("INSERT INTO conversations_fts(conversations_fts, rank) VALUES ('integrity-check', 1)")


# ---------------------------------------------------------------- connection & schema


def test_pragmas_on_file_db(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as s:
        conn = s.connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert s.schema_version == SCHEMA_VERSION


def test_migrations_are_ordered_and_idempotent(tmp_path: Path) -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))
    path = tmp_path / "b.db"
    Store(path).close()
    with Store(path) as s:  # reopening applies nothing new
        rows = s.connection.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert [r[0] for r in rows] == versions
        assert migrate(s.connection) == SCHEMA_VERSION


def test_migration_steps_tolerate_rerun() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)
    for migration in MIGRATIONS:
        for step in migration.steps:
            if isinstance(step, str):
                conn.execute(step)
            else:
                step(conn)
    conn.close()


def test_v1_database_migrates_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    assert migrate(conn, target=1) == 1
    conn.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES ('Old trip plans', 1, 2)")
    conn.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at, updated_at) "
        "VALUES (1, NULL, 'user', 'Where is Reykjavik?', 'complete', 1, 1)"
    )
    conn.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at, updated_at) "
        "VALUES (1, 1, 'assistant', 'In Iceland', 'streaming', 2, 2)"
    )
    conn.execute("UPDATE conversations SET head_id = 2 WHERE id = 1")
    cols = {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
    assert "prompt_tokens" not in cols
    conn.close()

    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        path_msgs = s.active_path(1)
        assert [m.content for m in path_msgs] == ["Where is Reykjavik?", "In Iceland"]
        assert path_msgs[1].status == "incomplete"  # crash recovery ran after migrating
        assert path_msgs[1].prompt_tokens is None and path_msgs[1].attachments == []
        assert s.get_conversation(1).top_p is None
        # Content written before FTS existed is searchable.
        assert [h.message_id for h in s.search("reykjav")] == [1]
        assert [h.conversation_id for h in s.search("trip") if h.message_id is None] == [1]
        s.update_message(2, prompt_tokens=12, completion_tokens=3)
        assert s.get_message(2).prompt_tokens == 12
        fts_ok(s)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version(version, applied_at) VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError):
        Store(path)


def test_failed_migration_rolls_back() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, target=1)
    conn.execute("CREATE TABLE messages_fts(x)")  # makes v2's CREATE VIRTUAL TABLE IF NOT EXISTS a no-op...
    with pytest.raises(sqlite3.DatabaseError):  # ...so its 'rebuild' fails on a plain table
        migrate(conn)
    assert schema_version(conn) == 1
    triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert triggers == []
    conn.close()


# ---------------------------------------------------------------- conversations


def test_conversation_crud(store: Store) -> None:
    a = store.create_conversation()
    b = store.create_conversation("Second", model="gpt-4o", temperature=0.2, system_prompt="Be brief")
    assert a.title == "New chat" and a.head_id is None
    assert (b.model, b.temperature, b.system_prompt) == ("gpt-4o", 0.2, "Be brief")
    assert store.count_conversations() == 2
    assert [c.id for c in store.list_conversations()] == [b.id, a.id]

    store.add_message(a.id, "user", "hi", parent_id=None)  # activity bumps a to the top
    assert [c.id for c in store.list_conversations()] == [a.id, b.id]
    assert [c.id for c in store.list_conversations(limit=1)] == [a.id]
    assert [c.id for c in store.list_conversations(limit=1, offset=1)] == [b.id]

    assert store.rename_conversation(a.id, "Renamed").title == "Renamed"
    c = store.update_conversation(a.id, provider_id="local", top_p=0.9, max_tokens=256, model="m1")
    assert (c.provider_id, c.top_p, c.max_tokens, c.model, c.title) == ("local", 0.9, 256, "m1", "Renamed")
    assert store.get_conversation(a.id) == c
    store.update_conversation(a.id, model=None)
    assert store.get_conversation(a.id).model is None

    with pytest.raises(TypeError):
        store.update_conversation(a.id, title="nope")
    with pytest.raises(TypeError):
        store.update_conversation(a.id, **{"model = 'x'; --": 1})
    with pytest.raises(TypeError):
        store.create_conversation("x", colour="red")
    with pytest.raises(NotFoundError):
        store.get_conversation(999)
    with pytest.raises(NotFoundError):
        store.rename_conversation(999, "x")
    with pytest.raises(NotFoundError):
        store.update_conversation(999, model="x")


def test_titles_are_stored_verbatim(store: Store) -> None:
    title = 'Robert\'); DROP TABLE conversations;-- "quoted" 😀'
    conv = store.create_conversation(title)
    assert store.get_conversation(conv.id).title == title
    assert store.count_conversations() == 1


def test_delete_conversation_cascades(store: Store) -> None:
    keep = store.create_conversation("keep")
    store.add_message(keep.id, "user", "keeper text", parent_id=None)
    doomed = store.create_conversation("doomed")
    root = store.add_message(doomed.id, "user", "doomed text", parent_id=None)
    reply = store.add_message(doomed.id, "assistant", "doomed reply", parent_id=root.id)
    store.add_message(doomed.id, "assistant", "doomed alternative", parent_id=root.id)
    store.add_messages(doomed.id, [{"role": "user", "content": f"deep {i}"} for i in range(1500)], parent_id=reply.id)

    store.delete_conversation(doomed.id)
    assert store.count_messages() == 1
    assert store.count_messages(doomed.id) == 0
    with pytest.raises(NotFoundError):
        store.get_message(root.id)
    assert store.search("doomed") == []
    assert [h.message_id for h in store.search("keeper")] == [1]
    fts_ok(store)
    with pytest.raises(NotFoundError):
        store.delete_conversation(doomed.id)


# ---------------------------------------------------------------- messages & tree


def test_add_and_update_message(store: Store) -> None:
    conv = store.create_conversation()
    before = store.get_conversation(conv.id).updated_at
    att = [{"name": "cat.png", "path": "/data/att/ab/cd.png", "mime": "image/png", "size": 12}]
    u = store.add_message(conv.id, "user", "look", parent_id=None, attachments=att)
    assert u.attachments == att and u.status == "complete" and u.parent_id is None
    a = store.add_message(conv.id, "assistant", "", parent_id=u.id, status="streaming", model="gpt-4o")
    after = store.get_conversation(conv.id)
    assert after.head_id == a.id and after.updated_at > before

    store.update_message(a.id, content="A cat")
    store.update_message(
        a.id,
        content="A cat on a mat",
        status="complete",
        finish_reason="stop",
        prompt_tokens=10,
        cached_tokens=2,
        completion_tokens=5,
        reasoning_tokens=0,
        ttft_ms=120.5,
        tokens_per_s=42.0,
    )
    m = store.get_message(a.id)
    assert (m.content, m.status, m.finish_reason, m.model) == ("A cat on a mat", "complete", "stop", "gpt-4o")
    assert (m.prompt_tokens, m.cached_tokens, m.completion_tokens, m.reasoning_tokens) == (10, 2, 5, 0)
    assert (m.ttft_ms, m.tokens_per_s) == (120.5, 42.0)
    assert m.updated_at > m.created_at

    store.update_message(a.id, status="error", error="Connection dropped")
    assert store.get_message(a.id).error == "Connection dropped"

    with pytest.raises(TypeError):
        store.update_message(a.id, role="user")
    with pytest.raises(ValueError):
        store.update_message(a.id, status="weird")
    with pytest.raises(NotFoundError):
        store.update_message(12345, content="x")
    with pytest.raises(ValueError):
        store.add_message(conv.id, "robot", "x", parent_id=None)
    with pytest.raises(NotFoundError):
        store.add_message(conv.id, "user", "x", parent_id=9999)
    with pytest.raises(NotFoundError):
        store.add_message(9999, "user", "x", parent_id=None)
    other = store.create_conversation()
    with pytest.raises(ValueError):  # a parent from another conversation
        store.add_message(other.id, "user", "x", parent_id=u.id)
    assert store.count_messages(conv.id) == 2 and store.count_messages(other.id) == 0


def test_edit_creates_sibling_and_keeps_old_branch(store: Store) -> None:
    conv = store.create_conversation()
    q1 = store.add_message(conv.id, "user", "Q1", parent_id=None)
    a1 = store.add_message(conv.id, "assistant", "A1", parent_id=q1.id)
    q2 = store.add_message(conv.id, "user", "Q2", parent_id=a1.id)
    a2 = store.add_message(conv.id, "assistant", "A2", parent_id=q2.id)
    assert [m.id for m in store.active_path(conv.id)] == [q1.id, a1.id, q2.id, a2.id]

    # Edit Q2 and resend: the edit is a sibling of Q2.
    q2b = store.add_message(conv.id, "user", "Q2 edited", parent_id=a1.id)
    a2b = store.add_message(conv.id, "assistant", "A2 for edit", parent_id=q2b.id)
    assert [m.content for m in store.active_path(conv.id)] == ["Q1", "A1", "Q2 edited", "A2 for edit"]
    assert [m.id for m in store.siblings(q2.id)] == [q2.id, q2b.id]
    assert [m.id for m in store.siblings(q2b.id)] == [q2.id, q2b.id]
    assert [m.id for m in store.siblings(a2.id)] == [a2.id]
    assert [m.id for m in store.children(a1.id)] == [q2.id, q2b.id]

    # Old branch is still there; switching back restores it.
    path = store.switch_to(q2.id)
    assert [m.id for m in path] == [q1.id, a1.id, q2.id, a2.id]
    assert store.get_conversation(conv.id).head_id == a2.id
    assert store.switch_to(q2b.id)[-1].id == a2b.id


def test_siblings_of_roots_stay_in_their_conversation(store: Store) -> None:
    c1, c2 = store.create_conversation(), store.create_conversation()
    r1 = store.add_message(c1.id, "user", "one", parent_id=None)
    store.add_message(c2.id, "user", "other conv", parent_id=None)
    r1b = store.add_message(c1.id, "user", "one edited", parent_id=None)
    assert [m.id for m in store.siblings(r1.id)] == [r1.id, r1b.id]
    assert [m.content for m in store.active_path(c1.id)] == ["one edited"]


def test_switch_to_follows_latest_child_to_deepest_leaf(store: Store) -> None:
    conv = store.create_conversation()
    root = store.add_message(conv.id, "user", "root", parent_id=None)
    b1 = store.add_message(conv.id, "assistant", "b1", parent_id=root.id)
    b1_deep = store.add_message(conv.id, "user", "b1 child", parent_id=b1.id)
    b1_deeper_old = store.add_message(conv.id, "assistant", "b1 old", parent_id=b1_deep.id)
    b1_deeper_new = store.add_message(conv.id, "assistant", "b1 regenerated", parent_id=b1_deep.id)
    b2 = store.add_message(conv.id, "assistant", "b2", parent_id=root.id)
    assert store.get_conversation(conv.id).head_id == b2.id

    path = store.switch_to(b1.id)
    assert [m.id for m in path] == [root.id, b1.id, b1_deep.id, b1_deeper_new.id]
    assert store.get_conversation(conv.id).head_id == b1_deeper_new.id
    # From the root the latest child is b2, a leaf.
    assert [m.id for m in store.switch_to(root.id)] == [root.id, b2.id]
    # Switching to a leaf makes it the head.
    assert store.switch_to(b1_deeper_old.id)[-1].id == b1_deeper_old.id
    with pytest.raises(NotFoundError):
        store.switch_to(9999)


def test_set_head(store: Store) -> None:
    conv = store.create_conversation()
    other = store.create_conversation()
    q = store.add_message(conv.id, "user", "q", parent_id=None)
    a = store.add_message(conv.id, "assistant", "a", parent_id=q.id)
    foreign = store.add_message(other.id, "user", "elsewhere", parent_id=None)
    store.set_head(conv.id, q.id)  # no descent, unlike switch_to
    assert [m.id for m in store.active_path(conv.id)] == [q.id]
    with pytest.raises(ValueError):
        store.set_head(conv.id, foreign.id)
    store.set_head(conv.id, a.id)
    assert [m.id for m in store.active_path(conv.id)] == [q.id, a.id]
    empty = store.create_conversation().id
    assert store.active_path(empty) == [] and store.active_path_ids(empty) == []


def test_active_path_of_long_conversation(store: Store) -> None:
    conv = store.create_conversation()
    ids = store.add_messages(
        conv.id, ({"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(5000))
    )
    # A side branch must not appear on the path.
    store.add_message(conv.id, "assistant", "side", parent_id=ids[100])
    store.set_head(conv.id, ids[-1])
    path = store.active_path(conv.id)
    assert [m.id for m in path] == ids
    assert path[0].parent_id is None and path[-1].content == "m4999"
    assert store.active_path_ids(conv.id) == ids
    some = [ids[10], ids[3], 999_999, ids[4999]]
    assert [m.content for m in store.get_messages(some)] == ["m10", "m3", "m4999"]
    assert store.get_messages([]) == []
    assert store.count_messages(conv.id) == 5001


def test_add_messages_validates_and_is_atomic(store: Store) -> None:
    conv = store.create_conversation()
    with pytest.raises(ValueError):
        store.add_messages(conv.id, [{"role": "user", "content": "ok"}, {"role": "bad", "content": "x"}])
    assert store.count_messages() == 0
    assert store.get_conversation(conv.id).head_id is None


def test_delete_message_subtree_moves_head(store: Store) -> None:
    conv = store.create_conversation()
    q = store.add_message(conv.id, "user", "q", parent_id=None)
    a_old = store.add_message(conv.id, "assistant", "old", parent_id=q.id)
    a_new = store.add_message(conv.id, "assistant", "new", parent_id=q.id)
    tail = store.add_messages(
        conv.id, [{"role": "user", "content": "more"}, {"role": "assistant", "content": "x"}], parent_id=a_new.id
    )
    assert store.delete_message_subtree(a_new.id) == 3
    assert [m.id for m in store.active_path(conv.id)] == [q.id, a_old.id]
    with pytest.raises(NotFoundError):
        store.get_message(tail[0])
    # Deleting a branch that is not active leaves the head alone.
    extra = store.add_message(conv.id, "assistant", "extra", parent_id=q.id)
    store.switch_to(a_old.id)
    store.delete_message_subtree(extra.id)
    assert store.get_conversation(conv.id).head_id == a_old.id
    assert store.delete_message_subtree(q.id) == 2
    assert store.get_conversation(conv.id).head_id is None and store.count_messages(conv.id) == 0
    fts_ok(store)


# ---------------------------------------------------------------- crash recovery


def test_streaming_becomes_incomplete_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    s = Store(path)
    conv = s.create_conversation()
    q = s.add_message(conv.id, "user", "tell me a story", parent_id=None)
    a = s.add_message(conv.id, "assistant", "Once upon", parent_id=q.id, status="streaming")
    s.update_message(a.id, content="Once upon a time")
    done = s.add_message(conv.id, "assistant", "fine", parent_id=q.id, status="stopped")
    # Simulate a crash: no orderly close of the Store, the connection just goes away.
    s.connection.close()

    with Store(path) as reopened:
        assert reopened.recovered_count == 1
        m = reopened.get_message(a.id)
        assert (m.status, m.content) == ("incomplete", "Once upon a time")
        assert reopened.get_message(q.id).status == "complete"
        assert reopened.get_message(done.id).status == "stopped"
    with Store(path) as again:
        assert again.recovered_count == 0


# ---------------------------------------------------------------- search


def test_search_finds_messages_and_titles(store: Store) -> None:
    trip = store.create_conversation("Iceland itinerary")
    q = store.add_message(trip.id, "user", "What should I pack for hiking near glaciers?", parent_id=None)
    a = store.add_message(trip.id, "assistant", "Pack crampons and layered clothing.", parent_id=q.id)
    code = store.create_conversation("C++ help")
    store.add_message(code.id, "user", "Why does std::vector reallocate?", parent_id=None)

    hits = store.search("glacier")  # prefix
    assert [(h.conversation_id, h.message_id, h.role) for h in hits] == [(trip.id, q.id, "user")]
    assert hits[0].conversation_title == "Iceland itinerary"
    assert "[glaciers]" in hits[0].snippet

    title_hits = store.search("itin")
    assert [(h.conversation_id, h.message_id) for h in title_hits] == [(trip.id, None)]
    assert "[Iceland itinerary]" not in title_hits[0].snippet and "[itinerary]" in title_hits[0].snippet

    assert [h.message_id for h in store.search("PACK layered")] == [a.id]  # all words, any case
    assert store.search("pack nonexistentword") == []
    assert len(store.search("pack", limit=1)) == 1
    assert store.search("pack", limit=0) == []
    hl = store.search("crampons", marks=("<b>", "</b>"))
    assert "<b>crampons</b>" in hl[0].snippet


def test_search_diacritics_fold(store: Store) -> None:
    conv = store.create_conversation()
    m = store.add_message(conv.id, "user", "Un café à Zürich", parent_id=None)
    assert [h.message_id for h in store.search("cafe zurich")] == [m.id]


def test_fts_follows_updates_and_deletes(store: Store) -> None:
    conv = store.create_conversation("Colours")
    m = store.add_message(conv.id, "assistant", "The sky is blue", parent_id=None, status="streaming")
    assert [h.message_id for h in store.search("blue")] == [m.id]
    store.update_message(m.id, content="The sky is crimson at dusk")
    assert store.search("blue") == []
    assert [h.message_id for h in store.search("crimson")] == [m.id]
    store.update_message(m.id, status="complete")  # non-content update keeps the index right
    assert [h.message_id for h in store.search("crimson")] == [m.id]
    fts_ok(store)

    store.rename_conversation(conv.id, "Palette ideas")
    assert [h.conversation_id for h in store.search("palette")] == [conv.id]
    assert store.search("colours") == []

    store.delete_message_subtree(m.id)
    assert store.search("crimson") == []
    fts_ok(store)


@pytest.mark.parametrize(
    "query",
    ['"', "AND", "*", "foo OR", "c++", "🎉", "NEAR(", "a:b", "^start", "(", ")", "''", "-x", "NOT", "\\",
     "col:value", '"unterminated', "foo AND OR NOT bar", "   ", "", "%", "_", "\x00", "a" * 5000],
)  # fmt: skip
def test_hostile_queries_never_raise(store: Store, query: str) -> None:
    conv = store.create_conversation("Ordinary")
    store.add_message(conv.id, "user", "ordinary text with foo and c++ and 🎉 party 100% a_b", parent_id=None)
    hits = store.search(query)
    assert isinstance(hits, list)


def test_hostile_queries_match_literally(store: Store) -> None:
    conv = store.create_conversation("Operators")
    plain = store.add_message(conv.id, "user", "I like foo", parent_id=None)
    op = store.add_message(conv.id, "user", "AND gates and OR gates", parent_id=plain.id)
    party = store.add_message(conv.id, "user", "party time 🎉", parent_id=op.id)
    pct = store.add_message(conv.id, "user", "discount 100%_off", parent_id=party.id)
    assert {h.message_id for h in store.search("foo OR")} == set()  # both words required, OR is a word
    assert {h.message_id for h in store.search("gates OR")} == {op.id}
    assert {h.message_id for h in store.search("AND")} == {op.id}
    assert [h.message_id for h in store.search("🎉")] == [party.id]  # no tokens: substring fallback
    assert "[🎉]" in store.search("🎉")[0].snippet
    assert [h.message_id for h in store.search("%_")] == [pct.id]  # LIKE wildcards are escaped
    assert store.search("%%") == []
    assert store.search('"') == [] and store.search("*") == []


def test_fts_query_quoting() -> None:
    assert fts_query("foo bar") == '"foo"* "bar"*'
    assert fts_query('say "hi"') == '"say"* """hi"""*'
    assert fts_query("AND * OR") == '"AND"* "OR"*'
    assert fts_query("🎉 ... ---") == ""
    assert fts_query("c++") == '"c++"*'


# ---------------------------------------------------------------- threads


def test_shared_with_a_worker_thread(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db", check_same_thread=False) as s:
        conv = s.create_conversation()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                s.add_messages(conv.id, [{"role": "user", "content": f"from worker {i}"} for i in range(50)])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        t = threading.Thread(target=work)
        t.start()
        t.join(timeout=30)
        assert not t.is_alive() and errors == []
        assert s.count_messages(conv.id) == 50


def test_default_store_refuses_other_threads(tmp_path: Path) -> None:
    with Store(tmp_path / "u.db") as s:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                s.count_conversations()
            except sqlite3.ProgrammingError as exc:
                errors.append(exc)

        t = threading.Thread(target=work)
        t.start()
        t.join(timeout=30)
        assert len(errors) == 1


def test_search_snippets_read_as_text_not_markdown() -> None:
    from assistant_app.core.search_text import MATCH_END, MATCH_START, readable_snippet

    raw = (
        f"…3. `{MATCH_START}Counter{MATCH_END}.most_common(n)` sorts **by** frequency.\n\n"
        "| Approach | Memory |\n|:--|--:|\n| Read all | whole …\n```python\nx = 1\n```\n## Next"
    )
    text = readable_snippet(raw)
    expected = f"…3. {MATCH_START}Counter{MATCH_END}.most_common(n) sorts by frequency. · Approach · Memory · "
    assert text == expected + "Read all · whole … x = 1 Next"
    assert readable_snippet("plain words") == "plain words"


def test_a_damaged_file_is_reported_as_damaged_and_can_be_set_aside(tmp_path: Path) -> None:
    from assistant_app.core.store import StoreDamagedError, StoreError, set_aside

    path = tmp_path / "assistant.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreDamagedError, match="is damaged"):
        Store(path)
    (tmp_path / "assistant.sqlite3-wal").write_bytes(b"wal")  # its write-ahead log goes with it
    kept = set_aside(path, clock=lambda: 1_800_000_000)
    assert not path.exists() and kept.read_bytes() == b"garbage" * 1000
    assert kept.name.startswith("assistant.sqlite3.damaged-") and kept.with_name(kept.name + "-wal").exists()
    again = tmp_path / "assistant.sqlite3"
    again.write_bytes(b"more garbage")
    assert set_aside(again, clock=lambda: 1_800_000_000) != kept  # same second: a new name, nothing overwritten
    Store(path).close()  # a fresh database where the damaged one was
    with pytest.raises(StoreError, match="cannot be opened"):
        Store(tmp_path)  # a directory
