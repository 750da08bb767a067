"""Typed text, read by :mod:`bot.understanding` (issue 12): act only on the unmistakable.

- A reply to a step message, or a plain message: ``decide`` acts (as the button would),
  ``ask`` sends a Ya/Tidak question naming the step, ``none`` (hedges, anything unclear) never
  decides and says how to decide.
- A decision word typed without replying: the one open step gets the question; several are
  listed, each with its button.
- While a revision reason is awaited, a command or query is run as that command and the bot
  reminds that the reason is still awaited.
- Outside a private chat the bot answers with a pointer to the private chat and nothing else.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.engine.model import Flow, Step
from bot.i18n import Translator
from bot.services import Member, PendingReason, Task
from bot.services.commands import AskReason, Withdraw
from bot.textlimits import CALLBACK_ANSWER_LIMIT, shorten
from bot.tg import duty_chat, handlers_reports, render, steps
from bot.tg import handlers as h
from bot.tg import handlers_flowops as flowops
from bot.tg.callbacks import (
    ADVANCE,
    CONFIRM_NO,
    CONFIRM_YES,
    REVISE,
    ConfirmButton,
    DetailsButton,
    StepButton,
    WithdrawButton,
)
from bot.understanding import (
    Certainty,
    Intent,
    Understanding,
    is_acknowledgement,
    is_thanks,
    understand,
)
from bot.understanding.words import tokens

log = logging.getLogger(__name__)

ADVANCING = (Intent.APPROVE, Intent.COMPLETE)
REASON_PREVIEW = 600  # UTF-16 units of a revision reason shown in a question


def you(member: Member | None, t: Translator) -> str:
    """How the bot addresses an official: "Bapak"/"Ibu" (stored per member), else both."""
    return render.address(member.salutation if member is not None else None, t)


def welcome_text(member: Member | None, t: Translator) -> str:
    """The answer to thanks alone: in kind, not with the whole help."""
    return t.gettext("You are welcome, {you} 🙏").format(you=you(member, t))


def flows_of(rt: h.Runtime, member: Member) -> list[tuple[str, str]]:
    """(alias, name) of the flows the official can reach: what status/start may name."""
    seen = {(f.alias, f.name) for f in rt.services.flows.values() if f.unit.id in member.units}
    return sorted(seen)


def read(rt: h.Runtime, member: Member, text: str) -> Understanding:
    return understand(text, flows_of(rt, member))


async def toast(query: Any, text: str, alert: bool = False) -> None:
    """Answer a button press, shortened at a word to Telegram's 200 units."""
    await query.answer(shorten(text, CALLBACK_ANSWER_LIMIT) if text else None, show_alert=alert)


# --- the question and its buttons -------------------------------------------------------------


def question_text(flow: Flow, step_no: int, action: str, reason: str | None, member: Member,
                  t: Translator) -> str:
    """"Apakah Bapak menyetujui langkah 9 «…»?" (with the reason it would send)."""
    _ = t.gettext
    step = flow.step(step_no)
    args = {"you": you(member, t), "no": step_no, "title": render.step_title(step, t)}
    if action == REVISE and reason:
        return (_("Do {you} send step {no} «{title}» back for revision with this reason?")
                .format(**args) + "\n\n«" + shorten(reason, REASON_PREVIEW) + "»")
    if action == REVISE:
        return _("Do {you} want to send step {no} «{title}» back for revision?").format(**args)
    if step.is_decision:
        return _("Do {you} approve step {no} «{title}»?").format(**args)
    return _("Do {you} mark step {no} «{title}» as done?").format(**args)


def yes_label(flow: Flow, step_no: int, action: str, t: Translator) -> str:
    _ = t.gettext
    if action == REVISE:
        return _("🔁 Ya, revisi")
    return _("✅ Ya, setujui") if flow.step(step_no).is_decision else _("✅ Ya, selesai")


