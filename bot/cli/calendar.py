"""``sopbot calendar due|show`` and ``sopbot reminders plan``: deadlines, calendars, plans.

``sopbot calendar show --year YEAR [--unit UNIT] [--json] [--dir DIR]`` lists every day of
YEAR that is not a regular working day of the unit (public holidays, cuti bersama, the unit's
own days off from calendar.yaml), the days worked against the rule (working Saturdays, removed
holidays) and the count of closed weekdays, each with its source: the ``holidays`` library
and its version, ``FILE:LINE`` of calendar.yaml, or the office hours. ``--json`` prints
``[{unit, year, cuti_bersama_known, days: [{date, kind, name, working, source}]}]`` with every
day, weekends included.

``sopbot calendar due START WAKTU [--unit UNIT] [--dir DIR]`` prints the deadline of a step
with standard time WAKTU started at START: first line ISO 8601 with offset
(``2026-03-26T15:00:00+07:00``), second line for people in the CLI language. START without an
offset is in the unit's zone (Asia/Jakarta with standard office hours when --unit is not
given). Bad input: a message on stderr and exit 2.

``sopbot reminders plan --year YEAR [--unit UNIT] [--json] [--dir DIR]`` lists every
occurrence of every recurring duty (cycle) whose period lies in YEAR, with its due moment and
reminder points. ``--json`` prints a list of objects, one per occurrence, in a stable form::

    {"unit": "setwan-nganjuk", "flow": "pengumpulan-data-kinerja-dprd-nganjuk",
     "cycle": "triwulan", "key": "triwulan-2026-1",
     "period_start": "2026-01-01", "period_end": "2026-03-31",
     "due": "2026-04-15T16:00:00+07:00",
     "reminders": [{"kind": "before", "at": "2026-04-08T07:30:00+07:00", "n": 0}, ...]}

Dates are ISO dates, moments ISO 8601 with the unit's offset; ``kind`` is one of before, due,
overdue, escalate, recap; ``n`` numbers the overdue reminders (0 for the others). Flows come
in file order, occurrences by due moment.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from babel.dates import format_date

from bot.cli.common import flows_dir_default, load_or_report
from bot.engine.calendar import CalendarError, WorkCalendar
from bot.engine.calendar_overrides import DayKind, ListedDay
from bot.engine.cycles import Occurrence, occurrences
from bot.engine.model import Cycle, Flow, Unit
from bot.engine.reminders import ReminderKind, ReminderPoint, cycle_reminders
from bot.engine.waktu import WaktuError, parse_waktu
from bot.formatting import format_short, format_when, period_label
from bot.i18n import Translator

__all__ = ["listed_day_json", "occurrence_label", "plan_to_json", "register"]

DEFAULT_TIMEZONE = "Asia/Jakarta"
# Years the holiday data and the date arithmetic handle comfortably.
MIN_YEAR, MAX_YEAR = 1900, 2200
# Day, month name, year: the order of format_when's date in both languages.
_DATE_PATTERN = "d MMMM y"


def _units(flows: list[Flow]) -> dict[str, Unit]:
    return {f.unit.id: f.unit for f in flows}


def _unknown_unit(t: Translator, unit: str, flows: list[Flow]) -> int:
    print(t.gettext("No unit {unit!r}. Known units:").format(unit=unit), file=sys.stderr)
    for unit_id, known in sorted(_units(flows).items()):
        print(f"  {unit_id}  ({known.name})", file=sys.stderr)
    return 2


# --- sopbot calendar due --------------------------------------------------------------------


def _parse_start(text: str, calendar: WorkCalendar) -> datetime | None:
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=calendar.tz)
    return start


def cmd_calendar_due(args: argparse.Namespace, t: Translator) -> int:
    """Print the deadline of a step started at START with standard time WAKTU."""
    timezone = DEFAULT_TIMEZONE
    calendar = WorkCalendar(DEFAULT_TIMEZONE)
    if args.unit:
        flows = load_or_report(t, args.dir)
        if flows is None:
            return 1
        unit = _units(flows).get(args.unit)
        if unit is None:
            return _unknown_unit(t, args.unit, flows)
        timezone, calendar = unit.timezone, unit.calendar()
    start = _parse_start(args.start, calendar)
    if start is None:
        print(t.gettext("Bad start {value!r}: give an ISO date and time such as "
                        "2026-03-17T15:00 (optionally with an offset, +07:00).").format(
                            value=args.start), file=sys.stderr)
        return 2
    try:
        waktu = parse_waktu(args.waktu)
    except WaktuError as exc:
        print(t.gettext("Bad standard time {value!r}: {error}").format(
            value=args.waktu, error=exc), file=sys.stderr)
        return 2
    try:
        deadline = calendar.due(start, waktu)
    except (CalendarError, OverflowError) as exc:
        print(t.gettext("Cannot compute the deadline: {error}").format(error=exc),
              file=sys.stderr)
        return 2
    if deadline is None:
        print(t.gettext("No deadline: the step has no standard time."))
        return 0
    print(deadline.isoformat())
    print(format_when(deadline, timezone, t))
    return 0


# --- sopbot calendar show ------------------------------------------------------------------


def _kind_label(day: ListedDay, t: Translator) -> str:
    labels = {
        DayKind.PUBLIC: t.gettext("public holiday"),
        DayKind.CUTI_BERSAMA: t.gettext("cuti bersama"),
        DayKind.EXTRA: t.gettext("unit holiday"),
        DayKind.WEEKEND: t.gettext("closed weekday"),
        DayKind.REMOVED: t.gettext("worked: holiday removed"),
        DayKind.WORKING: t.gettext("working day"),
    }
    return labels[day.kind]


def _source(day: ListedDay, t: Translator) -> str:
    if day.origin:
        return day.origin
    if day.kind is DayKind.WEEKEND:
        return t.gettext("office hours")
    return t.gettext("holidays library {version}").format(version=_holidays_version())


def _holidays_version() -> str:
    import holidays

    return str(holidays.__version__)


def listed_day_json(day: ListedDay, t: Translator) -> dict[str, Any]:
    """One day of ``calendar show --json``."""
    return {"date": day.day.isoformat(), "kind": day.kind.value, "name": day.name,
            "working": day.working, "source": day.origin or (
                "office_hours" if day.kind is DayKind.WEEKEND
                else f"holidays {_holidays_version()}")}


def _print_unit_year(unit: Unit, year: int, t: Translator) -> None:
    calendar = unit.calendar()
    days = calendar.listing(year)
    print(f"{unit.name} ({unit.id}), {calendar.zone_abbreviation} — {year}")
    weekends = [d for d in days if d.kind is DayKind.WEEKEND]
    for day in days:
        if day.kind is DayKind.WEEKEND:
            continue
        when = format_date(day.day, "EEE d MMM y", locale=t.language)
        print(f"  {when:<16} {_kind_label(day, t):<24} {day.name}  [{_source(day, t)}]")
    print("  " + t.ngettext(
        "and {n} closed weekday (weekends by the unit's office hours)",
        "and {n} closed weekdays (weekends by the unit's office hours)",
        len(weekends)).format(n=len(weekends)))
    off = sum(1 for d in days if not d.working)
    print("  " + t.ngettext("{n} non-working day in {year}.", "{n} non-working days in {year}.",
                            off).format(n=off, year=year))
    if not calendar.cuti_bersama_known(year):
        print("  " + t.gettext("Warning: the cuti bersama of {year} are not known yet; upgrade "
                               "the holidays package or list them in calendar.yaml.").format(
                                   year=year))


def cmd_calendar_show(args: argparse.Namespace, t: Translator) -> int:
    """List every non-working day of a year, per unit, with its source."""
    if not MIN_YEAR <= args.year <= MAX_YEAR:
        print(t.gettext("Bad year {year}: give a year from {first} to {last}.").format(
            year=args.year, first=MIN_YEAR, last=MAX_YEAR), file=sys.stderr)
        return 2
    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    units = _units(flows)
    if args.unit and args.unit not in units:
        return _unknown_unit(t, args.unit, flows)
    chosen = [units[args.unit]] if args.unit else [units[k] for k in sorted(units)]
    if args.json:
        print(json.dumps([{"unit": unit.id, "year": args.year,
                           "cuti_bersama_known": unit.calendar().cuti_bersama_known(args.year),
                           "days": [listed_day_json(d, t)
                                    for d in unit.calendar().listing(args.year)]}
                          for unit in chosen], ensure_ascii=False, indent=2))
        return 0
    for index, unit in enumerate(chosen):
        if index:
            print()
        _print_unit_year(unit, args.year, t)
    return 0


# --- sopbot reminders plan ------------------------------------------------------------------


def occurrence_label(occurrence: Occurrence, t: Translator) -> str:
    """ "Triwulan I 2026", "Semester II 2026", "Tahun 2026" (en: "Quarter I 2026" …)."""
    return period_label(occurrence.period.value, occurrence.index, occurrence.year, t)


def _reminder_label(point: ReminderPoint, t: Translator) -> str:
    if point.kind is ReminderKind.BEFORE:
        return t.gettext("reminder before the due date")
    if point.kind is ReminderKind.DUE:
        return t.gettext("reminder on the due date")
    if point.kind is ReminderKind.OVERDUE:
        return t.gettext("overdue reminder {n}").format(n=point.n)
    if point.kind is ReminderKind.ESCALATE:
        return t.gettext("escalation to the atasan, overdue reminder {n}").format(n=point.n)
    return t.gettext("recap for the atasan")


def _role_title(flow: Flow, role_id: str, t: Translator) -> str:
    if not flow.has_role(role_id):
        return role_id
    role = flow.role(role_id)
    if t.language == "en" and role.title_en:
        return role.title_en
    return role.title


def _applies_to(flow: Flow, cycle: Cycle, t: Translator) -> str:
    if cycle.applies_to == "subject":
        return t.gettext("each official of the per-official procedure, for himself")
    return _role_title(flow, cycle.applies_to, t)


def _point_json(point: ReminderPoint) -> dict[str, Any]:
    return {"kind": point.kind.value, "at": point.at.isoformat(), "n": point.n}


def plan_to_json(flow: Flow, occurrence: Occurrence,
                 points: list[ReminderPoint]) -> dict[str, Any]:
    """One occurrence in the documented ``reminders plan --json`` form."""
    return {
        "unit": flow.unit.id,
        "flow": flow.id,
        "cycle": occurrence.cycle_id,
        "key": occurrence.key,
        "period_start": occurrence.period_start.isoformat(),
        "period_end": occurrence.period_end.isoformat(),
        "due": occurrence.due.isoformat(),
        "reminders": [_point_json(p) for p in points],
    }


def _print_block(flow: Flow, occurrence: Occurrence, points: list[ReminderPoint],
                 t: Translator) -> None:
    tz = flow.unit.timezone
    cycle = next(c for c in flow.cycles if c.id == occurrence.cycle_id)
    print(f"{occurrence_label(occurrence, t)} — {cycle.name} [{occurrence.key}]")
    print("  " + t.gettext("Period: {start} – {end}").format(
        start=format_date(occurrence.period_start, _DATE_PATTERN, locale=t.language),
        end=format_date(occurrence.period_end, _DATE_PATTERN, locale=t.language)))
    print("  " + t.gettext("Due: {when}").format(when=format_when(occurrence.due, tz, t)))
    print("  " + t.gettext("For: {who}").format(who=_applies_to(flow, cycle, t)))
    print("  " + t.gettext("Reminders:"))
    for point in points:
        print(f"    {format_short(point.at, tz, t)}  {_reminder_label(point, t)}")


def cmd_reminders_plan(args: argparse.Namespace, t: Translator) -> int:
    """Print every cycle occurrence of a year with its due moment and reminders."""
    if not MIN_YEAR <= args.year <= MAX_YEAR:
        print(t.gettext("Bad year {year}: give a year from {first} to {last}.").format(
            year=args.year, first=MIN_YEAR, last=MAX_YEAR), file=sys.stderr)
        return 2
    flows = load_or_report(t, args.dir)
    if flows is None:
        return 1
    if args.unit and args.unit not in _units(flows):
        return _unknown_unit(t, args.unit, flows)
    chosen = [f for f in flows if f.cycles and (not args.unit or f.unit.id == args.unit)]
    plans: list[tuple[Flow, Occurrence, list[ReminderPoint]]] = []
    for flow in chosen:
        calendar = flow.unit.calendar()
        for occurrence in occurrences(flow, args.year, calendar):
            plans.append((flow, occurrence, cycle_reminders(occurrence, calendar)))
    if args.json:
        print(json.dumps([plan_to_json(*plan) for plan in plans], ensure_ascii=False,
                         indent=2))
        return 0
    if not plans:
        print(t.gettext("No flow here has recurring duties (cycles)."))
        return 0
    current: Flow | None = None
    for flow, occurrence, points in plans:
        if flow is not current:
            if current is not None:
                print()
            current = flow
            name = flow.name_en if t.language == "en" and flow.name_en else flow.name
            print(f"{name} ({flow.id}) — {flow.unit.name} ({flow.unit.id})")
        print()
        _print_block(flow, occurrence, points, t)
    return 0


def register(sub: Any, t: Translator) -> None:
    """Add ``calendar`` and ``reminders`` to the ``sopbot`` subcommands."""
    _ = t.gettext
    cal = sub.add_parser("calendar", help=_("working-day calendar: step deadlines"))
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    due = cal_sub.add_parser(
        "due", help=_("the deadline of a step started at START with standard time WAKTU"))
    due.add_argument("start", metavar="START",
                     help=_("ISO date and time, e.g. 2026-03-17T15:00; without an offset it "
                            "is in the unit's time zone"))
    due.add_argument("waktu", metavar="WAKTU",
                     help=_("standard time as the SOP writes it, e.g. \"2 Hari\" or "
                            "\"30 Menit\""))
    due.add_argument("--unit", help=_("unit id for its time zone and office hours (default: "
                                      "Asia/Jakarta, Mon–Fri office hours)"))
    due.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    due.set_defaults(func=cmd_calendar_due)

    show = cal_sub.add_parser(
        "show", help=_("every non-working day of a year and where it comes from (the holidays "
                       "library, calendar.yaml, office hours)"))
    show.add_argument("--year", type=int, required=True, help=_("the year to list"))
    show.add_argument("--unit", help=_("only this unit (default: every unit)"))
    show.add_argument("--json", action="store_true", help=_("machine-readable output"))
    show.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    show.set_defaults(func=cmd_calendar_show)

    rem = sub.add_parser("reminders", help=_("reminder plans of recurring duties"))
    rem_sub = rem.add_subparsers(dest="reminders_command", required=True, metavar="ACTION")
    plan = rem_sub.add_parser(
        "plan", help=_("every occurrence of the recurring duties in a year, with due dates "
                       "and reminders"))
    plan.add_argument("--year", type=int, required=True, help=_("the year of the periods"))
    plan.add_argument("--unit", help=_("only this unit's flows"))
    plan.add_argument("--json", action="store_true", help=_("machine-readable output"))
    plan.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    plan.set_defaults(func=cmd_reminders_plan)

