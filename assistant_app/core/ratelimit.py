"""Client-side rate limiting and a circuit breaker, per provider. No Qt.

* :class:`RateLimiter` keeps two token buckets (requests and tokens per minute). A call that does
  not fit *waits* for capacity (FIFO); nothing is ever dropped. Limits come from the user's settings
  and from the ``x-ratelimit-*`` headers of every response, which also reset the buckets' levels to
  what the server says remains. OpenAI replenishes continuously at limit/minute (its ``reset-*``
  headers equal the time to refill at that rate), which is the model used here.
* :class:`CircuitBreaker` stops sending to a provider after ``threshold`` consecutive failures
  (connection errors, 5xx, 429; not other 4xx) for a cool-down that doubles on each failed trial,
  up to a maximum. After the cool-down it is half-open: the next call is a trial.
* :class:`ProviderGuard` combines both behind ``OpenAIClient.guard`` (``before``/``after``).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from assistant_app.api.errors import APIError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float | None:
    """Seconds from a Go-style duration ("6m0s", "12ms", "1h2m3.5s") or a plain number of seconds."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _GO_PART.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and pos > 0 else None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(float(headers.get(name, "")))
    except ValueError:
        return None


@dataclass(frozen=True)
class LimitInfo:
    """What the server last said about one limit (for display)."""

    limit: int | None
    remaining: int | None
    reset_s: float | None


class _Bucket:
    """Continuously refilled at capacity/60 per second; ``capacity`` None = unlimited."""

    def __init__(self, per_minute: float | None, now: float) -> None:
        self.user_limit = per_minute if per_minute and per_minute > 0 else None
        self.capacity: float | None = self.user_limit
        self.level = self.capacity or 0.0
        self.updated = now
        self.info = LimitInfo(None, None, None)

    def refill(self, now: float) -> None:
        if self.capacity is not None and now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.capacity / 60.0)
        self.updated = max(self.updated, now)

    def wait(self, amount: float) -> float:
        """Seconds until ``amount`` fits (an amount above capacity needs a full bucket)."""
        if self.capacity is None:
            return 0.0
        need = min(amount, self.capacity) - self.level
        return 0.0 if need <= 0 else need * 60.0 / self.capacity

    def take(self, amount: float) -> None:
        if self.capacity is not None:
            self.level -= amount

    def sync(self, limit: int | None, remaining: int | None, reset_s: float | None, now: float) -> None:
        """Adopt the server's limit and remaining count. Azure's -1/0 placeholders are ignored."""
        if limit is None or limit <= 0:
            return
        self.info = LimitInfo(limit, remaining, reset_s)
        self.refill(now)
        self.capacity = float(min(limit, self.user_limit)) if self.user_limit else float(limit)
        if remaining is not None and remaining >= 0:
            self.level = min(float(remaining), self.capacity)
        else:
            self.level = min(self.level, self.capacity)


class RateLimiter:
    """Requests- and tokens-per-minute limiter that queues callers instead of failing them."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self.requests = _Bucket(rpm, now)
        self.tokens = _Bucket(tpm, now)
        self._lock: asyncio.Lock | None = None
        self.waited_total = 0.0

    async def acquire(self, tokens: int = 0) -> float:
        """Wait until one request of ``tokens`` estimated tokens fits; returns the seconds waited."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        waited = 0.0
        async with self._lock:  # FIFO: later callers queue behind the one that is waiting
            while True:
                now = self._clock()
                self.requests.refill(now)
                self.tokens.refill(now)
                delay = max(self.requests.wait(1), self.tokens.wait(tokens))
                if delay <= 0:
                    self.requests.take(1)
                    self.tokens.take(tokens)
                    self.waited_total += waited
                    return waited
                await self._sleep(delay)
                waited += delay

    def update_from_headers(self, headers: Mapping[str, str]) -> None:
        now = self._clock()
        for bucket, suffix in ((self.requests, "requests"), (self.tokens, "tokens")):
            bucket.sync(
                _header_int(headers, f"x-ratelimit-limit-{suffix}"),
                _header_int(headers, f"x-ratelimit-remaining-{suffix}"),
                parse_duration(headers.get(f"x-ratelimit-reset-{suffix}")),
                now,
            )


class CircuitOpenError(APIError):
    """Refused without sending: the provider failed too often in a row. ``try_now()`` closes the circuit."""

    kind = "circuit_open"
    action_label = "Try now"

    def __init__(self, user_message: str, *, breaker: CircuitBreaker, retry_in: float, failures: int) -> None:
        super().__init__(user_message)
        self.breaker = breaker
        self.retry_in = retry_in
        self.failures = failures

    def try_now(self) -> None:
        self.breaker.reset()


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        max_cooldown: float = 480.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max_cooldown
        self._clock = clock
        self.state = "closed"  # closed | open | half_open
        self.failures = 0
        self.cooldown = cooldown
        self.open_until = 0.0

    def remaining(self) -> float:
        return max(0.0, self.open_until - self._clock()) if self.state == "open" else 0.0

    def check(self) -> None:
        """Raise ``CircuitOpenError`` while open; after the cool-down let a trial call through."""
        if self.state != "open":
            return
        left = self.remaining()
        if left > 0:
            raise CircuitOpenError(
                f"{self.name} has failed {self.failures} times in a row; pausing requests for {math.ceil(left)} s.",
                breaker=self,
                retry_in=left,
                failures=self.failures,
            )
        self.state = "half_open"

    def record(self, outcome: str) -> None:
        """``outcome``: "success", "client_error" (the server answered: it is up) or "failure"."""
        if outcome != "failure":
            self.reset()
            return
        self.failures += 1
        if self.state == "half_open":
            self.cooldown = min(self.cooldown * 2, self.max_cooldown)
            self._open()
        elif self.failures >= self.threshold:
            self._open()

    def _open(self) -> None:
        self.state = "open"
        self.open_until = self._clock() + self.cooldown

    def reset(self) -> None:
        """Close the circuit ("Try now", or any answer from the server)."""
        self.state = "closed"
        self.failures = 0
        self.cooldown = self.base_cooldown
        self.open_until = 0.0


class ProviderGuard:
    """``OpenAIClient.guard`` for one provider: breaker check, then queue for rate-limit capacity."""

    def __init__(self, limiter: RateLimiter | None = None, breaker: CircuitBreaker | None = None) -> None:
        self.limiter = limiter
        self.breaker = breaker

    async def before(self, kind: str, est_tokens: int) -> None:
        if self.breaker is not None:
            self.breaker.check()
        if self.limiter is not None:
            await self.limiter.acquire(est_tokens)

    def after(self, kind: str, outcome: str, headers: Mapping[str, str] | None) -> None:
        if self.limiter is not None and headers is not None:
            self.limiter.update_from_headers(headers)
        if self.breaker is not None:
            self.breaker.record(outcome)
