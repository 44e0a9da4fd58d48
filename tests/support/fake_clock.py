"""A manual clock and an ``asyncio.sleep`` stand-in that advances it, for time-based logic in tests."""

from __future__ import annotations

import asyncio


class FakeClock:
    """``clock()`` returns the fake time; ``await clock.sleep(s)`` moves it forward instead of waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)  # still let other tasks run, as a real sleep would
