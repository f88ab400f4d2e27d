"""For the reports: line sales per Berlin day and service, and each customer's first payment, kept by triggers.

``sales_line_day_change`` gets rows from a trigger whenever a paid order's lines change (a line added, removed,
or its service or net changed) and whenever an order's payment day, currency or tax treatment changes (its lines
out under the old facts, in under the new), insert-only so concurrent payments never wait on each other; a job
folds the changes into ``sales_line_day`` (app/analytics/sales_line_days.py). Existing paid lines are counted
here.

``customer.first_paid_at`` is the earliest ``paid_at`` of the customer's orders, set by a trigger on ``orders``
whenever an order is paid, its payment time changes or it moves to another customer, so the customer reports
need not find every customer's first order among all orders.

Revision ID: 0032
Revises: 0030
Create Date: 2026-12-01 00:32:00
"""

# ruff: noqa: S608 - the SQL is built from this file's constants only
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = "day, currency, tax_treatment, service_id"
MEASURES = "lines, net"
ORDER_WATCHED = ("paid_at", "currency", "tax_treatment")
LINE_WATCHED = ("order_id", "service_id", "net")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_treatment", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.Numeric(16, 2), nullable=False),
    ]


def _order_lines(record: str, sign: str) -> str:
    """The lines of order ``record``, per service, on its payment day and under its facts."""
    return (
        f"INSERT INTO sales_line_day_change ({FACTS}, {MEASURES}) "
        f"SELECT ({record}.paid_at AT TIME ZONE 'Europe/Berlin')::date, {record}.currency, {record}.tax_treatment, "
        f"l.service_id, {sign}count(*), {sign}sum(l.net) FROM order_line l WHERE l.order_id = {record}.id "
        "GROUP BY l.service_id"
    )


def _line(record: str, sign: str) -> str:
    """Line ``record`` under the facts of its order, if that order is paid."""
    return (
        f"INSERT INTO sales_line_day_change ({FACTS}, {MEASURES}) "
        "SELECT (o.paid_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.tax_treatment, "
        f"{record}.service_id, {sign}1, {sign}{record}.net FROM orders o "
        f"WHERE o.id = {record}.order_id AND o.paid_at IS NOT NULL"
    )


def _changed(columns: Sequence[str]) -> str:
    return f"(({', '.join('OLD.' + c for c in columns)}) IS DISTINCT FROM ({', '.join('NEW.' + c for c in columns)}))"


FIRST_PAID = (
    "UPDATE customer SET first_paid_at = f.first_paid_at FROM (SELECT min(paid_at) AS first_paid_at FROM orders "
    "WHERE customer_id = {customer}) f WHERE customer.id = {customer} "
    "AND customer.first_paid_at IS DISTINCT FROM f.first_paid_at"
)


def upgrade() -> None:
    op.add_column("customer", sa.Column("first_paid_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"""
        CREATE FUNCTION customer_first_paid() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {FIRST_PAID.format(customer="NEW.customer_id")};
            IF TG_OP = 'UPDATE' AND OLD.customer_id <> NEW.customer_id THEN
                {FIRST_PAID.format(customer="OLD.customer_id")};
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER orders_paid_customer_first_paid AFTER INSERT ON orders FOR EACH ROW "
        "WHEN (NEW.paid_at IS NOT NULL) EXECUTE FUNCTION customer_first_paid()"
    )
    op.execute(
        "CREATE TRIGGER orders_changed_customer_first_paid AFTER UPDATE OF paid_at, customer_id ON orders "
        "FOR EACH ROW WHEN ((OLD.paid_at, OLD.customer_id) IS DISTINCT FROM (NEW.paid_at, NEW.customer_id)) "
        "EXECUTE FUNCTION customer_first_paid()"
    )
    op.execute(
        "UPDATE customer SET first_paid_at = f.first_paid_at FROM (SELECT customer_id, min(paid_at) AS first_paid_at "
        "FROM orders WHERE paid_at IS NOT NULL GROUP BY customer_id) f WHERE customer.id = f.customer_id"
    )
    op.create_table(
        "sales_line_day_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_line_day_change")),
    )
    op.create_table(
        "sales_line_day",
        *_columns(),
        sa.PrimaryKeyConstraint(*FACTS.split(", "), name=op.f("pk_sales_line_day")),
    )
    op.execute(f"""
        CREATE FUNCTION sales_line_day_order_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.paid_at IS NOT NULL THEN
                {_order_lines("OLD", "-")};
            END IF;
            IF NEW.paid_at IS NOT NULL THEN
                {_order_lines("NEW", "")};
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE FUNCTION sales_line_day_line_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {_line("OLD", "-")};
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_line("NEW", "")};
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(
        f"CREATE TRIGGER orders_changed_sales_line_day AFTER UPDATE OF {', '.join(ORDER_WATCHED)} ON orders "
        f"FOR EACH ROW WHEN {_changed(ORDER_WATCHED)} EXECUTE FUNCTION sales_line_day_order_change()"
    )
    op.execute(
        "CREATE TRIGGER order_line_added_sales_line_day AFTER INSERT OR DELETE ON order_line "
        "FOR EACH ROW EXECUTE FUNCTION sales_line_day_line_change()"
    )
    op.execute(
        f"CREATE TRIGGER order_line_changed_sales_line_day AFTER UPDATE OF {', '.join(LINE_WATCHED)} ON order_line "
        f"FOR EACH ROW WHEN {_changed(LINE_WATCHED)} EXECUTE FUNCTION sales_line_day_line_change()"
    )
    op.execute(f"""
        INSERT INTO sales_line_day ({FACTS}, {MEASURES})
        SELECT (o.paid_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.tax_treatment, l.service_id, count(*),
               sum(l.net)
        FROM order_line l JOIN orders o ON o.id = l.order_id WHERE o.paid_at IS NOT NULL
        GROUP BY 1, 2, 3, 4
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER orders_changed_customer_first_paid ON orders")
    op.execute("DROP TRIGGER orders_paid_customer_first_paid ON orders")
    op.execute("DROP FUNCTION customer_first_paid()")
    op.drop_column("customer", "first_paid_at")
    op.execute("DROP TRIGGER order_line_changed_sales_line_day ON order_line")
    op.execute("DROP TRIGGER order_line_added_sales_line_day ON order_line")
    op.execute("DROP TRIGGER orders_changed_sales_line_day ON orders")
    op.execute("DROP FUNCTION sales_line_day_line_change()")
    op.execute("DROP FUNCTION sales_line_day_order_change()")
    op.drop_table("sales_line_day")
    op.drop_table("sales_line_day_change")
