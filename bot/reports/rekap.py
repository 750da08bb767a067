"""The rekap across units: where every unit stands with one SOP in a year, worst first.

Also the province-wide recap, built from several deployments' ``sopbot export --json``
outputs (one bot per Pemda, shared-nothing: the rows are all they share).

Pure: no clock (``now`` is a parameter), no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.engine.instance import Instance, Status
from bot.engine.model import Flow, Trigger
from bot.formatting import format_short
from bot.i18n import Translator
from bot.reports.trail import Trail
from bot.reports.worktime import working_days_late

__all__ = [
    "EXPORT_FIELDS",
    "ExportFormatError",
    "MergedUnit",
    "UnitRekap",
    "merge_exports",
    "rekap",
    "rekap_to_json",
    "select_flows",
]

#: What is at risk, worst first (the order of the rekap after working days late).
RISKS = ("late", "due_soon", "not_started", "cancelled", None, "done")

#: The fields of one ``sopbot export --json`` row (a contract).
EXPORT_FIELDS = ("unit", "flow", "year", "step", "title", "role", "official", "acting_for",
                 "action", "note", "started", "decided", "mutu_baku_minutes",
                 "actual_working_minutes", "late")


def select_flows(flows: Iterable[Flow], key: str) -> list[Flow]:
    """The flows ``key`` names: an id, or an alias shared by several units (``PK``)."""
    flows = list(flows)
    by_id = [f for f in flows if f.id == key]
    return by_id or [f for f in flows if f.alias.casefold() == key.strip().casefold()]


@dataclass(frozen=True)
class UnitRekap:
    """One unit's line of the rekap.

    ``state``: not_started, active, completed or cancelled. ``at_risk``: late, due_soon
    (the active step is due within a working day), not_started, cancelled, done or None
    (running on time). For a per-official procedure, ``done``/``in_progress``/``late``
    count the officials' instances and ``holders`` names the late officials.
    """

    unit: str
    unit_name: str
    flow: str
    alias: str
    year: int
    state: str
    at_risk: str | None
    working_days_late: int
    step: int | None = None
    step_title: str | None = None
    position: int | None = None
    total_steps: int = 0
    holders: tuple[str, ...] = ()
    since: datetime | None = None
    deadline: datetime | None = None
    per_official: bool = False
    done: int = 0
    in_progress: int = 0
    late: int = 0


def _main_instance(trails: Sequence[Trail]) -> Trail | None:
    if not trails:
        return None
    # As `status` does: the newest instance that was not cancelled, else the newest one.
    return sorted(trails, key=lambda t: (t.instance.status is not Status.CANCELLED,
                                         t.instance.created_at))[-1]


def _holder_names(trail: Trail, step_no: int) -> tuple[str, ...]:
    flow, inst = trail.flow, trail.instance
    actor = flow.step(step_no).actor
    bound = inst.bindings.get(actor)
    active = inst.active(step_no)
    if bound:
        members: Sequence[str] = [bound]
    elif active is not None and not active.anyone:
        members = active.pending
    else:
        members = trail.holders.get(actor, ())
    return tuple(trail.name(m) for m in members)


def _risk(flow: Flow, inst: Instance, now: datetime) -> tuple[str | None, int]:
    calendar = flow.unit.calendar()
    if inst.status is Status.COMPLETED:
        return "done", 0
    if inst.status is Status.CANCELLED:
        return "cancelled", 0
    late_days = [working_days_late(calendar, s.deadline, now) for s in inst.active_steps()]
    if any(s.deadline is not None and now > s.deadline for s in inst.active_steps()):
        return "late", max(late_days)
    soon = [s for s in inst.active_steps() if s.deadline is not None
            and calendar.working_days_between(now, s.deadline) <= 1]
    return ("due_soon" if soon else None), 0


def _single(flow: Flow, year: int, trail: Trail | None, now: datetime) -> UnitRekap:
    base: dict[str, Any] = dict(unit=flow.unit.id, unit_name=flow.unit.name, flow=flow.id,
                                alias=flow.alias, year=year, total_steps=len(flow.sequence))
    if trail is None:
        return UnitRekap(**base, state="not_started", at_risk="not_started",
                         working_days_late=0)
    inst = trail.instance
    risk, late_days = _risk(flow, inst, now)
    active = inst.current or (inst.side[0] if inst.side else None)
    if active is None:
        return UnitRekap(**base, state=inst.status.value, at_risk=risk,
                         working_days_late=late_days, since=inst.finished_at)
    step = flow.step(active.no)
    return UnitRekap(
        **base, state=inst.status.value, at_risk=risk, working_days_late=late_days,
        step=step.no, step_title=step.title,
        position=flow.position(step.no) if step.trigger is Trigger.SEQUENCE else None,
        holders=_holder_names(trail, step.no), since=active.started_at,
        deadline=active.deadline)


def _per_official(flow: Flow, year: int, trails: Sequence[Trail], now: datetime) -> UnitRekap:
    live = [t for t in trails if t.instance.status is not Status.CANCELLED]
    done = sum(t.instance.status is Status.COMPLETED for t in live)
    running = [t for t in live if t.instance.status is Status.ACTIVE]
    risks = [(t, *_risk(flow, t.instance, now)) for t in running]
    late = [(t, days) for t, risk, days in risks if risk == "late"]
    state, at_risk = ("not_started", "not_started") if not live else (
        ("active", "late" if late else None) if running else ("completed", "done"))
    return UnitRekap(
        unit=flow.unit.id, unit_name=flow.unit.name, flow=flow.id, alias=flow.alias,
        year=year, state=state, at_risk=at_risk,
        working_days_late=max((days for _t, days in late), default=0),
        total_steps=len(flow.sequence),
        holders=tuple(t.name(t.instance.subject or "") for t, _d in late),
        per_official=True, done=done, in_progress=len(running), late=len(late))


def rekap(flows: Iterable[Flow], year: int, trails: Iterable[Trail],
          now: datetime) -> list[UnitRekap]:
    """Every unit of ``flows`` for ``year``, worst first: most working days late, then what
    is at risk (late, due soon, not started, cancelled, on time, done), then the unit name."""
    trails = list(trails)
    lines = []
    for flow in flows:
        mine = [t for t in trails if t.flow.id == flow.id and t.instance.year == year]
        if flow.is_per_official:
            lines.append(_per_official(flow, year, mine, now))
        else:
            lines.append(_single(flow, year, _main_instance(mine), now))
    return sorted(lines, key=lambda r: (-r.working_days_late, RISKS.index(r.at_risk),
                                        -r.late, r.unit_name))


def rekap_to_json(line: UnitRekap) -> dict[str, Any]:
    """The ``sopbot rekap --json`` form of one unit's line."""
    return {
        "unit": line.unit, "unit_name": line.unit_name, "flow": line.flow,
        "alias": line.alias, "year": line.year, "state": line.state,
        "at_risk": line.at_risk, "working_days_late": line.working_days_late,
        "step": line.step, "step_title": line.step_title, "position": line.position,
        "total_steps": line.total_steps, "holders": list(line.holders),
        "since": line.since.isoformat() if line.since else None,
        "deadline": line.deadline.isoformat() if line.deadline else None,
        "per_official": line.per_official, "done": line.done,
        "in_progress": line.in_progress, "late": line.late,
    }


