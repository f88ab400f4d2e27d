"""Only the decisions a line's state allows are offered, and every other one is refused by its command.

The states are walked from the state table (app/orders/states.py): every line state is reached along the
transition map, so a new state is covered without a new test.
"""

from __future__ import annotations

import re
from collections import deque

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.fulfillment.decisions import ACTION_STATES, LineAction, actions_for
from app.orders.models import OrderLine
from app.orders.states import LINE_STATES, LINE_TRANSITIONS, LineStatus
from tests import factories
from tests.integration.admin.helpers import login_as, order_with_line_at, reload_line

D = LineStatus
OFFERED = re.compile(r'data-testid="line-action-([a-z-]+?)(?:-unavailable)?"')
FIELDS = {LineAction.HOLD: {"reason": "test"}, LineAction.RESOLVE: {"outcome": "not_placed"}}


def path_to(target: LineStatus) -> list[LineStatus]:
    """The shortest walk along the transition map from a paid line (queued) to ``target``."""
    paths = {D.QUEUED: []}
    todo = deque([D.QUEUED])
    while todo:
        state = todo.popleft()
        for following in sorted(LINE_TRANSITIONS[state]):
            if following not in paths:
                paths[following] = [*paths[state], following]
                todo.append(following)
    return paths[target]


async def line_in(session, state: LineStatus):
    """A line in ``state`` at a provider whose service allows cancels, of a catalog service with refills."""
    provider = await factories.provider(session)
    upstream = await factories.provider_service(session, provider, cancel=True)
    if state == D.AWAITING_PAYMENT:
        placed = await factories.place_order(
            session, items=[(await factories.service(session), 1000, "https://www.instagram.com/p/x/")]
        )
        await session.commit()
        return placed.order, placed.order.lines[0]
    return await order_with_line_at(
        session, *path_to(state), provider_order_id="UP-1", upstream=upstream, refill_days=30
    )


@pytest.mark.parametrize("state", list(LINE_STATES), ids=str)
class TestEachLineState:
    async def test_the_order_page_offers_exactly_the_actions_of_the_state(self, web, session, state):
        order, line = await line_in(session, state)
        await login_as(session, web, Role.ADMIN)

        page = await web.get(f"/admin/order/details/{order.id}")

        assert page.status_code == 200
        row = page.text.split(f'data-line-id="{line.id}"', 1)[1].split("</tr>", 1)[0]
        offered = [slug for slug in OFFERED.findall(row) if not slug.startswith("refund")]
        assert offered == [action.value for action in actions_for(state)]

    async def test_every_action_not_offered_is_refused_and_changes_nothing(self, web, session, state):
        _order, line = await line_in(session, state)
        staff = await login_as(session, web, Role.ADMIN)
        refused = [action for action in LineAction if state not in ACTION_STATES[action]]

        for action in refused:
            response = await web.post(
                f"/admin/order-line/action/{action.value}?pks={line.id}",
                data={**FIELDS.get(action, {}), "csrf_token": staff.csrf},
                follow_redirects=False,
            )
            assert response.status_code in (400, 409), action
            assert (await reload_line(session, line.id)).fulfillment_status == state


class TestUnavailableActions:
    async def test_cancel_at_a_provider_that_does_not_allow_it_is_shown_disabled_with_the_reason(self, web, session):
        provider = await factories.provider(session)
        upstream = await factories.provider_service(session, provider, cancel=False)
        order, _line = await order_with_line_at(
            session, D.DISPATCHING, D.DISPATCHED, provider_order_id="UP-9", upstream=upstream
        )
        await login_as(session, web, Role.STAFF)

        page = (await web.get(f"/admin/order/details/{order.id}")).text

        assert (
            '<span class="d-inline-block" title="the provider&#39;s service does not allow cancels" '
            'data-testid="line-action-request-cancel-unavailable"><button type="button" '
            'class="btn btn-sm btn-outline-secondary" disabled>'
        ) in page
        assert 'data-testid="line-action-check-status"' in page


class TestOrderCancel:
    async def test_a_final_order_offers_no_cancel(self, web, session):
        order, _line = await order_with_line_at(session, D.CANCELED)
        await login_as(session, web, Role.ADMIN)

        page = (await web.get(f"/admin/order/details/{order.id}")).text

        assert "/admin/order/action/cancel-order" not in page

    async def test_an_open_order_offers_cancel(self, web, session):
        order, _line = await order_with_line_at(session)
        await login_as(session, web, Role.ADMIN)

        page = (await web.get(f"/admin/order/details/{order.id}")).text

        assert "/admin/order/action/cancel-order" in page


async def test_a_stuck_line_has_a_stuck_badge_on_its_order(web, session):
    order, line = await order_with_line_at(session, D.DISPATCHING, D.DISPATCHED, provider_order_id="UP-3")
    await login_as(session, web, Role.STAFF)
    assert 'data-testid="stuck-badge"' not in (await web.get(f"/admin/order/details/{order.id}")).text
    await session.execute(
        sa.update(OrderLine)
        .where(OrderLine.id == line.id)
        .values(dispatched_at=sa.func.now() - sa.text("interval '2 days'"))
    )
    await session.commit()

    assert 'data-testid="stuck-badge"' in (await web.get(f"/admin/order/details/{order.id}")).text
