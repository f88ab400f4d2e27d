"""Whatever staff do in the back office, the public pages stay up and show what is on offer.

The regression: deactivating or duplicating one service used to answer every visitor of ``/`` and ``/services``
with a 409 (the storefront's query rewrote the category's services and the next flush wrote that back).
The invariant below runs every business action of every admin view once, as an admin, over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqladmin import ModelView

from app.accounts.models import Role, StaffUser
from app.actors import Actor
from app.catalog.models import Category, Service
from app.config import Settings
from app.demo.seed import seed_demo_data
from app.gdpr.erasure import request_erasure
from app.invoicing.models import Invoice
from app.invoicing.storage import stored_pdf
from app.notifications.models import EmailOutbox, EmailStatus
from app.orders.states import LineStatus
from app.payments.gateway import to_minor_units
from app.sandbox import FakeStripe
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import (
    Staff,
    action_error,
    create_staff,
    find_admin,
    form_values,
    login_as,
    offered_options,
)

PUBLIC_PAGES = ("/", "/services")
# Actions that need a live subscription at the processor, which demo data cannot hold; they run against the fake
# Stripe in tests/integration/payments/test_subscriptions.py.
NEEDS_LIVE_SUBSCRIPTION = {"subscription/cancel-at-period-end"}


@pytest.fixture(scope="module")
def processor() -> Iterator[FakeStripe]:
    with FakeStripe(api_key="sk_test_backoffice") as fake:
        yield fake


@pytest.fixture
def app(settings: Settings, processor: FakeStripe) -> Litestar:
    """The back office with a payment processor (the fake Stripe), so that refunds can run."""
    from app.asgi import create_app

    # Lexware Office configured (never called here: retrying a sync only queues the job).
    lexoffice = replace(settings, lexoffice_api_key="test-lexoffice-key", lexoffice_base_url="http://127.0.0.1:9/v1")
    return create_app(processor.configure(lexoffice))


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "en"}


async def assert_storefront_up(web: Any, after: str) -> dict[str, str]:
    pages = {}
    for path in PUBLIC_PAGES:
        response = await web.get(path, headers=BROWSER)
        assert response.status_code == 200, f"{path} answered {response.status_code} after {after}"
        assert response.headers["content-type"].startswith("text/html"), f"{path} is not a page after {after}"
        pages[path] = response.text
    return pages


async def act(web: Any, staff: Staff, identity: str, slug: str, pk: int, **fields: str) -> Any:
    return await web.post(
        f"/admin/{identity}/action/{slug}?pks={pk}",
        data={**fields, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


# -- the regression ------------------------------------------------------------------------------------------


async def two_services_in_one_category(session: Any) -> tuple[Service, Service]:
    category = await factories.category(session)
    services = [
        Service(
            slug=slug,
            category_id=category.id,
            name_de=name_de,
            name_en=name_en,
            price=Decimal("4.9000"),
            min_quantity=100,
            max_quantity=1000,
            position=position,
        )
        for position, (slug, name_de, name_en) in enumerate(
            [
                ("reels-views-at", "Reels-Aufrufe (Österreich)", "Reels views (Austria)"),
                ("reels-likes-at", "Reels-Likes (Österreich)", "Reels likes (Austria)"),
            ]
        )
    ]
    session.add_all(services)
    await session.commit()
    return services[0], services[1]


async def test_deactivating_a_service_hides_it_and_leaves_the_storefront_up(web, session):
    shown, hidden = await two_services_in_one_category(session)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "service", "deactivate", hidden.id)
    assert response.status_code == 303, action_error(response.text)

    for path, page in (await assert_storefront_up(web, "deactivate")).items():
        assert "Reels views (Austria)" in page, path
        assert "Reels likes (Austria)" not in page, path
    # Nothing was written behind the scenes: both services still belong to their category.
    category_ids = await session.scalars(
        sa.select(Service.category_id)
        .where(Service.id.in_([shown.id, hidden.id]))
        .execution_options(populate_existing=True)
    )
    assert set(category_ids) == {shown.category_id}
    # And a second visit (a fresh session on a warm pool) is still fine.
    await assert_storefront_up(web, "deactivate, second visit")
    assert (await web.get(f"/services/{shown.slug}", headers=BROWSER)).status_code == 200
    gone = await web.get(f"/services/{hidden.slug}", headers=BROWSER)
    assert gone.status_code == 404
    assert "no longer offered" in gone.text


async def test_duplicating_a_service_keeps_the_copy_hidden_and_the_storefront_up(web, session):
    shown, _sibling = await two_services_in_one_category(session)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "service", "duplicate", shown.id)
    assert response.status_code == 303, action_error(response.text)

    for path, page in (await assert_storefront_up(web, "duplicate")).items():
        assert page.count("Reels views (Austria)") == 1, path
        assert "(copy)" not in page, path
        assert "Reels likes (Austria)" in page, path
    copy = await session.scalar(
        sa.select(Service).where(Service.slug == f"{shown.slug}-copy").execution_options(populate_existing=True)
    )
    assert copy is not None and copy.category_id == shown.category_id and not copy.is_active


async def test_a_category_without_active_services_disappears_from_the_storefront(web, session):
    shown, sibling = await two_services_in_one_category(session)
    staff = await login_as(session, web, Role.STAFF)
    category = await session.get(Category, shown.category_id)
    assert category is not None

    for service in (shown, sibling):
        assert (await act(web, staff, "service", "deactivate", service.id)).status_code == 303

    services_page = (await assert_storefront_up(web, "deactivating a whole category"))["/services"]
    assert category.name_en not in services_page
    assert "Reels" not in services_page


# -- the invariant: after every admin action, the storefront answers -------------------------------------------

ACTION_PATH = re.compile(r"^/(?P<identity>[^/]+)/action/(?P<slug>[^/]+)$")
FILLER = "storefront-check-1"  # valid as a reason, a note and a provider order id
AMOUNT_FILLER = "1"  # for a field that asks for an amount of money
AMOUNT_FIELD = re.compile(r'<input[^>]*\bname="([^"]+)"[^>]*\binputmode="decimal"')
MAX_CANDIDATES = 40


@dataclass
class Outcome:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def registered_actions(app: Litestar) -> list[tuple[ModelView, str]]:
    """Every action route the mounted admin serves, with the view it belongs to (new ones are found here)."""
    admin = find_admin(app)
    views = {view.identity: view for view in admin.views if isinstance(view, ModelView)}
    found = []
    for route in admin.admin.router.routes:
        match = ACTION_PATH.match(getattr(route, "path", ""))
        if match:
            found.append((views[match["identity"]], match["slug"]))
    return found


async def candidate_records(session: Any, model: Any, *, exclude: set[int]) -> list[int]:
    """Records to try an action on: first one per combination of the model's state-like columns (enums,
    flags), so that most actions find a record they apply to at once (a queued line to hold, a failed one to
    retry, an inactive service to activate), then the others, up to a cap."""
    columns = [c for c in sa.inspect(model).columns if isinstance(c.type, sa.Enum | sa.Boolean)]
    allowed = model.id.not_in(exclude) if exclude else sa.true()
    firsts: list[int] = []
    if columns:
        firsts = sorted(await session.scalars(sa.select(sa.func.min(model.id)).where(allowed).group_by(*columns)))
    rest = await session.scalars(sa.select(model.id).where(allowed).order_by(model.id).limit(MAX_CANDIDATES))
    pks = list(dict.fromkeys([*firsts, *rest]))[:MAX_CANDIDATES]
    assert pks, f"no {model.__name__} to run its actions on: add one to the test data"
    return pks


def confirmation_form(html: str) -> dict[str, str]:
    """The values a browser submits with the confirmation form (the one holding the confirm button)."""
    button = html.index('data-testid="confirm-action"')
    start, end = html.rindex("<form", 0, button), html.index("</form>", button)
    form = html[start : end + len("</form>")]
    values = form_values(form)
    for name, options in offered_options(form).items():  # nothing pre-selected: a person picks, here the first
        answers = [option for option in options if option]
        if not values.get(name) and answers:
            values[name] = answers[0]
    amounts = set(AMOUNT_FIELD.findall(form))
    return {name: value or (AMOUNT_FILLER if name in amounts else FILLER) for name, value in values.items()}


async def test_after_every_admin_action_the_storefront_still_answers(app, web, session, processor):
    await seed_demo_data(session)
    # An order paid by card, so that refunds have something to give back; its second line ended short.
    card_order, _payment = await factories.card_paid_order(
        session, lambda order: processor.create_payment(to_minor_units(order.gross, order.currency))["id"]
    )
    short = card_order.lines[1]
    short.remains = short.quantity // 2
    await factories.move_line(
        session, short.id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.PARTIAL, provider_order_id="up-1"
    )
    # One mail the SMTP server refused, so that "resend" has something to act on (the worker does not run here).
    await session.execute(
        sa.update(EmailOutbox)
        .where(EmailOutbox.id == sa.select(sa.func.min(EmailOutbox.id)).scalar_subquery())
        .values(status=EmailStatus.FAILED, error="550 5.1.1 mailbox unavailable")
    )
    # One invoice's PDF rendered, so that "retry sync" has a document to book (the worker does not run here).
    await stored_pdf(session, await session.scalar(sa.select(sa.func.min(Invoice.id))))
    # Two clients without open orders who asked to be erased: one to confirm, one to decline.
    for _ in range(2):
        asker = await factories.customer(session)
        await request_erasure(UnitOfWork(session), customer_id=asker.id, actor=Actor.customer(asker.id))
    await session.commit()
    await create_staff(session, Role.STAFF)  # someone other than the acting admin, for the account actions
    admin = await login_as(session, web, Role.ADMIN)
    actions = registered_actions(app)
    assert {("service", "deactivate"), ("service", "duplicate")} <= {(v.identity, slug) for v, slug in actions}
    await assert_storefront_up(web, "seeding")

    outcomes: dict[str, Outcome] = {}
    for view, slug in actions:
        name = f"{view.identity}/{slug}"
        outcome = outcomes[name] = Outcome()
        exclude = {admin.user.id} if view.model is StaffUser else set()
        for pk in await candidate_records(session, view.model, exclude=exclude):
            url = f"/admin/{view.identity}/action/{slug}?pks={pk}"
            page = await web.get(url)
            assert page.status_code == 200, f"{name} on {pk}: the confirmation page answered {page.status_code}"
            response = await web.post(url, data=confirmation_form(page.text), follow_redirects=False)
            assert response.status_code < 500, f"{name} on {pk} failed with {response.status_code}"
            await assert_storefront_up(web, f"{name} on record {pk}")
            if response.status_code in (200, 303) and not action_error(response.text):
                outcome.done.append(pk)
                break
            outcome.refused.append((pk, action_error(response.text) or str(response.status_code)))

    # Refusals are allowed (the record may be in the wrong state), but each action must have run somewhere,
    # else this test would prove nothing about it: the candidates or the demo data need a suitable record.
    never_ran = {
        name: outcome.refused
        for name, outcome in outcomes.items()
        if not outcome.done and name not in NEEDS_LIVE_SUBSCRIPTION
    }
    assert not never_ran, "\n".join(f"{k}: {v}" for k, v in never_ran.items())
