"""Who did something: written on every event and audit row."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    SYSTEM = "system"
    STAFF = "staff"
    CUSTOMER = "customer"
    PROVIDER = "provider"
    STRIPE = "stripe"
    WORKER = "worker"
    CLI = "cli"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str | None = None
    label: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, label)

    @classmethod
    def staff(cls, user_id: int, email: str) -> Actor:
        return cls(ActorKind.STAFF, str(user_id), email)

    @classmethod
    def customer(cls, customer_id: int | None = None, label: str | None = None) -> Actor:
        return cls(ActorKind.CUSTOMER, None if customer_id is None else str(customer_id), label)

    @classmethod
    def cli(cls, label: str = "smplat command line") -> Actor:
        return cls(ActorKind.CLI, None, label)

    @classmethod
    def worker(cls, label: str = "worker") -> Actor:
        return cls(ActorKind.WORKER, None, label)

    def describe(self) -> str:
        return self.label or (f"{self.kind}:{self.id}" if self.id else str(self.kind))
