"""The calendar file: a deployment's own holidays, removed days, working days and cuti bersama.

``calendar.yaml`` in the flows directory (or the file ``$SOPBOT_CALENDAR_FILE`` names) says
what the national calendar of the ``holidays`` library does not know::

    all:                          # every unit of this bot
      cuti_bersama:
        2027:                     # replaces the library's cuti bersama of 2027 (a revised SKB)
          - {date: 2027-02-05, name: Cuti Bersama Tahun Baru Imlek}
    units:
      kec-neglasari:              # a unit id of the flows
        holidays:                 # the unit's own days off: a regional holiday, a decree
          - {date: 2026-02-28, name: "HUT Kota Tangerang (Perwal No. 5/2026)"}
        removed:                  # national days off this office works
          - {date: 2026-12-24, name: "piket akhir tahun"}
        working_days:             # closed days worked: a Saturday replacing a bridge day
          - {date: 2026-03-28, name: "Sabtu pengganti"}

It is checked like a flow file — every problem at once, each as ``FILE:LINE: field: message``
— and the result is attached to each unit (:attr:`bot.engine.model.Unit.calendar_overrides`),
so deadlines and reminders follow it. The engine itself only takes the data.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.engine.calendar import WorkCalendar
from bot.engine.calendar_overrides import CalendarDay, CalendarOverrides
from bot.engine.loader import (
    FlowError,
    Problem,
    _Checker,
    _kind,
    _LineLoader,
    _Map,
    _Seq,
    load_flows,
)
from bot.engine.model import Flow, Unit
from bot.i18n import N_

__all__ = ["CALENDAR_ENV", "CALENDAR_FILES", "apply_calendar", "calendar_file_path",
           "load_flows_with_calendar", "parse_calendar"]

CALENDAR_ENV = "SOPBOT_CALENDAR_FILE"
#: The names a calendar file may have in the flows directory (they are not flow files).
CALENDAR_FILES = ("calendar.yaml", "calendar.yml")
LISTS = ("holidays", "removed", "working_days")
SECTION_KEYS = (*LISTS, "cuti_bersama")
MIN_YEAR, MAX_YEAR = 1900, 2200
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def calendar_file_path(flows_dir: str | Path, env: Mapping[str, str]) -> Path | None:
    """``$SOPBOT_CALENDAR_FILE``, else ``calendar.yaml`` of the flows directory, else None."""
    named = (env.get(CALENDAR_ENV) or "").strip()
    if named:
        return Path(named)
    for name in CALENDAR_FILES:
        path = Path(flows_dir) / name
        if path.is_file():
            return path
    return None


def load_flows_with_calendar(directory: str | Path,
                             env: Mapping[str, str] | None = None) -> list[Flow]:
    """The flows of `directory` with the calendar file applied to their units.

    Raises :class:`~bot.engine.loader.FlowError` listing every problem of the flows, or of
    the calendar file.
    """
    env = os.environ if env is None else env
    flows = load_flows(directory)
    path = calendar_file_path(directory, env)
    if path is None:
        return flows
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([Problem.of(str(path), 1, "(file)", N_("cannot read: {error}"),
                                    error=str(exc))]) from exc
    units = {f.unit.id: f.unit for f in flows}
    return apply_calendar(flows, parse_calendar(text, str(path), units))


def apply_calendar(flows: list[Flow], overrides: Mapping[str, CalendarOverrides]) -> list[Flow]:
    """Each flow with its unit's overrides attached."""
    result = []
    for flow in flows:
        extra = overrides.get(flow.unit.id)
        if extra:
            unit = dataclasses.replace(flow.unit, calendar_overrides=extra)
            flow = dataclasses.replace(flow, unit=unit)
        result.append(flow)
    return result


