"""Handlers of a step: its buttons, replies to it (a decision, a revision reason, a file), and
the free text that reads as a typed command; and the buttons of recurring duties.

Each reads the update, calls one service (through :func:`~bot.tg.handlers.service_call`) and
renders what it returns.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.i18n import Translator
from bot.services import (
    Decided,
    Member,
    StepMessage,
)
from bot.services.commands import Decide, Decision
from bot.tg import handlers_reports, render
from bot.tg.callbacks import (
    ADVANCE,
    REVISE,
    StepButton,
    decode_cycle,
)
from bot.tg.handlers import (
    Caller,
    Context,
    Runtime,
    edit_message,
    member_only,
    mulai,
    reply,
    run,
    runtime,
    service_call,
    status,
    tugas,
)

log = logging.getLogger(__name__)

ADVANCE_WORDS = {"selesai", "done", "setuju", "acc", "ok", "oke", "okay", "lanjut", "lanjutkan",
                 "disetujui", "approve", "approved", "sudah"}
REVISE_WORD = re.compile(r"^\s*revisi\b\s*[:,\-–]?\s*(?P<reason>.*)$", re.IGNORECASE | re.DOTALL)
FIRST_WORD = re.compile(r"^\s*([^\s:,.!]+)[\s:,.!]*(?P<rest>.*)$", re.DOTALL)
COMMAND_WORDS = ("mulai", "status", "tugas", "bantuan", "help", "bahasa", "batal")


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
                 ack_to: int | None = None) -> tuple[Decided | None, str | None]:
    """Take the decision: (what was decided, None) or (None, why not)."""
    rt = runtime(context)
    decision = Decision.REVISE if button.action == REVISE else Decision.ADVANCE
    return await service_call(rt, t, rt.services.decide, Decide(
        member, button.instance_id, button.step_no, button.round, decision, rt.clock(),
        note=note, attachments=attachments, origin=origin, ack_to=ack_to))


@member_only
async def button_pressed(update: Update, context: Context, caller: Caller) -> None:
    """Selesai / Setujui / Revisi."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    button = StepButton.decode(query.data or "")
    if button is None:
        await query.answer(t.gettext("This button is no longer valid."))
        return
    message = query.message
    if button.action == REVISE:
        _asked, problem = await service_call(
            rt, t, rt.services.ask_reason, member, button.instance_id, button.step_no,
            button.round, rt.clock(), chat_id=message.chat.id if message else None,
            message_id=message.message_id if message else None)
        await query.answer(problem or "", show_alert=bool(problem))
        return
    decided, problem = await decide(context, member, t, button,
                                    origin=_origin(message, member, button))
    if decided is None:
        await query.answer(problem or "", show_alert=True)
        return
    payload = {"ack": "decided", "flow_id": decided.flow.id,
               "step_no": decided.disposition.step_no,
               "action": decided.disposition.action.value, "completed": decided.completed}
    await query.answer(render.ack_text(payload, rt.services.flows, t)[:200])


def parse_decision(text: str) -> tuple[str, str | None] | None:
    """("advance", note) for "setuju ...", ("revise", reason-or-None) for "revisi ..."."""
    match = REVISE_WORD.match(text)
    if match:
        return "revise", (match.group("reason").strip() or None)
    match = FIRST_WORD.match(text)
    if match and match.group(1).casefold() in ADVANCE_WORDS:
        return "advance", (match.group("rest").strip() or None)
    return None


async def _reply_target(rt: Runtime, update: Update) -> StepMessage | None:
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return None
    return await run(rt.services.step_message, message.chat_id,
                     message.reply_to_message.message_id)


@member_only
async def text_message(update: Update, context: Context, caller: Caller) -> None:
    """Free text: a revision reason, a reply to a step, or a typed command."""
    rt, member, t = caller
    _ = t.gettext
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    pending = await run(rt.services.pending_reason, member)
    if pending is not None and not text.startswith("/"):
        button = StepButton(pending.instance_id, pending.step_no, pending.round, REVISE)
        _done, problem = await decide(context, member, t, button, note=text,
                                      ack_to=message.message_id)
        if problem:
            await reply(update, problem)
        return
    if message.reply_to_message is not None:
        if await handlers_reports.target_answer(update, context, caller):
            return  # the date the flow's target counts from (asked at mulai)
        target = await _reply_target(rt, update)
        if target is None:
            await reply(update, _("That message is not a step of a flow. Reply to a step "
                                  "message, or write \"status\" or /tugas."))
            return
        if target.kind == "cycle":
            if (parse_decision(text) or ("", None))[0] != "advance":
                await reply(update, _("Reply \"selesai\" when it is done, or send the evidence "
                                      "document as a reply."))
                return
            problem = await _cycle_done(update, context, member, t, target.instance_id,
                                        ack_to=message.message_id)
            if problem:
                await reply(update, problem)
            return
        parsed = parse_decision(text)
        if parsed is None:
            await reply(update, _("Reply \"selesai\" or \"setuju\" to go on, or "
                                  "\"revisi: <reason>\" to send it back."))
            return
        action, note = parsed
        button = StepButton(target.instance_id, target.step_no, target.round,
                            REVISE if action == "revise" else ADVANCE)
        if action == "revise" and not note:
            _asked, problem = await service_call(
                rt, t, rt.services.ask_reason, member, target.instance_id, target.step_no,
                target.round, rt.clock(), chat_id=target.chat_id, message_id=target.message_id,
                ack_to=message.message_id)
        else:
            _done, problem = await decide(context, member, t, button, note=note,
                                          ack_to=message.message_id)
        if problem:
            await reply(update, problem)
        return
    word, _sep, rest = text.strip().partition(" ")
    word = word.casefold()
    if word == "mulai":
        await mulai(update, context, rest)
    elif word == "status":
        await status(update, context, rest)
    elif word in ("tugas", "tugasku"):
        await tugas(update, context)
    elif word == "rekap":
        await handlers_reports.rekap(update, context, rest)
    else:
        await reply(update, render.help_text(t))


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
    parsed = parse_decision(caption) if caption else None
    if parsed is not None and (parsed[0] == "advance" or parsed[1]):
        action, note = parsed
        button = StepButton(target.instance_id, target.step_no, target.round,
                            REVISE if action == "revise" else ADVANCE)
        _done, problem = await decide(context, member, t, button, note=note,
                                      attachments=(attachment,), ack_to=message.message_id)
    else:
        _flow, problem = await service_call(
            rt, t, rt.services.attach, member, target.instance_id, target.step_no, target.round,
            (attachment,), rt.clock(), caption or None, ack_to=message.message_id)
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
    task = decode_cycle(query.data or "")
    problem = (await _cycle_done(update, context, member, t, task) if task
               else t.gettext("This button is no longer valid."))
    await query.answer(problem or t.gettext("Recorded."), show_alert=bool(problem))
    if problem is None and isinstance(query.message, Message):
        await edit_message(query.message, (query.message.text or "") + "\n\n✔️", None)
