"""Which chart each report gets from its frame: the admin page and the PDF ask the same function."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from reports.report_charts import report_chart

MONEY = pl.Decimal(12, 2)


def _split(rows: list[tuple[str, str, str, Decimal]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"period": pl.String, "category": pl.String, "currency": pl.String, "net_after_refunds": MONEY},
        orient="row",
    )


def test_revenue_by_category_stacks_each_period_by_category_in_euros_only() -> None:
    frame = _split(
        [
            ("2026-10", "Followers", "EUR", Decimal("30.00")),
            ("2026-10", "Likes", "EUR", Decimal("10.00")),
            ("2026-10", "Likes", "USD", Decimal("99.00")),
            ("2026-11", "Likes", "EUR", Decimal("5.00")),
        ]
    )
    chart = report_chart("revenue-by-category", frame, str)
    assert chart is not None and chart.bars is not None
    assert chart.title == "Net after refunds (EUR) per period, by Category"
    assert [series for series, _fill in chart.bars.legend] == ["Followers", "Likes"]
    assert [(bar.label, bar.value) for bar in chart.bars.bars] == [("2026-10", Decimal(40)), ("2026-11", Decimal(5))]


def test_a_split_over_the_whole_period_or_an_empty_one_has_no_chart() -> None:
    whole = _split([("2026-10", "Likes", "EUR", Decimal("5.00"))]).drop("period")
    assert report_chart("revenue-by-category", whole, str) is None
    assert report_chart("revenue-by-category", _split([]), str) is None
    assert report_chart("revenue-by-category", _split([("2026-10", "Likes", "USD", Decimal("5.00"))]), str) is None
    assert report_chart("top-customers", _split([("2026-10", "Likes", "EUR", Decimal("5.00"))]), str) is None


def test_revenue_keeps_its_plain_bars() -> None:
    frame = _split([("2026-10", "", "EUR", Decimal("-6.00"))]).drop("category")
    chart = report_chart("revenue", frame, str)
    assert chart is not None and chart.bars is not None
    assert chart.title == "Net after refunds (EUR) per period"
    assert chart.bars.legend == ()
    assert chart.bars.bars[0].segments[0].fill == "#d63939"


def test_the_funnel_is_charted_over_the_whole_selection_as_its_steps() -> None:
    frame = pl.DataFrame(
        {
            "period": ["2026-W40", "2026-W41"],
            "landing_visitors": [100, 100],
            "service_visitors": [60, 40],
            "checkout_visitors": [10, 10],
            "paid_visitors": [5, 3],
        }
    )
    chart = report_chart("funnel", frame, str)
    assert chart is not None and chart.funnel is not None and chart.bars is None
    steps = [(step.label, step.count, step.percent) for step in chart.funnel.steps]
    assert steps == [
        ("Landing page visitors", 200, None),
        ("Service page visitors", 100, Decimal("50.0")),
        ("Checkouts started", 20, Decimal("20.0")),
        ("Visitors who paid", 8, Decimal("40.0")),
    ]
    assert "added up over the periods" in chart.title
    assert "added up" not in report_chart("funnel", frame.drop("period"), str).title  # type: ignore[union-attr]
    assert report_chart("funnel", frame.clear(), str) is None


def test_subscriptions_chart_mrr_per_month_in_euros() -> None:
    mrr = pl.Series("mrr", [Decimal(20), Decimal(7), Decimal("35.5")], MONEY)
    frame = pl.DataFrame({"period": ["2026-10", "2026-10", "2026-11"], "currency": ["EUR", "USD", "EUR"]})
    frame = frame.with_columns(mrr)
    chart = report_chart("subscriptions", frame, str)
    assert chart is not None and chart.bars is not None
    assert chart.title == "Monthly recurring revenue (EUR) per month"
    assert [(bar.label, bar.value) for bar in chart.bars.bars] == [("2026-10", 20), ("2026-11", Decimal("35.5"))]


def test_cohort_retention_is_a_heat_map_over_the_whole_selection() -> None:
    shares = {
        f"month_{since}_percent": [Decimal(100), None] if since == 0 else [Decimal(0), None] for since in range(12)
    }
    shares["month_0_percent"] = [Decimal(100), Decimal(100)]
    frame = pl.DataFrame({"cohort": ["2026-10", "2026-11"], "customers": [1, 3], **shares})
    chart = report_chart("cohort-retention", frame, str)
    assert chart is not None and chart.heat_map is not None and chart.bars is None
    october, november = chart.heat_map.rows
    assert [cell.share for cell in october.cells][:2] == [100, 0]
    assert [cell.share for cell in november.cells][:2] == [100, None]
    assert len(chart.heat_map.columns) == 12
