"""``sopbot export``, ``monev``, ``rekap``, ``chart`` and ``flows draw``: reports from the trail.

``export --json`` prints one object per disposition with exactly the fields ``unit, flow,
year, step, title, role, official, acting_for, action, note, started, decided,
mutu_baku_minutes, actual_working_minutes, late`` (moments ISO 8601 in the unit's zone;
minutes of office time; ``null`` where a field does not apply). ``rekap --json`` prints one
object per unit (see :func:`bot.reports.rekap_to_json`). Files are written in the CLI
language (``--lang`` or ``$SOPBOT_LANGUAGE``; Indonesian by default). Bad input: one sentence
on stderr and exit 2; an unreadable data directory or file: exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.common import flows_dir_default, load_or_report
from bot.engine.instance import Status
from bot.engine.model import Flow
from bot.formatting import format_short
from bot.i18n import Translator, translator

__all__ = ["register", "register_flows"]

MIN_YEAR, MAX_YEAR = 1900, 2200


class _Stop(Exception):
    """A problem already explained to the user; carries the exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _lang(args: argparse.Namespace, t: Translator) -> Translator:
    return translator(args.lang) if getattr(args, "lang", None) else t


def _flows(args: argparse.Namespace, t: Translator) -> list[Flow]:
    flows = load_or_report(t, args.dir)
    if flows is None:
        raise _Stop(1)
    if getattr(args, "unit", None) and args.unit not in {f.unit.id for f in flows}:
        _say(t.gettext("No unit {unit!r}. Known units: {units}.").format(
            unit=args.unit, units=", ".join(sorted({f.unit.id for f in flows}))))
        raise _Stop(2)
    return flows


def _check_year(year: int, t: Translator) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        _say(t.gettext("Bad year {year}: give a year from {first} to {last}.").format(
            year=year, first=MIN_YEAR, last=MAX_YEAR))
        raise _Stop(2)


def _matching(flows: Sequence[Flow], key: str, unit: str | None, t: Translator) -> list[Flow]:
    from bot.reports import select_flows

    found = [f for f in select_flows(flows, key) if unit is None or f.unit.id == unit]
    if not found:
        _say(t.gettext("No flow {key!r}. Known flows: {flows}.").format(
            key=key, flows=", ".join(f"{f.alias} ({f.id})" for f in flows)))
        raise _Stop(2)
    return found


def _one_flow(flows: Sequence[Flow], key: str, unit: str | None, t: Translator) -> Flow:
    found = _matching(flows, key, unit, t)
    if len(found) > 1:
        _say(t.gettext("{key!r} is the SOP of several units; add --unit with one of: "
                       "{units}.").format(key=key, units=", ".join(f.unit.id for f in found)))
        raise _Stop(2)
    return found[0]


def _now(args: argparse.Namespace, t: Translator) -> datetime:
    if not getattr(args, "now", None):
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(args.now)
    except ValueError:
        now = None
    if now is None or now.tzinfo is None:
        _say(t.gettext("Bad --now {value!r}: give an ISO date and time with an offset, such "
                       "as 2026-03-17T15:00+07:00.").format(value=args.now))
        raise _Stop(2)
    return now


def _trails(flows: Sequence[Flow], year: int, unit: str | None, t: Translator) -> list[Any]:
    """The stored trails of ``year`` (the data directory must exist: a report creates none)."""
    from bot.bootstrap import open_store
    from bot.config import data_dir_from
    from bot.reports import load_trails
    from bot.storage import StoreError

    data_dir = data_dir_from(os.environ)
    if not data_dir.is_dir():
        _say(t.gettext("No data directory {dir}: set SOPBOT_DATA_DIR to the bot's data "
                       "directory.").format(dir=data_dir))
        raise _Stop(1)
    try:
        return load_trails(open_store(data_dir), flows, year, unit=unit)
    except StoreError as exc:
        _say(str(exc))
        raise _Stop(1) from exc


