"""Row and summary types of the usage log, and the local-time helpers its queries use."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any


@dataclass
class UsageRow:
    """One recorded call, as stored. ``cost`` is USD, ``None`` when the price is unknown."""

    id: int
    started_at: float
    day: str
    provider_id: str | None
    host: str | None
    path: str | None
    kind: str
    model: str | None
    response_model: str | None
    status: str
    http_status: int | None
    ok: bool
    latency_ms: float | None
    ttft_ms: float | None
    request_id: str | None
    attempt: int | None
    prompt_tokens: int | None
    cached_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None
    image_tokens: int | None
    audio_tokens: int | None
    images: int | None
    image_size: str | None
    image_quality: str | None
    audio_seconds: float | None
    cost: float | None
    error: str | None
    conversation_id: int | None
    message_id: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DailyCost:
    day: str  # YYYY-MM-DD, local time
    model: str
    cost: float  # known costs only
    calls: int
    unknown: int  # calls whose cost is unknown (no price, or no usage reported)


@dataclass(frozen=True)
class UsageTotals:
    calls: int = 0
    failed: int = 0
    cost: float = 0.0  # known costs only; see ``unknown``
    unknown: int = 0  # calls whose cost is unknown
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    images: int = 0
    audio_seconds: float = 0.0


TimeArg = float | int | date | datetime | None


def to_epoch(value: TimeArg) -> float | None:
    """Seconds since the epoch; a ``date`` means local midnight at its start."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).timestamp()
    return float(value)


def local_day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


def month_bounds(month: str) -> tuple[str, str]:
    """``"2025-08"`` -> ("2025-08-01", "2025-09-01"): the day range of a month, end exclusive."""
    year, mon = (int(x) for x in month.split("-")[:2])
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return f"{year:04d}-{mon:02d}-01", nxt.isoformat()
