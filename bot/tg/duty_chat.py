"""The atasan's evaluation of a recurring duty in chat (DPRD semester, step 11): approve it, or
send the official's report back for revision with the reason.

The evaluation's reminder carries ✅ Setujui and 🔁 Revisi. Setujui records it like any duty;
Revisi asks for the reason (a reply to that question is the reason). Typed replies to the
reminder work as officials write them: "setuju" / "sudah sesuai" approve, "revisi: <reason>"
sends it back; a hedge ("mungkin perlu revisi ya") never decides. The official then gets the
measurement and report again with the reason, and the atasan evaluates again.
"""

from __future__ import annotations

from telegram import ForceReply, Update

from bot.services import StepMessage, duty_stages
from bot.tg.handlers import Caller, Context, reply, run, service_call
from bot.understanding import Certainty, Intent, Understanding

ADVANCING = (Intent.APPROVE, Intent.COMPLETE)


async def revise_pressed(update: Update, context: Context, caller: Caller, tid: str) -> None:
    """🔁 Revisi under an evaluation reminder: ask for the reason as a reply."""
    rt, member, t = caller
    query = update.callback_query
    assert query is not None and rt.reminders is not None
    if not await run(duty_stages.is_decision, rt.reminders, member, tid, rt.clock()):
        await query.answer(t.gettext("This step is not one you can act on."), show_alert=True)
        return
    await query.answer()
    sent = await reply(update, t.gettext(
        "What must be revised? Reply to this message with the reason; the official will "
        "measure and report again."), reply_markup=ForceReply(selective=True))
    if sent:
        await run(duty_stages.remember_reason_prompt, rt.reminders, member,
                  sent[-1].chat_id, sent[-1].message_id, tid)


async def reply_to_duty(update: Update, context: Context, caller: Caller, said: Understanding,
                        text: str, target: StepMessage) -> None:
    """A typed reply to a duty's reminder, or to the question for a revision reason."""
    rt, member, t = caller
    _ = t.gettext
    message = update.effective_message
    assert message is not None and rt.reminders is not None
    tid = target.instance_id
    if target.kind == duty_stages.REASON_PROMPT:
        if said.intent is Intent.CANCEL and said.certainty is Certainty.DECIDE:
            await reply(update, _("Cancelled; nothing was changed."))
            return
        if said.intent in ADVANCING:  # "setuju" is no reason to send it back: ask again
            await reply(update, _("Nothing was recorded. Reply \"setuju\" (or press ✅ "
                                  "Setujui) to approve it, or \"revisi: <reason>\" to send "
                                  "it back to the official."))
            return
        reason = said.reason if said.intent is Intent.REVISE and said.reason else text
        await _revise(update, caller, tid, reason, message.message_id)
        return
    if said.intent in ADVANCING and said.certainty is Certainty.DECIDE:
        _task, problem = await service_call(rt, t, rt.reminders.mark_done, member, tid,
                                            rt.clock(), ack_to=message.message_id)
        if problem:
            await reply(update, problem)
    elif said.intent is Intent.REVISE and said.certainty is Certainty.DECIDE:
        await _revise(update, caller, tid, said.reason, message.message_id)
    elif await run(duty_stages.is_decision, rt.reminders, member, tid, rt.clock()):
        await reply(update, _("Nothing was recorded. Reply \"setuju\" (or press ✅ Setujui) to "
                              "approve it, or \"revisi: <reason>\" to send it back to the "
                              "official."))
    else:
        await reply(update, _("Reply \"selesai\" when it is done, or send the evidence "
                              "document as a reply."))


async def _revise(update: Update, caller: Caller, tid: str, reason: str | None,
                  ack_to: int) -> None:
    rt, member, t = caller
    assert rt.reminders is not None
    _task, problem = await service_call(rt, t, duty_stages.revise, rt.reminders, member, tid,
                                        reason, rt.clock(), ack_to=ack_to)
    if problem:
        await reply(update, problem)
