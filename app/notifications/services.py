"""Questions about outbox rows (the back office's Outbox reads them here)."""

from __future__ import annotations

from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import EmailOutbox
from app.notifications.outbox import company_sender
from app.notifications.rendering import RenderedEmail, render_email


async def preview_email(session: AsyncSession, email: EmailOutbox) -> RenderedEmail | None:
    """The mail as it is (or would be) sent now: None when its template or data cannot be rendered."""
    try:
        return render_email(email.template, email.locale, email.context, await company_sender(session))
    except (KeyError, ValueError, TypeError, TemplateError):
        return None
