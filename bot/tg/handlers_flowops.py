"""Chat handlers of the issue-13 operations: "Sudah kembali", choosing the parts of a fan-out
to send back, ``revisi PK 2026 mutasi …`` (an event step that re-runs a stretch of the flow),
``batalkan PK 2099 …`` and the confirmation of a start in a far year.

Re-running and cancelling ask Ya/Tidak first; what awaits confirmation is kept in memory
(``bot_data["confirmations"]``): after a restart the official simply writes it again.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import ForceReply, Message, Update

from bot.i18n import Translator
from bot.services import BadQuery, ServiceError, StepMessage
from bot.services.commands import AskPartsReason, Cancel, RecordReturn, TriggerStep
from bot.services.flowops import is_far_year
from bot.tg import handlers as h
from bot.tg import render_flowops as rf
from bot.tg.callbacks import StepButton
from bot.tg.handlers import Caller, Context, member_only, reply, run, service_call

RETURNED = re.compile(r"^\s*(?:sudah|sdh|telah)\s+(?:diterima\s+)?kembali\b[\s.!,]*"
                      r"(?P<rest>.*)$|^\s*(?:it\s+is\s+back|returned)\b[\s.!,]*(?P<rest_en>.*)$",
                      re.IGNORECASE | re.DOTALL)
TRIGGER = re.compile(r"^\s*revisi\s+(?P<words>[^:\s][^:]*?\b(?:19|20|21)\d\d\b.*)$",
                     re.IGNORECASE | re.DOTALL)
CANCEL = re.compile(r"^\s*(?:batalkan|cancel)\s+(?P<words>.+\b(?:19|20|21)\d\d\b.*)$",
                    re.IGNORECASE | re.DOTALL)
YEAR = re.compile(r"\b((?:19|20|21)\d\d)\b")


@dataclass
class Confirmation:
    """Something an official asked for, waiting for their Ya/Tidak."""

    member_id: str
    action: str  # "trigger" | "cancel" | "start"
    instance_id: str = ""
    step_no: int = 0
    reason: str = ""
    words: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _confirmations(context: Context) -> dict[str, Confirmation]:
    return context.application.bot_data.setdefault("confirmations", {})


async def _ask(update: Update, context: Context, t: Translator, text: str,
               pending: Confirmation) -> None:
    token = secrets.token_hex(6)
    _confirmations(context)[token] = pending
    await reply(update, text, reply_markup=rf.confirm_keyboard(token, t))


def _problem(exc: ServiceError, t: Translator, now: datetime) -> str:
    """What the official is told (NothingWaiting, SeveralWaiting … say it as their Message)."""
    return h._flow_problem(exc, t, now)


# --- "Sudah kembali" -----------------------------------------------------------------------


async def record_return(update: Update, caller: Caller, *, instance_id: str | None = None,
                        words: str = "") -> str | None:
    """Record that the document came back; None, or why not."""
    rt, member, t = caller
    now = rt.clock()
    try:
        _res, problem = await service_call(rt, t, rt.services.record_return, RecordReturn(
            member, now, instance_id=instance_id, words=words, ack_to=h._message_id(update)))
    except ServiceError as exc:
        return _problem(exc, t, now)
    return problem


@member_only
async def wait_pressed(update: Update, context: Context, caller: Caller) -> None:
    """The 📥 Sudah kembali button."""
    query = update.callback_query
    assert query is not None
    found = rf.decode_wait(query.data or "")
    if found is None:
        await query.answer(caller.t.gettext("This button is no longer valid."))
        return
    problem = await record_return(update, caller, instance_id=found[0])
    await query.answer(problem or caller.t.gettext("Recorded."), show_alert=bool(problem))


# --- revising some parts of a fan-out --------------------------------------------------------


async def revise_pressed(update: Update, caller: Caller, button: StepButton) -> bool:
    """Revisi on a decision after a fan-out: offer its parts. False: not such a decision."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    choice, problem = await service_call(rt, t, rt.services.parts_of, member,
                                         button.instance_id, button.step_no, button.round)
    if problem:
        await query.answer(problem, show_alert=True)
        return True
    if choice is None:
        return False
    await query.answer()
    keyboard = rf.parts_keyboard(button.instance_id, button.step_no, button.round,
                                 choice.parts, t)
    await reply(update, rf.parts_question(choice.flow, choice.back_to, t),
                reply_markup=keyboard)
    return True


