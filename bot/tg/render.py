"""Turn service results into chat text and keyboards, in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine.instance import Action, Disposition, Status
from bot.engine.model import Flow, Step
from bot.engine.waktu import WaktuError, parse_total
from bot.formatting import (
    day_minutes,
    format_duration,
    format_short,
    format_until,
    format_when,
    normalised_total,
    period_label,
)
from bot.i18n import Translator
from bot.services import (
    ActiveStepView,
    InstanceStatus,
    PerOfficialStatus,
    Task,
    UnitOverview,
)
from bot.textlimits import shorten, utf16_len
from bot.textlimits import split_message as split_message  # one rule, Telegram's count
from bot.tg import render_flowops
from bot.tg.callbacks import (
    ADVANCE,
    REVISE,
    DetailsButton,
    StepButton,
    WithdrawButton,
    cycle_button,
)

MAX_MESSAGE = 4096
SETTLED_LINE = 1000  # UTF-16 units of the decision line added to a decided step message


def address(salutation: str | None, t: Translator) -> str:
    """How the bot addresses an official: "Bapak"/"Ibu" as stored, else "Bapak/Ibu" ("you")."""
    if t.language == "en":
        return "you"
    return salutation or "Bapak/Ibu"


def own_title(title: str, sop_title: str, name: str, t: Translator) -> str:
    """A collective role lists jabatan ("Kasi, Kasubag, Lurah, Kasi Kelurahan dan Staf"): an
    official is welcomed by the one of them in their name ("Pak Lurah" → "Lurah"), else as an
    official of the unit, never by the whole list."""
    if "," not in sop_title:
        return title
    items = [i.strip() for i in re.split(r",|\s+dan\s+", sop_title) if i.strip()]
    mine = [i for i in items if re.search(rf"\b{re.escape(i)}\b", name, re.IGNORECASE)]
    if mine:
        return max(mine, key=len)
    return t.gettext("an official of the unit")


def step_title(step: Step, t: Translator) -> str:
    """The SOP's wording, or its English rendering in the English interface."""
    return (step.title_en if t.language == "en" and step.title_en else step.title)


def _output(step: Step, t: Translator) -> str | None:
    return step.output_en if t.language == "en" and step.output_en else step.output


def _role_title(flow: Flow, role: str, t: Translator) -> str:
    r = flow.role(role)
    return r.title_en if t.language == "en" and r.title_en else r.title


def flow_label(flow: Flow, year: int, subject: str | None, t: Translator) -> str:
    name = flow.name_en if t.language == "en" and flow.name_en else flow.name
    label = f"{name} ({flow.alias} {year})"
    if subject:
        label += " — " + subject
    return label


def step_instruction(flow: Flow, step_no: int, t: Translator) -> str:
    """How to answer a step message (dropped when the message is edited after a decision)."""
    _ = t.gettext
    if flow.step(step_no).is_decision:
        return _("Press a button, or reply to this message with \"setuju\" or "
                 "\"revisi: <reason>\".")
    return _("When it is done, press the button or reply \"selesai\" to this message.")


def step_keyboard(flow: Flow, payload: dict[str, Any], t: Translator) -> InlineKeyboardMarkup:
    """Selesai for a task; Setujui / Revisi for a decision."""
    _ = t.gettext
    step = flow.step(payload["step_no"])
    inst, rnd = payload["instance_id"], payload["round"]

    def button(text: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=StepButton(inst, step.no, rnd,
                                                                   action).encode())

    if step.is_decision:
        row = [button(_("✅ Setujui"), ADVANCE), button(_("🔁 Revisi"), REVISE)]
    else:
        row = [button(_("✔️ Selesai"), ADVANCE)]
    details = InlineKeyboardButton(_("ℹ️ Rincian"), callback_data=DetailsButton(
        inst, step.no, rnd).encode())  # the rest of the step, on demand (issue 12)
    return InlineKeyboardMarkup([row, [details]])


