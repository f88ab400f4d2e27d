"""Payment jobs: send a pending refund to the processor (deferred by the command that wrote it).

A refund row is committed ``pending`` with its idempotency key before this job runs; the job sends it and
records the answer (``app/payments/refund_flow.py``). The processor unreachable: the job is retried and sends the
same key again, so Stripe makes one refund however often it is asked. A refund already settled (staff sent it by
hand meanwhile) is left as it is.
"""

from __future__ import annotations

import structlog
from procrastinate import RetryStrategy

from app.actors import Actor
from app.config import get_settings
from app.errors import Conflict
from app.jobs import job_app, job_sessions
from app.payments.refund_flow import RefundNotSent, resume_refund
from app.payments.refunds import RefundRefused
from app.payments.stripe_gateway import gateway_from_settings

log = structlog.get_logger(__name__)

SEND_REFUND_TASK = "payments.send_refund"


def send_refund_lock(refund_id: int) -> str:
    return f"send-refund-{refund_id}"


@job_app.task(
    name=SEND_REFUND_TASK,
    queue="default",
    retry=RetryStrategy(max_attempts=12, exponential_wait=5, retry_exceptions={RefundNotSent}),
)
async def send_refund_job(refund_id: int) -> str:
    gateway = gateway_from_settings(get_settings())
    if gateway is None:
        log.warning("refund not sent: no payment processor configured", refund_id=refund_id)
        return "no processor"
    try:
        outcome = await resume_refund(job_sessions(), gateway, refund_id=refund_id, actor=Actor.worker("refund job"))
    except Conflict:
        return "settled already"
    except RefundRefused as exc:
        log.warning("refund refused by the processor", refund_id=refund_id, reason=exc.message)
        return "refused"
    finally:
        await gateway.aclose()
    return str(outcome.status)
