"""For the reports: line sales per Berlin day, service and provider, and each customer's first payment, kept by triggers.

``sales_line_day_change`` gets rows from a trigger whenever a paid order's lines change (a line added, removed,
or its service, provider, net or provider's charge changed) and whenever an order's payment day, currency or tax treatment changes (its lines
out under the old facts, in under the new), insert-only so concurrent payments never wait on each other; a job
folds the changes into ``sales_line_day`` (app/analytics/sales_line_days.py). Existing paid lines are counted
here.

``customer.first_paid_at`` is the earliest ``paid_at`` of the customer's orders, set by a trigger on ``orders``
whenever an order is paid, its payment time changes or it moves to another customer, so the customer reports
need not find every customer's first order among all orders. An index on ``invoice.issued_at`` lets the
bookkeeping report read only the documents of its period.

The storefront funnel counts distinct visitors per bucket. ``funnel_day_change`` gets rows from a trigger on
``funnel_event``: per day and step, visitors seen that day whose previous day at that step was ``prev_day``
(``-infinity``: never before), overall and per service (``by_service``). A visitor is in a bucket's count exactly
once, on the first day in it, where ``prev_day`` lies before the bucket's start; so any bucket (day, week,
month, quarter, a whole range) is counted exactly from these rows. A late event moves the next day's previous
day. A job folds the changes into ``funnel_day`` (app/analytics/funnel_days.py); existing events are counted
here.

Revision ID: 0032
Revises: 0030
Create Date: 2026-12-01 00:32:00
"""

# ruff: noqa: S608 - the SQL is built from this file's constants only
from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = "day, currency, tax_treatment, service_id, provider_id"
MEASURES = "lines, uncharged_lines, net, charge"
ORDER_WATCHED = ("paid_at", "currency", "tax_treatment")
LINE_WATCHED = ("order_id", "service_id", "provider_id", "net", "charge")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_treatment", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("uncharged_lines", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.Numeric(16, 2), nullable=False),
        sa.Column("charge", sa.Numeric(20, 5), nullable=False),
    ]


def _order_lines(record: str, sign: str) -> str:
    """The lines of order ``record``, per service and provider, on its payment day and under its facts."""
    return (
        f"INSERT INTO sales_line_day_change ({FACTS}, {MEASURES}) "
        f"SELECT ({record}.paid_at AT TIME ZONE 'Europe/Berlin')::date, {record}.currency, {record}.tax_treatment, "
        f"l.service_id, l.provider_id, {sign}count(*), {sign}count(*) FILTER (WHERE l.charge IS NULL), "
        f"{sign}sum(l.net), {sign}coalesce(sum(l.charge), 0) FROM order_line l WHERE l.order_id = {record}.id "
        "GROUP BY l.service_id, l.provider_id"
    )


def _line(record: str, sign: str) -> str:
    """Line ``record`` under the facts of its order, if that order is paid."""
    return (
        f"INSERT INTO sales_line_day_change ({FACTS}, {MEASURES}) "
        "SELECT (o.paid_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.tax_treatment, "
        f"{record}.service_id, {record}.provider_id, {sign}1, {sign}({record}.charge IS NULL)::int, "
        f"{sign}{record}.net, {sign}coalesce({record}.charge, 0) FROM orders o "
        f"WHERE o.id = {record}.order_id AND o.paid_at IS NOT NULL"
    )


def _changed(columns: Sequence[str]) -> str:
    return f"(({', '.join('OLD.' + c for c in columns)}) IS DISTINCT FROM ({', '.join('NEW.' + c for c in columns)}))"


FIRST_PAID = (
    "UPDATE customer SET first_paid_at = f.first_paid_at FROM (SELECT min(paid_at) AS first_paid_at FROM orders "
    "WHERE customer_id = {customer}) f WHERE customer.id = {customer} "
    "AND customer.first_paid_at IS DISTINCT FROM f.first_paid_at"
)


FUNNEL_FACTS = "by_service, day, kind, service_id, prev_day"


def _funnel_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("by_service", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=True),
        sa.Column("prev_day", sa.Date(), nullable=False),
        sa.Column("visitors", sa.BigInteger(), nullable=False),
    ]


def _funnel_rows(by_service: bool) -> str:
    service = "service_id" if by_service else "NULL::bigint"
    chain = "visitor_id, kind, service_id" if by_service else "visitor_id, kind"
    return (
        f"SELECT {str(by_service).lower()}, day, kind, {service}, "
        f"coalesce(lag(day) OVER (PARTITION BY {chain} ORDER BY day), '-infinity') "
        f"FROM (SELECT DISTINCT (at AT TIME ZONE 'Europe/Berlin')::date AS day, {chain} FROM funnel_event "
        "WHERE visitor_id IS NOT NULL) seen"
    )


