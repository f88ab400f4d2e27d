"""A synthetic sales history for trying the reports and for the benchmarks: ``smplat seed --synthetic --orders N``.

On top of the demo catalog (the product's own demo seed), two years up to now of customers (Germany, Austria,
Switzerland, the Netherlands, the US; a quarter of them companies), orders that grow over time and follow the
seasons, their lines over every active service, payments, refunds with their credit notes, an invoice for every
paid order (with its snapshots, without a PDF: none is rendered), subscriptions whose renewals are orders, and
the storefront funnel's events. Everything is generated inside PostgreSQL by set-based ``INSERT … SELECT FROM
generate_series`` in one transaction (a crash leaves nothing half-seeded): no row travels through Python, which
makes it faster than ``COPY`` fed from Python. Data are reproducible (``setseed``) and consistent with the
schema's CHECKs and the state machines: order, payment and line statuses agree, totals add up, order numbers
follow ``SMP-YYYY-NNNNNN`` off the sequence, invoice and credit note numbers are gapless per year off
``invoice_sequence``. The triggers are skipped during the load (the replica role), so what they keep (orders by
status, the daily sales totals, the operations report's line facts) is counted afresh at the end.

Orders carry the idempotency key ``synthetic:<id>``, as the demo's carry ``seed:…``: any other order is real, and
the seed refuses to add a history next to real orders unless forced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from app.analytics.funnel_days import REBUILD_SQL as REBUILD_FUNNEL_SQL
from app.analytics.operations_lines import REBUILD_SQL as REBUILD_OPERATIONS_SQL
from app.analytics.sales_days import REBUILD_SQL
from app.analytics.sales_line_days import REBUILD_SQL as REBUILD_LINES_SQL
from app.customers.first_paid import REBUILD_SQL as REBUILD_FIRST_PAID_SQL
from app.db.session import engine_for, transaction
from app.db.urls import conninfo
from app.demo.seed import seed_demo_data
from app.invoicing.snapshots import SELLER_FIELDS, legal_note, legal_note_texts
from app.invoicing.tax import TaxTreatment

HISTORY = timedelta(days=730)
SEED = 0.42
ORDERS_PER_CUSTOMER = 20
FEWEST_CUSTOMERS = 50

REAL_ORDERS_SQL = """
SELECT count(*) FROM orders
WHERE idempotency_key IS NULL OR NOT (idempotency_key LIKE 'seed:%' OR idempotency_key LIKE 'synthetic:%')
"""

CUSTOMERS_SQL = """
INSERT INTO customer (email, name, company, address_line1, postal_code, city, country, vat_id, locale,
                      created_at, updated_at)
SELECT lower(first_name || '.' || last_name || (%(customers_before)s + n) || '@' || domain),
       initcap(first_name) || ' ' || initcap(last_name),
       CASE WHEN is_company THEN initcap(last_name) || ' ' || legal_form END,
       street || ' ' || (1 + mod(n, 120)),
       CASE country WHEN 'DE' THEN lpad((1067 + mod(n, 98000))::text, 5, '0') WHEN 'US' THEN '10001'
                    ELSE (1000 + mod(n, 8999))::text END,
       CASE country WHEN 'DE' THEN city WHEN 'AT' THEN 'Wien' WHEN 'CH' THEN 'Zürich' WHEN 'NL' THEN 'Amsterdam'
                    ELSE 'New York' END,
       country,
       CASE WHEN is_company AND country = 'DE' THEN 'DE' || lpad(n::text, 9, '0')
            WHEN is_company AND country = 'AT' THEN 'ATU' || lpad(n::text, 8, '0')
            WHEN is_company AND country = 'NL' THEN 'NL' || lpad(n::text, 9, '0') || 'B01' END,
       CASE WHEN country IN ('DE', 'AT', 'CH') THEN 'de' ELSE 'en' END,
       joined, joined
