"""The acknowledgements and reminders in chat: each typed notice in the reader's language.

The sender hands over the stored payload (or a caller a notice it just built); each is
decoded by the one codec (:mod:`bot.services.notices`) and rendered by its class.
:mod:`bot.tg.render` re-exports these names (and this module uses its helpers: they are
imported at the end, so either module may be imported first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.engine.model import Flow
from bot.i18n import N_, Translator
from bot.services.notices import (
    ACKS,
    Ack,
    AttachedAck,
    CancelledAck,
    CycleDoneAck,
    CycleReminder,
    CycleRevisedAck,
    DecidedAck,
    DelegationActiveAck,
    DigestReminder,
    JoinedAck,
    MutasiOfferAck,
    Notice,
    PendingDroppedAck,
    ReasonAskedAck,
    Reminder,
    ReturnedAck,
    StartedAck,
    StepReminder,
    SuccessorAck,
    TargetDateAskedAck,
    TriggeredAck,
    UndeliverableAck,
    decode,
)

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
    if not isinstance(notice, StepReminder | CycleReminder | DigestReminder):
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


def _target_date_asked(ack: TargetDateAskedAck, flows: Flows, t: Translator) -> str:
    return t.gettext("{text!r} is not a date: reply to this message with the date, e.g. "
                     "15-01-{year} or 15 January {year}.").format(text=ack.given, year=ack.year)


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
    return duty_name(flow, of.cycle_id, of.period, of.index, of.year, t)


def _undeliverable(ack: UndeliverableAck, flows: Flows, t: Translator) -> str:
    flow = flows[ack.flow_id]
    return t.gettext("⚠️ {name} cannot be reached: they blocked the bot, so the step of {flow} "
                     "waiting for them was not delivered. Ask them to open the bot and press "
                     "Start.").format(name=ack.name, flow=flow_label(flow, ack.year, None, t))


def _fixed(text: str) -> Callable[[Any, Flows, Translator], str]:
    return lambda _ack, _flows, t: t.gettext(text)


_ACK_CLASSES = tuple(ACKS.values())  # every acknowledgement the codec stores
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
    (TargetDateAskedAck, _target_date_asked),
    ((ReturnedAck, TriggeredAck, CancelledAck, CycleRevisedAck),
     lambda ack, flows, t: render_flowops.ack_text(ack, flows, t)),
    ((SuccessorAck, DelegationActiveAck, MutasiOfferAck),
     lambda ack, flows, t: render_people.people_ack_text(ack, flows, t)),
)


# Reminders, their digest and /pengingat: bot.tg.render_reminders (issue 12).


# The helpers shared with render (last: render imports this module at its end).
from bot.tg import render_flowops, render_people  # noqa: E402
from bot.tg.render import (  # noqa: E402
    _role_title,
    address,
    duty_name,
    flow_label,
    help_text,
    own_title,
    step_title,
)

__all__ = ["ack_text", "as_ack", "as_reminder", "target_question"]
