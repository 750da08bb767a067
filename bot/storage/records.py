"""What the bot keeps besides instances and dispositions: people, invitations, messages.

Each record has a versioned, JSON-friendly stored form (``to_doc`` / ``from_doc``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import orjson

#: Version of every stored record's form; upgrades are small pure functions in migrations.py.
RECORD_SCHEMA = 1


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Membership:
    """An official holds `role` in `unit` (several officials may hold one role)."""

    unit: str
    role: str
    since: datetime
    atasan: str | None = None  # member id of the direct superior, where it must be explicit
    atasan_nip: str | None = None  # the superior by NIP (roster), until they are bound


@dataclass
class Member:
    """An official known to the bot (a Telegram user who redeemed an invitation)."""

    id: str  # the Telegram user id, as text
    chat_id: int
    name: str
    joined_at: datetime
    username: str | None = None
    language: str | None = None  # chosen with /bahasa; None: follow Telegram, then default
    telegram_language: str | None = None
    roles: list[Membership] = field(default_factory=list)
    undeliverable: bool = False  # the chat blocked the bot (403)
    nip: str | None = None  # the official's NIP, when known from the roster or the invitation
    salutation: str | None = None  # Bapak / Ibu
    admin_of: list[str] = field(default_factory=list)  # units they administer (/anggota)
    weekly_digest: bool = True  # /ringkasan off: no Monday digest

    def roles_in(self, unit: str) -> frozenset[str]:
        """The roles this official holds in a unit."""
        return frozenset(m.role for m in self.roles if m.unit == unit)

    @property
    def units(self) -> list[str]:
        """Units this official belongs to, in the order they joined them."""
        return list(dict.fromkeys(m.unit for m in self.roles))

    def to_doc(self) -> dict[str, Any]:
        return {
            "v": RECORD_SCHEMA,
            "id": self.id,
            "chat_id": self.chat_id,
            "name": self.name,
            "joined_at": _iso(self.joined_at),
            "username": self.username,
            "language": self.language,
            "telegram_language": self.telegram_language,
            "roles": [{**asdict(m), "since": _iso(m.since)} for m in self.roles],
            "undeliverable": self.undeliverable,
            "nip": self.nip,
            "salutation": self.salutation,
            "admin_of": list(self.admin_of),
            "weekly_digest": self.weekly_digest,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Member:
        return cls(
            id=doc["id"],
            chat_id=int(doc["chat_id"]),
            name=doc["name"],
            joined_at=datetime.fromisoformat(doc["joined_at"]),
            username=doc.get("username"),
            language=doc.get("language"),
            telegram_language=doc.get("telegram_language"),
            roles=[Membership(r["unit"], r["role"], datetime.fromisoformat(r["since"]),
                              r.get("atasan"), r.get("atasan_nip"))
                   for r in doc.get("roles") or []],
            undeliverable=bool(doc.get("undeliverable")),
            nip=doc.get("nip"),
            salutation=doc.get("salutation"),
            admin_of=list(doc.get("admin_of") or []),
            weekly_digest=bool(doc.get("weekly_digest", True)),
        )


#: Invitations are stored by the hash of their code (schema 2), never the code itself.
INVITE_SCHEMA = 2


def invite_key(code: str) -> str:
    """What is stored of an invitation code: its SHA-256.

    Plain SHA-256 without a salt is enough here: a code is 96 random bits
    (``secrets.token_urlsafe(12)``), so no dictionary or precomputed table can invert the hash;
    a salt protects guessable secrets such as passwords, which these are not. The data file and
    its backups then hold nothing that can be redeemed.
    """
    return "sha256:" + hashlib.sha256(code.encode("utf-8")).hexdigest()


@dataclass
class Invite:
    """A single-use invitation code that binds whoever redeems it to a role in a unit.

    `code` is the plain code only when the invitation was just made (to print it once); one
    read from the store has ``code == ""`` and only its `code_hash`.
    """

    code: str
    unit: str
    role: str
    created_at: datetime
    expires_at: datetime
    name: str | None = None
    atasan: str | None = None
    used_by: str | None = None
    used_at: datetime | None = None
    nip: str | None = None  # a roster invitation: whose it is
    salutation: str | None = None
    atasan_nip: str | None = None
    admin: bool = False  # binds the unit's admin (sees /anggota)
    code_hash: str = ""

    def __post_init__(self) -> None:
        if not self.code_hash:
            self.code_hash = invite_key(self.code)

    def to_doc(self) -> dict[str, Any]:
        return {
            "v": INVITE_SCHEMA,
            "code_hash": self.code_hash,
            "unit": self.unit,
            "role": self.role,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "name": self.name,
            "atasan": self.atasan,
            "used_by": self.used_by,
            "used_at": _iso(self.used_at),
            "nip": self.nip,
            "salutation": self.salutation,
            "atasan_nip": self.atasan_nip,
            "admin": self.admin,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Invite:
        return cls(
            code="",
            code_hash=doc["code_hash"],
            unit=doc["unit"],
            role=doc["role"],
            created_at=datetime.fromisoformat(doc["created_at"]),
            expires_at=datetime.fromisoformat(doc["expires_at"]),
            name=doc.get("name"),
            atasan=doc.get("atasan"),
            used_by=doc.get("used_by"),
            used_at=_dt(doc.get("used_at")),
            nip=doc.get("nip"),
            salutation=doc.get("salutation"),
            atasan_nip=doc.get("atasan_nip"),
            admin=bool(doc.get("admin")),
        )


@dataclass
class StepMessage:
    """A step notification the bot sent: lets replies and buttons find their step."""

    chat_id: int
    message_id: int
    member_id: str
    instance_id: str
    step_no: int
    round: int
    text: str
    settled: bool = False  # edited to show the decision; its buttons are gone
    kind: str = "step"  # "cycle": a recurring duty's reminder (instance_id is the task id)

    def to_doc(self) -> dict[str, Any]:
        return {"v": RECORD_SCHEMA, **asdict(self)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> StepMessage:
        return cls(**{k: v for k, v in doc.items() if k != "v"})


@dataclass
class PendingReason:
    """The bot asked an official for a revision reason; their next message is it."""

    member_id: str
    instance_id: str
    step_no: int
    round: int
    asked_at: datetime
    chat_id: int | None = None
    message_id: int | None = None  # the step message the revision is for
    parts: list[str] = field(default_factory=list)  # fan-out holders sent back; [] = all

    def to_doc(self) -> dict[str, Any]:
        return {"v": RECORD_SCHEMA, **asdict(self), "asked_at": _iso(self.asked_at)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PendingReason:
        data = {k: v for k, v in doc.items() if k != "v"}
        data["asked_at"] = datetime.fromisoformat(data["asked_at"])
        return cls(**data)


@dataclass
class OutboxItem:
    """A message the bot owes someone, stored with the transition that caused it."""

    id: str
    member_id: str
    chat_id: int
    kind: str  # step | revised | completed | cancelled | fanout | text
    payload: dict[str, Any]
    created_at: datetime
    status: str = "pending"  # pending | sent | undeliverable
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    message_ids: list[int] = field(default_factory=list)
    # Set (durably) just before a send; still set after a restart means the bot died while
    # sending, so the message may already be in the chat: it is sent again, marked uncertain.
    inflight_at: datetime | None = None
    uncertain: bool = False

    def to_doc(self) -> dict[str, Any]:
        # Field by field (what dataclasses.asdict gave, in the same order): asdict copies
        # the payload through deepcopy, 0.5 ms an item, seconds for a round of reminders.
        # The payload is copied as the file will hold it (JSON), so the stored document
        # shares nothing with the item.
        return {
            "v": RECORD_SCHEMA,
            "id": self.id,
            "member_id": self.member_id,
            "chat_id": self.chat_id,
            "kind": self.kind,
            "payload": orjson.loads(orjson.dumps(self.payload,
                                                 option=orjson.OPT_NON_STR_KEYS)),
            "created_at": _iso(self.created_at),
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "sent_at": _iso(self.sent_at),
            "message_ids": list(self.message_ids),
            "inflight_at": _iso(self.inflight_at),
            "uncertain": self.uncertain,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> OutboxItem:
        data = {k: v for k, v in doc.items() if k != "v"}
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["sent_at"] = _dt(data.get("sent_at"))
        data["inflight_at"] = _dt(data.get("inflight_at"))
        return cls(**data)


@dataclass
class CycleTask:
    """One official's share of a recurring duty (e.g. Triwulan I 2026), once done."""

    id: str  # short and stable: it rides in callback data
    flow_id: str
    occurrence: str  # the occurrence key, e.g. "triwulan-2026-1"
    member_id: str
    done_at: datetime
    done_by: str
    evidence: str | None = None  # "doc:<file_id>" / "photo:<file_id>"
    # A decision stage (the atasan's evaluation) sent back for revision: action "revise" and
    # its reason (bot.services.duty_stages.revise); older records are plain "done".
    action: str = "done"
    note: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {"v": RECORD_SCHEMA, **asdict(self), "done_at": _iso(self.done_at)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> CycleTask:
        data = {k: v for k, v in doc.items() if k != "v"}
        data["done_at"] = datetime.fromisoformat(data["done_at"])
        return cls(**data)


@dataclass
class RosterEntry:
    """One official of the office's roster (by NIP), bound to Telegram or not yet."""

    nip: str
    name: str
    salutation: str
    unit: str
    role: str
    atasan_nip: str | None = None
    telegram: str | None = None  # @username, as the roster gives it
    member_id: str | None = None  # set when they joined through their invitation
    invite_code: str | None = None  # their current invitation, by its hash (older: the code)
    succeeds: str | None = None  # NIP of the official they replace (a re-import): handed over
    #                              when they join

    def to_doc(self) -> dict[str, Any]:
        return {"v": RECORD_SCHEMA, **asdict(self)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RosterEntry:
        return cls(**{k: v for k, v in doc.items() if k != "v"})


@dataclass
class Delegation:
    """Plt/Plh: `delegate` acts for `holder` in `role` of `unit` from `start` until `until`."""

    id: str
    unit: str
    role: str
    holder: str  # member id of the role's holder
    delegate: str  # member id of the Plt/Plh
    kind: str  # "plh" | "plt"
    start: datetime
    until: datetime
    created_at: datetime
    notify_holder: bool = False  # the holder still receives the role's steps and reminders
    state: str = "scheduled"  # scheduled | active | ended

    def covers(self, now: datetime) -> bool:
        return self.state != "ended" and self.start <= now < self.until

    def to_doc(self) -> dict[str, Any]:
        return {"v": RECORD_SCHEMA, **asdict(self), "start": _iso(self.start),
                "until": _iso(self.until), "created_at": _iso(self.created_at)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Delegation:
        data = {k: v for k, v in doc.items() if k != "v"}
        for key in ("start", "until", "created_at"):
            data[key] = datetime.fromisoformat(data[key])
        return cls(**data)