def _write(t: Translator, writer: Any, *args: Any) -> Any:
    try:
        return writer(*args)
    except OSError as exc:
        _say(t.gettext("Cannot write {file}: {error}").format(file=args[0],
                                                              error=exc.strerror or exc))
        raise _Stop(1) from exc


def _run(func: Any) -> Any:
    def wrapped(args: argparse.Namespace, t: Translator) -> int:
        try:
            return int(func(args, t) or 0)
        except _Stop as stop:
            return stop.status
    wrapped.__doc__ = func.__doc__
    return wrapped


# --- export ---------------------------------------------------------------------------------


@_run
def cmd_export(args: argparse.Namespace, t: Translator) -> int:
    """The trail of a year as an Excel workbook and/or JSON rows."""
    from bot.reports import disposition_rows, row_to_json
    from bot.reports.xlsx import write_export

    _check_year(args.year, t)
    if not args.out and not args.json:
        _say(t.gettext("Say where to write: --out FILE.xlsx, or --json to print the rows."))
        return 2
    flows = _flows(args, t)
    chosen = _matching(flows, args.flow, args.unit, t) if args.flow else [
        f for f in flows if args.unit is None or f.unit.id == args.unit]
    trails = _trails(chosen, args.year, args.unit, t)
    rows = [row for trail in trails for row in disposition_rows(trail)]
    if args.json:
        print(json.dumps([row_to_json(r) for r in rows], ensure_ascii=False, indent=2))
    if args.out:
        lt = _lang(args, t)
        used = [f for f in chosen if any(r.flow == f.id for r in rows)] or chosen
        _write(lt, write_export, args.out, rows, used, lt)
        _say(t.ngettext("Wrote {n} disposition to {file}.", "Wrote {n} dispositions to {file}.",
                        len(rows)).format(n=len(rows), file=args.out))
    return 0


# --- monev ----------------------------------------------------------------------------------


@_run
def cmd_monev(args: argparse.Namespace, t: Translator) -> int:
    """The PermenPAN-RB 35/2012 monitoring form of one SOP, filled from the trail."""
    from bot.reports import monev
    from bot.reports.xlsx import write_monev

    _check_year(args.year, t)
    flows = _flows(args, t)
    flow = _one_flow(flows, args.flow, args.unit, t)
    form = monev(flow, args.year, _trails([flow], args.year, flow.unit.id, t), args.semester)
    lt = _lang(args, t)
    _write(lt, write_monev, args.out, form, lt)
    _say(t.gettext("Wrote the SOP monitoring form of {alias} {year} ({unit}) to {file}.").format(
        alias=flow.alias, year=args.year, unit=flow.unit.name, file=args.out))
    return 0


# --- rekap ----------------------------------------------------------------------------------


def _rekap_line(line: Any, tz: str, t: Translator) -> str:
    from bot.reports.rekap import rekap_line_text

    return f"{line.unit_name} ({line.unit}): {rekap_line_text(line, tz, t)}"


@_run
def cmd_rekap(args: argparse.Namespace, t: Translator) -> int:
    """Every unit's state of one SOP in a year, worst first."""
    from bot.reports import rekap, rekap_to_json

    if not args.flow or args.year is None:
        _say(t.gettext("Give the SOP and the year: sopbot rekap --flow PK --year 2026."))
        return 2
    _check_year(args.year, t)
    flows = _flows(args, t)
    chosen = _matching(flows, args.flow, None, t)
    now = _now(args, t)
    lines = rekap(chosen, args.year, _trails(chosen, args.year, None, t), now)
    if args.json:
        print(json.dumps([rekap_to_json(line) for line in lines], ensure_ascii=False,
                         indent=2))
        return 0
    tz = chosen[0].unit.timezone
    print(t.gettext("Recap {alias} {year}, as of {when}:").format(
        alias=chosen[0].alias, year=args.year, when=format_short(now, tz, t)))
    zones = {f.unit.id: f.unit.timezone for f in chosen}
    for n, line in enumerate(lines, start=1):
        print(f"{n}. {_rekap_line(line, zones[line.unit], t)}")
    return 0