@member_only
async def part_pressed(update: Update, context: Context, caller: Caller) -> None:
    """A part (or Semua) was chosen: ask the reason, as a reply (ForceReply)."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    found = rf.decode_part(query.data or "")
    if found is None:
        await query.answer(t.gettext("This button is no longer valid."))
        return
    instance_id, step_no, round_no, part = found
    choice, problem = await service_call(rt, t, rt.services.parts_of, member, instance_id,
                                         step_no, round_no)
    if problem or choice is None:
        await query.answer(problem or t.gettext("This button is no longer valid."),
                           show_alert=True)
        return
    names = dict(choice.parts)
    parts = () if part == rf.ALL_PARTS else (part,)
    if parts and part not in names:
        await query.answer(t.gettext("This button is no longer valid."), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    _ok, problem = await service_call(rt, t, rt.services.ask_parts_reason, AskPartsReason(
        member, instance_id, step_no, round_no, parts, rt.clock(),
        chat_id=message.chat.id if message else None,
        message_id=message.message_id if message else None))
    await query.answer(problem or "", show_alert=bool(problem))
    if problem is None:
        shown = [names[p] for p in parts] or [n for _m, n in choice.parts]
        await reply(update, rf.parts_reason_question(shown, t),
                    reply_markup=ForceReply(selective=True))


async def parts_in_reply(caller: Caller, target: StepMessage,
                         note: str) -> tuple[tuple[str, ...], str]:
    """"revisi Bu Kasi: …" as a reply to the decision: the parts it names, and the reason."""
    rt, member, _t = caller
    try:
        return await run(rt.services.parts_in_reason, member, target.instance_id,
                         target.step_no, note)
    except ServiceError:
        return (), note


# --- re-running an event step, cancelling, starting a far year -------------------------------


async def handle_text(update: Update, context: Context, caller: Caller, text: str) -> bool:
    """The typed operations; False when `text` is none of them."""
    message = update.effective_message
    is_reply = message is not None and message.reply_to_message is not None
    returned = RETURNED.match(text)
    if returned:
        rt = caller.rt
        target = None
        if is_reply:
            assert message is not None and message.reply_to_message is not None
            target = await run(rt.services.step_message, message.chat_id,
                               message.reply_to_message.message_id)
        if target is not None and target.kind != "wait":
            return False  # "sudah …" on a step message: the step's own decision
        rest = (returned.group("rest") or returned.group("rest_en") or "").strip()
        problem = await record_return(update, caller,
                                      instance_id=target.instance_id if target else None,
                                      words=rest if YEAR.search(rest) else "")
        if problem:
            await reply(update, problem)
        return True
    if is_reply:
        return False
    for pattern, ask in ((TRIGGER, _ask_trigger), (CANCEL, _ask_cancel)):
        found = pattern.match(text)
        if found:
            await ask(update, context, caller, found.group("words"))
            return True
    return False


async def _ask_trigger(update: Update, context: Context, caller: Caller, words: str) -> None:
    rt, member, t = caller
    now = rt.clock()
    try:
        plan = await run(rt.services.check_trigger, member, words, now)
    except ServiceError as exc:
        await reply(update, _problem(exc, t, now))
        return
    assert plan.step is not None
    await _ask(update, context, t, rf.trigger_question(plan.flow, plan.instance, plan.step.no,
                                                       plan.reason, t),
               Confirmation(member.id, "trigger", plan.instance.id, plan.step.no,
                            plan.reason))


async def _ask_cancel(update: Update, context: Context, caller: Caller, words: str) -> None:
    rt, member, t = caller
    now = rt.clock()
    try:
        plan = await run(rt.services.check_cancel, member, words)
    except ServiceError as exc:
        await reply(update, _problem(exc, t, now))
        return
    if not plan.reason:
        await reply(update, t.gettext("Say why, e.g. \"batalkan {alias} {year} dimulai "
                                      "karena salah\".").format(alias=plan.flow.alias,
                                                                 year=plan.instance.year))
        return
    await _ask(update, context, t, rf.cancel_question(plan.flow, plan.instance, plan.reason, t),
               Confirmation(member.id, "cancel", plan.instance.id, reason=plan.reason))


@member_only
async def mulai(update: Update, context: Context, caller: Caller,
                words: str | None = None) -> None:
    """``mulai PK 2025``; a year far from this one is confirmed first."""
    rt, member, t = caller
    words = " ".join(context.args or []) if words is None else words
    found = YEAR.search(words)
    now = rt.clock()
    if found and is_far_year(int(found.group(1)), now):
        await _ask(update, context, t, rf.far_year_question(int(found.group(1)), now.year, t),
                   Confirmation(member.id, "start", words=words))
        return
    await h.mulai(update, context, words)


@member_only
async def confirm_pressed(update: Update, context: Context, caller: Caller) -> None:
    """Ya / Tidak on a confirmation."""
    query = update.callback_query
    assert query is not None
    _rt, member, t = caller
    found = rf.decode_confirm(query.data or "")
    pending = _confirmations(context).get(found[0]) if found else None
    if found is None or pending is None or pending.member_id != member.id:
        await query.answer(t.gettext("This question has expired; please write it again."),
                           show_alert=True)
        return
    del _confirmations(context)[found[0]]
    message = query.message if isinstance(query.message, Message) else None
    await h.edit_message(message, ((message.text or "") if message else "") + "\n\n"
                         + (t.gettext("✔️ Ya") if found[1] else t.gettext("✖️ Tidak")), None)
    if not found[1]:
        await query.answer(t.gettext("Cancelled; nothing was changed."))
        return
    await query.answer()
    problem = await _confirmed(update, context, caller, pending)
    if problem:
        await reply(update, problem)


async def _confirmed(update: Update, context: Context, caller: Caller,
                     pending: Confirmation) -> str | None:
    rt, member, t = caller
    now = rt.clock()
    if pending.action == "start":
        await h.mulai(update, context, pending.words)
        return None
    try:
        if pending.action == "trigger":
            _r, problem = await service_call(rt, t, rt.services.trigger, TriggerStep(
                member, pending.instance_id, pending.step_no, pending.reason, now))
        else:
            _r, problem = await service_call(rt, t, rt.services.cancel, Cancel(
                member, pending.instance_id, pending.reason, now))
    except (ServiceError, BadQuery) as exc:
        return _problem(exc, t, now)
    return problem

