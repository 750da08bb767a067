"""Deliver the outbox: the messages transitions owe to officials.

Transitions store their notifications in the outbox in the same write as the transition; this
sender renders each one in its recipient's language when it goes out, retries network errors
and 5xx with capped backoff, waits out 429 ``retry_after``, and marks a chat that blocked the bot
(403) as undeliverable instead of retrying it forever.

Two lanes share one :class:`~bot.tg.pacing.Pacer` (Telegram's pace, kept before Telegram has
to say so): the interactive lane (steps, acknowledgements, edits: what an official waits for)
and the bulk lane (reminders). Each sends a round (:mod:`bot.tg.delivery`): several chats at
once, each chat in the order owed, the items marked in flight before they go and their
results recorded by group commit. The pacer lets the bulk lane hold only a couple of slots
ahead, so an interactive message never queues behind a round of reminders.

An item may take several Telegram calls (a long text in parts, then its attachments); the
calls already made are remembered, so a 429 or a network error in the middle resends only
what did not go out (never the step message again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import Bot, ForceReply, Message, ReplyParameters
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.engine.model import Flow
from bot.i18n import Translator, normalize_language
from bot.ops import metrics
from bot.services import Member, OutboxItem, Services
from bot.services.notices import decode, is_typed
from bot.services.outbox import is_bulk
from bot.tg.delivery import DeliveryRound, Due, Result, RoundPolicy, RoundPorts
from bot.tg.http import abandoned, held_until, on_written
from bot.tg.pacing import UNPACED, Pace, Pacer, retry_seconds
from bot.tg.render import (
    ack_text,
    cancelled_text,
    completed_text,
    cycle_keyboard,
    reminder_text,
    settled_text,
    split_message,
    step_instruction,
    step_keyboard,
    step_text,
    withdraw_keyboard,
)
from bot.tg.render_flowops import wait_instruction, wait_keyboard, wait_text
from bot.tg.render_people import people_keyboard

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
#: The interactive lane: every item of a round marked in one write, results recorded by
#: group commit as soon as they come (a step message must be known before its button is
#: pressed).
INTERACTIVE = RoundPolicy(lanes=8, mark_batch=1_000_000)
#: The bulk lane: chats at once; items marked in flight and results recorded a chunk per
#: write (each write rewrites the working set, so a bigger round takes bigger chunks: a
#: crash resends at most a chunk or two, marked uncertain).
BULK_LANES = 16
BULK_CHUNK = (100, 500)
BULK_WRITES = 20  # about this many writes per round, within BULK_CHUNK


#: How long a button's answer may wait for the next official's step to be under way (see
#: OutboxSender.issued).
ISSUE_WAIT = 0.01

#: How long the presser's edits may wait behind next officials' messages (see
#: OutboxSender._defer).
EDIT_WAIT_MAX = 15.0


def bulk_policy(owed: int) -> RoundPolicy:
    """The bulk lane's policy for a round of `owed` items."""
    low, high = BULK_CHUNK
    chunk = max(low, min(high, owed // BULK_WRITES))
    return RoundPolicy(lanes=BULK_LANES, mark_batch=chunk, flush_size=chunk,
                       flush_every=10.0)


def member_translator(member: Member | None, default: str) -> Translator:
    """The recipient's language: their choice, else Telegram's, else the deployment's."""
    if member is None:
        return Translator(default)
    return Translator(member.language or normalize_language(member.telegram_language,
                                                            default))


class OutboxSender:
    """Sends pending outbox items; :meth:`wake` after each transaction that queued some."""

    def __init__(self, bot: Bot, services: Services, clock: Callable[[], datetime], *,
                 default_language: str = "id", poll_interval: float = 5.0,
                 undo: bool = True, pace: Pace = UNPACED, pacer: Pacer | None = None) -> None:
        self.bot = bot
        self.undo = undo  # offer "Tarik kembali" on a decided step (SOPBOT_UNDO_MINUTES > 0)
        self.services = services
        self.clock = clock
        self.default_language = default_language
        self.poll_interval = poll_interval
        self.pacer = pacer or Pacer(pace)  # shared with PacedRateLimiter when given
        self._wake = asyncio.Event()
        self._bulk_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._backoff = 0.0
        #: item id -> ids of the messages its calls already made (see the module's doc)
        self._progress: dict[str, list[int]] = {}
        self._handed: list[Due] = []  # a decision's items, handed over (see hand_off)
        self._read_needed = True  # something may be owed that was not handed over
        self._taken: dict[str, None] = {}  # ids of the items recent rounds took
        self._edits_waiting_since: float | None = None  # see _defer
        self._issuing: dict[str, asyncio.Event] = {}  # see issued
        #: item id -> its decision's write, when handed over before it was durable
        self._stored: dict[str, asyncio.Future[None]] = {}
        #: (chat id, message id) of messages sent whose result is not stored yet (a round
        #: records its results a moment after they come): see :meth:`recorded`
        self._unrecorded: set[tuple[int, int]] = set()
        self._sending: dict[int, int] = {}  #: chat id -> items being sent to it now
        self._recording = asyncio.Condition()

    def wake(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        self._read_needed = True
        self._wake.set()
        self._bulk_wake.set()

    def hand_off(self, due: list[Due], stored: asyncio.Future[None] | None = None) -> None:
        """A decision's new items (with their recipients), straight from its write: sent
        at once, without reading the outbox back, unless something else may be owed too
        (then the next round reads everything, in the order owed). Items the decision
        already marked in flight (the next officials') go first; the rest (the presser's
        edits) in a round after them.

        `stored`: the items come from inside the decision's transaction (see
        :class:`Preparing`); their requests are built at once, but their bytes wait for
        `stored` and are dropped unsent if it fails (:func:`bot.tg.http.held_until`)."""
        if stored is not None:
            for item, _member in due:
                self._stored[item.id] = stored
        first = _first_inflight(due)
        if first is not None and self._tasks and first not in self._issuing:
            self._issuing[first] = asyncio.Event()  # see issued
        self._handed.extend(due)
        self._wake.set()

    def preparing(self) -> Preparing:
        """For a decision about to be taken in a worker thread: its items are handed over
        from inside its transaction and held until it is durable (see :class:`Preparing`)."""
        return Preparing(self, asyncio.get_running_loop())

    async def issued(self, due: list[Due], timeout: float = ISSUE_WAIT) -> None:
        """Wait, at most `timeout` seconds, until the sender's request for the first of
        `due` that its decision marked in flight (the next official's step) is written to
        the connection, or has failed (:func:`bot.tg.http.on_written`).

        A button's handler awaits it between handing its decision's items over and
        answering the button, so that on the one event loop the next official's message
        is on the wire first and the answer beside it, rather than the two requests built
        in turns at each of httpx's yields, the answer's often written first (issue 15:
        press → next official is the flow moving on; the presser's answer follows within
        a millisecond, not a round trip). :meth:`hand_off` notes the item as being issued;
        it stops being so once its request is written or has failed, or is dropped. When
        the sender is busy (a round under way, Telegram's pace) the answer does not wait
        longer than `timeout`.
        """
        first = _first_inflight(due)
        event = self._issuing.get(first) if first is not None else None
        if event is None:  # written already (or never handed over)
            return
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            if first is not None and self._issuing.get(first) is event:
                del self._issuing[first]

    def _issue_done(self, item_id: str) -> None:
        """The item's request is written, has failed, or will not be made: its button's
        answer may go (see :meth:`issued`)."""
        event = self._issuing.pop(item_id, None)
        if event is not None:
            event.set()

    def _drop(self, due: list[Due]) -> None:
        """Handed-over items this process will not send from the hand-over (a read of the
        outbox takes them, or their decision was not stored)."""
        for item, _member in due:
            self._stored.pop(item.id, None)
            self._issue_done(item.id)

    def _unstored(self, due: list[Due]) -> list[Due]:
        """The handed-over items whose decision's write failed: they do not exist."""
        return [(item, member) for item, member in due
                if (stored := self._stored.get(item.id)) is not None and stored.done()
                and (stored.cancelled() or stored.exception() is not None)]

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(self._wake, self.drain), name="sopbot-outbox"),
                asyncio.create_task(self._run(self._bulk_wake, self.drain_bulk),
                                    name="sopbot-outbox-bulk")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self, wake: asyncio.Event, drain: Callable[[], Awaitable[int]]) -> None:
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
            # cancellation that arrives as the event is set (stop() would never end).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await wake.wait()
            wake.clear()
            try:
                await drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the sender alive whatever one message does
                log.exception("outbox delivery failed")
            if self._backoff:
                await asyncio.sleep(self._backoff)

    async def drain(self) -> int:
        """Deliver the pending interactive items (chats at once, each in order) until one
        must wait; returns how many were sent."""
        handed, self._handed = self._handed, []
        given = handed  # (all of them, for the finally below)
        try:
            if self._read_needed or not handed:
                self._read_needed = False
                self._drop(handed)  # (the read takes them, once their write is done)
                rounds = [await asyncio.to_thread(self.services.outbox_due, bulk=False)]
            else:  # handed over: already-marked items first, then the rest, no read-back
                handed = [d for d in handed if d[0].id not in self._taken]
                rounds = [[d for d in handed if d[0].inflight_at is not None],
                          [d for d in handed if d[0].inflight_at is None]]
            sent = 0
            for n, due in enumerate(rounds):
                if unstored := self._unstored(due):  # their decision was never written
                    self._drop(unstored)
                    gone = {item.id for item, _m in unstored}
                    due = [d for d in due if d[0].id not in gone]
                if n and due and self._defer(due):
                    break  # next officials handed over meanwhile go before these edits
                self._taken.update((item.id, None) for item, _m in due)
                while len(self._taken) > 4096:  # only a round in flight can come again
                    del self._taken[next(iter(self._taken))]
                done = await self._round(due, INTERACTIVE)
                sent += done
                if done < len(due):  # something failed or waits: read what is owed next
                    self._read_needed = True
        except BaseException:
            self._read_needed = True  # what was handed over is still owed: read it
            raise
        finally:  # what this drain did not send is read back later, not held for
            waiting = {item.id for item, _m in self._handed}
            self._drop([d for d in given if d[0].id not in waiting])
        return sent

    def _defer(self, rest: list[Due]) -> bool:
        """Whether the presser's edits (`rest`, not marked by the decision) wait behind the
        next officials' messages handed over while the last round was sent.

        Telegram's pace is shared: with 200 officials pressing at once, each press's edit
        went out before the next press's notification, and the last next official got their
        step after 400 messages instead of 200. The presser has their answer already; the
        edit only settles the message. Edits wait at most :data:`EDIT_WAIT_MAX` seconds."""
        now = asyncio.get_running_loop().time()
        if not any(item.inflight_at is not None for item, _m in self._handed):
            self._edits_waiting_since = None
            return False
        if self._edits_waiting_since is None:
            self._edits_waiting_since = now
        elif now - self._edits_waiting_since > EDIT_WAIT_MAX:
            self._edits_waiting_since = None
            return False
        self._handed = rest + self._handed
        self._wake.set()
        return True

    async def drain_bulk(self) -> int:
        """Deliver the pending reminders (chats at once, each in order); returns how many
        were sent."""
        due = await asyncio.to_thread(self.services.outbox_due, bulk=True)
        return await self._round(due, bulk_policy(len(due)))

    async def _round(self, due: list[Due], policy: RoundPolicy) -> int:
        services = self.services

        async def write(results: list[Result], inflight: list[OutboxItem]) -> None:
            try:
                if results or inflight:
                    await asyncio.to_thread(services.outbox_progress, results, inflight,
                                            self.clock())
            finally:  # stored, or never will be by this write: waiters look again
                for item, message_ids, _text in results:
                    self._unrecorded.difference_update((item.chat_id, m) for m in message_ids)
                if results:
                    async with self._recording:
                        self._recording.notify_all()

        ports = RoundPorts(attempt=self._attempt, write=write, free_in=self.pacer.free_in)
        return await DeliveryRound(due, policy, ports).run()

    def recover(self) -> int:
        """At start-up: items the last process died while sending are marked uncertain."""
        return self.services.outbox_recover()

    async def _attempt(self, item: OutboxItem,
                       member: Member | None) -> tuple[str, list[int], str]:
        """Send one item (see :meth:`_attempt_item`), noting its chat as being sent to
        meanwhile: a step message is in the chat before its attachments have gone."""
        chat = item.chat_id
        self._sending[chat] = self._sending.get(chat, 0) + 1
        try:
            return await self._attempt_item(item, member)
        finally:
            if self._sending[chat] > 1:
                self._sending[chat] -= 1
            else:
                del self._sending[chat]
            async with self._recording:
                self._recording.notify_all()

    async def _attempt_item(self, item: OutboxItem,
                            member: Member | None) -> tuple[str, list[int], str]:
        """Send one item, waiting out 429s: ("sent", message ids, kept text), or ("done" |
        "wait", [], "") with the failure already recorded."""
        outbox = self.services
        t = member_translator(member, self.default_language)
        flow = self.services.flows.get(item.payload.get("flow_id", ""))
        issuing = self._issuing.get(item.id)
        stored = self._stored.pop(item.id, None)
        while True:
            try:
                # The button's answer waits until this item's first request is written
                # (or has failed): see issued(). Handed over before its decision was
                # durable, the request waits for the write: see hand_off().
                try:
                    with on_written(issuing.set if issuing is not None else None), \
                            held_until(stored):
                        message_ids, kept_text = await self._send(item, flow, t)
                finally:
                    self._issue_done(item.id)
                break
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                metrics.rate_limited()
                log.warning("rate limited by Telegram; waiting %ss", seconds)
                self.pacer.hold(item.chat_id, seconds)  # then the rest of the item again
            except (ValueError, KeyError) as exc:  # cannot be rendered: retrying will not help
                log.error("outbox item %s cannot be sent: %s", item.id, exc)
                metrics.send_failed("unrenderable")
                await asyncio.to_thread(outbox.outbox_failed, item, str(exc), final=True)
                return self._given_up(item)
            except Forbidden as exc:
                log.warning("chat %s blocked the bot (%s); message %s undeliverable",
                            item.chat_id, exc.message, item.id)
                metrics.send_failed("blocked")
                await self._undeliverable(item, str(exc.message))
                return self._given_up(item)
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    log.warning("message %s: chat %s not found (%s); undeliverable", item.id,
                                item.chat_id, exc.message)
                    metrics.send_failed("chat_not_found")
                    await self._undeliverable(item, exc.message)
                else:
                    log.error("message %s refused by Telegram: %s", item.id, exc.message)
                    metrics.send_failed("refused")
                    await asyncio.to_thread(outbox.outbox_failed, item, exc.message,
                                            final=True)
                return self._given_up(item)
            except (NetworkError, TelegramError) as exc:
                if abandoned(exc):  # held, then its decision was not stored: it never was
                    return self._given_up(item)
                self._backoff = min(MAX_BACKOFF, max(0.5, self._backoff * 2))
                metrics.send_failed("timeout" if isinstance(exc, TimedOut) else "network")
                log.warning("delivery of %s failed (%s); retrying in %.1fs", item.id, exc,
                            self._backoff)
                # A timeout may have delivered it after all: a resend is then uncertain.
                await asyncio.to_thread(outbox.outbox_failed, item, str(exc), final=False,
                                        maybe_delivered=isinstance(exc, TimedOut))
                self.wake()
                return "wait", [], ""
        self._backoff = 0.0
        metrics.message_sent()
        self._unrecorded.update((item.chat_id, m) for m in message_ids)
        return "sent", message_ids, kept_text

    async def recorded(self, chat_id: int, message_id: int, timeout: float = 5.0) -> bool:
        """Wait (at most `timeout` seconds) until the message `message_id` in `chat_id` may
        be on record: while this sender is sending to that chat, or has sent the message
        and not recorded it yet. Whether it waited (then look the message up again).

        An official may reply to a step message the moment it arrives, before its
        attachments have gone and before the round that sent it recorded which step it
        belongs to: the reply must not be told that the message is not a step.
        """
        key = (chat_id, message_id)

        def pending() -> bool:
            return key in self._unrecorded or chat_id in self._sending

        if not pending():
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._recording:
                await self._recording.wait_for(lambda: not pending())
        return True

    def _given_up(self, item: OutboxItem) -> tuple[str, list[int], str]:
        self._progress.pop(item.id, None)
        return "done", [], ""

    async def _undeliverable(self, item: OutboxItem, error: str) -> None:
        """The chat blocked the bot: the outbox flags it (and may tell the starter)."""
        told = await asyncio.to_thread(self.services.outbox_undeliverable, item, error,
                                       self.clock())
        if told:
            self.wake()

    async def _send(self, item: OutboxItem, flow: Flow | None,
                    t: Translator) -> tuple[list[int], str]:
        """Render the item in the recipient's language and send it.

        Returns the message ids and, for a step, the text an edit after the decision keeps
        (the step without how to answer it).

        About 75 lines: one branch per outbox kind (each a line or two: render, keyboard),
        then the parts and attachments sent one Telegram call at a time, each its own unit of
        delivery; split further, the per-kind table would hide the one order of calls.
        """
        p = item.payload
        if is_typed(item.kind):
            decode(item.kind, p)  # an unreadable payload raises ValueError: not retried
        flows = self.services.flows
        if item.kind == "settle":
            try:
                async with self.pacer.sending(item.chat_id):
                    await self.bot.edit_message_text(
                        settled_text(p, flows, t), chat_id=item.chat_id,
                        message_id=p["message_id"],
                        reply_markup=withdraw_keyboard(p, t) if self.undo else None)
            except BadRequest as exc:
                # Already edited (a redelivery after a crash), deleted, or too old: the
                # decision stands regardless.
                log.info("could not settle message %s/%s: %s", item.chat_id,
                         p["message_id"], exc.message)
            return [p["message_id"]], ""
        reply = None
        keyboard: Any = None
        instruction = ""
        if item.kind == "ack":
            text = ack_text(p, flows, t)
            if p.get("target_asked"):  # the date the flow's target counts from, as a reply
                keyboard = ForceReply(selective=True)
            if p.get("reply_to"):
                reply = ReplyParameters(p["reply_to"], allow_sending_without_reply=True)
            if p["ack"] in ("reason_asked", "target_date_asked"):  # typed as a reply
                keyboard = ForceReply(selective=True)
            if p["ack"].startswith("people_"):  # a mutasi offer's [Ya] [Tidak] (issue 14)
                keyboard = people_keyboard(p, t) or keyboard
        elif flow is None:
            raise ValueError(f"outbox item {item.id} names an unknown flow {p.get('flow_id')!r}")
        elif item.kind == "step":
            instruction = step_instruction(flow, p["step_no"], t)
            text = step_text(flow, p, t, self.clock()) + "\n\n" + instruction
            keyboard = step_keyboard(flow, p, t)
        elif item.kind == "completed":
            text = completed_text(flow, p, t)
        elif item.kind == "cancelled":
            text = cancelled_text(flow, p, t)
        elif item.kind == "wait":  # the document went outside: the recorder's button
            instruction = wait_instruction(t)
            text = wait_text(flow, p, t) + "\n\n" + instruction
            keyboard = wait_keyboard(p, t)
        elif item.kind == "reminder":
            text = reminder_text(p, flows, t, self.clock())
            keyboard = cycle_keyboard(p, t)
        else:
            raise ValueError(f"outbox item {item.id} has unknown kind {item.kind!r}")
        parts = split_message(text)
        attachments = list(p.get("attachments") or [])
        # The calls already made for this item (before a 429 or a network error) are not
        # made again: each Telegram call is its own unit of delivery.
        done = self._progress.setdefault(item.id, [])
        for i in range(len(done), len(parts) + len(attachments)):
            async with self.pacer.sending(item.chat_id, bulk=is_bulk(item)):
                if i < len(parts):
                    message = await self.bot.send_message(
                        item.chat_id, parts[i], reply_parameters=reply if i == 0 else None,
                        reply_markup=keyboard if i == len(parts) - 1 else None)
                else:
                    message = await self._send_attachment(
                        item.chat_id, attachments[i - len(parts)], done[len(parts) - 1])
            done.append(message.message_id)
        del self._progress[item.id]
        kept = (parts[-1].removesuffix(instruction).rstrip() if item.kind in ("step", "wait")
                else "")
        return done[:len(parts)], kept

    async def _send_attachment(self, chat_id: int, attachment: str, reply_to: int) -> Message:
        kind, _, file_id = attachment.partition(":")
        if kind == "photo":
            return await self.bot.send_photo(chat_id, file_id, reply_to_message_id=reply_to)
        return await self.bot.send_document(chat_id, file_id or kind,
                                            reply_to_message_id=reply_to)


def _first_inflight(due: list[Due]) -> str | None:
    """The first item its decision marked in flight (the next official's step)."""
    return next((item.id for item, _m in due if item.inflight_at is not None), None)


class Preparing:
    """A decision taken in a worker thread, its delivery prepared meanwhile (issue 15).

    The service hands its items over from inside its transaction (:meth:`prepare`, the
    :class:`bot.services.workflow.EarlyDelivery` port): the event loop renders them and
    builds their requests while the store writes and syncs the decision, and holds each
    request before its first byte until :meth:`stored` says the write is durable. A write
    that fails drops them unsent: an update whose effects were not stored must have had
    none (it is delivered again and decided afresh).
    """

    def __init__(self, sender: OutboxSender, loop: asyncio.AbstractEventLoop) -> None:
        self._sender = sender
        self._loop = loop
        self.written: asyncio.Future[None] = loop.create_future()
        #: whether the items were handed over (the handler must not hand them again)
        self.handed = False

    def prepare(self, queued: list[Due]) -> None:
        """(In the worker thread, inside the transaction: never fails it. Should the event
        loop be gone, the handler hands the items over after the write, as before.)"""
        try:
            self._loop.call_soon_threadsafe(self._sender.hand_off, queued, self.written)
        except RuntimeError:  # the loop is closed: nothing is sent from here
            return
        self.handed = True

    def stored(self, ok: bool) -> None:
        """(In the worker thread, after the transaction.)"""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing waits
            self._loop.call_soon_threadsafe(self._settle, ok)

    def _settle(self, ok: bool) -> None:
        if self.written.done():
            return
        if ok:
            self.written.set_result(None)
        else:
            self.written.cancel()  # (held requests are abandoned: NotStored)