def decision_line(disp: Disposition, name: str, timezone: str, t: Translator) -> str:
    """What was decided, by whom and when: appended to the step message."""
    _ = t.gettext
    when = format_short(disp.at, timezone, t)
    if disp.action is Action.APPROVE:
        text = _("✅ Approved by {name}, {when}").format(name=name, when=when)
    elif disp.action is Action.REVISE:
        text = _("🔁 Sent back for revision by {name}, {when}: {reason}").format(
            name=name, when=when, reason=disp.note or "")
    elif disp.action is Action.RETURN:
        text = _("📥 Recorded back in the office by {name}, {when}").format(name=name,
                                                                           when=when)
    elif disp.action is Action.CANCEL:
        text = _("⛔ Cancelled by {name}, {when}").format(name=name, when=when)
    elif disp.action is Action.ATTACH:  # a file added on the way, not the step done
        text = _("📎 Attachment added by {name}, {when}").format(name=name, when=when)
    elif disp.action is Action.START:
        text = _("▶️ Started by {name}, {when}").format(name=name, when=when)
    elif disp.action is Action.WITHDRAW:
        text = _("↩️ {name} withdrew the decision on step {no}, {when}; this message no "
                 "longer asks for anything.").format(name=name, no=disp.step_no, when=when)
    else:
        text = _("✔️ Done by {name}, {when}").format(name=name, when=when)
    if disp.note and disp.action not in (Action.REVISE, Action.WITHDRAW):
        text += "\n" + _("Note: {note}").format(note=disp.note)
    return text


