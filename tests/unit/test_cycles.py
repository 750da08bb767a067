"""Recurring duties (bot.engine.cycles) and their reminder plans (cycle_reminders).

Expected dates come from the ``holidays`` library's Indonesian data (public + government, i.e.
cuti bersama), checked in :func:`test_the_holiday_data_these_tests_rely_on`: e.g. 3 Apr 2026
Good Friday, 18–24 Mar 2026 Nyepi and Idul Fitri with cuti bersama, 1 and 5 Jan 2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.engine.calendar import WorkCalendar
from bot.engine.cycles import (
    Occurrence,
    occurrence_of,
    occurrences,
    occurrences_between,
    period_of,
    period_spans,
    roman,
)
from bot.engine.loader import parse_flow
from bot.engine.model import Flow, Period
from bot.engine.reminders import ReminderKind, ReminderPoint, cycle_reminders
from tests.support.paths import DATA_DIR, WIB

DPRD = "pengumpulan-data-kinerja-dprd-nganjuk"
MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")


def wib(y: int, m: int, d: int, hh: int = 7, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


def mini_flow(cycles: str) -> Flow:
    """The minimal test flow with the given ``cycles:`` YAML appended."""
    return parse_flow(MINI + cycles, "mini-cycles.yaml")


QUARTER_N0 = """\
cycles:
  - {id: laporan, name: Laporan Triwulan, period: quarter, steps: [1],
     due: {working_days_after_period_end: 0}, applies_to: kepala}
