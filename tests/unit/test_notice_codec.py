"""Every outbox notice through the one codec: each type round-trips, and the payloads stored
before acknowledgements and reminders were typed (the dict shapes copied from the code that
wrote them) still decode, to the same stored document."""

from __future__ import annotations

import pytest

from bot.services.notices import (
    ACKS,
    KINDS,
    NOTICE_SCHEMA,
    REMINDERS,
    AttachedAck,
    CancelledAck,
    CancelledNotice,
    CompletedNotice,
    CycleDoneAck,
    CycleReminder,
    CycleRevisedAck,
    DecidedAck,
    DelegationActiveAck,
    DelegationEndedAck,
    DigestReminder,
    JoinedAck,
    MutasiOfferAck,
    Notice,
    NoticeError,
    PendingDroppedAck,
    ReasonAskedAck,
    ReturnedAck,
    SettleNotice,
    StartedAck,
    StepNotice,
    StepReminder,
    SuccessorAck,
    TargetDateAskedAck,
    TriggeredAck,
    UndeliverableAck,
    WaitNotice,
    decode,
    encode,
    is_typed,
)

FLOW = "pk-kec-neglasari"

#: One of every notice type, with its optional fields set where it has them.
EVERY_NOTICE: list[Notice] = [
    StepNotice(instance_id="40e3951f", flow_id=FLOW, year=2026, step_no=2, round=1,
               deadline="2026-01-05T10:15:00+07:00", note="lihat lampiran",
               attachments=("document:abc",), subject="Bu Sri", revision=True,
               from_name="Pak Camat"),
    CompletedNotice(instance_id="40e3951f", flow_id=FLOW, year=2026, elapsed_seconds=3600,
                    standard="9 hari"),
    CancelledNotice(instance_id="40e3951f", flow_id=FLOW, year=2026, reason="salah tahun",
                    by="Pak Camat"),
    WaitNotice(instance_id="40e3951f", flow_id=FLOW, year=2026, step_no=4,
               waits_for=("Bupati",), expected_by="2026-01-09T16:00:00+07:00"),
    SettleNotice(flow_id=FLOW, message_id=5, text="📋 PK 2026", name="Pak Camat", undo=True,
                 disposition={"instance_id": "40e3951f", "step_no": 1, "action": "complete"}),
    JoinedAck(name="Pak Camat", role="Camat", unit="Kecamatan Neglasari", already=False,
              unit_id="kec-neglasari", role_id="camat", reply_to=3),
    StartedAck(flow_id=FLOW, year=2026, count=2, skipped=("Dewi",), starter_acts=True,
               salutation="Bapak", target_asked=True, reply_to=7),
    DecidedAck(flow_id=FLOW, step_no=3, action="revise", completed=False, reply_to=9),
    ReasonAskedAck(reply_to=11),
    PendingDroppedAck(reply_to=12),
    AttachedAck(reply_to=13),
    CycleDoneAck(flow_id=FLOW, cycle_id="lapor-tw", period="triwulan", index=1, year=2026,
                 reply_to=14),
    UndeliverableAck(name="Bu Sri", flow_id=FLOW, year=2026),
    ReturnedAck(flow_id=FLOW, year=2026, step_no=5, reply_to=15),
    TriggeredAck(flow_id=FLOW, year=2026, step_no=10, reply_to=16),
    CancelledAck(flow_id=FLOW, year=2026, reply_to=17),
    SuccessorAck(name="Pak Lama", steps=0),
    DelegationActiveAck(acting="plt", unit_id="kec-neglasari", role_id="camat",
                        holder="Pak Camat", delegate="Pak Sekcam",
                        until="2026-02-01T00:00:00+07:00", steps=2),
    DelegationEndedAck(acting="plh", unit_id="kec-neglasari", role_id="camat",
                       holder="Pak Camat", delegate="Pak Sekcam",
                       until="2026-02-01T00:00:00+07:00"),
    StepReminder(instance_id="40e3951f", flow_id=FLOW, year=2026, step_no=2, round=1,
                 deadline="2026-01-05T10:15:00+07:00", moment="escalate", n=0,
                 subject="Bu Sri", late=("Bu Sri",), at="2026-01-06T08:00:00+07:00",
                 owner="Pak Camat"),
    CycleReminder(flow_id=FLOW, cycle_id="lapor-tw", occurrence="lapor-tw:2026:1",
                  period="triwulan", index=1, year=2026, due="2026-04-10T16:00:00+07:00",
                  moment="recap", n=0, reports=("101", "102"), done=("Bu Sri",),
                  not_done=("Pak Budi",), at="2026-04-10T08:00:00+07:00", owner="Pak Camat"),
    CycleReminder(flow_id=FLOW, cycle_id="evaluasi", occurrence="evaluasi:2026:1",
                  period="semester", index=1, year=2026, due="2026-07-10T16:00:00+07:00",
                  moment="before", n=0, task_id="t0123", stage_steps=(2, 3), official="102",
                  official_name="Pak Budi"),
    MutasiOfferAck(flow_id=FLOW, year=2026, instance_id="40e3951f", step_no=16,
                   old="Pak Lama", new="Bu Baru", successor="205"),
    CycleRevisedAck(flow_id=FLOW, cycle_id="evaluasi", period="semester", index=1, year=2026,
                    official_name="Pak Budi", reason="lampiran kurang", reply_to=12),
    TargetDateAskedAck(flow_id=FLOW, year=2026, given="kemarin", reply_to=18),
    DigestReminder(flow_id=FLOW, moment="digest", missed=True, task_id="t1+t2",
                   at="2026-07-06T08:00:00+07:00", owner="Bu Sri", items=(
                       {"type": "cycle", "kind": "due", "flow_id": FLOW, "cycle_id": "ukur",
                        "occurrence": "ukur:2026:2", "period": "triwulan", "index": 2,
                        "year": 2026, "due": "2026-07-06T16:00:00+07:00", "task_id": "t1"},
                       {"type": "cycle", "kind": "due", "flow_id": FLOW, "cycle_id": "lapor",
                        "occurrence": "lapor:2026:1", "period": "semester", "index": 1,
                        "year": 2026, "due": "2026-07-06T16:00:00+07:00", "task_id": "t2"})),
]


