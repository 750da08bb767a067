"""The SOP monev (PermenPAN-RB 35/2012): did each step run as the SOP writes it?

For every step of the SOP, over the instances of a year (or a semester): was it done by the
right role, within its mutu baku, in the SOP's order; with notes drawn from the facts. The
action to take is the evaluator's, so it is left blank.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.engine.instance import Action
from bot.engine.model import Flow
from bot.i18n import Translator
from bot.reports.trail import StepRun, Trail, step_runs
from bot.reports.worktime import mutu_baku_minutes, working_minutes

__all__ = ["Monev", "MonevLine", "format_minutes", "monev", "monev_notes", "verdict_label"]


@dataclass(frozen=True)
class MonevLine:
    """One step of the monitoring form.

    ``as_written`` is None when the step did not run in the period; otherwise True exactly
    when every run was by the right role, within mutu baku and in the SOP's order.
    """

    step_no: int
    title: str
    role_title: str
    waktu: str
    runs: int
    right_role: bool | None
    within_baku: bool | None
    in_order: bool | None
    reworked: int  # times the work was sent back to this step
    sent_back: int  # revisions decided on this step (◇)
    late: int
    wrong_role: int
    out_of_order: int
    delegated: int
    median_minutes: float | None
    mutu_baku_minutes: int | None

    @property
    def as_written(self) -> bool | None:
        """Whether the step ran as the SOP writes it (None: it did not run)."""
        if not self.runs:
            return None
        return bool(self.right_role and self.within_baku and self.in_order)


@dataclass(frozen=True)
class Monev:
    """The monitoring form of one SOP for one period."""

    flow: Flow
    year: int
    semester: int | None
    period_start: date
    period_end: date
    instances: int
    lines: tuple[MonevLine, ...]


def _period(year: int, semester: int | None) -> tuple[date, date]:
    if semester == 1:
        return date(year, 1, 1), date(year, 6, 30)
    if semester == 2:
        return date(year, 7, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


def _line(flow: Flow, step_no: int, runs: list[StepRun], trail_runs: list[StepRun]) -> MonevLine:
    step = flow.step(step_no)
    calendar = flow.unit.calendar()
    decided = [r for r in runs if r.decisions]
    actual, baku, late, wrong, delegated = [], [], 0, 0, 0
    for run in decided:
        for d in run.decisions:
            actual.append(working_minutes(calendar, run.started, d.at))
            wrong += d.role != step.actor
            delegated += bool(d.acting_for)
        if run.deadline is not None and any(d.at > run.deadline for d in run.decisions):
            late += 1
        minutes = mutu_baku_minutes(calendar, step.waktu, run.started)
        if minutes is not None:
            baku.append(minutes)
    out_of_order = sum(r.activated_by is None for r in decided)
    sent_back = sum(d.action is Action.REVISE for r in decided for d in r.decisions)
    reworked = sum(1 for r in trail_runs if r.activated_by is Action.REVISE
                   and r.step_no == step_no)
    ran = bool(decided)
    return MonevLine(
        step_no=step.no, title=step.title, role_title=flow.role(step.actor).title,
        waktu=str(step.waktu), runs=len(decided),
        right_role=(wrong == 0) if ran else None,
        within_baku=(late == 0) if ran else None,
        in_order=(out_of_order == 0) if ran else None,
        reworked=reworked, sent_back=sent_back, late=late, wrong_role=wrong,
        out_of_order=out_of_order, delegated=delegated,
        median_minutes=statistics.median(actual) if actual else None,
        mutu_baku_minutes=int(statistics.median(baku)) if baku else None)


def monev(flow: Flow, year: int, trails: Iterable[Trail], semester: int | None = None) -> Monev:
    """Fill the monitoring form of ``flow`` from the trails of ``year`` (or one semester).

    A run belongs to the period in which it started (in the unit's time zone).
    """
    if semester not in (None, 1, 2):
        raise ValueError(f"semester must be 1 or 2, not {semester!r}")
    start, end = _period(year, semester)
    tz = flow.unit.calendar().tz
    runs: list[StepRun] = []
    instances = 0
    for trail in trails:
        if trail.flow.id != flow.id or trail.instance.year != year:
            continue
        mine = [r for r in step_runs(trail) if start <= r.started.astimezone(tz).date() <= end]
        instances += bool(mine)
        runs.extend(mine)
    lines = tuple(_line(flow, s.no, [r for r in runs if r.step_no == s.no], runs)
                  for s in sorted(flow.steps, key=lambda s: s.no))
    return Monev(flow, year, semester, start, end, instances, lines)


def format_minutes(minutes: float | None, t: Translator) -> str:
    """Working time for people: "45 menit", "3 jam 10 menit" (hours of office time)."""
    if minutes is None:
        return "-"
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    if hours and rest:
        return t.gettext("{h} h {m} min").format(h=hours, m=rest)
    if hours:
        return t.gettext("{h} h").format(h=hours)
    return t.gettext("{m} min").format(m=rest)


def verdict_label(line: MonevLine, t: Translator) -> str:
    """The assessment column: ran as written, did not, or did not run."""
    if line.as_written is None:
        return t.gettext("Not run in this period")
    if line.as_written:
        return t.gettext("Ran as written")
    return t.gettext("Did not run as written")


def monev_notes(line: MonevLine, t: Translator) -> str:
    """Notes drawn from the facts: revisions, lateness, time against mutu baku, delegation."""
    if not line.runs:
        return ""
    notes = []
    if line.reworked:
        notes.append(t.ngettext("revised {n} time", "revised {n} times",
                                line.reworked).format(n=line.reworked))
    if line.sent_back:
        notes.append(t.ngettext("sent back for revision {n} time",
                                "sent back for revision {n} times",
                                line.sent_back).format(n=line.sent_back))
    if line.late:
        notes.append(t.ngettext("late {n} time", "late {n} times", line.late).format(n=line.late))
    if line.wrong_role:
        notes.append(t.ngettext("{n} decision by another role", "{n} decisions by another role",
                                line.wrong_role).format(n=line.wrong_role))
    if line.out_of_order:
        notes.append(t.ngettext("out of order {n} time", "out of order {n} times",
                                line.out_of_order).format(n=line.out_of_order))
    if line.delegated:
        notes.append(t.ngettext("delegated (Plt/Plh) {n} time", "delegated (Plt/Plh) {n} times",
                                line.delegated).format(n=line.delegated))
    if line.mutu_baku_minutes is not None:
        notes.append(t.gettext("median {actual} against a standard of {baku}").format(
            actual=format_minutes(line.median_minutes, t),
            baku=format_minutes(line.mutu_baku_minutes, t)))
    else:
        notes.append(t.gettext("median {actual}, no standard time").format(
            actual=format_minutes(line.median_minutes, t)))
    return "; ".join(notes)
