"""Saving back-office forms: enum fields kept, lost updates refused, numbers read in the staff's language,
values the business does not allow refused on their field, parallel duplicates all answered."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from html import unescape
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import undefer

from app.accounts.models import Role
from app.catalog.models import Category, Service
from app.company.models import CompanySettings
from app.customers.models import Customer
from app.demo.catalog import COMPANY
from app.fulfillment.models import Provider
from tests import factories
from tests.integration.admin.helpers import audit_rows, create_staff, form_values, login, login_as

FIELD_NAME = re.compile(r'\sname="([^"]+)"')
FEEDBACK = re.compile(r'<div class="invalid-feedback">([^<]*)</div>')
ALERT = re.compile(r'<div class="alert alert-danger" role="alert">([^<]*)</div>')


def field_errors(html: str) -> dict[str, str]:
    """Field name -> its error message, from each field's block of the form."""
    errors = {}
    for block in html.split('class="mb-3 form-group row"')[1:]:
        name, feedback = FIELD_NAME.search(block), FEEDBACK.search(block)
        if name and feedback:
            errors[name.group(1)] = unescape(feedback.group(1))
    return errors


def alert(html: str) -> str:
    match = ALERT.search(html)
    return unescape(match.group(1)).strip() if match else ""


async def open_edit(client, identity: str, pk: int) -> dict[str, Any]:
    page = await client.get(f"/admin/{identity}/edit/{pk}")
    assert page.status_code == 200
    return form_values(page.text)


async def save(client, csrf: str, identity: str, pk: int, form: dict[str, Any], **changes: Any) -> Any:
    data = {**form, **changes, "csrf_token": csrf, "save": "Save"}
    return await client.post(f"/admin/{identity}/edit/{pk}", data=data, follow_redirects=False)


async def edit(client, csrf: str, identity: str, pk: int, **changes: Any) -> Any:
    return await save(client, csrf, identity, pk, await open_edit(client, identity, pk), **changes)


async def reload(session, model, pk: int) -> Any:
    stmt = sa.select(model).where(model.id == pk).options(undefer("*")).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).unique().one()


# -- item: enum fields ----------------------------------------------------------------------------------------


async def test_a_staff_accounts_edit_page_preselects_its_role_and_saving_the_name_keeps_it(web, session):
    admin = await login_as(session, web, Role.ADMIN)
    colleague = await create_staff(session, Role.FINANCE, name="Fina")

    page = await web.get(f"/admin/staff-user/edit/{colleague.id}")
    response = await save(web, admin.csrf, "staff-user", colleague.id, form_values(page.text), name="Fina Neu")

    assert re.search(r'<option selected value="finance">', page.text)
    assert response.status_code == 302
    stored = await reload(session, type(colleague), colleague.id)
    assert (stored.name, stored.role) == ("Fina Neu", Role.FINANCE)


async def test_a_services_kind_and_a_categorys_platform_survive_an_edit_of_another_field(web, session):
    staff = await login_as(session, web, Role.STAFF)
    service = await factories.service(session, kind="package", platform="youtube")
    await session.commit()

    await edit(web, staff.csrf, "service", service.id, name_en="Renamed package")
    await edit(web, staff.csrf, "category", service.category_id, name_en="Renamed category")

    assert (await reload(session, Service, service.id)).kind == "package"
    assert (await reload(session, Category, service.category_id)).platform == "youtube"


# -- item: lost updates ---------------------------------------------------------------------------------------


async def test_a_save_over_a_colleagues_change_is_refused_and_names_them(web, session):
    service = await factories.service(session, price="2.0000")
    await session.commit()
    first = await create_staff(session, Role.STAFF, email="erste@smplat.example")
    second = await create_staff(session, Role.STAFF, email="zweite@smplat.example")
    one_csrf = await login(web, first.email)
    one = httpx.Cookies(web.cookies)
    web.cookies.clear()
    two_csrf = await login(web, second.email)
    two = httpx.Cookies(web.cookies)

    def as_(cookies: httpx.Cookies) -> Any:
        web.cookies = cookies
        return web

    opened_by_one = await open_edit(as_(one), "service", service.id)
    opened_by_two = await open_edit(as_(two), "service", service.id)

    saved = await save(as_(one), one_csrf, "service", service.id, opened_by_one, price="3.00")
    refused = await save(as_(two), two_csrf, "service", service.id, opened_by_two, name_en="Typed by two")

    assert saved.status_code == 302
    assert refused.status_code == 400
    assert "erste@smplat.example changed this record since you opened it" in alert(refused.text)
    kept = form_values(refused.text)
    assert kept["name_en"] == "Typed by two"  # the user's input stays on the form
    stored = await reload(session, Service, service.id)
    assert (stored.price, stored.name_en) == (Decimal("3.0000"), service.name_en)
    assert [row.actor_label for row in await audit_rows(session, entity_type="service")] == [first.email]

    again = await save(as_(two), two_csrf, "service", service.id, kept)  # a deliberate second save overwrites

    assert again.status_code == 302
    stored = await reload(session, Service, service.id)
    assert (stored.price, stored.name_en) == (Decimal("2.0000"), "Typed by two")


