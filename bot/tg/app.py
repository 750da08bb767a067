"""Build the python-telegram-bot Application: every handler wired in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.engine.calendar import resolve_timezone
from bot.formatting import format_short, format_until, format_when
from bot.i18n import LANGUAGES, N_, Translator
from bot.ops import gcpace
from bot.services import Services
from bot.services.reminders import Reminders
from bot.tg import handlers as h
from bot.tg import handlers_conversation as conversation
from bot.tg import handlers_flowops as flowops
from bot.tg import handlers_people as people
from bot.tg import handlers_reports as hr
from bot.tg import render_flowops as rf
from bot.tg import steps
from bot.tg.callbacks import (
    CONFIRM_PATTERN,
    CYCLE_PATTERN,
    DETAILS_PATTERN,
    LANGUAGE_PATTERN,
    STEP_PATTERN,
    WITHDRAW_PATTERN,
)
from bot.tg.digest_jobs import DigestScheduler
from bot.tg.gc_jobs import GcPacer
from bot.tg.http import bot_request
from bot.tg.pacing import UNPACED, Pace, PacedRateLimiter, Pacer
from bot.tg.poller import DurablePoller
from bot.tg.reminder_jobs import ReminderScheduler
from bot.tg.sender import OutboxSender

log = logging.getLogger(__name__)

#: Seconds the running scheduler jobs (a reminder round, a re-plan) and the outbox sender's
#: last write get to finish at stop.
JOB_STOP_GRACE = 5.0

#: Bot commands as registered with Telegram (setMyCommands): name -> description message.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("mulai", N_("start a flow: /mulai PK 2025")),
    ("status", N_("where a flow stands: /status PK 2025")),
    ("tugas", N_("steps waiting for me")),
    ("pengingat", N_("my next reminders and deadlines")),
    ("rekap", N_("recap across units (oversight): /rekap PK 2026")),
    ("ekspor", N_("the trail as Excel: /ekspor PK 2026")),
    ("monev", N_("the SOP monitoring form: /monev PK 2026")),
    ("grafik", N_("a flow's timeline picture: /grafik PK 2026")),
    ("bagan", N_("the SOP as a flowchart: /bagan PK")),
    ("ringkasan", N_("the Monday digest: /ringkasan off|on")),
    ("anggota", N_("the unit's officials, who has not joined, delegations (admin)")),
    ("delegasi", N_("hand my role to a Plh while I am away")),
    ("batal", N_("cancel what the bot is asking for")),
    ("bahasa", N_("choose the language")),
    ("bantuan", N_("help")),
)


def build_application(
    settings: Settings,
    services: Services,
    *,
    clock: Callable[[], datetime],
    rate_limit: bool = True,
    sender_poll_interval: float = 5.0,
    http_timeout: float | None = None,
    reminder_sync_interval: float = 300.0,
    paced: bool = True,
) -> Application:
    """The bot: handlers, the outbox sender (started in post_init) and its commands.

    Long (about 90 lines) on purpose: it is the one block wiring every handler, so that the
    whole chat surface is read in one place (docs/architecture.md, "Adding a chat command").
    """
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .updater(None)  # polling is the DurablePoller's (see running())
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .request(bot_request(http_timeout))  # http_timeout: tests, a stuck call fails fast
        .post_init(startup)
        .post_shutdown(shutdown)
    )
    pacer = Pacer(Pace() if paced else UNPACED)  # one pace for the sender and the handlers
    if rate_limit:
        # PTB types the builder by its rate limiter's argument type, which starts as None.
        builder = builder.rate_limiter(PacedRateLimiter(pacer, max_retries=3))  # type: ignore[arg-type]
    app = builder.build()
    sender = OutboxSender(app.bot, services, clock, default_language=settings.language,
                          poll_interval=sender_poll_interval, undo=settings.undo_minutes > 0,
                          pacer=pacer)
    app.bot_data[conversation.UNDO_MINUTES] = settings.undo_minutes
    reminders = Reminders(services, escalate_after=settings.escalate_after)
    scheduler = ReminderScheduler(app, reminders, sender, clock,
                                  sync_interval=reminder_sync_interval)
    app.bot_data["runtime"] = h.Runtime(services, sender, clock, settings.language, reminders,
                                        scheduler)

    # Private chats only: elsewhere a pointer to the private chat, nothing else (issue 12).
    app.add_handler(TypeHandler(Update, conversation.group_guard), group=-1)
    # Commands (Indonesian names; English users see English descriptions).
    app.add_handler(CommandHandler("start", h.start))
    app.add_handler(CommandHandler("mulai", flowops.mulai))  # a far year is confirmed first
    app.add_handler(CommandHandler("status", h.status))
    app.add_handler(CommandHandler(["tugas", "tasks"], h.tugas))
    app.add_handler(CommandHandler("batal", h.batal))
    app.add_handler(CommandHandler(["bahasa", "language"], h.bahasa))
    app.add_handler(CommandHandler(["bantuan", "help"], h.bantuan))
    app.add_handler(CommandHandler(["pengingat", "reminders"], h.pengingat))
    app.add_handler(CommandHandler("anggota", people.anggota))
    app.add_handler(CommandHandler("delegasi", people.delegasi))
    # Reports (issue 17): rekap, files, pictures, the weekly digest's opt-out.
    app.add_handler(CommandHandler("rekap", hr.rekap))
    app.add_handler(CommandHandler(["ekspor", "export"], hr.ekspor))
    app.add_handler(CommandHandler("monev", hr.monev))
    app.add_handler(CommandHandler(["grafik", "chart"], hr.grafik))
    app.add_handler(CommandHandler("bagan", hr.bagan))
    app.add_handler(CommandHandler(["ringkasan", "digest"], hr.ringkasan))
    app.bot_data["digest"] = DigestScheduler(app, services, clock,
                                             interval=reminder_sync_interval,
                                             default_language=settings.language)
    # The garbage collector's passes, paced (issue 15); the day's full one at night in the
    # office's zone (one Pemda is one zone: the first flow's unit).
    first = next(iter(services.flows.values()), None)
    app.bot_data["gc"] = GcPacer(app, resolve_timezone(first.unit.timezone if first
                                                       else "Asia/Jakarta"))
    app.add_handler(MessageHandler(filters.COMMAND, h.unknown_command))
    # Buttons: step decisions and the language choice, routed by their prefix.
    app.add_handler(CallbackQueryHandler(steps.button_pressed, pattern=STEP_PATTERN))
    app.add_handler(CallbackQueryHandler(h.language_chosen, pattern=LANGUAGE_PATTERN))
    app.add_handler(CallbackQueryHandler(steps.cycle_pressed, pattern=CYCLE_PATTERN))
    # Issue 13: Sudah kembali, the parts of a fan-out to send back, Ya/Tidak confirmations.
    app.add_handler(CallbackQueryHandler(flowops.wait_pressed, pattern=rf.WAIT_PATTERN))
    app.add_handler(CallbackQueryHandler(flowops.part_pressed, pattern=rf.PARTS_PATTERN))
    app.add_handler(CallbackQueryHandler(flowops.confirm_pressed, pattern=rf.CONFIRM_PATTERN))
    # Issue 14: the guided /delegasi.
    app.add_handler(CallbackQueryHandler(people.delegation_pressed,
                                         pattern=people.DELEGATION_PATTERN))
    app.add_handler(CallbackQueryHandler(people.mutasi_pressed, pattern=people.MUTASI_PATTERN))
    # Issue 12: Ya/Tidak on a decision in words, Tarik kembali, step details on demand.
    app.add_handler(CallbackQueryHandler(conversation.confirm_pressed, pattern=CONFIRM_PATTERN))
    app.add_handler(CallbackQueryHandler(conversation.withdraw_pressed,
                                         pattern=WITHDRAW_PATTERN))
    app.add_handler(CallbackQueryHandler(conversation.details_pressed,
                                         pattern=DETAILS_PATTERN))
    app.add_handler(CallbackQueryHandler(steps.button_pressed))  # stale/crafted data: answered
    # Free text (replies, typed commands, revision reasons) and files sent as replies.
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND,
                                   conversation.text_message))
    # After a /command: remind a revision reason that is still awaited.
    app.add_handler(MessageHandler(filters.COMMAND, conversation.remind_after_command), group=1)
    app.add_handler(MessageHandler(filters.Document.ALL | filters.PHOTO, steps.file_message))
    app.add_error_handler(h.error_handler)
    return app


async def startup(app: Application) -> None:
    """Register the commands and start the outbox sender (PTB's post_init).

    ``run_polling`` calls it; code that drives the Application by hand (tests, the demo)
    calls it after ``app.start()``.
    """
    rt: h.Runtime = app.bot_data["runtime"]
    # Babel reads a language's calendar data the first time a date is formatted (about
    # 0.3 s): in a thread now, not in the event loop when the first step message is rendered.
    warm = asyncio.create_task(asyncio.to_thread(warm_up_formatting, rt.clock()))
    for lang in LANGUAGES:
        t = Translator(lang)
        commands = [BotCommand(name, t.gettext(desc)) for name, desc in COMMANDS]
        if lang == rt.default_language:
            await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault())
        await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                      language_code=lang)
    await asyncio.to_thread(rt.services.settle_archives)
    await asyncio.to_thread(rt.sender.recover)
    await warm
    rt.sender.start()
    rt.sender.wake()  # deliver whatever was owed before a restart
    if rt.scheduler is not None:
        rt.scheduler.start()  # jobs derived from the database, now and periodically
    if "gc" in app.bot_data:  # freeze what start-up made; settle after the first plan
        pacer: GcPacer = app.bot_data["gc"]
        pacer.start(rt.scheduler.first_sync if rt.scheduler else None)
        if rt.scheduler is not None:  # and after every big re-plan
            rt.scheduler.on_replanned = pacer.replanned
    if "digest" in app.bot_data:
        app.bot_data["digest"].start()  # the Monday digest


def warm_up_formatting(now: datetime) -> None:
    """Format a date, a time and a duration in every language once (loads Babel's data)."""
    for lang in LANGUAGES:
        t = Translator(lang)
        format_when(now, "Asia/Jakarta", t)
        format_short(now, "Asia/Jakarta", t)
        format_until(now + timedelta(hours=2), now, t)


async def shutdown(app: Application, grace: float = JOB_STOP_GRACE) -> None:
    """Stop the outbox sender (PTB's post_shutdown), waiting at most `grace` seconds.

    The sender finishes recording what it sent (a shielded write), but that write waits for
    the store's lock, which a long re-plan can hold for minutes; past `grace` it is left
    undone: a message whose result was not recorded is resent once, marked uncertain, at the
    next start (the crash guarantee).
    """
    rt: h.Runtime = app.bot_data["runtime"]
    if "gc" in app.bot_data:
        await app.bot_data["gc"].stop()
    stopping = asyncio.ensure_future(rt.sender.stop())
    done, _pending = await asyncio.wait({stopping}, timeout=grace)
    if not done:  # (the sender's stop swallows a cancellation: it is not awaited again)
        stopping.cancel()
        log.warning("stopped the outbox sender before its last write (%.0f s)", grace)


#: How long a thread may hold the GIL before another may run (CPython's default: 5 ms). The
#: store's transactions run in worker threads and make several system calls each (write,
#: fsync, rename, the directory's fsync, the lock); after each one the thread waits for the
#: GIL again, up to a whole interval behind the busy event loop. With 200 officials
#: pressing at once that convoy made the drain 5.4× a bare bot's; at 0.5 ms it is 2.0–2.1×
#: (issue 15, ``bench/bench_burst.py``).
SWITCH_INTERVAL = 0.0005

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


@contextlib.asynccontextmanager
async def running(app: Application, *, poll_timeout: int = 30,
                  poll: bool = True) -> AsyncIterator[Application]:
    """Run the bot: initialize, start, register commands, poll; undo it all on exit.

    :func:`bot.bootstrap.running` (which also claims the data directory) is the one door
    ``sopbot run``, the tests and the demo use. Polling is
    the project's :class:`~bot.tg.poller.DurablePoller`, not PTB's Updater: an update is
    confirmed to Telegram only after its effects are stored. With ``poll=False`` (webhook
    mode) updates come in through :func:`handle_update` instead.
    """
    rt: h.Runtime = app.bot_data["runtime"]
    poller = DurablePoller(app, rt.services, timeout=poll_timeout,
                           allowed_updates=ALLOWED_UPDATES, default_language=rt.default_language)
    app.bot_data["poller"] = poller  # handle_update() goes through it in webhook mode
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    gcpace.limit_malloc_arenas()  # before the worker threads allocate (process-wide, kept)
    gcpace.fix_trim_threshold()  # their arenas' free tops handed back (process-wide, kept)
    try:
        await app.initialize()
        await app.start()
        await startup(app)
        if poll:
            await poller.start()
        try:
            yield app
        finally:
            await poller.stop()
            await stop_jobs(app)
            await app.stop()
            await shutdown(app)
            await app.shutdown()
    finally:
        sys.setswitchinterval(switch)  # a test run or an embedding process keeps its own


async def stop_jobs(app: Application, grace: float = JOB_STOP_GRACE) -> None:
    """Stop the job queue, letting running jobs finish for `grace` seconds, then cancel them.

    PTB's ``Application.stop`` waits for running jobs with no limit, and a re-plan of
    thousands of instances can run for minutes: the bot did not stop within 30 s of SIGTERM
    (issue 15). A cancelled job's store transaction is atomic; what it did not do is done
    again at the next start.
    """
    job_queue = app.job_queue
    if job_queue is None or not job_queue.scheduler.running:
        return
    try:
        async with asyncio.timeout(grace):
            await job_queue.stop(wait=True)
    except TimeoutError:  # the jobs' tasks were cancelled with the wait
        log.warning("stopped the scheduler jobs still running after %.0f s", grace)
        await job_queue.stop(wait=False)


async def handle_update(app: Application, data: dict) -> None:
    """Handle one update received by webhook; returns once its effects are stored.

    The same path as polling: an update whose effects are already stored is skipped.
    """
    poller: DurablePoller = app.bot_data["poller"]
    await poller.handle(Update.de_json(data, app.bot))


async def wait_for_stop_signal() -> None:
    """Return at SIGINT or SIGTERM (``sopbot run`` serves until then)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
