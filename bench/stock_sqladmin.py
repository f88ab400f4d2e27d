"""The alternative the back office is measured against: a stock SQLAdmin ``ModelView`` over the same ``orders``.

No overrides: the columns, the customer relation (and the lines, which our list shows as "services"), the page
size (50) and the sort (newest first) of our orders list, set as SQLAdmin's documented options. Same models,
same database engine settings as the product. No login (SQLAdmin without an authentication backend), which
only makes it cheaper. Served by granian like ``smplat serve``: ``python bench/stock_sqladmin.py --port N``
with ``SMPLAT_DATABASE_URL`` and ``SMPLAT_SECRET_KEY`` (lines load their provider, whose API key is encrypted).
"""

from __future__ import annotations

import argparse

from sqladmin import Admin, ModelView
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app import models  # noqa: F401 - every mapper, so that relationships resolve
from app.config import get_settings, use_settings
from app.db.engine import create_engine
from app.orders.models import Order


class StockOrderAdmin(ModelView, model=Order):
    column_list = [
        Order.number,
        Order.customer,
        Order.lines,
        Order.gross,
        Order.status,
        Order.payment_status,
        Order.created_at,
    ]
    column_default_sort = [(Order.id, True)]
    page_size = 50


async def health(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    settings = get_settings()
    use_settings(settings)
    if not settings.database_url:
        raise SystemExit("SMPLAT_DATABASE_URL is not set")
    app = Starlette(routes=[Route("/health", health)])
    admin = Admin(app, engine=create_engine(settings.database_url))
    admin.add_view(StockOrderAdmin)
    return app


def main() -> None:
    from granian import Granian  # noqa: PLC0415
    from granian.constants import Interfaces  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    Granian(
        "stock_sqladmin:create_app", factory=True, address="127.0.0.1", port=port, workers=1, interface=Interfaces.ASGI
    ).serve()


if __name__ == "__main__":
    main()