def question_keyboard(flow: Flow, button: StepButton, member: Member,
                      t: Translator) -> InlineKeyboardMarkup:
    def data(answer: str) -> str:
        return ConfirmButton(button.instance_id, button.step_no, button.round, button.action,
                             answer, member.id).encode()

    return InlineKeyboardMarkup([[
        InlineKeyboardButton(yes_label(flow, button.step_no, button.action, t),
                             callback_data=data(CONFIRM_YES)),
        InlineKeyboardButton(t.gettext("Tidak"), callback_data=data(CONFIRM_NO)),
    ]])


async def ask(update: Update, rt: h.Runtime, member: Member, t: Translator,
              button: StepButton, reason: str | None) -> None:
    """Send the Ya/Tidak question, as a reply to the official's message."""
    flow = rt.services.flows[await h.run(_flow_id, rt, member, button.instance_id)]
    await h.reply(update, question_text(flow, button.step_no, button.action, reason, member, t),
                  reply_markup=question_keyboard(flow, button, member, t),
                  do_quote=True)


def _flow_id(rt: h.Runtime, member: Member, instance_id: str) -> str:
    with rt.services.store.transaction(record_update=False) as repo:
        inst = repo.instance(instance_id)
        if inst is None or inst.unit_id not in member.units:
            raise KeyError(instance_id)
        return inst.flow_id


# --- text --------------------------------------------------------------------------------


@h.member_only
async def text_message(update: Update, context: h.Context, caller: h.Caller) -> None:
    """Free text: a revision reason, a reply to a step, a typed command, or a decision."""
    rt, member, t = caller
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    said = read(rt, member, text)
    pending = await h.run(rt.services.pending_reason, member)
    if pending is not None:
        if said.is_command:
            await command(update, context, said)
            await remind_pending(update, rt, member, t)
            return
        button = StepButton(pending.instance_id, pending.step_no, pending.round, REVISE)
        _done, problem = await steps.decide(context, member, t, button, note=text,
                                            ack_to=message.message_id,
                                            parts=tuple(pending.parts))
        if problem:
            await h.reply(update, problem)
        return
    if await flowops.handle_text(update, context, caller, text):
        return  # sudah kembali, revisi PK 2026 …, batalkan PK 2099 …
    if message.reply_to_message is not None:
        if await handlers_reports.target_answer(update, context, caller):
            return  # the date the flow's target counts from (asked at mulai)
        await _reply_to_step(update, context, caller, said, text)
        return
    word, _sep, rest = text.strip().partition(" ")
    if word.casefold() == "rekap":  # the recap across units (oversight)
        await handlers_reports.rekap(update, context, rest)
    elif said.is_command:
        await command(update, context, said)
    elif said.is_decision:
        await unreplied_decision(update, caller, said)
    elif is_thanks(text):  # answered in kind, not with the whole help
        await h.reply(update, welcome_text(member, t))
    elif is_acknowledgement(text):  # "siap, sy kerjakan dulu": a task taken on, not done
        await h.reply(update, t.gettext(
            "Noted, {you} 🙏 /tugas lists the steps waiting for you.").format(
            you=you(member, t)))
    else:
        await h.reply(update, render.help_text(t))


async def command(update: Update, context: h.Context, said: Understanding) -> None:
    """Run a typed command or query as the slash command would."""
    words = said.query_words
    if said.intent is Intent.STATUS:
        await h.status(update, context, words)
    elif said.intent is Intent.START:  # a year far from this one is confirmed first
        await flowops.mulai(update, context, words)
    elif said.intent is Intent.TASKS:
        await h.tugas(update, context)
    elif said.intent is Intent.CANCEL:
        await h.batal(update, context)
    elif said.intent is Intent.WITHDRAW:  # "tarik kembali" typed: the button does it
        _rt, member, t = await h.identify(update, context)
        await h.reply(update, t.gettext(
            "To withdraw a decision, {you} press ↩️ Tarik kembali on the decided step "
            "message (within {minutes} minutes, while nobody has acted since).").format(
                you=you(member, t),
                minutes=int(context.application.bot_data.get(UNDO_MINUTES, 10))))
    else:  # help, another /command
        await h.bantuan(update, context)


