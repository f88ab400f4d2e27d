"""A count's chart geometry: a polyline over time, y ticks and the order starts, as SVG numbers.

Pure arithmetic, for any one count of a profile (followers, following, posts); the macro in
app/templates/charts/_series_chart.html draws it, with its dates and the starts' legend as HTML around the
drawing. Time runs left to right from the first point to the last, the count bottom to top between its smallest
and largest value (widened a little so a flat line sits mid-height instead of on the frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

# The drawing is stretched to the width of its box (labels are HTML beside it, so nothing gets distorted).
WIDTH = 640
HEIGHT = 200
LEFT = 2
RIGHT = 2
TOP = 8
BOTTOM = 2
TICKS = 4


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    value: int


@dataclass(frozen=True)
class SeriesChart:
    line: str  # SVG path data of the count's line
    area: str  # the same line closed down to the x axis, for the fill
    ticks: list[tuple[float, int]]  # (y, count) for the horizontal guides
    start_xs: tuple[float, ...]  # where orders started, those within the drawn time
    first: ChartPoint
    last: ChartPoint
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def growth(self) -> int:
        return self.last.value - self.first.value


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def y_range(values: Sequence[int]) -> tuple[float, float]:
    """The counts at the bottom and top of the plot: the data's range with 10 % air (at least 1 each way)."""
    low, high = min(values), max(values)
    air = max(1.0, (high - low) * 0.1)
    return max(0.0, low - air), high + air


def series_chart(points: Sequence[ChartPoint], starts: Sequence[datetime]) -> SeriesChart | None:
    """The chart of ``points`` (oldest first) with ``starts`` marked; None with fewer than two moments to draw a
    line between."""
    if len(points) < 2 or points[0].at >= points[-1].at:
        return None
    t0, t1 = points[0].at, points[-1].at
    span = (t1 - t0).total_seconds()
    low, high = y_range([point.value for point in points])
    plot_w, plot_h = WIDTH - RIGHT - LEFT, HEIGHT - BOTTOM - TOP

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / span * plot_w

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * plot_h

    coords = [(x(point.at), y(point.value)) for point in points]
    line = "M" + " L".join(f"{_fmt(cx)},{_fmt(cy)}" for cx, cy in coords)
    base = _fmt(TOP + plot_h)
    area = f"{line} L{_fmt(coords[-1][0])},{base} L{_fmt(coords[0][0])},{base} Z"
    step = (high - low) / TICKS
    ticks = [(y(low + step * i), round(low + step * i)) for i in range(TICKS + 1)]
    start_xs = tuple(x(at) for at in sorted(set(starts)) if t0 <= at <= t1)
    return SeriesChart(line=line, area=area, ticks=ticks, start_xs=start_xs, first=points[0], last=points[-1])
