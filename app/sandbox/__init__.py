"""Loopback stand-ins for the outside systems, used by the demo and the tests (see ARCHITECTURE.md)."""

from __future__ import annotations

from app.sandbox.stripe import FakeStripe

__all__ = ["FakeStripe"]