FUNNEL_TRIGGER = """
CREATE FUNCTION funnel_day_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    seen date := (NEW.at AT TIME ZONE 'Europe/Berlin')::date;
    seen_from timestamptz := seen::timestamp AT TIME ZONE 'Europe/Berlin';
    seen_to timestamptz := (seen + 1)::timestamp AT TIME ZONE 'Europe/Berlin';
    per_service boolean;
    service bigint;
    earlier date;
    later date;
BEGIN
    -- One visitor's events are counted one transaction at a time, each seeing those committed before it.
    PERFORM pg_advisory_xact_lock(hashtext('funnel_event'), hashtext(NEW.visitor_id));
    FOREACH per_service IN ARRAY ARRAY[false, true] LOOP
        service := CASE WHEN per_service THEN NEW.service_id END;
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM funnel_event e WHERE e.visitor_id = NEW.visitor_id AND e.kind = NEW.kind
            AND (NOT per_service OR e.service_id IS NOT DISTINCT FROM NEW.service_id)
            AND e.at >= seen_from AND e.at < seen_to);
        SELECT (max(e.at) AT TIME ZONE 'Europe/Berlin')::date INTO earlier FROM funnel_event e
        WHERE e.visitor_id = NEW.visitor_id AND e.kind = NEW.kind
        AND (NOT per_service OR e.service_id IS NOT DISTINCT FROM NEW.service_id) AND e.at < seen_from;
        SELECT (min(e.at) AT TIME ZONE 'Europe/Berlin')::date INTO later FROM funnel_event e
        WHERE e.visitor_id = NEW.visitor_id AND e.kind = NEW.kind
        AND (NOT per_service OR e.service_id IS NOT DISTINCT FROM NEW.service_id) AND e.at >= seen_to;
        earlier := coalesce(earlier, '-infinity');
        INSERT INTO funnel_day_change (by_service, day, kind, service_id, prev_day, visitors)
        VALUES (per_service, seen, NEW.kind, service, earlier, 1);
        IF later IS NOT NULL THEN
            INSERT INTO funnel_day_change (by_service, day, kind, service_id, prev_day, visitors)
            VALUES (per_service, later, NEW.kind, service, earlier, -1), (per_service, later, NEW.kind, service, seen, 1);
        END IF;
    END LOOP;
    RETURN NEW;
END $$
"""


def _create_rollup(name: str, columns: Callable[[], list[sa.Column[object]]], facts: str) -> None:
    """The insert-only changes table and the totals table, one row per combination of ``facts`` (null as a value)."""
    identity = "id", sa.BigInteger(), sa.Identity(always=True)
    op.create_table(
        f"{name}_change",
        sa.Column(*identity, nullable=False),
        *columns(),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}_change")),
    )
    first = facts.split(", ", maxsplit=1)[0]
    op.create_table(
        name,
        sa.Column(*identity, nullable=False),
        *columns(),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(*facts.split(", "), name=op.f(f"uq_{name}_{first}"), postgresql_nulls_not_distinct=True),
    )


def upgrade() -> None:
    _create_rollup("funnel_day", _funnel_columns, FUNNEL_FACTS)
    op.create_index(op.f("ix_funnel_event_visitor_id_kind_at"), "funnel_event", ["visitor_id", "kind", "at"])
    op.execute(FUNNEL_TRIGGER)
    op.execute(
        "CREATE TRIGGER funnel_event_funnel_day BEFORE INSERT ON funnel_event FOR EACH ROW "
        "WHEN (NEW.visitor_id IS NOT NULL) EXECUTE FUNCTION funnel_day_change()"
    )
    op.execute(f"""
        INSERT INTO funnel_day ({FUNNEL_FACTS}, visitors)
        SELECT {FUNNEL_FACTS}, count(*) FROM ({_funnel_rows(False)} UNION ALL {_funnel_rows(True)})
            AS seen ({FUNNEL_FACTS})
        GROUP BY 1, 2, 3, 4, 5
    """)
    op.create_index(op.f("ix_invoice_issued_at"), "invoice", ["issued_at"])
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
    _create_rollup("sales_line_day", _columns, FACTS)
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
        SELECT (o.paid_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.tax_treatment, l.service_id,
               l.provider_id, count(*), count(*) FILTER (WHERE l.charge IS NULL), sum(l.net), coalesce(sum(l.charge), 0)
        FROM order_line l JOIN orders o ON o.id = l.order_id WHERE o.paid_at IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER funnel_event_funnel_day ON funnel_event")
    op.execute("DROP FUNCTION funnel_day_change()")
    op.drop_index(op.f("ix_funnel_event_visitor_id_kind_at"), table_name="funnel_event")
    op.drop_table("funnel_day")
    op.drop_table("funnel_day_change")
    op.execute("DROP TRIGGER orders_changed_customer_first_paid ON orders")
    op.execute("DROP TRIGGER orders_paid_customer_first_paid ON orders")
    op.execute("DROP FUNCTION customer_first_paid()")
    op.drop_column("customer", "first_paid_at")
    op.drop_index(op.f("ix_invoice_issued_at"), table_name="invoice")
    op.execute("DROP TRIGGER order_line_changed_sales_line_day ON order_line")
    op.execute("DROP TRIGGER order_line_added_sales_line_day ON order_line")
    op.execute("DROP TRIGGER orders_changed_sales_line_day ON orders")
    op.execute("DROP FUNCTION sales_line_day_line_change()")
    op.execute("DROP FUNCTION sales_line_day_order_change()")
    op.drop_table("sales_line_day")
    op.drop_table("sales_line_day_change")
