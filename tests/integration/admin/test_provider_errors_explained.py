"""A German back office explains a provider's refusal in German, with the provider's own words quoted beside it
(staff quote them to the provider), on the order page, the board, the line's page and the decision's page; a
line's cancel button is red."""

from __future__ import annotations

import re
from html import unescape

from app.accounts.models import Role
from app.fulfillment.commands import DispatchResult, record_dispatch
from app.fulfillment.dispatch import DISPATCHER
from app.fulfillment.provider_errors import LOW_BALANCE_NOTE, REFUSED_NOTE
from app.i18n import Message
from app.orders.states import LineStatus
from app.uow import UnitOfWork
from tests.integration.admin.helpers import login_as, order_with_line_at

D = LineStatus
QUOTE = re.compile(r'<q class="text-secondary" translate="no" data-testid="provider-error-text">([^<]*)</q>')


async def line_refused_by_provider(session, message: str, *, result: DispatchResult = DispatchResult.REFUSED):
    """A line as dispatch leaves it after the provider's ``{"error": message}``."""
    order, line = await order_with_line_at(session, D.DISPATCHING)
    note = (
        LOW_BALANCE_NOTE + message
        if result == DispatchResult.LOW_BALANCE
        else Message(REFUSED_NOTE, {"message": message})
    )
    await record_dispatch(
        UnitOfWork(session),
        line_id=line.id,
        actor=DISPATCHER,
        result=result,
        note=note,  # type: ignore[arg-type]
        raw=f'{{"error": "{message}"}}',
    )
    await session.commit()
    return order, line


async def test_a_refused_link_reads_in_german_on_the_order_page_with_the_providers_words_quoted(web, session):
    order, line = await line_refused_by_provider(session, "Incorrect link")
    await login_as(session, web, Role.STAFF)

    page = unescape((await web.get(f"/admin/order/details/{order.id}?lang=de")).text)

    reason = page.split(f'data-reason-for="{line.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Link wird vom Anbieter abgelehnt" in reason
    assert QUOTE.findall(reason) == ["Incorrect link"]
    timeline = page.split('data-testid="order-timeline"', 1)[1]
    assert "Link wird vom Anbieter abgelehnt" in timeline
    assert "Incorrect link" in QUOTE.findall(timeline)
    assert "Anbieter: Incorrect link" not in page


async def test_low_balance_reads_in_german_on_the_board_and_the_lines_page(web, session):
    order, line = await line_refused_by_provider(
        session, "Not enough funds on balance", result=DispatchResult.LOW_BALANCE
    )
    await login_as(session, web, Role.STAFF)

    board = unescape((await web.get("/admin/fulfillment?lang=de")).text)
    details = unescape((await web.get(f"/admin/order-line/details/{line.id}?lang=de")).text)

    card = board.split(f"{order.number}/1", 1)[1].split('class="list-group-item', 1)[0]
    assert "Guthaben beim Anbieter reicht nicht" in card
    assert QUOTE.findall(card) == ["Not enough funds on balance"]
    reason = details.split('data-testid="line-details-reason"', 1)[1]
    assert "Guthaben beim Anbieter reicht nicht" in reason
    assert QUOTE.findall(reason)[0] == "Not enough funds on balance"


async def test_the_retry_page_names_the_kind_of_refusal_in_english_too(web, session):
    order, line = await line_refused_by_provider(session, "Quantity less than minimal 100")
    await login_as(session, web, Role.STAFF)

    english = unescape((await web.get(f"/admin/order-line/action/retry-dispatch?pks={line.id}&lang=en")).text)
    german = unescape((await web.get(f"/admin/order-line/action/retry-dispatch?pks={line.id}&lang=de")).text)

    assert (
        f'{order.number}/1: The quantity is outside the provider\'s limits <q translate="no">'
        "Quantity less than minimal 100</q>" in english
    )
    assert 'Menge außerhalb der Grenzen des Anbieters <q translate="no">Quantity less than minimal 100</q>' in german


async def test_a_staff_members_hold_reason_is_shown_as_written(web, session):
    order, line = await order_with_line_at(session)
    staff = await login_as(session, web, Role.STAFF)
    await web.post(
        f"/admin/order-line/action/hold-line?pks={line.id}",
        data={"reason": "service not found yet, ask Anna", "csrf_token": staff.csrf},
    )

    page = unescape((await web.get(f"/admin/order/details/{order.id}?lang=de")).text)

    reason = page.split(f'data-reason-for="{line.id}"', 1)[1].split("</tr>", 1)[0]
    assert "service not found yet, ask Anna" in reason
    assert "provider-error-kind" not in reason


async def test_cancel_line_is_a_red_button_on_the_order_page(web, session):
    order, _line = await line_refused_by_provider(session, "Incorrect link")
    await login_as(session, web, Role.STAFF)

    page = (await web.get(f"/admin/order/details/{order.id}")).text

    cancel = re.search(r'<a class="btn btn-sm ([^"]*)" data-testid="line-action-cancel-line"', page)
    retry = re.search(r'<a class="btn btn-sm ([^"]*)" data-testid="line-action-retry-dispatch"', page)
    assert cancel is not None and retry is not None
    assert cancel.group(1) == "btn-danger"
    assert retry.group(1) == "btn-outline-secondary"
