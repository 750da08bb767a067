"""Tests for bot.engine.calendar: working days, office time and step deadlines.

Holiday expectations use the ``holidays`` library's Indonesian data for 2026 (public plus
"government", i.e. cuti bersama), e.g. 18 Mar cuti Nyepi, 19 Mar Nyepi, 20 Mar cuti Idul
Fitri, 21-22 Mar Idul Fitri, 23-24 Mar cuti Idul Fitri.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.calendar import (
    ZONE_ABBREVIATIONS,
    CalendarError,
    OfficeHours,
    WorkCalendar,
    resolve_timezone,
    zone_abbreviation,
)
from bot.engine.waktu import TimeUnit, Waktu, parse_waktu

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")

# Shared so the per-year holiday tables are built once for the whole module.
CAL = WorkCalendar()


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


# --- zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Asia/Jakarta", "Asia/Jakarta"),
        ("Asia/Makassar", "Asia/Makassar"),
        ("Asia/Jayapura", "Asia/Jayapura"),
        ("WIB", "Asia/Jakarta"),
        ("wita", "Asia/Makassar"),
        (" Wit ", "Asia/Jayapura"),
        ("UTC", "UTC"),
    ],
)
def test_resolve_timezone(name: str, key: str) -> None:
    assert resolve_timezone(name).key == key


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "XYZ", "/etc/passwd", "../Asia/Jakarta"])
def test_resolve_timezone_unknown(name: str) -> None:
    with pytest.raises(CalendarError):
        resolve_timezone(name)


def test_zone_abbreviation() -> None:
    assert ZONE_ABBREVIATIONS["Asia/Jakarta"] == "WIB"
    assert zone_abbreviation("Asia/Jakarta") == "WIB"
    assert zone_abbreviation("Asia/Makassar") == "WITA"
    assert zone_abbreviation("Asia/Jayapura") == "WIT"
    assert zone_abbreviation("wita") == "WITA"
    assert zone_abbreviation("Europe/Amsterdam") == "Europe/Amsterdam"
    assert WorkCalendar("Asia/Makassar").zone_abbreviation == "WITA"
    assert WorkCalendar("WIT").tz.key == "Asia/Jayapura"


def test_calendar_unknown_zone() -> None:
    with pytest.raises(CalendarError, match="Mars"):
        WorkCalendar("Mars/Olympus")


# --- office hours --------------------------------------------------------------------------


def test_default_office_hours() -> None:
    hours = OfficeHours.default()
    for weekday in range(4):
        assert hours.for_weekday(weekday) == (time(7, 30), time(16, 0))
    assert hours.for_weekday(4) == (time(7, 30), time(16, 30))
    assert hours.for_weekday(5) is None
    assert hours.for_weekday(6) is None


def test_parse_office_hours_matches_default() -> None:
    parsed = OfficeHours.parse({"mon-thu": "07:30-16:00", "fri": "07:30-16:30"})
    assert parsed == OfficeHours.default()


def test_parse_office_hours_indonesian_names() -> None:
    hours = OfficeHours.parse(
        {"sen-kam": "08.00-15.00", "Jumat": "08:00 – 11:30", "sab": "8:00-12:00", "min": None}
    )
    assert hours.for_weekday(0) == (time(8, 0), time(15, 0))
    assert hours.for_weekday(3) == (time(8, 0), time(15, 0))
    assert hours.for_weekday(4) == (time(8, 0), time(11, 30))
    assert hours.for_weekday(5) == (time(8, 0), time(12, 0))
    assert hours.for_weekday(6) is None


def test_parse_office_hours_lists_and_closed() -> None:
    hours = OfficeHours.parse({"mon,wed": "09:00-17:00", "tue": "closed", "thu": "tutup"})
    assert [hours.for_weekday(d) is not None for d in range(7)] == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        ({"funday": "07:30-16:00"}, "funday"),
        ({"mon-funday": "07:30-16:00"}, "mon-funday"),
        ({"fri-mon": "07:30-16:00"}, "fri-mon"),
        ({"mon": "7-4"}, "7-4"),
        ({"mon": "07:30"}, "07:30"),
        ({"mon": "16:00-07:30"}, "16:00-07:30"),
        ({"mon": "25:00-26:00"}, "25:00-26:00"),
        ({"mon": 450}, "450"),  # PyYAML's reading of an unquoted 07:30
        ({"mon-fri": "07:30-16:00", "fri": "07:30-16:30"}, "fri"),
        ({1: "07:30-16:00"}, "1"),
        ({"sat": "closed"}, "at least one"),
    ],
)
def test_parse_office_hours_errors(mapping: dict[object, object], needle: str) -> None:
    with pytest.raises(CalendarError, match=needle):
        OfficeHours.parse(mapping)  # type: ignore[arg-type]


def test_parse_office_hours_not_a_mapping() -> None:
    with pytest.raises(CalendarError):
        OfficeHours.parse("mon-fri 07:30-16:00")  # type: ignore[arg-type]


# --- days ----------------------------------------------------------------------------------


def test_holidays_and_cuti_bersama() -> None:
    assert CAL.is_holiday(date(2026, 3, 19))  # Nyepi
    assert CAL.is_holiday(date(2026, 3, 18))  # cuti bersama Nyepi ("government" category)
    assert CAL.holiday_name(date(2026, 3, 18)) == "Cuti Bersama Hari Suci Nyepi"
    assert CAL.holiday_name(date(2026, 3, 17)) is None
    assert not CAL.is_working_day(date(2026, 3, 24))  # cuti bersama Idul Fitri, a Tuesday
    assert CAL.is_working_day(date(2026, 3, 25))
    assert not CAL.is_working_day(date(2026, 3, 7))  # Saturday
    assert CAL.is_working_day(date(2026, 3, 6))


def test_holiday_language_is_explicit() -> None:
    english = WorkCalendar(holiday_language="en_US")
    assert english.holiday_name(date(2026, 3, 19)) == "Day of Silence"


def test_datetime_given_as_day_uses_unit_zone() -> None:
    # 18:00 UTC on 18 March is already 19 March (Nyepi) in Jakarta.
    assert CAL.holiday_name(datetime(2026, 3, 18, 18, tzinfo=UTC)) == "Hari Suci Nyepi"
    assert CAL.is_holiday(wib(2026, 3, 19, 10))
    with pytest.raises(CalendarError, match="naive"):
        CAL.is_working_day(datetime(2026, 3, 19, 10))


def test_next_working_day() -> None:
    assert CAL.next_working_day(date(2026, 3, 17)) == date(2026, 3, 25)
    assert CAL.next_working_day(date(2026, 3, 17), include_self=True) == date(2026, 3, 17)
    assert CAL.next_working_day(date(2026, 3, 7), include_self=True) == date(2026, 3, 9)


def test_add_working_days_and_between() -> None:
    assert CAL.add_working_days(date(2026, 3, 17), 2) == date(2026, 3, 26)
    assert CAL.add_working_days(date(2026, 3, 26), -2) == date(2026, 3, 17)
    assert CAL.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)
    assert CAL.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 26)) == 2
    assert CAL.working_days_between(date(2026, 3, 26), date(2026, 3, 17)) == -2
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 24)) == 0


@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.integers(-40, 40))
def test_working_days_between_inverts_add(start: date, n: int) -> None:
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


def test_extra_holiday() -> None:
    cal = WorkCalendar(extra_holidays={date(2026, 3, 3): "HUT Kabupaten"})
    assert cal.is_holiday(date(2026, 3, 3))
    assert cal.holiday_name(date(2026, 3, 3)) == "HUT Kabupaten"
    # Mon 15:00 + 2 Jam would be Tue 08:30; Tuesday is off, so Wednesday.
    assert cal.due(wib(2026, 3, 2, 15), parse_waktu("2 Jam")) == wib(2026, 3, 4, 8, 30)
    plain = WorkCalendar(extra_holidays=[date(2026, 3, 3)])
    assert plain.holiday_name(date(2026, 3, 3))


def test_extra_working_day_uses_regular_hours() -> None:
    cal = WorkCalendar(extra_working_days=[date(2026, 3, 7)])  # a working Saturday
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.hours_on(date(2026, 3, 7)) == (time(7, 30), time(16, 0))
    assert cal.due(wib(2026, 3, 6, 16, 30), parse_waktu("2 Jam")) == wib(2026, 3, 7, 9, 30)


# --- office time ---------------------------------------------------------------------------


def test_is_office_time() -> None:
    assert CAL.is_office_time(wib(2026, 3, 2, 7, 30))
    assert CAL.is_office_time(wib(2026, 3, 2, 15, 59))
    assert not CAL.is_office_time(wib(2026, 3, 2, 16, 0))  # half-open: closed at 16:00
    assert CAL.is_office_time(wib(2026, 3, 6, 16, 15))  # Friday runs to 16:30
    assert not CAL.is_office_time(wib(2026, 3, 7, 10))  # Saturday
    assert not CAL.is_office_time(wib(2026, 3, 19, 10))  # Nyepi
    # 01:00 UTC is 08:00 WIB.
    assert CAL.is_office_time(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


def test_next_opening() -> None:
    during = wib(2026, 3, 2, 10)
    assert CAL.next_opening(during) == during
    assert CAL.next_opening(wib(2026, 3, 2, 6)) == wib(2026, 3, 2, 7, 30)
    assert CAL.next_opening(wib(2026, 3, 6, 16, 30)) == wib(2026, 3, 9, 7, 30)
    assert CAL.next_opening(wib(2026, 3, 7, 12)) == wib(2026, 3, 9, 7, 30)


def test_next_opening_on_holiday_eve() -> None:
    # Tuesday 17 March 2026 after closing: Nyepi, Lebaran and their cuti bersama follow.
    assert CAL.next_opening(wib(2026, 3, 17, 16)) == wib(2026, 3, 25, 7, 30)
    assert CAL.next_opening(wib(2026, 3, 18, 9)) == wib(2026, 3, 25, 7, 30)


def test_next_opening_converts_utc() -> None:
    # 23:00 UTC on Sunday is 06:00 WIB on Monday.
    opening = CAL.next_opening(datetime(2026, 3, 8, 23, 0, tzinfo=UTC))
    assert opening == wib(2026, 3, 9, 7, 30)
    assert opening.tzinfo == WIB


def test_add_office_time() -> None:
    assert CAL.add_office_time(wib(2026, 3, 2, 15), timedelta(hours=2)) == wib(2026, 3, 3, 8, 30)
    assert CAL.add_office_time(wib(2026, 3, 2, 15), timedelta(hours=1)) == wib(2026, 3, 2, 16)
    assert CAL.add_office_time(wib(2026, 3, 7, 12), timedelta(0)) == wib(2026, 3, 9, 7, 30)
    with pytest.raises(CalendarError):
        CAL.add_office_time(wib(2026, 3, 2, 15), timedelta(hours=-1))


def test_add_office_time_large_delta() -> None:
    # 2026 has 8.5 office hours Mon-Thu and 9 on Friday; a year of it must not crawl.
    end = CAL.add_office_time(wib(2026, 1, 2, 7, 30), timedelta(hours=20_000))
    assert end.year > 2030
    assert CAL.is_office_time(end) or end.time() in (time(16, 0), time(16, 30))


@pytest.mark.parametrize(
    "call",
    [
        lambda dt: CAL.is_office_time(dt),
        lambda dt: CAL.next_opening(dt),
        lambda dt: CAL.add_office_time(dt, timedelta(hours=1)),
        lambda dt: CAL.due(dt, parse_waktu("1 Jam")),
        lambda dt: CAL.due(dt, parse_waktu("-")),
    ],
)
def test_naive_datetime_refused(call: object) -> None:
    with pytest.raises(CalendarError, match="naive"):
        call(datetime(2026, 3, 2, 10))  # type: ignore[operator]


# --- deadlines -----------------------------------------------------------------------------


def test_due_no_waktu() -> None:
    assert CAL.due(wib(2026, 3, 2, 10), parse_waktu("-")) is None


def test_due_two_days_over_nyepi_and_lebaran() -> None:
    # Skips 18 (cuti), 19 (Nyepi), 20 (cuti), 21-22 (Idul Fitri, weekend), 23-24 (cuti).
    assert CAL.due(wib(2026, 3, 17, 15), parse_waktu("2 Hari")) == wib(2026, 3, 26, 15)


def test_due_two_hours_from_friday_close() -> None:
    assert CAL.due(wib(2026, 3, 6, 16, 30), parse_waktu("2 Jam")) == wib(2026, 3, 9, 9, 30)


def test_due_minutes_within_a_day() -> None:
    assert CAL.due(wib(2026, 3, 4, 10), parse_waktu("30 Menit")) == wib(2026, 3, 4, 10, 30)


def test_due_minutes_over_weekend() -> None:
    # 15 minutes on Friday until 16:30, the other 30 on Monday morning.
    assert CAL.due(wib(2026, 3, 6, 16, 15), parse_waktu("45 Menit")) == wib(2026, 3, 9, 8, 0)


def test_due_days_from_saturday() -> None:
    # Counting starts at Monday's opening; one working day later is Tuesday 07:30.
    assert CAL.due(wib(2026, 3, 7, 10), parse_waktu("1 Hari")) == wib(2026, 3, 10, 7, 30)


def test_due_days_clamped_to_shorter_day() -> None:
    # Started Friday 16:15; Monday closes at 16:00.
    assert CAL.due(wib(2026, 3, 6, 16, 15), parse_waktu("1 Hari")) == wib(2026, 3, 9, 16, 0)


def test_due_months() -> None:
    assert CAL.due(wib(2026, 1, 7, 10), parse_waktu("3 Bulan")) == wib(2026, 4, 7, 10)
    # 30 Jan + 1 month clamps to Sat 28 Feb, then moves to Monday's opening.
    assert CAL.due(wib(2026, 1, 30, 10), parse_waktu("1 Bulan")) == wib(2026, 3, 2, 7, 30)
    # 19 Feb + 1 month is Nyepi.
    assert CAL.due(wib(2026, 2, 19, 10), parse_waktu("1 Bulan")) == wib(2026, 3, 25, 7, 30)


def test_due_wita() -> None:
    cal = WorkCalendar("Asia/Makassar")
    start = datetime(2026, 3, 2, 15, tzinfo=WITA)
    due = cal.due(start, parse_waktu("2 Jam"))
    assert due == datetime(2026, 3, 3, 8, 30, tzinfo=WITA)
    assert due is not None
    assert due.utcoffset() == timedelta(hours=8)
    assert due.isoformat() == "2026-03-03T08:30:00+08:00"


def test_due_wit_from_utc_start() -> None:
    cal = WorkCalendar("WIT")
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 15:00 WIT
    due = cal.due(start, parse_waktu("2 Jam"))
    assert due is not None
    assert due.isoformat() == "2026-03-03T08:30:00+09:00"


def test_due_utc_start_wib() -> None:
    # 09:30 UTC on Friday is 16:30 WIB, the end of Friday office hours.
    start = datetime(2026, 3, 6, 9, 30, tzinfo=UTC)
    assert CAL.due(start, parse_waktu("2 Jam")) == wib(2026, 3, 9, 9, 30)


def test_due_custom_office_hours() -> None:
    hours = OfficeHours.parse({"sen-jum": "08.00-15.00", "sab": "08:00-12:00"})
    cal = WorkCalendar("Asia/Jakarta", hours)
    # Saturday 10:00 + 3 Jam: two hours on Saturday, one on Monday.
    assert cal.due(wib(2026, 3, 7, 10), parse_waktu("3 Jam")) == wib(2026, 3, 9, 9, 0)
    assert cal.due(wib(2026, 3, 6, 14), parse_waktu("1 Hari")) == wib(2026, 3, 7, 12, 0)


# --- properties ----------------------------------------------------------------------------

CALENDARS = {"Asia/Jakarta": CAL, "Asia/Makassar": WorkCalendar("Asia/Makassar")}

starts = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59),
    timezones=st.sampled_from([WIB, WITA, WIT, UTC]),
)
unit_amounts = st.one_of(
    st.tuples(st.just(TimeUnit.MINUTE), st.integers(1, 600)),
    st.tuples(st.just(TimeUnit.HOUR), st.integers(1, 60)),
    st.tuples(st.just(TimeUnit.DAY), st.integers(1, 30)),
    st.tuples(st.just(TimeUnit.MONTH), st.integers(1, 12)),
)


def within_office_hours(cal: WorkCalendar, dt: datetime) -> bool:
    """Inside [open, close] of a working day: a deadline may fall exactly at closing time."""
    hours = cal.hours_on(dt.date())
    return hours is not None and hours[0] <= dt.time() <= hours[1]


@settings(max_examples=300, deadline=None)
@given(starts, unit_amounts, st.sampled_from(sorted(CALENDARS)))
def test_due_properties(start: datetime, unit_amount: tuple[TimeUnit, int], zone: str) -> None:
    cal = CALENDARS[zone]
    unit, amount = unit_amount
    due = cal.due(start, Waktu(amount, unit))
    later = cal.due(start, Waktu(amount + 1, unit))
    assert due is not None
    assert later is not None
    assert due >= start
    assert due.tzinfo == cal.tz
    assert within_office_hours(cal, due)
    if unit is TimeUnit.MONTH:
        assert later >= due
    else:
        assert later > due


# --- cuti bersama coverage and per-unit overrides ------------------------------------------

from bot.engine.calendar_overrides import CalendarDay, CalendarOverrides, DayKind  # noqa: E402


def test_installed_holidays_know_cuti_bersama_2026_and_2027() -> None:
    """pyproject's floor (holidays>=0.105): 2026 appeared in 0.99, 2027 in 0.105."""
    assert CAL.cuti_bersama_known(2026) and CAL.cuti_bersama_known(2027)
    assert CAL.holiday_name(date(2026, 2, 16)) == "Cuti Bersama Tahun Baru Imlek"
    assert CAL.holiday_name(date(2026, 12, 24)) == "Cuti Bersama Hari Raya Natal"
    assert CAL.holiday_name(date(2027, 3, 9)) == "Cuti Bersama Hari Raya Idul Fitri"
    assert CAL.holiday_name(date(2027, 3, 25)) == "Cuti Bersama Wafat Yesus Kristus"
    assert not CAL.is_working_day(date(2027, 12, 24))  # a Friday of cuti bersama
    # 2 working days from Monday 8 March 2027 (Nyepi): 9 cuti, 10-11 Idul Fitri, 12 and 15
    # cuti: Tuesday 16, then Wednesday 17 March.
    assert CAL.add_working_days(date(2027, 3, 8), 2) == date(2027, 3, 17)


