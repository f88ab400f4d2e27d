"""Every edit form, opened and saved as a browser would without touching it, leaves its record exactly as it was.

Generated from the registered views: every view that can edit, every record of its model in the demo data
(plus the records this module adds for the odd cases), submitted by a role allowed to edit. A field that the
form cannot show as it is stored (an enum option not preselected, a number shown differently from how it is
read back, a checkbox, a blank optional field) would change the record here. The same crawl then tries values
a column cannot hold in every field: each is refused on the form, the database is never quoted, and nothing
changes. And every create form, filled from an existing record, creates the same record.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqladmin import ModelView
from sqlalchemy.orm import undefer

from admin.forms import VERSION_FIELD
from admin.registry import ADMIN_VIEWS
from admin.roles import role_may
from app.accounts.models import Role
from app.audit.models import AuditLog
from app.catalog.models import Category, Platform, Service, ServiceKind
from app.customers.models import Customer
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.validation import MAX_TEXT_LENGTH
from tests.integration.admin.helpers import csrf_from, form_values

EDIT_VIEWS = [view for view in ADMIN_VIEWS if issubclass(view, ModelView) and view.can_edit]
CREATE_VIEWS = [view for view in ADMIN_VIEWS if issubclass(view, ModelView) and view.can_create]
# Create forms whose records also have an edit form to copy a record from (a checkout link is created once, from
# lines and a customer, and never edited: its own tests fill its form, tests/integration/admin/test_checkout_links.py).
COPYABLE_VIEWS = [view for view in CREATE_VIEWS if view.can_edit]
LEAST_PRIVILEGED_FIRST = (Role.STAFF, Role.FINANCE, Role.ADMIN)
LEAKS = ("[SQL", "[parameters", "Traceback", "asyncpg", "sqlalchemy", "psycopg")
MAX_RECORDS_PER_VIEW = 12


@pytest.fixture(scope="module", autouse=True)
async def odd_records(backoffice) -> None:
    """Records whose values a form could mangle: line breaks, grouping digits, blanks, every enum choice."""
    async with backoffice.sessions() as session:
        upstream = (await session.scalars(sa.select(ProviderService).limit(1))).one()
        category = Category(slug="round-trip", platform=Platform.OTHER, name_de="Ründ", name_en="Round", position=9)
        session.add(category)
        await session.flush()
        session.add_all(
            [
                Service(
                    slug="round-trip-package",
                    category_id=category.id,
                    kind=ServiceKind.PACKAGE,
                    name_de="Paket «Rund»",
                    name_en="Package 'round' & <trip>",
                    description_de="Zeile eins\nZeile zwei\n\n  eingerückt",
                    description_en="",
                    price=Decimal("1234.5678"),
                    currency="CHF",
                    min_quantity=1,
                    max_quantity=2_000_000_000,
                    refill_days=30,
                    cancellable=True,
                    is_active=False,
                    position=-3,
                    provider_service_id=upstream.id,
                ),
                Service(
                    slug="round-trip-drip",
                    category_id=category.id,
                    kind=ServiceKind.DRIP_FEED,
                    name_de="Tropfen",
                    name_en="Drip",
                    price=Decimal("0.0001"),
                    min_quantity=10,
                    max_quantity=10,
                ),
                Provider(
                    name="Round trip provider",
                    kind=ProviderKind.SMM_V2,
                    api_url="https://panel.example/api/v2",
                    api_key="key-round-trip",
                    currency="GBP",
                    low_balance_threshold=Decimal("1234567.89"),
                    eur_per_unit=Decimal("1.168421"),
                    is_active=False,
                    notes="erste Zeile\nzweite Zeile\n",
                ),
                Customer(
                    email="round.trip@example.com",
                    name="Zoë O'Brien",
                    company=None,
                    address_line1="Hauptstraße 1",
                    address_line2=None,
                    postal_code="01067",
                    city="Dresden",
                    country="AT",
                    vat_id="ATU13585627",
                    vat_id_entered_by="demo data",
                    vat_id_entered_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
                    locale="en",
                    notes="Ruft nur vormittags an.\nBitte per E-Mail.\n",
                ),
            ]
        )
        await session.commit()


def view_of(backoffice, view_class) -> ModelView:
    (view,) = [v for v in backoffice.admin.views if type(v) is view_class]
    return view


def editor_role(identity: str, action: str = "edit") -> Role:
    return next(role for role in LEAST_PRIVILEGED_FIRST if role_may(role, identity, action))


async def record_ids(backoffice, model) -> list[int]:
    async with backoffice.sessions() as session:
        return list((await session.scalars(sa.select(model.id).order_by(model.id).limit(MAX_RECORDS_PER_VIEW))).all())


async def stored(backoffice, model, record_id: int) -> dict[str, Any]:
    """Every column of the row but ``updated_at``."""
    async with backoffice.sessions() as session:
        stmt = sa.select(model).where(model.id == record_id).options(undefer("*"))
        row = (await session.scalars(stmt)).unique().one()
        return {a.key: getattr(row, a.key) for a in sa.inspect(model).column_attrs if a.key != "updated_at"}


async def audit_diffs(backoffice, identity: str, record_id: int) -> list[Any]:
    async with backoffice.sessions() as session:
        stmt = sa.select(AuditLog.diff).where(AuditLog.entity_type == identity, AuditLog.entity_id == str(record_id))
        return list((await session.scalars(stmt.order_by(AuditLog.id))).all())


async def open_form(backoffice, role: Role, url: str) -> dict[str, Any]:
    client = backoffice.as_role(role)
    page = await client.get(url)
    assert page.status_code == 200, f"{url}: {page.status_code}"
    return {**form_values(page.text), "csrf_token": csrf_from(page.text)}  # the page's script adds the token


async def submit(backoffice, role: Role, url: str, form: dict[str, Any]) -> Any:
    client = backoffice.as_role(role)
    return await client.post(url, data={**form, "save": "Save"}, follow_redirects=False)


@pytest.mark.parametrize("view_class", EDIT_VIEWS, ids=lambda view_class: view_class.__name__)
async def test_saving_an_untouched_edit_form_changes_nothing(backoffice, view_class):
    view = view_of(backoffice, view_class)
    role = editor_role(view.identity)
    ids = await record_ids(backoffice, view.model)
    assert ids, f"no {view.identity} to edit: add one to the demo data or to odd_records"
    for record_id in ids:
        before, diffs_before = (
            await stored(backoffice, view.model, record_id),
            await audit_diffs(backoffice, view.identity, record_id),
        )
        url = f"/admin/{view.identity}/edit/{record_id}"
        form = await open_form(backoffice, role, url)
        assert form.get(VERSION_FIELD), f"{url}: the form carries no version token"

        response = await submit(backoffice, role, url, form)

        assert response.status_code == 302, f"{url} as {role}: {response.status_code}\n{response.text[-3000:]}"
        assert await stored(backoffice, view.model, record_id) == before, f"{url}: saving changed the record"
        written = (await audit_diffs(backoffice, view.identity, record_id))[len(diffs_before) :]
        assert all(not diff for diff in written), f"{url}: an untouched save wrote an audit diff {written}"


def bad_values(column: sa.Column[Any]) -> list[str]:
    """Values this column cannot hold, typed as text into its field."""
    kind = column.type
    if isinstance(kind, sa.Boolean | sa.Enum | sa.DateTime):
        return []
    if isinstance(kind, sa.Numeric):
        return ["1e30", "9" * 40, f"0.{'0' * (kind.scale or 0)}1", "NaN"]
    if isinstance(kind, sa.Integer):
        return [str(2**31), str(-(2**63) - 1), "1e3"]
    if isinstance(kind, sa.String):
        limit = kind.length or MAX_TEXT_LENGTH
        return ["a\x00b", "x" * (limit + 1)]
    return []


@pytest.mark.parametrize("view_class", EDIT_VIEWS, ids=lambda view_class: view_class.__name__)
async def test_a_value_no_column_can_hold_is_refused_on_its_field_and_never_quotes_the_database(backoffice, view_class):
    view = view_of(backoffice, view_class)
    role = editor_role(view.identity)
    (record_id, *_rest) = await record_ids(backoffice, view.model)
    url = f"/admin/{view.identity}/edit/{record_id}"
    before = await stored(backoffice, view.model, record_id)
    columns = sa.inspect(view.model).columns
    tried = 0
    opened = await open_form(backoffice, role, url)  # refused saves change nothing, so the form stays current
    for name in opened:
        column = columns.get(name)
        for bad in bad_values(column) if column is not None else []:
            response = await submit(backoffice, role, url, {**opened, name: bad})

            tried += 1
            shown = f"{url} {name}={bad[:20]!r}"
            assert response.status_code == 400, f"{shown}: {response.status_code}"
            assert not any(leak in response.text for leak in LEAKS), f"{shown}: the page quotes the database"
            if "\x00" in bad:  # refused at the edge, before any form sees it (app/web/middleware.py)
                assert "NUL" in response.text, f"{shown}: no reason given"
            else:
                assert 'class="invalid-feedback"' in response.text, f"{shown}: no field error shown"
    assert await stored(backoffice, view.model, record_id) == before
    assert tried or view.identity == "staff-user"  # staff accounts: name is the only free-text field


def unique_columns(model) -> set[str]:
    table = sa.inspect(model).local_table
    keys = {column.key for column in table.columns if column.unique}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and len(constraint.columns) == 1:
            keys |= {column.key for column in constraint.columns}
    return keys


def made_unique(value: str) -> str:
    return f"rt.{value}" if "@" in value else f"{value}-rt"


def field_names(html: str, kind: str = r"input|select|textarea") -> list[str]:
    names = re.findall(rf'<(?:{kind})\b[^>]*?\sname="([^"]+)"', html)
    return [name for name in dict.fromkeys(names) if name not in ("csrf_token", VERSION_FIELD, "save")]


@pytest.mark.parametrize("view_class", COPYABLE_VIEWS, ids=lambda view_class: view_class.__name__)
async def test_a_create_form_filled_like_an_existing_record_creates_the_same_record(backoffice, view_class):
    view = view_of(backoffice, view_class)
    role = editor_role(view.identity, "create")
    (original_id, *_rest) = await record_ids(backoffice, view.model)
    client = backoffice.as_role(role)
    create_page = await client.get(f"/admin/{view.identity}/create")
    if view.identity == "company-settings":
        assert create_page.status_code == 403  # one company at most, and the demo has it (check_can_create)
        return
    assert create_page.status_code == 200
    original = await stored(backoffice, view.model, original_id)
    edit_page = await client.get(f"/admin/{view.identity}/edit/{original_id}")
    edit_form, edit_fields = form_values(edit_page.text), field_names(edit_page.text)
    secret = [
        name
        for tag in re.findall(r"<input\b[^>]*>", edit_page.text)
        if 'type="password"' in tag
        for name in re.findall(r'\sname="([^"]+)"', tag)
    ]  # never shown, so not copied
    mapper = sa.inspect(view.model)
    unique = unique_columns(view.model)
    form, expected = {**form_values(create_page.text), "csrf_token": csrf_from(create_page.text)}, {}
    for name in field_names(create_page.text):
        relation = mapper.relationships.get(name)
        key = relation.local_remote_pairs[0][0].key if relation is not None else name
        if key in unique:
            form[name] = expected[key] = made_unique(str(original[key]))
            continue
        if name in edit_form:
            form[name] = edit_form[name]
        elif name in edit_fields:
            form.pop(name, None)  # an unchecked box, an empty choice: the browser sends nothing
        else:
            form[name] = str(original[key])  # only on the create form (a staff account's email)
        if name not in secret:
            expected[key] = original[key]
    assert unique & set(expected), f"{view.identity}: no unique field to find the new record by"
    (lookup,) = sorted(unique & set(expected))[:1]

    response = await client.post(
        f"/admin/{view.identity}/create", data={**form, "save": "Save"}, follow_redirects=False
    )

    assert response.status_code in (200, 302), f"{view.identity}: {response.status_code}\n{response.text[-3000:]}"
    async with backoffice.sessions() as session:
        new_id = await session.scalar(sa.select(view.model.id).where(getattr(view.model, lookup) == expected[lookup]))
    assert new_id is not None, f"{view.identity}: nothing was created"
    created = await stored(backoffice, view.model, new_id)
    assert {key: created[key] for key in expected} == expected


@pytest.mark.parametrize("view_class", CREATE_VIEWS, ids=lambda view_class: view_class.__name__)
async def test_an_untouched_create_form_is_refused_on_its_fields_not_with_a_server_error(backoffice, view_class):
    view = view_of(backoffice, view_class)
    role = editor_role(view.identity, "create")
    client = backoffice.as_role(role)
    page = await client.get(f"/admin/{view.identity}/create")
    if page.status_code == 403:
        return  # the company singleton exists
    count = len(await record_ids(backoffice, view.model))

    form = {**form_values(page.text), "csrf_token": csrf_from(page.text)}
    response = await client.post(f"/admin/{view.identity}/create", data=form, follow_redirects=False)

    assert response.status_code == 400, f"{view.identity}: {response.status_code}"
    assert 'class="invalid-feedback' in response.text, response.text[response.text.find("<form") :][:3000]
    assert not any(leak in response.text for leak in LEAKS)
    assert len(await record_ids(backoffice, view.model)) == count
