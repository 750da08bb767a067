"""Working-day calendar of an Indonesian government unit, and step deadlines.

A unit works in its own zone (WIB/WITA/WIT), during office hours, on working days: weekdays
with office hours that are neither public holidays nor cuti bersama (joint leave days). Both
holiday kinds come from the maintained ``holidays`` library, so the yearly SKB of the three
ministers does not have to be transcribed here. A unit's own days (regional holidays, removed
days, working Saturdays, revised cuti bersama) come as data, :class:`CalendarOverrides`, read
from a calendar file by :mod:`bot.calendar_file`.

Pure: never reads the clock (every "now" is a parameter) and does no I/O beyond what
``zoneinfo`` and ``holidays`` need to load their own data. Where the library's tables come
from is one process-wide setting, :func:`use_holiday_source`: the library itself by default;
``sopbot run`` and ``sopbot web`` install :class:`bot.holiday_tables.HolidayTables`, which
asks a child process and keeps the answer on disk (the library costs a long-running bot about
17 MB: issue 15).
"""

from __future__ import annotations

import calendar as _stdcalendar
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.engine.calendar_overrides import CalendarDay, CalendarOverrides, DayKind, ListedDay
from bot.engine.office_hours import CalendarError, DayHours, OfficeHours
from bot.engine.waktu import TimeUnit, Waktu

__all__ = [
    "ZONE_ABBREVIATIONS",
    "CalendarError",
    "HolidaySource",
    "OfficeHours",
    "WorkCalendar",
    "library_table",
    "resolve_timezone",
    "use_holiday_source",
    "zone_abbreviation",
]


# Indonesia's three civil zones. Asia/Pontianak is a second WIB zone (West Kalimantan); it is
# listed so units there get the right abbreviation, but "WIB" itself resolves to Jakarta.
ZONE_ABBREVIATIONS: dict[str, str] = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
_ABBREVIATION_ZONES: dict[str, str] = {
    "WIB": "Asia/Jakarta",
    "WITA": "Asia/Makassar",
    "WIT": "Asia/Jayapura",
}


def resolve_timezone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name (``"Asia/Makassar"``) or ``"WIB"``/``"WITA"``/``"WIT"``.

    The abbreviations are case-insensitive. Raises :class:`CalendarError` for unknown names.
    """
    if not isinstance(name, str) or not name.strip():
        raise CalendarError(f"timezone must be a non-empty name, not {name!r}")
    key = name.strip()
    key = _ABBREVIATION_ZONES.get(key.upper(), key)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        # ValueError: ZoneInfo refuses malformed keys such as absolute paths.
        raise CalendarError(
            f"unknown timezone {name!r}: use an IANA name such as Asia/Jakarta, Asia/Makassar, "
            "Asia/Jayapura, or WIB/WITA/WIT"
        ) from exc


def zone_abbreviation(tzname: str) -> str:
    """The Indonesian abbreviation ("WIB", "WITA", "WIT") of a zone, else the name itself."""
    key = tzname.strip()
    key = _ABBREVIATION_ZONES.get(key.upper(), key)
    return ZONE_ABBREVIATIONS.get(key, key)


# --- the holidays library ------------------------------------------------------------------

#: (year, category, language) -> {day: name}: the national days of one year in one of the
#: library's categories ("public" holidays, "government" for the cuti bersama).
HolidaySource = Callable[[int, str, str], Mapping[date, str]]


def library_table(year: int, category: str, language: str) -> dict[date, str]:
    """The ``holidays`` library's Indonesian days of `year` in `category`, named in `language`.

    Imported at the first look-up, not at start-up: importing the library registers every
    country it knows (about 300 modules).
    """
    import holidays

    source = holidays.Indonesia(years=year, categories=(category,), language=language)
    return dict(source.items())


_holiday_source: HolidaySource = library_table


def use_holiday_source(source: HolidaySource | None) -> HolidaySource:
    """Take the library's tables from `source` from now on (None: the library itself, in
    this process); returns the source used until now. Calendars keep the years they have
    already looked up."""
    global _holiday_source
    previous = _holiday_source
    _holiday_source = source if source is not None else library_table
    return previous


# --- the calendar -------------------------------------------------------------------------

# Safety net for searches: no sane calendar goes ten years without a working day, so a
# longer gap means a configuration that would otherwise loop forever.
_MAX_SEARCH_DAYS = 3660


def _add_months(d: date, months: int) -> date:
    """Calendar month arithmetic, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _stdcalendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


