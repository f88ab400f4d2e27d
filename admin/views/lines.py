"""Order lines: a fast list with the attention filter, and the decisions staff take about lines.

Which decision is offered for which line comes from ``app.fulfillment.decisions``; the confirmation pages show why
the line waits (``app.fulfillment.reasons``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqladmin.i18n import get_locale
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request

from admin.actions import ActionContext, ActionField, ActionsMixin, business_action, done_message
from admin.attention import AttentionFilter
from admin.base import ReadOnlyView, badge, link_to, money, when
from admin.i18n import admin_gettext, lazy
from admin.labels import event_note, state_label
from admin.listing import EnumFilter, FastListMixin, RelatedExistsFilter
from app import i18n
from app.errors import DomainError
from app.fulfillment import cancels
from app.fulfillment import commands as fulfillment
from app.fulfillment.commands import DispatchFinding, Locked
from app.fulfillment.decisions import LineAction, Selection, line_offers, split_selection
from app.fulfillment.queues import provider_options
from app.fulfillment.reasons import LineReason, line_reasons
from app.i18n import N_
from app.orders import commands
from app.orders.models import Order, OrderLine
from app.orders.search import line_search_condition
from app.orders.states import LineStatus
from app.orders.tracking import shorten_link
from app.payments import refunds
from app.payments.refund_flow import refund_line
from app.payments.refunds import RefundAmount
from app.validation import parse_id

LIST_LINK_SHOWN = 22  # characters of a line's link in the list (the full link on hover): the list fits 1280 px


def line_names(locked: Sequence[tuple[Order, OrderLine]]) -> list[str]:
    return [f"{order.number}/{line.position}" for order, line in locked]


def line_order_link(line: OrderLine, _attribute: Any) -> Markup:
    return link_to(f"/admin/order/details/{line.order_id}", line.order.number)


def order_and_service(line: OrderLine, _attribute: Any) -> Markup:
    """The order's number and below it the line's service: one column of the list, linked to the order by the
    list."""
    return Markup('<span class="text-nowrap">{}</span><div class="small text-secondary">{}</div>').format(
        line.order.number, line.service_name
    )


def short_link(line: OrderLine, _attribute: Any) -> Markup:
    """The link without its scheme, shortened; the full link on hover and behind the click."""
    return Markup('<a href="{}" target="_blank" rel="noopener noreferrer" title="{}">{}</a>').format(
        line.link, line.link, shorten_link(line.link, LIST_LINK_SHOWN)
    )


def quantity_and_progress(line: OrderLine, _attribute: Any) -> Markup:
    """The quantity and below it how much of it is delivered (a bar, the share on hover): one narrow column."""
    quantity = i18n.format_number(line.quantity, get_locale())
    share = line.progress
    if share is None:
        return Markup("{}").format(quantity)
    percent = round(share * 100)
    return Markup(
        '{}<div class="progress progress-sm mt-1" title="{}%"><div class="progress-bar" style="width: {}%"></div></div>'
    ).format(quantity, percent, percent)


def provider_and_order_id(line: OrderLine, _attribute: Any) -> Markup | str:
    """The provider and below it the line's order id there: one narrow column."""
    if line.provider is None:
        return "–"
    upstream = Markup('<div class="small"><code>{}</code></div>').format(line.provider_order_id or "–")
    return Markup("{}{}").format(line.provider.name, upstream)


def explained_reason(reason: LineReason) -> Markup | str:
    """The reason in the staff member's language; a provider's error as its kind with the provider's words quoted."""
    error = reason.provider_error
    if error is None:
        return event_note(reason) or "–"
    return Markup('{} <q translate="no">{}</q>').format(admin_gettext(error.label), error.text)


def describe_reason(line: str, reason: LineReason, *, sent: bool = False) -> Markup:
    """One line of a confirmation page: the line, its state's reason, who and when, the provider's answer (and
    with ``sent``, when the dispatch request was sent)."""
    locale = get_locale()
    text = escape(admin_gettext(N_("%(line)s: %(reason)s — %(by)s, %(at)s"))) % {
        "line": line,
        "reason": explained_reason(reason),
        "by": reason.by,
        "at": i18n.format_datetime(reason.at, locale),
    }
    if sent and reason.sent_at is not None:
        text += " · " + admin_gettext(N_("request sent %(at)s")) % {"at": i18n.format_datetime(reason.sent_at, locale)}
    if reason.answer_shown:
        text += " · " + admin_gettext(N_("provider's last answer: %(answer)s")) % {"answer": reason.answer_shown}
    return text


