"""Server-sent-events writer for the fake OpenAI server, with deliberately awkward byte splits.

Clients must reassemble SSE from arbitrary network reads.  With chunked framing each write below
becomes one HTTP chunk, so the client's byte iterator sees exactly these slices, whatever TCP does.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.support.fake_http import ResponseWriter

SplitMode = int | str | None  # None: one write per event; n: n-byte slices; "awkward": see awkward_cut_points


def encode_data(payload: Any, indent: int | None = None) -> str:
    """JSON for a data field; non-ASCII stays raw UTF-8 so multibyte characters can be split on the wire."""
    if isinstance(payload, str):
        return payload
    if indent is None:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(payload, ensure_ascii=False, indent=indent)


def format_event(data: str, event: str | None = None, newline: str = "\n") -> bytes:
    """One SSE event; multi-line data becomes several ``data:`` lines (joined by "\\n" on decode)."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return (newline.join(lines) + newline + newline).encode("utf-8")


def awkward_cut_points(data: bytes) -> list[int]:
    """Offsets at which to cut ``data``: inside "data:", between CR and LF, right before and after
    each LF, after the lead byte of every multibyte UTF-8 character, and in the middle."""
    points = {3, len(data) // 2}
    for i, byte in enumerate(data):
        if byte == 0x0D and data[i + 1 : i + 2] == b"\n":
            points.add(i + 1)
        elif byte == 0x0A:
            points.update((i, i + 1))
        elif byte >= 0xC0:
            points.add(i + 1)
    return sorted(p for p in points if 0 < p < len(data))


def split_at(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


class SseEmitter:
    """Writes events to a started response, applying the split mode and keep-alive comments."""

    def __init__(
        self,
        rw: ResponseWriter,
        split: SplitMode = None,
        newline: str = "\n",
        keepalive_comment: str | None = None,
        indent: int | None = None,
    ) -> None:
        self.rw = rw
        self.split = split
        self.newline = newline
        self.indent = indent
        self.keepalive = None
        if keepalive_comment is not None:
            text = keepalive_comment if keepalive_comment.startswith(":") else f": {keepalive_comment}"
            self.keepalive = (text + newline + newline).encode("utf-8")
        self.events_sent = 0
        self._carry = b""

    def _pieces(self, data: bytes) -> list[bytes]:
        data, self._carry = self._carry + data, b""
        if self.split is None:
            return [data]
        if isinstance(self.split, int):
            n = max(1, self.split)
            return [data[i : i + n] for i in range(0, len(data), n)]
        if self.split == "awkward":
            # Hold back the final byte so this event's last newline arrives with the next write.
            body, self._carry = data[:-1], data[-1:]
            return split_at(body, awkward_cut_points(body))
        raise ValueError(f"unknown split mode {self.split!r}")

    async def _write(self, data: bytes) -> None:
        for piece in self._pieces(data):
            await self.rw.write(piece)

    async def event(self, payload: Any, event: str | None = None) -> None:
        if self.keepalive is not None and self.events_sent == 0:
            await self._write(self.keepalive)
        await self._write(format_event(encode_data(payload, self.indent), event, self.newline))
        self.events_sent += 1
        if self.keepalive is not None:
            await self._write(self.keepalive)

    async def raw_event(self, data: str, event: str | None = None) -> None:
        """An event whose data is sent verbatim (used for malformed JSON)."""
        await self._write(format_event(data, event, self.newline))
        self.events_sent += 1

    async def flush(self) -> None:
        """Send any held-back bytes now (before a stall, a reset or the end of the body)."""
        if self._carry:
            carry, self._carry = self._carry, b""
            await self.rw.write(carry)
