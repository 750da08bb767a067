"""Handlers of a step: its buttons, replies to it (a decision, a revision reason, a file), and
the free text that reads as a typed command; and the buttons of recurring duties.

Each reads the update, calls one service (through :func:`~bot.tg.handlers.service_call`) and
renders what it returns.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot.i18n import Translator
from bot.services import (
    Decided,
    Member,
    StepMessage,
)
from bot.services.commands import AskReason, Attach, Decide, Decision
from bot.services.notices import DecidedAck
from bot.textlimits import CALLBACK_ANSWER_LIMIT, shorten
from bot.tg import duty_chat, render
from bot.tg import handlers_flowops as flowops
from bot.tg.callbacks import (
    ADVANCE,
    REVISE,
    StepButton,
    decode_cycle,
    decode_cycle_revise,
)
from bot.tg.handlers import (
    Caller,
    Context,
    Runtime,
    edit_message,
    member_only,
    refused_text,
    reply,
    run,
    runtime,
    service_call,
    tg_user,
    translator_for,
)
from bot.understanding import Certainty, Intent, understand

log = logging.getLogger(__name__)



def toast(text: str) -> str:
    """A callback answer, shortened at a word to Telegram's 200 units."""
    return shorten(text, CALLBACK_ANSWER_LIMIT)


def _origin(message: Any, member: Member, button: StepButton) -> StepMessage | None:
    """The pressed step message, as the services record it (its answer hint dropped)."""
    if message is None or not getattr(message, "text", None):
        return None
    text = message.text.rsplit("\n\n", 1)[0]
    return StepMessage(message.chat.id, message.message_id, member.id, button.instance_id,
                       button.step_no, button.round, text)


async def decide(context: ContextTypes.DEFAULT_TYPE, member: Member, t: Translator,
                 button: StepButton, *, note: str | None = None,
                 attachments: tuple[str, ...] = (), origin: StepMessage | None = None,
                 ack_to: int | None = None,
                 parts: tuple[str, ...] = ()) -> tuple[Decided | None, str | None]:
    """Take the decision: (what was decided, None) or (None, why not)."""
    rt = runtime(context)
    decision = Decision.REVISE if button.action == REVISE else Decision.ADVANCE
    return await service_call(rt, t, rt.services.decide, Decide(
        member, button.instance_id, button.step_no, button.round, decision, rt.clock(),
        note=note, attachments=attachments, origin=origin, ack_to=ack_to, parts=parts))


async def button_pressed(update: Update, context: Context) -> None:
    """Selesai / Setujui / Revisi.

    Selesai and Setujui are one unit of work: the official is found and the decision taken
    in one transaction; its messages are handed to the sender (the next official's go out
    at once, beside the answer to the button).
    """
    query = update.callback_query
    assert query is not None
    button = StepButton.decode(query.data or "")
    user = tg_user(update)
    if button is None or button.action == REVISE or user is None:
        await _button_of_member(update, context)
        return
    rt = runtime(context)
    message = query.message
    # The next official's step is built while the decision is synced to disk, and goes
    # the moment it is (OutboxSender.preparing).
    early = rt.sender.preparing()
    pressed = await run(rt.services.decide_pressed, user, lambda member: Decide(
        member, button.instance_id, button.step_no, button.round, Decision.ADVANCE,
        rt.clock(), origin=_origin(message, member, button)), early)
    t = translator_for(rt, pressed.member, user)
    if pressed.member is None:
        await query.answer(render.not_registered_text(t), show_alert=True)
        return
    if pressed.decided is None:
        assert pressed.error is not None
        await query.answer(toast(await refused_text(rt, t, pressed.error)), show_alert=True)
        return
    queued = None if pressed.retried else pressed.decided.queued
    rt.changed([] if early.handed else queued)  # (handed over already: see above)
    if queued:  # the next official's step goes first, the answer beside it
        await rt.sender.issued(queued)
    await query.answer(toast(render.ack_text(_said(pressed.decided), rt.services.flows, t)))


def _said(decided: Decided) -> DecidedAck:
    return DecidedAck(flow_id=decided.flow.id, step_no=decided.disposition.step_no,
                      action=decided.disposition.action.value, completed=decided.completed)


