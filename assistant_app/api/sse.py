"""Incremental Server-Sent Events decoder.

Bytes go in as the network delivers them (split anywhere, even inside a UTF-8 character or
between ``\\r`` and ``\\n``); complete events come out. Follows the WHATWG framing rules the
OpenAI SDKs use: comment lines (``:``) are skipped, several ``data:`` lines are joined with
``\\n``, ``event:``/``id:``/``retry:`` are kept, a blank line ends an event.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._pending_cr = False
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._has_field = False

    def feed(self, chunk: bytes) -> Iterator[SSEEvent]:
        """Decode ``chunk`` and yield every event it completes."""
        text = self._utf8.decode(chunk)
        if not text:
            return
        if self._pending_cr:
            # A "\r" ended the previous chunk: a "\n" now belongs to the same line break.
            self._pending_cr = False
            if text.startswith("\n"):
                text = text[1:]
        self._buffer += text
        yield from self._drain()

    def flush(self) -> Iterator[SSEEvent]:
        """End of stream: a final event without its blank line still counts."""
        self._buffer += self._utf8.decode(b"", final=True)
        if self._buffer:
            self._buffer += "\n"
            yield from self._drain()
        event = self._take()
        if event is not None:
            yield event

    def _drain(self) -> Iterator[SSEEvent]:
        buf = self._buffer
        start = 0
        n = len(buf)
        while start < n:
            cr = buf.find("\r", start)
            lf = buf.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr != -1 and (lf == -1 or cr < lf):
                end = cr
                if cr + 1 < n:
                    nxt = cr + 2 if buf[cr + 1] == "\n" else cr + 1
                else:
                    self._pending_cr = True
                    nxt = cr + 1
            else:
                end = lf
                nxt = lf + 1
            event = self._line(buf[start:end])
            start = nxt
            if event is not None:
                yield event
        self._buffer = buf[start:]

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._take()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_field = True
        elif name == "event":
            self._event = value
            self._has_field = True
        elif name == "id":
            if "\0" not in value:
                self._id = value
            self._has_field = True
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)
            self._has_field = True
        return None

    def _take(self) -> SSEEvent | None:
        if not self._has_field:
            self._reset()
            return None
        event = SSEEvent("\n".join(self._data), self._event, self._id, self._retry)
        self._reset()
        return event
