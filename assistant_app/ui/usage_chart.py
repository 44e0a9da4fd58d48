"""The Usage window's chart: daily cost by model as stacked bars, drawn with QPainter (no QtCharts).

Geometry (legend, plot area, one rectangle per bar segment) is computed by methods the paint
code and the tests share, so what is drawn is what is checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from assistant_app.ui.usage_chart_data import ChartData, nice_ticks, tick_label
from assistant_app.ui.usage_format import format_cost

_TEXT = QColor("#3c4043")
_MUTED = QColor("#80868b")
_GRID = QColor("#e8eaed")
_AXIS = QColor("#bdc1c6")
_HOVER = QColor(60, 64, 67, 18)
_SWATCH = 10.0
_LEGEND_GAP = 18.0


@dataclass(frozen=True)
class Bar:
    """One segment of one day's stack."""

    day_index: int
    model: str
    cost: float
    rect: QRectF


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


class DailyCostChart(QWidget):
    """Stacked bars of known cost per day and model; hover a day for its breakdown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageChart")
        self.setAccessibleName("Daily cost by model, last 30 days")
        self.setMouseTracking(True)
        self.setMinimumSize(420, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._data = ChartData.build([])
        self._hover: int | None = None
        self.paint_count = 0  # tests check that painting really ran
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        self._small = small

    # -- data ------------------------------------------------------------------------------------

    def set_data(self, data: ChartData) -> None:
        self._data = data
        self._hover = None
        self.update()

    def chart_data(self) -> ChartData:
        return self._data

    def sizeHint(self) -> QSize:
        return QSize(680, 280)

    # -- geometry --------------------------------------------------------------------------------

    def legend_items(self) -> list[tuple[str, QRectF, QPointF]]:
        """(model, swatch rect, text baseline) for each legend entry, wrapped to the width."""
        fm = QFontMetricsF(self.font())
        x, y = self._left(), 6.0
        line = fm.height() + 6
        out = []
        for model in self._data.models:
            width = _SWATCH + 6 + fm.horizontalAdvance(model)
            if x + width > self.width() - 8 and x > self._left():
                x, y = self._left(), y + line
            swatch = QRectF(x, y + (fm.height() - _SWATCH) / 2, _SWATCH, _SWATCH)
            out.append((model, swatch, QPointF(x + _SWATCH + 6, y + fm.ascent())))
            x += width + _LEGEND_GAP
        return out

    def _legend_height(self) -> float:
        items = self.legend_items()
        if not items:
            return 0.0
        fm = QFontMetricsF(self.font())
        return items[-1][1].center().y() + fm.height() / 2 + 12

    def _ticks(self) -> tuple[float, list[float]]:
        return nice_ticks(self._data.max_day_total)

    def _left(self) -> float:
        step, ticks = self._ticks()
        fm = QFontMetricsF(self._small)
        return 12 + max(fm.horizontalAdvance(tick_label(t, step)) for t in ticks)

    def plot_rect(self) -> QRectF:
        fm = QFontMetricsF(self._small)
        top = max(self._legend_height(), 10.0)
        bottom = self.height() - fm.height() - 10
        return QRectF(self._left(), top, max(10.0, self.width() - self._left() - 12), max(10.0, bottom - top))

    def _slot(self) -> float:
        return self.plot_rect().width() / max(1, len(self._data.days))

    def bar_rects(self) -> list[Bar]:
        plot = self.plot_rect()
        _step, ticks = self._ticks()
        scale = plot.height() / ticks[-1] if ticks[-1] > 0 else 0.0
        slot = self._slot()
        width = max(2.0, slot * 0.72)
        out = []
        for i, day in enumerate(self._data.days):
            x = plot.left() + i * slot + (slot - width) / 2
            y = plot.bottom()
            for model, cost in self._data.stack(day):
                h = cost * scale
                out.append(Bar(i, model, cost, QRectF(x, y - h, width, h)))
                y -= h
        return out

    def day_at(self, x: float) -> int | None:
        plot = self.plot_rect()
        if not self._data.days or not plot.left() <= x < plot.right():
            return None
        return min(len(self._data.days) - 1, int((x - plot.left()) / self._slot()))

    def label_step(self) -> int:
        """Label every n-th day so the date labels never overlap."""
        fm = QFontMetricsF(self._small)
        widest = max((fm.horizontalAdvance(day_label(d)) for d in self._data.days), default=0.0)
        return max(1, math.ceil((widest + 10) / max(1.0, self._slot())))

    # -- painting --------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paint_count += 1
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        plot = self.plot_rect()
        self._paint_legend(p)
        self._paint_grid(p, plot)
        if self._hover is not None:
            slot = self._slot()
            p.fillRect(QRectF(plot.left() + self._hover * slot, plot.top(), slot, plot.height()), _HOVER)
        p.setPen(Qt.PenStyle.NoPen)
        for bar in self.bar_rects():
            p.setBrush(QColor(self._data.color(bar.model)))
            p.drawRect(bar.rect)
        self._paint_days(p, plot)
        if self._data.total <= 0:
            p.setPen(_MUTED)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No spending recorded in these 30 days")
        p.end()

    def _paint_legend(self, p: QPainter) -> None:
        p.setFont(self.font())
        for model, swatch, baseline in self.legend_items():
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(self._data.color(model)))
            p.drawRoundedRect(swatch, 2, 2)
            p.setPen(_TEXT)
            p.drawText(baseline, model)

    def _paint_grid(self, p: QPainter, plot: QRectF) -> None:
        step, ticks = self._ticks()
        fm = QFontMetricsF(self._small)
        p.setFont(self._small)
        for t in ticks:
            y = plot.bottom() - (t / ticks[-1]) * plot.height()
            p.setPen(QPen(_AXIS if t == 0 else _GRID, 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            label = tick_label(t, step)
            p.setPen(_MUTED)
            p.drawText(QPointF(plot.left() - 8 - fm.horizontalAdvance(label), y + fm.ascent() / 2 - 1), label)

    def _paint_days(self, p: QPainter, plot: QRectF) -> None:
        fm = QFontMetricsF(self._small)
        p.setFont(self._small)
        p.setPen(_MUTED)
        slot, every, last = self._slot(), self.label_step(), len(self._data.days) - 1
        for i, day in enumerate(self._data.days):
            if (last - i) % every:
                continue  # count back from today, so today is always labelled
            label = day_label(day)
            w = fm.horizontalAdvance(label)
            x = plot.left() + (i + 0.5) * slot - w / 2
            x = min(max(x, plot.left() - 4), self.width() - w - 2)
            p.drawText(QPointF(x, plot.bottom() + 6 + fm.ascent()), label)

    # -- hover -----------------------------------------------------------------------------------

    def tooltip_text(self, index: int) -> str:
        day = self._data.days[index]
        lines = [f"{day:%a} {day.day} {day:%b %Y}"]
        lines += [f"{model}: {format_cost(cost)}" for model, cost in reversed(self._data.stack(day))]
        calls, unknown = self._data.calls.get(day, 0), self._data.unknown.get(day, 0)
        summary = f"Total {format_cost(self._data.day_total(day))} · {calls:,} calls"
        lines.append(summary + (f" ({unknown:,} of unknown cost)" if unknown else ""))
        return "\n".join(lines)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.day_at(event.position().x())
        if index != self._hover:
            self._hover = index
            self.update()
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_text(index), self)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)
