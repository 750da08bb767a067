"""Reminders in chat: one reminder, the digest of several, and ``/pengingat``.

What one official is owed at one moment comes as one message (issue 12: reminders without
noise): a single reminder reads as it always did; several — the ones missed while the bot was
down, or duties due the same day (Triwulan II and Semester I) — come as a digest, grouped by
flow and instance, one line per item with its own deadline, and one "Selesai" button per duty.

Import these through :mod:`bot.tg.render` (which loads this module last, as it does
render_step): this module uses render's helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine.model import Flow
from bot.formatting import format_short, format_until, format_when, period_label
from bot.i18n import N_, Translator
from bot.services.notices import CycleReminder, Reminder, decode, encode
from bot.tg import render as base
from bot.tg import render_flowops
from bot.tg.callbacks import cycle_button

#: ``/pengingat`` lists this many steps and duties, then "… and N more".
UPCOMING_LINES = 8

#: A digest lists this many reminders, the earliest deadline first, then "… and N more" and
#: where to see them all: an official owed hundreds (a per-official procedure, the bot down
#: for a few days) gets one message, not dozens of parts, and at most this many buttons
#: (Telegram refuses a keyboard of more than 100).
DIGEST_ITEMS = 10
DIGEST_MORE = N_("/tugas lists the steps waiting for you; /pengingat your next reminders.")

HOW_ONE = N_("When it is done, press the button or reply to this message with the evidence "
             "document.")
HOW_SEVERAL = N_("When a duty is done, please press its button below.")


def document(payload: Mapping[str, Any] | Reminder) -> dict[str, Any]:
    """A reminder as its stored document (a typed notice is encoded; a document passes)."""
    return dict(payload) if isinstance(payload, Mapping) else encode(payload)[1]


def _stage(flow: Flow, payload: dict[str, Any], t: Translator) -> str | None:
    reminder = decode("reminder", payload)
    if not isinstance(reminder, CycleReminder):
        return None
    return render_flowops.stage_line(flow, reminder, t)


def _flow_name(flow: Flow, t: Translator) -> str:
    return flow.name_en if t.language == "en" and flow.name_en else flow.name


def duty_label(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    """ "Pengukuran Kinerja (Triwulan II 2026)"."""
    return base.duty_name(flow, payload["cycle_id"], payload["period"], payload["index"],
                          payload["year"], t)


def reminder_text(notice: Mapping[str, Any] | Reminder, flows: dict[str, Flow],
                  t: Translator, now: datetime) -> str:
    """A reminder of a step deadline or of a recurring duty (triwulan, semester …), or the
    digest of several."""
    payload = document(notice)
    if payload["type"] == "digest":
        return digest_text(payload, flows, t, now)
    _ = t.gettext
    flow = flows[payload["flow_id"]]
    tz = flow.unit.timezone
    kind = payload["kind"]
    if payload["type"] == "step":
        step = flow.step(payload["step_no"])
        deadline = datetime.fromisoformat(payload["deadline"])
        subject = payload.get("subject")
        if subject and subject in (payload.get("late") or []):
            subject = None  # the escalation names them already: never "Bu X late … — Bu X"
        what = _("step {n} of {total} of {flow}: {title}").format(
            n=flow.position(step.no), total=len(flow.sequence),
            flow=base.flow_label(flow, payload["year"], subject, t),
            title=base.step_title(step, t))
        if kind == "before":
            return _("⏰ Reminder: {what} is due {when} ({left}).").format(
                what=what, when=format_when(deadline, tz, t),
                left=format_until(deadline, now, t))
        if kind == "due":
            return _("⏰ Due now: {what} (deadline {when}).").format(
                what=what, when=format_when(deadline, tz, t))
        if kind == "overdue":
            return _("⚠️ Late: {what} was due {when} ({late}). Reminder {n}.").format(
                what=what, when=format_when(deadline, tz, t),
                late=format_until(deadline, now, t), n=payload["n"])
        return _("⚠️ {names} late with {what}: it was due {when} ({late}).").format(
            names=", ".join(payload.get("late") or []), what=what,
            when=format_when(deadline, tz, t), late=format_until(deadline, now, t))
    due = datetime.fromisoformat(payload["due"])
    duty = duty_label(flow, payload, t)
    how = _(HOW_ONE)
    stage = _stage(flow, payload, t)  # a later stage of the duty
    if stage:
        how = stage + "\n" + how
    if kind == "before":
        return _("📅 {duty} is due {when}.").format(duty=duty, when=format_when(due, tz, t)) + \
            "\n" + how
    if kind == "due":
        return _("📅 {duty} is due today ({when}).").format(
            duty=duty, when=format_when(due, tz, t)) + "\n" + how
    if kind == "overdue":
        return _("⚠️ {duty} is late: it was due {when}. Reminder {n}.").format(
            duty=duty, when=format_when(due, tz, t), n=payload["n"]) + "\n" + how
    done = ", ".join(payload.get("done") or []) or "-"
    not_done = ", ".join(payload.get("not_done") or []) or "-"
    return "\n".join([
        _("📋 Recap of {duty} (due {when}):").format(duty=duty, when=format_when(due, tz, t)),
        _("Reported: {names}").format(names=done),
        _("Not yet: {names}").format(names=not_done),
    ])


def _deadline(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["deadline" if payload["type"] == "step" else "due"])


def _earliest(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items a digest shows: the `DIGEST_ITEMS` with the earliest deadlines, in order."""
    return sorted(items, key=_deadline)[:DIGEST_ITEMS]


