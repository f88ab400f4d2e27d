"""Provider upkeep without a database: the worker's schedule, and what a held line is expected to cost upstream."""

from __future__ import annotations

from decimal import Decimal

from app.catalog.models import ServiceKind
from app.fulfillment.holds import upstream_cost
from app.jobs import job_app, load_job_modules


def test_the_worker_runs_provider_sync_stuck_checks_and_refills_periodically():
    load_job_modules()
    schedule = {task.task.name: task.cron for task in job_app.periodic_registry.periodic_tasks.values()}
    assert schedule["fulfillment.upkeep_providers"] == "*/5 * * * *"
    assert schedule["fulfillment.flag_stuck_lines"] == "*/10 * * * *"
    assert schedule["fulfillment.send_refills"] == "* * * * *"
    assert "fulfillment.send_cancel" in job_app.tasks  # deferred by the admin action, not periodic


def test_a_held_lines_expected_cost_follows_the_rate_basis_of_its_kind():
    rate = Decimal("0.90")
    assert upstream_cost(ServiceKind.DEFAULT, 2500, rate) == Decimal("2.25")
    assert upstream_cost(ServiceKind.DRIP_FEED, 1000, rate) == Decimal("0.90")
    assert upstream_cost(ServiceKind.PACKAGE, 1, Decimal("2.50")) == Decimal("2.50")
    assert upstream_cost(ServiceKind.SUBSCRIPTION, 300, Decimal("4.00")) == Decimal("4.00")
