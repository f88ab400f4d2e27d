"""Batch actions: one decision for all selected records, safe under concurrency, refusals in the staff language."""

from __future__ import annotations

import asyncio

import httpx

from app.accounts.models import Role
from app.asgi import create_app
from app.orders.states import LineStatus, OrderStatus
from tests import factories
from tests.integration.admin.helpers import (
    BASE,
    AsServerSeesIt,
    Staff,
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


async def act(web, staff: Staff, identity: str, slug: str, pks: str, **fields: str):
    return await web.post(
        f"/admin/{identity}/action/{slug}?pks={pks}",
        data={**fields, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


async def test_overlapping_batches_in_opposite_order_never_deadlock_and_each_is_all_or_nothing(settings, session):
    # The test client serialises requests; this one runs them really concurrently, in this event loop.
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=AsServerSeesIt(app))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as live:
            staff = await login_as(session, live, Role.STAFF)
            await overlapping_cancels(live, staff, session)


async def overlapping_cancels(web, staff: Staff, session) -> None:
    for _round in range(5):
        orders = [await factories.paid_order(session) for _ in range(4)]
        await session.commit()
        ids = [order.id for order in orders]
        forward = ",".join(map(str, ids))
        backward = ",".join(map(str, reversed(ids[1:])))  # overlaps on three orders

        first, second = await asyncio.gather(
            act(web, staff, "order", "cancel-order", forward, reason="duplicate orders"),
            act(web, staff, "order", "cancel-order", backward, reason="duplicate orders"),
        )

        # One batch cancels its orders; the other finds some of them canceled and refuses as a whole.
        assert sorted([first.status_code, second.status_code]) == [303, 409], (first.status_code, second.status_code)
        refused = first if first.status_code == 409 else second
        assert "canceled" in (action_error(refused.text) or "")
        applied = ids if first.status_code == 303 else ids[1:]
        for order in orders:
            expected = OrderStatus.CANCELED if order.id in applied else OrderStatus.PAID
            assert (await reload_order(session, order.id)).status == expected
        rows = [row for row in await staff_audit_rows(session) if row.entity_type == "order"]
        assert sorted(int(row.entity_id) for row in rows if int(row.entity_id) in ids) == sorted(applied)


async def test_a_repeated_id_in_the_selection_counts_once(web, session):
    order = await factories.paid_order(session)
    await session.commit()
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order", "cancel-order", f"{order.id},{order.id},{order.id}", reason="twice")

    assert response.status_code == 303
    assert (await reload_order(session, order.id)).status == OrderStatus.CANCELED
    shown = await web.get(response.headers["location"])
    assert any(toast.count(order.number) == 1 for toast in toasts(shown.text))


async def test_an_unknown_choice_is_refused_and_changes_nothing(web, session):
    order, line = await order_with_line_at(session, LineStatus.DISPATCHING, LineStatus.DISPATCH_UNKNOWN)
    events_before = len(await order_events(session, order.id))
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "resolve-dispatch", str(line.id), outcome="whatever")

    assert response.status_code == 400
    assert (await reload_line(session, line.id)).fulfillment_status == LineStatus.DISPATCH_UNKNOWN
    assert len(await order_events(session, order.id)) == events_before
    assert await staff_audit_rows(session) == []


async def test_a_german_staff_member_reads_the_refusal_in_german(web, session):
    order, _line = await order_with_line_at(
        session, LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.COMPLETED
    )
    user = await create_staff(session, Role.STAFF, locale="de")
    staff = Staff(user, await login(web, user.email))

    response = await act(web, staff, "order", "cancel-order", str(order.id), reason="zu spät")

    assert response.status_code == 409
    error = action_error(response.text) or ""
    assert f"Bestellung {order.number} kann nicht von „abgeschlossen“ zu „storniert“ wechseln" in error
