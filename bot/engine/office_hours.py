"""Office hours of a unit: opening and closing per weekday, parsed from a flow's
``unit.office_hours`` (re-exported by :mod:`bot.engine.calendar`). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

__all__ = ["CalendarError", "DayHours", "OfficeHours"]


class CalendarError(ValueError):
    """Bad calendar configuration or input (unknown zone, bad office hours, naive datetime)."""


# --- office hours -------------------------------------------------------------------------

_WEEKDAY_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("mon", "monday", "sen", "senin"),
    ("tue", "tuesday", "sel", "selasa"),
    ("wed", "wednesday", "rab", "rabu"),
    ("thu", "thursday", "kam", "kamis"),
    ("fri", "friday", "jum", "jumat", "jum'at"),
    ("sat", "saturday", "sab", "sabtu"),
    ("sun", "sunday", "min", "minggu", "ahad"),
)
_DAY_NAMES: dict[str, int] = {
    name: index for index, names in enumerate(_WEEKDAY_SPELLINGS) for name in names
}

# Indonesian documents write times as "07.30" as often as "07:30", and Word turns "-" into "–".
_HOURS_RE = re.compile(r"\s*([0-9]{1,2})[:.]([0-9]{2})\s*[-–—]\s*([0-9]{1,2})[:.]([0-9]{2})\s*")
_CLOSED_VALUES = frozenset({"closed", "tutup", "libur", "-", ""})

DayHours = tuple[time, time]


def _parse_days(key: object) -> list[int]:
    if not isinstance(key, str):
        raise CalendarError(f"office_hours: key {key!r} is not a day name such as 'mon-thu'")
    days: list[int] = []
    for part in key.split(","):
        bounds = [b.strip().lower() for b in re.split(r"[-–]", part)]
        if len(bounds) > 2 or any(b not in _DAY_NAMES for b in bounds):
            raise CalendarError(
                f"office_hours: bad day key {key!r}: use day names mon..sun or sen..min, "
                "ranges like 'mon-fri', or lists like 'mon,wed'"
            )
        first, last = _DAY_NAMES[bounds[0]], _DAY_NAMES[bounds[-1]]
        if last < first:
            # A reversed range is far more likely a slip than a wish to wrap over the weekend.
            raise CalendarError(f"office_hours: day range {key!r} runs backwards")
        days.extend(range(first, last + 1))
    return days


def _parse_hours(key: str, value: object) -> DayHours | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _CLOSED_VALUES):
        return None
    if not isinstance(value, str):
        # PyYAML reads an unquoted 07:30 as the sexagesimal integer 450; point at the quotes.
        raise CalendarError(
            f'office_hours: value for {key!r} must be a quoted string like "07:30-16:00", '
            f"not {value!r}"
        )
    match = _HOURS_RE.fullmatch(value)
    if match is None:
        raise CalendarError(
            f'office_hours: bad hours {value!r} for {key!r}: expected "HH:MM-HH:MM"'
        )
    oh, om, ch, cm = (int(g) for g in match.groups())
    try:
        opening, closing = time(oh, om), time(ch, cm)
    except ValueError as exc:
        raise CalendarError(f"office_hours: bad hours {value!r} for {key!r}: {exc}") from exc
    if closing <= opening:
        raise CalendarError(f"office_hours: hours {value!r} for {key!r} close before they open")
    return opening, closing


@dataclass(frozen=True)
class OfficeHours:
    """Opening and closing time per weekday (index 0 = Monday .. 6 = Sunday; None = closed).

    Times are wall-clock times in the unit's zone; a day's hours are the half-open interval
    [open, close).
    """

    days: tuple[DayHours | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise CalendarError(f"office hours need 7 weekdays, got {len(self.days)}")
        for hours in self.days:
            if hours is not None and not hours[0] < hours[1]:
                raise CalendarError(f"office hours {hours} close before they open")
        if all(hours is None for hours in self.days):
            # Every deadline search would run forever.
            raise CalendarError("office hours must open on at least one weekday")

    @classmethod
    def default(cls) -> OfficeHours:
        """Typical 5-day civil-service week: Mon–Thu 07:30–16:00, Fri 07:30–16:30."""
        regular = (time(7, 30), time(16, 0))
        friday = (time(7, 30), time(16, 30))
        return cls((regular, regular, regular, regular, friday, None, None))

    @classmethod
    def parse(cls, mapping: Mapping[str, str | None]) -> OfficeHours:
        """Build office hours from e.g. ``{"mon-thu": "07:30-16:00", "fri": "07:30-16:30"}``.

        Keys are day names (English or Indonesian, full or 3-letter), ranges ("mon-fri",
        "sen-kam") or comma lists; values are "HH:MM-HH:MM" (or "closed"/"tutup"/null).
        Days not named are closed. Raises :class:`CalendarError` naming the bad key or value.
        """
        if not isinstance(mapping, Mapping):
            raise CalendarError(
                f"office_hours must be a mapping like {{'mon-thu': '07:30-16:00'}}, not {mapping!r}"
            )
        days: list[DayHours | None] = [None] * 7
        named_by: dict[int, str] = {}
        for key, value in mapping.items():
            for day in _parse_days(key):
                if day in named_by:
                    # Overlaps would silently depend on key order; make the author choose.
                    raise CalendarError(
                        f"office_hours: {key!r} repeats a day already given by {named_by[day]!r}"
                    )
                named_by[day] = key
                days[day] = _parse_hours(key, value)
        return cls(tuple(days))

    def for_weekday(self, weekday: int) -> DayHours | None:
        """Hours for a weekday (0 = Monday), or None when closed."""
        return self.days[weekday]
