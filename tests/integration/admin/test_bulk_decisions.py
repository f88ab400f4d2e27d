"""Deciding on several lines at once: each line's transition is checked, lines the decision does not apply to are
skipped with their reason, and a refused decision changes nothing. The board offers the decisions per queue and
filters by provider; the top bar names the role; invoices and refunds name their order."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import unquote

from app.accounts.models import Role
from app.fulfillment.queues import fulfillment_queues
from app.orders.models import OrderLine
from app.orders.states import LineStatus, OrderStatus
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import (
    action_error,
    create_staff,
    login,
    login_as,
    order_events,
    order_with_line_at,
    reload_line,
    reload_order,
    staff_audit_rows,
    toasts,
)
from tests.integration.invoicing.helpers import invoices_of, pay

D = LineStatus


async def decide(web, staff, slug: str, lines, **fields: str):
    pks = ",".join(str(line.id) for line in lines)
    return await web.post(
        f"/admin/order-line/action/{slug}?pks={pks}&next=/admin/fulfillment",
        data={**fields, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


async def statuses(session, lines) -> list[LineStatus]:
    return [(await reload_line(session, line.id)).fulfillment_status for line in lines]


class TestMixedSelection:
    async def test_resume_takes_the_held_lines_and_skips_the_others_with_their_state(self, web, session):
        first_order, first = await order_with_line_at(session, D.ON_HOLD)
        second_order, second = await order_with_line_at(session, D.ON_HOLD)
        done_order, done = await order_with_line_at(session, D.DISPATCHING, D.DISPATCHED, D.COMPLETED)
        staff = await login_as(session, web, Role.STAFF)

        response = await decide(web, staff, "resume-line", [done, second, first])

        assert response.status_code == 303, action_error(response.text)
        assert await statuses(session, [first, second, done]) == [D.QUEUED, D.QUEUED, D.COMPLETED]
        page = await web.get(response.headers["location"])
        assert toasts(page.text) == [
            f"Resumed: {first_order.number}/1, {second_order.number}/1 "
            f"{done_order.number}/1 is skipped: it is completed"
        ]
        audited = await staff_audit_rows(session)
        assert sorted(int(row.entity_id) for row in audited if row.action == "resume-line") == [first.id, second.id]

    async def test_the_confirmation_page_lists_the_skipped_lines_and_why(self, web, session):
        _held_order, held = await order_with_line_at(session, D.ON_HOLD)
        queued_order, queued = await order_with_line_at(session)
        await login_as(session, web, Role.STAFF)

        page = unescape((await web.get(f"/admin/order-line/action/resume-line?pks={held.id},{queued.id}")).text)

        assert f"{queued_order.number}/1 is skipped: it is queued" in page

    async def test_cancel_ends_held_and_failed_lines_and_closes_their_orders(self, web, session):
        held_order, held = await order_with_line_at(session, D.ON_HOLD)
        failed_order, failed = await order_with_line_at(session, D.DISPATCHING, D.FAILED)
        queued_order, queued = await order_with_line_at(session)
        staff = await login_as(session, web, Role.STAFF)

        response = await decide(web, staff, "cancel-line", [held, failed, queued], reason="client withdrew")

        assert response.status_code == 303, action_error(response.text)
        assert await statuses(session, [held, failed, queued]) == [D.CANCELED, D.CANCELED, D.QUEUED]
        assert (await reload_order(session, held_order.id)).status == OrderStatus.CANCELED
        assert (await reload_order(session, failed_order.id)).status == OrderStatus.CANCELED
        assert (await reload_order(session, queued_order.id)).status == OrderStatus.PAID
        notes = [event.note for event in await order_events(session, held_order.id)]
        assert "client withdrew" in notes

    async def test_hold_takes_only_the_queued_lines(self, web, session):
        _order, queued = await order_with_line_at(session)
        _failed_order, failed = await order_with_line_at(session, D.DISPATCHING, D.FAILED)
        staff = await login_as(session, web, Role.STAFF)

        response = await decide(web, staff, "hold-line", [queued, failed], reason="client asked to wait")

        assert response.status_code == 303, action_error(response.text)
        assert await statuses(session, [queued, failed]) == [D.ON_HOLD, D.FAILED]


class TestRefusals:
    async def test_a_selection_the_decision_applies_to_nowhere_is_refused_and_changes_nothing(self, web, session):
        _order, queued = await order_with_line_at(session)
        _done_order, done = await order_with_line_at(session, D.DISPATCHING, D.DISPATCHED, D.COMPLETED)
        staff = await login_as(session, web, Role.STAFF)

        response = await decide(web, staff, "retry-dispatch", [queued, done])

        assert response.status_code == 409
        assert "only failed lines are retried" in unescape(action_error(response.text) or "")
        assert await statuses(session, [queued, done]) == [D.QUEUED, D.COMPLETED]
        assert await staff_audit_rows(session) == []

    async def test_a_cancel_without_a_reason_changes_no_line(self, web, session):
        _order, held = await order_with_line_at(session, D.ON_HOLD)
        _failed_order, failed = await order_with_line_at(session, D.DISPATCHING, D.FAILED)
        staff = await login_as(session, web, Role.STAFF)

        response = await decide(web, staff, "cancel-line", [held, failed], reason="  ")

        assert response.status_code == 400
        assert await statuses(session, [held, failed]) == [D.ON_HOLD, D.FAILED]
        assert await staff_audit_rows(session) == []

    async def test_finance_may_not_decide_on_lines(self, web, session):
        _order, held = await order_with_line_at(session, D.ON_HOLD)
        _failed_order, failed = await order_with_line_at(session, D.DISPATCHING, D.FAILED)
        finance = await login_as(session, web, Role.FINANCE)

        for slug in ("resume-line", "retry-dispatch", "cancel-line"):
            response = await decide(web, finance, slug, [held, failed], reason="not mine")
            assert response.status_code == 403, slug

        assert await statuses(session, [held, failed]) == [D.ON_HOLD, D.FAILED]
        assert await staff_audit_rows(session) == []


async def line_at_provider(session, provider, *path: LineStatus):
    upstream = await factories.provider_service(session, provider)
    return await order_with_line_at(session, *path, upstream=upstream)


class TestBoard:
    async def test_each_waiting_queue_offers_its_decisions_on_ticked_lines(self, web, session):
        _order, held = await order_with_line_at(session, D.ON_HOLD)
        _failed_order, failed = await order_with_line_at(session, D.DISPATCHING, D.FAILED)
        await login_as(session, web, Role.STAFF)

        page = (await web.get("/admin/fulfillment")).text

        offered = re.findall(r'data-testid="bulk-([a-z_]+)-([a-z-]+)"', page)
        assert ("on_hold", "resume-line") in offered and ("on_hold", "cancel-line") in offered
        assert ("failed", "retry-dispatch") in offered and ("failed", "cancel-line") in offered
        assert not [queue for queue, _slug in offered if queue == "needs_review"]
        assert f'data-testid="pick-{held.id}"' in page and f'data-testid="pick-{failed.id}"' in page

    async def test_the_provider_filter_shows_only_that_providers_lines_and_counts(self, web, session):
        first = await factories.provider(session, name="Alpha Panel")
        second = await factories.provider(session, name="Beta Panel")
        first_order, _line = await line_at_provider(session, first, D.ON_HOLD)
        second_order, _other = await line_at_provider(session, second, D.ON_HOLD)
        await login_as(session, web, Role.STAFF)

        everything = (await web.get("/admin/fulfillment")).text
        filtered = (await web.get(f"/admin/fulfillment?provider={first.id}")).text
        refreshed = (await web.get(f"/admin/fulfillment?provider={first.id}&partial=1")).text

        assert first_order.number in everything and second_order.number in everything
        assert re.search(r'data-testid="count-on_hold">2<', everything)
        for html in (filtered, refreshed):
            assert first_order.number in html and second_order.number not in html
            assert re.search(r'data-testid="count-on_hold">1<', html)
        assert f'data-testid="board-provider-{second.id}"' in filtered
        comes_back_to = {unquote(unescape(target)) for target in re.findall(r'[?&]next=([^"&]+)', filtered)}
        assert comes_back_to == {f"/admin/fulfillment?provider={first.id}"}

    async def test_the_lines_list_filters_by_provider(self, web, session):
        first = await factories.provider(session)
        second = await factories.provider(session)
        first_order, _line = await line_at_provider(session, first, D.ON_HOLD)
        second_order, _other = await line_at_provider(session, second, D.ON_HOLD)
        await login_as(session, web, Role.STAFF)

        page = (await web.get(f"/admin/order-line/list?provider={second.id}")).text

        assert second_order.number in page and first_order.number not in page

    async def test_a_stuck_queue_is_as_old_as_its_oldest_card(self, session):
        provider = await factories.provider(session)
        _order, line = await line_at_provider(session, provider, D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS)
        moved = await session.get(OrderLine, line.id)
        now = moved.status_changed_at + timedelta(days=3)
        moved.last_progress_at = moved.status_changed_at + timedelta(days=1)  # progress after its last change
        await session.commit()

        queues = await fulfillment_queues(session, stuck_after=timedelta(hours=24), now=now)

        (stuck,) = [queue for queue in queues if queue.key == "stuck"]
        assert stuck.count == 1
        assert stuck.oldest == stuck.lines[0].last_movement_at == moved.last_progress_at


class TestNames:
    async def test_the_top_bar_names_the_role_in_the_staff_members_language(self, web, session):
        german = await create_staff(session, Role.ADMIN, locale="de")
        await login(web, german.email)

        page = (await web.get("/admin/order/list")).text

        assert re.search(r'data-testid="signed-in-role">Rolle: Administrator<', page)

    async def test_refunds_name_their_order_and_line_and_link_to_them(self, web, session):
        refunded = [await order_with_line_at(session, D.DISPATCHING, D.FAILED) for _ in range(2)]
        for order, line in refunded:
            await factories.succeeded_refund(session, order, line, Decimal("1.00"))
        await session.commit()
        await login_as(session, web, Role.FINANCE)

        listed = await web.get("/admin/refund/list")

        assert listed.status_code == 200
        for order, line in refunded:  # each refund its own order, however many are listed
            assert f'href="/admin/order/details/{order.id}">{order.number}</a>' in listed.text
            assert f'href="/admin/order-line/details/{line.id}">{order.number}/1</a>' in listed.text

    async def test_invoices_name_their_order_and_link_to_it(self, web, session):
        await factories.company_settings(session)
        order = (await factories.place_order(session)).order
        await pay(UnitOfWork(session), order)
        await session.commit()
        (invoice,) = await invoices_of(session, order.id)
        await login_as(session, web, Role.FINANCE)

        listed = (await web.get("/admin/invoice/list")).text
        details = (await web.get(f"/admin/invoice/details/{invoice.id}")).text

        for page in (listed, details):
            assert f'href="/admin/order/details/{order.id}">{order.number}</a>' in page
