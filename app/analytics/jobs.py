"""Analytics jobs: every five minutes, fold the day changes of paid orders, their lines and the funnel."""

from __future__ import annotations

from app.analytics.funnel_days import fold_funnel_day_changes
from app.analytics.sales_days import fold_sales_day_changes
from app.analytics.sales_line_days import fold_sales_line_day_changes
from app.jobs import job_app, job_sessions


@job_app.periodic(cron="*/5 * * * *", periodic_id="fold-sales-days")
@job_app.task(name="analytics.fold_sales_days", queue="analytics", queueing_lock="fold-sales-days")
async def fold_sales_days_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    async with job_sessions()() as session, session.begin():
        days = await fold_sales_day_changes(session)
        line_days = await fold_sales_line_day_changes(session)
        funnel_days = await fold_funnel_day_changes(session)
        return f"folded into {days} day rows, {line_days} line day rows and {funnel_days} funnel day rows"