def completed_text(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    _ = t.gettext
    elapsed = format_duration(timedelta(seconds=payload["elapsed_seconds"]), t)
    return "\n".join([
        _("🏁 {flow} is complete.").format(
            flow=flow_label(flow, payload["year"], payload.get("subject"), t)),
        _("Time taken: {elapsed} (SOP standard total: {standard}).").format(
            elapsed=elapsed, standard=_standard(flow, payload["standard"])),
    ])


def _standard(flow: Flow, printed: str) -> str:
    """The SOP's total standard time, normalised to the office's working day."""
    try:
        total = parse_total(printed)
    except WaktuError:
        return printed
    return str(normalised_total(total, day_minutes(flow.unit.office_hours)))


def cancelled_text(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    _ = t.gettext
    text = _("⛔ {flow} was cancelled by {name}.").format(
        flow=flow_label(flow, payload["year"], payload.get("subject"), t),
        name=payload.get("by") or "?")
    if payload.get("reason"):
        text += "\n" + _("Reason: {reason}").format(reason=payload["reason"])
    return text


def _view_lines(view: ActiveStepView, flow: Flow, t: Translator, now: datetime) -> list[str]:
    _ = t.gettext
    tz = flow.unit.timezone
    head = (_("Extra step {no}: {title}") if view.by_event
            else _("Step {n} of {total}: {title}"))
    lines = [head.format(no=view.step_no, n=view.position, total=len(flow.sequence),
                         title=step_title(flow.step(view.step_no), t))]
    who = ", ".join(view.waiting_for) or _("nobody holds this role yet")
    lines.append("  " + _("Waiting for: {who} ({role})").format(who=who,
                                                                 role=view.role_title))
    if view.unreachable:
        lines.append("  " + _("⚠️ Cannot be reached (blocked the bot): {names}").format(
            names=", ".join(view.unreachable)))
    lines.append("  " + _("Since: {when}").format(when=format_short(view.since, tz, t)))
    if view.deadline:
        state = format_until(view.deadline, now, t)
        flag = "⚠️ " if view.overdue else ""
        lines.append("  " + _("Deadline: {when} — {flag}{state}").format(
            when=format_short(view.deadline, tz, t), flag=flag, state=state))
    return lines


def status_text(st: InstanceStatus, t: Translator, now: datetime) -> str:
    """``status PK 2025``."""
    _ = t.gettext
    flow, inst = st.flow, st.instance
    tz = flow.unit.timezone
    lines = [f"📊 {flow_label(flow, inst.year, st.subject_name, t)}",
             flow.unit.name]
    if inst.status is Status.COMPLETED:
        lines.append(_("Status: complete ({when}).").format(
            when=format_short(inst.finished_at or now, tz, t)))
    elif inst.status is Status.CANCELLED:
        names = {d.member: name for d, name in st.last}
        lines.append(render_flowops.status_extra(flow, inst, lambda m: names.get(m, m), t)
                     or _("Status: cancelled."))
    else:
        lines.append(_("Progress: {done} of {total} steps done.").format(
            done=st.done_steps, total=st.total_steps))
        waiting = render_flowops.waits_for_text(flow, inst, t)
        if waiting:
            lines.append(waiting)
    for view in st.active if inst.status is Status.ACTIVE else ():
        lines.append("")
        lines.extend(_view_lines(view, flow, t, now))
    if st.last:
        lines.append("")
        lines.append(_("Latest dispositions:"))
        for disp, name in st.last:
            lines.append("• " + _("step {no}").format(no=disp.step_no) + ": "
                         + decision_line(disp, name, tz, t).replace("\n", " — "))
    return "\n".join(lines)


def per_official_text(st: PerOfficialStatus, t: Translator, now: datetime) -> str:
    _ = t.gettext
    flow = st.flow
    lines = [f"📊 {flow_label(flow, st.year, None, t)}", flow.unit.name,
             _("Done: {done} · In progress: {progress} · Overdue: {overdue}").format(
                 done=st.done, progress=st.in_progress, overdue=st.overdue)]
    if st.late:
        lines.append("")
        lines.append(_("Late:"))
        for name, view in st.late:
            lines.append("• " + _("{name}: step {n} ({title}), due {when}").format(
                name=name, n=view.position, title=step_title(flow.step(view.step_no), t),
                when=format_short(view.deadline or now, flow.unit.timezone, t)))
    return "\n".join(lines)


def overview_text(ov: UnitOverview, t: Translator, now: datetime) -> str:
    _ = t.gettext
    if not ov.items:
        return _("No flow is running in your units. Start one with \"mulai PK 2025\".")
    lines = [_("Running now:")]
    for st in ov.items:
        lines.append("")
        lines.append(f"• {flow_label(st.flow, st.instance.year, st.subject_name, t)} — "
                     + _("{done} of {total} steps done").format(done=st.done_steps,
                                                                total=st.total_steps))
        waiting = render_flowops.waits_for_text(st.flow, st.instance, t)
        if waiting:
            lines.append("  " + waiting.replace("\n", "\n  "))
        for view in st.active:
            lines.extend("  " + line for line in _view_lines(view, st.flow, t, now))
    return "\n".join(lines)


def tasks_text(tasks: Sequence[Task], t: Translator, now: datetime) -> str:
    _ = t.gettext
    if not tasks:
        return _("Nothing is waiting for you. 👍")
    lines = [_("Waiting for you:")]
    for task in tasks:
        lines.append("")
        lines.append(f"• {flow_label(task.flow, task.instance.year, task.subject_name, t)}")
        lines.extend("  " + line for line in _view_lines(task.view, task.flow, t, now))
    return "\n".join(lines)


def help_text(t: Translator) -> str:
    _ = t.gettext
    return "\n".join([
        _("What I understand:"),
        _("• mulai PK 2025 — start a flow for a year (alias and year)"),
        _("• status PK 2025 — where it stands; status alone — everything running"),
        _("• /tugas — steps waiting for you"),
        _("• reply to a step message with \"selesai\", \"setuju\" or \"revisi: <reason>\""),
        _("• send a document or photo as a reply to a step message to attach it"),
        _("• sudah kembali — the document is back from outside the office (the Bupati …)"),
        _("• revisi PK 2026 <cause> — start the step an event starts (e.g. after a mutasi)"),
        _("• batalkan PK 2099 <reason> — cancel a flow started by mistake"),
        _("• /ekspor, /monev, /grafik PK 2025 — the trail as Excel, the SOP monitoring form, "
          "a timeline picture; /bagan PK — the SOP as a flowchart"),
        _("• rekap PK 2025 — every unit, worst first (oversight); /ringkasan off|on — the "
          "Monday digest"),
        _("• /bahasa — choose your language"),
        _("• /batal — cancel what I am asking you for"),
    ])


def not_registered_text(t: Translator) -> str:
    _ = t.gettext
    return _("You are not registered with this bot yet. Ask your unit's admin for an "
             "invitation link and open it; it binds you to your role.")


def target_question(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    """The question a started message ends with when the flow's target needs its date."""
    if not payload.get("target_asked") or flow.target is None:
        return ""
    label = flow.target.label_en if t.language == "en" and flow.target.label_en else \
        flow.target.label
    return "\n\n" + t.gettext(
        "On what date was the {label} for {alias} {year}? Reply to this message with the date "
        "(DD-MM-YYYY); the target of the whole flow counts from it.").format(
        label=label, alias=flow.alias, year=payload["year"])


def ack_text(payload: dict[str, Any], flows: dict[str, Flow], t: Translator) -> str:
    """The reply that confirms what an official just did (sent through the outbox)."""
    _ = t.gettext
    kind = payload["ack"]
    if kind.startswith("people_"):
        from bot.tg.render_people import people_ack_text

        return people_ack_text(payload, flows, t)
    if kind == "joined":
        text = (_("You already hold the role {role} in {unit}.") if payload["already"]
                else _("Welcome, {name}! You are now registered as {role} in {unit}."))
        role = sop_title = payload["role"]
        for flow in flows.values():  # the role's title in the reader's language
            if flow.unit.id == payload.get("unit_id") and flow.has_role(payload["role_id"]):
                role = _role_title(flow, payload["role_id"], t)
                sop_title = flow.role(payload["role_id"]).title
                break
        role = own_title(role, sop_title, payload["name"], t)
        return text.format(name=payload["name"], role=role,
                           unit=payload["unit"]) + "\n\n" + help_text(t)
    if kind == "started":
        flow = flows[payload["flow_id"]]
        label = flow_label(flow, payload["year"], None, t)
        if flow.per_official is None and payload.get("starter_acts"):
            return _("Started {flow}. Step 1 is waiting for {you}.").format(
                flow=label, you=address(payload.get("salutation"), t)
            ) + target_question(flow, payload, t)
        if flow.per_official is None:
            return _("Started {flow}. Step 1 went to {role}.").format(
                flow=label, role=_role_title(flow, flow.first_step.actor, t)
            ) + target_question(flow, payload, t)
        text = t.ngettext("Started {flow} for {n} official.", "Started {flow} for {n} officials.",
                          payload["count"]).format(flow=label, n=payload["count"])
        if payload.get("skipped"):
            text += "\n" + _("No atasan known for: {names}.").format(
                names=", ".join(payload["skipped"]))
        return text
    if kind == "decided":
        flow = flows[payload["flow_id"]]
        step = flow.step(payload["step_no"])
        title = step_title(step, t)
        back = flow.step(step.on_revise) if step.on_revise is not None else None
        if payload["action"] == "revise" and back is not None:
            # what the act means for the decider: the earlier step goes back to its holder
            text = _("Sent back for revision: step {no} «{title}» goes back to {role}. "
                     "Thank you.").format(
                no=back.no, title=step_title(back, t), role=_role_title(flow, back.actor, t))
        else:
            text = {
                "approve": _("Approved: {title}."),
                "complete": _("Marked done: {title}."),
                "revise": _("Sent back for revision: {title}."),
            }[payload["action"]].format(title=title)
        if payload.get("completed"):
            text += "\n" + _("The flow is now complete.")
        return text
    if kind == "reason_asked":
        return _("What must be revised? Write the reason as your next message (or /batal to "
                 "cancel).")
    if kind == "pending_dropped":
        return _("Cancelled; nothing was changed.")
    if kind == "attached":
        return _("Attached. It will travel with the next step's notification.")
    if kind == "cycle_done":
        flow = flows[payload["flow_id"]]
        return _("Recorded: {duty} is done. Thank you.").format(duty="{name} ({period})".format(
            name=_cycle_name(flow, payload["cycle_id"]),
            period=period_label(payload["period"], payload["index"], payload["year"], t)))
    if kind == "undeliverable":
        flow = flows[payload["flow_id"]]
        return _("⚠️ {name} cannot be reached: they blocked the bot, so the step of {flow} "
                 "waiting for them was not delivered. Ask them to open the bot and press "
                 "Start.").format(name=payload["name"],
                                  flow=flow_label(flow, payload["year"], None, t))
    if kind in render_flowops.ACKS:
        return render_flowops.ack_text(payload, flows, t)
    raise ValueError(f"unknown acknowledgement {kind!r}")


def settled_text(payload: dict[str, Any], flows: dict[str, Flow], t: Translator) -> str:
    """A decided step message: what it said, then who decided what and when."""
    flow = flows[payload["flow_id"]]
    disp = Disposition.from_dict(payload["disposition"])
    # The edit must fit one message (Telegram's count): a long reason is shortened here (it
    # went in full to the step it was sent back to), then the step's text if need be.
    line = shorten(decision_line(disp, payload["name"], flow.unit.timezone, t), SETTLED_LINE)
    return shorten(payload["text"], MAX_MESSAGE - utf16_len(line) - 2) + "\n\n" + line


def withdraw_keyboard(payload: dict[str, Any], t: Translator) -> InlineKeyboardMarkup | None:
    """"Tarik kembali" under the decider's own decided step message (issue 12)."""
    disp = payload["disposition"]
    if not payload.get("undo") or disp.get("action") not in ("approve", "complete", "revise"):
        return None
    data = WithdrawButton(disp["instance_id"], disp["step_no"], disp.get("round", 1)).encode()
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext("↩️ Tarik kembali"),
                                                       callback_data=data)]])