@pytest.mark.parametrize("identity", ["category", "customer", "provider", "company-settings", "staff-user"])
async def test_every_edit_form_refuses_a_save_over_a_change_made_since_it_was_opened(web, session, identity):
    admin = await login_as(session, web, Role.ADMIN)
    make = {
        "category": lambda: factories.category(session),
        "customer": lambda: factories.customer(session),
        "provider": lambda: factories.provider(session),
        "company-settings": lambda: _company(session),
        "staff-user": lambda: factories.staff_user(session),
    }
    record = await make[identity]()
    await session.commit()
    model = type(record)
    form = await open_edit(web, identity, record.id)
    await session.execute(
        sa.update(model).where(model.id == record.id).values(updated_at=sa.func.now() + sa.text("interval '1 second'"))
    )
    await session.commit()
    before = {a.key: getattr(await reload(session, model, record.id), a.key) for a in sa.inspect(model).column_attrs}

    refused = await save(web, admin.csrf, identity, record.id, form)

    assert refused.status_code == 400
    # Who: the last editor the audit trail knows (test set-up for records made by the factories), else "someone else".
    assert re.search(r"(someone else|test) changed this record since you opened it", alert(refused.text))
    after = await reload(session, model, record.id)
    assert {key: getattr(after, key) for key in before} == before


async def _company(session) -> CompanySettings:
    company = CompanySettings(id=1, **COMPANY)
    session.add(company)
    await session.flush()
    return company


# -- item: numbers in the staff member's language -------------------------------------------------------------


async def german_staff(session, client) -> str:
    user = await create_staff(session, Role.STAFF, locale="de")
    return await login(client, user.email)


@pytest.mark.parametrize(("typed", "stored"), [("2,49", "2.49"), ("1.234,50", "1234.50"), ("0,0001", "0.0001")])
async def test_a_german_staff_member_types_prices_with_a_decimal_comma(web, session, typed, stored):
    csrf = await german_staff(session, web)
    service = await factories.service(session, price="9.0000")
    await session.commit()

    response = await edit(web, csrf, "service", service.id, price=typed)

    assert response.status_code == 302
    assert (await reload(session, Service, service.id)).price == Decimal(stored)


async def test_the_german_edit_page_shows_the_price_with_a_decimal_comma(web, session):
    await german_staff(session, web)
    service = await factories.service(session, price="1234.5000")
    await session.commit()

    form = await open_edit(web, "service", service.id)

    assert form["price"] == "1.234,50"
    assert 'inputmode="decimal"' in (await web.get(f"/admin/service/edit/{service.id}")).text


@pytest.mark.parametrize(("typed", "hint"), [("2,49", "2.49"), ("1.234,50", "1,234.5")])
async def test_an_english_staff_member_typing_a_german_price_is_asked_what_was_meant(web, session, typed, hint):
    staff = await login_as(session, web, Role.STAFF)
    service = await factories.service(session, price="9.0000")
    await session.commit()

    response = await edit(web, staff.csrf, "service", service.id, price=typed)

    assert response.status_code == 400
    assert f"did you mean {hint}?" in field_errors(response.text)["price"]
    assert form_values(response.text)["price"] == typed  # what was typed stays, nothing is dropped
    assert (await reload(session, Service, service.id)).price == Decimal("9.0000")


async def test_provider_rates_and_thresholds_are_read_in_german_too(web, session):
    upstream = await factories.provider(session)
    await session.commit()
    admin = await create_staff(session, Role.ADMIN, locale="de")
    csrf = await login(web, admin.email)

    response = await edit(web, csrf, "provider", upstream.id, eur_per_unit="0,923456", low_balance_threshold="1.500,5")

    assert response.status_code == 302
    stored = await reload(session, Provider, upstream.id)
    assert (stored.eur_per_unit, stored.low_balance_threshold) == (Decimal("0.923456"), Decimal("1500.50"))


# -- item: values the business does not allow ---------------------------------------------------------------

