"""The back office's daily screens: totals under filtered lists, payments found by order number, the customer
list's figures, the order page's status text for the client, the sidebar per role."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from html import unescape
from types import SimpleNamespace

import sqlalchemy as sa
from sqladmin._menu import CategoryMenu, Menu, ViewMenu

from admin.menu import hide_empty_groups
from app import i18n
from app.accounts.models import Role
from app.customers.models import Customer
from app.orders.models import Order
from app.orders.services import OrderService
from app.orders.states import PaymentStatus
from app.payments.models import Payment
from tests.integration.admin.helpers import csrf_from, order_numbers

TOTALS = re.compile(r'data-testid="list-totals">(.*?)</div>', re.S)
FIGURE = re.compile(r"<span>([^<:]+): <strong[^>]*>([^<]+)</strong></span>")
CLIENT_STATUS = re.compile(r'<textarea id="client-status"[^>]*>(.*?)</textarea>', re.S)
RESULT = re.compile(r'data-testid="action-result"><code[^>]*>([^<]*)</code>')


def money(amount: Decimal, currency: str = "EUR") -> str:
    return i18n.format_money(amount, currency, "en")


def totals_rows(html: str) -> list[dict[str, str]]:
    return [{label: unescape(value) for label, value in FIGURE.findall(row)} for row in TOTALS.findall(html)]


def row_of(html: str, text: str) -> str:
    rows = [row for row in html.split("<tr")[1:] if text in row]
    assert len(rows) == 1, f"{text} is in {len(rows)} rows"
    return unescape(rows[0])


async def page(backoffice, path: str, role: Role = Role.FINANCE, **params: str) -> str:
    response = await backoffice.as_role(role).get(path, params=params)
    assert response.status_code == 200, response.text[:500]
    return response.text


async def test_the_totals_under_a_filtered_order_list_are_the_hand_sums_per_currency(backoffice):
    async with backoffice.sessions() as session:
        orders = (
            await session.execute(
                sa.select(Order.currency, Order.net, Order.tax, Order.gross).where(
                    Order.payment_status == PaymentStatus.PAID
                )
            )
        ).all()
    assert orders
    expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for currency, *amounts in orders:
        sums = expected[currency]
        sums[0] += 1
        for index, amount in enumerate(amounts, start=1):
            sums[index] += amount

    html = await page(backoffice, "/admin/order/list", payment_status="paid")

    assert totals_rows(html) == [
        {"Orders": str(int(count)), "Net": money(net, c), "VAT": money(tax, c), "Gross": money(gross, c)}
        for c, (count, net, tax, gross) in sorted(expected.items())
    ]


async def test_an_unfiltered_list_has_no_totals_row(backoffice):
    assert totals_rows(await page(backoffice, "/admin/order/list")) == []


async def test_payments_are_found_by_their_orders_number_and_show_it_as_a_link(backoffice):
    async with backoffice.sessions() as session:
        order_id, number = (
            await session.execute(
                sa.select(Order.id, Order.number)
                .join(Payment, Payment.order_id == Order.id)
                .order_by(Order.id)
                .limit(1)
            )
        ).one()
        amounts = (await session.scalars(sa.select(Payment.amount).where(Payment.order_id == order_id))).all()

    html = await page(backoffice, "/admin/payment/list", search=number)

    assert order_numbers(html) == {number}
    assert f'<a href="/admin/order/details/{order_id}">{number}</a>' in html
    assert totals_rows(html) == [
        {"Payments": str(len(amounts)), "Amount": money(sum(amounts, Decimal(0))), "Refunded": money(Decimal(0))}
    ]


async def test_payments_filter_by_paid_date(backoffice):
    async with backoffice.sessions() as session:
        paid_days = (await session.scalars(sa.select(Payment.paid_at).where(Payment.paid_at.is_not(None)))).all()
    day = min(paid_days).astimezone(i18n.BERLIN).date()
    expected = sum(1 for moment in paid_days if moment.astimezone(i18n.BERLIN).date() == day)

    html = await page(backoffice, "/admin/payment/list", paid_at=f"{day.isoformat()}..{day.isoformat()}")

    assert [row["Payments"] for row in totals_rows(html)] == [str(expected)]


async def test_the_customer_list_shows_orders_paid_net_spend_and_the_last_order(backoffice):
    email = "office@bergblick-media.at"
    async with backoffice.sessions() as session:
        customer = (await session.scalars(sa.select(Customer).where(Customer.email == email))).one()
        orders = (await session.scalars(sa.select(Order).where(Order.customer_id == customer.id))).unique().all()
    assert len(orders) > 1
    spend = sum((o.net for o in orders if o.paid_at is not None), Decimal(0))
    last = max(o.created_at for o in orders)

    row = row_of(await page(backoffice, "/admin/customer/list", role=Role.STAFF, search=email), email)

    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert str(len(orders)) in cells, cells[5:]
    assert money(spend) in cells
    assert i18n.format_datetime(last, "en", "short") in row


async def client_status_of(backoffice, order_id: int) -> str:
    html = await page(backoffice, f"/admin/order/details/{order_id}", role=Role.STAFF)
    match = CLIENT_STATUS.search(html)
    assert match, "no status text on the order page"
    return unescape(match.group(1)).strip()


async def test_the_status_to_copy_is_in_the_clients_language_whatever_the_staff_members(backoffice):
    async with backoffice.sessions() as session:
        order = (await session.scalars(sa.select(Order).order_by(Order.id).limit(1))).unique().one()
        original = order.customer.locale
        for locale, opening in (("de", "Stand Ihrer Bestellung"), ("en", "Status of your order")):
            await session.execute(sa.update(Customer).where(Customer.id == order.customer_id).values(locale=locale))
            await session.commit()
            text = await client_status_of(backoffice, order.id)
            assert text.splitlines()[0] == f"{opening} {order.number}:"
            assert len(text.splitlines()) == 1 + len(order.lines)
        await session.execute(sa.update(Customer).where(Customer.id == order.customer_id).values(locale=original))
        await session.commit()


async def test_the_order_page_sums_up_delivered_of_ordered(backoffice):
    async with backoffice.sessions() as session:
        order = (await session.scalars(sa.select(Order).order_by(Order.id.desc()).limit(1))).unique().one()
        ordered = sum(line.quantity for line in order.lines)

    html = await page(backoffice, f"/admin/order/details/{order.id}", role=Role.STAFF)

    delivered = re.search(r'data-testid="delivered-of-ordered">([^<]*)<', html)
    assert delivered and delivered.group(1).endswith(f" of {i18n.format_number(ordered, 'en')}")
    assert "Id:" not in html  # SQLAdmin's record header is gone


async def test_a_new_tracking_link_opens_the_order_and_the_page_comes_back_to_it(backoffice):
    async with backoffice.sessions() as session:
        order_id = await session.scalar(sa.select(Order.id).order_by(Order.id).limit(1))
    staff = backoffice.as_role(Role.STAFF)
    confirm = await staff.get(f"/admin/order/action/renew-tracking-link?pks={order_id}")
    response = await staff.post(
        f"/admin/order/action/renew-tracking-link?pks={order_id}", data={"csrf_token": csrf_from(confirm.text)}
    )

    link = RESULT.search(response.text)
    assert link, response.text[:500]
    token = re.search(r"/track/([^?]+)\?", link.group(1))
    assert token
    async with backoffice.sessions() as session:
        found = await OrderService(session=session).find_by_tracking_token(token.group(1))
    assert found is not None and found.id == order_id


def menu_groups(html: str) -> dict[str, list[str]]:
    """The sidebar's groups and the pages listed in each."""
    groups = re.split(r'data-sqladmin-menu-category="', html)[1:]
    return {
        group.split('"', 1)[0]: re.findall(r'nav-link-title">([^<]+)<', group.split("</li>", 1)[0])[1:]
        for group in groups
    }


