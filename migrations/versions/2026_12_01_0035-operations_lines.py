"""For the operations report: one row of facts per order line, kept by triggers, so the report reads one narrow
table instead of joining every line to its order and looking up its events and refill requests.

``operations_line`` holds per line its order's payment time, its provider, state, when it was dispatched and
finished (and so the seconds from payment to each), whether staff acted on it and whether a refill was requested.
Each column is written only by the trigger on the row it comes from, from that row's new values, while that row
is locked by the change: the line's columns by the line's insert or update, ``paid_at`` by the order's update,
``staff_acted`` by a staff event's insert, ``refilled`` by a refill request's insert. So concurrent changes to one
line never overwrite each other with stale values. A new line has no events or refill requests yet; it reads its
order's payment time under a share lock, which waits for a payment being recorded and makes a payment wait for
the line: neither misses the other. Events and refill requests are never updated or deleted but with their line.
Existing lines are counted here.

``ix_invoice_issued_at`` includes the invoice id, so the bookkeeping report counts a period's documents from the
index alone instead of reading every wide invoice row of the period.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINE_FACTS = ("order_id", "provider_id", "fulfillment_status", "dispatched_at", "finished_at")
CHANGED = (
    f"(({', '.join('OLD.' + c for c in LINE_FACTS)}) IS DISTINCT FROM ({', '.join('NEW.' + c for c in LINE_FACTS)}))"
)

# Every line, counted afresh (also after a bulk load that bypassed the triggers: app/analytics/operations_lines.py).
REBUILD = """
INSERT INTO operations_line (line_id, order_id, paid_at, provider_id, fulfillment_status, dispatched_at, finished_at,
                             staff_acted, refilled)
SELECT l.id, l.order_id, o.paid_at, l.provider_id, l.fulfillment_status, l.dispatched_at, l.finished_at,
       l.id IN (SELECT line_id FROM order_event WHERE actor_kind = 'staff' AND line_id IS NOT NULL),
       l.id IN (SELECT order_line_id FROM refill_request)
FROM order_line l JOIN orders o ON o.id = l.order_id
"""


def _seconds_since_payment(at: str) -> sa.Computed:
    return sa.Computed(f"(EXTRACT(epoch FROM ({at} - paid_at)))::double precision", persisted=True)


def upgrade() -> None:
    op.create_table(
        "operations_line",
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("fulfillment_status", sa.String(length=32), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatch_seconds", sa.Double(), _seconds_since_payment("dispatched_at"), nullable=True),
        sa.Column("finish_seconds", sa.Double(), _seconds_since_payment("finished_at"), nullable=True),
        sa.Column("staff_acted", sa.Boolean(), nullable=False),
        sa.Column("refilled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_line.id"], name=op.f("fk_operations_line_line_id_order_line"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_operations_line")),
    )
    op.create_index(op.f("ix_operations_line_order_id"), "operations_line", ["order_id"])
    op.create_index(op.f("ix_operations_line_paid_at"), "operations_line", ["paid_at"])
    op.execute("""
        CREATE FUNCTION operations_line_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO operations_line (line_id, order_id, paid_at, provider_id, fulfillment_status, dispatched_at,
                                         finished_at, staff_acted, refilled)
            VALUES (NEW.id, NEW.order_id, (SELECT paid_at FROM orders WHERE id = NEW.order_id FOR SHARE),
                    NEW.provider_id, NEW.fulfillment_status, NEW.dispatched_at, NEW.finished_at, false, false);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION operations_line_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE operations_line SET order_id = NEW.order_id, provider_id = NEW.provider_id,
                fulfillment_status = NEW.fulfillment_status, dispatched_at = NEW.dispatched_at,
                finished_at = NEW.finished_at
            WHERE line_id = NEW.id;
            IF OLD.order_id <> NEW.order_id THEN
                UPDATE operations_line
                SET paid_at = (SELECT paid_at FROM orders WHERE id = NEW.order_id FOR SHARE) WHERE line_id = NEW.id;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION operations_line_paid() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE operations_line SET paid_at = NEW.paid_at WHERE order_id = NEW.id;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION operations_line_staff_acted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE operations_line SET staff_acted = true WHERE line_id = NEW.line_id AND NOT staff_acted;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION operations_line_refilled() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE operations_line SET refilled = true WHERE line_id = NEW.order_line_id AND NOT refilled;
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER order_line_added_operations_line AFTER INSERT ON order_line "
        "FOR EACH ROW EXECUTE FUNCTION operations_line_added()"
    )
    op.execute(
        f"CREATE TRIGGER order_line_changed_operations_line AFTER UPDATE OF {', '.join(LINE_FACTS)} ON order_line "
        f"FOR EACH ROW WHEN {CHANGED} EXECUTE FUNCTION operations_line_changed()"
    )
    op.execute(
        "CREATE TRIGGER orders_paid_operations_line AFTER UPDATE OF paid_at ON orders "
        "FOR EACH ROW WHEN (OLD.paid_at IS DISTINCT FROM NEW.paid_at) EXECUTE FUNCTION operations_line_paid()"
    )
    op.execute(
        "CREATE TRIGGER order_event_staff_operations_line AFTER INSERT ON order_event FOR EACH ROW "
        "WHEN (NEW.actor_kind = 'staff' AND NEW.line_id IS NOT NULL) EXECUTE FUNCTION operations_line_staff_acted()"
    )
    op.execute(
        "CREATE TRIGGER refill_request_operations_line AFTER INSERT ON refill_request "
        "FOR EACH ROW EXECUTE FUNCTION operations_line_refilled()"
    )
    op.execute(REBUILD)
    op.execute("ANALYZE operations_line")
    op.drop_index(op.f("ix_invoice_issued_at"), table_name="invoice")
    op.create_index(op.f("ix_invoice_issued_at"), "invoice", ["issued_at"], postgresql_include=["id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invoice_issued_at"), table_name="invoice")
    op.create_index(op.f("ix_invoice_issued_at"), "invoice", ["issued_at"])
    op.execute("DROP TRIGGER refill_request_operations_line ON refill_request")
    op.execute("DROP TRIGGER order_event_staff_operations_line ON order_event")
    op.execute("DROP TRIGGER orders_paid_operations_line ON orders")
    op.execute("DROP TRIGGER order_line_changed_operations_line ON order_line")
    op.execute("DROP TRIGGER order_line_added_operations_line ON order_line")
    for function in ("refilled", "staff_acted", "paid", "changed", "added"):
        op.execute(f"DROP FUNCTION operations_line_{function}()")
    op.drop_table("operations_line")
