"""Content-addressed attachments, and images in chat payloads (stored files, not inline data)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from assistant_app.core.attachments import AttachmentError, AttachmentStore, data_url, load_bytes
from assistant_app.core.chat import build_messages, message_payload
from assistant_app.core.store import Message, Store
from assistant_app.media.images import prepare_image
from tests.support import image_fixtures as F


def message(role: str, content: str, attachments: list[dict]) -> Message:
    return Message(1, 1, None, role, content, "complete", None, None, 0.0, 0.0, attachments=attachments)


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments")


@pytest.fixture
def photo_att(store: AttachmentStore) -> dict:
    prepared = prepare_image(F.jpeg_bytes(F.photo(900, 600), exif=F.private_exif(6)), "high", name="holiday.jpg")
    return store.add_prepared(prepared)


def test_layout_and_dict(store: AttachmentStore, photo_att: dict) -> None:
    sha = photo_att["sha256"]
    assert photo_att["path"] == f"{sha[:2]}/{sha}.jpg"
    assert (store.root / photo_att["path"]).is_file()
    assert photo_att["kind"] == "image" and photo_att["mime"] == "image/jpeg" and photo_att["name"] == "holiday.jpg"
    assert (photo_att["width"], photo_att["height"]) == (600, 900)  # EXIF orientation applied
    assert photo_att["detail"] == "high" and "note" not in photo_att
    assert hashlib.sha256(store.load_bytes(photo_att)).hexdigest() == sha
    json.dumps(photo_att)  # storable as JSON on the message


def test_same_bytes_same_file_different_bytes_other_file(store: AttachmentStore) -> None:
    a = store.add_image(b"\x89PNG same", mime="image/png", name="one.png", width=1, height=1)
    b = store.add_image(b"\x89PNG same", mime="image/png", name="two.png", width=1, height=1, detail="low")
    c = store.add_image(b"\x89PNG other", mime="image/png", name="three.png", width=1, height=1)
    assert a["path"] == b["path"] != c["path"]
    assert a["name"] == "one.png" and b["name"] == "two.png" and b["detail"] == "low"
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert len(files) == 2 and not [p for p in files if p.name.startswith(".incoming")]


def test_note_and_extra_keys(store: AttachmentStore) -> None:
    att = store.add_prepared(prepare_image(F.animated_gif(), name="anim.gif"))
    assert "first frame" in att["note"]
    gen = store.add_image(b"x", mime="image/png", name="g.png", width=1, height=1, generated_by="gpt-image-1")
    assert gen["generated_by"] == "gpt-image-1"


def test_changed_missing_and_escaping_files_are_refused(store: AttachmentStore, photo_att: dict) -> None:
    path = store.root / photo_att["path"]
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(AttachmentError, match="changed"):
        store.load_bytes(photo_att)
    path.unlink()
    with pytest.raises(AttachmentError, match="missing"):
        store.load_bytes(photo_att)
    for bad in ("../../etc/passwd", "/etc/passwd", "", None, "ab\\..\\x"):
        with pytest.raises(AttachmentError):
            store.load_bytes({**photo_att, "path": bad})


def test_module_functions_use_app_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_APP_HOME", str(tmp_path / "home"))
    att = AttachmentStore.default().add_image(b"GIF89a-bytes", mime="image/gif", name="a.gif", width=1, height=1)
    assert (tmp_path / "home" / "data" / "attachments" / att["path"]).is_file()
    assert load_bytes(att) == b"GIF89a-bytes"
    assert data_url(att) == "data:image/gif;base64," + base64.b64encode(b"GIF89a-bytes").decode()


def test_payload_sends_stored_images_as_data_urls(store: AttachmentStore, photo_att: dict) -> None:
    low = store.add_prepared(prepare_image(F.transparent_png(), "low", name="s.png"))
    payload = message_payload(message("user", "What is in these?", [photo_att, low]), store)
    text, first, second = payload["content"]
    assert payload["role"] == "user" and text == {"type": "text", "text": "What is in these?"}
    assert first["type"] == "image_url" and first["image_url"]["detail"] == "high"
    assert second["image_url"]["detail"] == "low"
    head, b64 = first["image_url"]["url"].split(",", 1)
    assert head == "data:image/jpeg;base64" and base64.b64decode(b64) == store.load_bytes(photo_att)
    assert second["image_url"]["url"].startswith("data:image/png;base64,")
    assert "data_url" not in photo_att  # the database row holds a path, never the bytes


def test_payload_without_text_and_for_assistant_messages(store: AttachmentStore, photo_att: dict) -> None:
    only_image = message_payload(message("user", "", [photo_att]), store)
    assert [p["type"] for p in only_image["content"]] == ["image_url"]
    reply = message_payload(message("assistant", "A cat.", [photo_att]), store)
    assert reply == {"role": "assistant", "content": "A cat."}
    other = message_payload(message("user", "hi", [{"kind": "file", "path": "x"}]), store)
    assert other == {"role": "user", "content": "hi"}


def test_payload_replaces_a_missing_file_with_a_note(store: AttachmentStore, photo_att: dict) -> None:
    (store.root / photo_att["path"]).unlink()
    parts = message_payload(message("user", "look", [photo_att]), store)["content"]
    assert parts[1]["type"] == "text" and "holiday.jpg" in parts[1]["text"] and "unavailable" in parts[1]["text"]
    assert str(store.root) not in json.dumps(parts)  # no local paths leak to the server


def test_payload_keeps_inline_data_urls_of_older_messages(store: AttachmentStore) -> None:
    legacy = {"kind": "image", "data_url": "data:image/png;base64,AAAA", "detail": "low"}
    parts = message_payload(message("user", "old", [legacy]), store)["content"]
    assert parts[1]["image_url"] == {"url": "data:image/png;base64,AAAA", "detail": "low"}


def test_regenerate_path_resends_images_from_the_stored_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_APP_HOME", str(tmp_path / "home"))
    att = AttachmentStore.default().add_prepared(prepare_image(F.png_bytes(F.halves(80, 60)), "low", name="d.png"))
    db = Store(":memory:")
    try:
        conv = db.create_conversation()
        user = db.add_message(conv.id, "user", "describe", parent_id=None, attachments=[att])
        db.add_message(conv.id, "assistant", "A red and blue square.", parent_id=user.id)
        for _ in range(2):  # first send and a later regenerate both rebuild from the database
            msgs = build_messages(db.switch_to(user.id), "Be brief.")
            assert msgs[0] == {"role": "system", "content": "Be brief."}
            image = msgs[1]["content"][1]["image_url"]
            assert image["detail"] == "low" and base64.b64decode(image["url"].split(",", 1)[1]) == load_bytes(att)
    finally:
        db.close()
