"""The SOP's "mutu baku waktu": the standard time allowed for one step, and their total.

Indonesian SOPs (Permenpan RB 35/2012 format) give each step a standard time such as
"10 Menit", "2 Jam", "4 Hari" or "3 Bulan", or "-" when the step has none, and print a
"Jumlah Waktu" under the table that adds the steps up *per unit of measure* ("5 Hari 6 Jam
35 Menit"). This module parses and renders both exactly the way the SOPs write them.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "TimeUnit",
    "Waktu",
    "WaktuError",
    "WaktuTotal",
    "parse_total",
    "parse_waktu",
]


class TimeUnit(enum.StrEnum):
    """The units of measure SOPs use for standard times (values are the Indonesian words)."""

    MINUTE = "menit"
    HOUR = "jam"
    DAY = "hari"
    MONTH = "bulan"

    @property
    def label(self) -> str:
        """The unit as the SOPs print it: "Menit", "Jam", "Hari", "Bulan"."""
        return self.value.capitalize()


class WaktuError(ValueError):
    """A standard time (or a total of them) that cannot be understood."""


# Every spelling we accept, lower-cased. Deliberately no "m" / "h" / "d": "m" is ambiguous
# (minute or month) and single letters are more often typos than intent.
_UNIT_ALIASES: dict[str, TimeUnit] = {
    "menit": TimeUnit.MINUTE,
    "mnt": TimeUnit.MINUTE,
    "min": TimeUnit.MINUTE,
    "mins": TimeUnit.MINUTE,
    "minute": TimeUnit.MINUTE,
    "minutes": TimeUnit.MINUTE,
    "jam": TimeUnit.HOUR,
    "hour": TimeUnit.HOUR,
    "hours": TimeUnit.HOUR,
    "hari": TimeUnit.DAY,
    "day": TimeUnit.DAY,
    "days": TimeUnit.DAY,
    "bulan": TimeUnit.MONTH,
    "bln": TimeUnit.MONTH,
    "month": TimeUnit.MONTH,
    "months": TimeUnit.MONTH,
}

# What the SOPs write for "no standard time". Dashes of every width because SOP tables are
# often pasted from Word/PDF, which turns "-" into an en or em dash.
_NONE_MARKERS = frozenset({"", "-", "–", "—", "−"})

_ACCEPTED_FORMS = (
    'a whole number of minutes, hours, days or months such as "10 Menit", "2 Jam", '
    '"4 Hari", "3 Bulan" (also menit/mnt/min/minute(s), jam/hour(s), hari/day(s), '
    'bulan/bln/month(s), any case), or "-" / empty for no standard time'
)

# [0-9] rather than \d: \d would also accept e.g. Arabic-Indic digits, which no SOP uses.
_WAKTU_RE = re.compile(r"([+-]?[0-9]+(?:[.,][0-9]+)?)\s*([^\W\d_]+)")


def _lookup_unit(word: str, raw: str) -> TimeUnit:
    unit = _UNIT_ALIASES.get(word.lower())
    if unit is None:
        raise WaktuError(f"unknown unit {word!r} in {raw!r}: expected {_ACCEPTED_FORMS}")
    return unit


def _parse_amount(number: str, raw: str) -> int:
    if "." in number or "," in number:
        raise WaktuError(f"{raw!r}: amounts must be whole numbers (write 90 Menit, not 1,5 Jam)")
    amount = int(number)
    if amount <= 0:
        raise WaktuError(f"{raw!r}: the amount must be at least 1")
    return amount


@dataclass(frozen=True)
class Waktu:
    """One step's standard time.

    ``unit is None`` (with ``amount == 0``) means the step has no standard time ("-").
    ``raw`` keeps the source text for error messages; it takes no part in equality, so
    ``parse_waktu("2 jam") == parse_waktu("2 Jam")``.
    """

    amount: int
    unit: TimeUnit | None
    raw: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # Guard the invariant here so hand-built values cannot smuggle in "0 Jam" or "5 -".
        if self.unit is None:
            if self.amount != 0:
                raise WaktuError(f"a Waktu without a unit must have amount 0, not {self.amount}")
        elif self.amount <= 0:
            raise WaktuError(f"the amount must be at least 1, not {self.amount}")

    @classmethod
    def none(cls, raw: str = "-") -> Waktu:
        """The "no standard time" value."""
        return cls(0, None, raw)

    @property
    def is_none(self) -> bool:
        """True when the step has no standard time."""
        return self.unit is None

    def __str__(self) -> str:
        if self.unit is None:
            return "-"
        return f"{self.amount} {self.unit.label}"


def parse_waktu(text: str | None) -> Waktu:
    """Parse one step's standard time, e.g. ``"10 Menit"``, ``"2  JAM"``, ``"30menit"``.

    ``None``, ``""`` and a dash mean no standard time. Raises :class:`WaktuError` for anything
    else that is not a positive whole number followed by a known unit.
    """
    if text is None:
        return Waktu.none("")
    if not isinstance(text, str):
        # YAML turns an unquoted `waktu: 10` into an int; say so instead of crashing.
        raise WaktuError(f"{text!r} is not text: expected {_ACCEPTED_FORMS}")
    stripped = text.strip()
    if stripped in _NONE_MARKERS:
        return Waktu.none(text)
    match = _WAKTU_RE.fullmatch(stripped)
    if match is None:
        raise WaktuError(f"cannot read {text!r}: expected {_ACCEPTED_FORMS}")
    number, word = match.groups()
    unit = _lookup_unit(word, text)
    return Waktu(_parse_amount(number, text), unit, text)


# Order of the SOPs' "Jumlah Waktu": largest unit first.
_TOTAL_ORDER = (TimeUnit.MONTH, TimeUnit.DAY, TimeUnit.HOUR, TimeUnit.MINUTE)
_UNIT_FIELD = {
    TimeUnit.MONTH: "months",
    TimeUnit.DAY: "days",
    TimeUnit.HOUR: "hours",
    TimeUnit.MINUTE: "minutes",
}


@dataclass(frozen=True)
class WaktuTotal:
    """The SOP's "Jumlah Waktu": standard times summed per unit of measure.

    Deliberately NOT normalised: the SOPs add 180 Menit and 10 Menit to "190 Menit", never to
    "3 Jam 10 Menit", and a day of work is not 24 hours, so converting would both change the
    printed total and be wrong.
    """

    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0

    def __post_init__(self) -> None:
        for name in ("months", "days", "hours", "minutes"):
            if getattr(self, name) < 0:
                raise WaktuError(f"{name} cannot be negative")

    @classmethod
    def of(cls, waktus: Iterable[Waktu]) -> WaktuTotal:
        """Sum the given standard times per unit; steps without a standard time are ignored."""
        sums = dict.fromkeys(_UNIT_FIELD.values(), 0)
        for waktu in waktus:
            if waktu.unit is not None:
                sums[_UNIT_FIELD[waktu.unit]] += waktu.amount
        return cls(**sums)

    def get(self, unit: TimeUnit) -> int:
        """The summed amount for one unit."""
        value: int = getattr(self, _UNIT_FIELD[unit])
        return value

    @property
    def is_zero(self) -> bool:
        """True when nothing was summed (rendered as "-")."""
        return not (self.months or self.days or self.hours or self.minutes)

    def __add__(self, other: object) -> WaktuTotal:
        if isinstance(other, Waktu):
            return self + WaktuTotal.of([other])
        if isinstance(other, WaktuTotal):
            return WaktuTotal(
                self.months + other.months,
                self.days + other.days,
                self.hours + other.hours,
                self.minutes + other.minutes,
            )
        return NotImplemented

    def __str__(self) -> str:
        parts = [f"{self.get(unit)} {unit.label}" for unit in _TOTAL_ORDER if self.get(unit)]
        return " ".join(parts) if parts else "-"


# Between "N unit" groups we tolerate what people type in a list: spaces, commas, "+",
# "dan"/"and".
_TOTAL_SEPARATOR_RE = re.compile(r"(?:\s|,|\+|\bdan\b|\band\b)*", re.IGNORECASE)


def parse_total(text: str | None) -> WaktuTotal:
    """Parse a printed "Jumlah Waktu" such as ``"5 Hari 6 Jam 35 Menit"`` (any case, any order).

    ``None``, ``""`` and a dash give the zero total. A unit named twice is refused, because a
    printed total states each unit once and a repeat is more likely a typo than a sum.
    """
    if text is None:
        return WaktuTotal()
    if not isinstance(text, str):
        raise WaktuError(f"{text!r} is not text: expected e.g. '5 Hari 6 Jam 35 Menit'")
    stripped = text.strip()
    if stripped in _NONE_MARKERS:
        return WaktuTotal()
    sums: dict[str, int] = {}
    pos = 0
    for match in _WAKTU_RE.finditer(stripped):
        gap = stripped[pos : match.start()]
        if not _TOTAL_SEPARATOR_RE.fullmatch(gap):
            raise WaktuError(f"cannot read {gap.strip()!r} in total {text!r}")
        number, word = match.groups()
        unit = _lookup_unit(word, text)
        name = _UNIT_FIELD[unit]
        if name in sums:
            raise WaktuError(f"total {text!r} names {unit.label} more than once")
        sums[name] = _parse_amount(number, text)
        pos = match.end()
    tail = stripped[pos:]
    if not sums or not _TOTAL_SEPARATOR_RE.fullmatch(tail):
        raise WaktuError(
            f"cannot read total {text!r}: expected amounts with units such as "
            "'5 Hari 6 Jam 35 Menit', or '-'"
        )
    return WaktuTotal(**sums)