async def test_the_sidebar_shows_a_group_only_with_pages_the_role_may_open(backoffice):
    for role in Role:
        groups = menu_groups(await page(backoffice, "/admin/order/list", role=role))
        assert groups and all(groups.values()), f"{role}: {groups}"
    staff = menu_groups(await page(backoffice, "/admin/order/list", role=Role.STAFF))
    assert staff["Administration"] == ["Outbox"]


def test_a_group_whose_pages_are_all_out_of_reach_is_hidden():
    hidden = SimpleNamespace(is_visible=lambda request: True, is_accessible=lambda request: False)
    shown = SimpleNamespace(is_visible=lambda request: True, is_accessible=lambda request: True)
    menu = Menu()
    for name, views in (("Administration", [hidden]), ("Sales", [hidden, shown])):
        group = CategoryMenu(name)
        for view in views:
            group.add_child(ViewMenu(view, "page"))  # type: ignore[arg-type]
        menu.items.append(group)

    hide_empty_groups(SimpleNamespace(_menu=menu))  # type: ignore[arg-type]

    assert [group.is_visible(None) for group in menu.items] == [False, True]  # type: ignore[arg-type]


async def test_the_top_bar_shows_who_is_signed_in_and_their_role(backoffice):
    html = await page(backoffice, "/admin/order/list", role=Role.FINANCE)
    assert backoffice.users[Role.FINANCE].email in html
    assert re.search(r'data-testid="signed-in-role">Role: Finance<', html)


async def test_the_order_pages_actions_come_back_to_it_and_cancel_is_red(backoffice):
    async with backoffice.sessions() as session:
        order_id = await session.scalar(
            sa.select(Order.id).where(Order.payment_status == PaymentStatus.UNPAID).order_by(Order.id).limit(1)
        )
    html = await page(backoffice, f"/admin/order/details/{order_id}", role=Role.STAFF)

    actions = {
        slug: (href, css)
        for href, css, slug in re.findall(
            r'<a href="([^"]+)"\s+class="btn ([^"]+)" data-testid="record-action-([^"]+)"', html
        )
    }
    assert set(actions) >= {"add-note", "cancel-order"}
    assert unescape(actions["add-note"][0]).endswith(f"?pks={order_id}&next=/admin/order/details/{order_id}")
    assert actions["cancel-order"][1] == "btn-danger" and actions["add-note"][1] == "btn-secondary"
