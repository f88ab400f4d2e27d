"""The period a trend compares with, and the cohort heat map's geometry and shading."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reports.charts import heat_fill, heat_map
from reports.periods import DateRange, previous_range


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (DateRange(date(2026, 3, 1), date(2026, 3, 31)), DateRange(date(2026, 2, 1), date(2026, 2, 28))),
        (DateRange(date(2026, 10, 1), date(2026, 12, 31)), DateRange(date(2026, 7, 1), date(2026, 9, 30))),
        (DateRange(date(2027, 1, 1), date(2027, 1, 31)), DateRange(date(2026, 12, 1), date(2026, 12, 31))),
        (DateRange(date(2026, 11, 1), date(2026, 11, 15)), DateRange(date(2026, 10, 17), date(2026, 10, 31))),
        (DateRange(date(2026, 3, 10), date(2026, 3, 10)), DateRange(date(2026, 3, 9), date(2026, 3, 9))),
    ],
)
def test_previous_period_is_as_many_months_or_days_right_before(period: DateRange, previous: DateRange) -> None:
    assert previous_range(period) == previous


def test_heat_map_shades_by_share_and_leaves_unknown_months_grey() -> None:
    assert heat_fill(Decimal(0)) == "#eff4fb"
    assert heat_fill(Decimal(100)) == "#206bc4"
    assert heat_fill(Decimal(150)) == "#206bc4"  # clipped
    assert heat_fill(None) == "#f4f6fa"
    chart = heat_map([("2026-10", [Decimal(100), Decimal(50), None])], ["0", "1", "2"], cell=(50, 20))
    (row,) = chart.rows
    assert [(cell.x, cell.y, cell.share) for cell in row.cells] == [
        (72, 24, Decimal(100)),
        (122, 24, Decimal(50)),
        (172, 24, None),
    ]
    assert row.cells[1].fill == "#88b0e0"  # halfway: (239 + 32) / 2, (244 + 107) / 2, (251 + 196) / 2, half-even
    assert chart.columns == (("0", 97.0), ("1", 147.0), ("2", 197.0))
    assert (chart.width, chart.height) == (72 + 3 * 50, 24 + 20 + 4)