async def reason_lines(view: Any, pks: list[int], *, sent: bool = False) -> list[str]:
    """Why each selected line waits (who put it there, when, what the provider answered)."""
    async with view.session_maker(expire_on_commit=False) as session:
        reasons = await line_reasons(session, pks)
        rows = await session.execute(
            sa.select(OrderLine.id, Order.number + "/" + sa.cast(OrderLine.position, sa.Text))
            .join(OrderLine.order)
            .where(OrderLine.id.in_(pks))
        )
        numbers = dict(rows.tuples().all())
    return [describe_reason(numbers[pk], reasons[pk], sent=sent) for pk in pks if pk in reasons and pk in numbers]


def skipped_lines(selection: Selection) -> list[str]:
    """The selected lines an action leaves alone, each with the state that rules it out."""
    return [
        admin_gettext(N_("%(line)s is skipped: it is %(state)s")) % {"line": s.line, "state": state_label(s.state)}
        for s in selection.skipped
    ]


def bulk_preview(action: LineAction, *, reasons: bool) -> Any:
    """The confirmation page's list for a decision on several lines: why each waits (with ``reasons``), then the
    lines the decision skips."""

    async def preview(view: Any, pks: list[int]) -> list[str]:
        async with view.session_maker(expire_on_commit=False) as session:
            selection = await split_selection(session, action, pks)
        waiting = await reason_lines(view, selection.taken) if reasons and selection.taken else []
        return [*waiting, *skipped_lines(selection)]

    return preview


async def decide(
    ctx: ActionContext, action: LineAction, command: Callable[..., Awaitable[Locked]], template: str, **values: Any
) -> str:
    """One decision on the selected lines it applies to (one command call), the others skipped; the result names
    both. When it applies to none, the command gets them all and refuses them with its own reason."""
    selection = await split_selection(ctx.session, action, ctx.pks)
    taken = selection.taken or ctx.pks
    done = await command(ctx.uow, line_ids=taken, actor=ctx.actor, **values)
    return " ".join([done_message(template, line_names(done)), *skipped_lines(selection)])


async def dispatch_preview(view: Any, pks: list[int]) -> list[str]:
    """When each request was sent and what the provider last answered: what staff compare with its panel."""
    return await reason_lines(view, pks, sent=True)


async def retry_choices(view: Any, pks: list[int]) -> list[tuple[str, str]]:
    """Upstream services every selected line could be retried with (the current one marked)."""
    async with view.session_maker(expire_on_commit=False) as session:
        taken = (await split_selection(session, LineAction.RETRY, pks)).taken or pks
        lines = list(await session.scalars(sa.select(OrderLine).where(OrderLine.id.in_(taken))))
        per_line = [await fulfillment.retry_alternatives(session, line) for line in lines]
    if not per_line:
        return []
    common = set.intersection(*({upstream.id for upstream in options} for options in per_line))
    current = {line.provider_service_id for line in lines}
    marker = f" ({admin_gettext(N_('current'))})"
    return [
        (
            str(upstream.id),
            f"{upstream.provider.name} #{upstream.external_id} {upstream.name} · {upstream.rate} "
            f"{upstream.provider.currency}{marker if current == {upstream.id} else ''}",
        )
        for upstream in per_line[0]
        if upstream.id in common
    ]