def _cycle_name(flow: Flow, cycle_id: str) -> str:
    cycle = next((c for c in flow.cycles if c.id == cycle_id), None)
    return cycle.name if cycle else cycle_id


def reminder_text(payload: dict[str, Any], flows: dict[str, Flow], t: Translator,
                  now: datetime) -> str:
    """A reminder of a step deadline or of a recurring duty (triwulan, semester …)."""
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
            flow=flow_label(flow, payload["year"], subject, t),
            title=step_title(step, t))
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
    duty = "{name} ({period})".format(
        name=_cycle_name(flow, payload["cycle_id"]),
        period=period_label(payload["period"], payload["index"], payload["year"], t))
    how = _("When it is done, press the button or reply to this message with the evidence "
            "document.")
    stage = render_flowops.stage_line(flow, payload, t)  # a later stage of the duty
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


def cycle_keyboard(payload: dict[str, Any], t: Translator) -> InlineKeyboardMarkup | None:
    """The "done" button of a recurring duty's reminder."""
    if payload.get("type") != "cycle" or not payload.get("task_id"):
        return None
    if payload.get("decision"):  # the atasan's evaluation: approve, or send it back
        return render_flowops.evaluation_keyboard(payload["task_id"], t)
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        t.gettext("✔️ Selesai"), callback_data=cycle_button(payload["task_id"]))]])