FROM (
    SELECT n,
           (ARRAY['lena', 'jonas', 'anna', 'lukas', 'mia', 'felix', 'emma', 'paul', 'sofia', 'leon', 'hannah', 'ben',
                  'lea', 'elias', 'marie', 'noah', 'laura', 'finn', 'julia', 'max', 'clara', 'tim', 'nina', 'jan',
                  'sarah', 'david', 'lisa', 'tom', 'katharina', 'moritz'])[1 + mod(n, 30)] AS first_name,
           (ARRAY['schmidt', 'mueller', 'schneider', 'fischer', 'weber', 'meyer', 'wagner', 'becker', 'schulz',
                  'hoffmann', 'koch', 'richter', 'klein', 'wolf', 'schroeder', 'neumann', 'schwarz', 'braun',
                  'zimmermann', 'krueger', 'hartmann', 'lange', 'werner', 'krause', 'lehmann', 'koehler', 'maier',
                  'gruber', 'huber', 'bauer', 'jansen', 'vogel', 'frank', 'berger', 'kaiser', 'fuchs', 'peters',
                  'scholz', 'moeller', 'keller'])[1 + mod(n / 30, 40)] AS last_name,
           (ARRAY['gmail.com', 'web.de', 'gmx.de', 't-online.de', 'outlook.com', 'icloud.com', 'posteo.de'])
               [1 + mod(n / 7, 7)] AS domain,
           (ARRAY['Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Schillerstraße', 'Lindenallee', 'Marktplatz'])
               [1 + mod(n, 6)] AS street,
           (ARRAY['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt am Main', 'Stuttgart', 'Düsseldorf', 'Leipzig'])
               [1 + mod(n, 8)] AS city,
           (ARRAY['GmbH', 'UG (haftungsbeschränkt)', 'KG', 'e.K.', 'Media GmbH'])[1 + mod(n, 5)] AS legal_form,
           CASE WHEN r_country < 0.85 THEN 'DE' WHEN r_country < 0.92 THEN 'AT' WHEN r_country < 0.96 THEN 'CH'
                WHEN r_country < 0.98 THEN 'NL' ELSE 'US' END AS country,
           r_company < 0.25 AS is_company,
           %(first_order)s::timestamptz - r_joined * interval '365 days' AS joined
    FROM (SELECT n, random() AS r_country, random() AS r_company, random() AS r_joined
          FROM generate_series(1, %(customers)s) AS n) AS raw
) AS person
"""

# Bulk customers by index 0..n-1, with the tax facts their orders record: Germany domestic; Austrian and Dutch
# companies reverse charge, consumers there through the One-Stop-Shop at their country's rate; outside the EU none.
BUYERS_SQL = """
CREATE TEMP TABLE synthetic_buyer ON COMMIT DROP AS
SELECT idx, id, country, is_business, vat_id, locale, buyer, tax_treatment,
       CASE WHEN tax_treatment = 'domestic' THEN 19.00 WHEN tax_treatment <> 'eu_oss' THEN 0.00
            WHEN country = 'AT' THEN 20.00 ELSE 21.00 END AS tax_rate
FROM (
    SELECT (row_number() OVER (ORDER BY id))::int - 1 AS idx, id, country, company IS NOT NULL AS is_business, vat_id,
           locale,
           CASE WHEN country = 'DE' THEN 'domestic' WHEN vat_id IS NOT NULL THEN 'reverse_charge'
                WHEN country IN ('AT', 'NL') THEN 'eu_oss'
                WHEN company IS NOT NULL THEN 'non_eu_business' ELSE 'non_eu_consumer' END AS tax_treatment,
           jsonb_build_object('customer_id', id, 'name', name, 'company', company, 'email', email,
                              'address_line1', address_line1, 'address_line2', address_line2,
                              'postal_code', postal_code, 'city', city, 'country', country,
                              'is_business', company IS NOT NULL, 'vat_id', vat_id) AS buyer
    FROM customer WHERE id > %(customers_before)s
) AS customer
"""

SERVICES_SQL = """
CREATE TEMP TABLE synthetic_service ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY s.id))::int - 1 AS idx, s.id, s.name_en, s.kind, s.price, s.min_quantity,
       s.max_quantity, s.provider_service_id, ps.provider_id, ps.rate AS provider_rate, c.platform
FROM service AS s JOIN category AS c ON c.id = s.category_id
LEFT JOIN provider_service AS ps ON ps.id = s.provider_service_id
WHERE s.kind = 'default' AND s.is_active
"""

# Orders ascend in time with their id; the last three days hold the orders still open. The business grows (the
# power below 1 puts more orders into later days) and has seasons (the sine: a yearly wave of about ±20 %).
ORDER_PLAN_SQL = """
CREATE TEMP TABLE synthetic_order ON COMMIT DROP AS
SELECT g, id, created_at, customer_idx, n_lines, status, source, customer_note,
       CASE WHEN status IN ('pending_payment', 'expired') THEN 'unpaid'
            WHEN status IN ('paid', 'in_fulfillment') THEN CASE WHEN r_pay < 0.002 THEN 'disputed' ELSE 'paid' END
            WHEN status = 'completed' THEN CASE WHEN r_pay < 0.010 THEN 'partially_refunded'
                                                WHEN r_pay < 0.015 THEN 'refunded'
                                                WHEN r_pay < 0.017 THEN 'disputed' ELSE 'paid' END
            WHEN status = 'partially_completed' THEN CASE WHEN r_pay < 0.7 THEN 'partially_refunded' ELSE 'paid' END
            ELSE CASE WHEN r_pay < 0.5 THEN 'unpaid' ELSE 'refunded' END
       END AS payment_status,
       created_at + (30 + r_time * 600) * interval '1 second' AS payment_at,
       CASE WHEN status IN ('completed', 'partially_completed')
                THEN least(%(now)s, created_at + (1 + r_time * 71) * interval '1 hour')
            WHEN status = 'canceled' THEN least(%(now)s, created_at + (1 + r_time * 47) * interval '1 hour')
            WHEN status = 'expired' THEN least(%(now)s, created_at + interval '24 hours') END AS closed_at
