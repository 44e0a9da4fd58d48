"""Content-addressed attachment files: ``<data>/attachments/<sha[:2]>/<sha>.<ext>``. No Qt.

Messages keep a small dict per attachment (never the bytes): ``{"kind": "image", "sha256", "path"
(relative to the attachments directory), "mime", "name", "width", "height", "detail", "note"?}``.
The same bytes always land in the same file, so attaching a picture twice, or resending it on
Regenerate/Edit, stores nothing new.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant_app.core.paths import app_paths

if TYPE_CHECKING:
    from assistant_app.media.images import PreparedImage

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class AttachmentError(Exception):
    """An attachment's file is missing, unreadable, outside the store, or not what was recorded."""


def extension_for(mime: str) -> str:
    return _EXTENSIONS.get(mime, "bin")


class AttachmentStore:
    """Files under ``root`` (``AppPaths.attachments``); created on first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def default(cls) -> AttachmentStore:
        """The store of this process's app paths (``ASSISTANT_APP_HOME`` honoured)."""
        return cls(app_paths().attachments)

    # -- writing ----------------------------------------------------------------------------

    def put(self, data: bytes, mime: str) -> tuple[str, str]:
        """Store ``data`` once; returns (sha256, path relative to the root)."""
        sha = hashlib.sha256(data).hexdigest()
        rel = f"{sha[:2]}/{sha}.{extension_for(mime)}"
        target = self.root / rel
        if target.is_file() and target.stat().st_size == len(data):
            return sha, rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)  # atomic: a reader never sees half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha, rel

    def add_image(
        self,
        data: bytes,
        *,
        mime: str,
        name: str,
        width: int,
        height: int,
        detail: str = "auto",
        note: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store image bytes and return the dict kept on the message."""
        sha, rel = self.put(data, mime)
        att: dict[str, Any] = {
            "kind": "image",
            "sha256": sha,
            "path": rel,
            "mime": mime,
            "name": name,
            "width": width,
            "height": height,
            "detail": detail,
        }
        if note:
            att["note"] = note
        att.update({k: v for k, v in extra.items() if v is not None})
        return att

    def add_prepared(self, prepared: PreparedImage, *, detail: str | None = None) -> dict[str, Any]:
        return self.add_image(
            prepared.data,
            mime=prepared.mime,
            name=prepared.name,
            width=prepared.width,
            height=prepared.height,
            detail=detail or prepared.detail,
            note=prepared.note,
        )

    # -- reading ----------------------------------------------------------------------------

    def path_of(self, att: Mapping[str, Any]) -> Path:
        """The absolute file of ``att``; refuses paths that would leave the store."""
        rel = att.get("path")
        if not isinstance(rel, str) or not rel or os.path.isabs(rel) or "\\" in rel:
            raise AttachmentError(f"Attachment “{att.get('name', '?')}” has no valid stored path.")
        root = self.root.resolve()
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            raise AttachmentError(f"Attachment “{att.get('name', '?')}” points outside the attachments folder.")
        return target

    def load_bytes(self, att: Mapping[str, Any], *, verify: bool = True) -> bytes:
        name = att.get("name", "?")
        path = self.path_of(att)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise AttachmentError(f"The file of attachment “{name}” is missing ({path}).") from None
        except OSError as exc:
            raise AttachmentError(f"The file of attachment “{name}” cannot be read ({exc.strerror}).") from None
        if verify and att.get("sha256") and hashlib.sha256(data).hexdigest() != att["sha256"]:
            raise AttachmentError(f"The file of attachment “{name}” has changed on disk since it was attached.")
        return data

    def data_url(self, att: Mapping[str, Any]) -> str:
        mime = str(att.get("mime") or "application/octet-stream")
        return f"data:{mime};base64,{base64.b64encode(self.load_bytes(att)).decode('ascii')}"


def is_stored_image(att: Mapping[str, Any]) -> bool:
    return att.get("kind") == "image" and bool(att.get("path") or att.get("data_url"))


def load_bytes(att: Mapping[str, Any], store: AttachmentStore | None = None) -> bytes:
    """Bytes of an attachment (from the app's default store unless one is given)."""
    return (store or AttachmentStore.default()).load_bytes(att)


def data_url(att: Mapping[str, Any], store: AttachmentStore | None = None) -> str:
    """A ``data:`` URL for an attachment; an inline ``data_url`` (older messages) is used as is."""
    inline = att.get("data_url")
    if isinstance(inline, str) and inline.startswith("data:"):
        return inline
    return (store or AttachmentStore.default()).data_url(att)
