"""The acknowledgements and reminders in chat: each typed notice in the reader's language.

The sender hands over the stored payload (or a caller a notice it just built); each is
decoded by the one codec (:mod:`bot.services.notices`) and rendered by its class.
:mod:`bot.tg.render` re-exports these names (and this module uses its helpers: they are
imported at the end, so either module may be imported first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine.model import Flow
from bot.formatting import format_short, format_until, format_when, period_label
from bot.i18n import N_, Translator
from bot.services.notices import (
    Ack,
    AttachedAck,
    CancelledAck,
    CycleDoneAck,
    CycleReminder,
    DecidedAck,
    DelegationActiveAck,
    JoinedAck,
    Notice,
    PendingDroppedAck,
    ReasonAskedAck,
    Reminder,
    ReturnedAck,
    StartedAck,
    StepReminder,
    SuccessorAck,
    TriggeredAck,
    UndeliverableAck,
    decode,
)
from bot.tg.callbacks import cycle_button

Flows = dict[str, Flow]


def as_ack(payload: Mapping[str, Any] | Ack) -> Ack:
    """The acknowledgement a stored payload holds (a notice passes through)."""
    notice: Notice = decode("ack", payload) if isinstance(payload, Mapping) else payload
    if not isinstance(notice, _ACK_CLASSES):
        raise ValueError(f"not an acknowledgement: {type(notice).__name__}")
    return notice


def as_reminder(payload: Mapping[str, Any] | Reminder) -> Reminder:
    """The reminder a stored payload (or a planned point's payload) holds."""
    notice: Notice = decode("reminder", payload) if isinstance(payload, Mapping) else payload
    if not isinstance(notice, StepReminder | CycleReminder):
        raise ValueError(f"not a reminder: {type(notice).__name__}")
    return notice


def target_question(flow: Flow, ack: StartedAck, t: Translator) -> str:
    """The question a started message ends with when the flow's target needs its date."""
    if not ack.target_asked or flow.target is None:
        return ""
    label = flow.target.label_en if t.language == "en" and flow.target.label_en else \
        flow.target.label
    return "\n\n" + t.gettext(
        "On what date was the {label} for {alias} {year}? Reply to this message with the date "
        "(DD-MM-YYYY); the target of the whole flow counts from it.").format(
        label=label, alias=flow.alias, year=ack.year)


def ack_text(payload: Mapping[str, Any] | Ack, flows: Flows, t: Translator) -> str:
    """The reply that confirms what an official just did (sent through the outbox)."""
    ack = as_ack(payload)
    for cls, render in _ACK_TEXTS:
        if isinstance(ack, cls):
            return render(ack, flows, t)
    raise ValueError(f"no text for {type(ack).__name__}")


def _joined(ack: JoinedAck, flows: Flows, t: Translator) -> str:
    _ = t.gettext
    text = (_("You already hold the role {role} in {unit}.") if ack.already
            else _("Welcome, {name}! You are now registered as {role} in {unit}."))
    role = sop_title = ack.role
    for flow in flows.values():  # the role's title in the reader's language
        if flow.unit.id == ack.unit_id and ack.role_id and flow.has_role(ack.role_id):
            role = _role_title(flow, ack.role_id, t)
            sop_title = flow.role(ack.role_id).title
            break
    role = own_title(role, sop_title, ack.name, t)
    return text.format(name=ack.name, role=role, unit=ack.unit) + "\n\n" + help_text(t)


def _started(ack: StartedAck, flows: Flows, t: Translator) -> str:
    _ = t.gettext
    flow = flows[ack.flow_id]
    label = flow_label(flow, ack.year, None, t)
    if flow.per_official is None and ack.starter_acts:
        return _("Started {flow}. Step 1 is waiting for {you}.").format(
            flow=label, you=address(ack.salutation, t)) + target_question(flow, ack, t)
    if flow.per_official is None:
        return _("Started {flow}. Step 1 went to {role}.").format(
            flow=label, role=_role_title(flow, flow.first_step.actor, t)
        ) + target_question(flow, ack, t)
    text = t.ngettext("Started {flow} for {n} official.", "Started {flow} for {n} officials.",
                      ack.count).format(flow=label, n=ack.count)
    if ack.skipped:
        text += "\n" + _("No atasan known for: {names}.").format(names=", ".join(ack.skipped))
    return text


def _decided(ack: DecidedAck, flows: Flows, t: Translator) -> str:
    _ = t.gettext
    flow = flows[ack.flow_id]
    step = flow.step(ack.step_no)
    title = step_title(step, t)
    back = flow.step(step.on_revise) if step.on_revise is not None else None
    if ack.action == "revise" and back is not None:
        # what the act means for the decider: the earlier step goes back to its holder
        text = _("Sent back for revision: step {no} «{title}» goes back to {role}. "
                 "Thank you.").format(
            no=back.no, title=step_title(back, t), role=_role_title(flow, back.actor, t))
    else:
        text = {
            "approve": _("Approved: {title}."),
            "complete": _("Marked done: {title}."),
            "revise": _("Sent back for revision: {title}."),
        }[ack.action].format(title=title)
    if ack.completed:
        text += "\n" + _("The flow is now complete.")
    return text


def _cycle_done(ack: CycleDoneAck, flows: Flows, t: Translator) -> str:
    flow = flows[ack.flow_id]
    return t.gettext("Recorded: {duty} is done. Thank you.").format(
        duty=_duty(flow, ack, t))


def _duty(flow: Flow, of: CycleDoneAck | CycleReminder, t: Translator) -> str:
    """A recurring duty and its period: "Laporan PK (Triwulan I 2026)"."""
    return f"{_cycle_name(flow, of.cycle_id)} ({period_label(of.period, of.index, of.year, t)})"


def _undeliverable(ack: UndeliverableAck, flows: Flows, t: Translator) -> str:
    flow = flows[ack.flow_id]
    return t.gettext("⚠️ {name} cannot be reached: they blocked the bot, so the step of {flow} "
                     "waiting for them was not delivered. Ask them to open the bot and press "
                     "Start.").format(name=ack.name, flow=flow_label(flow, ack.year, None, t))


def _fixed(text: str) -> Callable[[Any, Flows, Translator], str]:
    return lambda _ack, _flows, t: t.gettext(text)


_ACK_CLASSES = (JoinedAck, StartedAck, DecidedAck, ReasonAskedAck, PendingDroppedAck,
                AttachedAck, CycleDoneAck, UndeliverableAck, ReturnedAck, TriggeredAck,
                CancelledAck, SuccessorAck, DelegationActiveAck)
#: Each acknowledgement's text (the gettext calls of the fixed ones mark their msgids).
_ACK_TEXTS: Sequence[tuple[Any, Callable[..., str]]] = (
    (JoinedAck, _joined),
    (StartedAck, _started),
    (DecidedAck, _decided),
    (ReasonAskedAck, _fixed(N_("What must be revised? Write the reason as your next message "
                               "(or /batal to cancel)."))),
    (PendingDroppedAck, _fixed(N_("Cancelled; nothing was changed."))),
    (AttachedAck, _fixed(N_("Attached. It will travel with the next step's notification."))),
    (CycleDoneAck, _cycle_done),
    (UndeliverableAck, _undeliverable),
    ((ReturnedAck, TriggeredAck, CancelledAck),
     lambda ack, flows, t: render_flowops.ack_text(ack, flows, t)),
    ((SuccessorAck, DelegationActiveAck),
     lambda ack, flows, t: render_people.people_ack_text(ack, flows, t)),
)


# -- reminders -------------------------------------------------------------------------------


def reminder_text(payload: Mapping[str, Any] | Reminder, flows: Flows, t: Translator,
                  now: datetime) -> str:
    """A reminder of a step deadline or of a recurring duty (triwulan, semester …)."""
    reminder = as_reminder(payload)
    flow = flows[reminder.flow_id]
    if isinstance(reminder, StepReminder):
        return _step_reminder(reminder, flow, t, now)
    return _cycle_reminder(reminder, flow, t)


def _step_reminder(r: StepReminder, flow: Flow, t: Translator, now: datetime) -> str:
    _ = t.gettext
    tz = flow.unit.timezone
    step = flow.step(r.step_no)
    deadline = datetime.fromisoformat(r.deadline)
    subject = r.subject
    if subject and subject in r.late:
        subject = None  # the escalation names them already: never "Bu X late … — Bu X"
    what = _("step {n} of {total} of {flow}: {title}").format(
        n=flow.position(step.no), total=len(flow.sequence),
        flow=flow_label(flow, r.year, subject, t), title=step_title(step, t))
    if r.moment == "before":
        return _("⏰ Reminder: {what} is due {when} ({left}).").format(
            what=what, when=format_when(deadline, tz, t), left=format_until(deadline, now, t))
    if r.moment == "due":
        return _("⏰ Due now: {what} (deadline {when}).").format(
            what=what, when=format_when(deadline, tz, t))
    if r.moment == "overdue":
        return _("⚠️ Late: {what} was due {when} ({late}). Reminder {n}.").format(
            what=what, when=format_when(deadline, tz, t),
            late=format_until(deadline, now, t), n=r.n)
    return _("⚠️ {names} late with {what}: it was due {when} ({late}).").format(
        names=", ".join(r.late), what=what,
        when=format_when(deadline, tz, t), late=format_until(deadline, now, t))


def _cycle_reminder(r: CycleReminder, flow: Flow, t: Translator) -> str:
    _ = t.gettext
    tz = flow.unit.timezone
    due = datetime.fromisoformat(r.due)
    duty = _duty(flow, r, t)
    how = _("When it is done, press the button or reply to this message with the evidence "
            "document.")
    stage = render_flowops.stage_line(flow, r, t)  # a later stage of the duty
    if stage:
        how = stage + "\n" + how
    if r.moment == "before":
        return _("📅 {duty} is due {when}.").format(duty=duty, when=format_when(due, tz, t)) + \
            "\n" + how
    if r.moment == "due":
        return _("📅 {duty} is due today ({when}).").format(
            duty=duty, when=format_when(due, tz, t)) + "\n" + how
    if r.moment == "overdue":
        return _("⚠️ {duty} is late: it was due {when}. Reminder {n}.").format(
            duty=duty, when=format_when(due, tz, t), n=r.n) + "\n" + how
    return "\n".join([
        _("📋 Recap of {duty} (due {when}):").format(duty=duty, when=format_when(due, tz, t)),
        _("Reported: {names}").format(names=", ".join(r.done) or "-"),
        _("Not yet: {names}").format(names=", ".join(r.not_done) or "-"),
    ])


def cycle_keyboard(payload: Mapping[str, Any] | Reminder,
                   t: Translator) -> InlineKeyboardMarkup | None:
    """The "done" button of a recurring duty's reminder."""
    reminder = as_reminder(payload)
    if not isinstance(reminder, CycleReminder) or not reminder.task_id:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        t.gettext("✔️ Selesai"), callback_data=cycle_button(reminder.task_id))]])