FROM (
    SELECT g, %(order_id_base)s::bigint + g AS id, created_at, customer_idx, r_pay, r_time,
           CASE WHEN r_lines < 0.65 THEN 1 WHEN r_lines < 0.90 THEN 2 ELSE 3 END AS n_lines,
           CASE WHEN created_at < %(now)s - interval '3 days' THEN
                    CASE WHEN r_status < 0.850 THEN 'completed' WHEN r_status < 0.880 THEN 'partially_completed'
                         WHEN r_status < 0.910 THEN 'canceled' WHEN r_status < 0.999 THEN 'expired'
                         ELSE 'in_fulfillment' END
                ELSE CASE WHEN r_status < 0.10 THEN 'pending_payment' WHEN r_status < 0.15 THEN 'paid'
                          WHEN r_status < 0.50 THEN 'in_fulfillment' WHEN r_status < 0.90 THEN 'completed'
                          WHEN r_status < 0.92 THEN 'partially_completed' WHEN r_status < 0.95 THEN 'canceled'
                          ELSE 'expired' END
           END AS status,
           CASE WHEN r_source < 0.70 THEN 'storefront' WHEN r_source < 0.85 THEN 'link' WHEN r_source < 0.95 THEN 'api'
                WHEN r_source < 0.98 THEN 'admin' ELSE 'renewal' END AS source,
           CASE WHEN r_source > 0.995 THEN 'Bitte langsam starten, Profil ist öffentlich.' END AS customer_note
    FROM (SELECT g, %(first_order)s::timestamptz + %(history)s * (v + sin(4 * pi() * v) / (5 * 4 * pi())) AS created_at,
                 floor(%(customers)s * power(random(), 1.5))::int AS customer_idx,
                 random() AS r_status, random() AS r_pay, random() AS r_time, random() AS r_lines, random() AS r_source
          FROM (SELECT g, power((g - 1 + random()) / %(orders)s, 0.8) AS v
                FROM generate_series(1, %(orders)s) AS g) AS series) AS raw
) AS planned
"""

LINE_PLAN_SQL = """
CREATE TEMP TABLE synthetic_line ON COMMIT DROP AS
SELECT o.id AS order_id, o.position, s.id AS service_id, s.name_en AS service_name, s.kind AS service_kind,
       s.provider_service_id, s.provider_id, s.platform, o.status AS order_status, o.closed_at, o.payment_at,
       o.created_at, o.r_progress, o.customer_idx, q.quantity,
       round(s.price * q.quantity / 1000, 2) AS net,
       round(s.provider_rate * q.quantity / 1000, 5) AS charge,
       CASE o.status WHEN 'pending_payment' THEN 'awaiting_payment' WHEN 'paid' THEN 'queued'
                     WHEN 'completed' THEN 'completed' WHEN 'canceled' THEN 'canceled' WHEN 'expired' THEN 'canceled'
                     WHEN 'partially_completed' THEN CASE WHEN o.position = 1 THEN 'partial' ELSE 'completed' END
                     ELSE CASE WHEN o.position > 1 AND o.r_progress < 0.5 THEN 'completed'
                               WHEN o.r_progress < 0.3 THEN 'dispatched' ELSE 'in_progress' END
       END AS fulfillment_status
FROM (SELECT p.*, position, floor(random() * (SELECT count(*) FROM synthetic_service))::int AS service_idx,
             random() AS r_quantity, random() AS r_progress
      FROM synthetic_order AS p CROSS JOIN LATERAL generate_series(1, p.n_lines) AS position) AS o