class OrderLineAdmin(FastListMixin, ActionsMixin, ReadOnlyView, model=OrderLine):
    name = lazy("Order line")
    name_plural = lazy("Order lines")
    icon = "fa-solid fa-list-check"
    category = lazy("Fulfillment")
    column_list = [
        OrderLine.fulfillment_status,
        OrderLine.order,
        OrderLine.link,
        OrderLine.quantity,
        OrderLine.provider,
        OrderLine.updated_at,
    ]
    column_labels = {
        OrderLine.order: lazy("Order"),
        OrderLine.service_name: lazy("Service"),
        OrderLine.fulfillment_status: lazy("Fulfillment"),
        OrderLine.provider_order_id: lazy("Provider order"),
        OrderLine.updated_at: lazy("Updated"),
    }
    column_searchable_list = [OrderLine.link, OrderLine.provider_order_id]
    column_sortable_list = [OrderLine.id, OrderLine.updated_at]
    column_default_sort = [(OrderLine.id, True)]
    column_filters = [
        EnumFilter(OrderLine.fulfillment_status, LineStatus, "Fulfillment"),
        AttentionFilter(),
        RelatedExistsFilter(
            title="Provider",
            parameter_name="provider",
            condition=lambda pk: OrderLine.provider_id == pk,
            options=provider_options,
        ),
    ]
    column_formatters = {
        OrderLine.order: order_and_service,
        OrderLine.fulfillment_status: badge("fulfillment_status"),
        OrderLine.link: short_link,
        OrderLine.quantity: quantity_and_progress,
        OrderLine.provider: provider_and_order_id,
        OrderLine.updated_at: when("updated_at"),
    }
    column_formatters_detail = {
        OrderLine.order: line_order_link,
        OrderLine.fulfillment_status: badge("fulfillment_status"),
        OrderLine.net: money("net", "order.currency"),
        OrderLine.dispatched_at: when("dispatched_at"),
        OrderLine.finished_at: when("finished_at"),
        OrderLine.next_poll_at: when("next_poll_at"),
        OrderLine.last_progress_at: when("last_progress_at"),
    }
    column_details_exclude_list = [OrderLine.service]
    details_template = "smplat/line_details.html"
    column_export_list = [
        OrderLine.id,
        "order.number",
        OrderLine.position,
        OrderLine.service_name,
        OrderLine.link,
        OrderLine.quantity,
        OrderLine.fulfillment_status,
        "provider.name",
        OrderLine.provider_order_id,
        OrderLine.start_count,
        OrderLine.remains,
        OrderLine.updated_at,
    ]
    column_export_labels = {
        "order.number": lazy("Order"),
        "position": lazy("Line"),
        "link": lazy("Link"),
        "quantity": lazy("Quantity"),
        "provider.name": lazy("Provider"),
        "start_count": lazy("Start count"),
        "remains": lazy("Remains"),
    }

    def search_query(self, stmt: Any, term: str) -> Any:
        return stmt.where(line_search_condition(term))

    async def details_context(self, request: Request) -> dict[str, Any]:
        """Why the line waits for a decision, as on the board and the order page."""
        line_id = parse_id(request.path_params["pk"])
        if line_id is None:
            return {"waiting_reason": None}
        async with self.session_maker(expire_on_commit=False) as session:
            reasons = await line_reasons(session, [line_id])
        return {"waiting_reason": reasons.get(line_id)}

    def action_query(self) -> Any:
        return sa.select(OrderLine).options(selectinload(OrderLine.order))

    def describe_for_action(self, line: OrderLine) -> str:
        quantity = i18n.format_number(line.quantity, get_locale())
        return (
            f"{line.order.number}/{line.position} · {line.service_name} × {quantity} · "
            f"{state_label(line.fulfillment_status)}"
        )

    @business_action(
        LineAction.HOLD,
        lazy("Hold"),
        description=lazy("Keeps queued lines from being dispatched until they are resumed."),
        fields=[ActionField("reason", lazy("Reason"), kind="textarea")],
        preview=bulk_preview(LineAction.HOLD, reasons=False),
    )
    async def hold_line(self, ctx: ActionContext) -> str:
        return await decide(
            ctx, LineAction.HOLD, commands.hold_lines, N_("On hold: %(items)s"), reason=ctx.values["reason"]
        )

    @business_action(
        LineAction.RESUME,
        lazy("Resume"),
        description=lazy("Puts held lines back into the dispatch queue."),
        preview=bulk_preview(LineAction.RESUME, reasons=True),
    )
    async def resume_line(self, ctx: ActionContext) -> str:
        return await decide(ctx, LineAction.RESUME, commands.resume_lines, N_("Resumed: %(items)s"))

    @business_action(
        LineAction.CANCEL,
        lazy("Cancel line"),
        danger=True,
        description=lazy(
            "Cancels held or failed lines: they are never sent to the provider. Refund the client separately."
        ),
        fields=[ActionField("reason", lazy("Reason (shown in the timeline)"), kind="textarea")],
        preview=bulk_preview(LineAction.CANCEL, reasons=True),
    )
    async def cancel_line(self, ctx: ActionContext) -> str:
        return await decide(
            ctx, LineAction.CANCEL, commands.cancel_lines, N_("Canceled: %(items)s"), reason=ctx.values["reason"]
        )

    @business_action(
        LineAction.RETRY,
        lazy("Retry dispatch"),
        description=lazy("Failed lines go back into the dispatch queue, to be sent to the provider again."),
        preview=bulk_preview(LineAction.RETRY, reasons=True),
        fields=[
            ActionField(
                "provider_service",
                lazy("Provider service"),
                kind="choice",
                required=False,
                load_choices=retry_choices,
                help=lazy("Send the line to another provider's service; leave it unchanged to try the same again."),
            ),
            ActionField("note", lazy("Note"), required=False),
        ],
    )
    async def retry_dispatch(self, ctx: ActionContext) -> str:
        chosen = ctx.values.get("provider_service") or ""
        provider_service_id = parse_id(chosen) if chosen else None
        if chosen and provider_service_id is None:
            raise DomainError(N_("choose one of the offered options"))
        return await decide(
            ctx,
            LineAction.RETRY,
            fulfillment.retry_dispatch,
            N_("Queued again: %(items)s"),
            note=ctx.values.get("note") or None,
            provider_service_id=provider_service_id,
        )

    @business_action(
        LineAction.RESOLVE,
        lazy("Resolve dispatch"),
        add_in_list=False,
        preview=dispatch_preview,
        description=lazy(
            "The request may or may not have reached the provider. Check the provider's panel: enter "
            "its order id if the order exists there, or confirm that it was not placed to send it "
            "again. Never both."
        ),
        fields=[
            ActionField(
                "outcome",
                lazy("What did you find at the provider?"),
                kind="choice",
                choices=[
                    (DispatchFinding.FOUND, lazy("The order exists there")),
                    (DispatchFinding.NOT_PLACED, lazy("It was not placed: dispatch again")),
                ],
            ),
            ActionField("upstream_order_id", lazy("Provider's order id (when it exists)"), required=False),
        ],
    )
    async def resolve_dispatch(self, ctx: ActionContext) -> str:
        resolved = await fulfillment.resolve_unknown_dispatch(
            ctx.uow,
            line_ids=ctx.pks,
            actor=ctx.actor,
            finding=DispatchFinding(ctx.values["outcome"]),
            upstream_order_id=ctx.values.get("upstream_order_id") or None,
        )
        return done_message(N_("Resolved: %(items)s"), line_names(resolved))

    @business_action(
        LineAction.CHECK_STATUS,
        lazy("Check status now"),
        description=lazy("Asks the provider about these lines right away instead of at the next scheduled poll."),
    )
    async def check_status(self, ctx: ActionContext) -> str:
        asked = await fulfillment.check_status_now(ctx.uow, line_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Status check requested: %(items)s"), line_names(asked))

    @business_action(
        LineAction.REQUEST_REFILL,
        lazy("Request refill"),
        description=lazy("Asks the provider to refill delivered lines within their refill window."),
    )
    async def request_refill(self, ctx: ActionContext) -> str:
        refilled = await fulfillment.request_refill(ctx.uow, line_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Refill requested: %(items)s"), line_names(refilled))

    @business_action(
        LineAction.REQUEST_CANCEL,
        lazy("Request cancel at provider"),
        danger=True,
        description=lazy(
            "Asks the provider to cancel lines it is working on (where its service allows cancels). The line "
            "ends canceled once the provider reports it, and what was not delivered is refunded then."
        ),
    )
    async def request_cancel(self, ctx: ActionContext) -> str:
        asked = await cancels.request_cancel(ctx.uow, line_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Cancel requested at the provider: %(items)s"), line_names(asked))

    async def refund_preview(self, pks: list[int], kind: RefundAmount) -> list[str]:
        async with self.session_maker(expire_on_commit=False) as session:
            quotes = await refunds.quote_refunds(session, pks, kind)
        locale = get_locale()
        return [
            admin_gettext(N_("%(line)s: refund %(amount)s (line share %(share)s, refunded so far %(refunded)s)"))
            % {
                "line": f"{quote.order_number}/{quote.position}",
                "amount": i18n.format_money(quote.amount, quote.currency, locale),
                "share": i18n.format_money(quote.share, quote.currency, locale),
                "refunded": i18n.format_money(quote.refunded, quote.currency, locale),
            }
            for quote in quotes
        ]

    async def full_refund_preview(self, pks: list[int]) -> list[str]:
        return await self.refund_preview(pks, RefundAmount.FULL)

    async def remains_refund_preview(self, pks: list[int]) -> list[str]:
        return await self.refund_preview(pks, RefundAmount.REMAINING_SHARE)

    async def refund(self, ctx: ActionContext, kind: RefundAmount) -> str:
        if len(ctx.pks) != 1:
            raise DomainError(N_("Refund one line at a time: each refund moves money on its own."))
        if ctx.payments is None:
            raise DomainError(N_("No payment processor is configured: refunds are not possible."))
        outcome = await refund_line(
            ctx.sessions,
            ctx.payments,
            line_id=ctx.pks[0],
            actor=ctx.actor,
            reason=ctx.values["reason"],
            kind=kind,
            ip=ctx.ip,
        )
        values = {
            "amount": i18n.format_money(outcome.amount, outcome.currency, get_locale()),
            "line": f"{outcome.order_number}/{outcome.line_position}",
            "state": admin_gettext(outcome.status.value),
        }
        template = (
            N_("The pending refund of %(amount)s for %(line)s was sent again: %(state)s")
            if outcome.resumed
            else N_("Refund of %(amount)s for %(line)s: %(state)s")
        )
        return admin_gettext(template) % values

    @business_action(
        "refund-line",
        lazy("Refund line"),
        danger=True,
        opens_units=True,
        preview=full_refund_preview,
        description=lazy(
            "Gives back what is left of the line's share of the payment (its net plus its share of the VAT) "
            "through Stripe. A refund of the line that is still pending is sent again instead."
        ),
        fields=[ActionField("reason", lazy("Reason (shown in the timeline)"), kind="textarea")],
    )
    async def refund_full_line(self, ctx: ActionContext) -> str:
        return await self.refund(ctx, RefundAmount.FULL)

    @business_action(
        "refund-remains",
        lazy("Refund remaining share"),
        danger=True,
        opens_units=True,
        preview=remains_refund_preview,
        description=lazy(
            "Gives back the share of the payment for the units the provider did not deliver (the line's "
            "remains), less what was refunded for the line already, through Stripe."
        ),
        fields=[ActionField("reason", lazy("Reason (shown in the timeline)"), kind="textarea")],
    )
    async def refund_remains(self, ctx: ActionContext) -> str:
        return await self.refund(ctx, RefundAmount.REMAINING_SHARE)


ACTION_LABELS = {
    LineAction.HOLD: lazy("Hold"),
    LineAction.RESUME: lazy("Resume"),
    LineAction.RETRY: lazy("Retry dispatch"),
    LineAction.RESOLVE: lazy("Resolve dispatch"),
    LineAction.CHECK_STATUS: lazy("Check status now"),
    LineAction.REQUEST_CANCEL: lazy("Request cancel at provider"),
    LineAction.REQUEST_REFILL: lazy("Request refill"),
    LineAction.CANCEL: lazy("Cancel line"),
}


async def offered_actions(
    session: AsyncSession, line_ids: Sequence[int]
) -> dict[int, list[tuple[str, str, str, bool]]]:
    """Per line, the decisions its state allows: (action slug, label, why it is unavailable or "", whether it cannot
    be undone: a red button)."""
    offers = await line_offers(session, line_ids)
    danger = OrderLineAdmin.danger_actions()
    return {
        line_id: [
            (
                offer.action.value,
                str(ACTION_LABELS[offer.action]),
                admin_gettext(offer.unavailable) if offer.unavailable else "",
                offer.action in danger,
            )
            for offer in line_offers_of
        ]
        for line_id, line_offers_of in offers.items()
    }


def _unavailable(reason: str | None) -> str:
    return admin_gettext(reason) if reason else ""