REFUSED = [
    ("service", "currency", "ZZZ"),
    ("service", "price", "0.00001"),
    ("service", "price", "1e30"),
    ("service", "min_quantity", str(2**31)),
    ("service", "description_de", "x" * 200_000),
    ("service", "provider_service", "999999"),
    ("category", "slug", "Bad Slug!"),
    ("provider", "eur_per_unit", "0"),
    ("provider", "eur_per_unit", "-1.5"),
    ("provider", "low_balance_threshold", "-0.01"),
    ("provider", "notes", "y" * 200_000),
    ("provider", "api_url", "javascript:alert(1)"),
    ("customer", "notes", "z" * 200_000),
    ("company-settings", "website", "javascript:alert(document.cookie)"),
    ("company-settings", "website", "ftp://smplat.example"),
    ("company-settings", "datev_debtor_account", "8400"),
    ("company-settings", "datev_account_domestic", "84000"),
    ("company-settings", "datev_consultant_number", "12"),
]


@pytest.mark.parametrize(("identity", "field", "value"), REFUSED, ids=lambda v: str(v)[:24])
async def test_a_value_the_business_does_not_allow_is_refused_on_its_field(web, session, identity, field, value):
    admin = await login_as(session, web, Role.ADMIN)
    make = {
        "service": lambda: factories.service(session),
        "category": lambda: factories.category(session),
        "provider": lambda: factories.provider(session),
        "customer": lambda: factories.customer(session),
        "company-settings": lambda: _company(session),
    }
    record = await make[identity]()
    await session.commit()
    model = type(record)
    before = {a.key: getattr(record, a.key) for a in sa.inspect(model).column_attrs if a.key != "updated_at"}

    response = await edit(web, admin.csrf, identity, record.id, **{field: value})

    assert response.status_code == 400
    assert field in field_errors(response.text), field_errors(response.text)
    assert "[SQL" not in response.text
    after = await reload(session, model, record.id)
    assert {key: getattr(after, key) for key in before} == before
    assert await audit_rows(session, action="update") == []


async def test_a_service_currency_is_one_we_sell_in(web, session):
    staff = await login_as(session, web, Role.STAFF)
    service = await factories.service(session)
    await session.commit()

    response = await edit(web, staff.csrf, "service", service.id, currency="chf")

    assert response.status_code == 302
    assert (await reload(session, Service, service.id)).currency == "CHF"


async def test_a_refused_save_in_german_explains_itself_in_german(web, session):
    csrf = await german_staff(session, web)
    category = await factories.category(session)
    await session.commit()

    response = await edit(web, csrf, "category", category.id, slug="Bad Slug!")

    assert response.status_code == 400
    assert "Kleinbuchstaben" in field_errors(response.text)["slug"]
    assert alert(response.text).startswith("Nicht gespeichert")


async def test_a_customer_created_with_a_vat_id_records_who_entered_it(web, session):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/customer/create")
    form = {**form_values(page.text), "email": " Neu@Example.COM ", "country": "at", "vat_id": "ATU13585627"}

    response = await web.post("/admin/customer/create", data={**form, "csrf_token": staff.csrf}, follow_redirects=False)

    assert response.status_code == 302
    customer = (await session.scalars(sa.select(Customer))).one()
    assert (customer.email, customer.country, customer.vat_id_entered_by) == ("neu@example.com", "AT", staff.email)
    (created,) = await audit_rows(session, entity_type="customer")
    assert (created.action, created.diff["email"]["after"]) == ("create", "neu@example.com")


# -- item: parallel duplicates --------------------------------------------------------------------------------


async def test_twenty_parallel_duplicates_of_one_service_all_succeed_with_distinct_slugs(web, session):
    staff = await login_as(session, web, Role.STAFF)
    service = await factories.service(session)
    await session.commit()
    url = f"/admin/service/action/duplicate?pks={service.id}"

    responses = await asyncio.gather(
        *[web.post(url, data={"csrf_token": staff.csrf}, follow_redirects=False) for _ in range(20)]
    )

    assert [r.status_code for r in responses] == [303] * 20
    slugs = (await session.scalars(sa.select(Service.slug).where(Service.id != service.id))).all()
    assert len(set(slugs)) == 20
    assert set(slugs) == {f"{service.slug}-copy", *(f"{service.slug}-copy-{n}" for n in range(2, 21))}


def test_every_view_with_forms_saves_through_domain_commands():
    from admin.base import SmplatModelView
    from admin.registry import ADMIN_VIEWS

    with_forms = [v for v in ADMIN_VIEWS if issubclass(v, SmplatModelView) and (v.can_create or v.can_edit)]
    assert with_forms
    for view in with_forms:
        overrides = view.create_command is not SmplatModelView.create_command
        assert view.form_commands is not None or overrides, f"{view.__name__} has forms but no domain commands"
        assert not view.can_delete, f"{view.__name__}: nothing is deleted in the back office"
