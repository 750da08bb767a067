"""Reminder plans of active steps (bot.engine.reminders.step_reminders) and their helpers.

Office hours are the default Mon–Thu 07:30–16:00, Fri 07:30–16:30. Holidays are the
``holidays`` library's Indonesian 2026 data: 18–24 Mar Nyepi, Idul Fitri and cuti bersama,
3 Apr Good Friday, 5 Apr Easter Sunday.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.calendar import CalendarError, OfficeHours, WorkCalendar
from bot.engine.reminders import (
    ReminderKind,
    ReminderPoint,
    before_lead,
    due_points,
    pending,
    step_reminders,
    subtract_office_time,
)
from bot.engine.waktu import TimeUnit, Waktu, parse_waktu
from tests.support.paths import WIB

WITA = ZoneInfo("Asia/Makassar")
CAL = WorkCalendar("Asia/Jakarta")
CAL_WITA = WorkCalendar("Asia/Makassar", OfficeHours.parse({"mon-fri": "08:00-16:00"}))


def wib(y: int, m: int, d: int, hh: int = 7, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


def plan_for(start: datetime, waktu: str, cal: WorkCalendar = CAL,
             **kwargs: int) -> tuple[datetime | None, list[tuple[str, datetime]]]:
    w = parse_waktu(waktu)
    deadline = cal.due(start, w)
    points = step_reminders(start, deadline, w, cal, **kwargs)
    return deadline, [(p.key, p.at) for p in points]


# --- lead times ----------------------------------------------------------------------------


@pytest.mark.parametrize(("waktu", "lead"), [
    ("1 Menit", timedelta(minutes=5)),
    ("10 Menit", timedelta(minutes=5)),  # 25 % is 2.5 minutes: the 5-minute floor
    ("30 Menit", timedelta(minutes=8)),  # 7.5 rounds half up
    ("60 Menit", timedelta(minutes=15)),
    ("2 Jam", timedelta(minutes=30)),
    ("4 Jam", timedelta(hours=1)),
    ("1 Hari", timedelta(hours=2)),
    ("2 Hari", None),
    ("3 Bulan", None),
    ("-", None),
])
def test_before_lead(waktu: str, lead: timedelta | None) -> None:
    assert before_lead(parse_waktu(waktu)) == lead


def test_subtract_office_time_crosses_nights_weekends_and_holidays() -> None:
    assert subtract_office_time(CAL, wib(2026, 1, 5, 10, 0), timedelta(hours=2)) == wib(
        2026, 1, 5, 8, 0)
    # Monday 08:00 minus 1 hour: 30 minutes on Monday, 30 before Friday's 16:30 close.
    assert subtract_office_time(CAL, wib(2026, 1, 12, 8, 0), timedelta(hours=1)) == wib(
        2026, 1, 9, 16, 0)
    # Exactly the morning's office time lands on the opening, not the evening before.
    assert subtract_office_time(CAL, wib(2026, 1, 6, 9, 30), timedelta(hours=2)) == wib(
        2026, 1, 6, 7, 30)
    # Wed 25 Mar 2026 08:00 minus 1 hour skips 18–24 Mar: Tue 17 Mar 15:30.
    assert subtract_office_time(CAL, wib(2026, 3, 25, 8, 0), timedelta(hours=1)) == wib(
        2026, 3, 17, 15, 30)
    with pytest.raises(CalendarError):
        subtract_office_time(CAL, wib(2026, 1, 5), timedelta(minutes=-1))


# --- exact plans ---------------------------------------------------------------------------


def test_ten_minutes() -> None:
    deadline, plan = plan_for(wib(2026, 1, 5, 8, 0), "10 Menit", horizon=3)
    assert deadline == wib(2026, 1, 5, 8, 10)
    assert plan == [
        ("before", wib(2026, 1, 5, 8, 5)),
        ("due", wib(2026, 1, 5, 8, 10)),
        ("overdue-1", wib(2026, 1, 6)),
        ("overdue-2", wib(2026, 1, 7)),
        ("escalate-2", wib(2026, 1, 7)),
        ("overdue-3", wib(2026, 1, 8)),
        ("escalate-3", wib(2026, 1, 8)),
    ]


def test_five_minutes_has_no_before_reminder() -> None:
    # A 5-minute lead on a 5-minute step would fire the moment the step starts.
    _, plan = plan_for(wib(2026, 1, 5, 8, 0), "5 Menit", horizon=0)
    assert plan == [("due", wib(2026, 1, 5, 8, 5))]
    # Started before opening: the step effectively starts at 07:30.
    _, plan = plan_for(wib(2026, 1, 5, 6, 0), "5 Menit", horizon=0)
    assert plan == [("due", wib(2026, 1, 5, 7, 35))]


def test_two_hours() -> None:
    deadline, plan = plan_for(wib(2026, 1, 5, 8, 0), "2 Jam", horizon=1)
    assert deadline == wib(2026, 1, 5, 10, 0)
    assert plan == [
        ("before", wib(2026, 1, 5, 9, 30)),
        ("due", wib(2026, 1, 5, 10, 0)),
        ("overdue-1", wib(2026, 1, 6)),
    ]


def test_four_hours_before_reminder_the_evening_before() -> None:
    # Mon 12:30 + 4 Jam = 3.5 h on Monday + 30 min on Tuesday = Tue 08:00; 1 h of office
    # time earlier = 30 min on Tuesday + 30 min before Monday's close = Mon 15:30.
    deadline, plan = plan_for(wib(2026, 1, 5, 12, 30), "4 Jam", horizon=1)
    assert deadline == wib(2026, 1, 6, 8, 0)
    assert plan == [
        ("before", wib(2026, 1, 5, 15, 30)),
        ("due", wib(2026, 1, 6, 8, 0)),
        ("overdue-1", wib(2026, 1, 7)),
    ]


def test_deadline_at_friday_closing_overdue_on_monday_opening() -> None:
    # Fri 9 Jan 14:30 + 2 Jam = 16:30, the close of a Friday. The "due" moment is outside
    # office hours and would coincide with the first overdue reminder: only that one is sent.
    deadline, plan = plan_for(wib(2026, 1, 9, 14, 30), "2 Jam", horizon=3)
    assert deadline == wib(2026, 1, 9, 16, 30)
    assert plan == [
        ("before", wib(2026, 1, 9, 16, 0)),
        ("overdue-1", wib(2026, 1, 12)),
        ("overdue-2", wib(2026, 1, 13)),
        ("escalate-2", wib(2026, 1, 13)),
        ("overdue-3", wib(2026, 1, 14)),
        ("escalate-3", wib(2026, 1, 14)),
    ]


def test_one_day() -> None:
    deadline, plan = plan_for(wib(2026, 1, 5, 15, 0), "1 Hari", horizon=2)
    assert deadline == wib(2026, 1, 6, 15, 0)
    assert plan == [
        ("before", wib(2026, 1, 6, 13, 0)),
        ("due", wib(2026, 1, 6, 15, 0)),
        ("overdue-1", wib(2026, 1, 7)),
        ("overdue-2", wib(2026, 1, 8)),
        ("escalate-2", wib(2026, 1, 8)),
    ]


def test_one_day_from_before_opening() -> None:
    # Started 07:00: counts from the 07:30 opening, due Tue 07:30; 2 office hours earlier is
    # Monday 14:00.
    deadline, plan = plan_for(wib(2026, 1, 5, 7, 0), "1 Hari", horizon=1)
    assert deadline == wib(2026, 1, 6, 7, 30)
    assert plan == [
        ("before", wib(2026, 1, 5, 14, 0)),
        ("due", wib(2026, 1, 6, 7, 30)),
        ("overdue-1", wib(2026, 1, 7)),
    ]


def test_one_day_before_the_idul_fitri_holidays() -> None:
    # Tue 17 Mar 09:00 + 1 Hari = Wed 25 Mar 09:00 (18–24 Mar off); 2 office hours earlier:
    # 1.5 h on the 25th, 30 minutes before Tuesday's close.
    deadline, plan = plan_for(wib(2026, 3, 17, 9, 0), "1 Hari", horizon=1)
    assert deadline == wib(2026, 3, 25, 9, 0)
    assert plan == [
        ("before", wib(2026, 3, 17, 15, 30)),
        ("due", wib(2026, 3, 25, 9, 0)),
        ("overdue-1", wib(2026, 3, 26)),
    ]


def test_four_days_across_idul_fitri_and_good_friday() -> None:
    # Tue 17 Mar 15:00 + 4 Hari: 25, 26, 27, 30 Mar. Overdue skips Good Friday 3 Apr.
    deadline, plan = plan_for(wib(2026, 3, 17, 15, 0), "4 Hari", horizon=4)
    assert deadline == wib(2026, 3, 30, 15, 0)
    assert plan == [
        ("before", wib(2026, 3, 27, 15, 0)),
        ("due", wib(2026, 3, 30, 15, 0)),
        ("overdue-1", wib(2026, 3, 31)),
        ("overdue-2", wib(2026, 4, 1)),
        ("escalate-2", wib(2026, 4, 1)),
        ("overdue-3", wib(2026, 4, 2)),
        ("escalate-3", wib(2026, 4, 2)),
        ("overdue-4", wib(2026, 4, 6)),
        ("escalate-4", wib(2026, 4, 6)),
    ]


def test_two_days_before_reminder_at_a_closing_moves_to_the_opening() -> None:
    # Fri 9 Jan 16:15 + 2 Hari = Tue 13 Jan, clamped to its 16:00 close. One working day
    # earlier at 16:00 is Monday's close: outside office hours, so Tuesday's opening.
    deadline, plan = plan_for(wib(2026, 1, 9, 16, 15), "2 Hari", horizon=1)
    assert deadline == wib(2026, 1, 13, 16, 0)
    assert plan == [
        ("before", wib(2026, 1, 13)),
        ("overdue-1", wib(2026, 1, 14)),
    ]


def test_three_months() -> None:
    # Mon 5 Jan 08:00 + 3 Bulan = Sun 5 Apr (Easter) -> Mon 6 Apr 07:30. Five working days
    # earlier skips Good Friday: 2, 1 Apr, 31, 30, 27 Mar.
    deadline, plan = plan_for(wib(2026, 1, 5, 8, 0), "3 Bulan", horizon=2)
    assert deadline == wib(2026, 4, 6)
    assert plan == [
        ("before", wib(2026, 3, 27)),
        ("due", wib(2026, 4, 6)),
        ("overdue-1", wib(2026, 4, 7)),
        ("overdue-2", wib(2026, 4, 8)),
        ("escalate-2", wib(2026, 4, 8)),
    ]


def test_no_standard_time_no_reminders() -> None:
    deadline, plan = plan_for(wib(2026, 1, 5, 8, 0), "-")
    assert deadline is None
    assert plan == []
    assert step_reminders(wib(2026, 1, 5), wib(2026, 1, 6), Waktu.none(), CAL) == []


# --- escalation and horizon ----------------------------------------------------------------


@pytest.mark.parametrize("escalate_after", [1, 2, 3, 5, 11])
def test_escalation_at_the_configured_count(escalate_after: int) -> None:
    w = parse_waktu("1 Hari")
    start = wib(2026, 1, 5, 9, 0)
    points = step_reminders(start, CAL.due(start, w), w, CAL, escalate_after=escalate_after,
                            horizon=10)
    overdue = [p for p in points if p.kind is ReminderKind.OVERDUE]
    escalate = [p for p in points if p.kind is ReminderKind.ESCALATE]
    assert [p.n for p in overdue] == list(range(1, 11))
    assert [p.n for p in escalate] == list(range(escalate_after, 11))
    by_n = {p.n: p.at for p in overdue}
    assert all(p.at == by_n[p.n] for p in escalate)
    assert [p.key for p in escalate] == [f"escalate-{n}" for n in range(escalate_after, 11)]


def test_horizon_and_bad_arguments() -> None:
    w = parse_waktu("2 Jam")
    start = wib(2026, 1, 5, 8, 0)
    deadline = CAL.due(start, w)
    points = step_reminders(start, deadline, w, CAL, horizon=0)
    assert [p.key for p in points] == ["before", "due"]
    with pytest.raises(ValueError):
        step_reminders(start, deadline, w, CAL, horizon=-1)
    with pytest.raises(ValueError):
        step_reminders(start, deadline, w, CAL, escalate_after=0)
    with pytest.raises(CalendarError):
        step_reminders(datetime(2026, 1, 5, 8, 0), deadline, w, CAL)


# --- other zones ---------------------------------------------------------------------------


def test_wita_unit() -> None:
    # Office 08:00–16:00 WITA (UTC+8). A start given in WIB counts in the unit's zone:
    # 07:00 WIB is 08:00 WITA.
    start = datetime(2026, 1, 5, 7, 0, tzinfo=WIB)
    w = parse_waktu("2 Jam")
    deadline = CAL_WITA.due(start, w)
    assert deadline is not None
    assert deadline.isoformat() == "2026-01-05T10:00:00+08:00"
    points = step_reminders(start, deadline, w, CAL_WITA, horizon=2)
    assert [(p.key, p.at.isoformat()) for p in points] == [
        ("before", "2026-01-05T09:30:00+08:00"),
        ("due", "2026-01-05T10:00:00+08:00"),
        ("overdue-1", "2026-01-06T08:00:00+08:00"),
        ("overdue-2", "2026-01-07T08:00:00+08:00"),
        ("escalate-2", "2026-01-07T08:00:00+08:00"),
    ]
    # Friday closes at 16:00 here too: 15:00 + 2 Jam ends Monday 09:00 WITA.
    start = datetime(2026, 1, 9, 15, 0, tzinfo=WITA)
    deadline = CAL_WITA.due(start, w)
    assert deadline == datetime(2026, 1, 12, 9, 0, tzinfo=WITA)
    points = step_reminders(start, deadline, w, CAL_WITA, horizon=1)
    assert [(p.key, p.at.isoformat()) for p in points] == [
        ("before", "2026-01-12T08:30:00+08:00"),
        ("due", "2026-01-12T09:00:00+08:00"),
        ("overdue-1", "2026-01-13T08:00:00+08:00"),
    ]


# --- properties ----------------------------------------------------------------------------

waktus = st.one_of(
    st.builds(Waktu, st.integers(1, 600), st.just(TimeUnit.MINUTE)),
    st.builds(Waktu, st.integers(1, 40), st.just(TimeUnit.HOUR)),
    st.builds(Waktu, st.integers(1, 30), st.just(TimeUnit.DAY)),
    st.builds(Waktu, st.integers(1, 12), st.just(TimeUnit.MONTH)),
)
starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31, 23, 59))


@settings(max_examples=300, deadline=None)
@given(start=starts, waktu=waktus, wita=st.booleans(), escalate_after=st.integers(1, 4),
       horizon=st.integers(0, 12))
def test_reminders_are_inside_office_hours_sorted_and_unique(
    start: datetime, waktu: Waktu, wita: bool, escalate_after: int, horizon: int
) -> None:
    cal = CAL_WITA if wita else CAL
    begin = start.replace(second=0, microsecond=0, tzinfo=cal.tz)
    deadline = cal.due(begin, waktu)
    assert deadline is not None
    points = step_reminders(begin, deadline, waktu, cal, escalate_after=escalate_after,
                            horizon=horizon)
    for point in points:
        assert cal.is_office_time(point.at), (point, begin, waktu)
        assert point.at.tzinfo is not None
    assert points == sorted(points, key=lambda p: p.at)
    assert len({p.key for p in points}) == len(points)
    assert len({(p.kind, p.at) for p in points}) == len(points)
    effective_start = cal.next_opening(begin)
    for point in points:
        if point.kind is ReminderKind.BEFORE:
            assert effective_start < point.at < deadline
        elif point.kind is ReminderKind.DUE:
            assert point.at == deadline
        else:
            assert point.at > deadline
            assert point.at.date() > deadline.date()
    overdue = [p for p in points if p.kind is ReminderKind.OVERDUE]
    assert [p.n for p in overdue] == list(range(1, horizon + 1))
    assert len([p for p in points if p.kind is ReminderKind.ESCALATE]) == max(
        0, horizon - escalate_after + 1)
    # Only a deadline at a closing time (outside office time) goes without "due" reminder.
    has_due = any(p.kind is ReminderKind.DUE for p in points)
    assert has_due == cal.is_office_time(deadline)
    if not has_due:  # cal.due only puts a deadline outside office time at a closing
        hours = cal.hours_on(deadline)
        assert hours is not None and deadline.timetz().replace(tzinfo=None) == hours[1]


@settings(max_examples=200, deadline=None)
@given(start=starts, minutes=st.integers(0, 5000))
def test_subtract_office_time_inverts_add(start: datetime, minutes: int) -> None:
    begin = CAL.next_opening(start.replace(second=0, microsecond=0, tzinfo=WIB))
    delta = timedelta(minutes=minutes)
    end = CAL.add_office_time(begin, delta)
    assert subtract_office_time(CAL, end, delta) == begin


# --- helpers -------------------------------------------------------------------------------


def test_pending_and_due_points() -> None:
    w = parse_waktu("2 Jam")
    start = wib(2026, 1, 5, 8, 0)
    points = step_reminders(start, CAL.due(start, w), w, CAL, horizon=2)
    assert [p.key for p in pending(points, wib(2026, 1, 5, 9, 30))] == [
        "due", "overdue-1", "overdue-2", "escalate-2"]
    assert pending(points, wib(2026, 1, 5, 9, 0), done_at=wib(2026, 1, 5, 9, 0)) == []
    assert [p.key for p in pending(points, start, done_at=wib(2026, 1, 5, 9, 45))] == [
        "before"]
    # Between two looks at the clock (the bot was down overnight): half-open (since, until].
    assert [p.key for p in due_points(points, wib(2026, 1, 5, 9, 30), wib(2026, 1, 6, 7, 30))
            ] == ["due", "overdue-1"]
    assert due_points(points, wib(2026, 1, 5, 10, 0), wib(2026, 1, 5, 12, 0)) == []


def test_reminder_point_keys_and_validation() -> None:
    at = wib(2026, 1, 5)
    assert ReminderPoint(ReminderKind.BEFORE, at).key == "before"
    assert ReminderPoint("overdue", at, 3).key == "overdue-3"  # type: ignore[arg-type]
    assert ReminderPoint("overdue", at, 3).kind is ReminderKind.OVERDUE  # type: ignore[arg-type]
    assert ReminderPoint(ReminderKind.RECAP, at, key="recap-due").key == "recap-due"
    assert ReminderKind.ESCALATE == "escalate"
    with pytest.raises(CalendarError):
        ReminderPoint(ReminderKind.DUE, datetime(2026, 1, 5, 8, 0))
    with pytest.raises(ValueError):
        ReminderPoint(ReminderKind.OVERDUE, at, -1)
    with pytest.raises(ValueError):
        ReminderPoint("later", at)  # type: ignore[arg-type]
