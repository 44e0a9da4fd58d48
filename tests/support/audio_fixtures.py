"""Pytest fixtures for audio tests (kept apart from fake_sounddevice, which benchmarks import without pytest)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

import pytest


class _Missing(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``import sounddevice`` fail the way it does when libportaudio2 is not installed."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        return importlib.machinery.ModuleSpec(name, self) if name == "sounddevice" else None

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return None

    def exec_module(self, module) -> None:  # type: ignore[no-untyped-def]
        raise self.exc


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch) -> _Missing:
    """``import sounddevice`` raises OSError, as without apt libportaudio2."""
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    finder = _Missing(OSError("PortAudio library not found"))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    return finder
