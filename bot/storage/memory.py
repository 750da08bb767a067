"""The repository protocol on plain dicts: the in-memory backend for fast service tests.

Records are kept in their stored form (the same ``to_doc``/``from_doc`` as the TinyDB
backend), so an object a service changes is not stored until it is saved, as with files. A
transaction works on a copy of the state and puts it in place only when no exception escaped.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.engine.instance import Disposition, Instance, Status
from bot.storage.protocol import CURRENT_UPDATE
from bot.storage.records import (
    CycleTask,
    Delegation,
    Invite,
    Member,
    OutboxItem,
    PendingReason,
    RosterEntry,
    StepMessage,
    invite_key,
)
from bot.storage.store import KEEP_SENT, KEEP_UPDATES

Doc = dict[str, Any]
TABLES = ("members", "invites", "instances", "dispositions", "step_messages",
          "pending_reasons", "outbox", "processed_updates", "reminders_sent", "cycle_tasks",
          "roster", "delegations",
          "failed_updates")


@dataclass
class _State:
    tables: dict[str, list[Doc]] = field(default_factory=lambda: {t: [] for t in TABLES})
    archives: dict[int, dict[str, list[Doc]]] = field(default_factory=dict)


class MemoryRepository:
    """The bot's records in memory, inside one transaction."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.writes = 0

    # -- tables ----------------------------------------------------------------------

    def _t(self, name: str) -> list[Doc]:
        return self.state.tables[name]

    def _find(self, table: str, pred: Callable[[Doc], bool]) -> Doc | None:
        return next((d for d in self._t(table) if pred(d)), None)

    def _upsert(self, table: str, doc: Doc, pred: Callable[[Doc], bool]) -> None:
        self.writes += 1
        docs = self._t(table)
        for i, old in enumerate(docs):
            if pred(old):
                docs[i] = {**old, **copy.deepcopy(doc)}
                return
        docs.append(copy.deepcopy(doc))

    def _remove(self, table: str, pred: Callable[[Doc], bool]) -> int:
        docs = self._t(table)
        keep = [d for d in docs if not pred(d)]
        removed = len(docs) - len(keep)
        if removed:
            self.writes += 1
            docs[:] = keep
        return removed

    def _archive(self, year: int) -> dict[str, list[Doc]]:
        return self.state.archives.setdefault(year, {t: [] for t in TABLES})

    # -- members and invitations -----------------------------------------------------

    def member(self, member_id: str) -> Member | None:
        doc = self._find("members", lambda d: d["id"] == member_id)
        return Member.from_doc(copy.deepcopy(doc)) if doc else None

    def save_member(self, member: Member) -> None:
        self._upsert("members", member.to_doc(), lambda d: d["id"] == member.id)

    def members(self) -> list[Member]:
        return [Member.from_doc(copy.deepcopy(d)) for d in self._t("members")]

    def holders(self, unit: str) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for member in self.members():
            for ms in sorted(member.roles, key=lambda r: r.since):
                if ms.unit == unit:
                    result.setdefault(ms.role, []).append(member.id)
        return result

    def add_invite(self, invite: Invite) -> None:
        self.writes += 1
        self._t("invites").append(invite.to_doc())

    def invite(self, code: str) -> Invite | None:
        key = invite_key(code)
        doc = self._find("invites", lambda d: d["code_hash"] == key)
        return Invite.from_doc(copy.deepcopy(doc)) if doc else None

    def save_invite(self, invite: Invite) -> None:
        self._upsert("invites", invite.to_doc(),
                     lambda d: d["code_hash"] == invite.code_hash)

    def invites(self) -> list[Invite]:
        return [Invite.from_doc(copy.deepcopy(d)) for d in self._t("invites")]

    def remove_member(self, member_id: str) -> None:
        self._remove("members", lambda d: d["id"] == member_id)

    def member_by_nip(self, nip: str) -> Member | None:
        doc = self._find("members", lambda d: d.get("nip") == nip)
        return Member.from_doc(copy.deepcopy(doc)) if doc else None

    # -- roster and delegations ------------------------------------------------------

    def roster(self) -> list[RosterEntry]:
        return [RosterEntry.from_doc(copy.deepcopy(d)) for d in self._t("roster")]

    def roster_entry(self, nip: str) -> RosterEntry | None:
        doc = self._find("roster", lambda d: d["nip"] == nip)
        return RosterEntry.from_doc(copy.deepcopy(doc)) if doc else None

    def save_roster_entry(self, entry: RosterEntry) -> None:
        self._upsert("roster", entry.to_doc(), lambda d: d["nip"] == entry.nip)

    def save_roster_entries(self, entries: list[RosterEntry]) -> None:
        new = {e.nip: e.to_doc() for e in entries}
        self.writes += 1
        docs = self._t("roster")
        docs[:] = [d for d in docs if d["nip"] not in new] + list(new.values())

    def remove_roster_entry(self, nip: str) -> None:
        self._remove("roster", lambda d: d["nip"] == nip)

    def roster_reports(self, atasan_nip: str) -> list[RosterEntry]:
        return [RosterEntry.from_doc(copy.deepcopy(d)) for d in self._t("roster")
                if d.get("atasan_nip") == atasan_nip]

    def delegations(self) -> list[Delegation]:
        return [Delegation.from_doc(copy.deepcopy(d)) for d in self._t("delegations")]

    def save_delegation(self, delegation: Delegation) -> None:
        self._upsert("delegations", delegation.to_doc(), lambda d: d["id"] == delegation.id)

    # -- instances, dispositions, archives -------------------------------------------

    def instance(self, instance_id: str, year: int | None = None) -> Instance | None:
        doc = self._find("instances", lambda d: d["id"] == instance_id)
        if doc is None:
            years = [year] if year is not None else sorted(self.state.archives)
            for y in years:
                doc = next((d for d in self._archive(y)["instances"]
                            if d["id"] == instance_id), None)
                if doc is not None:
                    break
        return Instance.from_dict(copy.deepcopy(doc)) if doc else None

    def save_instance(self, inst: Instance) -> None:
        self._upsert("instances", inst.to_dict(), lambda d: d["id"] == inst.id)

    def instances(self, *, unit: str | None = None, flow_id: str | None = None,
                  year: int | None = None, status: Status | None = None) -> list[Instance]:
        def match(doc: Doc) -> bool:
            return ((unit is None or doc["unit_id"] == unit)
                    and (flow_id is None or doc["flow_id"] == flow_id)
                    and (year is None or doc["year"] == year)
                    and (status is None or doc["status"] == status.value))

        docs = [d for d in self._t("instances") if match(d)]
        if year is not None and status is not Status.ACTIVE:
            live = {d["id"] for d in docs}
            docs += [d for d in self._archive(year)["instances"]
                     if match(d) and d["id"] not in live]
        return [Instance.from_dict(copy.deepcopy(d)) for d in docs]

    def add_disposition(self, disp: Disposition) -> None:
        self.writes += 1
        self._t("dispositions").append({"v": 1, **disp.to_dict()})

    def dispositions(self, instance_id: str, year: int | None = None) -> list[Disposition]:
        docs = [d for d in self._t("dispositions") if d["instance_id"] == instance_id]
        if not docs and year is not None:
            docs = [d for d in self._archive(year)["dispositions"]
                    if d["instance_id"] == instance_id]
        return [Disposition.from_dict(copy.deepcopy(d)) for d in docs]

    def archive_instance(self, inst: Instance) -> None:
        arch = self._archive(inst.year)
        arch["instances"] = [d for d in arch["instances"] if d["id"] != inst.id]
        arch["instances"].append(inst.to_dict())
        for table in ("dispositions", "step_messages"):
            moved = [d for d in self._t(table) if d["instance_id"] == inst.id]
            arch[table].extend(moved)
            self._remove(table, lambda d: d["instance_id"] == inst.id)
        self._remove("instances", lambda d: d["id"] == inst.id)
        self.writes += 1

    def settle_archives(self) -> int:
        moved = 0
        for doc in list(self._t("instances")):
            if doc["status"] != Status.ACTIVE.value and not doc.get("side"):
                self.archive_instance(Instance.from_dict(copy.deepcopy(doc)))
                moved += 1
        return moved

    # -- step messages and pending reasons -------------------------------------------

    def add_step_message(self, msg: StepMessage) -> None:
        self.writes += 1
        self._t("step_messages").append(msg.to_doc())

    def step_message(self, chat_id: int, message_id: int) -> StepMessage | None:
        doc = self._find("step_messages", lambda d: d["chat_id"] == chat_id
                         and d["message_id"] == message_id)
        return StepMessage.from_doc(copy.deepcopy(doc)) if doc else None

    def step_messages(self, instance_id: str, step_no: int,
                      round_no: int) -> list[StepMessage]:
        return [StepMessage.from_doc(copy.deepcopy(d)) for d in self._t("step_messages")
                if d["instance_id"] == instance_id and d["step_no"] == step_no
                and d["round"] == round_no]

    def settle_step_message(self, chat_id: int, message_id: int, *,
                            keep_text: bool = False) -> None:
        for doc in self._t("step_messages"):
            if doc["chat_id"] == chat_id and doc["message_id"] == message_id:
                doc["settled"] = True
                if not keep_text:
                    doc["text"] = ""
                self.writes += 1

    def pending_reason(self, member_id: str) -> PendingReason | None:
        doc = self._find("pending_reasons", lambda d: d["member_id"] == member_id)
        return PendingReason.from_doc(copy.deepcopy(doc)) if doc else None

    def set_pending_reason(self, pending: PendingReason) -> None:
        self._upsert("pending_reasons", pending.to_doc(),
                     lambda d: d["member_id"] == pending.member_id)

    def clear_pending_reason(self, member_id: str) -> bool:
        return bool(self._remove("pending_reasons", lambda d: d["member_id"] == member_id))

    # -- outbox ----------------------------------------------------------------------

    def enqueue(self, item: OutboxItem) -> None:
        self.writes += 1
        self._t("outbox").append(item.to_doc())

    def enqueue_many(self, items: list[OutboxItem]) -> None:
        if items:
            self.writes += 1
            self._t("outbox").extend(item.to_doc() for item in items)

    def outbox(self, status: str = "pending", *,
               kind: Callable[[str], bool] | None = None) -> list[OutboxItem]:
        return [OutboxItem.from_doc(copy.deepcopy(d)) for d in self._t("outbox")
                if d["status"] == status and (kind is None or kind(d["kind"]))]

    def outbox_count(self, status: str = "pending") -> int:
        return sum(1 for d in self._t("outbox") if d["status"] == status)

    def save_outbox(self, item: OutboxItem) -> None:
        self._upsert("outbox", item.to_doc(), lambda d: d["id"] == item.id)
        if item.status != "pending":
            done = [d for d in self._t("outbox") if d["status"] != "pending"]
            drop = {id(d) for d in done[:-KEEP_SENT]} if len(done) > KEEP_SENT else set()
            self._remove("outbox", lambda d: id(d) in drop)

    def retry_undeliverable(self, member_id: str) -> int:
        n = 0
        for doc in self._t("outbox"):
            if doc["member_id"] == member_id and doc["status"] == "undeliverable":
                doc["status"] = "pending"
                n += 1
        self.writes += bool(n)
        return n

    # -- reminders and recurring duties ----------------------------------------------

    def reminder_sent(self, point_id: str) -> bool:
        return self._find("reminders_sent", lambda d: d["id"] == point_id) is not None

    def sent_reminders(self) -> set[str]:
        return {d["id"] for d in self._t("reminders_sent")}

    def mark_reminder(self, point_id: str, at: datetime, *, skipped: bool = False) -> None:
        if not self.reminder_sent(point_id):
            self.writes += 1
            self._t("reminders_sent").append({"v": 1, "id": point_id, "at": at.isoformat(),
                                              "skipped": skipped})

    def mark_reminders(self, point_ids: list[str], at: datetime, *,
                       skipped: bool = False) -> None:
        known = self.sent_reminders()
        new = list(dict.fromkeys(p for p in point_ids if p not in known))
        if new:
            self.writes += 1
            self._t("reminders_sent").extend({"v": 1, "id": p, "at": at.isoformat(),
                                              "skipped": skipped} for p in new)

    def prune_reminders(self, before: datetime) -> int:
        cutoff = before.isoformat()
        return self._remove("reminders_sent", lambda d: d["at"] < cutoff)

    def cycle_task(self, task_id: str) -> CycleTask | None:
        doc = self._find("cycle_tasks", lambda d: d["id"] == task_id)
        return CycleTask.from_doc(copy.deepcopy(doc)) if doc else None

    def cycle_tasks_done(self) -> set[str]:
        return {d["id"] for d in self._t("cycle_tasks")}

    def save_cycle_task(self, task: CycleTask) -> None:
        self._upsert("cycle_tasks", task.to_doc(), lambda d: d["id"] == task.id)

    # -- processed updates -----------------------------------------------------------

    def update_seen(self, update_id: int) -> bool:
        return any(d["update_id"] == update_id for d in self._t("processed_updates"))

    def newest_update(self) -> int | None:
        return max((d["update_id"] for d in self._t("processed_updates")), default=None)

    def mark_update(self, update_id: int) -> None:
        if self.update_seen(update_id):
            return
        docs = self._t("processed_updates")
        docs.append({"v": 1, "update_id": update_id})
        if len(docs) > KEEP_UPDATES:
            docs[:] = sorted(docs, key=lambda d: d["update_id"])[-KEEP_UPDATES:]

    def record_failed_update(self, update_id: int, reason: str, at: datetime) -> None:
        """An update given up on (it can never succeed): kept for the operator, and marked
        as processed so that a redelivery is skipped."""
        self.writes += 1
        self._t("failed_updates").append(
            {"v": 1, "update_id": update_id, "reason": reason, "at": at.isoformat()})
        self.mark_update(update_id)

    def failed_updates(self) -> list[Doc]:
        return [dict(d) for d in self._t("failed_updates")]


class MemoryStore:
    """A storage backend that keeps everything in this process (nothing on disk).

    `transactions` and `commits` count the transactions opened and those that changed
    something (the equivalent of a file rewrite).
    """

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self._claimed = False
        self.transactions = 0
        self.commits = 0

    @contextlib.contextmanager
    def transaction(self, *, record_update: bool = True) -> Iterator[MemoryRepository]:
        with self._lock:
            self.transactions += 1
            repo = MemoryRepository(copy.deepcopy(self._state))
            yield repo
            update_id = CURRENT_UPDATE.get() if record_update else None
            if repo.writes and update_id is not None:
                repo.mark_update(update_id)
            if repo.writes:
                self._state = repo.state
                self.commits += 1

    def read(self) -> MemoryRepository:
        """A snapshot to read from (changes to it are never kept)."""
        with self._lock:
            return MemoryRepository(copy.deepcopy(self._state))

    @property
    def running_claimed(self) -> bool:
        return self._claimed

    def claim_running(self) -> None:
        self._claimed = True

    def release_running(self) -> None:
        self._claimed = False