# --- the province-wide recap ------------------------------------------------------------


@dataclass(frozen=True)
class MergedUnit:
    """One unit's flow and year, summed from its deployment's exported rows."""

    source: str  # which export file (one per Pemda)
    unit: str
    flow: str
    year: int
    decisions: int
    revisions: int
    late_steps: int
    late_minutes: int  # working minutes beyond mutu baku, summed over late decisions
    first_started: datetime | None
    last_decided: datetime | None
    last_step: int | None
    last_title: str | None
    last_action: str | None


class ExportFormatError(ValueError):
    """A file that is not a ``sopbot export --json`` output."""


def _check_row(row: object, source: str, n: int) -> dict[str, Any]:
    if not isinstance(row, Mapping) or any(k not in row for k in EXPORT_FIELDS):
        raise ExportFormatError(f"{source}: row {n} is not a sopbot export row")
    return dict(row)


def _when(text: object, source: str) -> datetime:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise ExportFormatError(f"{source}: {text!r} is not an ISO date and time") from exc


def merge_exports(exports: Iterable[tuple[str, Sequence[object]]]) -> list[MergedUnit]:
    """The recap of several exports (``(source name, rows)`` each), worst first.

    Raises :class:`ExportFormatError` naming the file and row that is not an export row.
    """
    groups: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
    for source, rows in exports:
        for n, raw in enumerate(rows, start=1):
            row = _check_row(raw, source, n)
            groups.setdefault((source, row["unit"], row["flow"], int(row["year"])),
                              []).append(row)
    merged = []
    for (source, unit, flow, year), group in groups.items():
        ordered = sorted(group, key=lambda r: _when(r["decided"], source))
        decided = [r for r in ordered if r["actual_working_minutes"] is not None]
        late = [r for r in decided if r["late"]]
        starts = [_when(r["started"], source) for r in ordered if r["started"]]
        last = decided[-1] if decided else None
        merged.append(MergedUnit(
            source=source, unit=unit, flow=flow, year=year, decisions=len(decided),
            revisions=sum(r["action"] == "revise" for r in ordered), late_steps=len(late),
            late_minutes=sum(max(0, r["actual_working_minutes"] - (r["mutu_baku_minutes"] or 0))
                             for r in late),
            first_started=min(starts) if starts else None,
            last_decided=_when(last["decided"], source) if last else None,
            last_step=last["step"] if last else None,
            last_title=last["title"] if last else None,
            last_action=last["action"] if last else None))
    return sorted(merged, key=lambda m: (-m.late_steps, -m.late_minutes, m.unit, m.flow))


def rekap_line_text(line: UnitRekap, tz: str, t: Translator) -> str:
    """Where one unit stands, in words (the CLI's ``sopbot rekap`` and the chat's rekap)."""
    if line.per_official:
        text = t.gettext("done {done}, in progress {running}, late {late}").format(
            done=line.done, running=line.in_progress, late=line.late)
        if line.holders:
            text += " (" + ", ".join(line.holders) + ")"
    elif line.state == "active" and line.step is not None:
        where = t.gettext("step {position} of {total}").format(
            position=line.position or line.step, total=line.total_steps)
        text = f"{where}: {line.step_title} — {', '.join(line.holders) or '-'}"
        if line.deadline is not None:
            text += " · " + t.gettext("due {when}").format(
                when=format_short(line.deadline, tz, t))
    else:
        text = {"not_started": t.gettext("not started"), "completed": t.gettext("completed"),
                "cancelled": t.gettext("cancelled")}.get(line.state, line.state)
    if line.working_days_late:
        text += " · " + t.ngettext("late by {n} working day", "late by {n} working days",
                                   line.working_days_late).format(n=line.working_days_late)
    elif line.at_risk == "due_soon":
        text += " · " + t.gettext("due within a working day")
    return text
