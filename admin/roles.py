"""Who may do what in the back office: grants per role, enforced by SQLAdmin on every view, action and page.

A grant is ``(view identity, action)``; actions are SQLAdmin's (list, details, create, edit, delete, export,
import) or ``action:<slug>`` for our business actions. Admins hold ``("*", "*")``; the ``can_*`` flags of each
view still switch actions off for everyone (no one deletes an order).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqladmin.authorization import WILDCARD, GrantsAuthorizationBackend, matches_grant
from starlette.requests import Request

from app.accounts.models import Role
from app.fulfillment.decisions import LineAction

READ = ("list", "details")
EDIT = ("create", "edit")
EXPORT = ("export",)  # a file of every row a list shows: personal data in bulk only for admin and finance

ORDER_ACTIONS = ("action:cancel-order", "action:add-note", "action:renew-tracking-link")
LINE_ACTIONS = tuple(f"action:{action.value}" for action in LineAction)
SERVICE_ACTIONS = ("action:activate", "action:deactivate", "action:duplicate")
# Money goes back to the client: finance (and admins) only.
REFUND_ACTIONS = ("action:refund-line", "action:refund-remains")
# A credit note, or a cancellation with a new invoice: bookkeeping documents, finance (and admins) only.
INVOICE_CORRECTIONS = ("action:issue-credit-note", "action:cancel-and-reissue")
CHECKOUT_LINK_ACTIONS = ("action:deactivate",)
EMAIL_ACTIONS = ("action:resend",)


def _grants(table: dict[str, Iterable[str]]) -> frozenset[tuple[str, str]]:
    return frozenset((identity, action) for identity, actions in table.items() for action in actions)


ROLE_GRANTS: dict[Role, frozenset[tuple[str, str]]] = {
    Role.ADMIN: frozenset({(WILDCARD, WILDCARD)}),
    # Staff run the shop: catalog, orders and fulfillment. They read and edit customers one at a time; exports
    # that carry customers' personal data (customers, orders) are not theirs, the catalog's are.
    Role.STAFF: _grants(
        {
            "account": ["list"],  # one's own password (admin/pages/account.py)
            "dashboard": ["list"],
            "fulfillment": ["list"],
            "category": [*READ, *EDIT, *EXPORT],
            "service": [*READ, *EDIT, *EXPORT, *SERVICE_ACTIONS],
            "provider": READ,
            "provider-service": READ,
            "customer": [*READ, *EDIT],
            "order": [*READ, *ORDER_ACTIONS],
            "order-line": [*READ, *LINE_ACTIONS],
            "order-event": READ,
            "payment": READ,
            "refund": READ,
            "invoice": [*READ, "action:resend-by-email"],  # and its PDF; sent to the client again
            "checkout-link": [*READ, "create", *CHECKOUT_LINK_ACTIONS],  # payment links for customers
            "subscription": [*READ, "action:cancel-at-period-end"],
            "email-outbox": [*READ, *EMAIL_ACTIONS],  # mails to clients and alerts: read them, resend them
        }
    ),
    # Finance reads what money depends on (provider balances, costs and margins, Stripe events, subscriptions)
    # and exports what invoicing and bookkeeping need (customers, orders, payments, the audit log).
    Role.FINANCE: _grants(
        {
            "account": ["list"],
            "dashboard": ["list"],
            "category": READ,
            "service": READ,
            "provider": READ,
            "provider-service": READ,
            "customer": [*READ, *EXPORT],
            "order": [*READ, *EXPORT],
            "order-line": [*READ, *REFUND_ACTIONS],
            "order-event": READ,
            "payment": [*READ, *EXPORT],
            "refund": READ,
            # Its PDF, its booking in Lexware Office, its corrections (no money moves).
            "invoice": [*READ, "action:retry-lexoffice-sync", "action:resend-by-email", *INVOICE_CORRECTIONS],
            "stripe-event": READ,
            "checkout-link": READ,
            "subscription": READ,
            "company-settings": [*READ, "edit"],
            "audit-log": [*READ, *EXPORT],
            "reports": ["list"],  # revenue and tax reports, their downloads (admin/pages/reports.py)
            "tax-advisor": ["list"],  # DATEV, invoice PDFs, Stripe clearing (admin/pages/tax_advisor.py)
        }
    ),
}


def role_may(role: Role | None, identity: str, action: str) -> bool:
    return role is not None and matches_grant(set(ROLE_GRANTS[role]), identity, action)


def roles_allowed(identity: str, action: str = "list") -> list[Role]:
    """The roles that may perform ``action`` on ``identity`` (for the 403 page)."""
    return [role for role in Role if role_may(role, identity, action)]


def roles_with_any_grant(identity: str) -> list[Role]:
    return [role for role in Role if any(granted in (identity, WILDCARD) for granted, _action in ROLE_GRANTS[role])]


class RoleAuthorization(GrantsAuthorizationBackend):
    async def get_grants(self, request: Request) -> set[tuple[str, str]]:
        staff: Any = getattr(request.state, "staff", None)
        return set(ROLE_GRANTS[staff.role]) if staff is not None else set()


def requested_action(path: str) -> tuple[str, str] | None:
    """(view identity, action) for an admin URL path, e.g. /admin/order/action/cancel-order."""
    parts = [p for p in path.removeprefix("/admin").split("/") if p]
    if not parts:
        return ("dashboard", "list")
    identity = parts[0]
    if len(parts) == 1:
        return (identity, "list")
    verb = parts[1]
    if verb == "action" and len(parts) > 2:
        return (identity, f"action:{parts[2]}")
    return (
        identity,
        {
            "details": "details",
            "edit": "edit",
            "create": "create",
            "delete": "delete",
            "export": "export",
            "import": "import",
        }.get(verb, "list"),
    )


def roles_for_request(request: Request) -> list[str]:
    wanted = requested_action(request.url.path)
    if wanted is None:
        return []
    return [role.value for role in roles_allowed(*wanted)]
