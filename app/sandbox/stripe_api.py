"""The fake Stripe's API door: the API key, idempotency keys, injected failures, and the routes.

Framework-free: :meth:`StripeApi.handle` takes a request's method, path, query, body and headers and returns the
status, the JSON body and the events to deliver, so it is the same code behind the HTTP server and in tests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.sandbox import stripe_balance as balance
from app.sandbox import stripe_billing as billing
from app.sandbox import stripe_checkout as checkout
from app.sandbox.stripe_state import Answer, Happening, StripeState, as_list
from app.sandbox.stripe_wire import ApiError, decode_form, missing, new_id, public

MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the fake saw it (tests assert idempotency keys were sent)."""

    method: str
    path: str
    idempotency_key: str | None
    status: int
    params: Mapping[str, Any]
    replayed: bool = False


@dataclass
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    happenings: list[Happening] = field(default_factory=list)


@dataclass
class InjectedFailure:
    method: str
    path_prefix: str
    status: int
    message: str
    code: str | None
    type: str
    times: int


@dataclass(frozen=True)
class Call:
    """What a route handler gets: the state, the decoded parameters, the path's id, the fake's public URL."""

    state: StripeState
    params: dict[str, Any]
    object_id: str
    base_url: str
    refund_status: str


Route = tuple[str, re.Pattern[str], Callable[[Call], Answer]]


def _get(kind: str, collection: str, param: str = "id") -> Callable[[Call], Answer]:
    def handler(call: Call) -> Answer:
        found = getattr(call.state, collection).get(call.object_id)
        if found is None:
            raise missing(kind, call.object_id, param)
        return Answer(found)

    return handler


def _expire(call: Call) -> Answer:
    return checkout.expire_session(call.state, call.object_id)


ID = r"([A-Za-z0-9_]+)"
ROUTES: list[Route] = [
    ("POST", re.compile(r"/v1/checkout/sessions"), lambda c: checkout.create_session(c.state, c.params, c.base_url)),
    ("GET", re.compile(rf"/v1/checkout/sessions/{ID}"), lambda c: Answer(c.state.session(c.object_id))),
    (
        "GET",
        re.compile(rf"/v1/checkout/sessions/{ID}/line_items"),
        lambda c: Answer(
            as_list(checkout.public_line_items(c.state, c.object_id), f"/v1/checkout/sessions/{c.object_id}/line_items")
        ),
    ),
    (
        "POST",
        re.compile(rf"/v1/checkout/sessions/{ID}/expire"),
        lambda c: checkout.expire_session(c.state, c.object_id),
    ),
    ("POST", re.compile(r"/v1/refunds"), lambda c: c.state.create_refund(c.params, c.refund_status)),
    ("GET", re.compile(rf"/v1/refunds/{ID}"), _get("refund", "refunds")),
    ("POST", re.compile(r"/v1/customers"), lambda c: c.state.create_customer(c.params)),
    ("GET", re.compile(rf"/v1/customers/{ID}"), _get("customer", "customers")),
    ("POST", re.compile(r"/v1/billing_portal/sessions"), lambda c: c.state.create_portal_session(c.params, c.base_url)),
    ("GET", re.compile(r"/v1/subscriptions"), lambda c: Answer(billing.list_subscriptions(c.state, c.params))),
    ("GET", re.compile(rf"/v1/subscriptions/{ID}"), lambda c: Answer(billing.subscription(c.state, c.object_id))),
    ("POST", re.compile(rf"/v1/subscriptions/{ID}"), lambda c: billing.update(c.state, c.object_id, c.params)),
    ("DELETE", re.compile(rf"/v1/subscriptions/{ID}"), lambda c: billing.cancel(c.state, c.object_id)),
    ("GET", re.compile(rf"/v1/payment_intents/{ID}"), _get("payment_intent", "payment_intents")),
    ("GET", re.compile(rf"/v1/charges/{ID}"), _get("charge", "charges")),
    ("GET", re.compile(rf"/v1/invoices/{ID}"), _get("invoice", "invoices")),
    (
        "GET",
        re.compile(r"/v1/balance_transactions"),
        lambda c: Answer(balance.list_balance_transactions(c.state, c.params)),
    ),
    ("GET", re.compile(rf"/v1/balance_transactions/{ID}"), _get("balance_transaction", "balance_transactions")),
    ("GET", re.compile(r"/v1/payouts"), lambda c: Answer(balance.list_payouts(c.state, c.params))),
    ("GET", re.compile(rf"/v1/payouts/{ID}"), lambda c: Answer(balance.payout(c.state, c.object_id))),
]


