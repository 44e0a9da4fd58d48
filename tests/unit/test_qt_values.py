"""The plain-int Qt values the first frame uses (ui/qt_values.py) are Qt's own."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget

from assistant_app.ui import qt_values as qv


@pytest.mark.parametrize(
    ("value", "enum"),
    [
        (qv.USER_ROLE, Qt.ItemDataRole.UserRole),
        (qv.ALIGN_CENTER, Qt.AlignmentFlag.AlignCenter),
        (qv.SCROLL_BAR_ALWAYS_OFF, Qt.ScrollBarPolicy.ScrollBarAlwaysOff),
        (qv.SCROLL_BAR_ALWAYS_ON, Qt.ScrollBarPolicy.ScrollBarAlwaysOn),
        (qv.CUSTOM_CONTEXT_MENU, Qt.ContextMenuPolicy.CustomContextMenu),
        (qv.ELIDE_RIGHT, Qt.TextElideMode.ElideRight),
        (qv.PLAIN_TEXT, Qt.TextFormat.PlainText),
        (qv.SELECTABLE_BY_MOUSE, Qt.TextInteractionFlag.TextSelectableByMouse),
    ],
)
def test_values_match_qt(value: int, enum) -> None:
    assert value == enum.value


def test_properties_reach_the_widget(qapp) -> None:
    listing = QListWidget()
    qv.set_properties(listing, horizontalScrollBarPolicy=qv.SCROLL_BAR_ALWAYS_OFF, textElideMode=qv.ELIDE_RIGHT)
    assert listing.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert listing.textElideMode() == Qt.TextElideMode.ElideRight
    label = QLabel()
    qv.set_properties(label, alignment=qv.ALIGN_CENTER, textFormat=qv.PLAIN_TEXT)
    assert label.alignment() == Qt.AlignmentFlag.AlignCenter
    assert label.textFormat() == Qt.TextFormat.PlainText


def test_unknown_property_is_an_error_not_a_dynamic_property(qapp) -> None:
    label = QLabel()
    with pytest.raises(AttributeError, match="alignmnt"):
        qv.set_properties(label, alignmnt=qv.ALIGN_CENTER)
    assert label.property("alignmnt") is None
