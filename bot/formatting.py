"""Dates, times and durations for people, in their language and their unit's time zone (Babel)."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_datetime, format_timedelta

from bot.engine.calendar import OfficeHours, resolve_timezone, zone_abbreviation
from bot.engine.waktu import WaktuTotal
from bot.i18n import Translator


def format_when(dt: datetime, timezone: str, t: Translator) -> str:
    """E.g. "Selasa, 24 November 2026 pukul 15.00 WIB" (en: "Tuesday, … at 15:00 WIB")."""
    local = dt.astimezone(resolve_timezone(timezone))
    # The pattern is a translatable message: word order and the time separator differ.
    pattern = t.pgettext("datetime pattern", "EEEE, d MMMM y 'at' HH:mm")
    return f"{format_datetime(local, pattern, locale=t.language)} {zone_abbreviation(timezone)}"


def format_short(dt: datetime, timezone: str, t: Translator) -> str:
    """E.g. "24 Nov 2026 15.00 WIB"."""
    local = dt.astimezone(resolve_timezone(timezone))
    pattern = t.pgettext("short datetime pattern", "d MMM y HH:mm")
    return f"{format_datetime(local, pattern, locale=t.language)} {zone_abbreviation(timezone)}"


def format_duration(delta: timedelta, t: Translator) -> str:
    """A rounded duration: "2 jam", "3 hari"."""
    return format_timedelta(delta, locale=t.language)


def format_until(deadline: datetime, now: datetime, t: Translator) -> str:
    """ "2 jam lagi" before the deadline, "terlambat 1 hari" after it, "sekarang" within the
    minute (never "0 detik lagi")."""
    if abs(deadline - now) < timedelta(minutes=1):
        return t.pgettext("deadline", "now")
    if deadline >= now:
        return t.gettext("{duration} left").format(duration=format_duration(deadline - now, t))
    return t.gettext("late by {duration}").format(duration=format_duration(now - deadline, t))


def period_label(period: str, index: int, year: int, t: Translator) -> str:
    """ "Triwulan I 2026", "Semester II 2026", "Tahun 2026" (en: "Quarter I 2026" …)."""
    roman = ("I", "II", "III", "IV")[index - 1] if 1 <= index <= 4 else str(index)
    if period == "quarter":
        return t.gettext("Quarter {roman} {year}").format(roman=roman, year=year)
    if period == "semester":
        return t.gettext("Semester {roman} {year}").format(roman=roman, year=year)
    return t.gettext("Year {year}").format(year=year)


def day_minutes(hours: OfficeHours) -> int:
    """Minutes of the first open weekday: what one "Hari" of work is in the unit's office."""
    for day in hours.days:
        if day is not None:
            return (day[1].hour * 60 + day[1].minute) - (day[0].hour * 60 + day[0].minute)
    return 24 * 60


def normalised_total(total: WaktuTotal, minutes_per_day: int) -> WaktuTotal:
    """"3 Bulan 4 Hari 345 Menit" → "3 Bulan 4 Hari 5 Jam 45 Menit": minutes to hours, hours
    to working days (of `minutes_per_day`, the office's day as the engine's calendar counts
    it); months stay months."""
    rest = total.days * minutes_per_day + total.hours * 60 + total.minutes
    days, rest = divmod(rest, minutes_per_day)
    hours, minutes = divmod(rest, 60)
    return WaktuTotal(total.months, days, hours, minutes)