JOIN synthetic_service AS s ON s.idx = o.service_idx
CROSS JOIN LATERAL (
    SELECT greatest(s.min_quantity, least(s.max_quantity,
           (ARRAY[100, 250, 500, 1000, 1000, 2000, 2500, 5000, 10000, 25000])[1 + floor(o.r_quantity * 10)::int]))
           AS quantity
) AS q
"""

# One subscription per customer with renewal orders, on the service of their first renewal; the renewals are
# those orders. Canceled when the last renewal is more than 45 days ago.
SUBSCRIPTIONS_SQL = """
INSERT INTO subscription (customer_id, service_id, status, target_username, posts_per_period, quantity_per_post,
                          price, currency, current_period_end, canceled_at, created_at, updated_at)
SELECT b.id, (array_agg(l.service_id ORDER BY o.created_at))[1],
       CASE WHEN max(o.created_at) > %(now)s - interval '45 days' THEN 'active' ELSE 'canceled' END,
       'creator' || o.customer_idx, 4, 1000, round(avg(l.net), 2), 'EUR', max(o.created_at) + interval '30 days',
       CASE WHEN max(o.created_at) <= %(now)s - interval '45 days' THEN max(o.created_at) + interval '30 days' END,
       min(o.created_at) - interval '1 day', least(%(now)s, max(o.created_at) + interval '30 days')
FROM synthetic_order AS o
JOIN synthetic_buyer AS b ON b.idx = o.customer_idx
JOIN synthetic_line AS l ON l.order_id = o.id AND l.position = 1
WHERE o.source = 'renewal'
GROUP BY b.id, o.customer_idx
"""

ORDERS_SQL = """
INSERT INTO orders (id, number, customer_id, source, status, payment_status, currency, net, tax, gross, tax_rate,
                    tax_treatment, buyer_country, buyer_is_business, buyer_vat_id, subscription_id, idempotency_key,
                    tracking_token_hash, customer_note, paid_at, closed_at, created_at, updated_at)
SELECT o.id, 'SMP-' || extract(year FROM o.created_at AT TIME ZONE 'Europe/Berlin')::int || '-'
             || lpad((%(number_base)s + o.g)::text, greatest(6, length((%(number_base)s + o.g)::text)), '0'),
       b.id, o.source, o.status, o.payment_status, 'EUR', t.net, round(t.net * b.tax_rate / 100, 2),
       t.net + round(t.net * b.tax_rate / 100, 2), b.tax_rate, b.tax_treatment, b.country, b.is_business, b.vat_id,
       s.id, 'synthetic:' || o.id,
       encode(sha256(convert_to('synthetic-order-' || o.id, 'UTF8')), 'hex'), o.customer_note,
       CASE WHEN o.payment_status <> 'unpaid' THEN o.payment_at END, o.closed_at, o.created_at,
       coalesce(o.closed_at, CASE WHEN o.payment_status <> 'unpaid' THEN o.payment_at END, o.created_at)
FROM synthetic_order AS o
JOIN synthetic_buyer AS b ON b.idx = o.customer_idx
JOIN (SELECT order_id, sum(net) AS net FROM synthetic_line GROUP BY order_id) AS t ON t.order_id = o.id
LEFT JOIN subscription AS s ON s.customer_id = b.id AND s.id > %(subscriptions_before)s AND o.source = 'renewal'
ORDER BY o.id
"""

# Indexes not backing a constraint: dropped for the load and rebuilt after it (in the same transaction).
SECONDARY_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i JOIN pg_class AS t ON t.oid = i.indrelid
WHERE t.relname IN ('orders', 'order_line') AND t.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
"""

