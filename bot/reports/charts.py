"""Pictures officials read on a phone: an instance's timeline and the SOP as a swimlane chart.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
state), so it runs in the bot's threads and on a server without a screen.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from matplotlib import dates as mdates
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch, Polygon, Rectangle

from bot.engine.instance import Action
from bot.engine.model import Flow, Step, Trigger
from bot.i18n import Translator
from bot.reports.monev import format_minutes
from bot.reports.trail import StepRun, Trail, step_runs
from bot.reports.worktime import mutu_baku_minutes, working_days_late, working_minutes

__all__ = ["draw_swimlane", "draw_timeline"]

DPI = 150
Target = str | Path | BinaryIO
_GREEN, _RED, _BLUE, _GREY = "#2e7d32", "#c62828", "#1565c0", "#9e9e9e"
_ACTIVE = "#ffd54f"


def _short(text: str, width: int) -> str:
    return textwrap.shorten(text, width=width, placeholder="…")


def _role_title(flow: Flow, role_id: str, t: Translator) -> str:
    role = flow.role(role_id)
    return role.title_en if t.language == "en" and role.title_en else role.title


def _step_title(step: Step, t: Translator) -> str:
    return step.title_en if t.language == "en" and step.title_en else step.title


# --- the timeline of one instance --------------------------------------------------------


def _rows(flow: Flow, runs: Sequence[StepRun]) -> list[Step]:
    """Every sequence step, then the event steps that ran."""
    ran = {r.step_no for r in runs}
    return list(flow.sequence) + [s for s in flow.steps
                                  if s.trigger is Trigger.EVENT and s.no in ran]


def _end_of(run: StepRun, now: datetime) -> tuple[datetime, bool]:
    """Where a run's bar ends, and whether it is still waiting."""
    if run.decisions:
        return max(d.at for d in run.decisions), False
    return now, True


def _bar(ax, y: float, start: datetime, end: datetime, deadline: datetime | None,
         waiting: bool, min_days: float) -> None:
    x0 = mdates.date2num(start)
    x1 = max(mdates.date2num(end), x0 + min_days)
    split = mdates.date2num(deadline) if deadline is not None else None
    hatch = "//" if waiting else None
    colour = _BLUE if waiting else _GREEN
    late = deadline is not None and end > deadline
    style = {"height": 0.55, "hatch": hatch, "edgecolor": "white", "linewidth": 1.0}
    if split is None or not late or x1 - x0 < 3 * min_days:
        # Too short to split on this scale: one colour says it all (and no white edge).
        ax.barh(y, x1 - x0, left=x0, color=_RED if late else colour,
                **{**style, "linewidth": 0 if x1 - x0 < 3 * min_days else 1.0})
    else:
        if split > x0:
            ax.barh(y, split - x0, left=x0, color=colour, **style)
        ax.barh(y, x1 - max(split, x0), left=max(split, x0), color=_RED, **style)
    if split is not None and split - x0 >= 3 * min_days:
        ax.plot([split, split], [y - 0.38, y + 0.38], color="black", linewidth=1.6)


def _row_label(step: Step, runs: Sequence[StepRun], t: Translator) -> str:
    reworked = sum(1 for r in runs if r.step_no == step.no) - 1
    mark = f" ↺{reworked}" if reworked > 0 else ""
    return f"{step.no}. {_short(_step_title(step, t), 31)}{mark}"


def _shade_closed(ax, flow: Flow, first: datetime, last: datetime) -> None:
    """Shade the time the office is closed: days off, and nights too on a short timeline."""
    calendar = flow.unit.calendar()
    tz = calendar.tz
    nights = last - first < timedelta(days=8)
    day = first.astimezone(tz).date()
    while day <= last.astimezone(tz).date():
        start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        hours = calendar.hours_on(day)
        if hours is None:
            spans = [(start, start + timedelta(days=1))]
        elif nights:
            spans = [(start, datetime.combine(day, hours[0], tzinfo=tz)),
                     (datetime.combine(day, hours[1], tzinfo=tz), start + timedelta(days=1))]
        else:
            spans = []
        for a, b in spans:
            ax.axvspan(mdates.date2num(a), mdates.date2num(b), color="#eeeeee", zorder=0,
                       linewidth=0)
        day += timedelta(days=1)


