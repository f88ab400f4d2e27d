"""Every report by the name the CLI and the admin use, with its title and default grouping."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import N_, Translate
from app.invoicing.tax import TaxTreatment
from reports.bookkeeping import bookkeeping
from reports.cohorts import cohorts
from reports.customers import customers, top_customers
from reports.datasets import DIMENSIONS
from reports.funnel import funnel
from reports.kpis import kpis
from reports.margin import margin_by
from reports.operations import operations
from reports.periods import Grouping
from reports.revenue import Build, Selection, revenue, revenue_by
from reports.subscriptions import subscriptions


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    grouping: Grouping | None  # when none is asked for: None is the whole range as one
    build: Build


async def _revenue(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    return await revenue(session, selection)


def _split_by(*keys: str, treatment: TaxTreatment | None = None) -> Build:
    dimensions = tuple(DIMENSIONS[key] for key in keys)

    async def build(session: AsyncSession, selection: Selection, translate: Translate) -> pl.DataFrame:
        return await revenue_by(session, selection, dimensions, translate, treatment=treatment)

    return build


def _funnel(*, by_service: bool) -> Build:
    async def build(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
        return await funnel(session, selection, by_service=by_service)

    return build


def _margin(key: str) -> Build:
    async def build(session: AsyncSession, selection: Selection, translate: Translate) -> pl.DataFrame:
        return await margin_by(session, selection, translate, key)

    return build


REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report("kpis", N_("Success metrics"), None, kpis),
        Report("revenue", N_("Revenue"), Grouping.MONTH, _revenue),
        Report("revenue-by-service", N_("Revenue by service"), None, _split_by("service")),
        Report("revenue-by-category", N_("Revenue by category"), None, _split_by("category")),
        Report("revenue-by-platform", N_("Revenue by platform"), None, _split_by("platform")),
        Report("revenue-by-country", N_("Revenue by country"), None, _split_by("country")),
        Report("revenue-by-customer-type", N_("Revenue by customer type"), None, _split_by("customer_type")),
        Report("revenue-by-source", N_("Revenue by source"), None, _split_by("source")),
        Report("tax", N_("Revenue by tax treatment and rate"), Grouping.MONTH, _split_by("tax_treatment", "tax_rate")),
        Report(
            "oss",
            N_("EU One-Stop-Shop sales by country and rate"),
            Grouping.QUARTER,
            _split_by("country", "tax_rate", treatment=TaxTreatment.EU_OSS),
        ),
        Report("funnel", N_("Storefront funnel"), Grouping.WEEK, _funnel(by_service=False)),
        Report("funnel-by-service", N_("Storefront funnel by service"), None, _funnel(by_service=True)),
        Report("operations", N_("Fulfilment operations by provider"), None, operations),
        Report("customers", N_("New and returning customers"), Grouping.MONTH, customers),
        Report("top-customers", N_("Top customers by net revenue"), None, top_customers),
        Report("subscriptions", N_("Subscriptions: MRR, renewals and churn"), Grouping.MONTH, subscriptions),
        Report("cohort-retention", N_("Cohort retention by month of first order"), None, cohorts),
        Report("margin-by-service", N_("Margin by service"), None, _margin("service")),
        Report("margin-by-provider", N_("Margin by provider"), None, _margin("provider")),
        Report("bookkeeping", N_("Bookkeeping: sync to Lexware Office"), Grouping.MONTH, bookkeeping),
    )
}