def test_every_notice_type_is_covered_here() -> None:
    covered = {type(n) for n in EVERY_NOTICE}
    assert covered == set(KINDS.values()) | set(ACKS.values()) | set(REMINDERS.values())
    assert all(is_typed(kind) for kind in ("step", "settle", "ack", "reminder"))
    assert not is_typed("fax")


@pytest.mark.parametrize("notice", EVERY_NOTICE, ids=lambda n: type(n).__name__)
def test_every_notice_round_trips_through_the_codec(notice: Notice) -> None:
    kind, payload = encode(notice)
    assert payload["v"] == NOTICE_SCHEMA and kind == notice.kind
    assert decode(kind, payload) == notice
    # The stored document is plain JSON data: lists, not tuples.
    assert not any(isinstance(v, tuple) for v in payload.values())


# --- the shapes stored before acknowledgements and reminders were typed ---------------------
# Each is copied from the code that wrote it (the dict literals of workflow.py, flowops.py,
# membership.py, outbox.py, people.py and reminders.py before this change).

OLD_ACKS: list[tuple[dict[str, object], Notice]] = [
    ({"ack": "joined", "reply_to": 3, "name": "Pak Camat", "unit_id": "kec-neglasari",
      "role_id": "camat", "role": "Camat", "unit": "Kecamatan Neglasari", "already": False},
     JoinedAck(name="Pak Camat", role="Camat", unit="Kecamatan Neglasari",
               unit_id="kec-neglasari", role_id="camat", reply_to=3)),
    ({"ack": "started", "reply_to": 7, "flow_id": FLOW, "year": 2026, "count": 1,
      "skipped": [], "starter_acts": True, "salutation": "Ibu", "target_asked": False},
     StartedAck(flow_id=FLOW, year=2026, starter_acts=True, salutation="Ibu", reply_to=7)),
    ({"ack": "decided", "reply_to": 9, "flow_id": FLOW, "step_no": 1, "action": "complete",
      "completed": False},
     DecidedAck(flow_id=FLOW, step_no=1, action="complete", reply_to=9)),
    ({"ack": "reason_asked", "reply_to": None}, ReasonAskedAck()),
    ({"ack": "pending_dropped", "reply_to": 12}, PendingDroppedAck(reply_to=12)),
    ({"ack": "attached", "reply_to": 13}, AttachedAck(reply_to=13)),
    ({"ack": "cycle_done", "reply_to": 14, "flow_id": FLOW, "period": "triwulan", "index": 1,
      "year": 2026, "cycle_id": "lapor-tw"},
     CycleDoneAck(flow_id=FLOW, cycle_id="lapor-tw", period="triwulan", index=1, year=2026,
                  reply_to=14)),
    ({"ack": "undeliverable", "name": "Bu Sri", "flow_id": FLOW, "year": 2026},
     UndeliverableAck(name="Bu Sri", flow_id=FLOW, year=2026)),
    ({"ack": "returned", "reply_to": 15, "flow_id": FLOW, "year": 2026, "step_no": None},
     ReturnedAck(flow_id=FLOW, year=2026, reply_to=15)),
    ({"ack": "triggered", "reply_to": 16, "flow_id": FLOW, "year": 2026, "step_no": 10},
     TriggeredAck(flow_id=FLOW, year=2026, step_no=10, reply_to=16)),
    ({"ack": "cancelled", "reply_to": 17, "flow_id": FLOW, "year": 2026},
     CancelledAck(flow_id=FLOW, year=2026, reply_to=17)),
    ({"ack": "people_successor", "name": "Pak Lama", "steps": 0}, SuccessorAck(name="Pak Lama")),
    ({"ack": "people_delegation_active", "kind": "plt", "unit_id": "kec-neglasari",
      "role_id": "camat", "holder": "Pak Camat", "delegate": "Pak Sekcam",
      "until": "2026-02-01T00:00:00+07:00", "steps": 2},
     DelegationActiveAck(acting="plt", unit_id="kec-neglasari", role_id="camat",
                         holder="Pak Camat", delegate="Pak Sekcam",
                         until="2026-02-01T00:00:00+07:00", steps=2)),
    ({"ack": "people_delegation_ended", "kind": "plh", "unit_id": "kec-neglasari",
      "role_id": "camat", "holder": "Pak Camat", "delegate": "Pak Sekcam",
      "until": "2026-02-01T00:00:00+07:00", "steps": 0},
     DelegationEndedAck(acting="plh", unit_id="kec-neglasari", role_id="camat",
                        holder="Pak Camat", delegate="Pak Sekcam",
                        until="2026-02-01T00:00:00+07:00")),
]