class WorkCalendar:
    """Working days and office time of one unit; computes step deadlines.

    Cheap to construct: holiday tables are built lazily per year on first use and cached.
    """

    def __init__(
        self,
        timezone: str = "Asia/Jakarta",
        office_hours: OfficeHours | None = None,
        *,
        extra_holidays: Iterable[date] | Mapping[date, str] = (),
        extra_working_days: Iterable[date] = (),
        holiday_language: str = "id",
        overrides: CalendarOverrides | None = None,
    ) -> None:
        """Create a calendar.

        ``extra_holidays`` adds unit-specific days off (e.g. a regional anniversary); pass a
        mapping of date to name to have :meth:`holiday_name` report the name;
        ``extra_working_days`` forces days to be worked even on a weekend or holiday (e.g. a
        Saturday replacing a bridge day). ``holiday_language`` selects the language of
        :meth:`holiday_name`; it is explicit because ``holidays`` otherwise guesses it from
        the process's locale variables. ``overrides`` are a calendar file's statements for
        this unit (:class:`~bot.engine.calendar_overrides.CalendarOverrides`).
        """
        self._tz = resolve_timezone(timezone)
        self._tzname = self._tz.key
        self._hours = office_hours if office_hours is not None else OfficeHours.default()
        named = (extra_holidays if isinstance(extra_holidays, Mapping)
                 else dict.fromkeys(extra_holidays, "Libur"))
        self._overrides = overrides or CalendarOverrides()
        self._extra_holidays: dict[date, CalendarDay] = {
            d: CalendarDay(d, name) for d, name in named.items()}
        for entry in self._overrides.holidays:
            self._extra_holidays.setdefault(entry.day, entry)
        self._removed = {entry.day: entry for entry in self._overrides.removed}
        self._working: dict[date, CalendarDay] = {
            d: CalendarDay(d, "") for d in extra_working_days}
        self._working.update((entry.day, entry) for entry in self._overrides.working_days)
        self._extra_working_days = frozenset(self._working)
        self._language = holiday_language
        self._by_year: dict[int, dict[date, ListedDay]] = {}
        self._library_cuti: dict[int, dict[date, str]] = {}
        # Hours used on an extra working day whose weekday is normally closed (a working
        # Saturday): those of the first open weekday, i.e. a regular day in a Mon–Fri week.
        self._fallback_hours = next(h for h in self._hours.days if h is not None)

    def __repr__(self) -> str:
        return f"WorkCalendar({self._tzname!r}, {self._hours!r})"

    # -- zone --------------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The unit's zone."""
        return self._tz

    @property
    def zone_abbreviation(self) -> str:
        """The zone's abbreviation: WIB, WITA, WIT, or the IANA name outside Indonesia."""
        return zone_abbreviation(self._tzname)

    @property
    def office_hours(self) -> OfficeHours:
        """The unit's office hours."""
        return self._hours

    def _local(self, dt: datetime) -> datetime:
        if not isinstance(dt, datetime):
            raise CalendarError(f"expected a datetime, got {dt!r}")
        if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
            # A naive time is ambiguous across WIB/WITA/WIT; the caller must say which.
            raise CalendarError(f"naive datetime {dt.isoformat()} refused: attach a timezone")
        return dt.astimezone(self._tz)

    def _day(self, d: date) -> date:
        # A datetime is a date subclass but never equal to one, so it would silently miss
        # every holiday lookup; take its calendar day in the unit's zone instead.
        if isinstance(d, datetime):
            return self._local(d).date()
        if not isinstance(d, date):
            raise CalendarError(f"expected a date, got {d!r}")
        return d

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self._tz)

    # -- days --------------------------------------------------------------------------------

    def _library(self, year: int, category: str) -> dict[date, str]:
        # "government" carries the cuti bersama, which civil servants do not work.
        return dict(_holiday_source(year, category, self._language))

    def _library_cuti_bersama(self, year: int) -> dict[date, str]:
        table = self._library_cuti.get(year)
        if table is None:
            table = self._library_cuti[year] = self._library(year, "government")
        return table

    def _holidays_of(self, year: int) -> dict[date, ListedDay]:
        table = self._by_year.get(year)
        if table is not None:
            return table
        table = {d: ListedDay(d, DayKind.PUBLIC, name)
                 for d, name in self._library(year, "public").items()}
        revised = self._overrides.revised_cuti_bersama(year)
        if revised is None:
            cuti = [ListedDay(d, DayKind.CUTI_BERSAMA, name)
                    for d, name in self._library_cuti_bersama(year).items()]
        else:
            cuti = [ListedDay(e.day, DayKind.CUTI_BERSAMA, e.name, e.origin) for e in revised]
        for entry in cuti:
            table.setdefault(entry.day, entry)  # a public holiday keeps its own name
        # The unit's own day off wins: it is the more specific statement about this office.
        table.update((d, ListedDay(d, DayKind.EXTRA, e.name, e.origin))
                     for d, e in self._extra_holidays.items() if d.year == year)
        for d in self._removed:
            table.pop(d, None)
        self._by_year[year] = table
        return table

    def holiday_name(self, d: date) -> str | None:
        """Name of the holiday or joint-leave day on ``d``, or None."""
        d = self._day(d)
        entry = self._holidays_of(d.year).get(d)
        return entry.name if entry is not None else None

    def is_holiday(self, d: date) -> bool:
        """True for public holidays, cuti bersama and the unit's extra holidays (less the
        national days the unit's calendar file removes)."""
        d = self._day(d)
        return d in self._holidays_of(d.year)

    def cuti_bersama_known(self, year: int) -> bool:
        """Whether the cuti bersama of `year` are known: from the library (the SKB for that
        year is published and the installed ``holidays`` has it) or from a calendar file."""
        if self._overrides.revised_cuti_bersama(year) is not None:
            return True
        return bool(self._library_cuti_bersama(year))

    def listing(self, year: int) -> list[ListedDay]:
        """Every day of `year` that is not a regular working day, and every day worked
        against the rule (a working Saturday, a removed holiday), in date order."""
        days: dict[date, ListedDay] = dict(self._holidays_of(year))
        for d, entry in self._removed.items():
            if d.year == year:
                days[d] = ListedDay(d, DayKind.REMOVED, entry.name, entry.origin, working=True)
        day, end = date(year, 1, 1), date(year, 12, 31)
        while day <= end:
            if day in self._working:
                entry = self._working[day]
                days[day] = ListedDay(day, DayKind.WORKING, entry.name, entry.origin,
                                      working=True)
            elif day not in days and self._hours.for_weekday(day.weekday()) is None:
                days[day] = ListedDay(day, DayKind.WEEKEND, "")
            day += timedelta(days=1)
        return [days[d] for d in sorted(days)]

    def is_working_day(self, d: date) -> bool:
        """True when the office works on ``d``."""
        d = self._day(d)
        if d in self._extra_working_days:
            return True
        return self._hours.for_weekday(d.weekday()) is not None and not self.is_holiday(d)

    def hours_on(self, d: date) -> DayHours | None:
        """Opening and closing time on ``d``, or None when it is not a working day."""
        d = self._day(d)
        if not self.is_working_day(d):
            return None
        return self._hours.for_weekday(d.weekday()) or self._fallback_hours

    def next_working_day(self, d: date, *, include_self: bool = False) -> date:
        """The first working day after ``d`` (or ``d`` itself if ``include_self`` and it works)."""
        d = self._day(d)
        day = d if include_self else d + timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise CalendarError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}")

    def _previous_working_day(self, d: date) -> date:
        day = d - timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day -= timedelta(days=1)
        raise CalendarError(f"no working day within {_MAX_SEARCH_DAYS} days before {d}")

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (before it when ``n < 0``; ``d`` when 0).

        ``d`` itself need not be a working day: from a Saturday, 1 working day is Monday.
        """
        d = self._day(d)
        day = d
        for _ in range(abs(n)):
            day = self.next_working_day(day) if n > 0 else self._previous_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Signed number of working-day steps from ``a`` to ``b``.

        For ``b >= a``: the working days after ``a`` up to and including ``b``. For ``b < a``:
        minus the working days from ``b`` up to but excluding ``a``. Defined this way so it
        inverts :meth:`add_working_days` in both directions:
        ``add_working_days(a, k) == b`` implies ``working_days_between(a, b) == k``.
        """
        a, b = self._day(a), self._day(b)
        if b >= a:
            first, last, sign = a + timedelta(days=1), b, 1
        else:
            first, last, sign = b, a - timedelta(days=1), -1
        count = 0
        day = first
        while day <= last:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return sign * count

    # -- office time -------------------------------------------------------------------------

    def is_office_time(self, dt: datetime) -> bool:
        """True when ``dt`` (timezone-aware) falls within office hours of a working day."""
        local = self._local(dt)
        hours = self.hours_on(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def next_opening(self, dt: datetime) -> datetime:
        """``dt`` itself (in the unit's zone) during office time, else the next opening."""
        local = self._local(dt)
        hours = self.hours_on(local.date())
        if hours is not None:
            if local.time() < hours[0]:
                return self._at(local.date(), hours[0])
            if local.time() < hours[1]:
                return local
        day = self.next_working_day(local.date())
        opening = self.hours_on(day)
        assert opening is not None  # next_working_day only returns working days
        return self._at(day, opening[0])

    def add_office_time(self, start: datetime, delta: timedelta) -> datetime:
        """``start`` plus ``delta`` of office time only (nights, weekends, holidays skipped).

        Counting begins at :meth:`next_opening` of ``start``. A result that lands exactly on a
        closing time stays there (the work is due by close, not by the next morning). Runs
        in one step per calendar day, so large deltas are cheap.
        """
        if delta < timedelta(0):
            raise CalendarError(f"cannot add negative office time {delta}")
        current = self.next_opening(start)
        remaining = delta
        for _ in range(_MAX_SEARCH_DAYS * 100):
            hours = self.hours_on(current.date())
            assert hours is not None  # current is always an opening or within office time
            closing = self._at(current.date(), hours[1])
            available = closing - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self.next_opening(closing)
        raise CalendarError(f"office time {delta} is too large to schedule")

    # -- deadlines ---------------------------------------------------------------------------

    def due(self, start: datetime, waktu: Waktu) -> datetime | None:
        """Deadline of a step with standard time ``waktu`` started at ``start``.

        * no standard time: None;
        * Menit/Jam: office time only (:meth:`add_office_time`);
        * Hari: from :meth:`next_opening` of ``start``, the same clock time ``n`` working days
          later, clamped into that day's office hours (e.g. a shorter Friday);
        * Bulan: calendar months (day clamped to the month's end), moved to the next opening
          when that moment is outside office time.

        The result is timezone-aware in the unit's zone.
        """
        local = self._local(start)
        if waktu.unit is None:
            return None
        n = waktu.amount
        if waktu.unit is TimeUnit.MINUTE:
            return self.add_office_time(local, timedelta(minutes=n))
        if waktu.unit is TimeUnit.HOUR:
            return self.add_office_time(local, timedelta(hours=n))
        if waktu.unit is TimeUnit.DAY:
            begin = self.next_opening(local)
            day = self.add_working_days(begin.date(), n)
            hours = self.hours_on(day)
            assert hours is not None
            clock = min(max(begin.time(), hours[0]), hours[1])
            return self._at(day, clock)
        # TimeUnit.MONTH
        moved = self._at(_add_months(local.date(), n), local.time())
        return self.next_opening(moved)
