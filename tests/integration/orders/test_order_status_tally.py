"""Orders by status as the database keeps them for the dashboard: always exactly what counting the orders gives."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

from app.db import migrations
from app.db.urls import conninfo
from app.orders import commands
from app.orders.models import Order, OrderStatusTally
from app.orders.states import OrderStatus
from app.uow import UnitOfWork
from tests import factories

COUNTED = sa.text("SELECT status, count(*) FROM orders GROUP BY status")
TALLIED = sa.text("SELECT status, sum(delta) FROM order_status_tally GROUP BY status HAVING sum(delta) <> 0")


async def by_status(session, query) -> dict[str, int]:
    return {status: int(n) for status, n in (await session.execute(query)).all()}


async def assert_tally_matches(session) -> None:
    assert await by_status(session, TALLIED) == await by_status(session, COUNTED)


async def test_placing_paying_and_canceling_orders_keep_the_tally_exact(session):
    placed = [await factories.place_order(session) for _ in range(3)]
    paid = await factories.paid_order(session)
    await commands.cancel_orders(
        UnitOfWork(session), order_ids=[placed[0].order.id], actor=factories.TEST_ACTOR, reason="test"
    )
    await session.commit()

    assert await by_status(session, TALLIED) == {"pending_payment": 2, "paid": 1, "canceled": 1}
    await session.execute(sa.update(Order).where(Order.id == paid.id).values(status=OrderStatus.IN_FULFILLMENT))
    await session.commit()
    await assert_tally_matches(session)


async def test_changes_that_leave_the_status_alone_add_nothing(session):
    order = await factories.paid_order(session)
    await session.commit()
    rows_before = await session.scalar(sa.select(sa.func.count()).select_from(OrderStatusTally))

    await session.execute(sa.update(Order).where(Order.id == order.id).values(version=Order.version + 1))
    await session.execute(sa.update(Order).where(Order.id == order.id).values(status=OrderStatus.PAID))
    await session.commit()

    assert await session.scalar(sa.select(sa.func.count()).select_from(OrderStatusTally)) == rows_before
    await assert_tally_matches(session)


async def test_a_rolled_back_change_leaves_the_tally_as_it_was(session):
    order = await factories.paid_order(session)
    await session.commit()
    before = await by_status(session, TALLIED)

    await session.execute(sa.update(Order).where(Order.id == order.id).values(status=OrderStatus.IN_FULFILLMENT))
    await session.rollback()

    assert await by_status(session, TALLIED) == before == {"paid": 1}


async def test_deleted_and_truncated_orders_leave_the_tally(session):
    order = await factories.place_order(session)
    await session.commit()
    customer_id = order.order.customer_id
    await session.execute(
        sa.text(
            "INSERT INTO orders (number, customer_id, source, status, payment_status, currency, net, tax, gross, "
            "tax_rate, tax_treatment, tracking_token_hash, created_at, updated_at) VALUES ('SMP-2026-999999', :c, "
            "'admin', 'expired', 'unpaid', 'EUR', 0, 0, 0, 0, 'domestic', :t, now(), now())"
        ),
        {"c": customer_id, "t": "f" * 64},
    )
    await session.commit()
    assert await by_status(session, TALLIED) == {"pending_payment": 1, "expired": 1}

    await session.execute(sa.text("DELETE FROM orders WHERE number = 'SMP-2026-999999'"))
    await session.commit()
    assert await by_status(session, TALLIED) == {"pending_payment": 1}

    await session.execute(sa.text("TRUNCATE orders CASCADE"))
    await session.commit()
    assert await by_status(session, TALLIED) == {}


async def test_the_tally_folds_its_rows_and_stays_exact(session):
    orders = [await factories.paid_order(session) for _ in range(2)]
    await session.commit()

    for flip in range(300):  # 600 status changes: 1,200 rows written to the tally, folded every 512
        target = OrderStatus.IN_FULFILLMENT if flip % 2 == 0 else OrderStatus.PAID
        await session.execute(sa.update(Order).where(Order.id.in_([o.id for o in orders])).values(status=target))
    await session.commit()

    assert await session.scalar(sa.select(sa.func.count()).select_from(OrderStatusTally)) < 600
    assert await by_status(session, TALLIED) == {"paid": 2}
    await assert_tally_matches(session)


async def test_the_migration_counts_the_orders_already_there(empty_database_url):
    migrations.upgrade(empty_database_url, "0006")  # the revision before the tally
    with psycopg.connect(conninfo(empty_database_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customer (email, name, country, locale, created_at, updated_at) "
            "VALUES ('old@example.com', 'Old', 'DE', 'de', now(), now())"
        )
        for n, status in enumerate(["completed", "completed", "expired"]):
            conn.execute(
                "INSERT INTO orders (number, customer_id, source, status, payment_status, currency, net, tax, gross, "
                "tax_rate, tax_treatment, tracking_token_hash, created_at, updated_at) SELECT %s, id, 'admin', %s, "
                "'unpaid', 'EUR', 0, 0, 0, 0, 'domestic', %s, now(), now() FROM customer",
                (f"SMP-2026-00000{n + 1}", status, str(n) * 64),
            )

    migrations.upgrade(empty_database_url)

    with psycopg.connect(conninfo(empty_database_url)) as conn:
        tallied = dict(conn.execute(TALLIED.text).fetchall())
    assert tallied == {"completed": 2, "expired": 1}
