"""The bare apps the storefront and webhook benchmarks are measured against, served by granian like ``smplat serve``.

``python bench/baselines.py hello --port N --workers 2``: Litestar with one route (``GET /`` → "Hello, world!")
and no middleware.

``python bench/baselines.py webhook --port N --workers 2`` (with ``SMPLAT_DATABASE_URL`` and
``SMPLAT_STRIPE_WEBHOOK_SECRET``): ``POST /webhook`` verifies the signature with
``stripe.Webhook.construct_event``, and in one transaction inserts the event id into ``stripe_event``
(``ON CONFLICT DO NOTHING``) and, for a new event, marks the order paid with one ``UPDATE``. ``GET /health``
answers so the benchmark knows it is up. asyncpg pool, no ORM.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from litestar import Litestar, Request, Response, get, post

HELLO = "Hello, world!"


@get("/", media_type="text/plain")
async def hello() -> str:
    return HELLO


def create_hello() -> Litestar:
    return Litestar(route_handlers=[hello])


def create_webhook() -> Litestar:
    import asyncpg  # noqa: PLC0415
    import stripe  # noqa: PLC0415

    from app.db.urls import conninfo  # noqa: PLC0415

    secret = os.environ["SMPLAT_STRIPE_WEBHOOK_SECRET"]
    dsn = conninfo(os.environ["SMPLAT_DATABASE_URL"])
    pool: dict[str, Any] = {}

    async def open_pool(_app: Litestar) -> None:
        pool["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)

    async def close_pool(_app: Litestar) -> None:
        await pool["pool"].close()

    @get("/health", media_type="text/plain")
    async def health() -> str:
        return "ok"

    @post("/webhook", status_code=200)
    async def webhook(request: Request[Any, Any, Any]) -> Response[Any]:
        payload = await request.body()
        try:
            event = stripe.Webhook.construct_event(payload, request.headers.get("stripe-signature", ""), secret)
        except (stripe.SignatureVerificationError, ValueError):
            return Response({"error": "invalid"}, status_code=400)
        order_id = int(event.data.object.metadata["order_id"])
        async with pool["pool"].acquire() as connection, connection.transaction():
            inserted = await connection.fetchval(
                "INSERT INTO stripe_event (id, type, payload) VALUES ($1, $2, $3::jsonb) "
                "ON CONFLICT (id) DO NOTHING RETURNING id",
                event.id,
                event.type,
                payload.decode(),
            )
            if inserted is not None:
                await connection.execute(
                    "UPDATE orders SET status = 'paid', payment_status = 'paid', updated_at = now() "
                    "WHERE id = $1 AND status = 'pending_payment'",
                    order_id,
                )
        return Response({"received": True}, status_code=200)

    return Litestar(route_handlers=[health, webhook], on_startup=[open_pool], on_shutdown=[close_pool])


def main() -> None:
    from granian import Granian  # noqa: PLC0415
    from granian.constants import Interfaces  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", choices=["hello", "webhook"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    Granian(
        f"baselines:create_{args.app}",
        factory=True,
        address="127.0.0.1",
        port=args.port,
        workers=args.workers,
        interface=Interfaces.ASGI,
    ).serve()


if __name__ == "__main__":
    main()