def day(d: date, name: str = "x", line: int = 1) -> CalendarDay:
    return CalendarDay(d, name, f"calendar.yaml:{line}")


def test_overrides_add_remove_work_and_revise() -> None:
    overrides = CalendarOverrides(
        holidays=(day(date(2026, 2, 28), "HUT Kota"), day(date(2026, 4, 10), "Keputusan Bupati")),
        removed=(day(date(2026, 12, 24), "piket"),),
        working_days=(day(date(2026, 3, 28), "Sabtu pengganti"),),
        cuti_bersama=((2028, (day(date(2028, 1, 28), "Cuti Bersama Imlek"),)),),
    )
    cal = WorkCalendar(overrides=overrides)
    assert not cal.is_working_day(date(2026, 4, 10)) and cal.holiday_name(date(2026, 4, 10)) == \
        "Keputusan Bupati"
    assert cal.is_working_day(date(2026, 12, 24)) and not cal.is_holiday(date(2026, 12, 24))
    assert cal.is_working_day(date(2026, 3, 28))  # a Saturday
    assert cal.hours_on(date(2026, 3, 28)) == (time(7, 30), time(16, 0))
    # the revised cuti bersama replace the library's for that year, and make it known
    assert not CAL.cuti_bersama_known(2028) and cal.cuti_bersama_known(2028)
    assert not cal.is_working_day(date(2028, 1, 28))
    # deadlines follow: 1 working day from Thursday 9 April 2026 skips Friday 10 April
    assert cal.due(wib(2026, 4, 9, 10), parse_waktu("1 Hari")) == wib(2026, 4, 13, 10)
    assert CAL.due(wib(2026, 4, 9, 10), parse_waktu("1 Hari")) == wib(2026, 4, 10, 10)


