"""``sopbot run`` (long polling); :func:`prepare_bot` is shared with ``sopbot web``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.common import load_or_report, report_settings, setup_logging
from bot.i18n import Translator
from bot.storage.store import Store

if TYPE_CHECKING:
    from bot.bootstrap import Bot
    from bot.config import Settings


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
    try:
        return asyncio.run(serve_polling(bot, t))
    finally:
        bot.store.release_running()
