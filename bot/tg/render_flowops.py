"""Chat text, keyboards and callback data of the issue-13 operations: the document outside the
office ("Sudah kembali"), choosing the parts of a fan-out to send back, and the Ya/Tidak
confirmations of re-running an event step, cancelling and starting a far year.

Callback data (each under Telegram's 64 bytes):
``w:<instance>:<step>`` Sudah kembali; ``p:<instance>:<step>:<round>:<member|*>`` a part to send
back (``*`` every part); ``f:<token>:<y|n>`` a confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine.instance import Instance, Status
from bot.engine.model import Flow
from bot.formatting import format_short, format_when
from bot.i18n import Translator
from bot.services.notices import (
    CancelledAck,
    CycleReminder,
    CycleRevisedAck,
    ReturnedAck,
    TriggeredAck,
)
from bot.tg import render as base  # (render imports this module: names looked up late)
from bot.tg.callbacks import cycle_button, cycle_revise_button

WAIT_PATTERN = r"^w:"
PARTS_PATTERN = r"^p:"
CONFIRM_PATTERN = r"^f:"
_WAIT = re.compile(r"^w:([0-9a-f]{4,16}):(\d{1,4})$")
_PART = re.compile(r"^p:([0-9a-f]{4,16}):(\d{1,4}):(\d{1,4}):([0-9A-Za-z_-]{1,24}|\*)$")
_CONFIRM = re.compile(r"^f:([0-9a-f]{6,16}):([yn])$")
ALL_PARTS = "*"


def decode_wait(data: str) -> tuple[str, int] | None:
    match = _WAIT.match(data or "")
    return (match.group(1), int(match.group(2))) if match else None


def decode_part(data: str) -> tuple[str, int, int, str] | None:
    match = _PART.match(data or "")
    if not match:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3)), match.group(4)


def decode_confirm(data: str) -> tuple[str, bool] | None:
    match = _CONFIRM.match(data or "")
    return (match.group(1), match.group(2) == "y") if match else None


def _titles(flow: Flow, roles: Sequence[str], t: Translator) -> str:
    names = []
    for role_id in roles:
        role = flow.role(role_id)
        names.append(role.title_en if t.language == "en" and role.title_en else role.title)
    return t.gettext(" and ").join(names) if len(names) == 2 else ", ".join(names)


def waits_for_text(flow: Flow, inst: Instance, t: Translator) -> str | None:
    """"Waiting for Bupati since …" for a waiting instance, else None."""
    if not inst.is_waiting or inst.waiting is None:
        return None
    wait = flow.step(inst.waiting.after_step).wait
    if wait is None:
        return None
    tz = flow.unit.timezone
    text = "⏳ " + t.gettext("Waiting for {who} since {when} (outside the office).").format(
        who=_titles(flow, wait.waits_for, t), when=format_short(inst.waiting.since, tz, t))
    if inst.waiting.expected_by:
        text += "\n  " + t.gettext("Expected back by {when} (not a deadline).").format(
            when=format_short(inst.waiting.expected_by, tz, t))
    text += "\n  " + t.gettext("{role} records its return (\"sudah kembali\").").format(
        role=_titles(flow, (wait.recorded_by,), t))
    return text


def cancelled_status_text(flow: Flow, inst: Instance, name: str, t: Translator) -> str:
    """The line status shows for a cancelled instance."""
    when = format_short(inst.finished_at, flow.unit.timezone, t) if inst.finished_at else "-"
    text = t.gettext("Status: cancelled by {name} ({when}).").format(name=name, when=when)
    if inst.cancel_reason:
        text += "\n" + t.gettext("Reason: {reason}").format(reason=inst.cancel_reason)
    return text


def status_extra(flow: Flow, inst: Instance, name_of: Any, t: Translator) -> str | None:
    """What status adds for issue 13: the wait outside, or who cancelled and why."""
    if inst.status is Status.CANCELLED and inst.cancelled_by:
        return cancelled_status_text(flow, inst, name_of(inst.cancelled_by), t)
    return waits_for_text(flow, inst, t)


def wait_text(flow: Flow, payload: dict[str, Any], t: Translator) -> str:
    """The recorder's message: the document went outside the office."""
    _ = t.gettext
    step = flow.step(payload["step_no"])
    wait = step.wait
    who = _titles(flow, payload.get("waits_for") or (wait.waits_for if wait else ()), t)
    lines = [f"📤 {base.flow_label(flow, payload['year'], payload.get('subject'), t)}",
             _("After step {no} ({title}) the document is with {who}, outside the office.")
             .format(no=step.no, title=base.step_title(step, t), who=who)]
    label = (wait.label_en if t.language == "en" and wait and wait.label_en
             else wait.label if wait else None)
    if label:
        lines.append(label)
    if payload.get("expected_by"):
        lines.append(_("Expected back by {when} (not a deadline: nobody here is late for "
                       "it).").format(when=format_when(datetime.fromisoformat(
                           payload["expected_by"]), flow.unit.timezone, t)))
    else:
        lines.append(_("Nobody in the office is reminded or late while it is outside."))
    return "\n".join(lines)


def wait_instruction(t: Translator) -> str:
    return t.gettext("When it comes back, press the button or reply \"sudah kembali\".")


