"""Long polling that never loses an update, never applies one twice, and lets no chat hold
up another.

python-telegram-bot's own poller confirms a batch of updates to Telegram (the getUpdates
offset) as soon as it has fetched it, before the handlers have run: a crash then silently
drops a button press. This poller confirms an update only once its effects are stored: the
offset it asks with is the oldest update not yet finished. Handling an update runs in
:func:`bot.services.handling_update`; the transaction that stores its effects records the
update id in the same atomic write, so an update that Telegram delivers again after a crash
is recognised and skipped.

Updates are handled concurrently across chats and in order within a chat (a queue and a
worker per chat; webhook requests take the same per-chat lock). A transient fault — the disk
full or read-only, the Bot API answering 5xx or unreachable — delays an update, never drops
it: it is retried with capped backoff until the fault clears, the official is told once that
it will be processed, and other chats go on meanwhile. Only an update that can never succeed
(the chat blocked the bot, Telegram refuses the request, a bug) is given up after
:data:`MAX_ATTEMPTS`; it is logged and recorded in the store (``failed_updates``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes

from bot.i18n import N_, Translator, normalize_language
from bot.ops import metrics
from bot.services import Services, StoreError, handling_update
from bot.tg.sender import retry_seconds

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0

#: Errors python-telegram-bot reported to the error handlers while the current update was
#: handled: PTB gives a handler's exception to the error handlers instead of raising it.
_FAILURES: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "sopbot_update_failures", default=None)

#: Updates asked for at once: a batch is parsed in the event loop in one go (about a
#: millisecond an update), so a burst of a hundred would stall it for a tenth of a second.
BATCH = 20

#: Seconds the poller waits, after queueing new updates, for one of them to finish before
#: it asks Telegram again (see _dispatch); an update from another chat waits at most this.
REPOLL_GRACE = 0.05

#: How often an update that fails for a lasting reason is tried before it is given up.
MAX_ATTEMPTS = 3

#: Told once to an official whose update waits for a transient fault to clear.
DELAYED = N_("⏳ The bot has a temporary problem. Your message is kept and will be processed "
             "as soon as it is resolved; there is no need to send it again.")


class UpdateFailed(Exception):
    """A handler of the update failed: its effects were not stored; deliver it again.

    `transient` when the cause may clear by itself (disk, network, 5xx): retry without limit.
    """

    def __init__(self, message: str, *, transient: bool, permanent: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.permanent = permanent  #: can never succeed: give up at once


def is_transient(exc: BaseException) -> bool:
    """A fault that clears by itself: the store cannot write, the Bot API is away or busy."""
    if isinstance(exc, Forbidden | InvalidToken | BadRequest):  # BadRequest is a NetworkError
        return False
    return isinstance(exc, OSError | StoreError | NetworkError | RetryAfter | TimeoutError)


async def record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB error handler: note that the update being handled failed."""
    failures = _FAILURES.get()
    if failures is not None and context.error is not None:
        failures.append(context.error)