LINES_SQL = """
INSERT INTO order_line (order_id, position, service_id, service_name, service_kind, link, quantity, unit_price, net,
                        fulfillment_status, provider_id, provider_service_id, provider_order_id, start_count,
                        remains, charge, attempts, last_progress_at, dispatched_at, finished_at, created_at,
                        updated_at)
SELECT order_id, position, service_id, service_name, service_kind,
       CASE platform
           WHEN 'tiktok' THEN 'https://www.tiktok.com/@creator' || customer_idx || '/video/73'
                              || lpad(((order_id * 10 + position) * 7919)::text, 17, '0')
           WHEN 'youtube' THEN 'https://www.youtube.com/watch?v=' || code
           ELSE 'https://www.instagram.com/p/' || code || '/' END,
       quantity, unit_price, net, fulfillment_status, provider_id, provider_service_id,
       CASE WHEN dispatched AND provider_id IS NOT NULL THEN (10000000 + order_id * 10 + position)::text END,
       CASE WHEN dispatched THEN (r_count * 5000)::int END,
       CASE fulfillment_status WHEN 'completed' THEN 0 WHEN 'partial' THEN (quantity * (0.1 + 0.4 * r_count))::int
                               WHEN 'in_progress' THEN (quantity * r_count)::int END,
       CASE WHEN dispatched THEN charge END,
       CASE WHEN dispatched THEN 1 ELSE 0 END,
       CASE WHEN fulfillment_status = 'in_progress' THEN %(now)s - r_count * interval '2 hours' END,
       dispatched_at, finished_at, created_at, coalesce(finished_at, dispatched_at, created_at)
FROM (
    SELECT l.*, random() AS r_count,
           fulfillment_status IN ('dispatched', 'in_progress', 'completed', 'partial') AS dispatched,
           translate(left(encode(sha256(convert_to('synthetic-line-' || order_id || '-' || position, 'UTF8')),
                                 'base64'), 11), '+/', '-_') AS code,
           s.price AS unit_price,
           CASE WHEN fulfillment_status IN ('dispatched', 'in_progress', 'completed', 'partial')
                THEN payment_at + interval '2 minutes' END AS dispatched_at,
           CASE WHEN fulfillment_status IN ('completed', 'partial', 'canceled')
                THEN coalesce(closed_at, least(%(now)s, payment_at + interval '1 hour')) END AS finished_at
    FROM synthetic_line AS l JOIN synthetic_service AS s ON s.id = l.service_id
) AS line
ORDER BY order_id, position
"""

# A payment for every paid order; a refund for every refunded one: all of it, or for a partly refunded order half
# of its first line's gross (on that line), when it was closed.
REFUND_PLAN_SQL = """
CREATE TEMP TABLE synthetic_refund ON COMMIT DROP AS
SELECT o.id AS order_id, o.payment_status, coalesce(o.closed_at, o.paid_at + interval '2 days') AS refunded_at,
       l.id AS line_id, round(l.net * o.gross / nullif(o.net, 0) / 2, 2) AS half_line
FROM orders AS o JOIN order_line AS l ON l.order_id = o.id AND l.position = 1
WHERE o.id > %(order_id_base)s AND o.payment_status IN ('refunded', 'partially_refunded')
"""

PAYMENTS_SQL = """
INSERT INTO payment (order_id, method, status, amount, refunded_amount, currency, paid_at, created_at, updated_at)
SELECT o.id, 'stripe', 'succeeded', o.gross,
       CASE WHEN r.order_id IS NULL THEN 0 WHEN r.payment_status = 'refunded' THEN o.gross
            ELSE least(r.half_line, o.gross) END,
       o.currency, o.paid_at, o.paid_at, coalesce(r.refunded_at, o.paid_at)
FROM orders AS o LEFT JOIN synthetic_refund AS r ON r.order_id = o.id
WHERE o.id > %(order_id_base)s AND o.paid_at IS NOT NULL
"""

REFUNDS_SQL = """
INSERT INTO refund (payment_id, order_line_id, amount, currency, reason, status, idempotency_key, requested_by,
                    created_at, updated_at)
SELECT p.id, CASE WHEN p.refunded_amount < p.amount THEN r.line_id END, p.refunded_amount, p.currency,
       CASE WHEN p.refunded_amount < p.amount THEN 'Teilweise geliefert' ELSE 'Storniert' END, 'succeeded',
       'synthetic-refund-' || p.id, 'finance@smplat.example', r.refunded_at, r.refunded_at
FROM payment AS p JOIN synthetic_refund AS r ON r.order_id = p.order_id
WHERE p.order_id > %(order_id_base)s AND p.refunded_amount > 0
"""

# The legal note an invoice prints for each combination of tax facts the buyers have (filled from Python).
NOTES_SQL = """
CREATE TEMP TABLE synthetic_note (tax_treatment text, tax_rate numeric, country text, locale text, note text,
                                  translation text) ON COMMIT DROP
"""

