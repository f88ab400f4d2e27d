"""Core schema: accounts, customers, catalog, providers, orders, payments, audit; the job queue's schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:00:45.288160
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.helpers import apply_sql_file, drop_procrastinate_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("order_number_seq", start=1)))
    op.create_table(
        "category",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column(
            "platform",
            sa.Enum(
                "instagram",
                "tiktok",
                "youtube",
                "facebook",
                "x",
                "telegram",
                "spotify",
                "other",
                name="platform",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name_de", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("slug", name=op.f("uq_category_slug")),
    )
    op.create_table(
        "company_settings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=False),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), server_default="DE", nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("tax_number", sa.String(length=40), nullable=True),
        sa.Column("vat_id", sa.String(length=20), nullable=True),
        sa.Column("managing_director", sa.String(length=200), nullable=True),
        sa.Column("register_court", sa.String(length=120), nullable=True),
        sa.Column("register_number", sa.String(length=60), nullable=True),
        sa.Column("bank_name", sa.String(length=120), nullable=True),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("is_small_business", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_company_settings_singleton")),
        sa.CheckConstraint(
            "tax_number IS NOT NULL OR vat_id IS NOT NULL", name=op.f("ck_company_settings_tax_identification")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_settings")),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), server_default="DE", nullable=False),
        sa.Column("vat_id", sa.String(length=20), nullable=True),
        sa.Column("vat_id_entered_by", sa.String(length=254), nullable=True),
        sa.Column("vat_id_entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locale", sa.String(length=2), server_default="de", nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name=op.f("ck_customer_country_iso2")),
        sa.CheckConstraint("locale IN ('de', 'en')", name=op.f("ck_customer_locale_known")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_customer_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("email", name=op.f("uq_customer_email")),
        sa.UniqueConstraint("stripe_customer_id", name=op.f("uq_customer_stripe_customer_id")),
    )
    op.create_table(
        "provider",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("smm_v2", "manual", "sandbox", name="kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("api_url", sa.String(length=500), nullable=True),
        sa.Column("api_key", sa.String(), nullable=True),
        sa.Column("balance", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("low_balance_threshold", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("balance_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("services_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind = 'manual' OR api_url IS NOT NULL", name=op.f("ck_provider_api_url_for_remote")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
        sa.UniqueConstraint("name", name=op.f("uq_provider_name")),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "staff", "finance", name="role", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("locale", sa.String(length=2), server_default="de", nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("locale IN ('de', 'en')", name=op.f("ck_staff_user_locale_known")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_staff_user_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_user_email")),
    )
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_event")),
    )
    op.create_index(op.f("ix_stripe_event_type"), "stripe_event", ["type"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=80), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("diff", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_user.id"], name=op.f("fk_audit_log_actor_id_staff_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"], unique=False)
    op.create_index("ix_audit_log_at", "audit_log", [sa.literal_column("at DESC")], unique=False)
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id"], unique=False)
    op.create_table(
        "checkout_link",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), server_default="1", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("max_uses >= 1", name=op.f("ck_checkout_link_max_uses_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_user.id"],
            name=op.f("fk_checkout_link_created_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_checkout_link_customer_id_customer"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_checkout_link_token_hash")),
    )
    op.create_index(op.f("ix_checkout_link_customer_id"), "checkout_link", ["customer_id"], unique=False)
    op.create_table(
        "provider_service",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("rate", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("max_quantity", sa.Integer(), nullable=False),
        sa.Column("refill", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cancel", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_listed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_provider_service_provider_id_provider"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_service")),
        sa.UniqueConstraint("provider_id", "external_id", name="uq_provider_service_external"),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "default",
                "package",
                "custom_comments",
                "subscription",
                "drip_feed",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name_de", sa.String(length=160), nullable=False),
        sa.Column("name_en", sa.String(length=160), nullable=False),
        sa.Column("description_de", sa.Text(), server_default="", nullable=False),
        sa.Column("description_en", sa.Text(), server_default="", nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("max_quantity", sa.Integer(), nullable=False),
        sa.Column("refill_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cancellable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("provider_service_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_service_slug_format")),
        sa.CheckConstraint(
            "min_quantity >= 1 AND max_quantity >= min_quantity", name=op.f("ck_service_quantity_bounds")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_service_price_not_negative")),
        sa.CheckConstraint("refill_days >= 0", name=op.f("ck_service_refill_days_not_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_service_category_id_category"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["provider_service_id"],
            ["provider_service.id"],
            name=op.f("fk_service_provider_service_id_provider_service"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("slug", name=op.f("uq_service_slug")),
    )
    op.create_index(op.f("ix_service_category_id"), "service", ["category_id"], unique=False)
    op.create_index(op.f("ix_service_provider_service_id"), "service", ["provider_service_id"], unique=False)
    op.create_table(
        "subscription",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "incomplete",
                "active",
                "past_due",
                "paused",
                "canceled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("target_username", sa.String(length=200), nullable=False),
        sa.Column("posts_per_period", sa.Integer(), nullable=False),
        sa.Column("quantity_per_post", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_subscription_customer_id_customer"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_subscription_service_id_service"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("stripe_subscription_id", name=op.f("uq_subscription_stripe_subscription_id")),
    )
    op.create_index(op.f("ix_subscription_customer_id"), "subscription", ["customer_id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "storefront",
                "link",
                "api",
                "admin",
                "renewal",
                name="source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending_payment",
                "paid",
                "in_fulfillment",
                "completed",
                "partially_completed",
                "canceled",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "payment_status",
            sa.Enum(
                "unpaid",
                "paid",
                "partially_refunded",
                "refunded",
                "disputed",
                name="payment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("gross", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column(
            "tax_treatment",
            sa.Enum(
                "domestic",
                "reverse_charge",
                "eu_oss",
                "non_eu_business",
                "non_eu_consumer",
                "small_business",
                name="tax_treatment",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("tracking_token_hash", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("customer_note", sa.Text(), nullable=True),
        sa.Column("checkout_link_id", sa.BigInteger(), nullable=True),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number ~ '^SMP-[0-9]{4}-[0-9]{6,}$'", name=op.f("ck_orders_number_format")),
        sa.CheckConstraint("net >= 0 AND tax >= 0 AND gross = net + tax", name=op.f("ck_orders_totals_consistent")),
        sa.ForeignKeyConstraint(
            ["checkout_link_id"],
            ["checkout_link.id"],
            name=op.f("fk_orders_checkout_link_id_checkout_link"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_orders_customer_id_customer"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_orders_subscription_id_subscription"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_orders_idempotency_key")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
        sa.UniqueConstraint("tracking_token_hash", name=op.f("uq_orders_tracking_token_hash")),
    )
    op.create_index("ix_orders_checkout_link_id", "orders", ["checkout_link_id"], unique=False)
    op.create_index(
        "ix_orders_created_at_id",
        "orders",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_orders_customer_id_created_at",
        "orders",
        ["customer_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_orders_payment_status_created_at",
        "orders",
        ["payment_status", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_orders_status_created_at", "orders", ["status", sa.literal_column("created_at DESC")], unique=False
    )
    op.create_index("ix_orders_subscription_id", "orders", ["subscription_id"], unique=False)
    op.create_table(
        "order_line",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("service_name", sa.String(length=160), nullable=False),
        sa.Column(
            "service_kind",
            sa.Enum(
                "default",
                "package",
                "custom_comments",
                "subscription",
                "drip_feed",
                name="service_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=True),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("net", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "fulfillment_status",
            sa.Enum(
                "awaiting_payment",
                "queued",
                "dispatching",
                "dispatched",
                "in_progress",
                "completed",
                "partial",
                "canceled",
                "on_hold",
                "dispatch_unknown",
                "needs_review",
                "failed",
                name="fulfillment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_service_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_order_id", sa.String(length=64), nullable=True),
        sa.Column("start_count", sa.Integer(), nullable=True),
        sa.Column("remains", sa.Integer(), nullable=True),
        sa.Column("charge", sa.Numeric(precision=14, scale=5), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("net >= 0 AND unit_price >= 0", name=op.f("ck_order_line_amounts_not_negative")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_order_line_quantity_positive")),
        sa.CheckConstraint("remains IS NULL OR remains >= 0", name=op.f("ck_order_line_remains_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_line_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_order_line_provider_id_provider"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["provider_service_id"],
            ["provider_service.id"],
            name=op.f("fk_order_line_provider_service_id_provider_service"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_order_line_service_id_service"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line")),
        sa.UniqueConstraint("order_id", "position", name="uq_order_line_position"),
    )
    op.create_index(
        "ix_order_line_fulfillment_status", "order_line", ["fulfillment_status", "updated_at"], unique=False
    )
    op.create_index(
        "ix_order_line_next_poll_at",
        "order_line",
        ["next_poll_at"],
        unique=False,
        postgresql_where=sa.text("next_poll_at IS NOT NULL"),
    )
    op.create_index("ix_order_line_order_id", "order_line", ["order_id"], unique=False)
    op.create_index("ix_order_line_provider_id", "order_line", ["provider_id"], unique=False)
    op.create_index("ix_order_line_service_id", "order_line", ["service_id"], unique=False)
    op.create_index(
        "uq_order_line_active_upstream",
        "order_line",
        ["provider_service_id", "link"],
        unique=True,
        postgresql_where=sa.text(
            "fulfillment_status IN ('dispatch_unknown', 'dispatched', 'dispatching', 'in_progress', 'needs_review')"
        ),
    )
    op.create_index(
        "uq_order_line_provider_order",
        "order_line",
        ["provider_id", "provider_order_id"],
        unique=True,
        postgresql_where=sa.text("provider_order_id IS NOT NULL"),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "stripe", "bank_transfer", "demo", name="method", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stripe_checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= amount", name=op.f("ck_payment_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payment_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("stripe_checkout_session_id", name=op.f("uq_payment_stripe_checkout_session_id")),
        sa.UniqueConstraint("stripe_payment_intent_id", name=op.f("uq_payment_stripe_payment_intent_id")),
    )
    op.create_index(op.f("ix_payment_order_id"), "payment", ["order_id"], unique=False)
    op.create_table(
        "order_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "created",
                "status",
                "payment_status",
                "line_status",
                "note",
                "provider",
                "notification",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "system",
                "staff",
                "customer",
                "provider",
                "stripe",
                "worker",
                "cli",
                name="actor_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_line.id"], name=op.f("fk_order_event_line_id_order_line"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_event_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_event")),
    )
    op.create_index("ix_order_event_line_id", "order_event", ["line_id"], unique=False)
    op.create_index(
        "ix_order_event_order_id_at", "order_event", ["order_id", sa.literal_column("at DESC")], unique=False
    )

    # The timeline and the audit trail are append-only: nobody rewrites history, not even with SQL.
    op.execute(
        """
        CREATE FUNCTION smplat_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    for table in ("order_event", "audit_log"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION smplat_refuse_change()"
        )

    # procrastinate 3.10.0's schema, vendored so that this revision always creates the same objects.
    # A procrastinate upgrade adds a revision that applies its migration files from the release notes.
    apply_sql_file("procrastinate_3_10_0_schema.sql")


