"""The acknowledgements: what the bot answers an official who just did something.

Each is a typed notice of outbox kind ``ack``; the stored payload names its class under
``"ack"`` (``"started"``, ``"decided"`` …, the names sopbot has always stored), and
`reply_to` is the official's message the answer replies to. Stored by the one codec in
:mod:`bot.services.notices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class JoinedAck:
    """An official redeemed an invitation (or already held that role)."""

    kind: ClassVar[str] = "ack"
    name: str
    role: str  # the role's title, as the unit writes it
    unit: str  # the unit's name
    already: bool = False
    unit_id: str | None = None
    role_id: str | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class StartedAck:
    """``mulai``: the instances started (per-official: for how many, who was skipped)."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    year: int
    count: int = 1
    skipped: tuple[str, ...] = ()
    starter_acts: bool = False  # the starter holds step 1 themself
    salutation: str | None = None
    target_asked: bool = False  # the answer asks the date the flow's target counts from
    reply_to: int | None = None


@dataclass(frozen=True)
class DecidedAck:
    """A decision by a reply (a button's is a toast): what it did."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    step_no: int
    action: str  # the disposition's action: "complete", "approve", "revise"
    completed: bool = False
    reply_to: int | None = None


@dataclass(frozen=True)
class ReasonAskedAck:
    """Revisi pressed: the bot asks for the reason (answered as a reply)."""

    kind: ClassVar[str] = "ack"
    reply_to: int | None = None


@dataclass(frozen=True)
class PendingDroppedAck:
    """``/batal``: the awaited revision reason is no longer awaited."""

    kind: ClassVar[str] = "ack"
    reply_to: int | None = None


@dataclass(frozen=True)
class AttachedAck:
    """A file was attached to the official's step."""

    kind: ClassVar[str] = "ack"
    reply_to: int | None = None


@dataclass(frozen=True)
class CycleDoneAck:
    """A recurring duty reported done."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    cycle_id: str
    period: str
    index: int
    year: int
    reply_to: int | None = None


@dataclass(frozen=True)
class UndeliverableAck:
    """To the starter: an official blocked the bot and missed their step."""

    kind: ClassVar[str] = "ack"
    name: str
    flow_id: str
    year: int
    reply_to: int | None = None


@dataclass(frozen=True)
class ReturnedAck:
    """"Sudah kembali" recorded; `step_no` is the step that started after it, if any."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    year: int
    step_no: int | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class CycleRevisedAck:
    """The atasan sent an official's recurring duty (the semester report) back (issue 13)."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    cycle_id: str
    period: str
    index: int
    year: int
    official_name: str
    reason: str | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class MutasiOfferAck:
    """After a mutasi: offer the unit's admin / Sekretaris the flow's event step for the
    successor's PK, with [Ya] [Tidak] (issue 14)."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    year: int
    instance_id: str
    step_no: int
    old: str  # names
    new: str
    successor: str  # member id
    reply_to: int | None = None


@dataclass(frozen=True)
class TriggeredAck:
    """An event step started."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    year: int
    step_no: int
    reply_to: int | None = None


@dataclass(frozen=True)
class CancelledAck:
    """To the official who cancelled: it is cancelled and the holders told."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    year: int
    reply_to: int | None = None


@dataclass(frozen=True)
class SuccessorAck:
    """To a successor: they take over the open steps of `name`."""

    kind: ClassVar[str] = "ack"
    name: str
    steps: int = 0
    reply_to: int | None = None


@dataclass(frozen=True)
class DelegationActiveAck:
    """A Plt./Plh. delegation began (told to the delegate and the holder)."""

    kind: ClassVar[str] = "ack"
    acting: str  # "plt" or "plh" (stored as "kind")
    unit_id: str
    role_id: str
    holder: str  # names
    delegate: str
    until: str  # ISO date-time
    steps: int = 0  # waiting steps that moved with it
    reply_to: int | None = None


@dataclass(frozen=True)
class DelegationEndedAck(DelegationActiveAck):
    """A delegation ended: the role is back with its holder."""


@dataclass(frozen=True)
class TargetDateAskedAck:
    """A reply to the question of a flow's target date that was not a date (`given`): asked
    again, and a reply to this answer is taken as the date too."""

    kind: ClassVar[str] = "ack"
    flow_id: str
    year: int
    given: str
    reply_to: int | None = None


Ack = (JoinedAck | StartedAck | DecidedAck | ReasonAskedAck | PendingDroppedAck | AttachedAck
       | CycleDoneAck | UndeliverableAck | ReturnedAck | TriggeredAck | CancelledAck
       | SuccessorAck | DelegationActiveAck | CycleRevisedAck | MutasiOfferAck
       | TargetDateAskedAck)
#: The stored ``"ack"`` name of each acknowledgement.
ACKS: dict[str, type[Ack]] = {
    "joined": JoinedAck,
    "started": StartedAck,
    "decided": DecidedAck,
    "reason_asked": ReasonAskedAck,
    "pending_dropped": PendingDroppedAck,
    "attached": AttachedAck,
    "cycle_done": CycleDoneAck,
    "undeliverable": UndeliverableAck,
    "returned": ReturnedAck,
    "triggered": TriggeredAck,
    "cancelled": CancelledAck,
    "cycle_revised": CycleRevisedAck,
    "people_successor": SuccessorAck,
    "people_mutasi_offer": MutasiOfferAck,
    "people_delegation_active": DelegationActiveAck,
    "people_delegation_ended": DelegationEndedAck,
    "target_date_asked": TargetDateAskedAck,
}


def delegation_ack(state: str) -> type[DelegationActiveAck]:
    """The acknowledgement of a delegation switched to `state` ("active" or "ended")."""
    return DelegationEndedAck if state == "ended" else DelegationActiveAck
