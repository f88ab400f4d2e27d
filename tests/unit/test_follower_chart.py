"""The follower chart's SVG numbers: where points, guides and the order's start land in the drawing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.instagram.chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, ChartPoint, series_chart, y_range
from app.instagram.profiles import profile_handle

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def points(*followers: int, step: timedelta = timedelta(hours=1)) -> list[ChartPoint]:
    return [ChartPoint(T0 + step * i, count) for i, count in enumerate(followers)]


def test_fewer_than_two_moments_draw_no_chart():
    assert series_chart([], []) is None
    assert series_chart(points(100), []) is None
    assert series_chart([ChartPoint(T0, 1), ChartPoint(T0, 2)], []) is None


def test_the_line_runs_from_the_left_edge_to_the_right_edge_rising_with_the_followers():
    chart = series_chart(points(1000, 1100, 1200), [])
    assert chart is not None
    coords = [tuple(float(n) for n in part.split(",")) for part in chart.line.lstrip("M").split(" L")]
    xs, ys = [x for x, _ in coords], [y for _, y in coords]
    assert xs[0] == LEFT and xs[-1] == WIDTH - RIGHT
    assert xs[1] == (LEFT + WIDTH - RIGHT) / 2  # evenly spaced in time
    assert ys[0] > ys[1] > ys[2]  # more followers: higher up (smaller y)
    assert ys[2] > TOP and ys[0] < HEIGHT - BOTTOM  # 10 % air above and below
    assert chart.growth == 200


def test_the_area_closes_the_line_down_to_the_axis():
    chart = series_chart(points(5, 9), [])
    assert chart is not None
    base = HEIGHT - BOTTOM
    assert chart.area.startswith(chart.line) and chart.area.endswith(f"L{WIDTH - RIGHT},{base} L{LEFT},{base} Z")


def test_a_flat_line_sits_mid_height_and_the_guides_span_the_range():
    chart = series_chart(points(500, 500), [])
    assert chart is not None
    assert chart.line.endswith(f",{(TOP + HEIGHT - BOTTOM) / 2:g}")
    assert [value for _, value in chart.ticks] == [499, 500, 500, 500, 501]
    assert chart.ticks[0][0] == HEIGHT - BOTTOM and chart.ticks[-1][0] == TOP


def test_the_y_range_never_goes_below_zero():
    assert y_range([0, 10]) == (0.0, 11.0)
    assert y_range([100, 200]) == (90.0, 210.0)


def test_the_start_is_marked_where_it_falls_in_time_and_not_outside():
    series = points(100, 150, 200, step=timedelta(hours=2))
    inside = series_chart(series, [T0 + timedelta(hours=1), T0 - timedelta(hours=1)])
    outside = series_chart(series, [T0 - timedelta(hours=1)])
    assert inside is not None and outside is not None
    assert inside.start_xs == (LEFT + (WIDTH - RIGHT - LEFT) / 4,)
    assert outside.start_xs == ()


def test_profile_handles_come_from_profile_links_only():
    assert profile_handle("https://www.instagram.com/Lena.Schmidt/") == "lena.schmidt"
    assert profile_handle("https://instagram.com/lena_s?igsh=abc") == "lena_s"
    assert profile_handle("https://www.instagram.com/p/C0ffee123/") is None
    assert profile_handle("https://www.instagram.com/reel/abc/") is None
    assert profile_handle("https://www.instagram.com/lena/tagged/") is None
    assert profile_handle("https://www.tiktok.com/@lena") is None
    assert profile_handle("https://evil.example/instagram.com/lena") is None
