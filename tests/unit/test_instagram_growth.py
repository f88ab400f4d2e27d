"""Follower growth over N days, and the provider's counts as a follower series, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.instagram.chart import ChartPoint
from app.instagram.metrics import ProfileLine, growth_over, provider_points

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def series(*points: tuple[float, int]) -> list[ChartPoint]:
    """Points as (days ago, count), oldest first."""
    return [ChartPoint(NOW - days_ago * DAY, count) for days_ago, count in points]


def test_growth_is_the_latest_count_minus_the_latest_at_or_before_the_cutoff():
    points = series((100, 1000), (40, 1200), (30, 1250), (8, 1700), (0.1, 2000))
    assert growth_over(points, NOW, 7) == 2000 - 1700
    assert growth_over(points, NOW, 30) == 2000 - 1250  # exactly at the cutoff counts
    assert growth_over(points, NOW, 90) == 2000 - 1000


def test_growth_can_be_a_loss():
    assert growth_over(series((10, 900), (1, 850)), NOW, 7) == -50


def test_without_a_count_that_old_or_without_one_since_there_is_not_enough_history():
    assert growth_over(series((5, 100), (1, 150)), NOW, 7) is None
    assert growth_over(series((20, 100), (9, 150)), NOW, 7) is None  # nothing recorded in the last 7 days


def test_the_providers_counts_are_each_lines_start_count_and_then_what_it_delivered():
    lines = [
        ProfileLine("SMP-1", NOW - 20 * DAY, 500, 800, NOW - 15 * DAY),
        ProfileLine("SMP-2", NOW - 5 * DAY, 1250, 0, None),  # started, nothing delivered yet
        ProfileLine("SMP-3", NOW - 3 * DAY, None, 0, None),  # the provider gave no start count
    ]
    assert provider_points(lines) == series((20, 500), (15, 1300), (5, 1250))


def test_no_counts_at_all_is_not_enough_history():
    assert growth_over([], NOW, 7) is None
