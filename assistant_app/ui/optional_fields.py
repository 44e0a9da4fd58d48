"""Small input widgets shared by the settings dialogs.

A sampling parameter such as temperature has three meaningful states for the user: a number, or
"leave it to someone else" (the server's default in app settings, the app's default in a
conversation). ``OptionalValue`` shows that as a spin box plus a "use default" check box, and
reports ``None`` for the unset state so callers never have to invent sentinel numbers.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget


def double_spin(minimum: float, maximum: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    return spin


def int_spin(minimum: int, maximum: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    spin.setGroupSeparatorShown(True)
    return spin


class OptionalValue(QWidget):
    """A spin box that can be switched off: checked "use default" box means ``value() is None``."""

    changed = Signal()

    def __init__(
        self,
        spin: QDoubleSpinBox | QSpinBox,
        unset_text: str,
        *,
        name: str,
        object_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.spin = spin
        self.spin.setObjectName(object_name)
        self.spin.setAccessibleName(name)
        self.spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.spin.setMinimumWidth(110)
        self.use_default = QCheckBox(unset_text)
        self.use_default.setObjectName(f"{object_name}Default")
        self.use_default.setAccessibleName(f"{name}: {unset_text}")

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        row.addWidget(self.spin)
        row.addWidget(self.use_default)
        row.addStretch(1)

        self.use_default.toggled.connect(self._sync_enabled)
        self.use_default.toggled.connect(self.changed)
        self.spin.valueChanged.connect(self.changed)
        self.use_default.setChecked(True)
        self._sync_enabled()

    def value(self) -> float | int | None:
        if self.use_default.isChecked():
            return None
        return self.spin.value()

    def set_value(self, value: float | None, shown_when_unset: float | None = None) -> None:
        """Set a number, or ``None`` for the default state (the spin then shows ``shown_when_unset``)."""
        if value is None:
            if shown_when_unset is not None:
                self._set_spin(shown_when_unset)
            self.use_default.setChecked(True)
        else:
            self._set_spin(value)
            self.use_default.setChecked(False)

    def _set_spin(self, value: float) -> None:
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(round(value))
        else:
            self.spin.setValue(float(value))

    def _sync_enabled(self) -> None:
        self.spin.setEnabled(not self.use_default.isChecked())
