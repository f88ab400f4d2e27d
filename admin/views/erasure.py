"""Erasure requests from the portal: admins see them here and decide on the customer's page (its actions)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from admin.base import ReadOnlyView, badge, link_to, when
from admin.i18n import lazy
from app.gdpr.models import ErasureRequest


def customer_link(record: Any, _attribute: Any) -> Markup:
    return link_to(f"/admin/customer/details/{record.customer_id}", f"#{record.customer_id}")


class ErasureRequestAdmin(ReadOnlyView, model=ErasureRequest):
    name = lazy("Erasure request")
    name_plural = lazy("Erasure requests")
    identity = "erasure-request"
    icon = "fa-solid fa-user-slash"
    category = lazy("Sales")
    can_export = False
    column_list = [
        ErasureRequest.id,
        ErasureRequest.created_at,
        "customer",
        ErasureRequest.status,
        ErasureRequest.decided_at,
        ErasureRequest.reason,
    ]
    column_details_list = column_list
    column_labels = {
        ErasureRequest.created_at: lazy("Requested"),
        ErasureRequest.status: lazy("Status"),
        ErasureRequest.decided_at: lazy("Decided"),
        ErasureRequest.reason: lazy("Reason"),
        "customer": lazy("Customer"),
    }
    column_default_sort = [(ErasureRequest.id, True)]
    column_formatters = {
        ErasureRequest.status: badge("status"),
        ErasureRequest.created_at: when("created_at"),
        ErasureRequest.decided_at: when("decided_at"),
        "customer": customer_link,
    }
    column_formatters_detail = column_formatters
