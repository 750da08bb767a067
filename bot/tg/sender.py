"""Deliver the outbox: the messages transitions owe to officials.

Transitions store their notifications in the outbox in the same write as the transition; this
sender renders each one in its recipient's language when it goes out, retries network errors
and 5xx with capped backoff, waits out 429 ``retry_after``, and marks a chat that blocked the bot
(403) as undeliverable instead of retrying it forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Callable
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
from bot.services.outbox import needs_inflight_mark
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

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks us to wait (PTB 22 warns on the attribute; it may be either
    seconds or a timedelta depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wait = exc.retry_after
    return float(wait if isinstance(wait, int | float) else wait.total_seconds())


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
                 undo: bool = True) -> None:
        self.bot = bot
        self.undo = undo  # offer "Tarik kembali" on a decided step (SOPBOT_UNDO_MINUTES > 0)
        self.services = services
        self.clock = clock
        self.default_language = default_language
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._backoff = 0.0

    def wake(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sopbot-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            self._wake.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the sender alive whatever one message does
                log.exception("outbox delivery failed")
            if self._backoff:
                await asyncio.sleep(self._backoff)

    async def drain(self) -> int:
        """Deliver pending items in order until one must wait; returns how many were sent."""
        due = await asyncio.to_thread(self.services.outbox_due)
        sent = 0
        for n, (item, member) in enumerate(due):
            following = due[n + 1][0] if n + 1 < len(due) else None
            outcome = await self._deliver(item, member, following)
            if outcome == "sent":
                sent += 1
            elif outcome == "wait":  # keep the order: nothing overtakes a message that waits
                break
        return sent

    def recover(self) -> int:
        """At start-up: items the last process died while sending are marked uncertain."""
        return self.services.outbox_recover()

    async def _deliver(self, item: OutboxItem, member: Member | None,
                       following: OutboxItem | None) -> str:
        """Send one item: "sent", "done" (it will never be sent) or "wait" (try again later).

        `following` is marked in flight together with this one's result.
        """
        outbox = self.services
        t = member_translator(member, self.default_language)
        flow = self.services.flows.get(item.payload.get("flow_id", ""))
        if needs_inflight_mark(item) and item.inflight_at is None:
            await asyncio.to_thread(outbox.outbox_inflight, item, self.clock())
        while True:
            try:
                message_ids, kept_text = await self._send(item, flow, t)
                break
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                metrics.rate_limited()
                log.warning("rate limited by Telegram; waiting %ss", seconds)
                await asyncio.sleep(seconds)  # then the same message again
            except (ValueError, KeyError) as exc:  # cannot be rendered: retrying will not help
                log.error("outbox item %s cannot be sent: %s", item.id, exc)
                metrics.send_failed("unrenderable")
                await asyncio.to_thread(outbox.outbox_failed, item, str(exc), final=True)
                return "done"
            except Forbidden as exc:
                log.warning("chat %s blocked the bot (%s); message %s undeliverable",
                            item.chat_id, exc.message, item.id)
                metrics.send_failed("blocked")
                await self._undeliverable(item, str(exc.message))
                return "done"
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
                return "done"
            except (NetworkError, TelegramError) as exc:
                self._backoff = min(MAX_BACKOFF, max(0.5, self._backoff * 2))
                metrics.send_failed("timeout" if isinstance(exc, TimedOut) else "network")
                log.warning("delivery of %s failed (%s); retrying in %.1fs", item.id, exc,
                            self._backoff)
                # A timeout may have delivered it after all: a resend is then uncertain.
                await asyncio.to_thread(outbox.outbox_failed, item, str(exc), final=False,
                                        maybe_delivered=isinstance(exc, TimedOut))
                self.wake()
                return "wait"
        self._backoff = 0.0
        metrics.message_sent()
        await asyncio.to_thread(outbox.outbox_sent, item, message_ids, self.clock(),
                                text=kept_text, next_item=following)
        return "sent"

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
        """
        p = item.payload
        if is_typed(item.kind):
            decode(item.kind, p)  # an unreadable payload raises ValueError: not retried
        flows = self.services.flows
        if item.kind == "settle":
            try:
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
            if p["ack"] == "reason_asked":  # the reason is typed as a reply (issue 12)
                keyboard = ForceReply(selective=True)
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
        sent: list[Message] = []
        parts = split_message(text)
        for i, part in enumerate(parts):
            sent.append(await self.bot.send_message(
                item.chat_id, part, reply_parameters=reply if i == 0 else None,
                reply_markup=keyboard if i == len(parts) - 1 else None))
        for attachment in p.get("attachments") or []:
            await self._send_attachment(item.chat_id, attachment, sent[-1].message_id)
        kept = (parts[-1].removesuffix(instruction).rstrip() if item.kind in ("step", "wait")
                else "")
        return [m.message_id for m in sent], kept

    async def _send_attachment(self, chat_id: int, attachment: str, reply_to: int) -> None:
        kind, _, file_id = attachment.partition(":")
        if kind == "photo":
            await self.bot.send_photo(chat_id, file_id, reply_to_message_id=reply_to)
        else:
            await self.bot.send_document(chat_id, file_id or kind, reply_to_message_id=reply_to)
