"""Typed notices: the messages a transition owes, and the one codec that stores them.

An outbox item's payload is a stored document, so it is versioned like every other: encode
writes ``{"v": NOTICE_SCHEMA, ...fields}``; decode reads any version up to the current one
(version 1 is the untagged dicts stored before notices were typed) and refuses newer ones.
The acknowledgements and reminders still travel as plain payloads (kinds ``ack`` and
``reminder``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

NOTICE_SCHEMA = 2


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


Notice = StepNotice | CompletedNotice | CancelledNotice | SettleNotice | WaitNotice
KINDS: dict[str, type[Notice]] = {c.kind: c for c in (StepNotice, CompletedNotice,
                                                       CancelledNotice, SettleNotice,
                                                       WaitNotice)}


def encode(notice: Notice) -> tuple[str, dict[str, Any]]:
    """The outbox kind and the stored payload of a notice."""
    fields = {f.name: getattr(notice, f.name) for f in dataclasses.fields(notice)}
    for name, value in fields.items():
        if isinstance(value, tuple):
            fields[name] = list(value)
        elif isinstance(value, Mapping):
            fields[name] = dict(value)
    return notice.kind, {"v": NOTICE_SCHEMA, **fields}


def decode(kind: str, payload: Mapping[str, Any]) -> Notice:
    """A stored payload back as its notice (older versions upgraded)."""
    cls = KINDS.get(kind)
    if cls is None:
        raise NoticeError(f"no notice of kind {kind!r}")
    version = payload.get("v", 1)
    if not isinstance(version, int) or version > NOTICE_SCHEMA:
        raise NoticeError(f"{kind} notice of version {version!r}; this sopbot reads up to "
                          f"{NOTICE_SCHEMA}")
    names = {f.name for f in dataclasses.fields(cls)}
    # Version 1 is the same fields, untagged (and a step's edit text was once kept in it).
    values = {k: v for k, v in payload.items() if k in names}
    for name in ("attachments", "waits_for"):
        if name in values:
            values[name] = tuple(values[name] or ())
    try:
        return cls(**values)
    except TypeError as exc:
        raise NoticeError(f"{kind} notice cannot be read: {exc}") from exc


def is_typed(kind: str) -> bool:
    """Whether outbox items of `kind` carry a typed notice."""
    return kind in KINDS