def wait_keyboard(payload: dict[str, Any], t: Translator) -> InlineKeyboardMarkup:
    data = f"w:{payload['instance_id']}:{payload['step_no']}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext("📥 Sudah kembali"),
                                                       callback_data=data)]])


def parts_keyboard(instance_id: str, step_no: int, round_no: int,
                   parts: Sequence[tuple[str, str]], t: Translator) -> InlineKeyboardMarkup:
    """One button per part (its holder's name), then "Semua"."""
    rows = [[InlineKeyboardButton(f"🔁 {name}",
                                  callback_data=f"p:{instance_id}:{step_no}:{round_no}:{m}")]
            for m, name in parts]
    rows.append([InlineKeyboardButton(t.gettext("🔁 Semua"), callback_data=(
        f"p:{instance_id}:{step_no}:{round_no}:{ALL_PARTS}"))])
    return InlineKeyboardMarkup(rows)


def parts_question(flow: Flow, back_to: int, t: Translator) -> str:
    return t.gettext("Which part of step {no} ({title}) goes back for revision? The other "
                     "parts stay done.").format(no=back_to,
                                                title=base.step_title(flow.step(back_to), t))


def parts_reason_question(names: Sequence[str], t: Translator) -> str:
    return t.gettext("What must {names} revise? Write the reason as a reply (or /batal to "
                     "cancel).").format(names=", ".join(names))


def confirm_keyboard(token: str, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t.gettext("Ya"), callback_data=f"f:{token}:y"),
        InlineKeyboardButton(t.gettext("Tidak"), callback_data=f"f:{token}:n")]])


def trigger_question(flow: Flow, inst: Instance, step_no: int, reason: str,
                     t: Translator) -> str:
    step = flow.step(step_no)
    text = t.gettext("Start step {no} ({title}) of {flow} because: {reason}?").format(
        no=step.no, title=base.step_title(step, t), flow=base.flow_label(flow, inst.year, None, t),
        reason=reason)
    if step.continue_at is not None:
        text += "\n" + t.gettext("Once it is done, the flow runs again from step {at}.").format(
            at=step.continue_at)
    return text


def cancel_question(flow: Flow, inst: Instance, reason: str, t: Translator) -> str:
    return t.gettext("Cancel {flow}? Reason: {reason}. Everyone holding a step will be told; "
                     "it cannot be undone.").format(flow=base.flow_label(flow, inst.year, None, t),
                                                    reason=reason)


def far_year_question(year: int, now_year: int, t: Translator) -> str:
    return t.gettext("{year} is far from this year ({now}). Start it anyway?").format(
        year=year, now=now_year)


def stage_line(flow: Flow, reminder: CycleReminder, t: Translator) -> str | None:
    """A later stage of a recurring duty: whose share, and the SOP step(s) now due; on a
    stage sent back, why; on the atasan's evaluation, how to approve or send it back."""
    if not reminder.stage_steps:
        return None
    titles = "; ".join(f"{no}. {base.step_title(flow.step(no), t)}"
                       for no in reminder.stage_steps)
    lines = [t.gettext("For {name}: {steps}").format(name=reminder.official_name or "-",
                                                     steps=titles)]
    if reminder.revision:
        lines.append(t.gettext("🔁 Sent back for revision by your atasan: {reason}").format(
            reason=reminder.revision))
    if reminder.decision:
        lines.append(t.gettext("Press ✅ Setujui (or reply \"setuju\") to approve it, or 🔁 "
                               "Revisi (or reply \"revisi: <reason>\") to send it back."))
    return "\n".join(lines)


def evaluation_keyboard(task_id: str, t: Translator) -> InlineKeyboardMarkup:
    """✅ Setujui / 🔁 Revisi under the atasan's evaluation of a recurring duty."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t.gettext("✅ Setujui"), callback_data=cycle_button(task_id)),
        InlineKeyboardButton(t.gettext("🔁 Revisi"),
                             callback_data=cycle_revise_button(task_id))]])


def ack_text(ack: ReturnedAck | TriggeredAck | CancelledAck | CycleRevisedAck,
             flows: dict[str, Flow], t: Translator) -> str:
    """The acknowledgements of the operations (sent through the outbox)."""
    _ = t.gettext
    flow = flows[ack.flow_id]
    if isinstance(ack, CycleRevisedAck):  # the atasan sent an official's duty back
        duty = base.duty_name(flow, ack.cycle_id, ack.period, ack.index, ack.year, t)
        return _("Sent back for revision: {duty} of {name}. Reason: {reason}. They will "
                 "report again, and you will evaluate it again.").format(
                     duty=duty, name=ack.official_name, reason=ack.reason)
    label = base.flow_label(flow, ack.year, None, t)
    if isinstance(ack, ReturnedAck):
        text = _("Recorded: the document of {flow} is back in the office.").format(flow=label)
        if ack.step_no:
            text += "\n" + _("Step {no} ({title}) has started.").format(
                no=ack.step_no, title=base.step_title(flow.step(ack.step_no), t))
        return text
    if isinstance(ack, TriggeredAck):
        step = flow.step(ack.step_no)
        return _("Started step {no} ({title}) of {flow}.").format(
            no=step.no, title=base.step_title(step, t), flow=label)
    return _("{flow} is cancelled. Everyone holding a step has been told.").format(flow=label)
