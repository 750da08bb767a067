"""TinyDB behind a small repository interface, safe for several processes.

Every use of the data is a *transaction*: take an exclusive lock on the data directory (so
the running bot and ``sopbot invite`` never lose each other's writes), read the database
file once, work on it in memory through TinyDB, and — only if something changed and no
exception escaped — write it back atomically (temporary file, fsync, rename, fsync of the
directory). A crash therefore leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage

from bot.engine.instance import Disposition, Instance, Status
from bot.storage.records import Invite, Member, OutboxItem, PendingReason, StepMessage

DB_FILE = "sopbot.json"
LOCK_FILE = ".lock"
TMP_PREFIX = ".tmp-"


class StoreError(Exception):
    """The data directory cannot be used (unreadable file, permissions …)."""


class _CountingMemory(MemoryStorage):
    """TinyDB's memory storage that notes whether anything was written."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.writes += 1
        super().write(data)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file whole."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Store:
    """The bot's state in a data directory. Use :meth:`transaction` for every access."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {self.data_dir}: {exc}") from exc
        self.path = self.data_dir / DB_FILE
        self._thread_lock = threading.Lock()
        with self._locked():
            self._clean_leftovers()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # A threading lock as well: flock is per open file, and threads of one process
        # must queue too.
        with self._thread_lock:
            fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def _clean_leftovers(self) -> None:
        """Remove temporary files of writes that a crash interrupted."""
        for leftover in self.data_dir.glob(f"{TMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{self.path} is not valid JSON ({exc}); restore a backup") from exc
        if not isinstance(data, dict):
            raise StoreError(f"{self.path} does not hold a sopbot database")
        return data

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Repository]:
        """Lock, load, yield a repository; write back atomically if it changed."""
        with self._locked():
            db = TinyDB(storage=_CountingMemory)
            storage: _CountingMemory = db.storage  # type: ignore[assignment]
            storage.memory = self._read()
            yield Repository(db)
            if storage.writes:
                payload = json.dumps(storage.memory, ensure_ascii=False, separators=(",", ":"))
                atomic_write(self.path, payload.encode("utf-8"))

    def read(self) -> Repository:
        """A read-only snapshot (changes to it are never written)."""
        with self._locked():
            db = TinyDB(storage=MemoryStorage)
            db.storage.memory = self._read()  # type: ignore[attr-defined]
        return Repository(db)


q = Query()


class Repository:
    """The bot's records, inside one transaction."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db
        self._members = db.table("members")
        self._invites = db.table("invites")
        self._instances = db.table("instances")
        self._dispositions = db.table("dispositions")
        self._messages = db.table("step_messages")
        self._pending = db.table("pending_reasons")
        self._outbox = db.table("outbox")
        self._updates = db.table("processed_updates")

    # -- members -------------------------------------------------------------------

    def member(self, member_id: str) -> Member | None:
        doc = self._members.get(q.id == member_id)
        return Member.from_doc(dict(doc)) if doc else None  # type: ignore[arg-type]

    def save_member(self, member: Member) -> None:
        self._members.upsert(member.to_doc(), q.id == member.id)

    def members(self) -> list[Member]:
        return [Member.from_doc(dict(d)) for d in self._members.all()]

    def members_of(self, unit: str) -> list[Member]:
        return [m for m in self.members() if unit in m.units]

    def holders(self, unit: str) -> dict[str, list[str]]:
        """Who holds each role in a unit: role -> member ids (in the order they joined)."""
        result: dict[str, list[str]] = {}
        for member in self.members():
            for ms in sorted(member.roles, key=lambda r: r.since):
                if ms.unit == unit:
                    result.setdefault(ms.role, []).append(member.id)
        return result

    # -- invitations ---------------------------------------------------------------

    def add_invite(self, invite: Invite) -> None:
        self._invites.insert(invite.to_doc())

    def invite(self, code: str) -> Invite | None:
        doc = self._invites.get(q.code == code)
        return Invite.from_doc(dict(doc)) if doc else None  # type: ignore[arg-type]

    def save_invite(self, invite: Invite) -> None:
        self._invites.upsert(invite.to_doc(), q.code == invite.code)

    # -- instances -----------------------------------------------------------------

    def instance(self, instance_id: str) -> Instance | None:
        doc = self._instances.get(q.id == instance_id)
        return Instance.from_dict(dict(doc)) if doc else None  # type: ignore[arg-type]

    def save_instance(self, inst: Instance) -> None:
        self._instances.upsert(inst.to_dict(), q.id == inst.id)

    def instances(
        self,
        *,
        unit: str | None = None,
        flow_id: str | None = None,
        year: int | None = None,
        status: Status | None = None,
    ) -> list[Instance]:
        def match(doc: dict[str, Any]) -> bool:
            return ((unit is None or doc["unit_id"] == unit)
                    and (flow_id is None or doc["flow_id"] == flow_id)
                    and (year is None or doc["year"] == year)
                    and (status is None or doc["status"] == status.value))

        docs = [d for d in self._instances.all() if match(d)]
        return [Instance.from_dict(dict(d)) for d in docs]

    # -- dispositions --------------------------------------------------------------

    def add_disposition(self, disp: Disposition) -> None:
        self._dispositions.insert({"v": 1, **disp.to_dict()})

    def dispositions(self, instance_id: str) -> list[Disposition]:
        docs = self._dispositions.search(q.instance_id == instance_id)
        return [Disposition.from_dict(d) for d in docs]

    # -- step messages -------------------------------------------------------------

    def add_step_message(self, msg: StepMessage) -> None:
        self._messages.insert(msg.to_doc())

    def step_message(self, chat_id: int, message_id: int) -> StepMessage | None:
        doc = self._messages.get((q.chat_id == chat_id) & (q.message_id == message_id))
        return StepMessage.from_doc(dict(doc)) if doc else None  # type: ignore[arg-type]

    def step_messages(self, instance_id: str, step_no: int, round_no: int) -> list[StepMessage]:
        docs = self._messages.search((q.instance_id == instance_id) & (q.step_no == step_no)
                                     & (q.round == round_no))
        return [StepMessage.from_doc(dict(d)) for d in docs]

    def settle_step_message(self, chat_id: int, message_id: int) -> None:
        self._messages.update({"settled": True},
                              (q.chat_id == chat_id) & (q.message_id == message_id))

    # -- revision reasons being asked for ------------------------------------------

    def pending_reason(self, member_id: str) -> PendingReason | None:
        doc = self._pending.get(q.member_id == member_id)
        return PendingReason.from_doc(dict(doc)) if doc else None  # type: ignore[arg-type]

    def set_pending_reason(self, pending: PendingReason) -> None:
        self._pending.upsert(pending.to_doc(), q.member_id == pending.member_id)

    def clear_pending_reason(self, member_id: str) -> bool:
        return bool(self._pending.remove(q.member_id == member_id))

    # -- outbox --------------------------------------------------------------------

    def enqueue(self, item: OutboxItem) -> None:
        self._outbox.insert(item.to_doc())

    def outbox(self, status: str = "pending") -> list[OutboxItem]:
        docs = self._outbox.search(q.status == status)
        items = [OutboxItem.from_doc(dict(d)) for d in docs]
        return sorted(items, key=lambda i: (i.created_at, i.id))

    def save_outbox(self, item: OutboxItem) -> None:
        self._outbox.upsert(item.to_doc(), q.id == item.id)

    # -- processed updates ---------------------------------------------------------

    def update_seen(self, update_id: int) -> bool:
        return self._updates.contains(q.update_id == update_id)

    def mark_update(self, update_id: int, at: datetime) -> None:
        self._updates.insert({"update_id": update_id, "at": at.isoformat()})