def _row_note(flow: Flow, step: Step, runs: list[StepRun], now: datetime,
              t: Translator) -> tuple[str, str]:
    calendar = flow.unit.calendar()
    actual = sum(working_minutes(calendar, r.started, _end_of(r, now)[0]) for r in runs)
    baku = mutu_baku_minutes(calendar, step.waktu, runs[0].started) if runs else None
    late = any(r.deadline is not None and _end_of(r, now)[0] > r.deadline for r in runs)
    if not runs:
        return "", "black"
    if baku is None:
        text = t.gettext("{actual}, no standard time").format(actual=format_minutes(actual, t))
    else:
        standard = format_minutes(baku, t)
        if len(runs) > 1:  # each run has its own standard time
            standard = f"{len(runs)} × {standard}"
        text = f"{format_minutes(actual, t)} / {standard}"
    return text, (_RED if late else "black")


def _span(runs: Sequence[StepRun], inst_active: bool, created: datetime,
          now: datetime) -> tuple[datetime, datetime]:
    """The stretch of time the timeline shows."""
    first = min((r.started for r in runs), default=created)
    ends = [_end_of(r, now)[0] for r in runs if r.decisions]
    last = max([now, *ends]) if inst_active else max(ends, default=now)
    # Show the deadlines of finished steps too, unless one lies far beyond the rest.
    reach = last + (last - first) / 2
    return first, max([last, *(r.deadline for r in runs if r.decisions and r.deadline
                               and r.deadline <= reach)])


def _revision_arrows(ax, flow: Flow, run: StepRun, ypos: dict[int, int]) -> None:
    for d in run.decisions:
        back = flow.step(d.step_no).on_revise
        if d.action is Action.REVISE and back in ypos:
            x = mdates.date2num(d.at)
            ax.annotate("", xy=(x, ypos[back]), xytext=(x, ypos[d.step_no]), zorder=5,
                        arrowprops={"arrowstyle": "-|>", "color": _RED, "lw": 1.6,
                                    "shrinkA": 0, "shrinkB": 4,
                                    "connectionstyle": "arc3,rad=0.5"})


def _time_axis(ax, flow: Flow, first: datetime, last: datetime, span: float) -> None:
    ax.set_xlim(mdates.date2num(first) - span * 0.02, mdates.date2num(last) + span * 0.03)
    tz = flow.unit.calendar().tz
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=tz, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m\n%H:%M", tz=tz))
    ax.tick_params(axis="x", labelsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)


