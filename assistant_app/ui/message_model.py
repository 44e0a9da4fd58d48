"""Qt-free data for the transcript: the message item the controller passes in, and the streaming buffer."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("complete", "streaming", "incomplete", "stopped", "error")


@dataclass
class MessageItem:
    """One message as the view shows it (the controller owns the real model)."""

    id: int
    role: str  # "user" | "assistant" | "system"
    content: str
    status: str = "complete"  # complete | streaming | incomplete | stopped | error
    error: str | None = None  # human message shown under the bubble for error/incomplete
    sibling_ids: list[int] = field(default_factory=list)  # this message and its alternatives, ordered
    meta: str = ""  # a line under assistant replies (model, tokens, speed)
    attachments: list[dict] = field(default_factory=list)  # reserved for images


class StreamBuffer:
    """The text of a streaming reply, kept as finished blocks plus an unfinished tail.

    ``append`` is O(len(delta)): it only stores the delta. ``take`` (called by the view's coalescing
    timer) moves pending deltas into the tail and splits only the tail, so its cost depends on the size
    of the current unfinished block, never on the length of the whole reply.
    """

    __slots__ = ("_done", "_pending", "_tail")

    def __init__(self, initial: str = "") -> None:
        self._done: list[str] = []
        self._tail = ""
        self._pending: list[str] = [initial] if initial else []

    def append(self, delta: str) -> None:
        if delta:
            self._pending.append(delta)

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    @property
    def tail(self) -> str:
        return self._tail

    @property
    def blocks(self) -> list[str]:
        """Finished blocks so far (do not modify)."""
        return self._done

    def text(self) -> str:
        return "".join(self._done) + self._tail + "".join(self._pending)

    def take(self) -> list[str]:
        """Fold pending deltas in; return the blocks that became finished since the last call."""
        from assistant_app.ui.markdown import split_blocks  # loaded with the first reply, not at start-up

        if self._pending:
            self._tail += "".join(self._pending)
            self._pending.clear()
        blocks, self._tail = split_blocks(self._tail)
        self._done.extend(blocks)
        return blocks