def chat_key(update: Update) -> int:
    """The chat whose order the update belongs to (the sender for a chatless update)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


def addressed_to_bot(update: Update) -> bool:
    """Whether the update belongs to the bot's protocol: a new message in a private chat, a
    message that reached the bot in a group (with Telegram's privacy mode only commands,
    mentions and replies do: each gets a pointer to the private chat and binds no one, issue
    12), or a button pressed on one of the bot's messages. Edited messages, channel posts and
    whatever else are ignored."""
    message = update.message
    if message is not None:
        return message.chat.type in ("private", "group", "supergroup")
    query = update.callback_query
    if query is not None:
        pressed = query.message
        return pressed is None or pressed.chat.type != "channel"
    return False


class DurablePoller:
    """getUpdates → a worker per chat → confirm (the offset) only what is finished."""

    def __init__(self, app: Application, services: Services, *, timeout: int = 30,
                 allowed_updates: Sequence[str] | None = None, retry_base: float = 1.0,
                 default_language: str = "id") -> None:
        self.app = app
        self.services = services
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates) if allowed_updates else None
        self.retry_base = retry_base
        self.default_language = default_language
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._queues: dict[int, asyncio.Queue[Update]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._unfinished: set[int] = set()  # fetched, not yet finished
        self._finished: set[int] = set()  # finished above the confirmed offset
        self._progress = asyncio.Event()
        self._told: set[int] = set()  # updates whose official was told of a delay
        self._top: int | None = None  # one past the newest update fetched
        self._lock_users: dict[int, int] = {}
        self._stopping = False
        #: Updates above this id that this process has not begun were never handled: their
        #: effects cannot be stored, so they need no look-up (None: not read yet).
        self._fresh_above: int | None = None
        self._begun: set[int] = set()  # updates this process began to handle (above it)
        self._newest_lock = asyncio.Lock()
        app.add_error_handler(record_failure)

    async def start(self) -> None:
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        metrics.telegram_answered()  # /health: ready before the first long poll returns
        self._task = asyncio.create_task(self._run(), name="sopbot-poller")

    async def stop(self) -> None:
        """Stop polling and confirm what was handled, so a restart does not see it again."""
        if self._task is None:
            return
        self._stopping = True  # ends the loop even if a library swallowed the cancellation
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=self._confirmable(), timeout=0, limit=1)

    # -- polling -------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.0
        unreachable = False
        while not self._stopping:
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset, timeout=self.timeout, limit=BATCH,
                    allowed_updates=self.allowed_updates, read_timeout=self.timeout + 10)
            except RetryAfter as exc:
                metrics.poll_failed("rate_limited")
                await asyncio.sleep(retry_seconds(exc))
                continue
            except InvalidToken:
                metrics.poll_failed("token")
                if not unreachable:
                    log.critical("Telegram refuses the bot token; check TELEGRAM_BOT_TOKEN "
                                 "and TELEGRAM_API_URL")
                unreachable = True
                await asyncio.sleep(MAX_BACKOFF)
                continue
            except (Conflict, NetworkError) as exc:
                metrics.poll_failed("conflict" if isinstance(exc, Conflict) else "network")
                backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
                if not unreachable:  # once per state change, not once per try
                    log.warning("Telegram cannot be reached (%s); retrying with backoff up "
                                "to %.0fs (check TELEGRAM_API_URL and HTTPS_PROXY)",
                                type(exc).__name__, MAX_BACKOFF)
                unreachable = True
                await asyncio.sleep(backoff)
                continue
            if unreachable:
                log.warning("Telegram can be reached again")
            unreachable = False
            backoff = 0.0
            metrics.poll_succeeded()
            await self._dispatch(updates)

    async def _dispatch(self, updates: Sequence[Update]) -> None:
        """Queue the new updates on their chats' workers; advance the offset."""
        fresh = 0
        for update in updates:
            uid = update.update_id
            if uid in self._unfinished or uid in self._finished:
                continue  # delivered again because an older one is not finished yet
            if self.offset is not None and uid < self.offset:
                continue
            fresh += 1
            self._unfinished.add(uid)
            key = chat_key(update)
            self._queues.setdefault(key, asyncio.Queue()).put_nowait(update)
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._work(key),
                                                         name=f"sopbot-chat-{key}")
        if updates:
            self._top = max(self._top or 0, updates[-1].update_id + 1)
        previous, self.offset = self.offset, self._confirmable()
        if fresh and self._unfinished and (len(updates) < BATCH or self.offset == previous):
            # Asked again at once, Telegram would only hand back the updates just queued
            # (they are not confirmed until their effects are stored): a wasted round trip
            # in the middle of handling them. Give the handlers a moment first. (A full
            # batch may have more behind it, but only once the oldest in hand is confirmed
            # can a poll reach them: in a burst of 200 presses the poller asked 96 times
            # for 200 updates, parsing the ones in hand again each time.)
            await self._await_progress(REPOLL_GRACE)
            self.offset = self._confirmable()
        elif updates and not fresh and self.offset == previous and self._unfinished:
            # Only updates already in hand came back (an old one is still being handled or
            # waits for a fault to clear) and nothing finished meanwhile: do not spin; wait
            # until some update finishes, then confirm what can be confirmed.
            await self._await_progress(1.0)
            self.offset = self._confirmable()

    async def _await_progress(self, seconds: float) -> None:
        """Wait until an update in hand finishes, at most `seconds`."""
        self._progress.clear()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
        # that arrives as the event is set, and stop() then waited for ever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._progress.wait()

    def _confirmable(self) -> int | None:
        """The offset that confirms every finished update below the oldest unfinished one."""
        if self._top is None:
            return self.offset
        offset = min(self._unfinished) if self._unfinished else self._top
        self._finished = {uid for uid in self._finished if uid >= offset}
        return offset

    async def _work(self, key: int) -> None:
        """Handle one chat's updates in order; ends when its queue is empty."""
        queue = self._queues[key]
        try:
            while not queue.empty():
                update = queue.get_nowait()
                try:
                    await self.process(update)
                finally:
                    self._unfinished.discard(update.update_id)
                    self._finished.add(update.update_id)
                    self._progress.set()
        finally:
            self._workers.pop(key, None)
            if queue.empty():
                self._queues.pop(key, None)

    # -- one update ----------------------------------------------------------------------

    async def process(self, update: Update, *, give_up_after: float | None = None) -> bool:
        """Handle `update`, retrying transient faults with backoff; True once done (handled,
        skipped or given up and recorded), False when `give_up_after` seconds passed first
        (the webhook then answers 500 and Telegram delivers it again)."""
        loop = asyncio.get_running_loop()
        deadline = None if give_up_after is None else loop.time() + give_up_after
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.handle(update)
                return True
            except UpdateFailed as exc:
                if not exc.transient and (exc.permanent or attempt >= MAX_ATTEMPTS):
                    await self._give_up(update, exc, attempt)
                    return True
                if exc.transient:
                    if attempt == 1:
                        log.warning("update %s waits for a transient fault to clear (%s)",
                                    update.update_id, exc)
                    await self._tell_delayed(update)
                wait = min(MAX_BACKOFF, self.retry_base * 2 ** min(attempt - 1, 10))
                if deadline is not None and loop.time() + wait > deadline:
                    return False
                await asyncio.sleep(wait)

    async def _give_up(self, update: Update, exc: UpdateFailed, attempts: int) -> None:
        log.error("update %s failed %d times (%s); giving up on it and recording it",
                  update.update_id, attempts, exc)
        metrics.update_done("given_up")

        def record() -> None:
            with self.services.store.transaction(record_update=False) as repo:
                repo.record_failed_update(update.update_id, str(exc)[:500], datetime.now(UTC))

        try:
            await asyncio.to_thread(record)
        except (OSError, StoreError) as error:
            log.error("update %s: the record of giving up could not be stored (%s)",
                      update.update_id, type(error).__name__)

    async def _tell_delayed(self, update: Update) -> None:
        """Tell the official, once per update, that it will be processed (best effort)."""
        if update.update_id in self._told or update.effective_chat is None:
            return
        user = update.effective_user
        language = normalize_language(user.language_code if user else None,
                                      self.default_language)
        try:
            await self.app.bot.send_message(update.effective_chat.id,
                                            Translator(language).gettext(DELAYED))
        except TelegramError:
            return  # the Bot API is the fault: it is told next time round
        self._told.add(update.update_id)

    async def handle(self, update: Update) -> None:
        """Handle one update unless its effects are already stored (or it is not addressed
        to the bot's private-chat protocol: then it is ignored).

        Raises :class:`UpdateFailed` when a handler failed, so that the update is not
        confirmed. Updates of one chat are handled one at a time, in order.
        """
        if not addressed_to_bot(update):
            log.debug("update %s ignored: not a private-chat message or button",
                      update.update_id)
            metrics.update_done("ignored")
            return
        key = chat_key(update)
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] = self._lock_users.get(key, 0) + 1
        try:
            async with lock:
                await self._handle_in_order(update)
        finally:
            self._lock_users[key] -= 1
            if not self._lock_users[key]:
                del self._lock_users[key]
                self._chat_locks.pop(key, None)

    @staticmethod
    async def _answer_late(update: Update) -> None:
        """A button whose decision is stored but whose answer failed (the Bot API was away):
        answer it now, so the official's button stops spinning."""
        if update.callback_query is None:
            return
        try:
            await update.callback_query.answer()
        except BadRequest:
            return  # answered before, or too old: nothing to do
        except (NetworkError, RetryAfter) as exc:
            raise UpdateFailed(f"{type(exc).__name__}: {exc}", transient=True) from exc
        except TelegramError:
            return

    async def _already_handled(self, update_id: int) -> bool:
        """Whether the update's effects are stored. Only an update this process began
        before, or one as old as the newest stored when it started, can have been: any
        other is new, and is not looked up (one store access less per update)."""
        if self._fresh_above is not None and update_id > self._fresh_above \
                and update_id not in self._begun:
            self._begin(update_id)
            return False
        try:
            if self._fresh_above is None:
                async with self._newest_lock:  # read once, not by every chat of a burst
                    if self._fresh_above is None:
                        newest = await asyncio.to_thread(self.services.newest_update_seen)
                        self._fresh_above = -1 if newest is None else newest
                if update_id > self._fresh_above and update_id not in self._begun:
                    self._begin(update_id)
                    return False
            seen = await asyncio.to_thread(self.services.update_seen, update_id)
        except (OSError, StoreError) as exc:
            raise UpdateFailed(f"{type(exc).__name__}: {exc}", transient=True) from exc
        if update_id > self._fresh_above:
            self._begin(update_id)
        return seen

    def _begin(self, update_id: int) -> None:
        self._begun.add(update_id)
        if len(self._begun) > 4096:  # forget the older half: they are looked up again
            cut = sorted(self._begun)[len(self._begun) // 2]
            self._fresh_above = max(self._fresh_above or -1, cut)
            self._begun = {u for u in self._begun if u > cut}

    async def _handle_in_order(self, update: Update) -> None:
        seen = await self._already_handled(update.update_id)
        if seen:
            log.info("update %s was already handled; skipped", update.update_id)
            metrics.update_done("skipped")
            await self._answer_late(update)
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
            first = failures[0]
            raise UpdateFailed(f"{type(first).__name__}: {first}",
                               transient=all(map(is_transient, failures)),
                               permanent=any(isinstance(f, Forbidden) for f in failures))
