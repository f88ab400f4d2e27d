"""Report periods (presets, Berlin days, buckets) and the charts' geometry: bars, stacks and the funnel."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.i18n import BERLIN
from reports.charts import OTHER_FILL, PALETTE, bar_chart, funnel_chart, nice_step, stacked_bar_chart, stacks
from reports.periods import (
    DateRange,
    Grouping,
    Preset,
    berlin_today,
    bucket_args,
    bucket_starts,
    period_label,
    period_start,
    preset_range,
)


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
    ("grouping", "first", "last", "starts"),
    [
        (Grouping.DAY, date(2026, 3, 28), date(2026, 3, 29), [date(2026, 3, d) for d in (28, 29, 30)]),
        (
            Grouping.WEEK,
            date(2026, 12, 2),
            date(2026, 12, 7),
            [date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 14)],
        ),
        (
            Grouping.MONTH,
            date(2026, 11, 15),
            date(2027, 1, 1),
            [date(2026, m, 1) for m in (11, 12)] + [date(2027, 1, 1), date(2027, 2, 1)],
        ),
        (Grouping.QUARTER, date(2026, 11, 15), date(2026, 12, 31), [date(2026, 10, 1), date(2027, 1, 1)]),
        (Grouping.YEAR, date(2025, 6, 1), date(2026, 1, 1), [date(2025, 1, 1), date(2026, 1, 1), date(2027, 1, 1)]),
    ],
)
def test_a_range_touches_its_buckets_and_ends_at_the_next_ones_start(
    grouping: Grouping, first: date, last: date, starts: list[date]
) -> None:
    assert bucket_starts(DateRange(first, last), grouping) == starts


@settings(max_examples=300, deadline=None)
@given(
    grouping=st.sampled_from(list(Grouping)),
    first=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    days=st.integers(min_value=0, max_value=800),
    offset=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_an_instant_falls_in_the_bucket_of_its_berlin_day(
    grouping: Grouping, first: date, days: int, offset: float
) -> None:
    """The binary search over the buckets' first instants (what ``bucket_sql`` has PostgreSQL do) agrees with
    truncating the instant's Berlin day, across clock changes."""
    period = DateRange(first, first + timedelta(days=days))
    instant = period.start + (period.end - period.start) * offset
    _start, _end, edges, starts = bucket_args(period, grouping)
    found = starts[bisect_right(edges, instant) - 1]  # width_bucket: the last edge at or before the instant
    berlin_day = pl.DataFrame({"day": [instant.astimezone(BERLIN).date()]})
    assert found == berlin_day.select(period_start(pl.col("day"), grouping)).item()


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


def test_stacks_keep_the_largest_series_and_add_up_the_rest_as_other() -> None:
    rows = [("2026-10", f"s{i}", Decimal(10 * i)) for i in range(1, 9)] + [("2026-11", "s1", Decimal(5))]
    stacked = stacks(rows, other="Other", top=6)
    assert stacked.series == ("s8", "s7", "s6", "s5", "s4", "s3", "Other")
    assert stacked.fills == (*PALETTE, OTHER_FILL)
    october, november = stacked.periods
    assert october == (
        "2026-10",
        (Decimal(80), Decimal(70), Decimal(60), Decimal(50), Decimal(40), Decimal(30), Decimal(30)),
    )
    assert november == ("2026-11", (*[Decimal(0)] * 6, Decimal(5)))


def test_few_series_need_no_other_bucket() -> None:
    stacked = stacks([("a", "x", Decimal(1)), ("a", "y", Decimal(2))], other="Other")
    assert stacked.series == ("y", "x")
    assert stacked.fills == PALETTE[:2]


def test_stack_heights_add_up_to_the_plain_bar_of_the_total() -> None:
    rows = [("a", "x", Decimal(12)), ("a", "y", Decimal(18)), ("b", "x", Decimal(10)), ("b", "y", Decimal(3))]
    chart = stacked_bar_chart(stacks(rows, other="Other"))
    plain = bar_chart([("a", Decimal(30)), ("b", Decimal(13))])
    assert [bar.value for bar in chart.bars] == [30, 13]
    assert chart.ticks == plain.ticks
    for stacked, alone in zip(chart.bars, plain.bars, strict=True):
        assert sum(segment.height for segment in stacked.segments) == pytest.approx(alone.height, abs=0.02)
        assert (stacked.y, stacked.height) == (alone.y, alone.height)
    lower, upper = chart.bars[0].segments  # x (22 in all) is the larger series: stacked first, on the zero line
    assert lower.y + lower.height == pytest.approx(chart.zero_y, abs=0.01)
    assert upper.y + upper.height == pytest.approx(lower.y, abs=0.01)
    assert chart.legend == (("x", PALETTE[0]), ("y", PALETTE[1]))
    assert plain.legend == ()


def test_negative_parts_of_a_stack_hang_below_the_zero_line() -> None:
    chart = stacked_bar_chart(stacks([("a", "x", Decimal(10)), ("a", "y", Decimal(-4))], other="Other"))
    (bar,) = chart.bars
    up, down = bar.segments
    assert bar.value == 6
    assert up.y + up.height == pytest.approx(chart.zero_y, abs=0.01) == down.y
    assert down.height == pytest.approx(up.height * 0.4, abs=0.02)
    assert (bar.y, bar.y + bar.height) == (up.y, pytest.approx(down.y + down.height, abs=0.01))


def test_funnel_steps_show_the_share_of_the_step_before() -> None:
    chart = funnel_chart([("landing", 200), ("service", 150), ("checkout", 45), ("paid", 0)], width=720)
    assert [step.percent for step in chart.steps] == [None, Decimal("75.0"), Decimal("30.0"), Decimal("0.0")]
    landing, service, _checkout, paid = chart.steps
    assert service.length == pytest.approx(landing.length * 0.75)
    assert chart.left + landing.length < chart.width
    assert paid.length == 0
    assert chart.height >= paid.y + chart.bar_height


def test_a_funnel_after_an_empty_step_has_no_share() -> None:
    chart = funnel_chart([("landing", 0), ("service", 0)])
    assert [step.percent for step in chart.steps] == [None, None]
    assert [step.length for step in chart.steps] == [0, 0]


def test_the_longest_tick_label_has_room_left_of_the_plot() -> None:
    """ "-1.000.000 €" at 11-unit type is about 78 units wide: the plot starts right of it, the bars too."""
    chart = bar_chart([("2026-01", Decimal("2500000")), ("2026-02", Decimal("-30000"))])
    assert min(tick.value for tick in chart.ticks) == Decimal("-1000000")
    assert chart.left >= 12 * 6.5
    assert min(bar.x for bar in chart.bars) > chart.left
    assert bar_chart([("2026-01", Decimal("36"))]).left == 64
