"""A unit's own calendar facts, on top of the national holidays: the data a calendar file gives.

The ``holidays`` library knows Indonesia's public holidays and the cuti bersama of the yearly
SKB of three ministers. An office also has days it alone knows: a regional holiday or a Bupati's
decree (extra holidays), a national day it works anyway (removed days), a Saturday worked to
make up for a bridge day (working days), and cuti bersama revised after the library's release.
This module holds those facts as plain, hashable data; :mod:`bot.calendar_file` reads them from
YAML and :class:`~bot.engine.calendar.WorkCalendar` applies them.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["CalendarDay", "CalendarOverrides", "DayKind", "ListedDay"]


@dataclass(frozen=True, order=True)
class CalendarDay:
    """One dated statement of a calendar file: the day, its name, and where it was written."""

    day: date
    name: str
    origin: str = ""  #: ``FILE:LINE`` of the statement ("" when given in code)


@dataclass(frozen=True)
class CalendarOverrides:
    """What a unit's calendar changes: every tuple is in date order.

    ``cuti_bersama`` holds ``(year, days)`` pairs; for those years the given days *replace*
    the library's cuti bersama (a revised SKB), and the year counts as known.
    """

    holidays: tuple[CalendarDay, ...] = ()
    removed: tuple[CalendarDay, ...] = ()
    working_days: tuple[CalendarDay, ...] = ()
    cuti_bersama: tuple[tuple[int, tuple[CalendarDay, ...]], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.holidays or self.removed or self.working_days or self.cuti_bersama)

    def revised_cuti_bersama(self, year: int) -> tuple[CalendarDay, ...] | None:
        """The cuti bersama of `year` as the file states them, or None to keep the library's."""
        return dict(self.cuti_bersama).get(year)

    def then(self, specific: CalendarOverrides) -> CalendarOverrides:
        """These overrides (for every unit) followed by a unit's own: lists add up, and the
        unit's cuti bersama of a year replace the common ones of that year."""
        years = dict(self.cuti_bersama)
        years.update(specific.cuti_bersama)
        return CalendarOverrides(
            holidays=tuple(sorted(self.holidays + specific.holidays)),
            removed=tuple(sorted(self.removed + specific.removed)),
            working_days=tuple(sorted(self.working_days + specific.working_days)),
            cuti_bersama=tuple(sorted(years.items())),
        )


class DayKind(StrEnum):
    """Why a day is listed in a calendar (``sopbot calendar show``)."""

    PUBLIC = "public"  #: a national public holiday (library)
    CUTI_BERSAMA = "cuti_bersama"  #: joint leave (library, or a revision in the file)
    EXTRA = "extra"  #: the unit's own day off (calendar file or code)
    WEEKEND = "weekend"  #: a weekday the unit's office hours keep closed
    REMOVED = "removed"  #: a national day off the unit works (calendar file)
    WORKING = "working"  #: a closed weekday or holiday the unit works (calendar file)


@dataclass(frozen=True, order=True)
class ListedDay:
    """A day of a calendar listing: off (``working`` False) or worked against the rule."""

    day: date
    kind: DayKind
    name: str
    origin: str = ""  #: ``FILE:LINE``, or "" for the library and the office hours
    working: bool = False