@_run
def cmd_rekap_merge(args: argparse.Namespace, t: Translator) -> int:
    """A province-wide recap workbook from several deployments' ``export --json`` files."""
    from bot.reports import ExportFormatError, merge_exports
    from bot.reports.xlsx import write_merged_rekap

    exports: list[tuple[str, list[Any]]] = []
    for name in args.files:
        try:
            data = json.loads(Path(name).read_text(encoding="utf-8"))
        except OSError as exc:
            _say(t.gettext("Cannot read {file}: {error}").format(file=name,
                                                                 error=exc.strerror or exc))
            return 1
        except ValueError:
            data = None
        if not isinstance(data, list):
            _say(t.gettext("{file} is not the output of sopbot export --json.").format(
                file=name))
            return 2
        exports.append((Path(name).stem, data))
    try:
        merged = merge_exports(exports)
    except ExportFormatError as exc:
        _say(t.gettext("{file} is not the output of sopbot export --json.").format(
            file=str(exc).split(":", 1)[0]))
        return 2
    rows = [(src, r) for src, data in exports for r in data]
    lt = _lang(args, t)
    _write(lt, write_merged_rekap, args.out, merged, rows, lt)
    _say(t.gettext("Wrote the recap of {n} units to {file}.").format(n=len(merged),
                                                                       file=args.out))
    return 0


# --- pictures -------------------------------------------------------------------------------


def _pick(trails: list[Any], official: str | None) -> Any | None:
    if official:
        key = official.casefold()
        trails = [tr for tr in trails if tr.instance.subject and (
            tr.instance.subject == official or key in tr.name(tr.instance.subject).casefold())]
    if not trails:
        return None
    return sorted(trails, key=lambda tr: (tr.instance.status is not Status.CANCELLED,
                                          tr.instance.created_at))[-1]


@_run
def cmd_chart(args: argparse.Namespace, t: Translator) -> int:
    """A PNG timeline of one instance: each step's working time against its mutu baku."""
    from bot.reports.charts import draw_timeline

    _check_year(args.year, t)
    flows = _flows(args, t)
    flow = _one_flow(flows, args.flow, args.unit, t)
    trail = _pick(_trails([flow], args.year, flow.unit.id, t), args.official)
    if trail is None:
        _say(t.gettext("{alias} {year} has not been started in {unit}.").format(
            alias=flow.alias, year=args.year, unit=flow.unit.name))
        return 1
    lt = _lang(args, t)
    _write(lt, draw_timeline, args.out, trail, _now(args, t), lt)
    _say(t.gettext("Wrote {file}.").format(file=args.out))
    return 0


@_run
def cmd_flows_draw(args: argparse.Namespace, t: Translator) -> int:
    """The SOP as a swimlane flowchart (PNG), with the running step highlighted for a year."""
    from bot.reports.charts import draw_swimlane

    flows = _flows(args, t)
    flow = _one_flow(flows, args.flow, args.unit, t)
    active: list[int] = []
    if args.year is not None:
        _check_year(args.year, t)
        trail = _pick(_trails([flow], args.year, flow.unit.id, t), None)
        if trail is None:
            _say(t.gettext("{alias} {year} has not been started in {unit}; drawing the SOP "
                           "alone.").format(alias=flow.alias, year=args.year,
                                            unit=flow.unit.name))
        else:
            active = [s.no for s in trail.instance.active_steps()]
    lt = _lang(args, t)
    _write(lt, draw_swimlane, args.out, flow, lt, active)
    _say(t.gettext("Wrote {file}.").format(file=args.out))
    return 0


# --- registration ---------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, t: Translator, *, unit: bool = True) -> None:
    _ = t.gettext
    if unit:
        p.add_argument("--unit", help=_("unit id (see: sopbot flows list)"))
    p.add_argument("--lang", choices=("id", "en"),
                   help=_("language of the file (default: $SOPBOT_LANGUAGE, else id)"))
    p.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))


