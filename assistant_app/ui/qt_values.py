"""Qt enum values as plain ints, for the widgets built before the window's first frame.

The first use of PySide6's ``Qt`` namespace (even ``from PySide6.QtCore import Qt``) builds every
enum in it: 18-20 ms on these machines, as long as building the whole window. The window's first
frame needs none of that work, so the modules loaded before it (see app._show_window) never name
``Qt`` at import or construction time: they set these values through Qt properties
(``QObject.setProperty`` converts an int to the property's enum type) and import ``Qt`` inside the
methods that run later. tests/unit/test_qt_values.py checks every value against Qt's own, and
tests/e2e/test_startup_order.py that the namespace is still unbuilt when the window is shown.
"""

from __future__ import annotations

USER_ROLE = 0x0100  # Qt.ItemDataRole.UserRole

ALIGN_CENTER = 0x0084  # Qt.AlignmentFlag.AlignCenter (AlignHCenter | AlignVCenter)
SCROLL_BAR_ALWAYS_OFF = 1  # Qt.ScrollBarPolicy.ScrollBarAlwaysOff
SCROLL_BAR_ALWAYS_ON = 2  # Qt.ScrollBarPolicy.ScrollBarAlwaysOn
CUSTOM_CONTEXT_MENU = 3  # Qt.ContextMenuPolicy.CustomContextMenu
ELIDE_RIGHT = 1  # Qt.TextElideMode.ElideRight
PLAIN_TEXT = 0  # Qt.TextFormat.PlainText
SELECTABLE_BY_MOUSE = 1  # Qt.TextInteractionFlag.TextSelectableByMouse


def set_properties(obj, **values: int) -> None:
    """Set Qt properties by name (``horizontalScrollBarPolicy=SCROLL_BAR_ALWAYS_OFF``), failing loudly
    on a name the object does not have rather than silently adding a dynamic property."""
    meta = obj.metaObject()
    for name, value in values.items():
        if meta.indexOfProperty(name) < 0:
            raise AttributeError(f"{type(obj).__name__} has no Qt property {name!r}")
        if not obj.setProperty(name, value):
            raise ValueError(f"{type(obj).__name__}.{name} did not accept {value!r}")
