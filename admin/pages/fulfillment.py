"""The fulfillment board: every queue staff work from, with counts, ages and one-click actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response

from admin import sqladmin_compat as compat
from admin.i18n import lazy
from admin.views.lines import offered_actions
from app.fulfillment.attention import Attention
from app.fulfillment.queues import fulfillment_queues
from app.fulfillment.reasons import line_reasons


class FulfillmentBoardView(BaseView):
    name = lazy("Fulfillment board")
    icon = "fa-solid fa-table-columns"
    category = lazy("Fulfillment")

    @expose("/fulfillment", identity="fulfillment")
    async def board(self, request: Request) -> Response:
        admin: Any = compat.admin_of(self)
        async with admin.session_maker(expire_on_commit=False) as session:
            queues = await fulfillment_queues(session, stuck_after=timedelta(hours=admin.settings.stuck_after_hours))
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
                "title": lazy("Fulfillment board"),
                "stuck_hours": admin.settings.stuck_after_hours,
            },
        )