STEP_BASE = {"type": "step", "instance_id": "40e3951f", "flow_id": FLOW, "year": 2026,
             "step_no": 2, "round": 1, "deadline": "2026-01-05T10:15:00+07:00",
             "subject": None}
CYCLE_BASE = {"type": "cycle", "flow_id": FLOW, "cycle_id": "lapor-tw",
              "occurrence": "lapor-tw:2026:1", "period": "triwulan", "index": 1, "year": 2026,
              "due": "2026-04-10T16:00:00+07:00"}
OLD_REMINDERS: list[tuple[dict[str, object], Notice]] = [
    # a holder's overdue reminder, as fired (the planned payload + at + owner)
    ({**STEP_BASE, "kind": "overdue", "n": 2, "at": "2026-01-07T08:00:00+07:00",
      "owner": "Bu Sri"},
     StepReminder(instance_id="40e3951f", flow_id=FLOW, year=2026, step_no=2, round=1,
                  deadline="2026-01-05T10:15:00+07:00", moment="overdue", n=2,
                  at="2026-01-07T08:00:00+07:00", owner="Bu Sri")),
    # the atasan's escalation names who is late
    ({**STEP_BASE, "late": ["Bu Sri"], "kind": "escalate", "n": 0,
      "at": "2026-01-08T08:00:00+07:00", "owner": "Pak Camat"},
     StepReminder(instance_id="40e3951f", flow_id=FLOW, year=2026, step_no=2, round=1,
                  deadline="2026-01-05T10:15:00+07:00", moment="escalate", late=("Bu Sri",),
                  at="2026-01-08T08:00:00+07:00", owner="Pak Camat")),
    # an official's share of a duty, at a later stage
    ({**CYCLE_BASE, "kind": "due", "n": 0, "task_id": "t0123", "stage_steps": [2],
      "official": "102", "official_name": "Pak Budi", "at": "2026-04-10T08:00:00+07:00",
      "owner": "Pak Camat"},
     CycleReminder(flow_id=FLOW, cycle_id="lapor-tw", occurrence="lapor-tw:2026:1",
                   period="triwulan", index=1, year=2026, due="2026-04-10T16:00:00+07:00",
                   moment="due", task_id="t0123", stage_steps=(2,), official="102",
                   official_name="Pak Budi", at="2026-04-10T08:00:00+07:00",
                   owner="Pak Camat")),
    # the atasan's recap
    ({**CYCLE_BASE, "kind": "recap", "n": 0, "task_id": None, "reports": ["101", "102"],
      "done": ["Bu Sri"], "not_done": ["Pak Budi"], "at": "2026-04-11T08:00:00+07:00",
      "owner": "Pak Camat"},
     CycleReminder(flow_id=FLOW, cycle_id="lapor-tw", occurrence="lapor-tw:2026:1",
                   period="triwulan", index=1, year=2026, due="2026-04-10T16:00:00+07:00",
                   moment="recap", reports=("101", "102"), done=("Bu Sri",),
                   not_done=("Pak Budi",), at="2026-04-11T08:00:00+07:00",
                   owner="Pak Camat")),
]


