"""Keep Python's full garbage collections out of live updates (a streaming reply, a partial image).

A full collection walks every object the interpreter tracks; once the window, Markdown and Pygments
are loaded that takes 15-25 ms here, and when one lands during a stream it is a dropped frame. While
a quiet period is open, the objects that existed when it began are frozen (``gc.freeze``), so any
collection only walks what was created since: a millisecond or two. When the last period closes they
are unfrozen, and cyclic garbage among them is collected by the next ordinary full collection, which
then happens while nothing is animating. Reference-counted garbage is freed at once either way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_open = 0


def begin() -> None:
    """Open a quiet period (they nest; the first one freezes)."""
    global _open
    if _open == 0:
        gc.freeze()
    _open += 1


def end() -> None:
    """Close a quiet period; the last one to close unfreezes. Extra calls are ignored."""
    global _open
    if _open == 0:
        return
    _open -= 1
    if _open == 0:
        gc.unfreeze()


def is_quiet() -> bool:
    return _open > 0


@contextmanager
def quiet() -> Iterator[None]:
    begin()
    try:
        yield
    finally:
        end()


class QuietHold:
    """One owner's share of the quiet period, safe to set repeatedly (e.g. "am I streaming now?")."""

    def __init__(self) -> None:
        self._held = False

    def set(self, hold: bool) -> None:
        if hold and not self._held:
            begin()
        elif not hold and self._held:
            end()
        self._held = hold

    @property
    def held(self) -> bool:
        return self._held
