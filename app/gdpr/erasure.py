"""Erasure: the client asks in the portal, an admin confirms or declines, confirming pseudonymises the customer.

Confirming keeps what the law makes us keep and the ids that hold the books together: orders, payments, refunds,
and invoices and credit notes exactly as issued (retention duty of §147 AO and §14b UStG; the invoice rows are
immutable anyway). It clears the customer's profile (the email becomes ``erased-<id>@invalid``), ends their
portal sessions and login links, gives every order a tracking token nobody knows, deletes their data exports,
empties the mails to them, and scrubs the trail (``app.gdpr.scrub``). The audit row of the erasure records only
ids and counts.

It is refused while the customer has an open order (not yet completed, canceled or expired) or a subscription
that still runs: those still need the address to be delivered, refunded or billed. Staff finish or cancel them
first. Confirming twice is harmless: an erased customer stays erased, nothing is written again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.actors import Actor, ActorKind
from app.customers.commands import PROFILE_FIELDS
from app.customers.models import Customer
from app.errors import DomainError, NotFound, ValidationFailed
from app.gdpr.exports import discard_exports
from app.gdpr.models import ErasureRequest, ErasureStatus
from app.gdpr.scrub import ERASED, scrub_trail
from app.i18n import N_
from app.notifications.models import EmailOutbox, EmailStatus
from app.orders.models import Order, OrderLine
from app.orders.states import ORDER_STATES
from app.payments.models import CheckoutLink, Subscription, SubscriptionStatus
from app.portal.commands import end_portal_sessions
from app.portal.models import PortalLoginToken
from app.states import finals
from app.uow import UnitOfWork

ERASURE = "erasure_request"
# The profile, except the country and language that tax statistics and any later mail still need.
KEPT_FIELDS = ("country", "locale")
CLEARED_FIELDS = (
    *(name for name in PROFILE_FIELDS if name not in KEPT_FIELDS),
    "vat_id_entered_by",
    "vat_id_entered_at",
    "notes",
)
MAX_REASON = 2000


@dataclass(frozen=True)
class Erasure:
    customer_id: int
    already_erased: bool  # confirmed before: nothing was done this time


def pseudonym(customer_id: int) -> str:
    return f"erased-{customer_id}@invalid"


async def _customer(uow: UnitOfWork, customer_id: int) -> Customer:
    customer = await uow.session.scalar(sa.select(Customer).where(Customer.id == customer_id).with_for_update())
    if customer is None:
        raise NotFound(N_("This record no longer exists."))
    return customer


async def _open_request(uow: UnitOfWork, customer_id: int) -> ErasureRequest | None:
    found: ErasureRequest | None = await uow.session.scalar(
        sa.select(ErasureRequest)
        .where(ErasureRequest.customer_id == customer_id, ErasureRequest.status == ErasureStatus.REQUESTED)
        .with_for_update()
    )
    return found


async def request_erasure(uow: UnitOfWork, *, customer_id: int, actor: Actor) -> ErasureRequest:
    """The client's request (asking again finds the open one); an admin decides on it."""
    customer = await _customer(uow, customer_id)
    if customer.erased_at is not None:
        raise NotFound(N_("This record no longer exists."))
    request = await _open_request(uow, customer_id)
    if request is not None:
        return request
    request = ErasureRequest(customer_id=customer_id, status=ErasureStatus.REQUESTED)
    uow.session.add(request)
    await uow.flush()
    uow.audit(actor, "erasure-requested", ERASURE, request.id, details={"customer": customer_id})
    return request


def _staff_id(actor: Actor) -> int | None:
    return int(actor.id) if actor.kind == ActorKind.STAFF and actor.id and actor.id.isdigit() else None


async def decline_erasure(uow: UnitOfWork, *, customer_id: int, reason: str, actor: Actor) -> ErasureRequest:
    """An admin refuses the open request, with the reason (kept with the request)."""
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise ValidationFailed({"reason": N_("required")})
    await _customer(uow, customer_id)
    request = await _open_request(uow, customer_id)
    if request is None:
        raise DomainError(N_("This customer has no open erasure request."))
    request.status, request.reason = ErasureStatus.DECLINED, reason
    request.decided_at, request.decided_by = uow.now(), _staff_id(actor)
    await uow.flush()
    uow.audit(actor, "erasure-declined", ERASURE, request.id, details={"customer": customer_id})
    return request


