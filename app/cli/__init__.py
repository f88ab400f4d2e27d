"""The ``smplat`` command."""

from __future__ import annotations

from app.cli.invoices import invoices
from app.cli.main import main
from app.cli.report import report

main.add_command(report)
main.add_command(invoices)

__all__ = ["main"]
