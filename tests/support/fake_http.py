"""Minimal HTTP/1.1 server primitives on asyncio streams, for the fake OpenAI server.

Only what a test server needs: request parsing (Content-Length and chunked request bodies,
``Expect: 100-continue``), keep-alive, responses framed by Content-Length, chunked encoding or
connection close, an abortive close (TCP RST) and a multipart/form-data parser.  The framing is
written by hand on purpose: the tests need control over every byte the client receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

MAX_HEADER_LINES = 200


class BadRequest(Exception):
    """The bytes on the wire are not a valid HTTP/1.1 request."""


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    header_list: list[tuple[str, str]]
    body: bytes = b""

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.target).path)

    @property
    def query_string(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def headers(self) -> dict[str, str]:
        """Header names lower-cased; repeated headers joined with ", "."""
        out: dict[str, str] = {}
        for name, value in self.header_list:
            key = name.lower()
            out[key] = f"{out[key]}, {value}" if key in out else value
        return out

    @property
    def wants_close(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" not in conn
        return "close" in conn


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> HttpRequest | None:
    """Read one request; None when the client closed the connection between requests."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests (RFC 9112 §2.2)
        line = await reader.readline()
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    except ValueError as exc:
        raise BadRequest(f"bad request line {line[:80]!r}") from exc
    if not version.startswith("HTTP/1."):
        raise BadRequest(f"unsupported version {version!r}")
    headers: list[tuple[str, str]] = []
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if not raw:
            raise BadRequest("connection closed inside the headers")
        text = raw.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, sep, value = text.partition(":")
        if not sep:
            raise BadRequest(f"bad header line {text[:80]!r}")
        headers.append((name.strip(), value.strip()))
    else:
        raise BadRequest("too many header lines")
    req = HttpRequest(method.upper(), target, version, headers)
    hdrs = req.headers
    if hdrs.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        req.body = await _read_chunked(reader)
    elif "content-length" in hdrs:
        try:
            length = int(hdrs["content-length"])
        except ValueError as exc:
            raise BadRequest("bad content-length") from exc
        req.body = await reader.readexactly(length) if length else b""
    return req


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise BadRequest("bad chunk size") from exc
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers are ignored
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()  # CRLF after the chunk data


class ResponseWriter:
    """Writes one response on a connection, in one of three framings.

    ``framing`` is "length" (Content-Length), "chunked" or "close" (body ends when the socket closes).
    """

    def __init__(self, writer: asyncio.StreamWriter, keep_alive: bool) -> None:
        self._writer = writer
        self.keep_alive = keep_alive
        self.framing = "length"
        self.status: int | None = None
        self.on_status: Callable[[int], None] | None = None  # told before the status line is written
        self.headers_sent = False
        self.finished = False

    def _head(self, status: int, headers: Mapping[str, str], extra: list[tuple[str, str]]) -> bytes:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [f"{k}: {v}" for k, v in extra]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """A complete response framed by Content-Length."""
        await self.start(status, headers, "length", content_length=len(body))
        await self.write(body)
        self.finished = True

    async def start(
        self, status: int, headers: Mapping[str, str], framing: str, content_length: int | None = None
    ) -> None:
        self.status = status
        if self.on_status is not None:
            self.on_status(status)  # a test reading the record after the response must see it
        self.framing = framing
        extra: list[tuple[str, str]] = []
        if framing == "length":
            extra.append(("Content-Length", str(content_length or 0)))
        elif framing == "chunked":
            extra.append(("Transfer-Encoding", "chunked"))
        elif framing == "close":
            self.keep_alive = False
        else:
            raise ValueError(f"unknown framing {framing!r}")
        extra.append(("Connection", "keep-alive" if self.keep_alive else "close"))
        self._writer.write(self._head(status, headers, extra))
        self.headers_sent = True
        await self._writer.drain()

    async def write(self, data: bytes) -> None:
        """Send one piece of the body; with chunked framing each call is one HTTP chunk."""
        if not data:
            return
        if self.framing == "chunked":
            self._writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self._writer.write(data)
        await self._writer.drain()

    async def end(self) -> None:
        """Finish the body cleanly (chunked terminator, or close for close-delimited bodies)."""
        if self.framing == "chunked":
            self._writer.write(b"0\r\n\r\n")
            await self._writer.drain()
        elif self.framing == "close":
            self.keep_alive = False
        self.finished = True

    def abort(self) -> None:
        """Reset the connection: SO_LINGER 0 turns the close into a TCP RST."""
        self.keep_alive = False
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._writer.transport.abort()


@dataclass
class MultipartPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type; a=b; c="d"`` into ("type", {"a": "b", "c": "d"})."""
    parts = _split_params(value)
    main = parts[0].strip().lower() if parts else ""
    params: dict[str, str] = {}
    for item in parts[1:]:
        key, sep, val = item.partition("=")
        if not sep:
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[key.strip().lower()] = val
    return main, params


def _split_params(value: str) -> list[str]:
    out, cur, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def parse_multipart(body: bytes, content_type: str) -> list[MultipartPart]:
    """Parse a multipart/form-data body (RFC 7578).  Raises BadRequest when it is malformed."""
    _, params = header_params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise BadRequest("multipart body without boundary")
    delim = b"--" + boundary.encode("latin-1")
    if not body.startswith(delim):
        start = body.find(b"\r\n" + delim)
        if start < 0:
            raise BadRequest("multipart boundary not found")
        body = body[start + 2 :]
    parts: list[MultipartPart] = []
    pos = len(delim)
    while True:
        if body[pos : pos + 2] == b"--":
            return parts
        if body[pos : pos + 2] != b"\r\n":
            raise BadRequest("bad multipart delimiter line")
        head_end = body.find(b"\r\n\r\n", pos + 2)
        if head_end < 0:
            raise BadRequest("multipart part without header end")
        raw_headers = body[pos + 2 : head_end].decode("utf-8", "replace")
        nxt = body.find(b"\r\n" + delim, head_end + 4)
        if nxt < 0:
            raise BadRequest("multipart body is not terminated")
        data = body[head_end + 4 : nxt]
        headers: dict[str, str] = {}
        for line in raw_headers.split("\r\n") if raw_headers else []:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        _, disp = header_params(headers.get("content-disposition", ""))
        if "name" not in disp:
            raise BadRequest("multipart part without a name")
        parts.append(
            MultipartPart(
                name=disp["name"],
                filename=disp.get("filename"),
                content_type=headers.get("content-type"),
                data=data,
                headers=headers,
            )
        )
        pos = nxt + 2 + len(delim)