# An invoice for every paid order, issued when it was paid, numbered per Berlin year after the numbers issued.
INVOICES_SQL = """
INSERT INTO invoice (number, kind, order_id, customer_id, issued_at, service_from, service_to, locale, seller, buyer,
                     lines, tax_rates, currency, net, tax, gross, tax_treatment, legal_note, legal_note_translation,
                     payment, created_at)
SELECT 'RE-' || year || '-' || lpad(counter::text, greatest(6, length(counter::text)), '0'), 'invoice', o.id,
       o.customer_id, o.paid_at, day, day, b.locale, %(seller)s, b.buyer, l.lines,
       jsonb_build_array(jsonb_build_object('rate', o.tax_rate::text, 'net', o.net::text, 'tax', o.tax::text,
                                            'gross', o.gross::text)),
       o.currency, o.net, o.tax, o.gross, o.tax_treatment, n.note, n.translation,
       jsonb_build_object('method', 'stripe', 'paid_at', to_jsonb(o.paid_at), 'reference', NULL), o.paid_at
FROM (
    SELECT o.*, (o.paid_at AT TIME ZONE 'Europe/Berlin')::date AS day,
           extract(year FROM o.paid_at AT TIME ZONE 'Europe/Berlin')::int AS year,
           coalesce((SELECT last_number FROM invoice_sequence
                     WHERE series = 'RE' AND year = extract(year FROM o.paid_at AT TIME ZONE 'Europe/Berlin')), 0)
           + row_number() OVER (PARTITION BY extract(year FROM o.paid_at AT TIME ZONE 'Europe/Berlin')
                                ORDER BY o.paid_at, o.id) AS counter
    FROM orders AS o WHERE o.id > %(order_id_base)s AND o.paid_at IS NOT NULL
) AS o
JOIN synthetic_buyer AS b ON b.id = o.customer_id
JOIN (SELECT l.order_id,
             jsonb_agg(jsonb_build_object('position', l.position, 'description', l.service_name, 'link', l.link,
                                          'quantity', l.quantity, 'unit_price_per_1000', l.unit_price::text,
                                          'net', l.net::text, 'tax_rate', o.tax_rate::text) ORDER BY l.position)
                 AS lines
      FROM order_line AS l JOIN orders AS o ON o.id = l.order_id
      WHERE l.order_id > %(order_id_base)s AND o.paid_at IS NOT NULL
      GROUP BY l.order_id) AS l ON l.order_id = o.id
LEFT JOIN synthetic_note AS n ON n.tax_treatment = o.tax_treatment AND n.tax_rate = o.tax_rate
     AND n.country = o.buyer_country AND n.locale = b.locale
ORDER BY o.paid_at, o.id
"""

# A credit note for every refund, issued when it succeeded: the refunded gross split back at the order's rate.
CREDIT_NOTES_SQL = """
INSERT INTO invoice (number, kind, order_id, customer_id, refund_id, corrects_invoice_id, issued_at, service_from,
                     service_to, locale, seller, buyer, lines, tax_rates, currency, net, tax, gross, tax_treatment,
                     legal_note, legal_note_translation, payment, created_at)
SELECT 'GS-' || year || '-' || lpad(counter::text, greatest(6, length(counter::text)), '0'), 'credit_note',
       i.order_id, i.customer_id, r.id, i.id, r.updated_at, i.service_from, i.service_to, i.locale, i.seller,
       i.buyer,
       jsonb_build_array(jsonb_build_object('position', 1, 'description', coalesce(l.service_name, i.number),
                                            'link', r.reason, 'quantity', NULL, 'unit_price_per_1000', NULL,
                                            'net', (-r.net)::text, 'tax_rate', r.rate::text)),
       jsonb_build_array(jsonb_build_object('rate', r.rate::text, 'net', (-r.net)::text,
                                            'tax', (r.net - r.amount)::text, 'gross', (-r.amount)::text)),
       r.currency, -r.net, r.net - r.amount, -r.amount, i.tax_treatment, i.legal_note, i.legal_note_translation,
       jsonb_build_object('method', 'refund', 'paid_at', to_jsonb(r.updated_at), 'reference', NULL), r.updated_at
FROM (
    SELECT r.*, p.order_id, (i.tax_rates -> 0 ->> 'rate')::numeric AS rate,
           round(r.amount * 100 / (100 + (i.tax_rates -> 0 ->> 'rate')::numeric), 2) AS net,
           extract(year FROM r.updated_at AT TIME ZONE 'Europe/Berlin')::int AS year,
           coalesce((SELECT last_number FROM invoice_sequence
                     WHERE series = 'GS' AND year = extract(year FROM r.updated_at AT TIME ZONE 'Europe/Berlin')), 0)
           + row_number() OVER (PARTITION BY extract(year FROM r.updated_at AT TIME ZONE 'Europe/Berlin')
                                ORDER BY r.updated_at, r.id) AS counter
    FROM refund AS r
    JOIN payment AS p ON p.id = r.payment_id
    JOIN invoice AS i ON i.order_id = p.order_id AND i.kind = 'invoice'
    WHERE r.id > %(refunds_before)s
) AS r
JOIN invoice AS i ON i.order_id = r.order_id AND i.kind = 'invoice'
LEFT JOIN order_line AS l ON l.id = r.order_line_id
ORDER BY r.updated_at, r.id
"""

