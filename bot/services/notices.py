"""Typed notices: the messages a transition owes, and the one codec that stores them.

An outbox item's payload is a stored document, so it is versioned like every other: encode
writes ``{"v": NOTICE_SCHEMA, ...fields}``; decode reads any version up to the current one
(version 1 is the untagged dicts stored before notices were typed) and refuses newer ones.

Every outbox kind is a notice: the delivery notices (``step``, ``completed``, ``cancelled``,
``wait``, ``settle``), the acknowledgements (outbox kind ``ack``: one class per answer, told
apart by the stored ``"ack"`` name) and the reminders (kind ``reminder``: a step's or a
recurring duty's, told apart by the stored ``"type"``). The stored keys are the ones sopbot
has always written, so a payload stored by any earlier version decodes, and a reader of the
raw document (``payload["ack"]``, ``payload["reply_to"]``) still finds what it looks for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

NOTICE_SCHEMA = 2
N = TypeVar("N")


class NoticeError(ValueError):
    """A stored payload that is not a notice this sopbot can read."""


@dataclass(frozen=True)
class StepNotice:
    """A step landed on the recipient (buttons follow)."""

    kind: ClassVar[str] = "step"
    instance_id: str
    flow_id: str
    year: int
    step_no: int
    round: int
    deadline: str | None  # ISO date-time
    note: str | None = None
    attachments: tuple[str, ...] = ()
    by_event: bool = False
    subject: str | None = None  # per-official procedures: whose instance
    revision: bool = False  # sent back with a reason
    from_name: str | None = None  # who decided the step before


@dataclass(frozen=True)
class CompletedNotice:
    """The instance is finished."""

    kind: ClassVar[str] = "completed"
    instance_id: str
    flow_id: str
    year: int
    elapsed_seconds: int
    standard: str
    subject: str | None = None


@dataclass(frozen=True)
class CancelledNotice:
    """The instance was cancelled."""

    kind: ClassVar[str] = "cancelled"
    instance_id: str
    flow_id: str
    year: int
    reason: str | None
    by: str
    subject: str | None = None


@dataclass(frozen=True)
class WaitNotice:
    """The document went outside the office: the recorder's "Sudah kembali" button."""

    kind: ClassVar[str] = "wait"
    instance_id: str
    flow_id: str
    year: int
    step_no: int  # the step after which it went out
    waits_for: tuple[str, ...]
    expected_by: str | None = None  # ISO date-time; never a deadline
    subject: str | None = None


@dataclass(frozen=True)
class SettleNotice:
    """Edit a step message to show the decision (its buttons go)."""

    kind: ClassVar[str] = "settle"
    flow_id: str
    message_id: int
    text: str
    disposition: Mapping[str, Any]
    name: str
    undo: bool = False  # the decider's own copy: offer "Tarik kembali" (issue 12)


from bot.services.notices_acks import (  # noqa: E402  (the acknowledgements, below)
    ACKS,
    Ack,
    AttachedAck,
    CancelledAck,
    CycleDoneAck,
    CycleRevisedAck,
    DecidedAck,
    DelegationActiveAck,
    DelegationEndedAck,
    JoinedAck,
    MutasiOfferAck,
    PendingDroppedAck,
    ReasonAskedAck,
    ReturnedAck,
    StartedAck,
    SuccessorAck,
    TargetDateAskedAck,
    TriggeredAck,
    UndeliverableAck,
)
from bot.services.notices_reminders import (  # noqa: E402
    REMINDERS,
    CycleReminder,
    DigestReminder,
    Reminder,
    StepReminder,
)

Notice = (StepNotice | CompletedNotice | CancelledNotice | SettleNotice | WaitNotice | Ack
          | Reminder)
#: The delivery notices by outbox kind; ``ack`` and ``reminder`` are families (below).
KINDS: dict[str, type[Notice]] = {c.kind: c for c in (StepNotice, CompletedNotice,
                                                       CancelledNotice, SettleNotice,
                                                       WaitNotice)}