def draw_timeline(target: Target, trail: Trail, now: datetime, t: Translator) -> Target:
    """One instance as a timeline: a bar per step from its start to its decision (green
    within mutu baku, red beyond the deadline tick, hatched while waiting), revisions as red
    arrows back, closed office time shaded, today as a dashed line; working time against
    mutu baku on the right. ``target`` is a file name or a binary file object (e.g.
    ``io.BytesIO`` for a chat reply); the PNG is written there and ``target`` returned."""
    flow, inst = trail.flow, trail.instance
    runs = step_runs(trail)
    rows = _rows(flow, runs)
    ypos = {s.no: i for i, s in enumerate(rows)}
    height = 2.2 + 0.48 * len(rows)
    fig = Figure(figsize=(11, height), dpi=DPI)
    ax = fig.add_axes((0.31, 0.9 / height + 0.02, 0.46, 1 - 2.0 / height))
    first, last = _span(runs, bool(inst.active_steps()), inst.created_at, now)
    span = max(mdates.date2num(last) - mdates.date2num(first), 1 / 24)
    _shade_closed(ax, flow, first, last)
    for run in runs:
        end, waiting = _end_of(run, now)
        waiting = waiting and inst.active(run.step_no) is not None
        _bar(ax, ypos[run.step_no], run.started, end, run.deadline, waiting, span * 0.006)
        _revision_arrows(ax, flow, run, ypos)
    if inst.active_steps():
        ax.axvline(mdates.date2num(now), color=_BLUE, linestyle="--", linewidth=1.4)
        ax.text(mdates.date2num(now), -0.75, t.gettext("today") + " ", color=_BLUE,
                fontsize=10, ha="right", va="center",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    ax.set_ylim(len(rows) - 0.5, -1.0)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_row_label(s, runs, t) for s in rows], fontsize=10)
    _time_axis(ax, flow, first, last, span)
    for step in rows:
        text, colour = _row_note(flow, step, [r for r in runs if r.step_no == step.no], now, t)
        ax.text(1.02, ypos[step.no], text, transform=ax.get_yaxis_transform(), fontsize=10,
                va="center", color=colour)
    fig.text(0.01, 1 - 0.35 / height, _timeline_title(trail), fontsize=13,
             weight="bold", va="top")
    fig.text(0.01, 1 - 0.75 / height, _timeline_subtitle(trail, now, t), fontsize=10,
             va="top", color="#444444")
    fig.legend(handles=[Patch(color=_GREEN, label=t.gettext("within mutu baku")),
                        Patch(color=_RED, label=t.gettext("beyond the deadline")),
                        Patch(facecolor=_BLUE, hatch="//", label=t.gettext("waiting")),
                        Patch(color="#eeeeee", label=t.gettext("office closed"))],
               loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.savefig(target, format="png")
    return target


def _timeline_title(trail: Trail) -> str:
    flow, inst = trail.flow, trail.instance
    name = trail.name(inst.subject) if inst.subject else flow.unit.name
    return f"{flow.alias} {inst.year} — {_short(name, 60)}"


def _timeline_subtitle(trail: Trail, now: datetime, t: Translator) -> str:
    flow, inst = trail.flow, trail.instance
    calendar = flow.unit.calendar()
    if inst.current is None:
        state = {"completed": t.gettext("completed"), "cancelled": t.gettext("cancelled")}.get(
            inst.status.value, inst.status.value)
    else:
        state = t.gettext("step {position} of {total}").format(
            position=flow.position(inst.current.no), total=len(flow.sequence))
        late = working_days_late(calendar, inst.current.deadline, now)
        if inst.current.deadline is not None and now > inst.current.deadline:
            state += ", " + t.ngettext("late by {n} working day", "late by {n} working days",
                                       late).format(n=late)
    local = now.astimezone(calendar.tz)
    return t.gettext("{state} · as of {when} {zone} · working time against mutu baku").format(
        state=state, when=local.strftime("%d/%m/%Y %H:%M"), zone=calendar.zone_abbreviation)


# --- the SOP as a swimlane flowchart ---------------------------------------------------------

_NO_W, _TEXT_W, _LANE_W, _WAKTU_W = 0.6, 4.2, 1.5, 1.1
_SHAPE_W, _SHAPE_H = 0.95, 0.5


def _lanes(flow: Flow) -> list[str]:
    acting = {s.actor for s in flow.steps}
    return [r.id for r in flow.roles if r.id in acting]


def _layout(flow: Flow, t: Translator) -> tuple[list[Step], dict[int, tuple[float, float]],
                                                   list[list[str]]]:
    steps = list(flow.sequence) + [s for s in flow.steps if s.trigger is Trigger.EVENT]
    wrapped = [textwrap.wrap(_step_title(s, t), 42) or [""] for s in steps]
    rows: dict[int, tuple[float, float]] = {}
    y = 0.0
    for step, lines in zip(steps, wrapped, strict=True):
        h = max(0.95, 0.24 * len(lines) + 0.25)
        rows[step.no] = (y, h)
        y += h
    return steps, rows, wrapped


def _shape(ax, step: Step, x: float, y: float, terminal: bool, active: bool) -> None:
    face = _ACTIVE if active else "white"
    edge = "black"
    width = 2.6 if active else 1.2
    style = "--" if step.trigger is Trigger.EVENT else "-"
    if step.is_decision:
        pts = [(x, y - _SHAPE_H * 0.62), (x + _SHAPE_W * 0.5, y), (x, y + _SHAPE_H * 0.62),
               (x - _SHAPE_W * 0.5, y)]
        ax.add_patch(Polygon(pts, closed=True, facecolor=face, edgecolor=edge, lw=width,
                             linestyle=style, zorder=3))
    else:
        pad = 0.24 if terminal else 0.04
        ax.add_patch(FancyBboxPatch((x - _SHAPE_W / 2 + pad, y - _SHAPE_H / 2 + pad),
                                    _SHAPE_W - 2 * pad, _SHAPE_H - 2 * pad,
                                    boxstyle=f"round,pad={pad}", facecolor=face,
                                    edgecolor=edge, lw=width, linestyle=style, zorder=3))
    ax.text(x, y, str(step.no), ha="center", va="center", fontsize=11, weight="bold",
            zorder=4)


def _arrow(ax, points: list[tuple[float, float]], colour: str = "black",
           style: str = "-") -> None:
    xs, ys = zip(*points[:-1], strict=True)
    if len(points) > 2:
        ax.plot(xs, ys, color=colour, linestyle=style, linewidth=1.3, zorder=2)
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.3,
                            "linestyle": style, "shrinkA": 0, "shrinkB": 0}, zorder=2)


