"""Orders by status kept as a tally by trigger (the dashboard); paid orders' revenue read from the index alone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every row written to orders adds +1/-1 rows here, in the same transaction; every 512th tally row folds the
# tally into one row per status (one transaction at a time, the others skip). The sum per status is the number
# of orders in that status, exactly, for any snapshot.
TALLY_FUNCTION = """
CREATE FUNCTION smplat_tally_order_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    removed_id bigint;
    added_id bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM order_status_tally;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO order_status_tally (status, delta) VALUES (OLD.status, -1) RETURNING id INTO removed_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO order_status_tally (status, delta) VALUES (NEW.status, 1) RETURNING id INTO added_id;
    END IF;
    IF (removed_id % 512 = 0 OR added_id % 512 = 0)
       AND pg_try_advisory_xact_lock('order_status_tally'::regclass::oid::bigint) THEN
        WITH folded AS (DELETE FROM order_status_tally RETURNING status, delta)
        INSERT INTO order_status_tally (status, delta)
        SELECT status, sum(delta) FROM folded GROUP BY status HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END $$
"""
TRIGGERS = (
    "CREATE TRIGGER orders_status_tally AFTER INSERT OR DELETE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION smplat_tally_order_status()",
    "CREATE TRIGGER orders_status_tally_update AFTER UPDATE OF status ON orders "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION smplat_tally_order_status()",
    "CREATE TRIGGER orders_status_tally_truncate AFTER TRUNCATE ON orders "
    "FOR EACH STATEMENT EXECUTE FUNCTION smplat_tally_order_status()",
)
TRIGGER_NAMES = ("orders_status_tally", "orders_status_tally_update", "orders_status_tally_truncate")
REVENUE_COLUMNS = ["payment_status", "currency", "net", "gross"]


def upgrade() -> None:
    op.create_table(
        "order_status_tally",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_status_tally")),
    )
    op.execute(TALLY_FUNCTION)
    # Counted before the triggers exist, in the same transaction: orders written meanwhile wait for the lock.
    op.execute("LOCK TABLE orders IN SHARE MODE")
    op.execute("INSERT INTO order_status_tally (status, delta) SELECT status, count(*) FROM orders GROUP BY status")
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.drop_index("ix_orders_paid_at", table_name="orders")
    op.create_index(
        "ix_orders_paid_at",
        "orders",
        ["paid_at"],
        postgresql_where=sa.text("paid_at IS NOT NULL"),
        postgresql_include=REVENUE_COLUMNS,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_paid_at", table_name="orders")
    op.create_index("ix_orders_paid_at", "orders", ["paid_at"], postgresql_where=sa.text("paid_at IS NOT NULL"))
    for name in reversed(TRIGGER_NAMES):
        op.execute(f"DROP TRIGGER {name} ON orders")
    op.execute("DROP FUNCTION smplat_tally_order_status()")
    op.drop_table("order_status_tally")
