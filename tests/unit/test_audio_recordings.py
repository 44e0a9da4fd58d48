"""assistant_app.media.recordings: kept until transcribed, across restarts; save-as; crash leftovers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from assistant_app.core.paths import app_paths
from assistant_app.media.encoding import FORMATS, EncodedAudio
from assistant_app.media.recordings import FAILED, PENDING, TRANSCRIBED, RecordingStore


def part(payload: bytes, seconds: float = 1.5) -> EncodedAudio:
    return EncodedAudio(payload, FORMATS["ogg-vorbis"], seconds)


def test_a_recording_survives_a_restart_until_transcribed(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "recordings")
    rec = store.add([part(b"OggS-first")], duration=1.5)
    assert rec.status == PENDING and rec.mime == "audio/ogg"

    reopened = RecordingStore(tmp_path / "recordings")  # the app restarted
    assert [r.id for r in reopened.pending()] == [rec.id]
    (audio,) = reopened.read_parts(reopened.get(rec.id))
    assert audio.data == b"OggS-first"
    assert audio.filename.endswith(".ogg") and audio.mime == "audio/ogg"

    reopened.mark_failed(rec.id, "The server is overloaded (503).")
    again = RecordingStore(tmp_path / "recordings")
    assert again.get(rec.id).status == FAILED
    assert again.get(rec.id).error == "The server is overloaded (503)."
    assert [r.id for r in again.pending()] == [rec.id]

    again.mark_transcribed(rec.id, "hello")
    assert again.pending() == []
    assert list((tmp_path / "recordings").iterdir()) == []  # deleted after success


def test_a_kept_recording_is_not_deleted_after_success(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    rec = store.add([part(b"a")])
    store.keep(rec.id)
    store.mark_transcribed(rec.id, "the words")
    kept = store.get(rec.id)
    assert kept.status == TRANSCRIBED and kept.text == "the words"
    assert store.pending() == []
    assert store.read_parts(kept)[0].data == b"a"


def test_pending_is_oldest_first_and_several_parts_are_kept_in_order(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    first = store.add([part(b"1")])
    second = store.add([part(b"2a"), part(b"2b")], duration=3.0)
    assert [r.id for r in store.pending()] == [first.id, second.id]
    assert [p.data for p in store.read_parts(second)] == [b"2a", b"2b"]
    assert store.get(second.id).duration == 3.0


def test_save_as_copies_with_the_right_extension(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "rec")
    one = store.add([part(b"single")])
    (target,) = store.save_as(one.id, tmp_path / "mine.wav")
    assert target == tmp_path / "mine.ogg"
    assert target.read_bytes() == b"single"
    assert store.get(one.id).status == PENDING  # the kept copy is untouched

    two = store.add([part(b"x"), part(b"y")])
    targets = store.save_as(two.id, tmp_path / "long")
    assert [t.name for t in targets] == ["long-1.ogg", "long-2.ogg"]
    assert [t.read_bytes() for t in targets] == [b"x", b"y"]


def test_leftovers_of_a_crash_are_cleaned_and_incomplete_ones_ignored(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    rec = store.add([part(b"ok")])
    stale = tmp_path / "20200101-000000-abcdef.0.ogg"  # audio whose description was never written
    stale.write_bytes(b"orphan")
    tmp = tmp_path / ".tmp-20200101-000000-abcdef.json"
    tmp.write_bytes(b"{")
    fresh = tmp_path / "29990101-000000-abcdef.0.ogg"  # possibly being written by another instance right now
    fresh.write_bytes(b"new")
    old = time.time() - 2 * 3600
    for p in (stale, tmp):
        os.utime(p, (old, old))
    broken = store.add([part(b"gone")])
    (tmp_path / broken.parts[0]).unlink()  # its audio vanished

    again = RecordingStore(tmp_path)
    assert not stale.exists() and not tmp.exists()
    assert fresh.exists()
    assert [r.id for r in again.pending()] == [rec.id]


def test_ids_cannot_escape_the_directory(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    for bad in ("../x", "", ".hidden", "a/b"):
        with pytest.raises(LookupError):
            store.get(bad)


def test_the_data_directory_has_a_recordings_folder() -> None:
    assert app_paths().recordings.name == "recordings"
