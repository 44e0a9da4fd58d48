"""Export conversations as Markdown (what the user saw) or JSON (everything, all branches).

Both are deterministic for the same database: conversations in the order asked for (or oldest
first), messages by id, JSON keys sorted, times in UTC unless a zone is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, tzinfo
from typing import Any

from assistant_app.core.store import Conversation, Message, Store

EXPORT_FORMAT = "assistant-app-export"
EXPORT_VERSION = 1

_ROLE_LABELS = {"user": "User", "assistant": "Assistant", "system": "System"}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _conversations(store: Store, conversation_ids: Sequence[int] | None) -> list[Conversation]:
    if conversation_ids is None:
        return sorted(store.list_conversations(), key=lambda c: (c.created_at, c.id))
    seen: set[int] = set()
    result = []
    for cid in conversation_ids:
        if cid not in seen:
            seen.add(cid)
            result.append(store.get_conversation(cid))
    return result


def _when(ts: float, tz: tzinfo | None) -> str:
    moment = datetime.fromtimestamp(ts, tz or UTC)
    return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if tz is None else moment.strftime(" %z"))


def close_open_fence(text: str) -> str:
    """Close a code fence left open (a reply cut off mid-block) so it cannot swallow what follows."""
    opener: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if not m:
            continue
        marker, rest = m.group(1), m.group(2)
        if opener is None:
            if not (marker[0] == "`" and "`" in rest):  # a backtick info string cannot hold backticks
                opener = marker
        elif marker[0] == opener[0] and len(marker) >= len(opener) and not rest.strip():
            opener = None
    if opener is None:
        return text
    return text + ("" if text.endswith("\n") else "\n") + opener


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _status_mark(msg: Message) -> str:
    if msg.status in ("incomplete", "streaming"):
        return " (incomplete)"
    if msg.status == "stopped":
        return " (stopped)"
    if msg.status == "error":
        return " (error)"
    return ""


def _attachment_line(att: dict[str, Any]) -> str:
    name = att.get("name") or att.get("filename") or att.get("path") or "attachment"
    path = att.get("path")
    details = [str(x) for x in (att.get("mime") or att.get("mime_type"), path if path != name else None) if x]
    return f"- {name}" + (f" ({', '.join(details)})" if details else "")


def _markdown_conversation(store: Store, conv: Conversation, tz: tzinfo | None) -> str:
    lines = [f"# {_one_line(conv.title) or 'Untitled'}", ""]
    lines.append(f"- Created: {_when(conv.created_at, tz)}")
    lines.append(f"- Updated: {_when(conv.updated_at, tz)}")
    if conv.model:
        lines.append(f"- Model: {conv.model}")
    if conv.system_prompt:
        lines += ["", "**System prompt:**", ""]
        lines += [("> " + ln).rstrip() for ln in conv.system_prompt.splitlines()]
    for msg in store.active_path(conv.id):
        label = _ROLE_LABELS.get(msg.role, msg.role.title())
        if msg.role == "assistant" and msg.model:
            label += f" ({msg.model})"
        lines += ["", f"## {label}{_status_mark(msg)}", ""]
        lines.append(f"*{_when(msg.created_at, tz)}*")
        lines.append("")
        body = close_open_fence(msg.content)
        lines.append(body.rstrip("\n") if body.strip() else "*(empty)*")
        if msg.status == "error" and msg.error:
            lines += ["", f"> Error: {_one_line(msg.error)}"]
        if msg.attachments:
            lines += ["", "Attachments:", ""]
            lines += [_attachment_line(a) for a in msg.attachments]
    return "\n".join(lines) + "\n"


def export_markdown(store: Store, conversation_ids: Sequence[int] | None = None, *, tz: tzinfo | None = None) -> str:
    """The active branch of each conversation as Markdown (all conversations if ids is None).

    Message content is copied verbatim (it is Markdown already); unfinished replies are marked
    "(incomplete)" and a code fence they left open is closed.
    """
    parts = [_markdown_conversation(store, conv, tz) for conv in _conversations(store, conversation_ids)]
    return "\n---\n\n".join(parts)


def _message_dict(msg: Message) -> dict[str, Any]:
    data = asdict(msg)
    del data["conversation_id"]
    return data


def export_json(store: Store, conversation_ids: Sequence[int] | None = None) -> str:
    """Everything, including inactive branches: parent ids and each conversation's head.

    Times are seconds since the Unix epoch (UTC), as stored.
    """
    conversations = []
    for conv in _conversations(store, conversation_ids):
        data = asdict(conv)
        data["messages"] = [_message_dict(m) for m in store.messages(conv.id)]
        conversations.append(data)
    document = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "conversations": conversations}
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
