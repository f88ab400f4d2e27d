"""Handing a rendered mail to an SMTP server (aiosmtplib), or to the back-office catcher when none is configured.

What the server's answer means for the outbox row, decided here once:

- accepted → ``Delivered``;
- a 4xx answer, a refused connection or a timeout *before the message data was sent* → :class:`TemporaryFailure`
  (tried again later: nothing was delivered);
- a 5xx answer → :class:`PermanentFailure` with the server's words;
- the connection lost or timed out *while or after the data was sent* → :class:`OutcomeUnknown`: the server may
  have accepted the message, so it is not sent again by itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from app.notifications.rendering import RenderedEmail, Sender

SMTP_TIMEOUT_SECONDS = 30.0
TRUE_VALUES = ("1", "true", "yes", "on")


class TemporaryFailure(Exception):
    """Not delivered, and worth trying again later (4xx, connection refused or timed out before the data)."""


class PermanentFailure(Exception):
    """Refused for good (5xx): the server's message says why."""


class OutcomeUnknown(Exception):
    """The exchange broke off while or after the message was sent: it may have been delivered."""


@dataclass(frozen=True)
class Outgoing:
    """A mail ready to go: the MIME message and the envelope."""

    message: EmailMessage
    sender: str
    recipient: str


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)


def build_message(
    rendered: RenderedEmail,
    *,
    sender: Sender,
    to: str,
    message_id: str,
    date: datetime,
    unsubscribe_url: str | None = None,
) -> Outgoing:
    """multipart/alternative (text, then HTML) with Message-ID, Date, From, Reply-To and the subject.

    ``unsubscribe_url``: a mail the client may turn off carries it as ``List-Unsubscribe`` with
    ``List-Unsubscribe-Post`` (RFC 8058: the mail client POSTs to it, no page to click through).
    """
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = formataddr((sender.name, sender.address))
    message["To"] = to
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to transactional mail
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return Outgoing(message=message, sender=sender.address, recipient=to)


class Mailer(Protocol):
    catches: bool  # True: nothing leaves the process (the mail is kept for the back office to show)

    async def send(self, outgoing: Outgoing) -> None: ...


class CatchingMailer:
    """Dev and demo without SMTP: the mail "arrives" in the back office's Outbox, where it can be read."""

    catches = True

    async def send(self, outgoing: Outgoing) -> None:  # noqa: ARG002 - the outbox row is the caught copy
        return None


@dataclass(frozen=True)
class SmtpMailer:
    """One SMTP connection per mail (the outbox sends a few thousand a day at most, each in its own job)."""

    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: STARTTLS when the server offers it
    timeout: float = SMTP_TIMEOUT_SECONDS
    catches = False

    @classmethod
    def from_url(cls, url: str, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> SmtpMailer:
        """``smtp://user:pass@host:587?starttls=1`` or ``smtps://user:pass@host:465``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://user:pass@host:587?starttls=1")
        use_tls = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        start_tls = None if "starttls" not in query else query["starttls"][0].lower() in TRUE_VALUES
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if use_tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=False if use_tls else start_tls,
            timeout=timeout,
        )

    async def send(self, outgoing: Outgoing) -> None:
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )
        try:
            try:
                await client.connect()
                await client.mail(outgoing.sender)
                await client.rcpt(outgoing.recipient)
            except aiosmtplib.SMTPResponseException as exc:
                raise _refusal(exc) from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise TemporaryFailure(f"no exchange with the mail server: {exc}") from exc
            try:
                await client.data(outgoing.message.as_bytes(policy=SMTP))
            except aiosmtplib.SMTPResponseException as exc:
                raise _refusal(exc) from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise OutcomeUnknown(f"the connection broke off while sending: {exc}") from exc
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()  # accepted already: a failing goodbye changes nothing
        finally:
            client.close()


def _refusal(exc: aiosmtplib.SMTPResponseException) -> TemporaryFailure | PermanentFailure:
    """The server said no: for now (4xx) or for good (5xx, and anything else it should not have said)."""
    text = f"{exc.code} {exc.message}".strip()
    return TemporaryFailure(text) if 400 <= exc.code < 500 else PermanentFailure(text)
