"""`assistant-app image` and `assistant-app chat --image` as real processes against the loopback server."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.harness import REPO
from tests.support import image_fixtures as F
from tests.support import schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e
KEY = "sk-cli-images-test-0000"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY, chat_reply="I see two pictures.") as srv:
        srv.image_max_side = 128
        srv.validate_requests = True
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.clear_requests()
    server.clear_faults()
    yield server
    server.clear_faults()


def run_cli(home: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        ASSISTANT_APP_HOME=str(home),
        OPENAI_API_KEY=KEY,
        OPENAI_BASE_URL=base_url,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",  # the key comes from the environment
    )
    return subprocess.run([sys.executable, "-m", "assistant_app", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def rows(home: Path, sql: str) -> list[tuple]:
    db = home / "data" / "assistant.sqlite3"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def messages(home: Path) -> list[tuple[str, str, str, list[dict]]]:
    found = rows(home, "SELECT role, content, status, attachments FROM messages ORDER BY id")
    return [(r, c, s, json.loads(a)) for r, c, s, a in found]


def test_image_writes_the_file_and_records_it_in_history(tmp_path: Path, srv: FakeOpenAI) -> None:
    home, out = tmp_path / "home", tmp_path / "fox.png"
    proc = run_cli(home, srv.base_url, "image", "a red fox in snow", "--out", str(out), "--model", "gpt-image-1",
                   "--size", "1536x1024", "--quality", "low")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    data = out.read_bytes()
    assert Image.open(io.BytesIO(data)).format == "PNG"
    (req,) = srv.requests
    schema.validate_recorded(req)
    assert req.json == {"model": "gpt-image-1", "prompt": "a red fox in snow", "size": "1536x1024",
                        "quality": "low", "output_format": "png"}  # fmt: skip
    (user, reply) = messages(home)
    assert user[:3] == ("user", "a red fox in snow", "complete")
    assert reply[0] == "assistant" and reply[2] == "complete"
    (att,) = reply[3]
    assert att["kind"] == "image" and att["name"] == "fox.png" and att["mime"] == "image/png"
    assert att["sha256"] == hashlib.sha256(data).hexdigest()
    assert (home / "data" / "attachments" / att["path"]).read_bytes() == data
    assert (att["width"], att["height"]) == Image.open(io.BytesIO(data)).size
    assert rows(home, "SELECT title, model FROM conversations") == [("a red fox in snow", "gpt-image-1")]


def test_image_jpeg_output_and_several_images(tmp_path: Path, srv: FakeOpenAI) -> None:
    home, out = tmp_path / "home", tmp_path / "cat.jpg"
    proc = run_cli(home, srv.base_url, "image", "a cat", "--out", str(out), "--n", "2")
    assert proc.returncode == 0, proc.stderr
    second = tmp_path / "cat-2.jpg"
    assert proc.stdout.split() == [str(out), str(second)]
    assert [Image.open(p).format for p in (out, second)] == ["JPEG", "JPEG"]
    assert srv.requests[0].json["output_format"] == "jpeg" and srv.requests[0].json["n"] == 2
    assert [a["name"] for a in messages(home)[1][3]] == ["cat.jpg", "cat-2.jpg"]


def test_dalle3_png_converted_for_a_webp_file_and_revised_prompt_kept(tmp_path: Path, srv: FakeOpenAI) -> None:
    home, out = tmp_path / "home", tmp_path / "dog.webp"
    proc = run_cli(home, srv.base_url, "image", "a dog", "--out", str(out), "--model", "dall-e-3")
    assert proc.returncode == 0, proc.stderr
    assert Image.open(out).format == "WEBP"
    assert srv.requests[0].json["response_format"] == "b64_json"
    reply = messages(home)[1]
    assert reply[1].startswith("Revised prompt: ") and reply[3][0]["mime"] == "image/webp"


def test_image_bad_options_exit_2_and_record_nothing(tmp_path: Path, srv: FakeOpenAI) -> None:
    home = tmp_path / "home"
    proc = run_cli(home, srv.base_url, "image", "two dogs", "--out", str(tmp_path / "d.png"), "--model", "dall-e-3",
                   "--n", "2")  # fmt: skip
    assert proc.returncode == 2 and "dall-e-3 makes one image per request" in proc.stderr
    assert srv.requests == [] and messages(home) == []
    proc = run_cli(home, srv.base_url, "image", "x", "--out", str(tmp_path / "no" / "such" / "dir.png"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_image_content_policy_failure(tmp_path: Path, srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.http_error(400, "Your request was rejected as a result of our safety system.",
                                       "invalid_request_error", "content_policy_violation"))  # fmt: skip
    home, out = tmp_path / "home", tmp_path / "bad.png"
    proc = run_cli(home, srv.base_url, "image", "something refused", "--out", str(out))
    assert proc.returncode == 1
    assert "content policy" in proc.stderr and KEY not in proc.stderr
    assert not out.exists()
    (user, reply) = messages(home)
    assert user[1] == "something refused" and reply[2] == "error" and reply[3] == []


def test_chat_with_images_sends_stripped_data_urls(tmp_path: Path, srv: FakeOpenAI) -> None:
    home = tmp_path / "home"
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(F.jpeg_bytes(F.photo(1200, 900), exif=F.private_exif(6), private=True))
    shot = tmp_path / "screen.png"
    shot.write_bytes(F.transparent_png())
    proc = run_cli(home, srv.base_url, "chat", "What are these?", "--image", str(photo), "-i", str(shot),
                   "--model", "gpt-4o")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "I see two pictures." in proc.stdout and "may not accept images" not in proc.stderr
    (req,) = srv.requests
    schema.validate_recorded(req)
    parts = req.json["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "image_url"]
    sent = []
    for part, mime in zip(parts[1:], ("image/jpeg", "image/png"), strict=True):
        head, b64 = part["image_url"]["url"].split(",", 1)
        assert head == f"data:{mime};base64" and part["image_url"]["detail"] == "auto"
        sent.append(base64.b64decode(b64))
    im = Image.open(io.BytesIO(sent[0]))
    assert im.size == (768, 1024)  # rotated upright, then short side 768
    assert len(im.getexif()) == 0 and F.SECRET_MAKE.encode() not in sent[0] and F.SECRET_COMMENT not in sent[0]
    user = messages(home)[0]
    assert [a["name"] for a in user[3]] == ["holiday.jpg", "screen.png"]
    assert "data_url" not in json.dumps(user[3])
    assert [hashlib.sha256(b).hexdigest() for b in sent] == [a["sha256"] for a in user[3]]


def test_chat_warns_when_the_model_cannot_see_images(tmp_path: Path, srv: FakeOpenAI) -> None:
    pic = tmp_path / "p.png"
    pic.write_bytes(F.png_bytes(F.halves(40, 40)))
    proc = run_cli(tmp_path / "home", srv.base_url, "chat", "hi", "--image", str(pic), "--model", "gpt-3.5-turbo")
    assert proc.returncode == 0 and "gpt-3.5-turbo may not accept images" in proc.stderr


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [("notes.png", b"not a picture at all", "not an image"), ("empty.jpg", b"", "0 bytes"), ("v.svg", F.SVG, "SVG")],
)
def test_chat_with_a_bad_image_sends_nothing(tmp_path: Path, srv: FakeOpenAI, name: str, data: bytes,
                                             words: str) -> None:  # fmt: skip
    home = tmp_path / "home"
    good, bad = tmp_path / "good.png", tmp_path / name
    good.write_bytes(F.png_bytes(F.halves(40, 40)))
    bad.write_bytes(data)
    proc = run_cli(home, srv.base_url, "chat", "look", "--image", str(good), "--image", str(bad))
    assert proc.returncode == 2
    assert words in proc.stderr and name in proc.stderr
    assert srv.requests == [] and messages(home) == [] and rows(home, "SELECT id FROM conversations") == []
    assert not (home / "data" / "attachments").exists()  # nothing stored either
