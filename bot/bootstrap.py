"""The only wiring: settings, a clock and a storage backend → the running application.

``sopbot run``, ``sopbot web``, ``sopbot invite``, the demo and the test harnesses all build
the bot here, so that what runs in production is what the tests run. Nothing else constructs
:class:`~bot.services.Services` or calls :func:`bot.tg.app.build_application`.

- :func:`build_services` — flows + a storage backend → the services (no Telegram: ``invite``).
- :func:`build_bot` — the services, wired to a python-telegram-bot Application.
- :func:`running` — run a built bot (initialise, start, poll) while the block lasts, holding
  the data directory as the running bot's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine.model import Flow
from bot.services import Services
from bot.services.oversight import OversightUnit
from bot.storage import Store
from bot.storage.protocol import Storage

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import Settings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock (the one place the bot reads it; tests and the demo pass their own)."""
    return datetime.now(UTC)


def open_store(data_dir: str | Path) -> Store:
    """The TinyDB storage backend on a data directory (raises StoreError when unusable)."""
    return Store(data_dir)


def build_services(flows: Iterable[Flow], store: Storage, *,
                   invite_ttl: timedelta = timedelta(days=7),
                   env: Mapping[str, str] | None = None) -> Services:
    """The use cases over `store` and the loaded `flows`; the oversight unit from
    ``SOPBOT_OVERSIGHT_UNIT`` / ``SOPBOT_OVERSIGHT_NAME`` (`env`, default the environment).
    Raises :class:`~bot.config.ConfigError` when that unit is badly declared."""
    from bot.config import ConfigError, oversight_from

    services = Services(store, flows, invite_ttl=invite_ttl)
    problems: list[str] = []
    declared = oversight_from(os.environ if env is None else env, problems,
                              {f.unit.id for f in services.flows.values()})
    if problems:
        raise ConfigError(problems)
    if declared is not None:
        services.oversight = OversightUnit(declared[0],
                                           declared[1] or "Bagian Organisasi Setda")
    return services


@dataclass
class Bot:
    """A built bot: what it runs on and the Telegram application around it."""

    settings: Settings
    store: Storage
    services: Services
    app: Application
    clock: Clock


def build_bot(
    settings: Settings,
    flows: Iterable[Flow],
    *,
    store: Storage | None = None,
    clock: Clock = utc_now,
    rate_limit: bool = True,
    sender_poll_interval: float = 5.0,
    http_timeout: float | None = None,
    reminder_sync_interval: float = 300.0,
    paced: bool | None = None,
) -> Bot:
    """The whole bot from settings, flows, a clock and a storage backend.

    `store` defaults to the TinyDB store in ``settings.data_dir``; the keyword tuning knobs
    exist for the tests and the demo (fast polling, no rate limiter, short HTTP timeouts).
    """
    from bot.tg.app import build_application

    store = store if store is not None else open_store(settings.data_dir)
    services = build_services(flows, store, invite_ttl=settings.invite_ttl)
    app = build_application(settings, services, clock=clock, rate_limit=rate_limit,
                            sender_poll_interval=sender_poll_interval,
                            http_timeout=http_timeout,
                            reminder_sync_interval=reminder_sync_interval,
                            paced=rate_limit if paced is None else paced)
    return Bot(settings, store, services, app, clock)


@contextlib.asynccontextmanager
async def running(bot: Bot, *, poll_timeout: int = 30,
                  poll: bool = True) -> AsyncIterator[Bot]:
    """Run `bot` while the block lasts; the data directory is claimed as the running bot's.

    With ``poll=False`` (webhook mode) updates come in through
    :func:`bot.tg.app.handle_update` instead of long polling.
    """
    from bot.tg.app import running as run_app

    claimed = bot.store.running_claimed
    if not claimed:
        bot.store.claim_running()  # `sopbot restore` refuses while this is held
    try:
        async with run_app(bot.app, poll_timeout=poll_timeout, poll=poll):
            yield bot
    finally:
        if not claimed:
            bot.store.release_running()
