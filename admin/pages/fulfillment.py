"""The fulfillment board: every queue staff work from, with counts, ages and one-click actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response

from admin import sqladmin_compat as compat
from admin.i18n import lazy
from admin.views.lines import ACTION_LABELS, offered_actions
from app.fulfillment.attention import Attention
from app.fulfillment.decisions import bulk_actions_for
from app.fulfillment.queues import QUEUES, fulfillment_queues, provider_options
from app.fulfillment.reasons import line_reasons
from app.validation import parse_id

# Per queue, the decisions staff may take on the lines ticked in it: (action slug, label).
BULK = {q.key: [(action.value, ACTION_LABELS[action]) for action in bulk_actions_for(q.states)] for q in QUEUES}


class FulfillmentBoardView(BaseView):
    name = lazy("Fulfillment board")
    icon = "fa-solid fa-table-columns"
    category = lazy("Fulfillment")

    @expose("/fulfillment", identity="fulfillment")
    async def board(self, request: Request) -> Response:
        admin: Any = compat.admin_of(self)
        provider_id = parse_id(request.query_params.get("provider", ""))
        async with admin.session_maker(expire_on_commit=False) as session:
            providers = (await session.execute(provider_options())).tuples().all()
            queues = await fulfillment_queues(
                session, stuck_after=timedelta(hours=admin.settings.stuck_after_hours), provider_id=provider_id
            )
            line_ids = sorted({line.id for queue in queues for line in queue.lines})
            offers = await offered_actions(session, line_ids)
            reasons = await line_reasons(session, line_ids)
        template = (
            "smplat/fulfillment_board_queues.html"
            if request.query_params.get("partial")
            else ("smplat/fulfillment_board.html")
        )
        return await self.templates.TemplateResponse(
            request,
            template,
            {
                "queues": queues,
                "line_offers": offers,
                "line_reasons": reasons,
                "attention_kinds": {kind.value for kind in Attention},
                "bulk": BULK,
                "providers": providers,
                "provider_id": provider_id,
                "title": lazy("Fulfillment board"),
                "stuck_hours": admin.settings.stuck_after_hours,
            },
        )
