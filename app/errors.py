"""Typed domain errors: a stable code and a translatable message; no HTTP here.

The faces decide how a refusal is shown: ``app/web/errors.py`` maps the classes to HTTP statuses and problem
details, the admin shows the message on the form in the staff member's language, the CLI prints one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from app.i18n import N_, Message, Translate, message, untranslated


class DomainError(Exception):
    """A business rule refused the request; nothing was written. The message is safe to show to the user.

    ``message`` is an English catalog id (mark it with ``N_``) with ``%(name)s`` placeholders filled from
    ``params``: ``DomainError(N_("Line %(line)s is on hold"), line=3)``.
    """

    code: ClassVar[str] = "refused"
    title: ClassVar[str] = N_("Request refused")

    def __init__(self, text: str | Message, /, **params: Any) -> None:
        self.text = message(text, **params) if params else message(text)
        super().__init__(str(self.text))

    @property
    def message(self) -> str:
        """The English text (logs, CLI)."""
        return str(self.text)

    def translated(self, translate: Translate = untranslated) -> str:
        return self.text.render(translate)


class NotFound(DomainError):
    code = "not_found"
    title = N_("Page not found")


class ValidationFailed(DomainError):
    """Input failed validation; ``errors`` maps field names to messages."""

    code = "invalid"
    title = N_("Invalid input")

    def __init__(self, errors: Mapping[str, str | Message]) -> None:
        self.errors: dict[str, Message] = {name: message(text) for name, text in errors.items()}
        super().__init__("; ".join(f"{name}: {text}" for name, text in self.errors.items()))

    def field_errors(self, translate: Translate = untranslated) -> dict[str, str]:
        return {name: text.render(translate) for name, text in self.errors.items()}

    def translated(self, translate: Translate = untranslated) -> str:
        return "; ".join(f"{name}: {text}" for name, text in self.field_errors(translate).items())


class Conflict(DomainError):
    code = "conflict"
    title = N_("Conflict")


class StaleRecord(Conflict):
    """Someone else changed the record since the form was opened; nothing was saved."""

    code = "stale"


class InvalidTransition(DomainError):
    """A state change that the transition map does not allow."""

    code = "invalid_transition"
    title = N_("Not possible in the current state")

    def __init__(self, subject: str | Message, current: str | Message, target: str | Message) -> None:
        self.subject = message(subject)
        self.current = message(current)
        self.target = message(target)
        super().__init__(
            N_("%(subject)s cannot go from %(current)s to %(target)s"),
            subject=self.subject,
            current=self.current,
            target=self.target,
        )


class PermissionDenied(DomainError):
    code = "forbidden"
    title = N_("Not allowed")