# The numbers just issued move each series' counter for the year on.
SEQUENCES_SQL = """
INSERT INTO invoice_sequence (series, year, last_number)
SELECT split_part(number, '-', 1), split_part(number, '-', 2)::smallint, max(split_part(number, '-', 3)::int)
FROM invoice WHERE id > %(invoices_before)s GROUP BY 1, 2
ON CONFLICT (series, year) DO UPDATE SET last_number = excluded.last_number
"""

# The storefront funnel: every storefront order's visitor saw the landing page and the service, started the
# checkout and (when paid) paid; for every order two more visitors looked around, one of them at a service.
FUNNEL_SQL = """
INSERT INTO funnel_event (at, kind, visitor_id, service_id, order_id)
SELECT o.created_at - step.before, step.kind, 'synthetic-' || o.id || step.visitor, s.service_id,
       CASE WHEN step.kind IN ('checkout_started', 'paid') THEN o.id END
FROM synthetic_order AS o
JOIN synthetic_line AS s ON s.order_id = o.id AND s.position = 1
CROSS JOIN LATERAL (VALUES ('landing_view', interval '6 minutes', ''), ('service_view', interval '4 minutes', ''),
                           ('checkout_started', interval '1 minute', ''), ('paid', -interval '5 minutes', ''),
                           ('landing_view', interval '2 hours', '-a'), ('landing_view', interval '3 hours', '-b'),
                           ('service_view', interval '170 minutes', '-b')) AS step (kind, before, visitor)
WHERE CASE step.visitor WHEN '' THEN o.source = 'storefront' AND (step.kind <> 'paid' OR o.payment_status <> 'unpaid')
                        ELSE true END
"""

SEED_STEPS = (
    ("customers", CUSTOMERS_SQL),
    ("customer index", BUYERS_SQL),
    ("service index", SERVICES_SQL),
    ("order plan", ORDER_PLAN_SQL),
    ("line plan", LINE_PLAN_SQL),
    ("subscriptions", SUBSCRIPTIONS_SQL),
    ("orders", ORDERS_SQL),
    ("order lines", LINES_SQL),
)
BOOKKEEPING_STEPS = (
    ("refund plan", REFUND_PLAN_SQL),
    ("payments", PAYMENTS_SQL),
    ("refunds", REFUNDS_SQL),
    ("invoices", INVOICES_SQL),
    ("credit notes", CREDIT_NOTES_SQL),
    ("invoice numbers", SEQUENCES_SQL),
    ("funnel events", FUNNEL_SQL),
)


class RealOrdersError(Exception):
    """The database holds orders that are neither demo nor synthetic ones."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            f"the database holds real orders ({count:,}); a synthetic history next to them would distort every "
            "report (add --force to seed anyway)"
        )


@dataclass
class SyntheticHistory:
    """What the seed wrote: rows per table it filled, and how long it took (the demo seed and the vacuum too)."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        rate = self.total / self.seconds if self.seconds else 0
        return f"synthetic history: {self.total:,} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s)"


def real_orders(url: str) -> int:
    with psycopg.connect(conninfo(url)) as conn:
        return _scalar(conn, REAL_ORDERS_SQL)


def seed_synthetic(
    url: str, orders: int, *, force: bool = False, log: Callable[[str], None] = lambda _line: None
) -> SyntheticHistory:
    """The demo catalog (and demo data), then ``orders`` synthetic orders with all that belongs to them.

    Raises :class:`RealOrdersError` when the database holds real orders, unless ``force``."""
    if orders < 1:
        raise ValueError("the number of orders must be at least 1")
    if not force and (count := real_orders(url)):
        raise RealOrdersError(count)
    started = time.perf_counter()
    asyncio.run(_seed_demo(url, log))
    history = _bulk(url, orders, log)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) customer, orders, order_line, payment, refund, invoice, funnel_event")
    history.seconds = time.perf_counter() - started
    return history


async def _seed_demo(url: str, log: Callable[[str], None]) -> None:
    async with engine_for(url) as engine, transaction(engine) as session:
        log((await seed_demo_data(session)).summary())


def _scalar(conn: psycopg.Connection[TupleRow], query: str) -> int:
    row = conn.execute(query).fetchone()
    if row is None or not isinstance(row[0], int):
        raise RuntimeError(f"no integer from {query!r}")
    return row[0]


def _seller(conn: psycopg.Connection[TupleRow]) -> Jsonb:
    """The company as its invoices print it (the seller snapshot), from the company settings."""
    cursor = conn.execute(f"SELECT {', '.join(SELLER_FIELDS)}, is_small_business FROM company_settings LIMIT 1")  # noqa: S608 - constants
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("no company settings: the demo seed makes them")
    values = dict(zip(SELLER_FIELDS, row, strict=False))
    return Jsonb({**values, "small_business": row[-1]})


