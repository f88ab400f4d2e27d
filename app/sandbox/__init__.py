"""Loopback stand-ins for the outside systems (Stripe, SMM providers), used by the demo and the tests."""

from __future__ import annotations

from app.sandbox.stripe import FakeStripe

__all__ = ["FakeStripe"]
