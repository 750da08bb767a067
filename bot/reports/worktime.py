"""Working time on a unit's calendar: how long a step really took, in office minutes.

:class:`~bot.engine.calendar.WorkCalendar` answers "when is it due"; the reports need the
inverse, "how much office time lies between two moments", which it does not offer. It is
built here from the calendar's public API only (``hours_on``, ``tz``).

Pure: no clock, no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.engine.calendar import WorkCalendar
from bot.engine.waktu import Waktu

__all__ = ["mutu_baku_minutes", "working_days_late", "working_minutes"]

# A step taking longer than this is a data problem, not a long step: stop counting.
_MAX_DAYS = 3660


def working_minutes(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Whole minutes of office time between ``start`` and ``end`` (0 when ``end <= start``).

    Nights, weekends, public holidays and cuti bersama do not count; each working day counts
    its office hours only (a shorter Friday counts shorter). Seconds are truncated once, at
    the end, so a sum of steps does not drift.
    """
    if end <= start:
        return 0
    tz = calendar.tz
    a, b = start.astimezone(tz), end.astimezone(tz)
    total = timedelta(0)
    day: date = a.date()
    for _ in range(_MAX_DAYS):
        if day > b.date():
            break
        hours = calendar.hours_on(day)
        if hours is not None:
            opening = datetime.combine(day, hours[0], tzinfo=tz)
            closing = datetime.combine(day, hours[1], tzinfo=tz)
            lo, hi = max(opening, a), min(closing, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def mutu_baku_minutes(calendar: WorkCalendar, waktu: Waktu, started: datetime) -> int | None:
    """The standard time of a step started at ``started``, in office minutes (None: no standard).

    Measured up to the deadline the engine gives the step (``calendar.due``), so "late" and
    "more working minutes than the standard" always agree, whatever the unit of the waktu.
    """
    due = calendar.due(started, waktu)
    if due is None:
        return None
    return working_minutes(calendar, started, due)


def working_days_late(calendar: WorkCalendar, deadline: datetime | None, now: datetime) -> int:
    """Working days past ``deadline`` at ``now`` (0 when not yet late or no deadline).

    A step that is late by a few hours on the deadline's own day counts 0; each working day
    begun after that counts one.
    """
    if deadline is None or now <= deadline:
        return 0
    return max(0, calendar.working_days_between(deadline, now))
