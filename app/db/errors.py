"""Database refusals as domain errors: which field a constraint names, never the SQL or the values.

Commands validate before they write (``app.validation.column_errors`` and each domain's rules), so these are
the rare cases a rule could not see in advance, such as two people saving the same slug at the same moment.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.errors import Conflict, DomainError, ValidationFailed
from app.i18n import N_

UNIQUE_VIOLATION = "23505"
NOT_NULL_VIOLATION = "23502"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
DATA_EXCEPTION_CLASS = "22"
KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")


def _driver_error(exc: DBAPIError) -> Any:
    original = exc.orig
    return getattr(original, "__cause__", None) or original  # SQLAlchemy's asyncpg adapter wraps asyncpg's error


def _check_columns(model: type[Any] | None, constraint: str | None) -> list[str]:
    """The model's columns a check constraint (by its database name) mentions."""
    if model is None or not constraint:
        return []
    table = sa.inspect(model).local_table
    for check in table.constraints:
        name = str(check.name or "")
        if isinstance(check, sa.CheckConstraint) and name and constraint.endswith(name):
            text = str(check.sqltext)
            return [column.key for column in table.columns if re.search(rf"\b{re.escape(column.name)}\b", text)]
    return []


def database_refusal(exc: DBAPIError, model: type[Any] | None = None) -> DomainError:
    """A readable refusal for a write the database rejected (the transaction is lost: roll it back)."""
    driver = _driver_error(exc)
    state = str(getattr(driver, "sqlstate", None) or getattr(driver, "pgcode", None) or "")
    if state == UNIQUE_VIOLATION:
        match = KEY_COLUMNS.search(str(getattr(driver, "detail", "") or ""))
        columns = [name.strip() for name in match.group(1).split(",")] if match else []
        if columns:
            return ValidationFailed({name: N_("is already used by another record") for name in columns})
        return Conflict(N_("Not saved: a record with these values already exists."))
    if state == NOT_NULL_VIOLATION and (column := getattr(driver, "column_name", None)):
        return ValidationFailed({column: N_("is required")})
    if state == FOREIGN_KEY_VIOLATION:
        return Conflict(N_("Not saved: a linked record does not exist (any more)."))
    if state == CHECK_VIOLATION:
        columns = _check_columns(model, getattr(driver, "constraint_name", None))
        if columns:
            return ValidationFailed({name: N_("is not allowed together with the other values") for name in columns})
        return Conflict(N_("Not saved: the values break a rule for this record."))
    if state.startswith(DATA_EXCEPTION_CLASS) or isinstance(exc, sa.exc.DataError):
        return DomainError(
            N_("Not saved: a value is too long or too large, or contains characters that are not allowed.")
        )
    return DomainError(N_("Not saved: the database refused the change. Please check the values and try again."))
