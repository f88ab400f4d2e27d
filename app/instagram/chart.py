"""The follower chart's geometry: a polyline over time, y ticks and the order's start, as SVG numbers.

Pure arithmetic; the template (storefront/templates/storefront/_follower_chart.html) draws it, with its dates
and the start's legend as HTML around the drawing. Time runs left to
right from the first snapshot to the last, followers bottom to top between the smallest and largest count
(widened a little so a flat line sits mid-height instead of on the frame).
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
    followers: int


@dataclass(frozen=True)
class FollowerChart:
    line: str  # SVG path data of the follower line
    area: str  # the same line closed down to the x axis, for the fill
    ticks: list[tuple[float, int]]  # (y, followers) for the horizontal guides
    start_x: float | None  # where the order started, when it lies within the drawn time
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
        return self.last.followers - self.first.followers


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def y_range(values: Sequence[int]) -> tuple[float, float]:
    """The followers at the bottom and top of the plot: the data's range with 10 % air (at least 1 each way)."""
    low, high = min(values), max(values)
    air = max(1.0, (high - low) * 0.1)
    return max(0.0, low - air), high + air


def follower_chart(points: Sequence[ChartPoint], started_at: datetime | None) -> FollowerChart | None:
    """The chart of ``points`` (oldest first); None with fewer than two moments to draw a line between."""
    if len(points) < 2 or points[0].at >= points[-1].at:
        return None
    t0, t1 = points[0].at, points[-1].at
    span = (t1 - t0).total_seconds()
    low, high = y_range([point.followers for point in points])
    plot_w, plot_h = WIDTH - RIGHT - LEFT, HEIGHT - BOTTOM - TOP

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / span * plot_w

    def y(followers: float) -> float:
        return TOP + (high - followers) / (high - low) * plot_h

    coords = [(x(point.at), y(point.followers)) for point in points]
    line = "M" + " L".join(f"{_fmt(cx)},{_fmt(cy)}" for cx, cy in coords)
    base = _fmt(TOP + plot_h)
    area = f"{line} L{_fmt(coords[-1][0])},{base} L{_fmt(coords[0][0])},{base} Z"
    step = (high - low) / TICKS
    ticks = [(y(low + step * i), round(low + step * i)) for i in range(TICKS + 1)]
    start_x = x(started_at) if started_at is not None and t0 <= started_at <= t1 else None
    return FollowerChart(line=line, area=area, ticks=ticks, start_x=start_x, first=points[0], last=points[-1])