def register(sub: Any, t: Translator) -> None:
    """Add ``export``, ``monev``, ``rekap`` and ``chart`` to the ``sopbot`` subcommands."""
    _ = t.gettext
    exp = sub.add_parser("export", help=_("the dispositions of a year as Excel (or JSON)"))
    exp.add_argument("--year", type=int, required=True, help=_("the year of the instances"))
    exp.add_argument("--flow", help=_("flow id or alias (e.g. PK)"))
    exp.add_argument("--out", metavar="FILE.xlsx", help=_("the Excel file to write"))
    exp.add_argument("--json", action="store_true",
                     help=_("print the disposition rows as a JSON array"))
    _common(exp, t)
    exp.set_defaults(func=cmd_export)

    mon = sub.add_parser("monev", help=_("the SOP monitoring form (PermenPAN-RB 35/2012) "
                                         "filled from the trail"))
    mon.add_argument("--flow", required=True, help=_("flow id or alias (e.g. PK)"))
    mon.add_argument("--year", type=int, required=True, help=_("the year of the instances"))
    mon.add_argument("--semester", type=int, choices=(1, 2), help=_("only this semester"))
    mon.add_argument("--out", metavar="FILE.xlsx", required=True,
                     help=_("the Excel file to write"))
    _common(mon, t)
    mon.set_defaults(func=cmd_monev)

    rek = sub.add_parser("rekap", help=_("every unit's state of one SOP in a year, worst "
                                         "first"))
    rek.add_argument("--flow", help=_("flow id or alias (e.g. PK)"))
    rek.add_argument("--year", type=int, help=_("the year of the instances"))
    rek.add_argument("--json", action="store_true", help=_("machine-readable output"))
    rek.add_argument("--now", help=_("as of this moment (ISO, with offset; default: now)"))
    rek.add_argument("--dir", default=flows_dir_default(), help=_("directory of flow files"))
    rek.set_defaults(func=cmd_rekap)
    rek_sub = rek.add_subparsers(dest="rekap_command", metavar="ACTION")
    merge = rek_sub.add_parser("merge", help=_("one recap workbook from several deployments' "
                                               "export --json files"))
    merge.add_argument("files", nargs="+", metavar="FILE.json",
                       help=_("outputs of sopbot export --json"))
    merge.add_argument("--out", metavar="FILE.xlsx", required=True,
                       help=_("the Excel file to write"))
    merge.add_argument("--lang", choices=("id", "en"),
                       help=_("language of the file (default: $SOPBOT_LANGUAGE, else id)"))
    merge.set_defaults(func=cmd_rekap_merge)

    chart = sub.add_parser("chart", help=_("a PNG timeline of one instance"))
    chart.add_argument("--flow", required=True, help=_("flow id or alias (e.g. PK)"))
    chart.add_argument("--year", type=int, required=True, help=_("the year of the instance"))
    chart.add_argument("--official", help=_("per-official procedures: the official's member "
                                            "id or name"))
    chart.add_argument("--out", metavar="FILE.png", required=True,
                       help=_("the PNG file to write"))
    chart.add_argument("--now", help=_("as of this moment (ISO, with offset; default: now)"))
    _common(chart, t)
    chart.set_defaults(func=cmd_chart)


def register_flows(flows_sub: Any, t: Translator) -> None:
    """Add ``draw`` to the ``sopbot flows`` actions."""
    _ = t.gettext
    draw = flows_sub.add_parser("draw", help=_("draw a flow as a swimlane flowchart (PNG)"))
    draw.add_argument("flow", metavar="FLOW", help=_("flow id or alias (e.g. PK)"))
    draw.add_argument("--year", type=int, help=_("highlight the active step of that year's "
                                                 "instance"))
    draw.add_argument("--out", metavar="FILE.png", required=True,
                      help=_("the PNG file to write"))
    _common(draw, t)
    draw.set_defaults(func=cmd_flows_draw)