async def remind_pending(update: Update, rt: h.Runtime, member: Member,
                         t: Translator) -> None:
    """The revision reason is still awaited (after a command run meanwhile)."""
    pending: PendingReason | None = await h.run(rt.services.pending_reason, member)
    if pending is None:
        return
    try:
        flow = rt.services.flows[await h.run(_flow_id, rt, member, pending.instance_id)]
    except KeyError:
        return
    await h.reply(update, t.gettext(
        "Step {no} «{title}» still awaits the revision reason: please write it as the next "
        "message, or /batal to cancel.").format(
            no=pending.step_no, title=render.step_title(flow.step(pending.step_no), t)),
        reply_markup=ForceReply(selective=True))


async def remind_after_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After a /command (handled in the first handler group): remind a pending reason."""
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        return
    rt, member, t = await h.identify(update, context)
    if member is not None:
        await remind_pending(update, rt, member, t)


async def _reply_to_step(update: Update, context: h.Context, caller: h.Caller,
                         said: Understanding, text: str) -> None:
    rt, member, t = caller
    _ = t.gettext
    message = update.effective_message
    assert message is not None
    target = await steps._reply_target(rt, update)
    if target is None:
        if said.is_command:
            await command(update, context, said)
            return
        await h.reply(update, _("That message is not a step of a flow. Reply to a step "
                                "message, or write \"status\" or /tugas."))
        return
    if target.kind in ("cycle", "cycle_reason"):  # a recurring duty (its evaluation)
        await duty_chat.reply_to_duty(update, context, caller, said, text, target)
        return
    if said.is_command:
        await command(update, context, said)
        return
    flow = rt.services.flows.get(await h.run(_flow_id, rt, member, target.instance_id))
    assert flow is not None
    step = flow.step(target.step_no)
    if target.settled and said.certainty is not Certainty.DECIDE:
        await _settled_reply(update, member, t, step, target.step_no, text)
        return  # nothing to ask about a step that no longer waits (an unmistakable
        # "selesai" goes on, and is told who decided it)
    if said.intent in ADVANCING:
        button = StepButton(target.instance_id, target.step_no, target.round, ADVANCE)
        fits = (said.intent is Intent.APPROVE) == step.is_decision
        if said.certainty is Certainty.DECIDE and fits:
            _done, problem = await steps.decide(context, member, t, button,
                                                ack_to=message.message_id)
            if problem:
                await h.reply(update, problem)
        else:
            await ask(update, rt, member, t, button, None)
        return
    # Words that only may mean "send it back" ("sdh sy perbaiki") on a task: a task cannot
    # be sent back, so there is nothing to ask (an unmistakable "revisi: …" is refused with
    # the reason, below).
    if said.intent is Intent.REVISE and (step.is_decision
                                         or said.certainty is Certainty.DECIDE):
        button = StepButton(target.instance_id, target.step_no, target.round, REVISE)
        if said.certainty is not Certainty.DECIDE:
            await ask(update, rt, member, t, button, said.reason)
        elif said.reason:  # "revisi Bu Kasi: …" names parts of a fan-out
            parts, note = await flowops.parts_in_reply(caller, target, said.reason)
            _done, problem = await steps.decide(context, member, t, button, note=note,
                                                ack_to=message.message_id, parts=parts)
            if problem:
                await h.reply(update, problem)
        else:
            _asked, problem = await h.service_call(rt, t, rt.services.ask_reason, AskReason(
                member, target.instance_id, target.step_no, target.round, rt.clock(),
                chat_id=target.chat_id, message_id=target.message_id,
                ack_to=message.message_id))
            if problem:
                await h.reply(update, problem)
        return
    if target.settled:
        await _settled_reply(update, member, t, step, target.step_no, text)
        return
    await h.reply(update, no_decision_text(flow, target.step_no, member, t))


async def _settled_reply(update: Update, member: Member, t: Translator, step: Step,
                         step_no: int, text: str) -> None:
    """A reply that decides nothing, to a settled step message (its step decided, or its
    flow cancelled): never "nothing was recorded for step N", which reads as if the
    decision taken on it were lost, and no question about it."""
    if is_thanks(text):
        await h.reply(update, welcome_text(member, t))
        return
    await h.reply(update, t.gettext(
        "Nothing new was recorded: step {no} «{title}» no longer waits for anyone's decision "
        "here. /tugas lists the steps waiting for {you}.").format(
        no=step_no, title=render.step_title(step, t), you=you(member, t)))


def no_decision_text(flow: Flow, step_no: int, member: Member, t: Translator) -> str:
    """A hedge or anything unclear: nothing was recorded; how to decide."""
    _ = t.gettext
    step = flow.step(step_no)
    head = _("Noted: no decision yet, so nothing was recorded for step {no} «{title}».").format(
        no=step_no, title=render.step_title(step, t))
    if step.is_decision:
        how = _("When {you} decide, press a button on the step message, or reply to it with "
                "\"setuju\" or \"revisi: <reason>\".")
    else:
        how = _("When it is done, press the button on the step message, or reply to it with "
                "\"selesai\".")
    return head + "\n" + how.format(you=you(member, t))


# --- a decision typed without replying ---------------------------------------------------


async def unreplied_decision(update: Update, caller: h.Caller, said: Understanding) -> None:
    """"selesai" typed on its own: the one open step gets the question; several, a list."""
    rt, member, t = caller
    _ = t.gettext
    tasks: list[Task] = await h.run(rt.services.tasks, member, rt.clock())
    action = REVISE if said.intent is Intent.REVISE else ADVANCE
    if action == REVISE:
        tasks = [task for task in tasks if task.flow.step(task.view.step_no).is_decision]
    if not tasks:
        await h.reply(update, _("No step is waiting for {you} now, so nothing was "
                                "recorded.").format(you=you(member, t)))
        return
    buttons = [StepButton(task.instance.id, task.view.step_no,
                          _round(task), action) for task in tasks]
    if len(tasks) == 1:
        await ask(update, rt, member, t, buttons[0], said.reason)
        return
    lines = [_("Several steps are waiting for {you}. Which one do you mean?").format(
        you=you(member, t))]
    rows = []
    for task, button in zip(tasks, buttons, strict=True):
        label = render.flow_label(task.flow, task.instance.year, task.subject_name, t)
        title = render.step_title(task.flow.step(button.step_no), t)
        lines.append(f"• {button.step_no}. {title} — {label}")
        rows.append([InlineKeyboardButton(
            f"{yes_label(task.flow, button.step_no, action, t)} · {button.step_no} "
            f"{task.flow.alias} {task.instance.year}",
            callback_data=ConfirmButton(button.instance_id, button.step_no, button.round,
                                        action, CONFIRM_YES, member.id).encode())])
    first = buttons[0]
    rows.append([InlineKeyboardButton(_("Tidak"), callback_data=ConfirmButton(
        first.instance_id, first.step_no, first.round, action, CONFIRM_NO,
        member.id).encode())])
    await h.reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows),
                  do_quote=True)


def _round(task: Task) -> int:
    active = task.instance.active(task.view.step_no)
    return active.round if active is not None else 1


# --- Ya / Tidak pressed --------------------------------------------------------------------


@h.member_only
async def confirm_pressed(update: Update, context: h.Context, caller: h.Caller) -> None:
    """Ya does exactly what was asked, once (a second press finds the step decided)."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    _ = t.gettext
    confirm = ConfirmButton.decode(query.data or "")
    if confirm is None or confirm.member_id != member.id:
        await toast(query, _("This button is no longer valid."), alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    if confirm.answer == CONFIRM_NO:
        await toast(query, _("Nothing was changed."))
        if message is not None:
            await h.edit_message(message, (message.text or "") + "\n\n"
                                 + _("Nothing was changed."), None)
        return
    original = message.reply_to_message.text if message and message.reply_to_message else None
    said = read(rt, member, original or "")
    if confirm.action == REVISE and not (said.intent is Intent.REVISE and said.reason):
        _asked, problem = await h.service_call(rt, t, rt.services.ask_reason, AskReason(
            member, confirm.instance_id, confirm.step_no, confirm.round, rt.clock()))
    else:
        note = _note(original, said) if confirm.action == ADVANCE else said.reason
        _done, problem = await steps.decide(context, member, t, confirm.step, note=note)
    if problem:
        await toast(query, problem, alert=True)
        return
    await toast(query, _("Done."))
    if message is not None:
        await h.edit_message(message, (message.text or "") + "\n\n✔️", None)


def _note(original: str | None, said: Understanding) -> str | None:
    """What an official wrote with an approval in other words is kept as its note."""
    if not original or said.certainty is Certainty.DECIDE or len(tokens(original)) < 3:
        return None
    return original.strip()


# --- Tarik kembali -----------------------------------------------------------------------------

UNDO_MINUTES = "undo_minutes"  # bot_data key: SOPBOT_UNDO_MINUTES


@h.member_only
async def withdraw_pressed(update: Update, context: h.Context, caller: h.Caller) -> None:
    """"Tarik kembali" on a decided step message: the flow returns to that step."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    button = WithdrawButton.decode(query.data or "")
    minutes = int(context.application.bot_data.get(UNDO_MINUTES, 10))
    if button is None or minutes <= 0:
        await toast(query, t.gettext("This button is no longer valid."), alert=True)
        return
    _done, problem = await h.service_call(rt, t, rt.services.withdraw, Withdraw(
        member, button.instance_id, button.step_no, button.round, rt.clock(),
        timedelta(minutes=minutes)))
    if problem:
        await toast(query, problem, alert=True)
        if isinstance(query.message, Message):  # the button can do nothing more
            await _drop_markup(query.message)
        return
    await toast(query, t.gettext("Withdrawn: step {no} is waiting for {you} again.").format(
        no=button.step_no, you=you(member, t)))


async def _drop_markup(message: Message) -> None:
    try:
        await message.edit_reply_markup(None)
    except Exception as exc:  # already without buttons, deleted, too old: nothing to do
        log.info("could not drop the buttons of %s: %s", message.message_id, exc)


# --- Rincian ------------------------------------------------------------------------------


@h.member_only
async def details_pressed(update: Update, context: h.Context, caller: h.Caller) -> None:
    """"ℹ️ Rincian": the whole step, as a reply to its notification."""
    query = update.callback_query
    assert query is not None
    rt, member, t = caller
    button = DetailsButton.decode(query.data or "")
    if button is None:
        await toast(query, t.gettext("This button is no longer valid."), alert=True)
        return
    found, problem = await h.service_call(rt, t, rt.services.step_details, member,
                                          button.instance_id, button.step_no, button.round)
    if found is None:
        await toast(query, problem or "", alert=True)
        return
    await toast(query, "")
    flow, payload = found
    await h.reply(update, render.details_text(flow, payload, t))


# --- outside a private chat -----------------------------------------------------------------


async def group_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot works in private chats only: elsewhere, point there and stop (never re-bind)."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    rt = h.runtime(context)
    user = update.effective_user
    t = h.translator_for(rt, None, h.tg_user(update) if user else None)
    text = t.gettext("Sopbot works in a private chat only. Please write to me there: "
                     "{link}").format(link=f"https://t.me/{context.bot.username}")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(shorten(text, CALLBACK_ANSWER_LIMIT),
                                               show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError as exc:  # the pointer is a courtesy: the stop is the rule
        log.info("the pointer to the private chat could not be sent (%s)", exc)
    raise ApplicationHandlerStop