async def _refuse_while_open(uow: UnitOfWork, customer_id: int) -> None:
    open_orders = list(
        await uow.session.scalars(
            sa.select(Order.number)
            .where(Order.customer_id == customer_id, Order.status.not_in(finals(ORDER_STATES)))
            .order_by(Order.id)
        )
    )
    if open_orders:
        raise DomainError(
            N_("Orders %(orders)s are still open: finish or cancel them before the erasure."),
            orders=", ".join(open_orders),
        )
    running = await uow.session.scalar(
        sa.select(sa.func.count())
        .select_from(Subscription)
        .where(Subscription.customer_id == customer_id, Subscription.status != SubscriptionStatus.CANCELED)
    )
    if running:
        raise DomainError(N_("A subscription of this customer still runs: cancel it before the erasure."))


async def _clear_orders_and_mails(uow: UnitOfWork, customer: Customer, old_email: str) -> None:
    orders = sa.select(Order.id).where(Order.customer_id == customer.id).scalar_subquery()
    # A fresh random hash per order: the tracking links the client (or a forwarded mail) held stop working.
    random_text = sa.cast(sa.func.gen_random_uuid(), sa.Text) + sa.cast(sa.func.gen_random_uuid(), sa.Text)
    new_hash = sa.func.encode(sa.func.sha256(sa.func.convert_to(random_text, "UTF8")), "hex")
    await uow.session.execute(
        sa.update(Order)
        .where(Order.customer_id == customer.id)
        .values(customer_note=None, tracking_token_hash=new_hash)
        .execution_options(synchronize_session=False)
    )
    await uow.session.execute(
        sa.update(OrderLine)
        .where(OrderLine.order_id.in_(orders), OrderLine.comments.is_not(None))
        .values(comments=ERASED)
        .execution_options(synchronize_session=False)
    )
    unsent = (EmailStatus.HELD, EmailStatus.QUEUED)
    await uow.session.execute(
        sa.update(EmailOutbox)
        .where(sa.func.lower(EmailOutbox.to_address) == old_email.lower())
        .values(
            to_address=customer.email,
            context={},
            status=sa.case((EmailOutbox.status.in_(unsent), EmailStatus.FAILED.value), else_=EmailOutbox.status),
            error=sa.case((EmailOutbox.status.in_(unsent), "customer erased"), else_=EmailOutbox.error),
        )
        .execution_options(synchronize_session=False)
    )
    await uow.session.execute(sa.delete(PortalLoginToken).where(PortalLoginToken.customer_id == customer.id))
    await uow.session.execute(
        sa.update(CheckoutLink)
        .where(CheckoutLink.customer_id == customer.id, CheckoutLink.note.is_not(None))
        .values(note=None)
        .execution_options(synchronize_session=False)
    )


async def confirm_erasure(uow: UnitOfWork, *, customer_id: int, actor: Actor) -> Erasure:
    """An admin confirms the open request: the customer is pseudonymised and the trail scrubbed (see above)."""
    customer = await _customer(uow, customer_id)
    if customer.erased_at is not None:
        return Erasure(customer_id=customer_id, already_erased=True)
    request = await _open_request(uow, customer_id)
    if request is None:
        raise DomainError(N_("This customer has no open erasure request."))
    await _refuse_while_open(uow, customer_id)
    old_email, stripe_customer_id = customer.email, customer.stripe_customer_id
    exports = await discard_exports(uow, customer_id=customer_id)
    await end_portal_sessions(uow, customer_id=customer_id, actor=actor)
    for name in CLEARED_FIELDS:
        setattr(customer, name, None)
    customer.email, customer.erased_at = pseudonym(customer_id), uow.now()
    await uow.flush()
    await _clear_orders_and_mails(uow, customer, old_email)
    request.status, request.decided_at, request.decided_by = ErasureStatus.ERASED, uow.now(), _staff_id(actor)
    await uow.flush()
    scrubbed = await scrub_trail(
        uow.session, customer_id=customer_id, email=old_email, stripe_customer_id=stripe_customer_id
    )
    uow.audit(
        actor,
        "erase",
        "customer",
        customer_id,
        details={"request": request.id, "exports": exports, **scrubbed.counts()},
    )
    return Erasure(customer_id=customer_id, already_erased=False)
