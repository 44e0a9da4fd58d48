"""SSE framing, retry policy and log redaction: the pure pieces of the client."""

from __future__ import annotations

import email.utils
import logging
import random

import pytest

from assistant_app.api.redact import RedactingFilter, redact_headers, redact_text, register_secret
from assistant_app.api.retry import parse_retry_after, retry_delay, should_retry
from assistant_app.api.sse import SSEDecoder, SSEEvent

STREAM = (
    b": keep-alive\n\n"
    b'data: {"a": "h\xc3\xa9llo"}\n\n'
    b"event: image_generation.partial_image\r\n"
    b"data: line1\r\n"
    b"data: line2\r\n\r\n"
    b"id: 7\nretry: 1500\ndata: x\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent('{"a": "héllo"}'),
    SSEEvent("line1\nline2", event="image_generation.partial_image"),
    SSEEvent("x", id="7", retry=1500),
    SSEEvent("[DONE]"),
]


def decode_in_pieces(data: bytes, sizes: list[int]) -> list[SSEEvent]:
    dec = SSEDecoder()
    out: list[SSEEvent] = []
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        out.extend(dec.feed(data[pos : pos + size]))
        pos += size
        i += 1
    out.extend(dec.flush())
    return out


@pytest.mark.parametrize("sizes", [[len(STREAM)], [1], [2], [3, 1, 7], [5, 2]])
def test_decoder_is_independent_of_chunk_boundaries(sizes: list[int]) -> None:
    assert decode_in_pieces(STREAM, sizes) == EXPECTED


def test_every_split_point_including_mid_utf8_and_crlf() -> None:
    for cut in range(1, len(STREAM)):
        dec = SSEDecoder()
        events = list(dec.feed(STREAM[:cut])) + list(dec.feed(STREAM[cut:])) + list(dec.flush())
        assert events == EXPECTED, f"split at byte {cut}"


def test_final_event_without_blank_line_is_delivered_on_flush() -> None:
    dec = SSEDecoder()
    assert list(dec.feed(b"data: tail")) == []
    assert list(dec.flush()) == [SSEEvent("tail")]


def test_lone_cr_line_endings() -> None:
    assert decode_in_pieces(b"data: a\r\rdata: b\r\r", [1]) == [SSEEvent("a"), SSEEvent("b")]


def test_retry_after_sources_in_order() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    now = 1_000_000.0
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(20, abs=1)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_should_retry_rules() -> None:
    for status in (408, 409, 429, 500, 502, 503):
        assert should_retry(status, {})
    for status in (400, 401, 403, 404, 422):
        assert not should_retry(status, {})
    assert not should_retry(429, {}, "insufficient_quota")
    assert should_retry(400, {"x-should-retry": "true"})
    assert not should_retry(503, {"x-should-retry": "false"})
    assert not should_retry(429, {"retry-after": "600"})  # longer than we are willing to wait


def test_backoff_grows_with_jitter_and_caps() -> None:
    rng = random.Random(1)
    delays = [retry_delay(n, rng=rng) for n in range(8)]
    assert 0.375 <= delays[0] <= 0.5
    assert 0.75 <= delays[1] <= 1.0
    assert all(d <= 8.0 for d in delays)
    assert delays[-1] >= 6.0
    assert retry_delay(0, {"retry-after-ms": "250"}) == 0.25


def test_redaction_of_headers_text_and_log_records(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-test-redaction-0123456789abcdef"
    register_secret(secret)
    assert redact_headers({"Authorization": f"Bearer {secret}", "X-Other": "1"}) == {
        "Authorization": "[REDACTED]",
        "X-Other": "1",
    }
    assert secret not in redact_text(f"headers={{'authorization': 'Bearer {secret}'}}")
    assert secret not in redact_text(f"api-key: {secret}")
    logger = logging.getLogger("test.redact")
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("sending with key %s", secret)
        try:
            raise ValueError(f"bad key {secret}")
        except ValueError:
            logger.exception("failed")
    assert secret not in caplog.text
    assert "[REDACTED]" in caplog.text
