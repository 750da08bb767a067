"""The outbox payload codec: typed notices, versioned, and yesterday's payloads still read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.commands import Decide, Decision, Start
from bot.services.notices import (
    NOTICE_SCHEMA,
    NoticeError,
    SettleNotice,
    StepNotice,
    decode,
    encode,
)
from tests.support.services import World

#: A step notification exactly as sopbot stored it before notices were typed (no "v").
STORED_V1_STEP = {
    "instance_id": "40e3951f", "flow_id": "pk-kec-neglasari", "year": 2026, "step_no": 2,
    "round": 1, "deadline": "2026-01-05T10:15:00+07:00", "note": None, "attachments": [],
    "by_event": False, "subject": None, "revision": False, "from_name": "Pak Camat",
}
STORED_V1_SETTLE = {
    "flow_id": "pk-kec-neglasari", "message_id": 5, "text": "📋 PK 2026\nStep 1 of 9",
    "disposition": {"instance_id": "40e3951f", "step_no": 1, "round": 1,
                    "action": "complete", "member": "101", "role": "camat",
                    "at": "2026-01-05T08:05:00+07:00", "note": None, "attachments": []},
    "name": "Pak Camat",
}


def test_a_payload_stored_before_typed_notices_still_loads() -> None:
    step = decode("step", STORED_V1_STEP)
    assert step == StepNotice(instance_id="40e3951f", flow_id="pk-kec-neglasari", year=2026,
                              step_no=2, round=1, deadline="2026-01-05T10:15:00+07:00",
                              from_name="Pak Camat")
    settle = decode("settle", STORED_V1_SETTLE)
    assert isinstance(settle, SettleNotice) and settle.message_id == 5
    # Re-encoded it is the same document, now tagged with its version.
    assert encode(step) == ("step", {"v": NOTICE_SCHEMA, **STORED_V1_STEP})


def test_newer_or_unknown_payloads_are_refused_with_a_reason() -> None:
    with pytest.raises(NoticeError, match="version 99"):
        decode("step", {**STORED_V1_STEP, "v": 99})
    with pytest.raises(NoticeError, match="kind 'fax'"):
        decode("fax", {})
    with pytest.raises(NoticeError, match="cannot be read"):
        decode("step", {"v": 2, "flow_id": "x"})


def test_the_workflow_stores_versioned_notices(world: World) -> None:
    world.join("Pak Camat", "camat")
    world.join("Bu Perenkeu", "kasubag_perenkeu")
    inst = world.services.start(Start(world.member("Pak Camat"), "PK 2026", world.now)).instances[0]
    world.services.decide(Decide(world.member("Pak Camat"), inst.id, 1, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5))))
    [item] = world.outbox("Bu Perenkeu", "step")
    assert item.payload["v"] == NOTICE_SCHEMA
    notice = decode(item.kind, item.payload)
    assert isinstance(notice, StepNotice) and notice.step_no == 2
    assert notice.from_name == "Pak Camat"
