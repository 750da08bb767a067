"""Telegram handlers: parse the update → call one service → render the result.

Workflow rules never live here. Service calls touch files, so they run in a worker thread
(``asyncio.to_thread``) and never block the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.engine import refusals as engine_refusals
from bot.formatting import format_short
from bot.i18n import LANGUAGES, Translator, normalize_language
from bot.services import (
    AlreadyRunning,
    AmbiguousFlow,
    Decided,
    InstanceStatus,
    InviteProblem,
    Member,
    OutboxItem,
    PerOfficialStatus,
    Refused,
    ServiceError,
    Services,
    StaleStep,
    TelegramUser,
    UnknownInstance,
)
from bot.services.commands import DropPendingReason, Join, Start
from bot.services.reminders import Reminders
from bot.tg import render
from bot.tg.callbacks import (
    decode_language,
    language_button,
)
from bot.tg.reminder_jobs import ReminderScheduler
from bot.tg.sender import OutboxSender, member_translator

log = logging.getLogger(__name__)
T = TypeVar("T")
LANGUAGE_PREFIX = language_button("")  # "l:"



@dataclass
class Runtime:
    """What handlers share: the services, the outbox sender, the reminders and the clock."""

    services: Services
    sender: OutboxSender
    clock: Callable[[], datetime]
    default_language: str = "id"
    reminders: Reminders | None = None
    scheduler: ReminderScheduler | None = None

    #: The reminders are re-planned once the changes pause for REPLAN_QUIET seconds, and
    #: at the latest REPLAN_MAX seconds after the first: a re-plan reads everything under
    #: the store's lock, so a burst of presses must not run one after every press.
    REPLAN_QUIET: ClassVar[float] = 2.0
    REPLAN_MAX: ClassVar[float] = 30.0
    _replan: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)
    _changed_since: float | None = field(default=None, init=False, repr=False)

    def changed(self, handed: list[tuple[OutboxItem, Member | None]] | None = None) -> None:
        """A use case stored something: deliver what it owes now (`handed`: exactly these
        items, which the sender need not read back), re-plan the reminders soon (see
        REPLAN_QUIET)."""
        if handed is None:
            self.sender.wake()
        elif handed:
            self.sender.hand_off(handed)
        if self.scheduler is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._changed_since is None:
            self._changed_since = now
        if self._replan is not None:
            self._replan.cancel()
        delay = min(self.REPLAN_QUIET, max(0.0, self._changed_since + self.REPLAN_MAX - now))
        self._replan = loop.call_later(delay, self._poke)

    def _poke(self) -> None:
        self._replan, self._changed_since = None, None
        if self.scheduler is not None:
            self.scheduler.poke()


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.application.bot_data["runtime"]


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking, file-touching) service call off the event loop."""
    return await asyncio.to_thread(func, *args, **kwargs)


def tg_user(update: Update) -> TelegramUser | None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return None
    # Only a private chat binds the official (a group's id never does: issue 12).
    chat_id = chat.id if chat.type == "private" else user.id
    return TelegramUser(id=user.id, chat_id=chat_id, name=user.full_name,
                        username=user.username, language_code=user.language_code)


def translator_for(rt: Runtime, member: Member | None, user: TelegramUser | None) -> Translator:
    if member is not None:
        return member_translator(member, rt.default_language)
    return Translator(normalize_language(user.language_code if user else None,
                                         rt.default_language))


async def reply(update: Update, text: str, **kwargs: Any) -> list[Message]:
    """Reply in the chat, split into Telegram-sized parts."""
    message = update.effective_message
    if message is None:
        return []
    sent = []
    for part in render.split_message(text):
        sent.append(await message.reply_text(part, **kwargs))
    return sent


async def identify(update: Update, context: ContextTypes.DEFAULT_TYPE,
                   ) -> tuple[Runtime, Member | None, Translator]:
    rt = runtime(context)
    user = tg_user(update)
    member = await run(rt.services.member, user) if user else None
    return rt, member, translator_for(rt, member, user)


async def ensure_member(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        ) -> tuple[Runtime, Member, Translator] | None:
    """The official behind the update; someone unregistered gets the join hint only."""
    rt, member, t = await identify(update, context)
    if member is None:
        if update.callback_query is not None:
            await update.callback_query.answer(render.not_registered_text(t), show_alert=True)
        else:
            await reply(update, render.not_registered_text(t))
        return None
    return rt, member, t


Context = ContextTypes.DEFAULT_TYPE


