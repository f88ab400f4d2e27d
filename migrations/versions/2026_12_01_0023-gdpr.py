"""GDPR: the client's data exports and erasure requests, and the one narrow way to scrub the append-only trail.

``order_event`` and ``audit_log`` refuse every UPDATE and DELETE. An erasure must still scrub the personal data
they may hold, so the trigger now lets an UPDATE through when (and only when) the transaction has set
``smplat.erasure`` and the row changes in the columns listed in the trigger's arguments alone (notes, data,
diffs, actor labels, IPs); its ids, kinds, states and times stay as written. DELETE stays refused.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table -> the columns an erasure may overwrite (everything else of a row stays as written).
SCRUBBABLE = {
    "order_event": ("note", "data", "actor_label"),
    "audit_log": ("diff", "actor_label", "ip"),
}


def _status(*values: str) -> sa.Enum:
    return sa.Enum(*values, name="status", native_enum=False, create_constraint=True, length=32)


def _request_table(name: str, status: sa.Enum, *columns: sa.Column[object]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("status", status, nullable=False),
        *columns,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f(f"fk_{name}_customer_id_customer"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_customer_id"), name, ["customer_id"], unique=False)


def upgrade() -> None:
    _request_table(
        "data_export",
        _status("pending", "ready", "expired"),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "uq_data_export_one_pending",
        "data_export",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    _request_table(
        "erasure_request",
        _status("requested", "erased", "declined"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_foreign_key(
        op.f("fk_erasure_request_decided_by_staff_user"),
        "erasure_request",
        "staff_user",
        ["decided_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "uq_erasure_request_one_open",
        "erasure_request",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("status = 'requested'"),
    )
    op.execute(
        """
        CREATE FUNCTION smplat_refuse_change_but_scrub() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND current_setting('smplat.erasure', true) = 'on'
               AND to_jsonb(NEW) - TG_ARGV = to_jsonb(OLD) - TG_ARGV THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    for table, columns in SCRUBBABLE.items():
        arguments = ", ".join(f"'{column}'" for column in columns)
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION smplat_refuse_change_but_scrub({arguments})"
        )


def downgrade() -> None:
    for table in SCRUBBABLE:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION smplat_refuse_change()"
        )
    op.execute("DROP FUNCTION smplat_refuse_change_but_scrub()")
    op.drop_index("uq_erasure_request_one_open", table_name="erasure_request")
    op.drop_constraint(op.f("fk_erasure_request_decided_by_staff_user"), "erasure_request", type_="foreignkey")
    op.drop_index(op.f("ix_erasure_request_customer_id"), table_name="erasure_request")
    op.drop_table("erasure_request")
    op.drop_index("uq_data_export_one_pending", table_name="data_export")
    op.drop_index(op.f("ix_data_export_customer_id"), table_name="data_export")
    op.drop_table("data_export")
