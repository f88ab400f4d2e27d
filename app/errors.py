"""Typed domain errors. Controllers map them once to HTTP problem details, admin flashes and CLI messages."""

from __future__ import annotations

from collections.abc import Mapping

from app.i18n import N_


class DomainError(Exception):
    """A business rule refused the request; the message is safe to show to the user."""

    status_code = 400
    title = N_("Request refused")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404
    title = N_("Page not found")


class ValidationFailed(DomainError):
    """Input failed validation; ``errors`` maps field names to messages."""

    status_code = 422
    title = N_("Invalid input")

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


class Conflict(DomainError):
    status_code = 409
    title = N_("Conflict")


class InvalidTransition(DomainError):
    """A state change that the transition map does not allow."""

    status_code = 409
    title = N_("Not possible in the current state")

    def __init__(self, subject: str, current: str, target: str, allowed: frozenset[str] | set[str]) -> None:
        self.subject = subject
        self.current = current
        self.target = target
        allowed_text = ", ".join(sorted(allowed)) or "none (final state)"
        super().__init__(f"{subject} cannot go from {current} to {target} (allowed from {current}: {allowed_text})")


class PermissionDenied(DomainError):
    status_code = 403
    title = N_("Not allowed")
