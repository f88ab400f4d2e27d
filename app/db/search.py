"""Text search helpers for queries built from what people type."""

from __future__ import annotations


def escape_like(term: str) -> str:
    """``%`` and ``_`` taken literally in a LIKE pattern (backslash is PostgreSQL's default escape)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(term: str) -> str:
    return f"%{escape_like(term)}%"
