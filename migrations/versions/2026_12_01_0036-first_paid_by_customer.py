"""The customer's first payment is looked up among the customer's own orders.

Migration 0032's trigger asked for ``min(paid_at)`` of the customer's orders. PostgreSQL answered it by walking
the index of every paid order in time order until one of the customer's came up: cheap for an early customer,
milliseconds per payment for a new one, and growing with the order book. The customer's orders are now read
first (through ``ix_orders_customer_id_created_at``; ``OFFSET 0`` keeps the planner from folding the two steps
back together), then their earliest payment taken. Same result, a few index entries per payment.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-01 04:00:00
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN_ORDERS = "(SELECT paid_at FROM orders WHERE customer_id = {customer} OFFSET 0) AS own"
PAID_WALK = "orders WHERE customer_id = {customer}"


def _function(orders: str) -> str:
    first_paid = (
        f"UPDATE customer SET first_paid_at = f.first_paid_at FROM (SELECT min(paid_at) AS first_paid_at FROM {orders}"
        ") f WHERE customer.id = {customer} AND customer.first_paid_at IS DISTINCT FROM f.first_paid_at"
    )
    new, old = (first_paid.replace("{customer}", who) for who in ("NEW.customer_id", "OLD.customer_id"))
    return f"""
        CREATE OR REPLACE FUNCTION customer_first_paid() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {new};
            IF TG_OP = 'UPDATE' AND OLD.customer_id <> NEW.customer_id THEN
                {old};
            END IF;
            RETURN NULL;
        END $$
    """


def upgrade() -> None:
    op.execute(_function(OWN_ORDERS))


def downgrade() -> None:
    op.execute(_function(PAID_WALK))
