"""Recurring duties in stages (bot.engine.duties), on the DPRD "Pengumpulan Data Kinerja"."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.engine.duties import Duty, DutyEngine, Who, duty_stages, recap_roles
from bot.engine.instance import NotAllowed, ReasonRequired, WrongState
from bot.engine.model import Flow
from bot.services.duty_stages import Act, Position, share_id, stages, walk
from tests.support.paths import WIB

DPRD = "pengumpulan-data-kinerja-dprd-nganjuk"
T0 = datetime(2026, 7, 6, 8, 0, tzinfo=WIB)


@pytest.fixture
def dprd(all_flows: dict[str, Flow]) -> Flow:
    return all_flows[DPRD]


def test_stages_of_each_dprd_cycle(dprd: Flow) -> None:
    cycles = {c.id: c for c in dprd.cycles}
    triwulan = duty_stages(dprd, cycles["triwulan"])
    # the quarter's work is done by handing its data to the Kasubag TU: one act
    assert [(s.step_no, s.who, s.hands_to_collector, s.steps) for s in triwulan] == [
        (8, Who.OFFICIAL, True, (8, 13))]
    semester = duty_stages(dprd, cycles["semester"])
    assert [(s.step_no, s.who, s.is_decision) for s in semester] == [
        (9, Who.OFFICIAL, False), (10, Who.OFFICIAL, False), (11, Who.ATASAN, True),
        (12, Who.OFFICIAL, False)]
    assert semester[2].on_revise == 9
    tahunan = duty_stages(dprd, cycles["tahunan"])
    assert [(s.step_no, s.who, s.hands_to_collector) for s in tahunan] == [
        (14, Who.OFFICIAL, True)]
    assert recap_roles(cycles["triwulan"]) == ("atasan", "kasubag_tu")
    assert recap_roles(cycles["semester"]) == ("atasan",)


def test_a_semester_duty_with_the_atasan_evaluation_and_follow_up(dprd: Flow) -> None:
    engine = DutyEngine(dprd, "semester")
    duty = engine.open("semester-2026-1", "staf1", "kasubag1")
    assert duty.stage == 9 and engine.who_acts(duty) == "staf1"
    duty = engine.act(duty, by="staf1", now=T0)
    duty = engine.act(duty, by="staf1", now=T0 + timedelta(hours=1),
                      attachments=["bukti-semester-1.pdf"])
    assert duty.stage == 11 and engine.who_acts(duty) == "kasubag1"
    with pytest.raises(NotAllowed):
        engine.act(duty, by="staf1", now=T0)
    with pytest.raises(ReasonRequired):
        engine.act(duty, by="kasubag1", now=T0, revise=True)
    duty = engine.act(duty, by="kasubag1", now=T0 + timedelta(hours=2), revise=True,
                      note="Capaian IKI 2 belum didukung bukti")
    assert duty.stage == 9 and not duty.is_done
    for stage in (9, 10):
        assert duty.stage == stage
        duty = engine.act(duty, by="staf1", now=T0 + timedelta(days=1))
    duty = engine.act(duty, by="kasubag1", now=T0 + timedelta(days=1, hours=1),
                      note="Baik, pertahankan")
    assert duty.stage == 12
    done_at = T0 + timedelta(days=2)
    duty = engine.act(duty, by="staf1", now=done_at, note="Ditindaklanjuti")
    assert duty.is_done and duty.done_at == done_at and engine.who_acts(duty) is None
    assert [(a.step_no, a.action) for a in duty.history] == [
        (9, "complete"), (10, "complete"), (11, "revise"), (9, "complete"), (10, "complete"),
        (11, "approve"), (12, "complete")]
    assert duty.evidence == ("bukti-semester-1.pdf",)  # kept across the revision
    with pytest.raises(WrongState):
        engine.act(duty, by="staf1", now=done_at)
    assert Duty.from_dict(duty.to_dict()) == duty


def test_a_triwulan_duty_is_one_hand_in(dprd: Flow) -> None:
    engine = DutyEngine(dprd, "triwulan")
    duty = engine.open("triwulan-2026-2", "kabag1", "sekwan1")
    with pytest.raises(WrongState) as exc:  # a task cannot be sent back
        engine.act(duty, by="kabag1", now=T0, revise=True, note="x")
    assert exc.value.code == "task_not_decision"
    duty = engine.act(duty, by="kabag1", now=T0, attachments=["tw2.xlsx"])
    assert duty.is_done


def test_unknown_cycle(dprd: Flow) -> None:
    with pytest.raises(KeyError):
        DutyEngine(dprd, "bulanan")


def test_stored_stages_walk_through_a_revision_round(dprd: Flow) -> None:
    cycles = {c.id: c for c in dprd.cycles}
    semester = stages(dprd, cycles["semester"])
    assert [(s.who, s.steps, s.decision, s.back_to) for s in semester] == [
        (Who.OFFICIAL, (9, 10), False, None), (Who.ATASAN, (11,), True, 0),
        (Who.OFFICIAL, (12,), False, None)]
    assert [(s.steps, s.decision) for s in stages(dprd, cycles["triwulan"])] == [
        ((8, 13), False)]
    acts: dict[tuple[int, int], Act] = {}

    def at() -> Position | None:
        return walk(semester, lambda i, r: acts.get((i, r)))

    assert at() == Position(semester[0], 0, None)
    acts[(0, 0)] = Act(T0)
    assert at() == Position(semester[1], 0, T0)
    acts[(1, 0)] = Act(T0 + timedelta(hours=1), revised=True, note="Bukti kurang", by="kasubag1")
    assert at() == Position(semester[0], 1, T0 + timedelta(hours=1), "Bukti kurang", "kasubag1")
    acts[(0, 1)] = Act(T0 + timedelta(days=1))
    assert at() == Position(semester[1], 1, T0 + timedelta(days=1))  # the reason is spent
    acts[(1, 1)] = Act(T0 + timedelta(days=2))
    assert at() == Position(semester[2], 1, T0 + timedelta(days=2))
    acts[(2, 1)] = Act(T0 + timedelta(days=3))
    assert at() is None
    # a revision recorded on a task stage cannot send anything back: it counts as done
    assert walk(semester[2:], lambda i, r: Act(T0, revised=True) if r == 0 else None) is None


def test_round_ids_keep_the_historic_ones(dprd: Flow) -> None:
    assert share_id(DPRD, "semester-2026-1", "m1") == share_id(DPRD, "semester-2026-1", "m1", 0)
    ids = {share_id(DPRD, "semester-2026-1", "m1", i, r) for i in range(3) for r in range(3)}
    assert len(ids) == 9
