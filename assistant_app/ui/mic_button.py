"""The microphone button beside Send and the live level meter. Widgets only: no audio library here.

``MicButton`` reports the raw gesture (``holdStarted`` on press, ``holdEnded`` on release, by
mouse or by Space/Enter while it has focus); the controller decides what a gesture means (hold
or toggle mode). Unlike ``QAbstractButton.pressed/released`` a hold survives the pointer sliding
off the button: only letting go ends it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QColor,
    QIcon,
    QKeyEvent,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QToolButton, QWidget

from assistant_app.ui.hold_key import ReleaseGuard

FLOOR_DBFS = -60.0  # the meter's empty end
PEAK_FALL_DB = 0.8  # how far the peak marker falls per update (~40 dB/s at 50 updates/s)

MIC_QSS = """
QToolButton#micButton { border: 1px solid #cfd3da; border-radius: 8px; background: #fff; }
QToolButton#micButton:hover { background: #eef1f6; }
QToolButton#micButton:focus { border-color: #4c7bd9; }
QToolButton#micButton[state="recording"] { background: #d93025; border-color: #b3261e; }
QToolButton#micButton[state="busy"] { background: #f1f3f4; }
QToolButton#micButton:disabled { background: #f4f5f7; border-color: #e0e2e6; }
"""


def mic_icon(color: QColor, size: int = 40) -> QPixmap:
    """A microphone drawn with QPainter (no emoji font needed): capsule, cradle, stem and foot."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 24.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    p.drawRoundedRect(QRectF(9 * s, 3 * s, 6 * s, 11 * s), 3 * s, 3 * s)
    pen = QPen(color, 1.8 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    cradle = QPainterPath(QPointF(6 * s, 11 * s))
    cradle.cubicTo(QPointF(6 * s, 19 * s), QPointF(18 * s, 19 * s), QPointF(18 * s, 11 * s))
    p.drawPath(cradle)
    p.drawLine(QPointF(12 * s, 17.2 * s), QPointF(12 * s, 20.5 * s))
    p.drawLine(QPointF(8.5 * s, 20.8 * s), QPointF(15.5 * s, 20.8 * s))
    p.end()
    return pix


def announce(widget: QWidget, event: QAccessible.Event) -> None:
    """Tell assistive technology that ``widget`` changed (name, description, or an alert); a no-op
    inside Qt when no screen reader listens."""
    QAccessible.updateAccessibility(QAccessibleEvent(widget, event))


class MicButton(QToolButton):
    holdStarted = Signal()
    holdEnded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("micButton")
        self.setAccessibleName("Dictate")
        self.setStyleSheet(MIC_QSS)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click keeps the cursor (and focus) in the message box
        self.setFixedSize(38, 31)  # the height of Send
        self.setIconSize(QSize(20, 20))
        self.setProperty("state", "idle")
        self._icons = {
            "idle": QIcon(mic_icon(QColor("#3c4043"))),
            "recording": QIcon(mic_icon(QColor("#ffffff"))),
            "busy": QIcon(mic_icon(QColor("#9aa0a6"))),
        }
        self.setIcon(self._icons["idle"])
        self._holding = False
        self._by_key = False  # the hold was started with Space/Enter, not the mouse
        self._key_guard = ReleaseGuard(self._end, self)  # X11 auto-repeat as plain release/press pairs

    @property
    def holding(self) -> bool:
        return self._holding

    def set_state(self, state: str, description: str = "") -> None:
        """ "idle", "recording" or "busy" (transcribing); the description is what a screen reader says."""
        if self.property("state") != state:
            self.setProperty("state", state)
            self.setIcon(self._icons.get(state, self._icons["idle"]))
            self.style().unpolish(self)
            self.style().polish(self)
        if self.accessibleDescription() != description:
            self.setAccessibleDescription(description)
            announce(self, QAccessible.Event.DescriptionChanged)

    def _begin(self, by_key: bool = False) -> None:
        if not self._holding:
            self._holding, self._by_key = True, by_key
            self.setDown(True)
            self.holdStarted.emit()

    def _end(self) -> None:
        if self._holding:
            self._holding = False
            self.setDown(False)
            self.holdEnded.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            event.accept()
            self._begin()
        else:
            super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self._end()
        else:
            super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.accept()  # sliding off the button does not end a hold

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not event.isAutoRepeat() and not self._key_guard.pressed():
                self._begin(by_key=True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not event.isAutoRepeat():
                self._key_guard.released()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self._holding and self._by_key:  # a key hold whose release will never arrive here
            self._end()
        super().focusOutEvent(event)


class LevelMeter(QWidget):
    """A horizontal bar for the microphone level (RMS), with a falling peak marker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.setAccessibleName("Microphone level")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(90)
        self.setFixedHeight(10)
        self._level = 0.0  # 0..1 of the range FLOOR_DBFS..0
        self._peak = 0.0
        self._peak_db = FLOOR_DBFS
        self.updates = 0  # how many levels it was given (tests, diagnostics)

    @staticmethod
    def fraction(dbfs: float) -> float:
        return max(0.0, min(1.0, (dbfs - FLOOR_DBFS) / -FLOOR_DBFS))

    def level(self) -> float:
        return self._level

    def peak(self) -> float:
        return self._peak

    def set_level(self, rms_dbfs: float, peak_dbfs: float) -> None:
        self._level = self.fraction(rms_dbfs)
        self._peak_db = max(peak_dbfs, self._peak_db - PEAK_FALL_DB)
        self._peak = self.fraction(self._peak_db)
        self.updates += 1
        self.update()  # Qt merges repaints: at most one paint per frame, however fast levels come

    def reset(self) -> None:
        self._level = self._peak = 0.0
        self._peak_db = FLOOR_DBFS
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(140, 10)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = r.height() / 2
        p.setPen(QPen(QColor(255, 255, 255, 150), 1))
        p.setBrush(QColor(0, 0, 0, 60))
        p.drawRoundedRect(r, radius, radius)
        if self._level > 0:
            fill = QRectF(r.left(), r.top(), max(r.height(), r.width() * self._level), r.height())
            grad = QLinearGradient(r.left(), 0, r.right(), 0)
            grad.setColorAt(0.0, QColor("#7ee787"))
            grad.setColorAt(0.7, QColor("#f9e45b"))
            grad.setColorAt(1.0, QColor("#ff8a80"))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(grad)
            p.drawRoundedRect(fill, radius, radius)
        if self._peak > 0:
            x = r.left() + r.width() * self._peak
            p.setPen(QPen(QColor("#ffffff"), 2))
            p.drawLine(QPointF(x, r.top() + 1), QPointF(x, r.bottom() - 1))
        p.end()
