"""The outbox: messages owed to officials, and the bookkeeping of their delivery.

Use cases queue items in the same transaction as the change that owes them. The Telegram
sender only sends; it reports each result here — in flight, sent, failed, undeliverable —
and this module keeps the records (and, when a chat blocked the bot, tells who started the
instance).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from bot.services.base import ServiceBase
from bot.services.notices import Notice, UndeliverableAck, encode
from bot.storage.protocol import Repository
from bot.storage.records import Member, OutboxItem, StepMessage

log = logging.getLogger(__name__)


#: Up to this many recipients are looked up one by one; more, through one pass over the
#: members (a round of reminders to 5,000 officials is then O(N), not O(N²)).
FEW_RECIPIENTS = 8


def is_bulk(item: OutboxItem) -> bool:
    """Reminders are bulk: an official waits for nothing in them (the sender's bulk lane)."""
    return is_bulk_kind(item.kind)


def is_bulk_kind(kind: str) -> bool:
    return kind == "reminder"


def _not_bulk_kind(kind: str) -> bool:
    return kind != "reminder"


def needs_inflight_mark(item: OutboxItem) -> bool:
    """Whether a crash while sending `item` must make its resend "uncertain".

    Editing a step message to show the decision is idempotent (a second edit changes
    nothing), so a settle item needs no mark; every new message does.
    """
    return item.kind != "settle"


def new_item(member_id: str, chat_id: int, kind: str, payload: dict[str, Any],
             now: datetime) -> OutboxItem:
    """A pending outbox item (a fresh id; the payload copied)."""
    return OutboxItem(id=secrets.token_hex(8), member_id=member_id, chat_id=chat_id,
                      kind=kind, payload=dict(payload), created_at=now)


def notice_item(member_id: str, chat_id: int, notice: Notice, now: datetime) -> OutboxItem:
    """A pending outbox item carrying `notice`, stored by the one codec."""
    kind, payload = encode(notice)
    return new_item(member_id, chat_id, kind, payload, now)


class OutboxService(ServiceBase):
    """Delivery bookkeeping for the sender."""

    def outbox_recover(self) -> int:
        """At start-up: items the last process died while sending are marked uncertain."""
        with self.store.transaction(record_update=False) as repo:
            items = [i for i in repo.outbox("pending") if i.inflight_at is not None]
            for item in items:
                log.warning("message %s to chat %s may have been delivered before a crash; "
                            "sending it again", item.id, item.chat_id)
                item.inflight_at = None
                item.uncertain = True
                repo.save_outbox(item)
        return len(items)

    def outbox_pending(self) -> list[OutboxItem]:
        """What is owed, in the order it was owed."""
        with self.store.transaction(record_update=False) as repo:
            return repo.outbox("pending")

    def outbox_counts(self) -> dict[str, int]:
        """How many items wait, and how many cannot be delivered (for the health check)."""
        with self.store.transaction(record_update=False) as repo:
            return {"pending": repo.outbox_count("pending"),
                    "undeliverable": repo.outbox_count("undeliverable")}

    def outbox_due(self, *, bulk: bool | None = None) -> list[tuple[OutboxItem, Member | None]]:
        """What is owed, in order, each with its recipient (for their language): everything,
        or only the bulk lane's items (`bulk=True`) or only the others (`bulk=False`)."""
        with self.store.transaction(record_update=False) as repo:
            items = repo.outbox("pending", kind=None if bulk is None
                                else is_bulk_kind if bulk else _not_bulk_kind)
            if len(items) <= FEW_RECIPIENTS:
                return [(item, repo.member(item.member_id)) for item in items]
            members = {m.id: m for m in repo.members()}
            return [(item, members.get(item.member_id)) for item in items]

    def outbox_inflight(self, item: OutboxItem, now: datetime) -> None:
        """The sender is about to send `item` (a crash now makes its resend uncertain)."""
        with self.store.transaction(record_update=False) as repo:
            item.inflight_at = now
            repo.save_outbox(item)

    def outbox_sent(self, item: OutboxItem, message_ids: list[int], now: datetime, *,
                    text: str = "", next_item: OutboxItem | None = None) -> None:
        """`item` went out as `message_ids`; a step message is remembered (with the `text`
        its edit keeps) so that buttons and replies on it find their step.

        `next_item`, the one the sender sends next, is marked in flight in the same write
        (one file rewrite per message instead of two).
        """
        with self.store.transaction(record_update=False) as repo:
            if next_item is not None and needs_inflight_mark(next_item):
                next_item.inflight_at = now
                repo.save_outbox(next_item)
            _record_sent(repo, item, message_ids, now, text)

    def outbox_progress(self, sent: list[tuple[OutboxItem, list[int], str]],
                        inflight: list[OutboxItem], now: datetime) -> None:
        """The sender's progress in one write: items that went out, each as its message ids
        (with the text a step's edit keeps, see :meth:`outbox_sent`), and items it is about
        to send (a crash then makes their resend uncertain)."""
        with self.store.transaction(record_update=False) as repo:
            for item, message_ids, text in sent:
                _record_sent(repo, item, message_ids, now, text)
            for item in inflight:
                item.inflight_at = now
                repo.save_outbox(item)

    def outbox_failed(self, item: OutboxItem, error: str, *, final: bool,
                      maybe_delivered: bool = False) -> None:
        """A send failed: `final` gives up on it; otherwise it is tried again later."""
        with self.store.transaction(record_update=False) as repo:
            item.attempts += 1
            item.last_error = error
            item.inflight_at = None
            item.uncertain = item.uncertain or maybe_delivered
            if final:
                item.status = "failed"
            repo.save_outbox(item)

    def outbox_undeliverable(self, item: OutboxItem, error: str, now: datetime) -> bool:
        """The chat blocked the bot: stop trying, flag the official, tell who started it.

        True when a message to the starter was queued (the sender should wake).
        """
        with self.store.transaction(record_update=False) as repo:
            item.status = "undeliverable"
            item.last_error = error
            item.inflight_at = None
            repo.save_outbox(item)
            member = repo.member(item.member_id)
            if member is None:
                return False
            first_time = not member.undeliverable
            member.undeliverable = True
            repo.save_member(member)
            inst_id = item.payload.get("instance_id")
            inst = repo.instance(inst_id) if inst_id and item.kind == "step" else None
            if inst is None or not first_time or inst.started_by == member.id:
                return False
            starter = repo.member(inst.started_by)
            if starter is None or starter.undeliverable:
                return False
            repo.enqueue(notice_item(starter.id, starter.chat_id, UndeliverableAck(
                name=member.name, flow_id=inst.flow_id, year=inst.year), now))
            return True


def _record_sent(repo: Repository, item: OutboxItem, message_ids: list[int], now: datetime,
                 text: str) -> None:
    """`item` went out as `message_ids`: a step message (or a duty's reminder) is
    remembered so that buttons and replies on it find their step."""
    item.status = "sent"
    item.inflight_at = None
    item.sent_at = now
    item.attempts += 1
    item.message_ids = message_ids
    repo.save_outbox(item)
    p = item.payload
    if item.kind == "step" and message_ids:
        if repo.step_message(item.chat_id, message_ids[-1]) is not None:
            return  # pressed before this record: the decision recorded it (settled)
        repo.add_step_message(StepMessage(
            chat_id=item.chat_id, message_id=message_ids[-1], member_id=item.member_id,
            instance_id=p["instance_id"], step_no=p["step_no"], round=p["round"], text=text))
    elif item.kind == "wait" and message_ids:  # its "Sudah kembali" button/reply
        repo.add_step_message(StepMessage(
            chat_id=item.chat_id, message_id=message_ids[-1], member_id=item.member_id,
            instance_id=p["instance_id"], step_no=p["step_no"], round=0, text=text,
            kind="wait"))
    elif item.kind == "reminder" and p.get("task_id") and message_ids:
        # Replying to it with the evidence marks the duty done.
        repo.add_step_message(StepMessage(
            chat_id=item.chat_id, message_id=message_ids[-1], member_id=item.member_id,
            instance_id=p["task_id"], step_no=0, round=0, text="", kind="cycle"))
