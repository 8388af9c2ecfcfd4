"""Scales for the report's bar charts; the SVG itself is drawn by Jinja macros (reports/_charts.html).

Plain arithmetic, no Flask: a chart is computed from a report ``Table`` so that the bars and the table
beside them can never disagree. Figures hidden by the rule of five (or not known yet) get no bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 210
VALUE_WIDTH = 90
BAR_HEIGHT = 22
ROW_HEIGHT = 32
TOP = 8
AXIS_HEIGHT = 26


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as the table writes it
    value: float | None  # None: no bar (hidden or empty)
    x: float
    width: float
    y: float
    negative: bool = False


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    summary: str
    bars: list[Bar]
    ticks: list[Tick]
    zero_x: float
    width: int
    height: int
    plot_left: float
    plot_right: float


def nice_step(span: float, target: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) cutting ``span`` into about ``target`` parts."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:g}"


def bar_chart(table, *, scale: float = 1.0) -> BarChart:
    """Horizontal bars for ``table.chart_column``, on a scale from min(0, smallest) to max(0, largest).

    ``scale`` turns a stored value into the unit drawn (100 for rates shown as percentages).
    """
    column = table.chart_column
    rows = [(row[0], row[column]) for row in table.rows]
    values = [fig.value * scale for _, fig in rows if fig.shown]
    low = min([0.0, *values])
    high = max([0.0, *values])
    if high == low:
        high = low + 1
    step = nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    left = LABEL_WIDTH
    right = WIDTH - VALUE_WIDTH

    def x_of(value: float) -> float:
        return round(left + (value - low) / (high - low) * (right - left), 2)

    zero = x_of(0)
    bars = []
    for index, (name, fig) in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        if fig.shown:
            value = fig.value * scale
            end = x_of(value)
            bars.append(Bar(str(name), fig.text, value, min(zero, end), round(abs(end - zero), 2), y, value < 0))
        else:
            bars.append(Bar(str(name), fig.text, None, zero, 0, y))
    ticks = []
    tick = low
    while tick <= high + step / 2:
        ticks.append(Tick(x_of(tick), _fmt(round(tick, 6))))
        tick += step
    height = TOP + len(rows) * ROW_HEIGHT + AXIS_HEIGHT
    return BarChart(table.key, table.title, table.summary, bars, ticks, zero, WIDTH, height, left, right)
