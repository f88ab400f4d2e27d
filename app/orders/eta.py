"""When a line should start and finish, and how to say it to the client.

From when the order was paid (or the line started at the provider), the service's promised start ("within N
hours") and its daily speed, and what remains to deliver. Pure functions: the tracking page uses them today, the
back office can show the same figures. A line running late is said kindly; a finished line has no estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from babel import Locale
from babel.dates import format_skeleton, format_time, match_skeleton

from app.i18n import BERLIN, N_, Message, babel_locale
from app.orders.states import FINAL_LINE_STATES, LineStatus

STARTED = frozenset({LineStatus.DISPATCHED, LineStatus.IN_PROGRESS})
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class LineEta:
    start_within_hours: int | None  # not started yet: the service's promise
    starts_by: datetime | None  # not started, paid: when the promise runs out
    finishes_around: datetime | None  # None until the order is paid
    late: bool  # past the promised start or the planned finish


def delivery_time(units: int, speed_per_day: int) -> timedelta:
    return timedelta(seconds=math.ceil(units * SECONDS_PER_DAY / max(speed_per_day, 1)))


def line_eta(
    *,
    status: LineStatus,
    quantity: int,
    remains: int | None,
    paid_at: datetime | None,
    dispatched_at: datetime | None,
    start_hours: int,
    speed_per_day: int,
    now: datetime,
) -> LineEta | None:
    """The estimate of one line at ``now`` (None for a line that is final: nothing left to estimate).

    Not started: it starts by payment + ``start_hours`` and then takes ``quantity / speed_per_day`` days. Started:
    the remains the provider reported (all of it before its first report) take ``remains / speed_per_day`` days
    from now. Either way the finish is never before now; ``late`` once the promised start or the finish planned
    from the start has passed.
    """
    if status in FINAL_LINE_STATES:
        return None
    if paid_at is None:
        return LineEta(start_within_hours=start_hours, starts_by=None, finishes_around=None, late=False)
    if status in STARTED:
        started_at = dispatched_at or paid_at
        left = quantity if remains is None else max(0, min(quantity, remains))
        planned = started_at + delivery_time(quantity, speed_per_day)
        finish = max(now, started_at) + delivery_time(left, speed_per_day)
        return LineEta(start_within_hours=None, starts_by=None, finishes_around=finish, late=now > planned)
    starts_by = paid_at + timedelta(hours=start_hours)
    finish = max(now, starts_by) + delivery_time(quantity, speed_per_day)
    return LineEta(start_within_hours=start_hours, starts_by=starts_by, finishes_around=finish, late=now > starts_by)


def _full_hour(moment: datetime) -> datetime:
    """``moment`` in Berlin time, rounded up to the full hour (an estimate shown to the minute looks like a promise)."""
    local = moment.astimezone(BERLIN)
    rounded = local.replace(minute=0, second=0, microsecond=0)
    return rounded if rounded == local else rounded + timedelta(hours=1)


@cache
def _day_skeleton(locale: str) -> str:
    """The locale's own skeleton for "day and short month" (matched once: matching on every call was slow)."""
    return match_skeleton("dMMM", Locale.parse(babel_locale(locale)).datetime_skeletons) or "MMMd"


def _day(moment: datetime, locale: str) -> str:
    return format_skeleton(_day_skeleton(locale), moment, locale=babel_locale(locale))


def _clock(moment: datetime, locale: str) -> str:
    return format_time(moment, "short", tzinfo=BERLIN, locale=babel_locale(locale))


def eta_texts(eta: LineEta, now: datetime, locale: str) -> list[Message]:
    """What the page says about ``eta``: the start (until the line started), then the finish, in plain words."""
    texts: list[Message] = []
    today = now.astimezone(BERLIN).date()
    if eta.starts_by is None and eta.start_within_hours is not None:
        texts.append(Message(N_("Starts within %(hours)s h of payment"), {"hours": eta.start_within_hours}))
    elif eta.starts_by is not None and eta.late:
        texts.append(Message(N_("Starting shortly — it is taking a little longer than usual")))
    elif eta.starts_by is not None:
        by = _full_hour(eta.starts_by)
        if by.date() == today:
            texts.append(
                Message(
                    N_("Starts within %(hours)s h (by %(time)s)"),
                    {"hours": eta.start_within_hours, "time": _clock(by, locale)},
                )
            )
        else:
            texts.append(
                Message(
                    N_("Starts within %(hours)s h (by %(day)s, %(time)s)"),
                    {"hours": eta.start_within_hours, "day": _day(by, locale), "time": _clock(by, locale)},
                )
            )
    if eta.finishes_around is None:
        return texts
    finish = _full_hour(eta.finishes_around)
    if eta.late and eta.starts_by is None:
        texts.append(Message(N_("Taking a little longer than planned — delivery continues")))
    if finish.date() == today:
        texts.append(Message(N_("Expected to finish today around %(time)s"), {"time": _clock(finish, locale)}))
    else:
        texts.append(Message(N_("Expected to finish around %(day)s"), {"day": _day(finish, locale)}))
    return texts