class Caller(NamedTuple):
    """Who sent the update, as a :func:`member_only` handler receives it."""

    rt: Runtime
    member: Member
    t: Translator


def member_only(
    handler: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., Coroutine[Any, Any, None]]:
    """The member check every official's handler starts with, once.

    The wrapped handler runs only for a registered official, who is passed as `caller` after
    `update` and `context`; anyone else gets the join hint (as an alert for a button).
    """

    @functools.wraps(handler)
    async def check(update: Update, context: ContextTypes.DEFAULT_TYPE, *args: Any,
                    **kwargs: Any) -> None:
        found = await ensure_member(update, context)
        if found is not None:
            await handler(update, context, Caller(*found), *args, **kwargs)

    return check


# --- /start and invitations ------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start <code>`` binds the user to the invitation's role; plain /start explains."""
    user = tg_user(update)
    code = context.args[0] if context.args else None
    if not code or user is None:
        rt, member, t = await identify(update, context)
        _ = t.gettext
        if member is None:
            await reply(update, render.not_registered_text(t))
        else:
            await reply(update, _("Welcome back, {name}.").format(name=member.name) + "\n\n"
                        + render.help_text(t))
        return
    rt = runtime(context)  # the welcome is rendered by the sender: no look-up before redeem
    try:
        await run(rt.services.redeem, Join(code, user, rt.clock(), ack_to=_message_id(update)))
    except InviteProblem as exc:
        _rt, _member, t = await identify(update, context)
        await reply(update, exc.message.render(t.gettext))
        return
    rt.changed()  # the welcome was stored with the binding; the sender delivers it


# --- starting, status, tasks -----------------------------------------------------------------


def _flow_problem(exc: ServiceError, t: Translator, now: datetime) -> str:
    _ = t.gettext
    if isinstance(exc, AmbiguousFlow):
        units = "\n".join(f"• {f.unit.id} — {f.unit.name}" for f in exc.flows)
        return exc.message.render(_) + "\n" + units
    if isinstance(exc, Refused):
        return refusal_text(exc, t)
    return exc.message.render(_)


#: What each refusal of the engine (DomainError.code) says: the engine's one table.
REFUSALS = engine_refusals.REFUSALS


def refusal_text(exc: Refused, t: Translator) -> str:
    """The engine's refusal, in the reader's language."""
    err = exc.error
    if err.code not in REFUSALS:
        log.warning("refusal without a message: %s (%s)", err.code, err)
    return err.message.render(t.gettext)


@member_only
async def mulai(update: Update, context: Context, caller: Caller,
                words: str | None = None) -> None:
    """``mulai PK 2025``."""
    rt, member, t = caller
    _ = t.gettext
    words = " ".join(context.args or []) if words is None else words
    now = rt.clock()
    try:
        await run(rt.services.start, Start(member, words, now, ack_to=_message_id(update)))
    except AlreadyRunning as exc:
        existing = exc.instances[0]
        st = await run(rt.services.status, member,
                       f"{exc.flow.alias} {existing.year} {exc.flow.unit.id}", now)
        await reply(update, _("{alias} {year} already exists in {unit}:").format(
            alias=exc.flow.alias, year=existing.year, unit=exc.flow.unit.name) + "\n\n"
            + _status_text(st, t, now))
        return
    except ServiceError as exc:
        from bot.tg.handlers_reports import report_problem
        await reply(update, report_problem(exc, t, now))
        return
    rt.changed()


def _status_text(st: Any, t: Translator, now: datetime) -> str:
    if isinstance(st, InstanceStatus):
        from bot.tg.handlers_reports import status_target
        return render.status_text(st, t, now) + status_target(st, t, now)
    if isinstance(st, PerOfficialStatus):
        return render.per_official_text(st, t, now)
    return render.overview_text(st, t, now)


@member_only
async def status(update: Update, context: Context, caller: Caller,
                 words: str | None = None) -> None:
    """``status PK 2025`` / ``status``."""
    rt, member, t = caller
    words = " ".join(context.args or []) if words is None else words
    now = rt.clock()
    try:
        st = await run(rt.services.status, member, words, now)
    except ServiceError as exc:
        await reply(update, _flow_problem(exc, t, now))
        return
    await reply(update, _status_text(st, t, now))


@member_only
async def tugas(update: Update, context: Context, caller: Caller) -> None:
    """``/tugas``: steps waiting for me."""
    rt, member, t = caller
    now = rt.clock()
    tasks = await run(rt.services.tasks, member, now)
    await reply(update, render.tasks_text(tasks, t, now))


