"""One trigger keeps every rollup of an order's change, and a payment moves its customer's first payment directly.

Paying an order fired five row triggers on ``orders``, one per rollup (the status tally, sales per day, line sales
per day, the operations lines' payment time, the customer's first payment), each queued, fetched and run on its
own. ``orders_changed_rollups`` does the same work in one call, each part under the condition its trigger had.
Inserts, deletes and truncates keep their triggers.

A payment (``paid_at`` set where it was empty, the customer unchanged) can only move the customer's earliest
payment earlier: ``first_paid_at`` becomes the payment's time unless it is earlier already, without reading the
customer's orders. Under concurrent payments of one customer the later writer re-checks that condition against
the row it waited for. Every other change (unpaying, backdating, another customer) recounts as before.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-01 06:00:00
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SALES_DAY_FACTS = "day, currency, buyer_country, buyer_is_business, source, tax_treatment, tax_rate"
SALES_DAY_WATCHED = (
    "paid_at",
    "currency",
    "net",
    "tax",
    "gross",
    "buyer_country",
    "buyer_is_business",
    "source",
    "tax_treatment",
    "tax_rate",
)
LINE_DAY_WATCHED = ("paid_at", "currency", "tax_treatment")
FIRST_PAID_WATCHED = ("paid_at", "customer_id")


def _changed(columns: Sequence[str]) -> str:
    return f"(({', '.join('OLD.' + c for c in columns)}) IS DISTINCT FROM ({', '.join('NEW.' + c for c in columns)}))"


def _sales_day(record: str, sign: str) -> str:
    return (
        f"INSERT INTO sales_day_change ({SALES_DAY_FACTS}, orders, net, tax, gross) VALUES "
        f"(({record}.paid_at AT TIME ZONE 'Europe/Berlin')::date, {record}.currency, {record}.buyer_country, "
        f"{record}.buyer_is_business, {record}.source, {record}.tax_treatment, {record}.tax_rate, "
        f"{sign}1, {sign}{record}.net, {sign}{record}.tax, {sign}{record}.gross)"
    )


def _order_lines(record: str, sign: str) -> str:
    return (
        "INSERT INTO sales_line_day_change (day, currency, tax_treatment, service_id, provider_id, lines, "
        f"uncharged_lines, net, charge) SELECT ({record}.paid_at AT TIME ZONE 'Europe/Berlin')::date, "
        f"{record}.currency, {record}.tax_treatment, l.service_id, l.provider_id, {sign}count(*), "
        f"{sign}count(*) FILTER (WHERE l.charge IS NULL), {sign}sum(l.net), {sign}coalesce(sum(l.charge), 0) "
        f"FROM order_line l WHERE l.order_id = {record}.id GROUP BY l.service_id, l.provider_id"
    )


def _out_and_in(write: Callable[[str, str], str]) -> str:
    """The old row's figures taken out where it was paid, the new row's put in where it is paid."""
    return (
        f"IF OLD.paid_at IS NOT NULL THEN {write('OLD', '-')}; END IF; "
        f"IF NEW.paid_at IS NOT NULL THEN {write('NEW', '')}; END IF;"
    )


def _first_paid(customer: str) -> str:
    """Migration 0036's count: the earliest payment among the customer's own orders."""
    return (
        "UPDATE customer SET first_paid_at = f.first_paid_at FROM (SELECT min(paid_at) AS first_paid_at FROM "
        f"(SELECT paid_at FROM orders WHERE customer_id = {customer} OFFSET 0) AS own) f "
        f"WHERE customer.id = {customer} AND customer.first_paid_at IS DISTINCT FROM f.first_paid_at"
    )


ROLLUPS_FUNCTION = f"""
CREATE FUNCTION orders_changed_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    removed_id bigint;
    added_id bigint;
BEGIN
    IF OLD.status IS DISTINCT FROM NEW.status THEN
        INSERT INTO order_status_tally (status, delta) VALUES (OLD.status, -1) RETURNING id INTO removed_id;
        INSERT INTO order_status_tally (status, delta) VALUES (NEW.status, 1) RETURNING id INTO added_id;
        IF (removed_id % 512 = 0 OR added_id % 512 = 0)
           AND pg_try_advisory_xact_lock('order_status_tally'::regclass::oid::bigint) THEN
            WITH folded AS (DELETE FROM order_status_tally RETURNING status, delta)
            INSERT INTO order_status_tally (status, delta)
            SELECT status, sum(delta) FROM folded GROUP BY status HAVING sum(delta) <> 0;
        END IF;
    END IF;
    IF {_changed(SALES_DAY_WATCHED)} THEN
        {_out_and_in(_sales_day)}
    END IF;
    IF {_changed(LINE_DAY_WATCHED)} THEN
        {_out_and_in(_order_lines)}
    END IF;
    IF OLD.paid_at IS DISTINCT FROM NEW.paid_at THEN
        UPDATE operations_line SET paid_at = NEW.paid_at WHERE order_id = NEW.id;
    END IF;
    IF {_changed(FIRST_PAID_WATCHED)} THEN
        IF OLD.paid_at IS NULL AND OLD.customer_id = NEW.customer_id THEN
            UPDATE customer SET first_paid_at = NEW.paid_at
            WHERE id = NEW.customer_id AND (first_paid_at IS NULL OR first_paid_at > NEW.paid_at);
        ELSE
            {_first_paid("NEW.customer_id")};
            IF OLD.customer_id <> NEW.customer_id THEN
                {_first_paid("OLD.customer_id")};
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$
"""
WATCHED = tuple(dict.fromkeys(("status", *SALES_DAY_WATCHED, *LINE_DAY_WATCHED, *FIRST_PAID_WATCHED)))

# The triggers replaced (name, columns, function), as migrations 0007, 0017, 0032, 0035 and 0036 made them.
REPLACED = (
    ("orders_status_tally_update", ("status",), "smplat_tally_order_status"),
    ("orders_changed_sales_day", SALES_DAY_WATCHED, "sales_day_change"),
    ("orders_changed_sales_line_day", LINE_DAY_WATCHED, "sales_line_day_order_change"),
    ("orders_paid_operations_line", ("paid_at",), "operations_line_paid"),
    ("orders_changed_customer_first_paid", FIRST_PAID_WATCHED, "customer_first_paid"),
)
# Used only by the triggers replaced: dropped with them, made again on the way down.
ONLY_REPLACED = {
    "sales_line_day_order_change": f"""
        BEGIN
            {_out_and_in(_order_lines)}
            RETURN NULL;
        END
    """,
    "operations_line_paid": """
        BEGIN
            UPDATE operations_line SET paid_at = NEW.paid_at WHERE order_id = NEW.id;
            RETURN NULL;
        END
    """,
}


def upgrade() -> None:
    for name, _columns, _function in REPLACED:
        op.execute(f"DROP TRIGGER {name} ON orders")
    for function in ONLY_REPLACED:
        op.execute(f"DROP FUNCTION {function}()")
    op.execute(ROLLUPS_FUNCTION)
    op.execute(
        f"CREATE TRIGGER orders_changed_rollups AFTER UPDATE OF {', '.join(WATCHED)} ON orders FOR EACH ROW "
        f"WHEN {_changed(WATCHED)} EXECUTE FUNCTION orders_changed_rollups()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER orders_changed_rollups ON orders")
    op.execute("DROP FUNCTION orders_changed_rollups()")
    for function, body in ONLY_REPLACED.items():
        op.execute(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
    for name, columns, function in REPLACED:
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {', '.join(columns)} ON orders FOR EACH ROW "
            f"WHEN {_changed(columns)} EXECUTE FUNCTION {function}()"
        )
