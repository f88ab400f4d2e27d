"""Recording what the Graph API answered: the call, the snapshot it yields, and a staff alert for a refused token.

One call per unit of work: its ``instagram_lookup`` row (the budget, cache and back-off read them) and, when
counted, the profile's snapshot. A refused token is logged as an error every time and alerts staff once a day
(the first refusal after a day without one): nothing is counted until someone reconnects the account.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert

from app.actors import Actor, ActorKind
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.instagram.graph_api import Lookup, LookupOutcome
from app.instagram.models import InstagramLookup, InstagramSnapshot
from app.instagram.profiles import ProfileTarget
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)

SNAPSHOT_ACTOR = Actor(ActorKind.WORKER, None, "instagram snapshots")
TOKEN_ALERT_EVERY = timedelta(days=1)


async def record_lookup(uow: UnitOfWork, target: ProfileTarget, lookup: Lookup, *, actor: Actor) -> bool:
    """Store one call's answer; True when it recorded a new snapshot."""
    now = uow.now()
    session = uow.session
    if lookup.outcome == LookupOutcome.TOKEN_REFUSED:
        await _token_refused(uow, target, lookup, actor)
    session.add(
        InstagramLookup(
            handle=target.handle,
            asked_at=now,
            outcome=lookup.outcome,
            resume_at=now + lookup.back_off if lookup.back_off is not None else None,
            reason=lookup.reason or None,
        )
    )
    if lookup.counts is None:
        await session.flush()
        return False
    result = await session.execute(
        insert(InstagramSnapshot)
        .values(
            line_id=target.line_id,
            handle=target.handle,
            taken_at=now,
            followers=lookup.counts.followers,
            following=lookup.counts.following,
            media_count=lookup.counts.media_count,
        )
        .on_conflict_do_nothing(constraint="uq_instagram_snapshot_handle_taken_at")
    )
    await session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _token_refused(uow: UnitOfWork, target: ProfileTarget, lookup: Lookup, actor: Actor) -> None:
    log.error("instagram access token refused", reason=lookup.reason)
    alerted = await uow.session.scalar(
        sa.select(InstagramLookup.id)
        .where(
            InstagramLookup.outcome == LookupOutcome.TOKEN_REFUSED,
            InstagramLookup.asked_at > uow.now() - TOKEN_ALERT_EVERY,
        )
        .limit(1)
    )
    if alerted is not None:
        return
    await alert_staff(
        uow,
        actor,
        AlertTopic.INSTAGRAM_TOKEN_REFUSED,
        "order-line",
        target.line_id,
        message=(
            "The Instagram Graph API refused the access token (SMPLAT_INSTAGRAM_ACCESS_TOKEN): no follower counts "
            f"are recorded until the agency's account is reconnected. Meta said: {lookup.reason}"
        ),
    )
