"""Quiet periods keep full garbage collections cheap while something animates (core/gc_quiet.py)."""

from __future__ import annotations

import gc
import weakref

import pytest

from assistant_app.core import gc_quiet


@pytest.fixture(autouse=True)
def _clean():
    assert not gc_quiet.is_quiet()
    yield
    while gc_quiet.is_quiet():
        gc_quiet.end()
    assert gc.get_freeze_count() == 0


def test_objects_made_before_a_quiet_period_are_not_walked_by_collections() -> None:
    before = [[i] for i in range(1000)]  # tracked containers
    with gc_quiet.quiet():
        assert gc.get_freeze_count() >= 1000
        walked = len(gc.get_objects(generation=2))
        assert walked < gc.get_freeze_count()  # the oldest generation is nearly empty now
    assert gc.get_freeze_count() == 0
    del before


def test_periods_nest_and_the_last_one_unfreezes() -> None:
    gc_quiet.begin()
    gc_quiet.begin()
    gc_quiet.end()
    assert gc_quiet.is_quiet() and gc.get_freeze_count() > 0
    gc_quiet.end()
    assert not gc_quiet.is_quiet() and gc.get_freeze_count() == 0
    gc_quiet.end()  # an extra end is ignored
    assert not gc_quiet.is_quiet()


def test_cyclic_garbage_from_before_is_collected_after_the_period() -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    collected: list[str] = []
    ref = weakref.ref(a, lambda _r: collected.append("a"))
    with gc_quiet.quiet():
        del a, b
        gc.collect()
        assert ref() is not None  # frozen: a full collection does not look at it
    gc.collect()
    assert ref() is None and collected == ["a"]


def test_a_hold_counts_once_however_often_it_is_set() -> None:
    hold, other = gc_quiet.QuietHold(), gc_quiet.QuietHold()
    hold.set(True)
    hold.set(True)
    other.set(True)
    hold.set(False)
    assert gc_quiet.is_quiet()  # the other owner still holds it
    other.set(False)
    other.set(False)
    assert not gc_quiet.is_quiet() and not hold.held