def draw_swimlane(target: Target, flow: Flow, t: Translator,
                  active: Iterable[int] = ()) -> Target:
    """The SOP as on paper: uraian on the left, one lane per pelaksana, ▭ tasks, ◇
    decisions (Ya down, Tidak back as red dashed arrows), capsules where it starts and ends,
    event steps dashed; the steps in ``active`` highlighted. ``target``: a file name or a
    binary file object; returned."""
    active = set(active)
    lanes = _lanes(flow)
    steps, rows, wrapped = _layout(flow, t)
    lane_x = {r: _NO_W + _TEXT_W + (i + 0.5) * _LANE_W for i, r in enumerate(lanes)}
    width = _NO_W + _TEXT_W + _LANE_W * len(lanes) + _WAKTU_W
    titles = [_wrap_title(_role_title(flow, r, t)) for r in lanes]
    head = 0.3 + 0.24 * max(len(w) for w in titles)
    total_h = head + sum(h for _y, h in rows.values())
    scale = 11.5 / width
    fig = Figure(figsize=(11.5, (total_h + 1.7) * scale), dpi=DPI)
    ax = fig.add_axes((0, 0.9 / (total_h + 1.7), 1, total_h / (total_h + 1.7)))
    ax.set_xlim(0, width)
    ax.set_ylim(total_h, 0)
    ax.axis("off")

    def cy(no: int) -> float:
        y, h = rows[no]
        return head + y + h / 2

    _grid(ax, flow, lanes, titles, head, total_h, width, t)
    ends = {s.no for s in steps if s.trigger is Trigger.SEQUENCE and flow.successor(s.no) is None}
    for step, lines in zip(steps, wrapped, strict=True):
        y, h = rows[step.no]
        if step.no in active:
            ax.add_patch(Rectangle((0, head + y), width, h, color="#fff8e1", zorder=0))
        ax.text(_NO_W / 2, cy(step.no), str(step.no), ha="center", va="center", fontsize=11)
        ax.text(_NO_W + 0.08, cy(step.no), "\n".join(lines), va="center", fontsize=10,
                linespacing=1.25)
        ax.text(width - _WAKTU_W / 2, cy(step.no), str(step.waktu), ha="center",
                va="center", fontsize=10)
        _shape(ax, step, lane_x[step.actor], cy(step.no),
               step.no == flow.first_step.no or step.no in ends, step.no in active)
    _connect(ax, flow, steps, lane_x, cy, t)
    _legend(fig, t, bool(active), any(s.trigger is Trigger.EVENT for s in steps))
    fig.text(0.01, 1 - 0.12 / (total_h + 1.7), _short(f"{flow.name} — {flow.unit.name}", 90),
             fontsize=13, weight="bold", va="top")
    fig.savefig(target, format="png")
    return target


