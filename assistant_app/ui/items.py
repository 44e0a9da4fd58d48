"""Build the view's ``MessageItem``s from stored messages (one query per conversation)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from assistant_app.core.store import Message
from assistant_app.ui.message_view import MessageItem
from assistant_app.ui.usage_format import UNKNOWN_COST, format_cost

#: message id -> USD (``None``: unknown), from ``UsageLog.message_costs``: fetched once per render.
Costs = Mapping[int, float | None]


def meta_line(m: Message, costs: Costs | None = None) -> str:
    """The line under a reply: model, tokens (cached), cost, time to first token, speed.

    The cost shows only when ``costs`` is given: the logged cost of the reply's calls, or "cost
    unknown" for a reply that reported tokens but has no priced call (never a made-up $0).
    """
    if m.role != "assistant":
        return ""
    parts: list[str] = []
    if m.model:
        parts.append(m.model)
    has_tokens = bool(m.prompt_tokens or m.completion_tokens)
    if has_tokens:
        cached = f" ({m.cached_tokens:,} cached)" if m.cached_tokens else ""
        parts.append(f"{m.prompt_tokens or 0:,} prompt{cached}")
        parts.append(f"{m.completion_tokens or 0:,} completion")
    if costs is not None and m.id in costs:
        parts.append(format_cost(costs[m.id]))
    elif costs is not None and has_tokens:
        parts.append(UNKNOWN_COST)
    if m.ttft_ms is not None:
        parts.append(f"TTFT {m.ttft_ms / 1000:.2f} s")
    if m.tokens_per_s:
        parts.append(f"{m.tokens_per_s:.0f} tok/s")
    return " · ".join(parts)


def sibling_map(all_messages: list[Message]) -> dict[int, list[int]]:
    """message id -> ids of it and its alternatives (same parent, same role), oldest first."""
    groups: dict[tuple[int | None, str], list[int]] = defaultdict(list)
    for m in sorted(all_messages, key=lambda x: x.id):
        groups[(m.parent_id, m.role)].append(m.id)
    out: dict[int, list[int]] = {}
    for ids in groups.values():
        for i in ids:
            out[i] = ids
    return out


def to_item(m: Message, siblings: dict[int, list[int]] | None = None, costs: Costs | None = None) -> MessageItem:
    return MessageItem(
        id=m.id,
        role=m.role,
        content=m.content,
        status=m.status,
        error=m.error,
        sibling_ids=list((siblings or {}).get(m.id, [m.id])),
        meta=meta_line(m, costs),
        attachments=list(m.attachments or []),
    )


def items_for_path(path: list[Message], all_messages: list[Message], costs: Costs | None = None) -> list[MessageItem]:
    siblings = sibling_map(all_messages)
    return [to_item(m, siblings, costs) for m in path]