def _group(payload: dict[str, Any], flow: Flow, t: Translator) -> tuple[str, str]:
    """The group an item is listed under: its instance (a step) or its flow (a duty)."""
    if payload["type"] == "step":
        return (payload["instance_id"],
                base.flow_label(flow, payload["year"], payload.get("subject"), t))
    return (f"cycle:{flow.id}", _flow_name(flow, t))


def _item_line(payload: dict[str, Any], flow: Flow, t: Translator, now: datetime) -> str:
    """One item of a digest: what, and where it stands against its own deadline."""
    _ = t.gettext
    tz = flow.unit.timezone
    kind = payload["kind"]
    deadline = _deadline(payload)
    when = format_short(deadline, tz, t)
    late = format_until(deadline, now, t)
    if payload["type"] == "step":
        step = flow.step(payload["step_no"])
        what = _("Step {n}: {title}").format(n=flow.position(step.no),
                                            title=base.step_title(step, t))
    else:
        what = duty_label(flow, payload, t)
    if kind == "escalate":
        state = _("{names} late; the deadline was {when} ({late})").format(
            names=", ".join(payload.get("late") or []), when=when, late=late)
    elif kind == "recap":
        state = _("📋 Recap: reported {done}; not yet {not_done}").format(
            done=", ".join(payload.get("done") or []) or "-",
            not_done=", ".join(payload.get("not_done") or []) or "-")
    elif kind == "overdue" or deadline < now:
        state = _("late: the deadline was {when} ({late})").format(when=when, late=late)
    elif kind == "due" and payload["type"] == "step":
        state = _("deadline now ({when})").format(when=when)
    elif kind == "due":
        state = _("deadline today ({when})").format(when=when)
    else:
        state = _("deadline {when} ({left})").format(when=when, left=late)
    mark = "⚠️ " if kind in ("overdue", "escalate") else ""
    line = f"• {mark}{what} — {state}"
    stage = _stage(flow, payload, t)
    return line + ("\n  " + stage if stage else "")


def digest_text(payload: dict[str, Any], flows: dict[str, Flow], t: Translator,
                now: datetime) -> str:
    """Several reminders as one message: grouped by instance (steps) and flow (duties), the
    nearest deadline first, each with its own deadline."""
    _ = t.gettext
    items = [p for p in payload["items"] if p.get("flow_id") in flows]
    shown = _earliest(items)
    groups: dict[str, tuple[str, list[str]]] = {}
    for item in shown:
        flow = flows[item["flow_id"]]
        key, label = _group(item, flow, t)
        groups.setdefault(key, (label, []))[1].append(_item_line(item, flow, t, now))
    if payload.get("missed"):
        head = _("⏰ Reminders missed while the bot was unavailable ({n}):")
    elif all(p["type"] == "cycle" for p in items):
        head = _("📅 Your duties and their deadlines ({n}):")
    else:
        head = _("⏰ Your reminders ({n}):")
    parts = [head.format(n=len(items))]
    for label, lines in groups.values():
        parts += ["", label + ":", *lines]
    if len(items) > len(shown):
        parts += ["", _("… and {n} more").format(n=len(items) - len(shown)), _(DIGEST_MORE)]
    tasks = [p for p in shown if p.get("task_id")]
    if tasks:
        parts += ["", _(HOW_ONE) if len(tasks) == 1 else _(HOW_SEVERAL)]
    return "\n".join(parts)