#: The families: outbox kind → (the stored key naming the class, the classes by that name).
FAMILIES: dict[str, tuple[str, Mapping[str, type[Notice]]]] = {
    "ack": ("ack", ACKS),
    "reminder": ("type", REMINDERS),
}
#: Fields stored under another key (the key the payload has always used; "kind" is taken by
#: the outbox kind in the classes).
STORED_AS: dict[str, str] = {"acting": "kind", "moment": "kind"}


def encode(notice: Notice) -> tuple[str, dict[str, Any]]:
    """The outbox kind and the stored payload of a notice."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(notice):
        value = getattr(notice, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        fields[STORED_AS.get(f.name, f.name) if notice.kind in FAMILIES else f.name] = value
    family = FAMILIES.get(notice.kind)
    if family is not None:
        key, classes = family
        fields[key] = next(name for name, cls in classes.items() if cls is type(notice))
    return notice.kind, {"v": NOTICE_SCHEMA, **fields}


def notice_class(kind: str, payload: Mapping[str, Any]) -> type[Notice]:
    """The notice class of a stored payload of outbox kind `kind`."""
    family = FAMILIES.get(kind)
    if family is None:
        cls = KINDS.get(kind)
        if cls is None:
            raise NoticeError(f"no notice of kind {kind!r}")
        return cls
    key, classes = family
    name = payload.get(key)
    found = classes.get(name) if isinstance(name, str) else None
    if found is None:
        raise NoticeError(f"no {kind} notice named {name!r}")
    return found


def decode(kind: str, payload: Mapping[str, Any]) -> Notice:
    """A stored payload back as its notice (older versions upgraded)."""
    cls = notice_class(kind, payload)
    version = payload.get("v", 1)
    if not isinstance(version, int) or version > NOTICE_SCHEMA:
        raise NoticeError(f"{kind} notice of version {version!r}; this sopbot reads up to "
                          f"{NOTICE_SCHEMA}")
    # Version 1 is the same fields, untagged (and a step's edit text was once kept in it).
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = STORED_AS.get(f.name, f.name) if kind in FAMILIES else f.name
        if key in payload:
            value = payload[key]
            if value is None and (f.default == () or f.name == "waits_for"):
                value = ()  # an empty list once stored as null
            values[f.name] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**values)
    except TypeError as exc:
        raise NoticeError(f"{kind} notice cannot be read: {exc}") from exc


def decoded(kind: str, payload: Mapping[str, Any] | Notice, cls: type[N]) -> N:
    """`payload` as a notice of class `cls` (decoded when it is still a stored document)."""
    notice = decode(kind, payload) if isinstance(payload, Mapping) else payload
    if not isinstance(notice, cls):
        raise NoticeError(f"a {type(notice).__name__}, not a {cls.__name__}")
    return notice


def is_typed(kind: str) -> bool:
    """Whether outbox items of `kind` carry a typed notice (every kind sopbot stores)."""
    return kind in KINDS or kind in FAMILIES


__all__ = [
    "ACKS",
    "KINDS",
    "NOTICE_SCHEMA",
    "REMINDERS",
    "Ack",
    "AttachedAck",
    "CancelledAck",
    "CancelledNotice",
    "CompletedNotice",
    "CycleDoneAck",
    "CycleReminder",
    "CycleRevisedAck",
    "DecidedAck",
    "DelegationActiveAck",
    "DelegationEndedAck",
    "DigestReminder",
    "JoinedAck",
    "MutasiOfferAck",
    "Notice",
    "NoticeError",
    "PendingDroppedAck",
    "ReasonAskedAck",
    "Reminder",
    "ReturnedAck",
    "SettleNotice",
    "StartedAck",
    "StepNotice",
    "StepReminder",
    "SuccessorAck",
    "TargetDateAskedAck",
    "TriggeredAck",
    "UndeliverableAck",
    "WaitNotice",
    "decode",
    "decoded",
    "encode",
    "is_typed",
]
