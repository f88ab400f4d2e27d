"""Every command fails with one line on stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from app.config import ConfigError
from app.db.bootstrap import DatabaseUnavailable
from app.db.embedded import EmbeddedDatabaseError
from app.errors import DomainError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """A refusal with a message for the operator."""


def fail(message: str) -> CommandError:
    return CommandError(message)


def reported(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        except (DomainError, ConfigError, DatabaseUnavailable, EmbeddedDatabaseError) as exc:
            raise CommandError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