class StripeApi:
    """Checks the key, replays idempotent requests, runs the route under the state lock, logs the request."""

    def __init__(self, state: StripeState, api_key: str, lock: threading.RLock) -> None:
        self.state = state
        self.api_key = api_key
        self.lock = lock
        self.requests: list[RecordedRequest] = []
        self.failures: list[InjectedFailure] = []
        self.refund_status = "succeeded"
        self._idempotent: dict[str, tuple[tuple[str, str, str], int, dict[str, Any]]] = {}

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.failures.clear()
            self._idempotent.clear()
            self.refund_status = "succeeded"

    def handle(
        self, method: str, path: str, query: str, body: str, headers: Mapping[str, str], base_url: str
    ) -> ApiResponse:
        params = decode_form(body if method == "POST" else query)
        key = headers.get("Idempotency-Key") if method == "POST" else None
        with self.lock:
            response = self._answer(method, path, params, key, headers, base_url)
            self.requests.append(
                RecordedRequest(
                    method,
                    path,
                    key,
                    response.status,
                    params,
                    replayed=response.headers.get("Idempotent-Replayed") == "true",
                )
            )
        response.headers["Request-Id"] = new_id("req")
        if key:
            response.headers["Idempotency-Key"] = key
        return response

    def _answer(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        key: str | None,
        headers: Mapping[str, str],
        base_url: str,
    ) -> ApiResponse:
        try:
            self._authenticate(headers.get("Authorization"))
            self._inject_failure(method, path)
        except ApiError as refusal:
            return ApiResponse(refusal.status, refusal.body())
        fingerprint = (method, path, json.dumps(params, sort_keys=True))
        if key is not None:
            if len(key) > MAX_IDEMPOTENCY_KEY:
                error = ApiError(400, f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters.")
                return ApiResponse(400, error.body())
            if key in self._idempotent:
                return self._replay(key, fingerprint)
        try:
            answer = self._route(method, path, params, base_url)
        except ApiError as refusal:
            # Stripe keeps no idempotent result for a request that failed validation.
            return ApiResponse(refusal.status, refusal.body())
        body = public(answer.body)
        if key is not None:
            self._idempotent[key] = (fingerprint, 200, body)
        return ApiResponse(200, body, happenings=answer.happenings)

    def _authenticate(self, authorization: str | None) -> None:
        if not authorization:
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or given.strip() != self.api_key:
            shown = given.strip()
            raise ApiError(401, f"Invalid API Key provided: {shown[:8]}{'*' * 8}{shown[-4:]}")

    def _inject_failure(self, method: str, path: str) -> None:
        for failure in self.failures:
            if failure.method == method and path.startswith(failure.path_prefix) and failure.times > 0:
                failure.times -= 1
                if failure.times == 0:
                    self.failures.remove(failure)
                raise ApiError(failure.status, failure.message, code=failure.code, type=failure.type)

    def _replay(self, key: str, fingerprint: tuple[str, str, str]) -> ApiResponse:
        first, status, body = self._idempotent[key]
        if first[:2] != fingerprint[:2]:
            error = ApiError(
                400,
                f"Keys for idempotent requests can only be used for the same endpoint they were first used for "
                f"('{first[0]} {first[1]}' vs '{fingerprint[0]} {fingerprint[1]}'). Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
            return ApiResponse(400, error.body())
        if first != fingerprint:
            error = ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used "
                f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
            return ApiResponse(400, error.body())
        return ApiResponse(status, body, headers={"Idempotent-Replayed": "true"})

    def _route(self, method: str, path: str, params: dict[str, Any], base_url: str) -> Answer:
        path = path.rstrip("/")
        for route_method, pattern, handler in ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                object_id = match.group(1) if match.groups() else ""
                return handler(Call(self.state, params, object_id, base_url, self.refund_status))
        raise ApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
            "https://support.stripe.com/.",
        )
