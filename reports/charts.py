"""A bar chart as geometry: bars, the zero line and round-numbered grid lines, and the points it charts.

Pure arithmetic, no drawing: the admin template turns this into SVG ``<rect>`` and ``<line>`` elements (no
script, scales with the page), the PDF export into a ReportLab vector drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import polars as pl

CHART_MEASURE = "net_after_refunds"
CHART_CURRENCY = "EUR"
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    value: Decimal
    y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int  # room for the tick labels
    bottom: int  # room for the bar labels
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    zero_y: float


def nice_step(span: Decimal, intervals: int = 4) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts ``span`` into about ``intervals`` parts."""
    if span <= 0:
        return Decimal(1)
    raw = span / intervals
    power = Decimal(10) ** raw.adjusted()
    return next(step * power for step in NICE_STEPS if step * power >= raw)


def bar_chart(points: Sequence[tuple[str, Decimal]], *, width: int = 720, height: int = 260) -> BarChart:
    """Vertical bars for ``(label, value)`` in order; negative values hang below the zero line."""
    left, bottom, top = 64, 28, 8
    plot_height = height - bottom - top
    values = [value for _label, value in points]
    high = max([Decimal(0), *values])
    low = min([Decimal(0), *values])
    step = nice_step(high - low)
    top_value = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    bottom_value = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    if top_value == bottom_value:  # nothing but zeros: the zero line at the bottom of one step
        top_value += step
    span = top_value - bottom_value

    def y_of(value: Decimal) -> float:
        return top + float((top_value - value) / span) * plot_height

    slot = (width - left) / max(len(points), 1)
    bar_width = max(slot * 0.7, 1.0)
    bars = []
    for index, (label, value) in enumerate(points):
        y_top, y_bottom = sorted((y_of(value), y_of(Decimal(0))))
        x = left + index * slot + (slot - bar_width) / 2
        bars.append(Bar(label, value, round(x, 2), round(y_top, 2), round(bar_width, 2), round(y_bottom - y_top, 2)))
    count = int(span / step)
    ticks = tuple(Tick(bottom_value + i * step, round(y_of(bottom_value + i * step), 2)) for i in range(count + 1))
    return BarChart(width, height, left, bottom, tuple(bars), ticks, round(y_of(Decimal(0)), 2))


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    share: Decimal | None  # percent; None: not known yet (drawn empty)
    fill: str


@dataclass(frozen=True)
class HeatRow:
    label: str
    y: float
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True)
class HeatMap:
    width: int
    height: int
    left: int  # room for the row labels
    top: int  # room for the column labels
    cell_width: int
    cell_height: int
    columns: tuple[tuple[str, float], ...]  # label and x of its centre
    rows: tuple[HeatRow, ...]


def heat_fill(share: Decimal | None) -> str:
    """Blue, darker the higher the share (0 to 100 %); light grey where the share is not known."""
    if share is None:
        return "#f4f6fa"
    strength = min(max(share, Decimal(0)), Decimal(100)) / 100
    light, dark = (239, 244, 251), (32, 107, 196)
    red, green, blue = (round(a + (b - a) * strength) for a, b in zip(light, dark, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def heat_map(
    rows: Sequence[tuple[str, Sequence[Decimal | None]]], columns: Sequence[str], *, cell: tuple[int, int] = (52, 26)
) -> HeatMap:
    """A grid of ``rows`` (label, one share per column) under ``columns`` labels, shaded by share."""
    left, top = 72, 24
    cell_width, cell_height = cell
    column_marks = tuple((label, left + i * cell_width + cell_width / 2) for i, label in enumerate(columns))
    heat_rows = tuple(
        HeatRow(
            label,
            top + r * cell_height,
            tuple(
                HeatCell(left + c * cell_width, top + r * cell_height, share, heat_fill(share))
                for c, share in enumerate(shares)
            ),
        )
        for r, (label, shares) in enumerate(rows)
    )
    return HeatMap(
        left + len(columns) * cell_width,
        top + len(rows) * cell_height + 4,
        left,
        top,
        cell_width,
        cell_height,
        column_marks,
        heat_rows,
    )


def chart_points(frame: pl.DataFrame) -> list[tuple[str, Decimal]]:
    """Net after refunds in euros per period, in the report's order; none for a report without periods or money."""
    if "period" not in frame.columns or CHART_MEASURE not in frame.columns or frame.is_empty():
        return []
    euro = frame.filter(pl.col("currency") == CHART_CURRENCY)
    totals = euro.group_by("period", maintain_order=True).agg(pl.col(CHART_MEASURE).sum())
    return [(str(period), Decimal(value)) for period, value in totals.rows()]
