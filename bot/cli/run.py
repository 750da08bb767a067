"""``sopbot run`` (long polling); :func:`prepare_bot` is shared with ``sopbot web``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from bot.cli.common import load_or_report, report_settings, setup_logging
from bot.i18n import Translator
from bot.storage.store import Store

if TYPE_CHECKING:
    from bot.bootstrap import Bot
    from bot.config import Settings
    from bot.storage.protocol import Storage


def register(sub: Any, t: Translator) -> None:
    """Add ``run`` to the ``sopbot`` command line."""
    run = sub.add_parser("run", help=t.gettext("run the bot (long polling)"))
    run.set_defaults(func=cmd_run)


def prepare_bot(t: Translator, settings: Settings, mode: str) -> Bot | int:
    """What `run` and `web` share: flows, the data directory (claimed), logs, the bot.

    Returns the built bot (see :mod:`bot.bootstrap`), or the exit status when something is
    wrong.
    """
    from bot.bootstrap import build_bot
    from bot.cli.startup import open_checked_store

    flows = load_or_report(t, str(settings.flows_dir))
    if flows is None:
        return 1
    store = open_checked_store(settings.data_dir)
    if not isinstance(store, Store):
        print(store.render(t.gettext), file=sys.stderr)
        return 1
    setup_logging(settings.token)
    log = logging.getLogger("sopbot")
    # the calendars' holidays from a child process and <data dir>/cache, not from the library
    # loaded into this long-running process (17 MB), the years around today asked now
    from bot.holiday_tables import install_holiday_tables

    install_holiday_tables(settings.data_dir, datetime.now().year)
    if os.environ.get("DYNO"):
        log.warning("this looks like a Heroku dyno: its filesystem is ephemeral and %s will "
                    "be lost at the next restart; mount a persistent volume or run on a VPS "
                    "(see docs/deployment.md)", settings.data_dir)
    from bot.config import ConfigError

    try:
        bot = build_bot(settings, flows, store=store)
    except ConfigError as exc:  # SOPBOT_OVERSIGHT_UNIT names a unit of the flows
        store.release_running()
        return report_settings(t, exc.render(t.gettext))
    units = sorted({f.unit.id for f in flows})
    log.info("starting (%s): flows=%d units=%s members=%d data=%s api=%s", mode, len(flows),
             ",".join(units), bot.services.member_count(), settings.data_dir,
             settings.api_url)
    from bot.ops.coverage import warn_about_coverage  # from 1 November: next year's cuti bersama

    warn_about_coverage(flows, datetime.now().date(), log)
    return bot


async def serve_polling(bot: Bot, t: Translator) -> int:
    """``sopbot run``: poll for updates until SIGINT or SIGTERM, with /health and /metrics
    beside it when ``SOPBOT_HTTP_PORT`` is set; the exit status."""
    from telegram.error import TelegramError

    from bot.bootstrap import running
    from bot.cli.startup import telegram_problem
    from bot.ops.http import ops_server
    from bot.tg.app import wait_for_stop_signal

    log = logging.getLogger("sopbot")
    async with ops_server(bot.app, os.environ) as status:
        if status:
            return status
        try:
            async with running(bot):
                log.info("polling for updates")
                await wait_for_stop_signal()
        except TelegramError as exc:  # at start-up: getMe, setMyCommands, deleteWebhook
            log.debug("start-up failed", exc_info=True)
            print(telegram_problem(exc, bot.settings.api_url).render(t.gettext),
                  file=sys.stderr)
            return 1
    log.info("stopped")
    return 0


#: Seconds a stopping bot waits for the work still running in its worker threads (a store
#: transaction takes milliseconds; a whole re-plan of thousands of instances can take minutes).
STOP_GRACE = 5.0


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def serve_until_stopped(main: Coroutine[Any, Any, int], store: Storage, *,
                        grace: float = STOP_GRACE,
                        hard_exit: Callable[[int], NoReturn] = os._exit) -> int:
    """Run the bot's event loop (`main`, its exit status), then stop within `grace` seconds.

    The loop's blocking work (store transactions, reminder planning) runs in worker threads,
    which cannot be cancelled: ``asyncio.run`` and the interpreter's exit both wait for them
    to end, so a SIGTERM during a long re-plan left the bot running for minutes (issue 15).
    Here the loop is stopped first (no new work starts); what is still running in a thread
    after `grace` seconds is abandoned: the process ends at once (`hard_exit`) as a SIGKILL
    would end it, which loses nothing (every write is atomic; an update is confirmed to
    Telegram only after its effects are stored, and what was cut short is redone at the
    next start). The data directory's claim goes with the process.
    """
    executor = ThreadPoolExecutor(thread_name_prefix="sopbot-worker")
    loop = asyncio.new_event_loop()
    loop.set_default_executor(executor)
    status = 1  # unless `main` returns one
    try:
        status = loop.run_until_complete(main)
        return status
    finally:
        try:
            _cancel_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            if not _threads_end(executor, grace):
                logging.getLogger("sopbot").warning(
                    "stopped without waiting for work still running after %.0f s (it is "
                    "redone at the next start: every write is atomic)", grace,
                    exc_info=sys.exc_info()[1])
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                hard_exit(status)
            store.release_running()


def _threads_end(executor: ThreadPoolExecutor, grace: float) -> bool:
    """Whether the executor's threads end within `grace` seconds (queued work is dropped)."""
    executor.shutdown(wait=False, cancel_futures=True)
    waiter = threading.Thread(target=executor.shutdown, name="sopbot-stop", daemon=True)
    waiter.start()
    waiter.join(grace)
    return not waiter.is_alive()


def cmd_run(args: argparse.Namespace, t: Translator) -> int:
    """Start the bot (long polling)."""
    from bot.config import ConfigError, settings_from_env

    try:
        settings = settings_from_env(os.environ)
    except ConfigError as exc:
        return report_settings(t, exc.render(t.gettext))
    bot = prepare_bot(t, settings, "polling")
    if isinstance(bot, int):
        return bot
    return serve_until_stopped(serve_polling(bot, t), bot.store)