def cycle_keyboard(notice: Mapping[str, Any] | Reminder,
                   t: Translator) -> InlineKeyboardMarkup | None:
    """The "done" button of a recurring duty's reminder; in a digest, one per duty."""
    payload = document(notice)
    if payload.get("type") == "digest":
        tasks = [p for p in _earliest(payload["items"]) if p.get("task_id")]
        if not tasks:
            return None
        if len(tasks) == 1:
            return cycle_keyboard(tasks[0], t)
        label = t.gettext("✔️ Selesai")
        return InlineKeyboardMarkup([[InlineKeyboardButton(
            f"{label}: " + period_label(p["period"], p["index"], p["year"], t),
            callback_data=cycle_button(p["task_id"]))] for p in tasks])
    if payload.get("type") != "cycle" or not payload.get("task_id"):
        return None
    if payload.get("decision"):  # the atasan's evaluation: approve, or send it back
        return render_flowops.evaluation_keyboard(payload["task_id"], t)
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        t.gettext("✔️ Selesai"), callback_data=cycle_button(payload["task_id"]))]])


def _upcoming_item(p: Any, flows: dict[str, Flow],
                   t: Translator) -> tuple[tuple[str, ...], str, str, datetime]:
    """(item key, group key, group label, deadline) of a planned point for ``/pengingat``."""
    payload = p.payload
    flow = flows[payload["flow_id"]]
    key, label = _group(payload, flow, t)
    role = payload["kind"] if payload["kind"] in ("escalate", "recap") else ""
    item: tuple[str, ...]
    if payload["type"] == "step":
        item = (payload["instance_id"], str(payload["step_no"]), str(payload["round"]), role)
    else:
        item = (flow.id, payload["occurrence"], role)
    return item, key, label, _deadline(payload)


def upcoming_text(points: Sequence[Any], flows: dict[str, Flow], t: Translator,
                  now: datetime) -> str:
    """``/pengingat``: grouped by instance (steps) and flow (duties), one line per step or
    duty with its deadline and next reminder, the nearest deadline first, and at most
    `UPCOMING_LINES` lines (then "… and N more")."""
    _ = t.gettext
    points = [p for p in points if p.payload.get("flow_id") in flows]
    if not points:
        return _("No reminders are planned for you.")
    items: dict[tuple[str, ...], tuple[str, str, datetime, Any]] = {}
    for p in sorted(points, key=lambda p: p.at):
        item, key, label, deadline = _upcoming_item(p, flows, t)
        items.setdefault(item, (key, label, deadline, p))  # its next reminder
    ordered = sorted(items.values(), key=lambda i: (i[2], i[3].at))
    shown, rest = ordered[:UPCOMING_LINES], len(ordered) - UPCOMING_LINES
    groups: dict[str, tuple[str, list[str]]] = {}
    for key, label, deadline, p in shown:
        payload = p.payload
        flow = flows[payload["flow_id"]]
        tz = flow.unit.timezone
        if payload["type"] == "step":
            step = flow.step(payload["step_no"])
            what = _("Step {n}: {title}").format(n=flow.position(step.no),
                                                title=base.step_title(step, t))
        else:
            what = duty_label(flow, payload, t)
        if payload["kind"] == "escalate":
            what = _("{names} late with {what}").format(
                names=", ".join(payload.get("late") or []), what=what)
        elif payload["kind"] == "recap":
            what = _("Recap of {duty}").format(duty=what)
        groups.setdefault(key, (label, []))[1].append(
            "• " + _("{what} — deadline {due}; next reminder {at}").format(
                what=what, due=format_short(deadline, tz, t), at=format_short(p.at, tz, t)))
    lines = [_("Your next reminders:")]
    for label, group in groups.values():
        lines += [label + ":", *group]
    if rest > 0:
        lines.append(_("… and {n} more").format(n=rest))
    return "\n".join(lines)
