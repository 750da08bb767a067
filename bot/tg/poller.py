"""Long polling that never loses an update and never applies one twice.

python-telegram-bot's own poller confirms a batch of updates to Telegram (the getUpdates
offset) as soon as it has fetched it, before the handlers have run: a crash then silently
drops a button press. This poller asks for the next batch only after every update of the
current one has been handled, so an update is confirmed only once its effects are stored.
Handling an update runs in :func:`bot.services.handling_update`; the transaction that
stores its effects records the update id in the same atomic write, so an update that
Telegram delivers again after a crash is recognised and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Sequence

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.ops import metrics
from bot.services import Services, handling_update
from bot.tg.sender import retry_seconds

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


#: Errors python-telegram-bot reported to the error handlers while the current update was
#: handled: PTB gives a handler's exception to the error handlers instead of raising it.
_FAILURES: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "sopbot_update_failures", default=None)

#: How often polling tries an update whose handling fails before giving up on it.
MAX_ATTEMPTS = 3


class UpdateFailed(Exception):
    """A handler of the update failed: its effects were not stored; deliver it again."""


async def record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB error handler: note that the update being handled failed."""
    failures = _FAILURES.get()
    if failures is not None and context.error is not None:
        failures.append(context.error)


class DurablePoller:
    """getUpdates → handle each update → only then confirm it (by asking for the next)."""

    def __init__(self, app: Application, services: Services, *, timeout: int = 30,
                 allowed_updates: Sequence[str] | None = None) -> None:
        self.app = app
        self.services = services
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates) if allowed_updates else None
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._handling = asyncio.Lock()  # one update at a time, whichever way it came
        app.add_error_handler(record_failure)

    async def start(self) -> None:
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        metrics.telegram_answered()  # /health: ready before the first long poll returns
        self._task = asyncio.create_task(self._run(), name="sopbot-poller")

    async def stop(self) -> None:
        """Stop polling and confirm what was handled, so a restart does not see it again."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset, timeout=self.timeout,
                    allowed_updates=self.allowed_updates, read_timeout=self.timeout + 10)
            except RetryAfter as exc:
                metrics.poll_failed("rate_limited")
                await asyncio.sleep(retry_seconds(exc))
                continue
            except InvalidToken:
                metrics.poll_failed("token")
                log.critical("Telegram refuses the bot token; check TELEGRAM_BOT_TOKEN")
                backoff = MAX_BACKOFF
                await asyncio.sleep(backoff)
                continue
            except (Conflict, NetworkError) as exc:
                metrics.poll_failed("conflict" if isinstance(exc, Conflict) else "network")
                backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
                log.warning("getUpdates failed (%s); retrying in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            metrics.poll_succeeded()
            for update in updates:
                for attempt in range(1, MAX_ATTEMPTS + 1):
                    try:
                        await self.handle(update)
                        break
                    except UpdateFailed as exc:
                        if attempt == MAX_ATTEMPTS:
                            log.error("update %s failed %d times (%s); giving up on it",
                                      update.update_id, attempt, exc)
                        else:
                            await asyncio.sleep(attempt)
                self.offset = update.update_id + 1

    async def handle(self, update: Update) -> None:
        """Handle one update unless its effects are already stored.

        Raises :class:`UpdateFailed` when a handler failed, so that the update is not
        confirmed (polling retries it; a webhook answers 500 and Telegram redelivers).
        """
        async with self._handling:
            if await asyncio.to_thread(self.services.update_seen, update.update_id):
                log.info("update %s was already handled before a restart; skipped",
                         update.update_id)
                metrics.update_done("skipped")
                return
            failures: list[BaseException] = []
            failed = _FAILURES.set(failures)
            try:
                with handling_update(update.update_id):
                    await self.app.process_update(update)
            finally:
                _FAILURES.reset(failed)
            metrics.update_done("failed" if failures else "handled")
            if failures:
                raise UpdateFailed(f"{type(failures[0]).__name__}: {failures[0]}")

