"""An independent, incremental SSE decoder for tests (WHATWG rules, as openai-python's SSEDecoder).

Feeds on arbitrary byte slices: lines may end in CRLF, LF or CR, and a slice may end inside a
line, between CR and LF, or inside a multibyte UTF-8 character.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


class SseDecoder:
    def __init__(self) -> None:
        self._buf = b""
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self.comments: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self._buf += chunk
        return list(self._drain(final=False))

    def close(self) -> list[SseEvent]:
        """End of stream: a last unterminated line counts; an unfinished event is dropped (per spec)."""
        return list(self._drain(final=True))

    def _drain(self, final: bool) -> Iterator[SseEvent]:
        while True:
            cr, lf = self._buf.find(b"\r"), self._buf.find(b"\n")
            if cr < 0 and lf < 0:
                break
            if cr >= 0 and (lf < 0 or cr < lf):
                if cr == len(self._buf) - 1 and not final:
                    break  # a CR at the end may be the first half of CRLF
                end, skip = cr, 2 if self._buf[cr + 1 : cr + 2] == b"\n" else 1
            else:
                end, skip = lf, 1
            line, self._buf = self._buf[:end], self._buf[end + skip :]
            event = self._line(line.decode("utf-8"))
            if event is not None:
                yield event
        if final and self._buf:
            line, self._buf = self._buf, b""
            self._line(line.decode("utf-8"))

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            if not self._data and self._event is None:
                return None
            out = SseEvent(self._event, "\n".join(self._data), self._id, self._retry)
            self._event, self._data, self._retry = None, [], None
            return out
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def decode_all(chunks: Iterable[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    events: list[SseEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.close()


async def adecode_all(chunks: AsyncIterable[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    events: list[SseEvent] = []
    async for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.close()