def _notes(conn: psycopg.Connection[TupleRow]) -> None:
    facts = conn.execute("SELECT DISTINCT tax_treatment, tax_rate, country, locale FROM synthetic_buyer").fetchall()
    rows = []
    for treatment, rate, country, locale in facts:
        note = legal_note(TaxTreatment(treatment), Decimal(rate), country)
        rows.append((treatment, rate, country, locale, *legal_note_texts(note, locale)))
    with conn.cursor() as cursor:
        cursor.executemany("INSERT INTO synthetic_note VALUES (%s, %s, %s, %s, %s, %s)", rows)


def _run(
    conn: psycopg.Connection[TupleRow],
    steps: tuple[tuple[str, str], ...],
    params: dict[str, object],
    history: SyntheticHistory,
    log: Callable[[str], None],
) -> None:
    for name, statement in steps:
        started = time.perf_counter()
        cursor = conn.execute(statement, params)
        if statement.lstrip().startswith("INSERT"):  # rows of the product's tables, not of the plans
            history.rows[name] = max(cursor.rowcount, 0)
        log(f"seed {name}: {cursor.rowcount} rows in {time.perf_counter() - started:.1f} s")


def _bulk(url: str, orders: int, log: Callable[[str], None]) -> SyntheticHistory:
    now = datetime.now(UTC)
    history = SyntheticHistory()
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute("SET LOCAL timezone = 'UTC'")  # times in the invoices' JSON as the product writes them
        # Foreign keys hold by construction; the replica role skips their per-row triggers (needs a superuser).
        conn.execute("SET LOCAL session_replication_role = replica")
        number_base = _scalar(conn, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM order_number_seq")
        order_id_base = _scalar(conn, "SELECT coalesce(max(id), 0) FROM orders")
        params: dict[str, object] = {
            "now": now,
            "first_order": now - HISTORY,
            "history": HISTORY,
            "orders": orders,
            "customers": max(orders // ORDERS_PER_CUSTOMER, FEWEST_CUSTOMERS),
            "customers_before": _scalar(conn, "SELECT coalesce(max(id), 0) FROM customer"),
            "order_id_base": order_id_base,
            "subscriptions_before": _scalar(conn, "SELECT coalesce(max(id), 0) FROM subscription"),
            "refunds_before": _scalar(conn, "SELECT coalesce(max(id), 0) FROM refund"),
            "invoices_before": _scalar(conn, "SELECT coalesce(max(id), 0) FROM invoice"),
            "number_base": number_base,
            "seller": _seller(conn),
        }
        # The same history on the same database; a second history next to it draws other numbers.
        conn.execute("SELECT setseed(%s)", ((SEED + order_id_base / 1_000_003) % 1,))
        indexes = conn.execute(SECONDARY_INDEXES_SQL).fetchall()
        for name, _definition in indexes:
            conn.execute(f"DROP INDEX {name}")
        _run(conn, SEED_STEPS, params, history, log)
        started = time.perf_counter()
        for _name, definition in indexes:
            conn.execute(definition)
        log(f"seed: {len(indexes)} indexes rebuilt in {time.perf_counter() - started:.1f} s")
        conn.execute(NOTES_SQL)
        _notes(conn)
        _run(conn, BOOKKEEPING_STEPS, params, history, log)
        # The replica role skipped the triggers that keep orders by status (order_status_tally): count afresh.
        conn.execute("DELETE FROM order_status_tally")
        conn.execute(
            "INSERT INTO order_status_tally (status, delta) SELECT status, count(*) FROM orders GROUP BY status"
        )
        # ... and those that keep the daily revenue totals (sales_day, sales_line_day): count afresh too.
        conn.execute("DELETE FROM sales_day_change")
        conn.execute("DELETE FROM sales_day")
        conn.execute(REBUILD_SQL)
        conn.execute("DELETE FROM sales_line_day_change")
        conn.execute("DELETE FROM sales_line_day")
        conn.execute(REBUILD_LINES_SQL)
        conn.execute("DELETE FROM operations_line")
        conn.execute(REBUILD_OPERATIONS_SQL)
        # ... and each customer's first payment.
        conn.execute(REBUILD_FIRST_PAID_SQL)
        # ... and the funnel's visitors per day.
        conn.execute("DELETE FROM funnel_day_change")
        conn.execute("DELETE FROM funnel_day")
        conn.execute(REBUILD_FUNNEL_SQL)
        conn.execute("SELECT setval('order_number_seq', %s)", (number_base + orders,))
        conn.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
    return history