def test_revised_cuti_bersama_replace_the_library_ones() -> None:
    revised = CalendarOverrides(cuti_bersama=((2026, (day(date(2026, 1, 2), "Cuti Bersama "
                                                                             "Tahun Baru"),)),))
    cal = WorkCalendar(overrides=revised)
    assert cal.is_working_day(date(2026, 2, 16))  # the library's Imlek cuti is withdrawn
    assert not cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 2, 17))  # Imlek itself is a public holiday


def test_listing_names_every_day_and_its_source() -> None:
    cal = WorkCalendar(overrides=CalendarOverrides(
        holidays=(day(date(2026, 2, 28), "HUT Kota", 4),),
        removed=(day(date(2026, 12, 24), "piket", 6),),
        working_days=(day(date(2026, 3, 28), "Sabtu pengganti", 8),)))
    listed = {d.day: d for d in cal.listing(2026)}
    assert listed[date(2026, 1, 1)].kind is DayKind.PUBLIC and listed[date(2026, 1, 1)].origin == ""
    assert listed[date(2026, 2, 16)].kind is DayKind.CUTI_BERSAMA
    assert listed[date(2026, 2, 28)].kind is DayKind.EXTRA
    assert listed[date(2026, 2, 28)].origin == "calendar.yaml:4"
    assert listed[date(2026, 12, 24)].kind is DayKind.REMOVED and listed[date(2026, 12, 24)].working
    assert listed[date(2026, 3, 28)].kind is DayKind.WORKING
    assert listed[date(2026, 3, 29)].kind is DayKind.WEEKEND  # a Sunday
    assert date(2026, 3, 30) not in listed  # an ordinary Monday
    off = [d.day for d in cal.listing(2026) if not d.working]
    assert all(not cal.is_working_day(d) for d in off)
    assert sum(cal.is_working_day(date(2026, 1, 1) + timedelta(days=i)) for i in range(365)) \
        == 365 - len(off)


def test_overrides_are_hashable_and_combine() -> None:
    common = CalendarOverrides(cuti_bersama=((2028, (day(date(2028, 1, 28)),)),),
                               holidays=(day(date(2026, 5, 2)),))
    unit = CalendarOverrides(cuti_bersama=((2028, (day(date(2028, 2, 1)),)),),
                             holidays=(day(date(2026, 5, 4)),))
    both = common.then(unit)
    assert hash(both) == hash(common.then(unit))
    assert [d.day for d in both.holidays] == [date(2026, 5, 2), date(2026, 5, 4)]
    assert both.revised_cuti_bersama(2028) == (day(date(2028, 2, 1)),)
    assert not CalendarOverrides() and both
