"""Scrubbing an erased customer's personal data from the append-only trail and the Stripe event log.

The one path that may update ``order_event`` and ``audit_log``: the trigger on both lets an UPDATE through only
while the transaction has set ``smplat.erasure`` and only in the columns it names (migration 0023). The
statements are bound to one customer: the events of their orders, the audit rows about them or done by them,
the Stripe events of their orders, payments or Stripe customer. What stays is who did what to which id, when,
and in which state; what goes is free text, values, labels and addresses.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

ERASED = "[erased]"
# Keys of order-event data that may carry personal data (the rest are ids, states and amounts).
PERSONAL_KEYS = ["email", "name", "company", "address", "link", "comments", "note", "reason", "to", "customer"]
# What of a Stripe event's object is kept: ids, states and amounts (no names, addresses, emails, card details).
STRIPE_KEPT_KEYS = [
    "id",
    "object",
    "status",
    "currency",
    "amount",
    "amount_total",
    "amount_refunded",
    "payment_intent",
    "client_reference_id",
    "metadata",
    "created",
]

_ORDER_EVENTS = sa.text(
    "UPDATE order_event SET"
    " note = CASE WHEN note IS NULL THEN NULL ELSE :erased END,"
    " data = CASE WHEN data IS NULL OR jsonb_typeof(data) <> 'object' THEN data"
    " ELSE data - CAST(:personal AS text[]) END,"
    " actor_label = CASE WHEN actor_kind = 'customer' THEN :label ELSE actor_label END"
    " WHERE order_id IN (SELECT id FROM orders WHERE customer_id = :customer)"
).bindparams(sa.bindparam("personal", type_=sa.ARRAY(sa.Text)))

# Audit rows about the customer (values masked, field names kept), and rows the customer did (label, IP).
_AUDIT = sa.text(
    "UPDATE audit_log SET"
    " diff = CASE WHEN diff IS NULL OR jsonb_typeof(diff) <> 'object' THEN diff"
    " WHEN (entity_type = 'customer' AND entity_id = :customer_text) OR strpos(lower(diff::text), :email) > 0"
    " THEN (SELECT coalesce(jsonb_object_agg(key, to_jsonb(CAST(:erased AS text))), '{}'::jsonb)"
    " FROM jsonb_object_keys(diff) AS key)"
    " ELSE diff END,"
    " actor_label = CASE WHEN lower(actor_label) = :email THEN :label ELSE actor_label END,"
    " ip = CASE WHEN actor_kind = 'customer' AND (lower(actor_label) = :email"
    " OR (entity_type = 'customer' AND entity_id = :customer_text)) THEN NULL ELSE ip END"
    " WHERE (entity_type = 'customer' AND entity_id = :customer_text)"
    " OR lower(actor_label) = :email OR strpos(lower(diff::text), :email) > 0"
)

_OBJECT = "payload->'data'->'object'"
_ORDER_IDS = "SELECT id::text FROM orders WHERE customer_id = :customer"
_PAYMENTS = "FROM payment p JOIN orders o ON o.id = p.order_id WHERE o.customer_id = :customer"
_STRIPE_EVENTS = sa.text(
    "UPDATE stripe_event SET payload = jsonb_build_object("
    " 'id', payload->'id', 'type', payload->'type', 'created', payload->'created', 'scrubbed', true,"
    f" 'data', jsonb_build_object('object', (SELECT coalesce(jsonb_object_agg(key, value), '{{}}'::jsonb)"
    f" FROM jsonb_each({_OBJECT}) WHERE key = ANY(CAST(:kept AS text[])))))"
    f" WHERE jsonb_typeof({_OBJECT}) = 'object' AND NOT (payload ? 'scrubbed') AND ("
    f" {_OBJECT}->>'customer' = :stripe_customer"
    f" OR {_OBJECT}->'metadata'->>'order_id' IN ({_ORDER_IDS})"
    f" OR {_OBJECT}->>'client_reference_id' IN ({_ORDER_IDS})"
    f" OR {_OBJECT}->>'payment_intent' IN (SELECT p.stripe_payment_intent_id {_PAYMENTS})"
    f" OR {_OBJECT}->>'id' IN (SELECT p.stripe_checkout_session_id {_PAYMENTS}))"
).bindparams(sa.bindparam("kept", type_=sa.ARRAY(sa.Text)))


@dataclass(frozen=True)
class Scrubbed:
    order_events: int
    audit_rows: int
    stripe_events: int

    def counts(self) -> dict[str, int]:
        return {"order_events": self.order_events, "audit_rows": self.audit_rows, "stripe_events": self.stripe_events}


async def _rows(session: AsyncSession, statement: sa.TextClause, params: dict[str, object]) -> int:
    result = await session.execute(statement, params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def scrub_trail(
    session: AsyncSession, *, customer_id: int, email: str, stripe_customer_id: str | None
) -> Scrubbed:
    """Scrub the customer's personal data from the trail (``email`` is their address before erasure)."""
    label = f"customer:{customer_id}"
    await session.execute(sa.text("SELECT set_config('smplat.erasure', 'on', true)"))
    events = await _rows(
        session, _ORDER_EVENTS, {"customer": customer_id, "erased": ERASED, "personal": PERSONAL_KEYS, "label": label}
    )
    audit = await _rows(
        session, _AUDIT, {"customer_text": str(customer_id), "email": email.lower(), "erased": ERASED, "label": label}
    )
    stripe = await _rows(
        session,
        _STRIPE_EVENTS,
        {"customer": customer_id, "stripe_customer": stripe_customer_id or "", "kept": STRIPE_KEPT_KEYS},
    )
    # Only these statements: whatever the transaction does next meets the append-only trigger again.
    await session.execute(sa.text("SELECT set_config('smplat.erasure', 'off', true)"))
    return Scrubbed(order_events=events, audit_rows=audit, stripe_events=stripe)