async def bantuan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/bantuan``: what the bot understands."""
    _rt, member, t = await identify(update, context)
    if member is None:
        await reply(update, render.not_registered_text(t))
        return
    await reply(update, render.help_text(t))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know: say so, then help."""
    _rt, member, t = await identify(update, context)
    if member is None:
        await reply(update, render.not_registered_text(t))
        return
    await reply(update, t.gettext("I do not know that command.") + "\n\n" + render.help_text(t))


@member_only
async def batal(update: Update, context: Context, caller: Caller) -> None:
    """``/batal``: stop waiting for a revision reason."""
    rt, member, t = caller
    if await run(rt.services.drop_pending_reason,
                 DropPendingReason(member, rt.clock(), _message_id(update))):
        rt.changed()
    else:
        await reply(update, t.gettext("There was nothing to cancel."))


@member_only
async def bahasa(update: Update, context: Context, caller: Caller) -> None:
    """``/bahasa``: choose the language, with buttons."""
    _rt, _member, t = caller
    names = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(names[lang],
                                                           callback_data=language_button(lang))
                                      for lang in LANGUAGES]])
    await reply(update, t.gettext("Choose your language:"), reply_markup=keyboard)


@member_only
async def language_chosen(update: Update, context: Context, caller: Caller) -> None:
    query = update.callback_query
    assert query is not None
    rt, member, _t = caller
    lang = decode_language(query.data or "")
    if lang not in LANGUAGES:
        await query.answer()
        return
    await run(rt.services.set_language, member.id, lang)
    t = Translator(lang)
    await query.answer(t.gettext("Language set."))
    if not only_buttons(query.message, LANGUAGE_PREFIX):
        return  # a forged language button on another kind of message: never edit that one
    await edit_message(query.message, t.gettext("Language: {language}").format(
        language={"id": "Bahasa Indonesia", "en": "English"}[lang]), None)


def only_buttons(message: Any, prefix: str) -> bool:
    """Whether every button of `message` carries callback data starting with `prefix`: a
    callback may only edit a message of its own kind."""
    markup = getattr(message, "reply_markup", None)
    data = [b.callback_data for row in (markup.inline_keyboard if markup else ())
            for b in row]
    return bool(data) and all(isinstance(d, str) and d.startswith(prefix) for d in data)


async def edit_message(message: Any, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if message is None:
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        log.info("could not edit message: %s", exc)


# --- deciding -------------------------------------------------------------------------------


def _name(rt: Runtime, member_id: str) -> str:
    return rt.services.member_name(member_id)


def _stale_text(exc: StaleStep, rt: Runtime, t: Translator, name: str | None) -> str:
    _ = t.gettext
    if exc.decided is None:
        return _("This step is no longer active.")
    flow = rt.services.flows[exc.instance.flow_id]
    return _("Already decided by {name} on {when}.").format(
        name=name or exc.decided.member,
        when=format_short(exc.decided.at, flow.unit.timezone, t))


def _message_id(update: Update) -> int | None:
    return update.effective_message.message_id if update.effective_message else None


async def service_call(rt: Runtime, t: Translator, func: Callable[..., T], *args: Any,
                       **kwargs: Any) -> tuple[T | None, str | None]:
    """Run an effectful service; (result, None) or (None, what to tell the official)."""
    try:
        result = await run(func, *args, **kwargs)
    except (StaleStep, UnknownInstance, Refused) as exc:
        return None, await refused_text(rt, t, exc)
    rt.changed(result.queued if isinstance(result, Decided) else None)
    return result, None


async def refused_text(rt: Runtime, t: Translator, exc: ServiceError) -> str:
    """What to tell the official whose step's use case refused (`exc` is a
    :class:`StaleStep`, :class:`UnknownInstance` or :class:`Refused`; others re-raised)."""
    if isinstance(exc, StaleStep):
        name = await run(_name, rt, exc.decided.member) if exc.decided else None
        return _stale_text(exc, rt, t, name)
    if isinstance(exc, UnknownInstance):
        return t.gettext("This step is not one you can act on.")
    if isinstance(exc, Refused):
        return refusal_text(exc, t)
    raise exc


@member_only
async def pengingat(update: Update, context: Context, caller: Caller) -> None:
    """``/pengingat``: my upcoming reminders and deadlines."""
    rt, member, t = caller
    assert rt.reminders is not None
    now = rt.clock()
    points = await run(rt.reminders.upcoming, member, now)
    await reply(update, render.upcoming_text(points, rt.services.flows, t, now))


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unexpected error with the update that caused it."""
    log.error("error while handling an update", exc_info=context.error)
