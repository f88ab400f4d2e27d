"""The landing page of the back office: money, orders, what needs attention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response

from admin import sqladmin_compat as compat
from admin.attention import attention_label
from admin.i18n import lazy
from app.analytics.dashboard import build_dashboard
from app.fulfillment.alerts import TOPIC_LABELS

# The orders list's paid-date presets (admin.listing.DateRangeFilter) matching the revenue tiles, in their order.
REVENUE_FILTERS = ("today", "7d", "30d")


class DashboardView(BaseView):
    name = lazy("Dashboard")
    icon = "fa-solid fa-gauge-high"

    @expose("/dashboard", identity="dashboard")
    async def dashboard(self, request: Request) -> Response:
        return await self.render(request)

    async def render(self, request: Request) -> Response:
        admin: Any = compat.admin_of(self)
        async with admin.session_maker(expire_on_commit=False) as session:
            data = await build_dashboard(session, stuck_after=timedelta(hours=admin.settings.stuck_after_hours))
        attention = [(kind, attention_label(kind), count) for kind, count in data.attention.items()]
        low_balance = sum(1 for provider in data.providers if provider.is_low_on_balance)
        return await self.templates.TemplateResponse(
            request,
            "smplat/dashboard.html",
            {
                "dashboard": data,
                "attention": attention,
                "low_balance": low_balance,
                "revenue_filters": REVENUE_FILTERS,
                "alert_labels": TOPIC_LABELS,
                "title": lazy("Dashboard"),
            },
        )
