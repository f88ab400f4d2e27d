"""The fake SMM panel's bookkeeping: services, orders, refills, cancels and balance, as API v2 answers them.

Pure state behind a lock, driven by a clock (seconds, a float): an order is ``Pending`` for ``start_after``
seconds, then ``In progress`` while its units are delivered over ``delivery_seconds`` (a drip-feed's runs start
``interval`` minutes apart), then ``Completed`` — or ``Partial`` when it is one of the orders chosen (by seed and
order id, so the same every run) to stop short. The balance is the funds minus every order's charge; a Partial
order is charged for what it delivered, a Canceled one not at all. The HTTP side is :mod:`app.sandbox.provider`.
"""

from __future__ import annotations

import math
import random
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CHARGE_PLACES = Decimal("0.00001")
MAX_IDS = 100

INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_ORDER = "Incorrect order ID"
INCORRECT_REFILL = "Incorrect refill ID"
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
ACTIVE_ORDER = "You have active order with this link. Please wait until order being completed."


@dataclass(frozen=True)
class SandboxService:
    """One entry of the panel's ``services``; ``rate`` per 1000 (per package for ``Package``)."""

    id: int
    name: str
    rate: Decimal
    min: int = 10
    max: int = 100_000
    type: str = "Default"  # Default, Package, Custom Comments, Subscriptions, Poll
    category: str = "Instagram"
    refill: bool = False
    cancel: bool = False

    def listing(self) -> dict[str, Any]:
        return {
            "service": self.id,
            "name": self.name,
            "type": self.type,
            "category": self.category,
            "rate": str(self.rate),
            "min": str(self.min),
            "max": str(self.max),
            "refill": self.refill,
            "cancel": self.cancel,
        }


DEFAULT_SERVICES: tuple[SandboxService, ...] = (
    SandboxService(1, "Instagram Followers", Decimal("0.90"), 50, 10_000, refill=True, cancel=True),
    SandboxService(2, "Instagram Likes", Decimal("0.45"), 20, 50_000, cancel=True),
    SandboxService(3, "Instagram Custom Comments", Decimal("12.00"), 5, 500, type="Custom Comments"),
    SandboxService(4, "Instagram Story Views Package", Decimal("2.50"), 1, 1, type="Package"),
    SandboxService(5, "Instagram Auto Likes", Decimal("0.60"), 50, 5_000, type="Subscriptions"),
    SandboxService(6, "YouTube Poll Votes", Decimal("3.00"), 100, 10_000, type="Poll", category="YouTube"),
)


@dataclass(frozen=True)
class Simulation:
    """How orders move; times in seconds of the sandbox's clock."""

    start_after: float = 5.0
    delivery_seconds: float = 60.0  # a whole order (a drip-feed: each run)
    partial_share: float = 0.1  # of orders stop short and end Partial
    refill_seconds: float = 30.0  # from request to Completed (or Rejected)
    refill_reject_share: float = 0.0
    seed: int = 0
    first_order_id: int = 23501
    one_active_order_per_link: bool = True  # per link and service, like real panels' refusal


@dataclass(frozen=True)
class SandboxOrder:
    """One accepted ``add``: the order log that proves (or disproves) duplicates."""

    order_id: int
    service: int
    link: str | None  # the username for subscriptions
    quantity: int  # units to deliver (all runs of a drip-feed; comments counted)
    charge: Decimal
    placed_at: float
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)  # as received, no key


@dataclass
class _Order:
    log: SandboxOrder
    target: int  # what it will deliver (less than quantity when it ends Partial)
    start_count: int
    runs: int = 1
    interval_seconds: float = 0.0
    canceled_at: float | None = None


@dataclass
class _Refill:
    refill_id: int
    order_id: int
    requested_at: float
    rejected: bool


def _share(seed: int, purpose: str, number: int) -> float:
    """A fraction in [0, 1) fixed by seed, purpose and id: the same order behaves the same every run."""
    return random.Random(f"{seed}:{purpose}:{number}").random()  # noqa: S311 - simulation, not security


def _money(value: Decimal) -> str:
    return str(value.quantize(CHARGE_PLACES, rounding=ROUND_HALF_UP))


