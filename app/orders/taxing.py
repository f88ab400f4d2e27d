"""How an order is taxed: the seller's settings, the buyer's facts and this year's EU consumer sales, handed to
the VAT engine (``app/invoicing/tax.py``), which decides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.company.services import CompanySettingsService
from app.invoicing.tax import Buyer, Seller, ServiceClassification, TaxDecision, decide_tax
from app.invoicing.vat_rates import EU_COUNTRIES
from app.orders.models import Order

BuyerFacts = Buyer


async def eu_consumer_sales(session: AsyncSession, year: int) -> Decimal:
    """Net of paid orders to consumers in other EU countries in a calendar year (§3a Abs. 5 Satz 3 UStG)."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Order.net), 0)).where(
            Order.buyer_country != "DE",
            Order.buyer_country.in_(EU_COUNTRIES),
            sa.not_(Order.buyer_is_business),
            Order.paid_at.is_not(None),
            Order.paid_at >= start,
            Order.paid_at < end,
        )
    )
    return Decimal(total or 0)


async def decide_order_tax(session: AsyncSession, buyer: Buyer, *, on: date, net: Decimal) -> TaxDecision:
    """The VAT of a sale of ``net`` to ``buyer`` on ``on`` (this sale counts towards the year's EU sales)."""
    company = await CompanySettingsService(session=session).current()
    seller = Seller(
        country=company.country if company else "DE",
        small_business=bool(company and company.is_small_business),
        service_classification=company.service_classification if company else ServiceClassification.ELECTRONIC,
    )
    return decide_tax(
        seller,
        buyer,
        on=on,
        eu_b2c_sales=await eu_consumer_sales(session, on.year) + net,
        eu_b2c_sales_previous_year=await eu_consumer_sales(session, on.year - 1),
    )
