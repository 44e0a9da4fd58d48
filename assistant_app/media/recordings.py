"""Recordings kept on disk until they are transcribed, so nothing spoken is lost.

``<data dir>/recordings/<id>.json`` describes one recording; its audio is ``<id>.<n>.<ext>``
(one file per upload part). Files are written under a temporary name and renamed, audio first
and the description last, so a crash never leaves a description without its audio. The pending
list is read from the directory, so it survives restarts. After a successful transcription the
recording is deleted, unless the user chose to keep it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant_app.media.encoding import EncodedAudio

PENDING, FAILED, TRANSCRIBED = "pending", "failed", "transcribed"
_ORPHAN_AGE_S = 3600.0  # stray files older than this (a crash mid-write) are removed


@dataclass
class StoredRecording:
    id: str
    created: str
    duration: float
    extension: str
    mime: str
    parts: list[str] = field(default_factory=list)  # file names inside the recordings directory
    status: str = PENDING
    error: str = ""
    text: str = ""
    keep: bool = False  # the user wants it kept after transcription

    @property
    def is_pending(self) -> bool:
        return self.status in (PENDING, FAILED)


@dataclass(frozen=True)
class AudioPart:
    data: bytes
    filename: str
    mime: str


class RecordingStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self.root.chmod(0o700)
        self._remove_orphans()

    # ---- writing --------------------------------------------------------------------------------
    def add(self, parts: list[EncodedAudio], *, duration: float | None = None) -> StoredRecording:
        if not parts:
            raise ValueError("a recording needs at least one part")
        now = dt.datetime.now().astimezone()
        rid = f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(2)}"  # sorts in creation order
        fmt = parts[0].format
        names = [f"{rid}.{i}.{fmt.extension}" for i in range(len(parts))]
        for name, part in zip(names, parts, strict=True):
            self._write(name, part.data)
        total = duration if duration is not None else sum(p.duration for p in parts)
        rec = StoredRecording(rid, now.isoformat(timespec="seconds"), round(total, 3), fmt.extension, fmt.mime, names)
        self._save(rec)
        return rec

    def mark_failed(self, rid: str, message: str) -> StoredRecording:
        rec = self.get(rid)
        rec.status, rec.error = FAILED, message
        self._save(rec)
        return rec

    def mark_transcribed(self, rid: str, text: str) -> StoredRecording:
        """Record success; the audio is deleted unless the user chose to keep it."""
        rec = self.get(rid)
        rec.status, rec.error, rec.text = TRANSCRIBED, "", text
        if rec.keep:
            self._save(rec)
        else:
            self.delete(rid)
        return rec

    def keep(self, rid: str, keep: bool = True) -> StoredRecording:
        rec = self.get(rid)
        rec.keep = keep
        self._save(rec)
        return rec

    def delete(self, rid: str) -> None:
        rec = self._load(self._meta(rid))
        for name in rec.parts if rec is not None else []:
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()
        with contextlib.suppress(FileNotFoundError):
            self._meta(rid).unlink()

    def save_as(self, rid: str, dest: Path) -> list[Path]:
        """Copy the audio to ``dest`` (its extension is corrected); several parts become name-1, name-2..."""
        rec = self.get(rid)
        dest = Path(dest).expanduser()
        base = dest.with_suffix(f".{rec.extension}")
        if len(rec.parts) == 1:
            targets = [base]
        else:
            targets = [base.with_name(f"{base.stem}-{i + 1}{base.suffix}") for i in range(len(rec.parts))]
        for name, target in zip(rec.parts, targets, strict=True):
            shutil.copyfile(self.root / name, target)
        return targets

    # ---- reading --------------------------------------------------------------------------------
    def get(self, rid: str) -> StoredRecording:
        rec = self._load(self._meta(rid))
        if rec is None:
            raise LookupError(f"No kept recording {rid}.")
        return rec

    def all(self) -> list[StoredRecording]:
        recs = [self._load(p) for p in sorted(self.root.glob("*.json"))]
        return [r for r in recs if r is not None]

    def pending(self) -> list[StoredRecording]:
        """Recordings not transcribed yet (oldest first)."""
        return [r for r in self.all() if r.is_pending]

    def read_parts(self, rec: StoredRecording) -> list[AudioPart]:
        return [
            AudioPart((self.root / name).read_bytes(), f"dictation-{i + 1}.{rec.extension}", rec.mime)
            for i, name in enumerate(rec.parts)
        ]

    # ---- files ----------------------------------------------------------------------------------
    def _meta(self, rid: str) -> Path:
        if not rid or "/" in rid or "\\" in rid or rid.startswith("."):
            raise LookupError(f"Not a recording id: {rid!r}")
        return self.root / f"{rid}.json"

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.root / f".tmp-{name}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / name)

    def _save(self, rec: StoredRecording) -> None:
        self._write(f"{rec.id}.json", json.dumps(asdict(rec), indent=1).encode())

    def _load(self, path: Path) -> StoredRecording | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rec = StoredRecording(**{k: v for k, v in data.items() if k in StoredRecording.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None
        if not all((self.root / name).is_file() for name in rec.parts):
            return None
        return rec

    def _remove_orphans(self) -> None:
        known = {name for rec in self.all() for name in rec.parts}
        cutoff = time.time() - _ORPHAN_AGE_S
        for path in self.root.iterdir():
            if path.suffix == ".json" and not path.name.startswith(".tmp-"):
                continue
            with contextlib.suppress(OSError):
                if path.name not in known and path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
