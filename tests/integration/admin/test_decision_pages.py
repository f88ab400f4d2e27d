"""Deciding about a line: why it waits (shown where the decision is made), retrying with another provider's
service, resolving an unknown dispatch with nothing pre-selected, asking the provider about a line now."""

from __future__ import annotations

from html import unescape

import sqlalchemy as sa

from app.accounts.models import Role
from app.fulfillment.commands import DispatchResult, record_dispatch
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import (
    action_error,
    login_as,
    order_events,
    order_with_line_at,
    reload_line,
    staff_audit_rows,
)

D = LineStatus
REFUSAL = '{"error": "Link is invalid: the post does not exist"}'


async def refused_line(session, **service_values):
    order, line = await order_with_line_at(session, D.DISPATCHING, **service_values)
    await record_dispatch(
        UnitOfWork(session),
        line_id=line.id,
        actor=factories.TEST_ACTOR,
        result=DispatchResult.REFUSED,
        note="provider refused: invalid link",
        raw=REFUSAL,
    )
    await session.commit()
    return order, line


async def test_the_retry_page_shows_why_the_line_failed_and_the_providers_answer(web, session):
    order, line = await refused_line(session)
    await login_as(session, web, Role.STAFF)

    page = unescape((await web.get(f"/admin/order-line/action/retry-dispatch?pks={line.id}")).text)

    assert f"{order.number}/1: provider refused: invalid link — test" in page
    assert REFUSAL in page


async def test_the_board_card_shows_the_hold_reason_and_who_held_the_line(web, session):
    order, line = await order_with_line_at(session)
    staff = await login_as(session, web, Role.STAFF)
    await web.post(
        f"/admin/order-line/action/hold-line?pks={line.id}",
        data={"reason": "client is on holiday", "csrf_token": staff.csrf},
    )

    board = unescape((await web.get("/admin/fulfillment")).text)
    card = board.split(f"{order.number}/1", 1)[1].split('class="list-group-item', 1)[0]

    assert "client is on holiday" in card
    assert staff.email in card


async def test_the_resolve_page_shows_when_the_request_was_sent_and_preselects_no_finding(web, session):
    _order, line = await order_with_line_at(session, D.DISPATCHING)
    await record_dispatch(
        UnitOfWork(session),
        line_id=line.id,
        actor=factories.TEST_ACTOR,
        result=DispatchResult.UNKNOWN,
        note="timeout after sending",
        raw="<html>502 Bad Gateway</html>",
    )
    await session.commit()
    staff = await login_as(session, web, Role.STAFF)

    page = unescape((await web.get(f"/admin/order-line/action/resolve-dispatch?pks={line.id}")).text)
    unchosen = await web.post(
        f"/admin/order-line/action/resolve-dispatch?pks={line.id}", data={"outcome": "", "csrf_token": staff.csrf}
    )

    assert "request sent" in page
    assert "<html>502 Bad Gateway</html>" in page
    assert '<option value="" selected>Choose …</option>' in page
    assert 'value="found" selected' not in page and 'value="not_placed" selected' not in page
    assert unchosen.status_code == 400
    assert (await reload_line(session, line.id)).fulfillment_status == D.DISPATCH_UNKNOWN


async def test_retry_with_another_providers_service_sends_the_line_there_and_audits_the_switch(web, session):
    first = await factories.provider(session, name="Alpha Panel")
    second = await factories.provider(session, name="Beta Panel")
    current = await factories.provider_service(session, first, type="Default")
    other = await factories.provider_service(session, second, type="Default", name="Beta followers")
    wrong_type = await factories.provider_service(session, second, type="Custom Comments")
    _order, line = await refused_line(session, upstream=current)
    staff = await login_as(session, web, Role.STAFF)

    form = unescape((await web.get(f"/admin/order-line/action/retry-dispatch?pks={line.id}")).text)
    refused = await web.post(
        f"/admin/order-line/action/retry-dispatch?pks={line.id}",
        data={"provider_service": str(wrong_type.id), "csrf_token": staff.csrf},
    )
    assert refused.status_code == 400
    assert (await reload_line(session, line.id)).fulfillment_status == D.FAILED
    done = await web.post(
        f"/admin/order-line/action/retry-dispatch?pks={line.id}",
        data={"provider_service": str(other.id), "csrf_token": staff.csrf},
        follow_redirects=False,
    )

    assert f'value="{other.id}"' in form and "Beta followers" in form
    assert f'value="{wrong_type.id}"' not in form
    assert done.status_code == 303, action_error(done.text)
    retried = await reload_line(session, line.id)
    assert (retried.fulfillment_status, retried.provider_id, retried.provider_service_id) == (
        D.QUEUED,
        second.id,
        other.id,
    )
    (audit,) = [row for row in await staff_audit_rows(session) if row.entity_type == "order_line"]
    assert audit.action == "retry-dispatch"
    assert audit.diff["provider_service_id"] == {"before": current.id, "after": other.id}
    assert audit.diff["provider_id"] == {"before": first.id, "after": second.id}


async def test_check_status_now_makes_the_line_due_and_defers_a_poll(web, session):
    provider = await factories.provider(session)
    upstream = await factories.provider_service(session, provider)
    order, line = await order_with_line_at(
        session, D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, provider_order_id="UP-77", upstream=upstream
    )
    await session.execute(
        sa.update(OrderLine).where(OrderLine.id == line.id).values(next_poll_at=sa.func.now() + sa.text("'1 hour'"))
    )
    await session.commit()
    staff = await login_as(session, web, Role.STAFF)

    done = await web.post(
        f"/admin/order-line/action/check-status?pks={line.id}",
        data={"csrf_token": staff.csrf},
        follow_redirects=False,
    )

    assert done.status_code == 303, action_error(done.text)
    due = await session.scalar(
        sa.select(OrderLine.next_poll_at <= sa.func.now())
        .where(OrderLine.id == line.id)
        .execution_options(populate_existing=True)
    )
    jobs = await session.scalar(
        sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'fulfillment.poll_providers'")
    )
    assert due is True
    assert jobs == 1
    assert (await order_events(session, order.id))[-1].note == "status check requested"
