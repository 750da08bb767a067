"""Every flow in flows/ run end to end in chat by simulated officials."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.model import Flow
from bot.formatting import day_minutes, normalised_total
from fakeapi import FakeUser
from tests.support.bot import running_bot
from tests.support.chatdriver import play
from tests.support.flowdriver import GOLDEN

PLAIN = ["pk-kesbangpol-jateng", "pk-kec-neglasari", "pk-inspektorat-nganjuk", "pk-kec-sooko"]


@pytest.mark.parametrize("flow_id", PLAIN)
async def test_flow_end_to_end_in_chat(tmp_path: Path, all_flows: dict[str, Flow],
                                       flow_id: str) -> None:
    flow = all_flows[flow_id]
    revise_at, per_role, expected = GOLDEN[flow_id]
    (revise_at,) = revise_at
    # A flow that sends the document outside the office (the Inspektorat's PK to the Bupati
    # after step 13) is played up to there; recording its return in chat is not wired yet.
    sends_out = next((no for no in expected if flow.step(no).wait is not None), None)
    if sends_out is not None:
        expected = expected[:expected.index(sends_out) + 1]
    attach_at = next(s.no for s in flow.sequence[1:] if not s.is_decision and not s.fan_out)
    async with running_bot(tmp_path) as h:
        people: dict[str, list[FakeUser]] = {}
        for role in flow.office_roles:  # the Bupati and the Setda are never invited
            for i in range(per_role.get(role.id, 1)):
                user = await h.join(f"{role.title} {i + 1}", flow.unit.id, role.id)
                people.setdefault(role.id, []).append(user)
        starter = people[flow.starters[0]][0]
        answer = await h.say(starter, f"mulai {flow.alias} 2025")
        assert "2025" in answer["text"]
        observer = await h.join("Pemantau", flow.unit.id, flow.starters[0])
        run = await play(h, flow, people, expected, revise_at=revise_at,
                         reason="Target IKU belum sesuai Renstra", attach_at=attach_at,
                         attach_photo=flow_id.endswith("sooko"), observer=observer,
                         status_query=f"status {flow.alias} 2025")
        assert run.order == expected
        assert run.revision_seen_by, "the revision reason reached nobody"
        assert run.attachment_forwarded_to
        assert len(run.statuses) >= 3
        # an outsider's forged press, a double press and a stale button: all refused
        refusals = sorted(r.split(" ")[0].rstrip(",") for r in run.refused)
        assert refusals == ["Already", "Already", "Sorry"]
        if sends_out is not None:
            (inst,) = h.services.store.read().instances(unit=flow.unit.id, year=2025)
            assert inst.is_waiting and inst.waiting is not None
            assert inst.waiting.after_step == sends_out
            return
        done = await starter.await_message("complete", timeout=10)
        # the SOP total, normalised to the office's working day (issue 12)
        total = normalised_total(flow.total_waktu, day_minutes(flow.unit.office_hours))
        assert f"SOP standard total: {total})" in done["text"]
        status = await h.say(starter, f"status {flow.alias} 2025")
        assert "complete" in status["text"]
