"""The Outbox: every mail the shop wrote, its delivery state, a preview, and "Resend" for the ones that need it.

Without SMPLAT_SMTP_URL (dev, demo) mails are *caught* here instead of sent, so they can be read on this page.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request

from admin.actions import ActionContext, ActionsMixin, business_action, done_message
from admin.base import ReadOnlyView, badge, link_to, when
from admin.i18n import lazy
from admin.listing import EnumFilter, FastListMixin
from app.i18n import N_
from app.notifications.commands import resend_emails
from app.notifications.models import EmailOutbox, EmailStatus
from app.notifications.services import preview_email
from app.validation import parse_id


def order_link(record: Any, _attribute: Any) -> Markup | str:
    if record.order_id is None:
        return "–"
    return link_to(f"/admin/order/details/{record.order_id}", f"#{record.order_id}")


def short_error(record: Any, _attribute: Any) -> str:
    error = record.error or ""
    return error if len(error) <= 80 else error[:79] + "…"


class EmailOutboxAdmin(ActionsMixin, FastListMixin, ReadOnlyView, model=EmailOutbox):
    name = lazy("Mail")
    name_plural = lazy("Outbox")
    identity = "email-outbox"
    icon = "fa-solid fa-envelope"
    category = lazy("Administration")
    can_export = False  # recipients' addresses in bulk: not a file anyone needs
    details_template = "smplat/email_details.html"
    column_list = [
        EmailOutbox.id,
        EmailOutbox.created_at,
        EmailOutbox.status,
        EmailOutbox.to_address,
        EmailOutbox.subject,
        EmailOutbox.template,
        EmailOutbox.attempts,
        EmailOutbox.error,
        EmailOutbox.sent_at,
        "order",
    ]
    column_details_list = [
        EmailOutbox.id,
        EmailOutbox.kind,
        EmailOutbox.status,
        EmailOutbox.to_address,
        EmailOutbox.subject,
        EmailOutbox.template,
        EmailOutbox.locale,
        EmailOutbox.attempts,
        EmailOutbox.next_attempt_at,
        EmailOutbox.error,
        EmailOutbox.message_id,
        EmailOutbox.created_at,
        EmailOutbox.sent_at,
        "order",
    ]
    column_labels = {
        EmailOutbox.created_at: lazy("Created"),
        EmailOutbox.status: lazy("Status"),
        EmailOutbox.to_address: lazy("To"),
        EmailOutbox.subject: lazy("Subject"),
        EmailOutbox.template: lazy("Message"),
        EmailOutbox.attempts: lazy("Attempts"),
        EmailOutbox.error: lazy("Last error"),
        EmailOutbox.sent_at: lazy("Sent"),
        EmailOutbox.next_attempt_at: lazy("Next attempt"),
        EmailOutbox.locale: lazy("Language"),
        EmailOutbox.kind: lazy("Kind"),
        EmailOutbox.message_id: lazy("Message-ID"),
        "order": lazy("Order"),
    }
    column_searchable_list = [EmailOutbox.to_address, EmailOutbox.subject, EmailOutbox.message_id]
    column_filters = [EnumFilter(EmailOutbox.status, EmailStatus, "Status")]
    column_default_sort = [(EmailOutbox.id, True)]
    column_formatters = {
        EmailOutbox.status: badge("status"),
        EmailOutbox.created_at: when("created_at"),
        EmailOutbox.sent_at: when("sent_at"),
        EmailOutbox.error: short_error,
        "order": order_link,
    }
    column_formatters_detail = {
        EmailOutbox.status: badge("status"),
        EmailOutbox.created_at: when("created_at"),
        EmailOutbox.sent_at: when("sent_at"),
        EmailOutbox.next_attempt_at: when("next_attempt_at"),
        "order": order_link,
    }

    def search_placeholder(self) -> str:
        return str(lazy("Recipient, subject, Message-ID"))

    async def details_context(self, request: Request) -> dict[str, Any]:
        """The mail rendered as it goes out now (text part, and the HTML part in a sandboxed frame)."""
        email_id = parse_id(str(request.path_params["pk"]))
        async with self.session_maker(expire_on_commit=False) as session:
            email = await session.get(EmailOutbox, email_id) if email_id is not None else None
            return {"preview": await preview_email(session, email) if email is not None else None}

    def describe_for_action(self, email: EmailOutbox) -> str:
        return f"#{email.id} · {email.to_address} · {email.subject} · {email.status}"

    @business_action(
        "resend",
        lazy("Resend"),
        description=lazy(
            "Each mail is queued for a fresh attempt, rendered anew with a new Message-ID. For a mail of unknown "
            "fate, check first whether it arrived: it may have been delivered already."
        ),
    )
    async def resend(self, ctx: ActionContext) -> str:
        done = await resend_emails(ctx.uow, email_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Queued again: %(items)s"), [f"#{email.id}" for email in done])