@member_only
async def _button_of_member(update: Update, context: Context, caller: Caller) -> None:
    """Revisi, and a button that is no longer valid: the official is looked up first."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    button = StepButton.decode(query.data or "")
    if button is None:
        await query.answer(t.gettext("This button is no longer valid."))
        return
    message = query.message
    if button.action == REVISE and await flowops.revise_pressed(update, caller, button):
        return  # a decision after a fan-out: its parts are offered first
    if button.action == REVISE:
        _asked, problem = await service_call(rt, t, rt.services.ask_reason, AskReason(
            member, button.instance_id, button.step_no, button.round, rt.clock(),
            chat_id=message.chat.id if message else None,
            message_id=message.message_id if message else None))
        await query.answer(toast(problem or ""), show_alert=bool(problem))
        return
    decided, problem = await decide(context, member, t, button,
                                    origin=_origin(message, member, button))
    if decided is None:
        await query.answer(toast(problem or ""), show_alert=True)
        return
    await query.answer(toast(render.ack_text(_said(decided), rt.services.flows, t)))


def caption_decision(caption: str) -> tuple[str, str | None] | None:
    """What a file's caption decides: (ADVANCE, None), (REVISE, reason) or None.

    Only an unmistakable decision ("selesai", "revisi: …") decides; anything else, hedges
    above all, only attaches the file with the caption as its note.
    """
    said = understand(caption) if caption.strip() else None
    if said is None or said.certainty is not Certainty.DECIDE:
        return None
    if said.intent in (Intent.APPROVE, Intent.COMPLETE):
        return ADVANCE, None
    if said.intent is Intent.REVISE and said.reason:
        return REVISE, said.reason
    return None


async def _reply_target(rt: Runtime, update: Update) -> StepMessage | None:
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return None
    replied = message.reply_to_message.message_id
    found = await run(rt.services.step_message, message.chat_id, replied)
    if found is None and await rt.sender.recorded(message.chat_id, replied):
        # sent a moment ago and just recorded (an official who replies at once)
        found = await run(rt.services.step_message, message.chat_id, replied)
    return found


@member_only
async def file_message(update: Update, context: Context, caller: Caller) -> None:
    """A document or photo sent as a reply to a step message is attached to that step."""
    rt, member, t = caller
    _ = t.gettext
    message = update.effective_message
    assert message is not None
    target = await _reply_target(rt, update)
    if target is None:
        await reply(update, _("To attach a file to a step, send it as a reply to that step's "
                              "message."))
        return
    if message.document is not None:
        attachment = f"doc:{message.document.file_id}"
    elif message.photo:
        attachment = f"photo:{message.photo[-1].file_id}"
    else:
        return
    if target.kind == "cycle":  # the evidence of a recurring duty: stored, and it is done
        problem = await _cycle_done(update, context, member, t, target.instance_id,
                                    evidence=attachment, ack_to=message.message_id)
        if problem:
            await reply(update, problem)
        return
    caption = message.caption or ""
    decided = caption_decision(caption)
    if decided is not None:
        action, note = decided
        button = StepButton(target.instance_id, target.step_no, target.round, action)
        _done, problem = await decide(context, member, t, button, note=note,
                                      attachments=(attachment,), ack_to=message.message_id)
    else:
        _flow, problem = await service_call(rt, t, rt.services.attach, Attach(
            member, target.instance_id, target.step_no, target.round, (attachment,),
            rt.clock(), caption or None, ack_to=message.message_id))
    if problem:
        await reply(update, problem)


async def _cycle_done(update: Update, context: ContextTypes.DEFAULT_TYPE, member: Member,
                      t: Translator, task: str, *, evidence: str | None = None,
                      ack_to: int | None = None) -> str | None:
    """Record a recurring duty as done; None, or why not."""
    rt = runtime(context)
    assert rt.reminders is not None
    _task, problem = await service_call(rt, t, rt.reminders.mark_done, member, task,
                                        rt.clock(), evidence=evidence, ack_to=ack_to)
    return problem


@member_only
async def cycle_pressed(update: Update, context: Context, caller: Caller) -> None:
    """The Selesai button of a triwulan/semester reminder."""
    query = update.callback_query
    assert query is not None
    _rt, member, t = caller
    revise = decode_cycle_revise(query.data or "")
    if revise:  # the evaluation sent back: the reason is asked for (bot.tg.duty_chat)
        await duty_chat.revise_pressed(update, context, caller, revise)
        return
    task = decode_cycle(query.data or "")
    problem = (await _cycle_done(update, context, member, t, task) if task
               else t.gettext("This button is no longer valid."))
    await query.answer(toast(problem or t.gettext("Recorded.")), show_alert=bool(problem))
    if problem is None and isinstance(query.message, Message):
        # A digest lists several duties: the buttons of the others stay.
        markup = query.message.reply_markup
        rest = [[b for b in row if b.callback_data != query.data]
                for row in (markup.inline_keyboard if markup else ())]
        rest = [row for row in rest if row]
        await edit_message(query.message, (query.message.text or "") + "\n\n✔️",
                           InlineKeyboardMarkup(rest) if rest else None)
