"""What a report's columns are called for people, and which of them add up into a totals row per currency."""

from __future__ import annotations

import polars as pl

from app.i18n import N_, Translate, untranslated

# Columns whose sum means nothing (averages, comparisons, shares): left empty in a totals row.
NOT_ADDITIVE = frozenset(
    {
        "average_order_value",
        "previous_net_after_refunds",
        "change_percent",
        "share_percent",
        "subscriptions",
        "mrr",
        "renewal_percent",
        "churn_percent",
        "margin_percent",
    }
)

COLUMN_TITLES = {
    "period": N_("Period"),
    "currency": N_("Currency"),
    "orders": N_("Orders"),
    "lines": N_("Lines"),
    "net": N_("Net"),
    "vat": N_("VAT"),
    "gross": N_("Gross"),
    "refunds_net": N_("Refunds (net)"),
    "refunds_vat": N_("Refunds (VAT)"),
    "refunds_gross": N_("Refunds (gross)"),
    "net_after_refunds": N_("Net after refunds"),
    "gross_after_refunds": N_("Gross after refunds"),
    "average_order_value": N_("Average order value"),
    "previous_net_after_refunds": N_("Previous period, net after refunds"),
    "change_percent": N_("Change %"),
    "share_percent": N_("Share %"),
    "service": N_("Service"),
    "category": N_("Category"),
    "platform": N_("Platform"),
    "country": N_("Country"),
    "customer_type": N_("Customer type"),
    "source": N_("Source"),
    "tax_treatment": N_("Tax treatment"),
    "tax_rate": N_("VAT rate"),
    "landing_visitors": N_("Landing page visitors"),
    "service_visitors": N_("Service page visitors"),
    "checkout_visitors": N_("Checkouts started"),
    "paid_visitors": N_("Visitors who paid"),
    "checkout_percent": N_("Checkout %"),
    "payment_percent": N_("Payment %"),
    "conversion_percent": N_("Conversion %"),
    "provider": N_("Provider"),
    "completed": N_("Completed"),
    "partial": N_("Partial"),
    "canceled": N_("Canceled"),
    "open_issues": N_("Open issues"),
    "dispatch_minutes_p50": N_("Minutes to dispatch, median"),
    "dispatch_minutes_p90": N_("Minutes to dispatch, 90th percentile"),
    "dispatch_minutes_p99": N_("Minutes to dispatch, 99th percentile"),
    "completion_hours_p50": N_("Hours to completion, median"),
    "completion_hours_p90": N_("Hours to completion, 90th percentile"),
    "completion_hours_p99": N_("Hours to completion, 99th percentile"),
    "automated_percent": N_("Automated %"),
    "partial_percent": N_("Partial %"),
    "refill_percent": N_("Refills %"),
    "active_customers": N_("Customers who bought"),
    "new_customers": N_("New customers"),
    "returning_customers": N_("Returning customers"),
    "returning_percent": N_("Returning %"),
    "email": N_("Email"),
    "name": N_("Name"),
    "first_paid": N_("First paid"),
    "last_paid": N_("Last paid"),
    "subscriptions": N_("Active subscriptions"),
    "mrr": N_("MRR"),
    "new_mrr": N_("New MRR"),
    "reactivated_mrr": N_("Reactivated MRR"),
    "churned_mrr": N_("Churned MRR"),
    "renewals_due": N_("Renewals due"),
    "renewals_paid": N_("Renewals paid"),
    "renewal_percent": N_("Renewal %"),
    "churned": N_("Churned subscriptions"),
    "churn_percent": N_("Churn %"),
    "cohort": N_("Cohort (first order)"),
    "customers": N_("Customers"),
    "month_0_percent": N_("Month 0 %"),
    "month_1_percent": N_("Month 1 %"),
    "month_2_percent": N_("Month 2 %"),
    "month_3_percent": N_("Month 3 %"),
    "month_4_percent": N_("Month 4 %"),
    "month_5_percent": N_("Month 5 %"),
    "month_6_percent": N_("Month 6 %"),
    "month_7_percent": N_("Month 7 %"),
    "month_8_percent": N_("Month 8 %"),
    "month_9_percent": N_("Month 9 %"),
    "month_10_percent": N_("Month 10 %"),
    "month_11_percent": N_("Month 11 %"),
    "uncharged_lines": N_("Lines without provider charge"),
    "provider_charge": N_("Provider charge"),
    "margin": N_("Margin"),
    "margin_percent": N_("Margin %"),
    "documents": N_("Invoices and credit notes"),
    "synced_within_24h": N_("Synced within 24 h"),
    "synced_within_24h_percent": N_("Synced within 24 h %"),
    "unsynced": N_("Not synced yet"),
    "sync_failures": N_("Sync failures"),
    "success_metric": N_("Success metric"),
    "metric": N_("Metric"),
    "value": N_("Value"),
    "previous_value": N_("Previous period"),
    "change": N_("Change"),
    "unit": N_("Unit"),
    "definition": N_("Definition"),
}


def totals(frame: pl.DataFrame, translate: Translate = untranslated) -> list[list[object]]:
    """One row per currency: "Total" in the first column, sums under every additive number (none for reports
    without money, such as the funnel: distinct visitors do not add up across periods)."""
    if "currency" not in frame.columns or frame.is_empty():
        return []
    additive = [
        name
        for name, dtype in frame.schema.items()
        if name not in NOT_ADDITIVE and (dtype == pl.Int64 or isinstance(dtype, pl.Decimal))
    ]
    sums = frame.group_by("currency").agg(pl.col(name).sum() for name in additive).sort("currency")
    rows = []
    for total in sums.iter_rows(named=True):
        row: list[object] = [
            total.get(name) if name in additive or name == "currency" else None for name in frame.columns
        ]
        row[0] = translate(N_("Total"))
        rows.append(row)
    return rows
