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


def decision_line(disp: Disposition, name: str, timezone: str, t: Translator, *,
                  on_message: bool = True) -> str:
    """What was decided, by whom and when: appended to the step message (`on_message`),
    or listed among an instance's latest dispositions."""
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
    elif disp.action is Action.WITHDRAW and on_message:
        text = _("↩️ {name} withdrew the decision on step {no}, {when}; this message no "
                 "longer asks for anything.").format(name=name, no=disp.step_no, when=when)
    elif disp.action is Action.WITHDRAW:  # (the reason follows as a note)
        text = _("↩️ Decision withdrawn by {name}, {when}").format(name=name, when=when)
    else:
        text = _("✔️ Done by {name}, {when}").format(name=name, when=when)
    if disp.note and disp.action is not Action.REVISE \
            and not (disp.action is Action.WITHDRAW and on_message):
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
                         + decision_line(disp, name, tz, t, on_message=False)
                         .replace("\n", " — "))
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


def duty_name(flow: Flow, cycle_id: str, period: str, index: int, year: int,
              t: Translator) -> str:
    """A recurring duty and its period: "Pengukuran Kinerja (Triwulan II 2026)"."""
    return f"{_cycle_name(flow, cycle_id)} ({period_label(period, index, year, t)})"


# The step notification and its details live in render_step (imported last: it uses the
# helpers above).
# The acknowledgements (typed notices) live in render_notices; reminders, their digest and
# /pengingat in render_reminders (issue 12).
from bot.tg.render_notices import ack_text, target_question  # noqa: E402
from bot.tg.render_reminders import (  # noqa: E402
    cycle_keyboard,
    reminder_text,
    upcoming_text,
)
from bot.tg.render_step import details_text, step_text  # noqa: E402

__all__ = ["ack_text", "cycle_keyboard", "details_text", "reminder_text", "split_message",
           "step_text", "target_question", "upcoming_text"]
