"""When to remind whom: reminder moments for active steps and for recurring duties.

The scheduler (outside the engine) turns each :class:`ReminderPoint` into a job; this module
only decides the moments, deterministically, so that a restarted bot plans the very same
points again (``key`` is stable and meant for job ids).

Every point lies inside office hours on a working day of the unit: a moment that would fall
at night, on a weekend, on a holiday or on cuti bersama moves to the next office opening
(:meth:`~bot.engine.calendar.WorkCalendar.next_opening`). Officials are not pinged at home.

Pure: never reads the clock (``now`` is always a parameter) and does no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.engine.calendar import CalendarError, WorkCalendar
from bot.engine.cycles import Occurrence
from bot.engine.waktu import TimeUnit, Waktu

__all__ = [
    "ReminderKind",
    "ReminderPoint",
    "before_lead",
    "cycle_reminders",
    "due_points",
    "pending",
    "step_reminders",
    "subtract_office_time",
]


class ReminderKind(enum.StrEnum):
    """What a reminder says, and to whom (values are the stable strings used in keys/JSON)."""

    BEFORE = "before"  # to the holder: the deadline is near
    DUE = "due"  # to the holder: the deadline is now (today, for a cycle)
    OVERDUE = "overdue"  # to the holder: late, once per following working day
    ESCALATE = "escalate"  # to the holder's atasan: the holder is late (steps)
    RECAP = "recap"  # to the atasan: who has not yet done the cycle's duty


# Order of kinds at the same moment: the holder hears first, then the atasan.
_KIND_ORDER = {kind: i for i, kind in enumerate(ReminderKind)}


@dataclass(frozen=True)
class ReminderPoint:
    """One reminder to send.

    ``at`` is aware and always inside office hours on a working day of the unit. ``n``
    numbers the overdue reminders (1, 2, …; an escalation carries the number of the overdue
    reminder it accompanies) and is 0 otherwise. ``key`` is deterministic and unique within
    one plan: ``"before"``, ``"due"``, ``"overdue-3"``, ``"escalate-3"``, ``"recap-before"``,
    ``"recap-due"``. When not given it is ``kind`` for ``n == 0``, else ``f"{kind}-{n}"``.
    """

    kind: ReminderKind
    at: datetime
    n: int = 0
    key: str = ""

    def __post_init__(self) -> None:
        kind = ReminderKind(self.kind)  # accepts the plain strings too
        object.__setattr__(self, "kind", kind)
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise CalendarError(f"reminder time {self.at.isoformat()} must be timezone-aware")
        if self.n < 0:
            raise ValueError(f"reminder number must be >= 0, not {self.n}")
        if not self.key:
            key = kind.value if self.n == 0 else f"{kind.value}-{self.n}"
            object.__setattr__(self, "key", key)


def _sort_and_dedupe(points: Iterable[ReminderPoint]) -> list[ReminderPoint]:
    seen: set[tuple[ReminderKind, datetime]] = set()
    result = []
    for point in sorted(points, key=lambda p: (p.at, _KIND_ORDER[p.kind], p.n, p.key)):
        if (point.kind, point.at) in seen:
            continue
        seen.add((point.kind, point.at))
        result.append(point)
    return result


def _local(dt: datetime, calendar: WorkCalendar, what: str) -> datetime:
    if not isinstance(dt, datetime):
        raise CalendarError(f"{what}: expected a datetime, got {dt!r}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise CalendarError(f"{what}: naive datetime {dt.isoformat()} refused: attach a timezone")
    return dt.astimezone(calendar.tz)


def _opening(calendar: WorkCalendar, day: date) -> datetime:
    """The opening of ``day`` when it is a working day, else the next opening after it."""
    return calendar.next_opening(datetime.combine(day, time.min, tzinfo=calendar.tz))


def subtract_office_time(calendar: WorkCalendar, end: datetime, delta: timedelta) -> datetime:
    """The moment ``delta`` of office time before ``end`` (nights, weekends, holidays skipped).

    The inverse of :meth:`~bot.engine.calendar.WorkCalendar.add_office_time` for moments
    inside office time: a result landing exactly on an opening stays there.
    """
    if delta < timedelta(0):
        raise CalendarError(f"cannot subtract negative office time {delta}")
    current = _local(end, calendar, "end")
    remaining = delta
    while True:
        day = current.date()
        hours = calendar.hours_on(day)
        if hours is not None:
            opening = datetime.combine(day, hours[0], tzinfo=calendar.tz)
            top = min(current, datetime.combine(day, hours[1], tzinfo=calendar.tz))
            if top >= opening:
                available = top - opening
                if remaining <= available:
                    return top - remaining
                remaining -= available
        # add_working_days raises CalendarError after ten years without a working day.
        previous = calendar.add_working_days(day, -1)
        previous_hours = calendar.hours_on(previous)
        assert previous_hours is not None
        current = datetime.combine(previous, previous_hours[1], tzinfo=calendar.tz)


def before_lead(waktu: Waktu) -> timedelta | None:
    """The office-time lead of the "before" reminder of a Menit/Jam/1-Hari step, else None.

    Menit/Jam: 25 % of the standard time rounded half up to whole minutes, at least 5 minutes;
    1 Hari: 2 office hours. Longer steps count working days instead (see
    :func:`step_reminders`), and a step without a standard time has no reminder.
    """
    if waktu.unit in (TimeUnit.MINUTE, TimeUnit.HOUR):
        minutes = waktu.amount * (60 if waktu.unit is TimeUnit.HOUR else 1)
        return timedelta(minutes=max(5, (minutes + 2) // 4))
    if waktu.unit is TimeUnit.DAY and waktu.amount == 1:
        return timedelta(hours=2)
    return None


def _before_moment(deadline: datetime, waktu: Waktu, calendar: WorkCalendar) -> datetime | None:
    lead = before_lead(waktu)
    if lead is not None:
        return subtract_office_time(calendar, deadline, lead)
    if waktu.unit is TimeUnit.DAY:  # 2 Hari or more: 1 working day earlier, same clock time
        days = 1
    elif waktu.unit is TimeUnit.MONTH:
        days = 5
    else:
        return None
    day = calendar.add_working_days(deadline.date(), -days)
    return calendar.next_opening(datetime.combine(day, deadline.timetz()))


def _check_counts(horizon: int, **others: int) -> None:
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, not {horizon}")
    for name, value in others.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, not {value}")


def step_reminders(
    started_at: datetime,
    deadline: datetime | None,
    waktu: Waktu,
    calendar: WorkCalendar,
    *,
    escalate_after: int = 2,
    horizon: int = 10,
) -> list[ReminderPoint]:
    """The reminders of an active step that started at ``started_at`` and is due at ``deadline``.

    ``deadline`` is normally ``calendar.due(started_at, waktu)``. The plan:

    * ``before`` (to the holder), with a lead proportional to the step: Menit/Jam: 25 % of
      the standard time (whole minutes, at least 5) of office time before the deadline;
      1 Hari: 2 office hours before; 2 Hari or more: 1 working day before at the same clock
      time; Bulan: 5 working days before. Skipped when it would not come after the step's
      effective start (the first office moment at or after ``started_at``), where it would
      only repeat the message that activated the step.
    * ``due`` at the deadline, when the deadline is inside office time. A deadline at the
      very closing time (where "by close" can put Menit, Jam and Hari deadlines) is outside
      office hours: moved to the next opening, a "due now" message would come after the
      deadline, at the moment of the first ``overdue`` reminder, so there is none.
    * ``overdue`` n = 1 … ``horizon`` at the opening of each working day after the deadline.
    * ``escalate`` (to the holder's atasan) alongside the ``escalate_after``-th overdue
      reminder and every later one, with the same ``n``.

    Any moment outside office hours moves to the next opening. Sorted, without duplicates
    (same kind and moment). No reminders at all for a step without a standard time.
    """
    if waktu.unit is None or deadline is None:
        return []
    _check_counts(horizon, escalate_after=escalate_after)
    start = _local(started_at, calendar, "started_at")
    due = _local(deadline, calendar, "deadline")
    points: list[ReminderPoint] = []

    overdue_days: list[date] = []
    day = due.date()
    for _ in range(horizon):
        day = calendar.next_working_day(day)
        overdue_days.append(day)

    before = _before_moment(due, waktu, calendar)
    if before is not None:
        before = calendar.next_opening(before)
        if calendar.next_opening(start) < before < due:
            points.append(ReminderPoint(ReminderKind.BEFORE, before))

    if calendar.is_office_time(due):
        points.append(ReminderPoint(ReminderKind.DUE, due))

    for n, overdue_day in enumerate(overdue_days, start=1):
        at = _opening(calendar, overdue_day)
        points.append(ReminderPoint(ReminderKind.OVERDUE, at, n))
        if n >= escalate_after:
            points.append(ReminderPoint(ReminderKind.ESCALATE, at, n))
    return _sort_and_dedupe(points)


def cycle_reminders(
    occurrence: Occurrence,
    calendar: WorkCalendar,
    *,
    lead_working_days: int = 5,
    horizon: int = 10,
) -> list[ReminderPoint]:
    """The reminders of one occurrence of a recurring duty (e.g. Triwulan I 2026).

    * ``before`` at the office opening ``lead_working_days`` working days before the due
      date (none when ``lead_working_days`` is 0), and a ``recap`` for the atasan at the
      same moment (key ``"recap-before"``);
    * ``due`` at the opening of the due date (the duty is due by its close), and a
      ``recap`` then (key ``"recap-due"``);
    * ``overdue`` n = 1 … ``horizon`` at the opening of each following working day.
    """
    _check_counts(horizon)
    if lead_working_days < 0:
        raise ValueError(f"lead_working_days must be >= 0, not {lead_working_days}")
    due_day = _local(occurrence.due, calendar, "occurrence.due").date()
    points: list[ReminderPoint] = []
    if lead_working_days:
        before = _opening(calendar, calendar.add_working_days(due_day, -lead_working_days))
        points.append(ReminderPoint(ReminderKind.BEFORE, before))
        points.append(ReminderPoint(ReminderKind.RECAP, before, key="recap-before"))
    due_at = _opening(calendar, due_day)
    points.append(ReminderPoint(ReminderKind.DUE, due_at))
    points.append(ReminderPoint(ReminderKind.RECAP, due_at, key="recap-due"))
    day = due_at.date()
    for n in range(1, horizon + 1):
        day = calendar.next_working_day(day)
        points.append(ReminderPoint(ReminderKind.OVERDUE, _opening(calendar, day), n))
    return _sort_and_dedupe(points)


def pending(
    points: Iterable[ReminderPoint], now: datetime, done_at: datetime | None = None
) -> list[ReminderPoint]:
    """The points still to come after ``now`` (and before ``done_at``, when the duty is done).

    A done step or duty has nothing pending once ``done_at <= now``. Points missed while the
    bot was down are the scheduler's concern; see :func:`due_points`.
    """
    return [
        p for p in points if p.at > now and (done_at is None or p.at < done_at)
    ]


def due_points(
    points: Iterable[ReminderPoint], since: datetime, until: datetime
) -> list[ReminderPoint]:
    """The points with ``since < at <= until``: what fell due between two looks at the clock."""
    return [p for p in points if since < p.at <= until]
