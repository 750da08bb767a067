"""Recurring duties of a flow (siklus): which quarter, semester or year is due when.

A flow's :class:`~bot.engine.model.Cycle` says e.g. "every quarter, the performance data is due
10 working days after the end of the quarter". This module turns that into dated
:class:`Occurrence` values: Triwulan I 2026 runs 1 January – 31 March 2026 and is due at the
close of office hours on its due date.

Periods are computed with calendar arithmetic (31 March, 30 June, 30 September, 31 December),
never with a cron-like "last weekday of the month" rule, which silently drops periods that end
on a weekend. The due date is then counted in the unit's working days
(:meth:`~bot.engine.calendar.WorkCalendar.add_working_days`), so weekends, holidays and cuti
bersama are skipped.

Pure: never reads the clock and does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.engine.calendar import WorkCalendar
from bot.engine.model import Cycle, Flow, Period

__all__ = [
    "PERIODS_PER_YEAR",
    "Occurrence",
    "PeriodSpan",
    "due_date",
    "occurrence_of",
    "occurrences",
    "occurrences_between",
    "period_of",
    "period_spans",
    "roman",
]

#: How many periods of each kind a year has, and how many months each spans.
PERIODS_PER_YEAR: dict[Period, int] = {Period.QUARTER: 4, Period.SEMESTER: 2, Period.YEAR: 1}
_MONTHS: dict[Period, int] = {Period.QUARTER: 3, Period.SEMESTER: 6, Period.YEAR: 12}

_ROMAN = ("I", "II", "III", "IV")


def roman(index: int) -> str:
    """The Roman numeral the SOPs use for a period index: 1 → "I" … 4 → "IV"."""
    if not 1 <= index <= len(_ROMAN):
        raise ValueError(f"period index must be 1..{len(_ROMAN)}, not {index}")
    return _ROMAN[index - 1]


def _last_day_of_month(year: int, month: int) -> date:
    # The day before the first of the next month: no weekday rule, no month-length table.
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class PeriodSpan:
    """One period of a year: quarter 1..4, semester 1..2 or the year itself (index 1)."""

    period: Period
    year: int
    index: int
    start: date
    end: date

    @property
    def roman(self) -> str:
        """The index as a Roman numeral ("Triwulan III"); "I" for a year."""
        return roman(self.index)


def _span(period: Period, year: int, index: int) -> PeriodSpan:
    count = PERIODS_PER_YEAR[period]
    if not 1 <= index <= count:
        raise ValueError(f"{period.value} index must be 1..{count}, not {index}")
    months = _MONTHS[period]
    first_month = (index - 1) * months + 1
    last_month = first_month + months - 1
    return PeriodSpan(
        period, year, index, date(year, first_month, 1), _last_day_of_month(year, last_month)
    )


def period_spans(period: Period, year: int) -> list[PeriodSpan]:
    """Every period of that kind in ``year``, in order."""
    return [_span(period, year, i) for i in range(1, PERIODS_PER_YEAR[period] + 1)]


def period_of(cycle: Cycle | Period, d: date) -> PeriodSpan:
    """The period of ``cycle`` (or of a period kind) that the calendar day ``d`` falls in.

    A datetime is taken by its own calendar day; convert it to the unit's zone first.
    """
    period = cycle.period if isinstance(cycle, Cycle) else Period(cycle)
    day = d.date() if isinstance(d, datetime) else d
    index = (day.month - 1) // _MONTHS[period] + 1
    return _span(period, day.year, index)


@dataclass(frozen=True)
class Occurrence:
    """One due instance of a cycle, e.g. the Triwulan I 2026 performance data.

    ``period``, ``index`` and ``year`` are the parts of the label the chat layer renders in
    the reader's language ("Triwulan I 2026", "Semester II 2026", "Tahun 2026"); ``key``
    ("triwulan-2026-1") is a plain identifier, unique within a flow, for deterministic job
    ids. ``due`` is the close of office hours on the due date, aware, in the unit's zone.
    """

    flow_id: str
    cycle_id: str
    period: Period
    index: int
    year: int
    period_start: date
    period_end: date
    due: datetime

    @property
    def key(self) -> str:
        """``"{cycle_id}-{year}-{index}"``, e.g. ``"triwulan-2026-1"`` or ``"tahunan-2026-1"``."""
        return f"{self.cycle_id}-{self.year}-{self.index}"

    @property
    def roman(self) -> str:
        """The period index as a Roman numeral ("I" .. "IV")."""
        return roman(self.index)

    @property
    def due_date(self) -> date:
        """The due date (in the unit's zone)."""
        return self.due.date()

    @property
    def span(self) -> PeriodSpan:
        """The period this occurrence covers."""
        return PeriodSpan(self.period, self.year, self.index, self.period_start, self.period_end)


def due_date(cycle: Cycle, period_end: date, calendar: WorkCalendar) -> date:
    """The due date of a period ending on ``period_end``.

    ``due_working_days_after_period_end`` working days after the period's last calendar day;
    with 0, the period end itself, moved to the next working day when the office is closed.
    """
    n = cycle.due_working_days_after_period_end
    if n < 0:
        raise ValueError(f"cycle {cycle.id!r}: due_working_days_after_period_end must be >= 0")
    if n == 0:
        return calendar.next_working_day(period_end, include_self=True)
    return calendar.add_working_days(period_end, n)


def _occurrence(flow: Flow, cycle: Cycle, span: PeriodSpan, calendar: WorkCalendar) -> Occurrence:
    day = due_date(cycle, span.end, calendar)
    hours = calendar.hours_on(day)
    assert hours is not None  # due_date only returns working days
    due = datetime.combine(day, hours[1], tzinfo=calendar.tz)
    return Occurrence(
        flow.id, cycle.id, span.period, span.index, span.year, span.start, span.end, due
    )


def _calendar_of(flow: Flow, calendar: WorkCalendar | None) -> WorkCalendar:
    return calendar if calendar is not None else flow.unit.calendar()


def _sorted(flow: Flow, found: list[Occurrence]) -> list[Occurrence]:
    order = {c.id: i for i, c in enumerate(flow.cycles)}
    return sorted(found, key=lambda o: (o.due, o.period_end, order[o.cycle_id], o.index))


def occurrences(
    flow: Flow, year: int, calendar: WorkCalendar | None = None
) -> list[Occurrence]:
    """Every occurrence of every cycle of ``flow`` whose period lies in ``year``.

    Sorted by due moment, then period end, then the flow's cycle order. ``calendar``
    defaults to the flow's unit calendar. The due moments of the last periods may fall in
    the following year.
    """
    cal = _calendar_of(flow, calendar)
    found = [
        _occurrence(flow, cycle, span, cal)
        for cycle in flow.cycles
        for span in period_spans(cycle.period, year)
    ]
    return _sorted(flow, found)


def occurrences_between(
    flow: Flow, start: date, end: date, calendar: WorkCalendar | None = None
) -> list[Occurrence]:
    """Occurrences of every cycle of ``flow`` DUE between ``start`` and ``end`` (both included).

    Covers as many years as needed, including the periods of earlier years that are due in
    the range (Triwulan IV 2025 is due in January 2026). Datetimes are taken by their day in
    the unit's zone.
    """
    cal = _calendar_of(flow, calendar)
    first_day = start.astimezone(cal.tz).date() if isinstance(start, datetime) else start
    last_day = end.astimezone(cal.tz).date() if isinstance(end, datetime) else end
    if last_day < first_day or not flow.cycles:
        return []
    # A due date lies at most a few hundred working days after its period's end; look back
    # far enough for the largest delay (about 240 working days per Indonesian year).
    longest = max(c.due_working_days_after_period_end for c in flow.cycles)
    first_year = first_day.year - 1 - longest // 200
    found = []
    for year in range(first_year, last_day.year + 1):
        for occ in occurrences(flow, year, cal):
            if first_day <= occ.due_date <= last_day:
                found.append(occ)
    return _sorted(flow, found)


def occurrence_of(
    flow: Flow, cycle: Cycle | str, d: date, calendar: WorkCalendar | None = None
) -> Occurrence:
    """The occurrence of ``cycle`` (a Cycle of ``flow`` or its id) whose period contains ``d``.

    Raises KeyError when the flow has no such cycle.
    """
    cal = _calendar_of(flow, calendar)
    if isinstance(cycle, str):
        matches = [c for c in flow.cycles if c.id == cycle]
        if not matches:
            raise KeyError(cycle)
        cycle = matches[0]
    day = d.astimezone(cal.tz).date() if isinstance(d, datetime) else d
    return _occurrence(flow, cycle, period_of(cycle, day), cal)
