"""Charts as geometry: bars (stacked or plain), the funnel's steps and the cohort heat map.

Pure arithmetic, no drawing: the admin template turns this into SVG ``<rect>`` and ``<line>`` elements (no
script, scales with the page), the PDF export into a ReportLab vector drawing. Colours are chosen here, so both
faces agree: the stacks' palette is Okabe and Ito's, which colour-blind readers tell apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
POSITIVE, NEGATIVE = "#206bc4", "#d63939"
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7")
OTHER_FILL = "#a8b0bd"


@dataclass(frozen=True)
class Segment:
    series: str  # the legend's name for it; empty in a plain bar chart
    value: Decimal
    y: float
    height: float
    fill: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal  # the stack's total
    x: float
    y: float  # top and height of the whole stack
    width: float
    height: float
    segments: tuple[Segment, ...]


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
    legend: tuple[tuple[str, str], ...]  # series and fill, in stacking order; none for plain bars


@dataclass(frozen=True)
class Stacks:
    """Values per period (in the rows' order) of a few series, the rest added up as one."""

    series: tuple[str, ...]
    fills: tuple[str, ...]
    periods: tuple[tuple[str, tuple[Decimal, ...]], ...]


def nice_step(span: Decimal, intervals: int = 4) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts ``span`` into about ``intervals`` parts."""
    if span <= 0:
        return Decimal(1)
    raw = span / intervals
    power = Decimal(10) ** raw.adjusted()
    return next(step * power for step in NICE_STEPS if step * power >= raw)


def stacks(rows: Sequence[tuple[str, str, Decimal]], *, other: str, top: int = len(PALETTE)) -> Stacks:
    """``(period, series, value)`` rows as stacks: the ``top`` series with the largest totals over all periods,
    largest first, and the others added up as ``other``."""
    totals: dict[str, Decimal] = {}
    for _period, series, value in rows:
        totals[series] = totals.get(series, Decimal(0)) + value
    ranked = sorted(totals, key=lambda series: (-totals[series], series))
    kept = ranked[:top]
    names = (*kept, other) if len(kept) < len(ranked) else tuple(kept)
    place = {series: index for index, series in enumerate(kept)}
    periods: dict[str, list[Decimal]] = {}
    for period, series, value in rows:
        values = periods.setdefault(period, [Decimal(0)] * len(names))
        values[place.get(series, len(names) - 1)] += value
    fills = tuple(PALETTE[i] for i in range(len(kept))) + ((OTHER_FILL,) if len(names) > len(kept) else ())
    return Stacks(names, fills, tuple((period, tuple(values)) for period, values in periods.items()))


def bar_chart(points: Sequence[tuple[str, Decimal]], *, width: int = 720, height: int = 260) -> BarChart:
    """Vertical bars for ``(label, value)`` in order; negative values hang below the zero line, in red."""
    columns = [(label, [("", value, NEGATIVE if value < 0 else POSITIVE)]) for label, value in points]
    return _bar_chart(columns, (), width, height)


def stacked_bar_chart(stacked: Stacks, *, width: int = 720, height: int = 260) -> BarChart:
    """A bar per period, its series stacked in order: positive parts up from the zero line, negative ones down."""
    columns = [
        (label, list(zip(stacked.series, values, stacked.fills, strict=True))) for label, values in stacked.periods
    ]
    return _bar_chart(columns, tuple(zip(stacked.series, stacked.fills, strict=True)), width, height)


def _bar_chart(
    columns: Sequence[tuple[str, Sequence[tuple[str, Decimal, str]]]],
    legend: tuple[tuple[str, str], ...],
    width: int,
    height: int,
) -> BarChart:
    bottom, top = 28, 8
    plot_height = height - bottom - top
    ups = [sum((v for _s, v, _f in parts if v > 0), Decimal(0)) for _label, parts in columns]
    downs = [sum((v for _s, v, _f in parts if v < 0), Decimal(0)) for _label, parts in columns]
    high, low = max([Decimal(0), *ups]), min([Decimal(0), *downs])
    step = nice_step(high - low)
    top_value = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    bottom_value = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    if top_value == bottom_value:  # nothing but zeros: the zero line at the bottom of one step
        top_value += step
    span = top_value - bottom_value
    tick_values = [bottom_value + i * step for i in range(int(span / step) + 1)]
    left = _label_room(tick_values)

    def y_of(value: Decimal) -> float:
        return top + float((top_value - value) / span) * plot_height

    slot = (width - left) / max(len(columns), 1)
    bar_width = max(slot * 0.7, 1.0)
    bars = []
    for index, (label, parts) in enumerate(columns):
        up, down = Decimal(0), Decimal(0)
        segments = []
        for series, value, fill in parts:
            start = up if value >= 0 else down
            end = start + value
            y_top, y_bottom = sorted((y_of(start), y_of(end)))
            segments.append(Segment(series, value, round(y_top, 2), round(y_bottom - y_top, 2), fill))
            up, down = (end, down) if value >= 0 else (up, end)
        y_top, y_bottom = y_of(up), y_of(down)
        x = left + index * slot + (slot - bar_width) / 2
        total = sum((value for _s, value, _f in parts), Decimal(0))
        bars.append(
            Bar(
                label,
                total,
                round(x, 2),
                round(y_top, 2),
                round(bar_width, 2),
                round(y_bottom - y_top, 2),
                tuple(segments),
            )
        )
    ticks = tuple(Tick(value, round(y_of(value), 2)) for value in tick_values)
    return BarChart(width, height, left, bottom, tuple(bars), ticks, round(y_of(Decimal(0)), 2), legend)


def _label_room(values: Sequence[Decimal]) -> int:
    """Room left of the plot for the longest tick label ("-1.000.000 €"), at least 64 units: about 6.5 units a
    character at the 11-unit type the page and the PDF draw them in."""
    longest = max(len(f"{value.normalize():,f}") + 2 for value in values)
    return max(64, round(longest * 6.5) + 8)


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    percent: Decimal | None  # of the step before; none for the first step or after an empty one
    y: float
    length: float  # of its bar, from the chart's ``left``


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    left: int  # room for the step names
    bar_height: int
    steps: tuple[FunnelStep, ...]


def step_percent(count: int, before: int) -> Decimal | None:
    """``count`` as a percentage of ``before``, one decimal, half-up; none when ``before`` is zero."""
    if before == 0:
        return None
    return (Decimal(count) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def funnel_chart(steps: Sequence[tuple[str, int]], *, width: int = 720, row: int = 34) -> FunnelChart:
    """A horizontal bar per ``(step, count)`` in order, as long as its count against the largest, each with
    its share of the step before; room right of the longest bar for the count and the share."""
    left, right, top = 170, 150, 6
    plot = width - left - right
    widest = max((count for _label, count in steps), default=0)
    counts = [count for _label, count in steps]
    funnel_steps = tuple(
        FunnelStep(
            label,
            count,
            step_percent(count, counts[i - 1]) if i else None,
            top + i * row,
            round(plot * count / widest, 2) if widest else 0.0,
        )
        for i, (label, count) in enumerate(steps)
    )
    return FunnelChart(width, top * 2 + len(steps) * row, left, row - 10, funnel_steps)


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