@pytest.mark.parametrize(("stored", "notice"), OLD_ACKS, ids=lambda v: str(v)[:30])
def test_an_acknowledgement_stored_as_a_plain_dict_still_loads(
        stored: dict[str, object], notice: Notice) -> None:
    assert decode("ack", stored) == notice
    # Re-encoded it keeps every key a reader of the raw document looks for.
    _kind, payload = encode(notice)
    assert {k: v for k, v in payload.items() if k in stored} == stored


@pytest.mark.parametrize(("stored", "notice"), OLD_REMINDERS, ids=lambda v: str(v)[:30])
def test_a_reminder_stored_as_a_plain_dict_still_loads(
        stored: dict[str, object], notice: Notice) -> None:
    assert decode("reminder", stored) == notice
    _kind, payload = encode(notice)
    assert {k: v for k, v in payload.items() if k in stored} == stored


def test_a_planned_point_payload_reads_as_its_reminder() -> None:
    """/pengingat reads the planned points: the fired payload without `at` and `owner`."""
    reminder = decode("reminder", {**STEP_BASE, "kind": "before", "n": 0})
    assert isinstance(reminder, StepReminder) and reminder.at is None


def test_unknown_acknowledgements_and_reminders_are_refused_with_a_reason() -> None:
    with pytest.raises(NoticeError, match="no ack notice named 'waved'"):
        decode("ack", {"ack": "waved"})
    with pytest.raises(NoticeError, match="no reminder notice named None"):
        decode("reminder", {"flow_id": FLOW})
    with pytest.raises(NoticeError, match="cannot be read"):
        decode("reminder", {"type": "step", "flow_id": FLOW})
    with pytest.raises(NoticeError, match="version 3"):
        decode("ack", {"v": 3, "ack": "attached"})