def _wrap_title(title: str) -> list[str]:
    # "Fungsional/Pejabat" may break after the slash, never inside a word.
    lines = textwrap.wrap(title.replace("/", "/ "), 13, break_long_words=False)
    return [line.replace("/ ", "/") for line in lines]


def _grid(ax, flow: Flow, lanes: list[str], titles: list[list[str]], head: float,
          total_h: float, width: float, t: Translator) -> None:
    edges = [0, _NO_W, _NO_W + _TEXT_W] + [
        _NO_W + _TEXT_W + _LANE_W * (i + 1) for i in range(len(lanes))] + [width]
    for x in edges:
        ax.plot([x, x], [0, total_h], color="#888888", linewidth=0.8, zorder=1)
    for y in (0, head, total_h):
        ax.plot([0, width], [y, y], color="#888888", linewidth=0.8, zorder=1)
    labels = [(_NO_W / 2, t.gettext("No")), (_NO_W + _TEXT_W / 2, t.gettext("Procedure")),
              (width - _WAKTU_W / 2, t.gettext("Time"))]
    labels += [(_NO_W + _TEXT_W + (i + 0.5) * _LANE_W, "\n".join(w))
               for i, w in enumerate(titles)]
    for x, text in labels:
        ax.text(x, head / 2, text, ha="center", va="center", fontsize=9, weight="bold",
                linespacing=1.15)


def _connect(ax, flow: Flow, steps: list[Step], lane_x: dict[str, float], cy, t) -> None:
    half = _SHAPE_H / 2
    revisions = 0
    for step in steps:
        x, y = lane_x[step.actor], cy(step.no)
        nxt = flow.successor(step.no) if step.trigger is Trigger.SEQUENCE else None
        if nxt is not None:
            nx, ny = lane_x[nxt.actor], cy(nxt.no)
            bottom = y + (half * 1.24 if step.is_decision else half)
            top = ny - (half * 1.24 if nxt.is_decision else half)
            if abs(nx - x) < 1e-6:
                _arrow(ax, [(x, bottom), (nx, top)])
            else:
                mid = (bottom + top) / 2
                _arrow(ax, [(x, bottom), (x, mid), (nx, mid), (nx, top)])
            if step.is_decision:
                ax.text(x + 0.06, bottom + 0.02, t.pgettext("answer", "Yes"), fontsize=8.5,
                        va="top", color=_GREEN)
        if step.is_decision and step.on_revise is not None:
            back = flow.step(step.on_revise)
            bx, by = lane_x[back.actor], cy(back.no)
            edge = max(x, bx) + _LANE_W / 2 - 0.1 - 0.1 * (revisions % 3)
            revisions += 1
            _arrow(ax, [(x + _SHAPE_W / 2, y), (edge, y), (edge, by),
                        (bx + _SHAPE_W / 2, by)], _RED, "--")
            # Above the diamond's right corner: the lane edge leaves no room beside it.
            ax.text(x + _SHAPE_W * 0.42, y - 0.16, t.pgettext("answer", "No"), fontsize=8.5,
                    ha="center", va="bottom", color=_RED)


def _legend(fig: Figure, t: Translator, with_active: bool, with_event: bool) -> None:
    def mark(marker: str, label: str, face: str = "white", colour: str = "black") -> Line2D:
        return Line2D([], [], marker=marker, linestyle="none", color=colour, markersize=11,
                      markerfacecolor=face, markeredgecolor="black", label=label)

    handles: list[Artist] = [mark("s", t.gettext("activity")), mark("D", t.gettext("decision")),
               Line2D([], [], color=_RED, linestyle="--", label=t.gettext("revision (No)"))]
    if with_event:
        handles.append(Patch(facecolor="white", edgecolor="black", linestyle="--",
                             label=t.gettext("step triggered by an event")))
    if with_active:
        handles.append(mark("s", t.gettext("active step"), face=_ACTIVE))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9.5,
               frameon=False)
