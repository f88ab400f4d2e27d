"""One row of facts per order line for the operations report, kept exact by triggers (migration 0035).

The report would otherwise join every line of its period to its order, look up each line's staff events and
refill requests and compute the seconds from payment: a million lines took seconds. ``operations_line`` holds
per line its order's ``paid_at``, provider, state, ``dispatched_at`` and ``finished_at``, the seconds from payment
to each (generated columns), ``staff_acted`` and ``refilled``. Each column is written by the trigger of the row it
comes from, from that row's new values in the transaction that changes it, so the table is never stale and
concurrent changes to one line never overwrite each other (the migration explains the locking).
"""

# Every line, counted afresh (after a bulk load that bypassed the triggers).
REBUILD_SQL = """
INSERT INTO operations_line (line_id, order_id, paid_at, provider_id, fulfillment_status, dispatched_at, finished_at,
                             staff_acted, refilled)
SELECT l.id, l.order_id, o.paid_at, l.provider_id, l.fulfillment_status, l.dispatched_at, l.finished_at,
       l.id IN (SELECT line_id FROM order_event WHERE actor_kind = 'staff' AND line_id IS NOT NULL),
       l.id IN (SELECT order_line_id FROM refill_request)
FROM order_line l JOIN orders o ON o.id = l.order_id
"""