def downgrade() -> None:
    drop_procrastinate_schema()
    for table in ("order_event", "audit_log"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION smplat_refuse_change()")
    op.drop_index("ix_order_event_order_id_at", table_name="order_event")
    op.drop_index("ix_order_event_line_id", table_name="order_event")
    op.drop_table("order_event")
    op.drop_index(op.f("ix_payment_order_id"), table_name="payment")
    op.drop_table("payment")
    op.drop_index(
        "uq_order_line_provider_order",
        table_name="order_line",
        postgresql_where=sa.text("provider_order_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_order_line_active_upstream",
        table_name="order_line",
        postgresql_where=sa.text(
            "fulfillment_status IN ('dispatch_unknown', 'dispatched', 'dispatching', 'in_progress', 'needs_review')"
        ),
    )
    op.drop_index("ix_order_line_service_id", table_name="order_line")
    op.drop_index("ix_order_line_provider_id", table_name="order_line")
    op.drop_index("ix_order_line_order_id", table_name="order_line")
    op.drop_index(
        "ix_order_line_next_poll_at", table_name="order_line", postgresql_where=sa.text("next_poll_at IS NOT NULL")
    )
    op.drop_index("ix_order_line_fulfillment_status", table_name="order_line")
    op.drop_table("order_line")
    op.drop_index("ix_orders_subscription_id", table_name="orders")
    op.drop_index("ix_orders_status_created_at", table_name="orders")
    op.drop_index("ix_orders_payment_status_created_at", table_name="orders")
    op.drop_index("ix_orders_customer_id_created_at", table_name="orders")
    op.drop_index("ix_orders_created_at_id", table_name="orders")
    op.drop_index("ix_orders_checkout_link_id", table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_subscription_customer_id"), table_name="subscription")
    op.drop_table("subscription")
    op.drop_index(op.f("ix_service_provider_service_id"), table_name="service")
    op.drop_index(op.f("ix_service_category_id"), table_name="service")
    op.drop_table("service")
    op.drop_table("provider_service")
    op.drop_index(op.f("ix_checkout_link_customer_id"), table_name="checkout_link")
    op.drop_table("checkout_link")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_stripe_event_type"), table_name="stripe_event")
    op.drop_table("stripe_event")
    op.drop_table("staff_user")
    op.drop_table("provider")
    op.drop_table("customer")
    op.drop_table("company_settings")
    op.drop_table("category")
    op.execute(sa.schema.DropSequence(sa.Sequence("order_number_seq")))