def parse_calendar(text: str, file: str, units: Mapping[str, Unit]) -> dict[str, CalendarOverrides]:
    """The overrides per unit id stated by a calendar file's text; raises
    :class:`~bot.engine.loader.FlowError` listing every problem."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FlowError([Problem.of(file, mark.line + 1 if mark else 1, "(yaml)", N_("{error}"),
                                    error=str(exc.problem or exc))]) from exc
    except yaml.YAMLError as exc:
        raise FlowError([Problem.of(file, 1, "(yaml)", N_("{error}"), error=str(exc))]) from exc
    if doc is None:
        return {}
    c = _Checker(file)
    if not isinstance(doc, _Map):
        c.add(1, "(file)", N_("a calendar file must be a YAML mapping with 'all' and/or "
                              "'units'"))
        raise FlowError(c.problems)
    for key in doc:
        if key not in ("all", "units"):
            c.add(c.line_of(doc, key), str(key),
                  N_("unknown field; a calendar file has 'all' and 'units'"))
    common = _section(c, doc, "all", "all", units.values()) if "all" in doc else None
    specific: dict[str, CalendarOverrides] = {}
    unit_map = c.mapping(doc, "units", "units", required=False)
    for unit_id in unit_map or {}:
        assert unit_map is not None
        field = f"units.{unit_id}"
        if unit_id not in units:
            c.add(c.line_of(unit_map, unit_id), field, N_("unknown unit {unit!r}; known: "
                                                          "{known}"),
                  unit=unit_id, known=", ".join(sorted(units)))
            continue
        specific[unit_id] = _section(c, unit_map, unit_id, field, [units[unit_id]])
    result = {unit_id: (common or CalendarOverrides()).then(
        specific.get(unit_id, CalendarOverrides())) for unit_id in units}
    reported: set[str] = set()
    for unit_id, overrides in result.items():
        _check_effect(c, units[unit_id], overrides, reported)
    if c.problems:
        raise FlowError(c.problems)
    return {unit_id: o for unit_id, o in result.items() if o}


def _section(c: _Checker, parent: _Map, key: str, field: str,
             units: Any) -> CalendarOverrides:
    node = c.mapping(parent, key, field, required=False)
    if node is None:
        return CalendarOverrides()
    for name in node:
        if name not in SECTION_KEYS:
            c.add(c.line_of(node, name), f"{field}.{name}",
                  N_("unknown field; use one of {fields}"), fields=", ".join(SECTION_KEYS))
    lists = {name: _days(c, node, name, f"{field}.{name}", need_name=name == "holidays")
             for name in LISTS}
    years: dict[int, tuple[CalendarDay, ...]] = {}
    cuti = c.mapping(node, "cuti_bersama", f"{field}.cuti_bersama", required=False)
    for year in cuti or {}:
        where = f"{field}.cuti_bersama.{year}"
        if isinstance(year, bool) or not isinstance(year, int) or \
                not MIN_YEAR <= year <= MAX_YEAR:
            c.add(c.line_of(cuti, year), where, N_("a year such as 2027 is expected here"))
            continue
        days = _days(c, cuti, year, where, need_name=True)
        for day in days:
            if day.day.year != year:
                c.add(_line(day), where, N_("{date} is not in {year}"),
                      date=day.day.isoformat(), year=year)
        years[year] = days
    return CalendarOverrides(holidays=lists["holidays"], removed=lists["removed"],
                             working_days=lists["working_days"],
                             cuti_bersama=tuple(sorted(years.items())))


def _line(day: CalendarDay) -> int:
    return int(day.origin.rsplit(":", 1)[1])


def _days(c: _Checker, node: _Map, key: Any, field: str, *,
          need_name: bool) -> tuple[CalendarDay, ...]:
    """A list of ``- 2026-03-28`` or ``- {date: 2026-03-28, name: ...}`` entries."""
    if key not in node or node[key] is None:
        return ()
    items = node[key]
    if not isinstance(items, _Seq):
        c.add(c.line_of(node, key), field, N_("expected a list, got {kind}"), kind=_kind(items))
        return ()
    days: dict[date, CalendarDay] = {}
    for index, item in enumerate(items):
        line = c.line_of(items, index)
        where = f"{field}[{index}]"
        raw, name = item, ""
        if isinstance(item, _Map):
            for extra in set(item) - {"date", "name"}:
                c.add(c.line_of(item, extra), f"{where}.{extra}",
                      N_("unknown field; an entry has 'date' and 'name'"))
            raw = item.get("date")
            name = c.text(item, "name", f"{where}.name", required=need_name) or ""
        elif need_name:
            c.add(line, where, N_("give the day's name too: an entry with date and name"))
        day = _date(raw)
        if day is None:
            c.add(line, where, N_("{value!r} is not a date written YYYY-MM-DD"), value=raw)
            continue
        if day in days:
            c.add(line, where, N_("{date} is listed twice"), date=day.isoformat())
            continue
        days[day] = CalendarDay(day, name, f"{c.file}:{line}")
    return tuple(sorted(days.values()))


def _date(raw: Any) -> date | None:
    if not isinstance(raw, str) or not _DATE.match(raw.strip()):
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _check_effect(c: _Checker, unit: Unit, overrides: CalendarOverrides,
                  reported: set[str]) -> None:
    """Statements that would change nothing are mistakes: say so (e.g. a mistyped date),
    once per statement even when it is in ``all`` and so applies to several units."""
    if not overrides.removed and not overrides.working_days:
        return
    plain = WorkCalendar(unit.timezone, unit.office_hours, overrides=dataclasses.replace(
        overrides, removed=(), working_days=()))
    for entry in overrides.removed:
        if not plain.is_holiday(entry.day) and entry.origin not in reported:
            reported.add(entry.origin)
            c.add(_line(entry), f"removed ({unit.id})",
                  N_("{date} is not a holiday or cuti bersama; nothing to remove"),
                  date=entry.day.isoformat())
    for entry in overrides.working_days:
        if plain.is_working_day(entry.day) and entry.origin not in reported:
            reported.add(entry.origin)
            c.add(_line(entry), f"working_days ({unit.id})",
                  N_("{date} is already a working day"), date=entry.day.isoformat())
