"""The bare tracking page ``bench/tracking.py`` measures the product against, served by granian like ``smplat serve``.

``python bench/_tracking_bare.py --port N --workers 2`` (with ``SMPLAT_DATABASE_URL``): ``GET /track/{token}``
hashes the token and runs three queries on an asyncpg pool (the order by its token hash, its lines with their
service names, its events), then renders them with one Jinja template of about the product page's size. No ORM,
no middleware, no translations. ``GET /health`` answers so the benchmark knows it is up.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any

from jinja2 import Environment
from litestar import Litestar, Response, get

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>Order {{ order.number }}</title>
<link rel="stylesheet" href="/static/smplat.css"></head>
<body><header class="site-header"><a class="brand" href="/">SMPLaT</a><nav class="nav"><a href="/services">Services</a>
<a href="/lang/de">DE</a> <a href="/lang/en">EN</a></nav></header>
<main class="container"><section class="order-page" data-track data-status="{{ order.status }}">
<p class="muted breadcrumbs">Your order</p><h1>Order {{ order.number }}</h1>
<p class="status-line"><span class="badge">{{ order.status }}</span>
<span class="muted">placed {{ order.created_at.strftime("%d %b %Y, %H:%M") }}</span></p>
<div class="notice notice-success">Thank you, your payment has arrived. Delivery starts automatically; this page
shows its progress.</div>
<div class="card"><h2>Delivery</h2><ul class="track-lines">
{% for line in lines %}<li class="track-line" id="line-{{ line.position }}" data-line="{{ line.position }}">
<div class="track-head"><div><strong>{{ line.service_name }}</strong>
<div class="muted link-text" title="{{ line.link }}">{{ line.link }}</div></div>
<span class="badge" data-label>{{ line.fulfillment_status }}</span></div>
<div class="progress" role="progressbar" aria-label="Delivered" aria-valuemin="0" aria-valuemax="100" data-bar>
<span class="progress-fill" style="width: {{ line.percent }}%"></span></div>
<p class="track-numbers muted"><span>Ordered: <strong>{{ line.quantity }}</strong></span>
<span>Delivered: <strong data-delivered>{{ line.delivered }}</strong></span></p>
<p class="track-eta muted" data-eta><span>Expected to finish around {{ line.finish }}</span></p></li>{% endfor %}
</ul><ul class="facts totals"><li><span>Net</span><strong>{{ order.net }} {{ order.currency }}</strong></li>
<li><span>VAT</span><strong>{{ order.tax }} {{ order.currency }}</strong></li>
<li class="total"><span>Total</span><strong>{{ order.gross }} {{ order.currency }}</strong></li></ul></div>
<div class="card"><h2>What happened</h2><ol class="timeline">
{% for event in events %}<li>
<time datetime="{{ event.at.isoformat() }}">{{ event.at.strftime("%d %b %Y, %H:%M") }}</time>
<span>{{ event.kind }} {{ event.to_state or "" }}</span></li>{% endfor %}</ol></div>
<p class="muted"><small>Keep this page's address: it is your personal link to this order. Questions? Write to us
and mention your order number.</small></p></section></main>
<footer class="site-footer"><div class="container">Prices include VAT where it applies.</div></footer>
<script src="/static/tracking.js" defer></script></body></html>
"""
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "same-origin"}


def create_app() -> Litestar:
    import asyncpg  # noqa: PLC0415

    from app.db.urls import conninfo  # noqa: PLC0415

    dsn = conninfo(os.environ["SMPLAT_DATABASE_URL"])
    template = Environment(autoescape=True).from_string(PAGE)
    pool: dict[str, Any] = {}

    async def open_pool(_app: Litestar) -> None:
        pool["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)

    async def close_pool(_app: Litestar) -> None:
        await pool["pool"].close()

    @get("/health", media_type="text/plain")
    async def health() -> str:
        return "ok"

    @get("/track/{token:str}")
    async def track(token: str) -> Response[Any]:
        digest = hashlib.sha256(token[:200].encode()).hexdigest()
        async with pool["pool"].acquire() as connection:
            order = await connection.fetchrow(
                "SELECT id, number, status, currency, net, tax, gross, created_at FROM orders "
                "WHERE tracking_token_hash = $1",
                digest,
            )
            if order is None:
                return Response("not found", status_code=404, headers=HEADERS)
            lines = await connection.fetch(
                "SELECT position, service_name, link, quantity, remains, fulfillment_status FROM order_line "
                "WHERE order_id = $1 ORDER BY position",
                order["id"],
            )
            events = await connection.fetch(
                "SELECT kind, to_state, at FROM order_event WHERE order_id = $1 ORDER BY at, id LIMIT 500",
                order["id"],
            )
        shown = [
            {
                **dict(line),
                "delivered": line["quantity"] - (line["remains"] or 0),
                "percent": (line["quantity"] - (line["remains"] or 0)) * 100 // max(line["quantity"], 1),
                "finish": order["created_at"].strftime("%d %b"),
            }
            for line in lines
        ]
        html = template.render(order=order, lines=shown, events=events)
        return Response(html, media_type="text/html", headers=HEADERS)

    return Litestar(route_handlers=[health, track], on_startup=[open_pool], on_shutdown=[close_pool])


def main() -> None:
    from granian import Granian  # noqa: PLC0415
    from granian.constants import Interfaces  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    Granian(
        "_tracking_bare:create_app",
        factory=True,
        address="127.0.0.1",
        port=args.port,
        workers=args.workers,
        interface=Interfaces.ASGI,
    ).serve()


if __name__ == "__main__":
    main()
