"""When and how long to wait before retrying a request (after openai-python's policy)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 120.0
RETRY_STATUSES = {408, 409, 429}


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``retry-after``."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    when = email.utils.mktime_tz(parsed)
    return when - (time.time() if now is None else now)


def should_retry(status: int, headers: Mapping[str, str], error_code: str | None = None) -> bool:
    """Whether a response with this status may be retried."""
    retry_after = parse_retry_after(headers)
    if retry_after is not None and retry_after > MAX_RETRY_AFTER:
        return False
    explicit = (headers.get("x-should-retry") or "").lower()
    if explicit == "true":
        return True
    if explicit == "false":
        return False
    if error_code == "insufficient_quota":
        return False
    return status in RETRY_STATUSES or status >= 500


def retry_delay(
    retries_taken: int, headers: Mapping[str, str] | None = None, rng: random.Random | None = None
) -> float:
    """Seconds to wait before the next attempt; ``retries_taken`` counts retries already made."""
    if headers:
        retry_after = parse_retry_after(headers)
        if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER:
            return retry_after
    jitter = 1 - 0.25 * (rng or random).random()
    return min(INITIAL_DELAY * 2.0**retries_taken, MAX_DELAY) * jitter
