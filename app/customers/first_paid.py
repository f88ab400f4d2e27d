"""Each customer's first payment (``customer.first_paid_at``), kept by a trigger on ``orders`` (migration 0032).

The trigger sets it to the earliest ``paid_at`` of the customer's orders whenever an order is paid, its payment
time changes or it moves to another customer. A bulk load that bypasses the triggers sets it afresh with this.
"""

REBUILD_SQL = """
UPDATE customer SET first_paid_at = f.first_paid_at
FROM (SELECT customer_id, min(paid_at) AS first_paid_at FROM orders WHERE paid_at IS NOT NULL GROUP BY customer_id) f
WHERE customer.id = f.customer_id
"""