def upcoming_text(points: Sequence[Any], flows: Flows, t: Translator, now: datetime) -> str:
    """``/pengingat``: my next reminders and deadlines (planned points)."""
    _ = t.gettext
    if not points:
        return _("No reminders are planned for you.")
    lines = [_("Your next reminders:")]
    grouped: dict[tuple[str, str], list[str]] = {}  # (what, due) -> reminder times
    for p in points:
        r = as_reminder(p.payload)
        flow = flows[r.flow_id]
        tz = flow.unit.timezone
        if isinstance(r, StepReminder):
            step = flow.step(r.step_no)
            what = _("{flow}, step {n}: {title}").format(
                flow=flow_label(flow, r.year, r.subject, t),
                n=flow.position(step.no), title=step_title(step, t))
            due = datetime.fromisoformat(r.deadline)
        else:
            what = _duty(flow, r, t)
            due = datetime.fromisoformat(r.due)
        # One line per step or duty, however many reminders it has (issue 12).
        grouped.setdefault((what, format_short(due, tz, t)), []).append(
            format_short(p.at, tz, t))
    for (what, deadline), times in grouped.items():
        lines.append("• " + _("{what} — deadline {due}; reminders: {times}").format(
            what=what, due=deadline, times=", ".join(times)))
    return "\n".join(lines)


# The helpers shared with render (last: render imports this module at its end).
from bot.tg import render_flowops, render_people  # noqa: E402
from bot.tg.render import (  # noqa: E402
    _cycle_name,
    _role_title,
    address,
    flow_label,
    help_text,
    own_title,
    step_title,
)

__all__ = ["ack_text", "as_ack", "as_reminder", "cycle_keyboard", "reminder_text",
           "target_question", "upcoming_text"]
