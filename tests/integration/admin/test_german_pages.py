"""Every back-office page, walked as a German-speaking admin, shows no English label and no raw field name.

The walk is generated from the registered views (list, details, create and edit pages, every business
action's confirmation page) plus the custom pages, so a new view, field or action is covered without touching
this file. A label is the text of a table heading, form label, description term, button, option, badge,
card title or heading, or a placeholder. It fails when it is an English catalog text whose German differs, or
a field name as the code spells it (``paid_at``, ``tax_treatment``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import httpx
import pytest
import sqlalchemy as sa
from sqladmin import ModelView

from app.accounts.models import Role
from app.customers.models import Customer
from app.gdpr.models import ErasureRequest
from app.i18n import LOCALE_DIR, translations
from app.orders.models import Order
from app.payments.models import StripeEvent
from tests import factories
from tests.integration.admin.conftest import BackOffice
from tests.integration.admin.helpers import create_staff, login

LABEL_TAGS = {"th", "label", "dt", "button", "option", "h1", "h2", "h3", "h4", "legend", "summary"}
LABEL_CLASSES = {"card-title", "badge", "form-label", "nav-link-title", "dropdown-item", "subheader", "page-title"}
FIELD_NAME = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")
# Identical in both languages (names, codes, loan words German uses as they are).
SAME_IN_GERMAN = {"ID", "E-Mail", "Email", "Status", "Name", "Provider", "Link", "Slug", "IBAN", "BIC", "Admin"}


def english_texts() -> set[str]:
    """Catalog texts whose German differs from the English source."""
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="de")
    german = translations("de")
    return {
        message.id
        for message in catalog
        if isinstance(message.id, str) and message.id and german.gettext(message.id) != message.id
    }


class Labels(HTMLParser):
    """The label texts of a page (see the module docstring), with the tag they stand in."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.labels: list[tuple[str, str]] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag in ("script", "style"):
            self.skip += 1
        if placeholder := values.get("placeholder"):
            self.labels.append(("placeholder", placeholder.strip()))
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return
        labelled = tag in LABEL_TAGS or bool(LABEL_CLASSES & set(values.get("class", "").split()))
        self.stack.append(labelled)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1
        if tag not in ("input", "br", "img", "meta", "link", "hr") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.skip and any(self.stack[-3:]):
            self.labels.append(("text", text))


def field_names(backoffice) -> set[str]:
    """Every attribute of every model the back office shows, as the code spells it (``source``, ``paid_at``)."""
    return {
        attr.key
        for view in backoffice.admin.views
        if isinstance(view, ModelView)
        for attr in sa.inspect(view.model).attrs
    }


def untranslated(html: str, english: set[str], fields: set[str]) -> list[str]:
    parser = Labels()
    parser.feed(html)
    found = []
    for kind, text in parser.labels:
        if text in SAME_IN_GERMAN:
            continue
        if text in english or text in fields or FIELD_NAME.match(text):
            found.append(f"{kind}: {text!r}")
    return sorted(set(found))


async def first_pk(backoffice, view: ModelView) -> str | None:
    (pk_column,) = sa.inspect(view.model).primary_key
    async with backoffice.sessions() as session:
        pk = await session.scalar(sa.select(pk_column).order_by(pk_column).limit(1))
    return None if pk is None else str(pk)


async def pages(backoffice) -> list[str]:
    urls = ["/admin/", "/admin/fulfillment", "/admin/account/password"]
    action_routes = [getattr(route, "path", "") for route in backoffice.admin.admin.routes]
    for view in backoffice.admin.views:
        if not isinstance(view, ModelView):
            continue
        identity = view.identity
        urls.append(f"/admin/{identity}/list")
        pk = await first_pk(backoffice, view)
        if view.can_create:
            urls.append(f"/admin/{identity}/create")
        if pk is None:
            continue
        urls.append(f"/admin/{identity}/details/{pk}")
        if view.can_edit:
            urls.append(f"/admin/{identity}/edit/{pk}")
        prefix = f"/{identity}/action/"
        urls += [f"/admin{path}?pks={pk}" for path in action_routes if path.startswith(prefix)]
    return urls


@pytest.fixture(scope="module")
async def walked(backoffice) -> BackOffice:
    """The demo data with a second row where the demo has one or none: two refunds, two erasure requests, two
    Stripe events (the company settings are one row by design)."""
    async with backoffice.sessions() as session:
        paid = await session.scalars(
            sa.select(Order).where(Order.paid_at.is_not(None)).order_by(Order.id).limit(2),
        )
        for order in paid.unique().all():
            await factories.succeeded_refund(session, order, (await order.awaitable_attrs.lines)[0], Decimal("1.00"))
        customers = await session.scalars(sa.select(Customer.id).order_by(Customer.id).limit(2))
        session.add_all([ErasureRequest(customer_id=customer_id) for customer_id in customers])
        session.add(StripeEvent(id="evt_test_admin_2", type="charge.refunded", payload={"id": "evt_test_admin_2"}))
        await session.commit()
    return backoffice


@pytest.fixture(scope="module")
async def german_admin(backoffice) -> httpx.Cookies:
    async with backoffice.sessions() as session:
        user = await create_staff(session, Role.ADMIN, locale="de")
    client = backoffice.client
    client.cookies.clear()
    await login(client, user.email)
    return httpx.Cookies(client.cookies)


@pytest.mark.usefixtures("walked")
async def test_every_back_office_page_speaks_german_to_a_german_admin(backoffice, german_admin):
    english, fields = english_texts(), field_names(backoffice)
    client = backoffice.client
    client.cookies = german_admin
    problems: dict[str, list[str]] = {}
    for url in await pages(backoffice):
        response = await client.get(url)
        if response.status_code == 403 and url.endswith("/create"):
            continue  # a singleton that exists already (company settings)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if found := untranslated(response.text, english, fields):
            problems[url] = found
    assert problems == {}


async def test_every_list_walked_has_at_least_two_rows(walked):
    """A list's per-row expressions (an order's number through its payment, say) are only tried by a list of
    several rows: every model the back office lists has two or more in the data these walks open."""
    short = {}
    async with walked.sessions() as session:
        for view in walked.admin.views:
            if isinstance(view, ModelView) and view.identity != "company-settings":
                rows = await session.scalar(sa.select(sa.func.count()).select_from(view.model))
                if rows < 2:
                    short[view.identity] = rows
    assert short == {}