"""


def plan(points: list[ReminderPoint]) -> list[tuple[str, datetime]]:
    return [(p.key, p.at) for p in points]


@pytest.fixture(scope="module")
def dprd(all_flows: dict[str, Flow]) -> Flow:
    return all_flows[DPRD]


@pytest.fixture(scope="module")
def cal(dprd: Flow) -> WorkCalendar:
    return dprd.unit.calendar()


def test_the_holiday_data_these_tests_rely_on(cal: WorkCalendar) -> None:
    for day in (date(2026, 3, d) for d in (18, 19, 20, 23, 24)):
        assert cal.is_holiday(day), day
    for day in (date(2026, 4, 3), date(2027, 1, 1), date(2027, 1, 5), date(2027, 3, 25),
                date(2027, 3, 26), date(2029, 3, 30)):
        assert cal.is_holiday(day), day
    for day in (date(2026, 3, 17), date(2026, 3, 25), date(2026, 4, 6), date(2027, 1, 4),
                date(2029, 4, 2), date(2028, 10, 2)):
        assert cal.is_working_day(day), day


# --- periods -------------------------------------------------------------------------------


def test_period_spans_use_calendar_month_ends() -> None:
    quarters = period_spans(Period.QUARTER, 2026)
    assert [(s.start, s.end) for s in quarters] == [
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 12, 31)),
    ]
    assert [(s.start, s.end) for s in period_spans(Period.SEMESTER, 2028)] == [
        (date(2028, 1, 1), date(2028, 6, 30)),
        (date(2028, 7, 1), date(2028, 12, 31)),
    ]
    [year] = period_spans(Period.YEAR, 2026)
    assert (year.start, year.end, year.index, year.roman) == (
        date(2026, 1, 1), date(2026, 12, 31), 1, "I")


@pytest.mark.parametrize(("day", "period", "index", "start", "end"), [
    (date(2026, 1, 1), Period.QUARTER, 1, date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 3, 31), Period.QUARTER, 1, date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 4, 1), Period.QUARTER, 2, date(2026, 4, 1), date(2026, 6, 30)),
    (date(2028, 9, 30), Period.QUARTER, 3, date(2028, 7, 1), date(2028, 9, 30)),
    (date(2026, 12, 31), Period.QUARTER, 4, date(2026, 10, 1), date(2026, 12, 31)),
    (date(2026, 6, 30), Period.SEMESTER, 1, date(2026, 1, 1), date(2026, 6, 30)),
    (date(2026, 7, 1), Period.SEMESTER, 2, date(2026, 7, 1), date(2026, 12, 31)),
    (date(2028, 2, 29), Period.YEAR, 1, date(2028, 1, 1), date(2028, 12, 31)),
])
def test_period_of(day: date, period: Period, index: int, start: date, end: date) -> None:
    span = period_of(period, day)
    assert (span.period, span.year, span.index, span.start, span.end) == (
        period, day.year, index, start, end)


def test_period_of_a_cycle_and_occurrence_of(dprd: Flow, cal: WorkCalendar) -> None:
    semester = next(c for c in dprd.cycles if c.id == "semester")
    assert period_of(semester, date(2026, 8, 17)).index == 2
    occ = occurrence_of(dprd, "triwulan", date(2026, 5, 14), cal)
    assert occ.key == "triwulan-2026-2"
    assert occ.due == wib(2026, 7, 14, 16, 0)
    # A datetime counts by its day in the unit's zone: 31 Mar 20:00 UTC is 1 Apr in WIB.
    late = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    assert occurrence_of(dprd, "triwulan", late, cal).index == 2
    with pytest.raises(KeyError):
        occurrence_of(dprd, "bulanan", date(2026, 1, 1), cal)


def test_roman() -> None:
    assert [roman(i) for i in (1, 2, 3, 4)] == ["I", "II", "III", "IV"]
    with pytest.raises(ValueError):
        roman(5)


# --- the DPRD flow, 2026 -------------------------------------------------------------------

# 10 working days after each period end (the flow file's deployment default), by the close
# of office hours (16:00 Mon–Thu, 16:30 Fri) on the due date.
DUE_2026 = {
    # 31 Mar (Tue) + 10: 1, 2 Apr, [3 Apr Good Friday], 6–10, 13, 14, 15 Apr.
    "triwulan-2026-1": wib(2026, 4, 15, 16, 0),
    # 30 Jun (Tue) + 10: 1–3, 6–10, 13, 14 Jul.
    "triwulan-2026-2": wib(2026, 7, 14, 16, 0),
    "semester-2026-1": wib(2026, 7, 14, 16, 0),
    # 30 Sep (Wed) + 10: 1, 2, 5–9, 12–14 Oct.
    "triwulan-2026-3": wib(2026, 10, 14, 16, 0),
    # 31 Dec (Thu) + 10: [1 Jan 2027 New Year], 4, [5 Jan Isra Mikraj], 6–8, 11–15, 18 Jan.
    "triwulan-2026-4": wib(2027, 1, 18, 16, 0),
    "semester-2026-2": wib(2027, 1, 18, 16, 0),
    "tahunan-2026-1": wib(2027, 1, 18, 16, 0),
}


def test_dprd_2026_due_dates(dprd: Flow, cal: WorkCalendar) -> None:
    found = occurrences(dprd, 2026, cal)
    assert {o.key: o.due for o in found} == DUE_2026
    # By due moment, then period end, then the flow's cycle order.
    assert [o.key for o in found] == [
        "triwulan-2026-1", "triwulan-2026-2", "semester-2026-1", "triwulan-2026-3",
        "triwulan-2026-4", "semester-2026-2", "tahunan-2026-1",
    ]
    for occ in found:
        assert occ.due.tzinfo is not None and occ.due.utcoffset() == WIB.utcoffset(occ.due)
        assert occ.flow_id == DPRD
        assert cal.working_days_between(occ.period_end, occ.due_date) == 10


def test_dprd_2026_labels_and_periods(dprd: Flow, cal: WorkCalendar) -> None:
    by_key = {o.key: o for o in occurrences(dprd, 2026, cal)}
    q3 = by_key["triwulan-2026-3"]
    assert (q3.cycle_id, q3.period, q3.index, q3.roman, q3.year) == (
        "triwulan", Period.QUARTER, 3, "III", 2026)
    assert (q3.period_start, q3.period_end) == (date(2026, 7, 1), date(2026, 9, 30))
    s2 = by_key["semester-2026-2"]
    assert (s2.period, s2.roman, s2.period_start, s2.period_end) == (
        Period.SEMESTER, "II", date(2026, 7, 1), date(2026, 12, 31))
    year = by_key["tahunan-2026-1"]
    assert (year.period, year.year, year.period_start, year.period_end) == (
        Period.YEAR, 2026, date(2026, 1, 1), date(2026, 12, 31))
    assert year.span == period_of(Period.YEAR, date(2026, 6, 1))


def test_triwulan_i_2026_reminders(dprd: Flow, cal: WorkCalendar) -> None:
    occ = occurrence_of(dprd, "triwulan", date(2026, 2, 1), cal)
    assert plan(cycle_reminders(occ, cal)) == [
        # 5 working days before Wed 15 Apr: 14, 13, 10, 9, 8 Apr (no holiday in between).
        ("before", wib(2026, 4, 8)),
        ("recap-before", wib(2026, 4, 8)),
        ("due", wib(2026, 4, 15)),
        ("recap-due", wib(2026, 4, 15)),
        ("overdue-1", wib(2026, 4, 16)),
        ("overdue-2", wib(2026, 4, 17)),
        ("overdue-3", wib(2026, 4, 20)),
        ("overdue-4", wib(2026, 4, 21)),
        ("overdue-5", wib(2026, 4, 22)),
        ("overdue-6", wib(2026, 4, 23)),
        ("overdue-7", wib(2026, 4, 24)),
        ("overdue-8", wib(2026, 4, 27)),
        ("overdue-9", wib(2026, 4, 28)),
        ("overdue-10", wib(2026, 4, 29)),
    ]
    points = cycle_reminders(occ, cal)
    assert [p.kind for p in points[:4]] == [
        ReminderKind.BEFORE, ReminderKind.RECAP, ReminderKind.DUE, ReminderKind.RECAP]
    assert [p.n for p in points[4:]] == list(range(1, 11))


def test_year_end_2026_reminders_cross_the_new_year_holidays(
    dprd: Flow, cal: WorkCalendar
) -> None:
    occ = occurrence_of(dprd, "tahunan", date(2026, 12, 31), cal)
    assert occ.due == wib(2027, 1, 18, 16, 0)
    assert plan(cycle_reminders(occ, cal, horizon=10)) == [
        ("before", wib(2027, 1, 11)),
        ("recap-before", wib(2027, 1, 11)),
        ("due", wib(2027, 1, 18)),
        ("recap-due", wib(2027, 1, 18)),
        *[(f"overdue-{n}", wib(2027, 1, d)) for n, d in enumerate(
            (19, 20, 21, 22, 25, 26, 27, 28, 29), start=1)],
        ("overdue-10", wib(2027, 2, 1)),
    ]
    # Ten working days back from 18 Jan skip 5 Jan (Isra Mikraj) and 1 Jan (New Year):
    # 15, 14, 13, 12, 11, 8, 7, 6, 4 Jan, 31 Dec.
    long_lead = cycle_reminders(occ, cal, lead_working_days=10, horizon=0)
    assert plan(long_lead) == [
        ("before", wib(2026, 12, 31)),
        ("recap-before", wib(2026, 12, 31)),
        ("due", wib(2027, 1, 18)),
        ("recap-due", wib(2027, 1, 18)),
    ]


def test_no_lead_means_no_before_and_bad_arguments(dprd: Flow, cal: WorkCalendar) -> None:
    occ = occurrences(dprd, 2026, cal)[0]
    assert [p.key for p in cycle_reminders(occ, cal, lead_working_days=0, horizon=1)] == [
        "due", "recap-due", "overdue-1"]
    with pytest.raises(ValueError):
        cycle_reminders(occ, cal, lead_working_days=-1)
    with pytest.raises(ValueError):
        cycle_reminders(occ, cal, horizon=-1)


# --- periods ending on a weekend ----------------------------------------------------------


def test_quarters_ending_on_a_weekend_are_still_due(dprd: Flow, cal: WorkCalendar) -> None:
    # A cron rule like day="last", day_of_week="mon-fri" fires on no day of a month whose last
    # day is a Saturday or Sunday. Every 2029 quarter but the last ends on a weekend.
    found = [o for o in occurrences(dprd, 2029, cal) if o.cycle_id == "triwulan"]
    assert [(o.index, o.period_end, o.period_end.strftime("%a")) for o in found] == [
        (1, date(2029, 3, 31), "Sat"),
        (2, date(2029, 6, 30), "Sat"),
        (3, date(2029, 9, 30), "Sun"),
        (4, date(2029, 12, 31), "Mon"),
    ]
    assert [o.due for o in found] == [
        wib(2029, 4, 13, 16, 30),  # Sat 31 Mar -> [1 Apr Easter Sunday] 2, 3 … 13 Apr (Fri)
        wib(2029, 7, 13, 16, 30),  # Sat 30 Jun -> 2–6, 9–13 Jul (Friday closes 16:30)
        wib(2029, 10, 12, 16, 30),  # Sun 30 Sep -> 1–5, 8–12 Oct
        wib(2030, 1, 15, 16, 0),  # Mon 31 Dec -> [1 Jan] 2–4, 7–11, 14, 15 Jan
    ]
    q3_2028 = occurrence_of(dprd, "triwulan", date(2028, 9, 30), cal)
    assert q3_2028.period_end.weekday() == 5  # Saturday 30 Sep 2028
    assert q3_2028.due == wib(2028, 10, 13, 16, 30)
    assert cal.working_days_between(q3_2028.period_end, q3_2028.due_date) == 10


# --- N = 0: due on the period end itself ---------------------------------------------------


def test_zero_working_days_is_the_period_end_or_the_next_working_day() -> None:
    flow = mini_flow(QUARTER_N0)
    cal = flow.unit.calendar()
    assert {o.key: o.due for o in occurrences(flow, 2026, cal)} == {
        "laporan-2026-1": wib(2026, 3, 31, 16, 0),
        "laporan-2026-2": wib(2026, 6, 30, 16, 0),
        "laporan-2026-3": wib(2026, 9, 30, 16, 0),
        "laporan-2026-4": wib(2026, 12, 31, 16, 0),
    }
    # Weekend period ends move to the next working day.
    assert occurrence_of(flow, "laporan", date(2028, 8, 1), cal).due == wib(2028, 10, 2, 16, 0)
    # Sat 31 Mar 2029, Sun 1 Apr (Easter) -> Mon 2 Apr.
    assert occurrence_of(flow, "laporan", date(2029, 1, 1), cal).due == wib(2029, 4, 2, 16, 0)


def test_zero_working_days_lead_crosses_nyepi_and_idul_fitri() -> None:
    flow = mini_flow(QUARTER_N0)
    cal = flow.unit.calendar()
    occ = occurrence_of(flow, "laporan", date(2026, 3, 1), cal)
    # 5 working days before Tue 31 Mar 2026: 30, 27, 26, 25 Mar, then 18–24 Mar are Nyepi,
    # Idul Fitri and cuti bersama (and a weekend), so the fifth is Tue 17 Mar.
    # Overdue: 1, 2 Apr, [3 Apr Good Friday, weekend], 6 Apr.
    assert plan(cycle_reminders(occ, cal, horizon=3)) == [
        ("before", wib(2026, 3, 17)),
        ("recap-before", wib(2026, 3, 17)),
        ("due", wib(2026, 3, 31)),
        ("recap-due", wib(2026, 3, 31)),
        ("overdue-1", wib(2026, 4, 1)),
        ("overdue-2", wib(2026, 4, 2)),
        ("overdue-3", wib(2026, 4, 6)),
    ]


def test_wita_unit_due_and_reminders_in_its_own_zone() -> None:
    text = MINI.replace("unit: {id: kantor, name: Kantor Uji}",
                        "unit: {id: kantor-wita, name: Kantor Uji, timezone: WITA, "
                        "office_hours: {mon-fri: '08:00-16:00'}}")
    flow = parse_flow(text + QUARTER_N0.replace("period: quarter", "period: semester"))
    cal = flow.unit.calendar()
    first, second = occurrences(flow, 2026, cal)
    wita = cal.tz
    assert first.due == datetime(2026, 6, 30, 16, 0, tzinfo=wita)
    assert first.due.isoformat() == "2026-06-30T16:00:00+08:00"
    assert second.due == datetime(2026, 12, 31, 16, 0, tzinfo=wita)
    points = cycle_reminders(first, cal, horizon=1)
    assert [(p.key, p.at.isoformat()) for p in points] == [
        ("before", "2026-06-23T08:00:00+08:00"),
        ("recap-before", "2026-06-23T08:00:00+08:00"),
        ("due", "2026-06-30T08:00:00+08:00"),
        ("recap-due", "2026-06-30T08:00:00+08:00"),
        ("overdue-1", "2026-07-01T08:00:00+08:00"),
    ]


# --- several years -------------------------------------------------------------------------


def test_occurrences_between_covers_earlier_periods_due_in_range(
    dprd: Flow, cal: WorkCalendar
) -> None:
    in_2026 = occurrences_between(dprd, date(2026, 1, 1), date(2026, 12, 31), cal)
    assert [o.key for o in in_2026] == [
        "triwulan-2025-4", "semester-2025-2", "tahunan-2025-1",
        "triwulan-2026-1", "triwulan-2026-2", "semester-2026-1", "triwulan-2026-3",
    ]
    # 31 Dec 2025 (Wed) + 10: [1 Jan], 2, 5–9, 12–15 Jan 2026.
    assert in_2026[0].due == wib(2026, 1, 15, 16, 0)
    two_years = occurrences_between(dprd, date(2026, 1, 1), date(2027, 12, 31), cal)
    assert len(two_years) == 3 + 7 + 4
    assert two_years == sorted(two_years, key=lambda o: o.due)
    assert occurrences_between(dprd, date(2026, 4, 15), date(2026, 4, 15), cal)[0].key == (
        "triwulan-2026-1")
    assert occurrences_between(dprd, date(2026, 4, 16), date(2026, 7, 13), cal) == []
    assert occurrences_between(dprd, date(2027, 1, 1), date(2026, 1, 1), cal) == []


def test_due_is_the_close_of_a_working_day_for_years(dprd: Flow, cal: WorkCalendar) -> None:
    for year in range(2025, 2031):
        for occ in occurrences(dprd, year, cal):
            hours = cal.hours_on(occ.due_date)
            assert hours is not None, occ
            assert occ.due.timetz().replace(tzinfo=None) == hours[1]
            assert occ.due_date > occ.period_end
            assert cal.working_days_between(occ.period_end, occ.due_date) == 10


def test_occurrence_defaults_to_the_unit_calendar(dprd: Flow) -> None:
    assert occurrences(dprd, 2026) == occurrences(dprd, 2026, dprd.unit.calendar())
    occ = occurrences(dprd, 2026)[0]
    assert isinstance(occ, Occurrence)
    assert occ.due.time() == time(16, 0)
