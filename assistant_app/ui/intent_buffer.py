"""Keeps what the user asks of the window before its controllers exist, and replays it once they do.

The window is shown before the asyncio loop and the controllers are set up (app.py), so that it
appears sooner; in the few tens of milliseconds between, a click or an Enter would otherwise go to a
signal nobody listens to yet. Typed text needs no help: it stays in the widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SignalInstance

from assistant_app.ui.main_window import MainWindow


def window_intents(window: MainWindow) -> list[SignalInstance]:
    """The signals through which the window asks controllers to act (see ChatController, app.py)."""
    sidebar, composer = window.sidebar, window.composer
    return [
        sidebar.newRequested,
        sidebar.conversationSelected,
        sidebar.searchHitSelected,
        sidebar.renameRequested,
        sidebar.deleteRequested,
        sidebar.searchChanged,
        composer.sendRequested,
        composer.stopRequested,
        window.exportRequested,
        window.settingsRequested,
        window.conversationSettingsRequested,
        window.modelChosen,
        window.refreshModelsRequested,
        window.usageRequested,
    ]


class IntentBuffer:
    """Records emissions of ``signals`` in order until ``replay`` re-emits them (once)."""

    def __init__(self, signals: list[SignalInstance]) -> None:
        self._recording = True
        self._log: list[tuple[SignalInstance, tuple[Any, ...]]] = []
        self._slots = [(signal, self._recorder(signal)) for signal in signals]
        for signal, slot in self._slots:
            signal.connect(slot)

    def _recorder(self, signal: SignalInstance) -> Callable[..., None]:
        def record(*args: Any) -> None:
            if self._recording:
                self._log.append((signal, args))

        return record

    @property
    def pending(self) -> int:
        return len(self._log)

    def replay(self) -> int:
        """Stop recording and emit what was recorded, now that someone listens. Returns how many."""
        self._recording = False
        for signal, slot in self._slots:
            signal.disconnect(slot)
        self._slots = []
        log, self._log = self._log, []
        for signal, args in log:
            signal.emit(*args)
        return len(log)