class Refused(Exception):
    """An ``{"error": …}`` answer."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _int(value: str | None, error: str, minimum: int = 0) -> int:
    try:
        number = int((value or "").strip())
    except ValueError:
        raise Refused(error) from None
    if number < minimum:
        raise Refused(error)
    return number


class SmmPanel:
    """The panel's state. ``answer(fields)`` is one API call: a JSON-able answer, errors as ``{"error": …}``."""

    def __init__(
        self,
        *,
        api_key: str,
        services: Sequence[SandboxService] = DEFAULT_SERVICES,
        simulation: Simulation | None = None,
        balance: Decimal = Decimal("1000.00"),
        currency: str = "USD",
        clock: Callable[[], float],
    ) -> None:
        self.api_key = api_key
        self.services = {service.id: service for service in services}
        self._known = dict(self.services)  # also services no longer listed, for their orders
        self.simulation = simulation or Simulation()
        self.currency = currency
        self.clock = clock
        self._funds = balance
        self._orders: dict[int, _Order] = {}
        # Kept as orders are placed, so that an ``add`` costs the same with ten orders or ten thousand:
        self._charged = Decimal(0)  # every order's full charge (partial and canceled orders later cost less)
        self._by_link: dict[tuple[str, int], list[int]] = {}  # (link, service) -> its orders
        self._refills: dict[int, _Refill] = {}
        self._next_order = self.simulation.first_order_id
        self._lock = threading.RLock()

    # -- for tests and the demo ----------------------------------------------------------------------------------

    @property
    def orders(self) -> tuple[SandboxOrder, ...]:
        with self._lock:
            return tuple(order.log for order in self._orders.values())

    def balance(self) -> Decimal:
        with self._lock:
            now = self.clock()
            return self._funds - sum((self._charge(order, now) for order in self._orders.values()), Decimal(0))

    def top_up(self, amount: Decimal) -> None:
        with self._lock:
            self._funds += amount

    def set_services(self, services: Sequence[SandboxService]) -> None:
        """The panel changes its list (placed orders keep the terms of their service)."""
        with self._lock:
            self.services = {service.id: service for service in services}
            self._known |= self.services

    def status_of(self, order_id: int) -> dict[str, str]:
        with self._lock:
            return self._status(self._orders[order_id], self.clock())

    # -- API v2 --------------------------------------------------------------------------------------------------

    def answer(self, fields: Mapping[str, str]) -> Any:
        with self._lock:
            try:
                if fields.get("key") != self.api_key:
                    raise Refused(INVALID_KEY)
                handler = {
                    "services": self._services,
                    "add": self._add,
                    "status": self._status_action,
                    "refill": self._refill_action,
                    "refill_status": self._refill_status_action,
                    "cancel": self._cancel_action,
                    "balance": self._balance_action,
                }.get(fields.get("action", ""))
                if handler is None:
                    raise Refused(INCORRECT_REQUEST)
                return handler(fields)
            except Refused as refused:
                return {"error": refused.message}

    def _services(self, _fields: Mapping[str, str]) -> Any:
        return [service.listing() for service in self.services.values()]

    def _balance_action(self, _fields: Mapping[str, str]) -> Any:
        return {"balance": _money(self.balance()), "currency": self.currency}

    # -- add -----------------------------------------------------------------------------------------------------

    def _add(self, fields: Mapping[str, str]) -> Any:
        service = self.services.get(_int(fields.get("service"), INCORRECT_SERVICE))
        if service is None:
            raise Refused(INCORRECT_SERVICE)
        link, quantity, charge, runs, interval = self._order_terms(service, fields)
        now = self.clock()
        same_link = self._by_link.setdefault((link, service.id), [])
        if self.simulation.one_active_order_per_link and any(
            not self._is_final(self._orders[other], now) for other in same_link
        ):
            raise Refused(ACTIVE_ORDER)
        # Every order charged in full is the least the balance can be: only below the charge is it worked out.
        if self._funds - self._charged < charge and self.balance() < charge:
            raise Refused(NOT_ENOUGH_FUNDS)
        order_id = self._next_order
        self._next_order += 1
        same_link.append(order_id)
        self._charged += charge
        partial = _share(self.simulation.seed, "partial", order_id) < self.simulation.partial_share
        stop_at = 0.3 + 0.6 * _share(self.simulation.seed, "stop", order_id)
        self._orders[order_id] = _Order(
            log=SandboxOrder(
                order_id,
                service.id,
                link,
                quantity,
                charge,
                now,
                {k: v for k, v in fields.items() if k != "key"},
            ),
            target=math.floor(quantity * stop_at) if partial else quantity,
            start_count=100 + zlib.crc32((link or "").encode()) % 5000,
            runs=runs,
            interval_seconds=interval * 60.0,
        )
        return {"order": order_id}

    def _order_terms(self, service: SandboxService, fields: Mapping[str, str]) -> tuple[str, int, Decimal, int, int]:
        """(link, units to deliver, charge, runs, interval) of a valid ``add``; refuses the invalid."""
        kind = service.type.lower()
        runs, interval = 1, 0
        if kind == "subscriptions":
            link = (fields.get("username") or "").strip()
            low = _int(fields.get("min"), INCORRECT_REQUEST, 1)
            high = _int(fields.get("max"), INCORRECT_REQUEST, 1)
            posts = _int(fields.get("posts"), INCORRECT_REQUEST, 1) if fields.get("posts") else 1
            if low > high:
                raise Refused(INCORRECT_REQUEST)
            self._within(service, low)
            self._within(service, high)
            units = high * posts
        else:
            link = (fields.get("link") or "").strip()
            if kind == "package":
                units = 1
            elif kind == "custom comments":
                comments = [line for line in (fields.get("comments") or "").splitlines() if line.strip()]
                units = len(comments)
                self._within(service, units)
            else:
                quantity = _int(fields.get("quantity"), INCORRECT_REQUEST, 1)
                self._within(service, quantity)
                if kind == "poll":
                    _int(fields.get("answer_number"), INCORRECT_REQUEST, 1)
                if fields.get("runs") or fields.get("interval"):
                    runs = _int(fields.get("runs"), INCORRECT_REQUEST, 1)
                    interval = _int(fields.get("interval"), INCORRECT_REQUEST, 0)
                units = quantity * runs
        if not link or any(c.isspace() for c in link):
            raise Refused("Incorrect link" if kind != "subscriptions" else "Incorrect username")
        per = Decimal(1) if kind == "package" else Decimal(units) / 1000
        charge = (service.rate * per).quantize(CHARGE_PLACES, rounding=ROUND_HALF_UP)
        return link, units, charge, runs, interval

    @staticmethod
    def _within(service: SandboxService, quantity: int) -> None:
        if quantity < service.min:
            raise Refused(f"Quantity less than minimal {service.min}")
        if quantity > service.max:
            raise Refused(f"Quantity more than maximal {service.max}")

    # -- the simulation ------------------------------------------------------------------------------------------

    def _delivered(self, order: _Order, now: float) -> int:
        """Units delivered by ``now`` (capped at the order's target, frozen when it was canceled)."""
        sim = self.simulation
        at = now if order.canceled_at is None else min(now, order.canceled_at)
        start = order.log.placed_at + sim.start_after
        per_run = order.log.quantity // order.runs
        done = 0
        for run in range(order.runs):
            elapsed = at - start - run * order.interval_seconds
            if elapsed <= 0:
                break
            share = 1.0 if sim.delivery_seconds <= 0 else min(1.0, elapsed / sim.delivery_seconds)
            done += math.floor(per_run * share)
        return min(done, order.target)

    def _is_final(self, order: _Order, now: float) -> bool:
        if order.canceled_at is not None and now >= order.canceled_at:
            return True
        started = now >= order.log.placed_at + self.simulation.start_after
        return started and self._delivered(order, now) >= order.target

    def _state(self, order: _Order, now: float) -> tuple[str, int]:
        """(status, delivered) at ``now``."""
        delivered = self._delivered(order, now)
        if self._is_final(order, now):
            if delivered == 0:
                return "Canceled", 0
            return ("Completed" if delivered >= order.log.quantity else "Partial"), delivered
        if now < order.log.placed_at + self.simulation.start_after:
            return "Pending", 0
        return "In progress", delivered

    def _charge(self, order: _Order, now: float) -> Decimal:
        status, delivered = self._state(order, now)
        if status == "Canceled":
            return Decimal(0)
        if status == "Partial":
            share = Decimal(delivered) / Decimal(order.log.quantity)
            return (order.log.charge * share).quantize(CHARGE_PLACES, rounding=ROUND_HALF_UP)
        return order.log.charge

    def _status(self, order: _Order, now: float) -> dict[str, str]:
        status, delivered = self._state(order, now)
        return {
            "charge": _money(self._charge(order, now)),
            "start_count": str(order.start_count if status != "Pending" else 0),
            "status": status,
            "remains": str(order.log.quantity - delivered),
            "currency": self.currency,
        }

    # -- status, refill, cancel ----------------------------------------------------------------------------------

    @staticmethod
    def _many(value: str | None) -> list[str]:
        ids = [part.strip() for part in (value or "").split(",") if part.strip()]
        if not ids:
            raise Refused(INCORRECT_REQUEST)
        if len(ids) > MAX_IDS:
            raise Refused(f"Too many ids (at most {MAX_IDS})")
        return ids

    def _order(self, text: str) -> _Order:
        order = self._orders.get(int(text)) if text.isdigit() else None
        if order is None:
            raise Refused(INCORRECT_ORDER)
        return order

    def _status_action(self, fields: Mapping[str, str]) -> Any:
        now = self.clock()
        if "orders" in fields:
            answer: dict[str, Any] = {}
            for text in self._many(fields["orders"]):
                try:
                    answer[text] = self._status(self._order(text), now)
                except Refused as refused:
                    answer[text] = {"error": refused.message}
            return answer
        return self._status(self._order((fields.get("order") or "").strip()), now)

    def _new_refill(self, text: str) -> _Refill:
        order = self._order(text)
        now = self.clock()
        if not self._known[order.log.service].refill:
            raise Refused("Refill is disabled for this service")
        if self._state(order, now)[0] not in ("Completed", "Partial"):
            raise Refused("Order is not completed yet")
        if any(r.order_id == order.log.order_id and not self._refill_final(r, now) for r in self._refills.values()):
            raise Refused("Refill is already in progress")
        refill_id = len(self._refills) + 1
        rejected = _share(self.simulation.seed, "refill", refill_id) < self.simulation.refill_reject_share
        self._refills[refill_id] = _Refill(refill_id, order.log.order_id, now, rejected)
        return self._refills[refill_id]

    def _refill_action(self, fields: Mapping[str, str]) -> Any:
        if "orders" in fields:
            answer: list[dict[str, Any]] = []
            for text in self._many(fields["orders"]):
                key: int | str = int(text) if text.isdigit() else text
                try:
                    answer.append({"order": key, "refill": self._new_refill(text).refill_id})
                except Refused as refused:
                    answer.append({"order": key, "refill": {"error": refused.message}})
            return answer
        return {"refill": str(self._new_refill((fields.get("order") or "").strip()).refill_id)}

    def _refill_final(self, refill: _Refill, now: float) -> bool:
        return self._refill_status(refill, now) in ("Completed", "Rejected")

    def _refill_status(self, refill: _Refill, now: float) -> str:
        elapsed, total = now - refill.requested_at, self.simulation.refill_seconds
        if refill.rejected and elapsed >= total / 2:
            return "Rejected"
        if elapsed >= total:
            return "Completed"
        return "Pending" if elapsed < total / 3 else "In progress"

    def _refill(self, text: str) -> _Refill:
        refill = self._refills.get(int(text)) if text.isdigit() else None
        if refill is None:
            raise Refused(INCORRECT_REFILL)
        return refill

    def _refill_status_action(self, fields: Mapping[str, str]) -> Any:
        now = self.clock()
        if "refills" in fields:
            answer: list[dict[str, Any]] = []
            for text in self._many(fields["refills"]):
                key: int | str = int(text) if text.isdigit() else text
                try:
                    answer.append({"refill": key, "status": self._refill_status(self._refill(text), now)})
                except Refused as refused:
                    answer.append({"refill": key, "status": {"error": refused.message}})
            return answer
        return {"status": self._refill_status(self._refill((fields.get("refill") or "").strip()), now)}

    def _cancel_one(self, text: str) -> None:
        order = self._order(text)
        now = self.clock()
        if not self._known[order.log.service].cancel:
            raise Refused("Cancel is disabled for this service")
        if self._is_final(order, now):
            raise Refused("Order cannot be canceled")
        order.canceled_at = now

    def _cancel_action(self, fields: Mapping[str, str]) -> Any:
        answer: list[dict[str, Any]] = []
        for text in self._many(fields.get("orders")):
            key: int | str = int(text) if text.isdigit() else text
            try:
                self._cancel_one(text)
                answer.append({"order": key, "cancel": 1})
            except Refused as refused:
                answer.append({"order": key, "cancel": {"error": refused.message}})
        return answer
