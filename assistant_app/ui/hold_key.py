"""The hold-to-talk key and Esc, while the main window has the keyboard focus.

A QShortcut fires on press only, so instead this watches key events on the window and on its
current focus widget (event filters; no application-wide filter, which would run Python for
every event of the app). Auto-repeat never restarts a recording: presses Qt marks as auto-repeat
are ignored, and because some X servers (Xvfb, some VNC servers) send auto-repeat as plain
release/press pairs, a release only counts when no press of the same key follows within
``AUTOREPEAT_GAP_MS`` (``ReleaseGuard``). If the window loses focus while the key is down, the
release would never arrive: that counts as the release.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

_MODIFIER_KEYS = {
    Qt.KeyboardModifier.ControlModifier: Qt.Key.Key_Control,
    Qt.KeyboardModifier.ShiftModifier: Qt.Key.Key_Shift,
    Qt.KeyboardModifier.AltModifier: Qt.Key.Key_Alt,
    Qt.KeyboardModifier.MetaModifier: Qt.Key.Key_Meta,
}
_IGNORED_MODIFIERS = Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.GroupSwitchModifier
AUTOREPEAT_GAP_MS = 40  # an auto-repeat press follows its release at once (same event batch)


def parse_key(sequence: str) -> tuple[Qt.Key, Qt.KeyboardModifier] | None:
    """(key, modifiers) of the first combination of ``sequence`` ("F9", "Ctrl+Shift+D"), None if empty."""
    seq = QKeySequence.fromString(sequence, QKeySequence.SequenceFormat.PortableText)
    if seq.isEmpty():
        return None
    combo = seq[0]
    key = combo.key()
    if key in (Qt.Key.Key_unknown, *_MODIFIER_KEYS.values()):
        return None
    return key, combo.keyboardModifiers() & ~_IGNORED_MODIFIERS


def key_text(sequence: str) -> str:
    """How the key is written on this platform ("F9", "Ctrl+Shift+D", "⌘⇧D")."""
    return QKeySequence.fromString(sequence, QKeySequence.SequenceFormat.PortableText).toString(
        QKeySequence.SequenceFormat.NativeText
    )


class ReleaseGuard(QObject):
    """Holds back a key release until it is clear that no auto-repeat press follows it."""

    def __init__(self, on_release: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOREPEAT_GAP_MS)
        self._timer.timeout.connect(on_release)

    def released(self) -> None:
        self._timer.start()

    def pressed(self) -> bool:
        """A press came: True if it cancels a pending release (auto-repeat), False if it is a new press."""
        if self._timer.isActive():
            self._timer.stop()
            return True
        return False

    def cancel(self) -> None:
        self._timer.stop()


class HoldKey(QObject):
    pressed = Signal()  # the key went down (auto-repeats are not reported)
    released = Signal()  # it came up, or the window lost the focus while it was down
    escape = Signal()  # Esc while ``active``

    def __init__(self, window: QWidget, sequence: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.active = False  # set while dictation records or transcribes: then Esc belongs to it
        self._combo = parse_key(sequence)
        self._down = False
        self._guard = ReleaseGuard(self._release, self)
        self._watched: QWidget | None = None
        window.installEventFilter(self)
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._on_focus)
        self._on_focus(None, QApplication.focusWidget())

    @property
    def is_down(self) -> bool:
        return self._down

    def set_sequence(self, sequence: str) -> None:
        self._combo = parse_key(sequence)
        self._down = False
        self._guard.cancel()

    def _release(self) -> None:
        if self._down:
            self._down = False
            self.released.emit()

    def detach(self) -> None:
        app = QApplication.instance()
        if app is not None:
            try:
                app.focusChanged.disconnect(self._on_focus)
            except (RuntimeError, TypeError):
                pass
        for widget in (self._watched, self.window):
            self._unwatch(widget)
        self._watched = None
        self._guard.cancel()

    def _unwatch(self, widget: QWidget | None) -> None:
        if widget is not None:
            try:
                widget.removeEventFilter(self)
            except RuntimeError:  # already deleted
                pass

    def _on_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self._watched is not None and self._watched is not self.window:
            self._unwatch(self._watched)
        self._watched = None
        if new is not None and new is not self.window and new.window() is self.window:
            new.installEventFilter(self)
            self._watched = new

    def _matches(self, event: QKeyEvent) -> bool:
        if self._combo is None:
            return False
        key, mods = self._combo
        return event.key() == key and (event.modifiers() & ~_IGNORED_MODIFIERS) == mods

    def _is_release_of_combo(self, event: QKeyEvent) -> bool:
        """The key itself, or one of its modifiers (people often let go of Ctrl first)."""
        if self._combo is None:
            return False
        key, mods = self._combo
        return event.key() == key or any(event.key() == k for m, k in _MODIFIER_KEYS.items() if mods & m)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and self._matches(event):
            event.accept()  # deliver it as a key press, even if a menu shortcut uses the same key
            return True
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if self._matches(event):
                if not event.isAutoRepeat() and not self._guard.pressed() and not self._down:
                    self._down = True
                    self.pressed.emit()
                return True
            if event.key() == Qt.Key.Key_Escape and self.active and not event.isAutoRepeat():
                self.escape.emit()
                return True
        elif kind == QEvent.Type.KeyRelease and isinstance(event, QKeyEvent):
            if self._down and self._is_release_of_combo(event):
                if not event.isAutoRepeat():
                    self._guard.released()
                return True
        elif kind == QEvent.Type.WindowDeactivate and watched is self.window and self._down:
            self._guard.cancel()
            self._release()
        return False
