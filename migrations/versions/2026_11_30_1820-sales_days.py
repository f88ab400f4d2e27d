"""Revenue per Berlin day for the reports: daily totals kept exact by a trigger on orders, and statistics.

``sales_day_change`` gets a row from a trigger whenever an order is paid (or a paid order's amounts or facts
change: the old values out, the new in) and whenever a refund succeeds, insert-only so concurrent payments
never wait on each other; a job folds the changes into ``sales_day`` (app/analytics/sales_days.py). Existing
paid orders and refunds are counted here.

The line reports group paid orders by ``(paid_at AT TIME ZONE 'Europe/Berlin')::date``; statistics on that
expression let PostgreSQL plan a parallel hash aggregate instead of a serial one that spills to disk.

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30 18:20:00
"""

# ruff: noqa: S608 - the SQL is built from this file's constants only
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = "day, currency, buyer_country, buyer_is_business, source, tax_treatment, tax_rate"
MEASURES = "orders, net, tax, gross"
REFUND_MEASURES = "orders, net, tax, gross, refunds, refunds_net, refunds_gross"
WATCHED = "paid_at, currency, net, tax, gross, buyer_country, buyer_is_business, source, tax_treatment, tax_rate"


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("buyer_country", sa.String(length=2), nullable=False),
        sa.Column("buyer_is_business", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("tax_treatment", sa.String(length=32), nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.Numeric(16, 2), nullable=False),
        sa.Column("tax", sa.Numeric(16, 2), nullable=False),
        sa.Column("gross", sa.Numeric(16, 2), nullable=False),
        sa.Column("refunds", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunds_net", sa.Numeric(16, 2), server_default="0", nullable=False),
        sa.Column("refunds_gross", sa.Numeric(16, 2), server_default="0", nullable=False),
    ]


def _row(record: str, sign: str) -> str:
    return (
        f"(({record}.paid_at AT TIME ZONE 'Europe/Berlin')::date, {record}.currency, {record}.buyer_country, "
        f"{record}.buyer_is_business, {record}.source, {record}.tax_treatment, {record}.tax_rate, "
        f"{sign}1, {sign}{record}.net, {sign}{record}.tax, {sign}{record}.gross)"
    )


def _refund_row(record: str, sign: str) -> str:
    """A refund's change: on the day it succeeded, under its order's facts, the order's net share of it."""
    return (
        f"(({record}.updated_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.buyer_country, "
        f"o.buyer_is_business, o.source, o.tax_treatment, o.tax_rate, 0, 0, 0, 0, {sign}1, "
        f"{sign}round({record}.amount * o.net / NULLIF(o.gross, 0), 2), {sign}{record}.amount)"
    )


def upgrade() -> None:
    op.create_table(
        "sales_day_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_day_change")),
    )
    op.create_table(
        "sales_day",
        *_columns(),
        sa.PrimaryKeyConstraint(*FACTS.split(", "), name=op.f("pk_sales_day")),
    )
    op.execute(f"""
        CREATE FUNCTION sales_day_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.paid_at IS NOT NULL THEN
                INSERT INTO sales_day_change ({FACTS}, {MEASURES}) VALUES {_row("OLD", "-")};
            END IF;
            IF NEW.paid_at IS NOT NULL THEN
                INSERT INTO sales_day_change ({FACTS}, {MEASURES}) VALUES {_row("NEW", "")};
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE FUNCTION refund_day_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            o orders%ROWTYPE;
        BEGIN
            SELECT orders.* INTO o FROM payment JOIN orders ON orders.id = payment.order_id
            WHERE payment.id = NEW.payment_id;
            IF TG_OP = 'UPDATE' AND OLD.status = 'succeeded' THEN
                INSERT INTO sales_day_change ({FACTS}, {REFUND_MEASURES}) VALUES {_refund_row("OLD", "-")};
            END IF;
            IF NEW.status = 'succeeded' THEN
                INSERT INTO sales_day_change ({FACTS}, {REFUND_MEASURES}) VALUES {_refund_row("NEW", "")};
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER refund_succeeded_sales_day AFTER INSERT ON refund FOR EACH ROW "
        "WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION refund_day_change()"
    )
    op.execute(
        "CREATE TRIGGER refund_changed_sales_day AFTER UPDATE OF status, amount ON refund FOR EACH ROW "
        "WHEN ((OLD.status, OLD.amount) IS DISTINCT FROM (NEW.status, NEW.amount)) EXECUTE FUNCTION refund_day_change()"
    )
    op.execute(
        "CREATE TRIGGER orders_paid_sales_day AFTER INSERT ON orders FOR EACH ROW "
        "WHEN (NEW.paid_at IS NOT NULL) EXECUTE FUNCTION sales_day_change()"
    )
    op.execute(
        f"CREATE TRIGGER orders_changed_sales_day AFTER UPDATE OF {WATCHED} ON orders FOR EACH ROW "
        f"WHEN (({', '.join('OLD.' + c for c in WATCHED.split(', '))}) IS DISTINCT FROM "
        f"({', '.join('NEW.' + c for c in WATCHED.split(', '))})) EXECUTE FUNCTION sales_day_change()"
    )
    op.execute(f"""
        INSERT INTO sales_day ({FACTS}, {REFUND_MEASURES})
        SELECT day, currency, buyer_country, buyer_is_business, source, tax_treatment, tax_rate, sum(orders),
               sum(net), sum(tax), sum(gross), sum(refunds), sum(refunds_net), sum(refunds_gross)
        FROM (
            SELECT (paid_at AT TIME ZONE 'Europe/Berlin')::date AS day, currency, buyer_country, buyer_is_business,
                   source, tax_treatment, tax_rate, 1 AS orders, net, tax, gross, 0 AS refunds, 0 AS refunds_net,
                   0 AS refunds_gross
            FROM orders WHERE paid_at IS NOT NULL
            UNION ALL
            SELECT (r.updated_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.buyer_country,
                   o.buyer_is_business, o.source, o.tax_treatment, o.tax_rate, 0, 0, 0, 0, 1,
                   round(r.amount * o.net / NULLIF(o.gross, 0), 2), r.amount
            FROM refund r JOIN payment p ON p.id = r.payment_id JOIN orders o ON o.id = p.order_id
            WHERE r.status = 'succeeded'
        ) AS facts
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    """)
    op.execute("CREATE STATISTICS orders_paid_day ON ((paid_at AT TIME ZONE 'Europe/Berlin')::date) FROM orders")
    op.execute("ANALYZE orders")


def downgrade() -> None:
    op.execute("DROP STATISTICS orders_paid_day")
    op.execute("DROP TRIGGER refund_changed_sales_day ON refund")
    op.execute("DROP TRIGGER refund_succeeded_sales_day ON refund")
    op.execute("DROP FUNCTION refund_day_change()")
    op.execute("DROP TRIGGER orders_changed_sales_day ON orders")
    op.execute("DROP TRIGGER orders_paid_sales_day ON orders")
    op.execute("DROP FUNCTION sales_day_change()")
    op.drop_table("sales_day")
    op.drop_table("sales_day_change")
