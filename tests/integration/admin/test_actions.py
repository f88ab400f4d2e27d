"""Business actions over HTTP: each goes through the domain service, writes order events and one audit row."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role
from app.actors import ActorKind
from app.fulfillment.models import RefillRequest
from app.orders.models import EventKind
from app.orders.states import LineStatus, OrderStatus
from tests import factories
from tests.integration.admin.helpers import (
    ADMIN,
    action_error,
    login_as,
    order_events,
    order_with_line_at,
    reload_line,
    reload_order,
    staff_audit_rows,
    toasts,
)

D = LineStatus


async def act(web, staff, identity: str, slug: str, pks, **fields: str):
    pk_list = ",".join(str(pk) for pk in (pks if isinstance(pks, list | tuple) else [pks]))
    return await web.post(
        f"/admin/{identity}/action/{slug}?pks={pk_list}",
        data={**fields, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


def assert_done(response, identity: str) -> None:
    assert response.status_code == 303, action_error(response.text) or response.text[:500]
    assert response.headers["location"] == f"{ADMIN}/{identity}/list"


async def test_the_confirmation_page_lists_the_records_and_asks_for_the_fields(web, session):
    order, line = await order_with_line_at(session)
    await login_as(session, web, Role.STAFF)

    page = await web.get(f"/admin/order-line/action/hold-line?pks={line.id}")

    assert page.status_code == 200
    assert order.number in page.text
    assert 'name="reason"' in page.text
    assert 'data-testid="confirm-action"' in page.text
    assert (await reload_line(session, line.id)).fulfillment_status == D.QUEUED


async def test_hold_then_resume_a_queued_line_records_events_and_audit_rows(web, session):
    order, line = await order_with_line_at(session)
    events_before = len(await order_events(session, order.id))
    staff = await login_as(session, web, Role.STAFF)

    held = await act(web, staff, "order-line", "hold-line", line.id, reason="customer asked to wait")
    assert_done(held, "order-line")
    assert (await reload_line(session, line.id)).fulfillment_status == D.ON_HOLD
    shown = await web.get(held.headers["location"])
    assert any(order.number in toast for toast in toasts(shown.text))

    resumed = await act(web, staff, "order-line", "resume-line", line.id)
    assert_done(resumed, "order-line")
    assert (await reload_line(session, line.id)).fulfillment_status == D.QUEUED

    new_events = (await order_events(session, order.id))[events_before:]
    assert [(e.kind, e.line_id, e.from_state, e.to_state) for e in new_events] == [
        (EventKind.LINE_STATUS, line.id, "queued", "on_hold"),
        (EventKind.LINE_STATUS, line.id, "on_hold", "queued"),
    ]
    assert all(e.actor_label == staff.email and e.actor_kind == ActorKind.STAFF for e in new_events)
    assert new_events[0].note == "customer asked to wait"
    hold_row, resume_row = await staff_audit_rows(session)
    assert (hold_row.action, hold_row.entity_type, hold_row.entity_id) == ("hold-line", "order_line", str(line.id))
    assert hold_row.diff["fulfillment_status"] == {"before": "queued", "after": "on_hold"}
    assert hold_row.diff["reason"] == "customer asked to wait"
    assert (resume_row.action, resume_row.actor_id, resume_row.actor_label) == (
        "resume-line",
        staff.user.id,
        staff.email,
    )


async def test_cancel_a_paid_order_cancels_its_queued_lines_and_the_order(web, session):
    order = await factories.paid_order(session)
    await session.commit()
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order", "cancel-order", order.id, reason="customer withdrew")

    assert_done(response, "order")
    canceled = await reload_order(session, order.id)
    assert canceled.status == OrderStatus.CANCELED
    assert [line.fulfillment_status for line in canceled.lines] == [D.CANCELED]
    events = await order_events(session, order.id)
    line_event = next(e for e in events if e.kind == EventKind.LINE_STATUS and e.to_state == "canceled")
    order_event = next(e for e in events if e.kind == EventKind.STATUS and e.to_state == "canceled")
    assert (line_event.note, line_event.actor_label) == ("customer withdrew", staff.email)
    assert "customer withdrew" in order_event.note
    assert order_event.actor_label == staff.email
    rows = await staff_audit_rows(session)
    assert sorted((row.action, row.entity_type, row.entity_id) for row in rows) == [
        ("cancel-order", "order", str(order.id)),
        ("cancel-order", "order_line", str(order.lines[0].id)),
    ]


async def test_add_note_writes_a_note_event(web, session):
    order = await factories.paid_order(session)
    await session.commit()
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order", "add-note", order.id, note="  Called the customer.  ")

    assert_done(response, "order")
    note = (await order_events(session, order.id))[-1]
    assert (note.kind, note.note, note.actor_label) == (EventKind.NOTE, "Called the customer.", staff.email)
    assert (await reload_order(session, order.id)).status == OrderStatus.PAID
    assert [row.action for row in await staff_audit_rows(session)] == ["add-note"]


async def test_resolve_an_unknown_dispatch_found_at_the_provider(web, session):
    order, line = await order_with_line_at(session, D.DISPATCHING, D.DISPATCH_UNKNOWN)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(
        web, staff, "order-line", "resolve-dispatch", line.id, outcome="found", upstream_order_id="UP-4711"
    )

    assert_done(response, "order-line")
    resolved = await reload_line(session, line.id)
    assert (resolved.fulfillment_status, resolved.provider_order_id) == (D.DISPATCHED, "UP-4711")
    assert (await reload_order(session, order.id)).status == OrderStatus.IN_FULFILLMENT
    event = next(e for e in await order_events(session, order.id) if e.to_state == "dispatched")
    assert (event.actor_label, event.data["provider_order_id"]) == (staff.email, "UP-4711")
    assert event.note == "found at the provider as order UP-4711"
    rows = await staff_audit_rows(session)
    assert {(row.action, row.entity_type) for row in rows} == {
        ("resolve-dispatch", "order_line"),
        ("resolve-dispatch", "order"),  # the order went into fulfillment
    }


async def test_resolve_an_unknown_dispatch_not_placed_queues_the_line_again(web, session):
    order, line = await order_with_line_at(session, D.DISPATCHING, D.DISPATCH_UNKNOWN)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "resolve-dispatch", line.id, outcome="not_placed")

    assert_done(response, "order-line")
    resolved = await reload_line(session, line.id)
    assert (resolved.fulfillment_status, resolved.provider_order_id) == (D.QUEUED, None)
    last = (await order_events(session, order.id))[-1]
    assert (last.from_state, last.to_state, last.actor_label) == ("dispatch_unknown", "queued", staff.email)


async def test_resolve_found_without_the_provider_id_asks_for_it_and_changes_nothing(web, session):
    order, line = await order_with_line_at(session, D.DISPATCHING, D.DISPATCH_UNKNOWN)
    events_before = len(await order_events(session, order.id))
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "resolve-dispatch", line.id, outcome="found")

    assert response.status_code == 400
    error = action_error(response.text) or ""
    assert "Not saved" in error and "upstream_order_id" not in error  # the field's label, never its code name
    assert "enter the provider&#39;s order id" in response.text  # on the field itself
    assert (await reload_line(session, line.id)).fulfillment_status == D.DISPATCH_UNKNOWN
    assert len(await order_events(session, order.id)) == events_before
    assert await staff_audit_rows(session) == []


async def test_retry_a_failed_line_queues_it_again(web, session):
    order, line = await order_with_line_at(session, D.DISPATCHING, D.FAILED)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "retry-dispatch", line.id, note="provider fixed the service id")

    assert_done(response, "order-line")
    assert (await reload_line(session, line.id)).fulfillment_status == D.QUEUED
    last = (await order_events(session, order.id))[-1]
    assert (last.from_state, last.to_state, last.note, last.actor_label) == (
        "failed",
        "queued",
        "provider fixed the service id",
        staff.email,
    )
    assert [row.action for row in await staff_audit_rows(session)] == ["retry-dispatch"]


async def test_request_refill_on_a_completed_line_records_a_refill_request(web, session):
    upstream = await factories.provider_service(session, await factories.provider(session))
    order, line = await order_with_line_at(
        session, D.DISPATCHING, D.DISPATCHED, D.COMPLETED, provider_order_id="9001", upstream=upstream, refill_days=30
    )
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "request-refill", line.id)

    assert_done(response, "order-line")
    (refill,) = (await session.scalars(sa.select(RefillRequest))).all()
    assert (refill.order_line_id, refill.provider_id, refill.requested_by) == (
        line.id,
        upstream.provider_id,
        staff.email,
    )
    last = (await order_events(session, order.id))[-1]
    assert (last.kind, last.note, last.data) == (
        EventKind.PROVIDER,
        "refill requested",
        {"refill_request_id": refill.id},
    )
    assert [row.action for row in await staff_audit_rows(session)] == ["request-refill"]


async def test_request_cancel_at_provider_records_it_and_defers_the_job_that_sends_it(web, session):
    upstream = await factories.provider_service(session, await factories.provider(session), cancel=True)
    order, line = await order_with_line_at(
        session, D.DISPATCHING, D.DISPATCHED, provider_order_id="9002", upstream=upstream
    )
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "request-cancel", line.id)

    assert_done(response, "order-line")
    last = (await order_events(session, order.id))[-1]
    assert (last.kind, last.note) == (EventKind.PROVIDER, "cancel requested at the provider")
    jobs = await session.execute(
        sa.text("SELECT args FROM procrastinate_jobs WHERE task_name = 'fulfillment.send_cancel'")
    )
    assert jobs.scalars().all() == [{"line_id": line.id}]
    assert [row.action for row in await staff_audit_rows(session)] == ["request-cancel"]


async def test_request_cancel_where_the_provider_does_not_allow_it_shows_the_error(web, session):
    upstream = await factories.provider_service(session, await factories.provider(session), cancel=False)
    _order, line = await order_with_line_at(
        session, D.DISPATCHING, D.DISPATCHED, provider_order_id="9003", upstream=upstream
    )
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "request-cancel", line.id)

    assert "does not allow cancels" in (action_error(response.text) or "")
    assert await staff_audit_rows(session) == []


async def test_cancelling_a_completed_order_shows_the_error_and_changes_nothing(web, session):
    order, _line = await order_with_line_at(session, D.DISPATCHING, D.DISPATCHED, D.COMPLETED)
    assert order.status == OrderStatus.COMPLETED
    events_before = len(await order_events(session, order.id))
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order", "cancel-order", order.id, reason="too late")

    assert response.status_code == 409
    error = action_error(response.text)
    assert error is not None
    assert order.number in error
    assert "completed" in error and "canceled" in error
    unchanged = await reload_order(session, order.id)
    assert unchanged.status == OrderStatus.COMPLETED
    assert [line.fulfillment_status for line in unchanged.lines] == [D.COMPLETED]
    assert len(await order_events(session, order.id)) == events_before
    assert await staff_audit_rows(session) == []


async def test_a_failing_record_rolls_back_the_whole_batch(web, session):
    paid = await factories.paid_order(session)
    completed, _line = await order_with_line_at(session, D.DISPATCHING, D.DISPATCHED, D.COMPLETED)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order", "cancel-order", [paid.id, completed.id], reason="cleanup")

    assert response.status_code == 409
    assert (await reload_order(session, paid.id)).status == OrderStatus.PAID
    assert await staff_audit_rows(session) == []


async def test_a_missing_required_field_is_asked_for_and_changes_nothing(web, session):
    _order, line = await order_with_line_at(session)
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "hold-line", line.id, reason="   ")

    assert response.status_code == 400
    assert action_error(response.text)
    assert (await reload_line(session, line.id)).fulfillment_status == D.QUEUED
    assert await staff_audit_rows(session) == []


async def test_a_role_without_the_grant_cannot_post_the_action(web, session):
    _order, line = await order_with_line_at(session)
    finance = await login_as(session, web, Role.FINANCE)

    response = await act(web, finance, "order-line", "hold-line", line.id, reason="not mine to decide")

    assert response.status_code == 403
    assert (await reload_line(session, line.id)).fulfillment_status == D.QUEUED
    assert await staff_audit_rows(session) == []


async def test_an_action_on_records_that_do_not_exist_is_refused_and_not_audited(web, session):
    staff = await login_as(session, web, Role.STAFF)

    response = await act(web, staff, "order-line", "hold-line", 999999, reason="ghost")

    assert response.status_code in (400, 404)
    assert await staff_audit_rows(session) == []