def upcoming_text(points: Sequence[Any], flows: dict[str, Flow], t: Translator,
                  now: datetime) -> str:
    """``/pengingat``: my next reminders and deadlines."""
    _ = t.gettext
    if not points:
        return _("No reminders are planned for you.")
    lines = [_("Your next reminders:")]
    grouped: dict[tuple[str, str], list[str]] = {}  # (what, due) -> reminder times
    for p in points:
        flow = flows[p.payload["flow_id"]]
        tz = flow.unit.timezone
        if p.payload["type"] == "step":
            step = flow.step(p.payload["step_no"])
            what = _("{flow}, step {n}: {title}").format(
                flow=flow_label(flow, p.payload["year"], p.payload.get("subject"), t),
                n=flow.position(step.no), title=step_title(step, t))
            due = datetime.fromisoformat(p.payload["deadline"])
        else:
            what = "{name} ({period})".format(
                name=_cycle_name(flow, p.payload["cycle_id"]),
                period=period_label(p.payload["period"], p.payload["index"],
                                    p.payload["year"], t))
            due = datetime.fromisoformat(p.payload["due"])
        # One line per step or duty, however many reminders it has (issue 12).
        grouped.setdefault((what, format_short(due, tz, t)), []).append(
            format_short(p.at, tz, t))
    for (what, deadline), times in grouped.items():
        lines.append("• " + _("{what} — deadline {due}; reminders: {times}").format(
            what=what, due=deadline, times=", ".join(times)))
    return "\n".join(lines)


# The step notification and its details live in render_step (imported last: it uses the
# helpers above).
from bot.tg.render_step import details_text, step_text  # noqa: E402

__all__ = ["details_text", "split_message", "step_text"]
