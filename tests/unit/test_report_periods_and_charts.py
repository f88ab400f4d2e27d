"""Report periods (presets, Berlin days, buckets) and the bar chart's geometry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from reports.charts import bar_chart, nice_step
from reports.periods import DateRange, Grouping, Preset, berlin_today, period_label, period_start, preset_range


@pytest.mark.parametrize(
    ("preset", "today", "first", "last"),
    [
        (Preset.THIS_MONTH, date(2026, 11, 30), date(2026, 11, 1), date(2026, 11, 30)),
        (Preset.LAST_MONTH, date(2026, 1, 15), date(2025, 12, 1), date(2025, 12, 31)),
        (Preset.LAST_MONTH, date(2026, 3, 31), date(2026, 2, 1), date(2026, 2, 28)),
        (Preset.THIS_QUARTER, date(2026, 11, 30), date(2026, 10, 1), date(2026, 11, 30)),
        (Preset.LAST_QUARTER, date(2026, 2, 10), date(2025, 10, 1), date(2025, 12, 31)),
        (Preset.THIS_YEAR, date(2026, 6, 1), date(2026, 1, 1), date(2026, 6, 1)),
        (Preset.LAST_YEAR, date(2026, 6, 1), date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_presets_name_calendar_ranges(preset: Preset, today: date, first: date, last: date) -> None:
    assert preset_range(preset, today) == DateRange(first, last)


def test_a_range_runs_from_berlin_midnight_to_berlin_midnight_across_a_clock_change() -> None:
    october = DateRange(date(2026, 10, 1), date(2026, 10, 31))
    assert october.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # summer time
    assert october.end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # winter time
    assert berlin_today(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == date(2026, 11, 1)


def test_a_range_may_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends"):
        DateRange(date(2026, 2, 1), date(2026, 1, 31))


@pytest.mark.parametrize(
    ("grouping", "labels"),
    [
        (Grouping.WEEK, ["2026-W01", "2026-W53", "2026-W53"]),  # 2026-01-01 is a Thursday: ISO week 1
        (Grouping.MONTH, ["2026-01", "2026-12", "2027-01"]),
        (Grouping.QUARTER, ["2026-Q1", "2026-Q4", "2027-Q1"]),
        (Grouping.YEAR, ["2026", "2026", "2027"]),
    ],
)
def test_buckets_are_named_by_the_calendar(grouping: Grouping, labels: list[str]) -> None:
    days = pl.DataFrame({"day": [date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 3)]})
    assert days.select(period_label(period_start(pl.col("day"), grouping), grouping)).to_series().to_list() == labels


@pytest.mark.parametrize(
    ("span", "step"), [("36", "10"), ("0.5", "0.2"), ("123456", "50000"), ("8", "2"), ("10", "2.5"), ("0", "1")]
)
def test_grid_steps_are_round_numbers(span: str, step: str) -> None:
    assert nice_step(Decimal(span)) == Decimal(step)


def test_negative_bars_hang_below_the_zero_line_inside_the_plot() -> None:
    chart = bar_chart([("a", Decimal("10")), ("b", Decimal("30")), ("c", Decimal("-6"))])
    a, b, c = chart.bars
    assert [tick.value for tick in chart.ticks] == [-10, 0, 10, 20, 30]
    assert a.y + a.height == b.y + b.height == chart.zero_y == c.y
    assert b.height == 3 * a.height
    assert c.y + c.height <= chart.height - chart.bottom
    assert b.y >= 0


def test_an_all_zero_chart_keeps_its_grid_on_the_canvas() -> None:
    chart = bar_chart([("a", Decimal(0))])
    assert all(0 <= tick.y <= chart.height for tick in chart.ticks)
    assert chart.bars[0].height == 0
