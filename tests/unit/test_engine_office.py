"""Office-grade transitions: external waits, partial revision of a fan-out, event steps that
resume the sequence, cancelling, withdrawing a decision, and Plt/Plh acting capacity."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.engine.instance import (
    Action,
    Actor,
    DecisionWithdrawn,
    Disposition,
    Engine,
    ExternalReturned,
    ExternalWaitStarted,
    FlowCancelled,
    Instance,
    NotAllowed,
    RevisionRequested,
    SequenceResumed,
    Status,
    StepActivated,
    WrongState,
)
from bot.engine.loader import parse_flow
from bot.engine.model import Flow
from bot.engine.reminders import step_reminders
from tests.support.paths import DATA_DIR, WIB

OFFICE = (DATA_DIR / "office.yaml").read_text(encoding="utf-8")
HOLDERS = {"kepala": ["ka"], "sekretaris": ["sek"], "kasubag": ["ks"], "staf": ["st"],
           "bidang": ["b1", "b2", "b3"]}
KEPALA = Actor.of("ka", "kepala")
SEK = Actor.of("sek", "sekretaris")
KASUBAG = Actor.of("ks", "kasubag")
STAF = Actor.of("st", "staf")
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)  # Monday
WINDOW = timedelta(minutes=10)


def bidang(n: int) -> Actor:
    return Actor.of(f"b{n}", "bidang")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def flow() -> Flow:
    return parse_flow(OFFICE, "office.yaml")


@pytest.fixture
def engine(flow: Flow) -> Engine:
    return Engine(flow)


def started(engine: Engine) -> Instance:
    return engine.start(instance_id="x", year=2026, by=KASUBAG, now=T0,
                        holders=HOLDERS).instance


def at_decision(engine: Engine) -> Instance:
    """Step 3 active: every bidang did its part of step 2, with one document each."""
    inst = engine.complete(started(engine), by=KEPALA, now=at(1), holders=HOLDERS).instance
    for n in (1, 2, 3):
        inst = engine.complete(inst, by=bidang(n), now=at(1 + n), holders=HOLDERS,
                               attachments=[f"pk-b{n}"]).instance
    assert inst.current is not None and inst.current.no == 3
    return inst


def waiting(engine: Engine) -> Instance:
    inst = engine.approve(at_decision(engine), by=SEK, now=at(10), holders=HOLDERS).instance
    return engine.complete(inst, by=STAF, now=at(20), holders=HOLDERS,
                           attachments=["surat"]).instance


# --- the flow file --------------------------------------------------------------------------


def test_external_roles_secretary_and_viewpoint_are_exposed(flow: Flow) -> None:
    assert flow.is_external("bupati") and flow.is_external("setda")
    assert not flow.is_external("staf")
    assert [r.id for r in flow.office_roles] == ["kepala", "sekretaris", "kasubag", "staf",
                                                 "bidang"]
    assert flow.secretary_roles == ("sekretaris",)
    assert flow.step(4).prompt() == "Mengirim ke Bagian Organisasi"
    assert flow.step(5).prompt() == "Menerima kembali"
    assert flow.revises_fan_out(3) and not flow.revises_fan_out(1)
    wait = flow.step(4).wait
    assert wait is not None and wait.waits_for == ("setda", "bupati")
    assert wait.recorded_by == "staf" and str(wait.waktu) == "10 Hari"
    assert [s.no for s in flow.sequence] == [1, 2, 3, 4, 5, 6]


# --- waiting on someone outside the office -----------------------------------------------


def test_completing_the_step_before_a_wait_sends_the_document_out(engine: Engine) -> None:
    inst = engine.approve(at_decision(engine), by=SEK, now=at(10), holders=HOLDERS).instance
    t = engine.complete(inst, by=STAF, now=at(20), holders=HOLDERS, attachments=["surat"])
    out = t.events[1]
    assert isinstance(out, ExternalWaitStarted)
    assert out.step_no == 4 and out.waits_for == ("setda", "bupati")
    assert out.recorded_by == "staf" and out.label == "Penandatanganan oleh Bupati"
    # the SOP's expected 10 working days (16 January 2026 is Isra Mi'raj): not a deadline
    assert out.expected_by is not None and out.expected_by.date().isoformat() == "2026-01-20"
    inst = t.instance
    assert inst.is_waiting and inst.status is Status.ACTIVE
    assert inst.current is None and inst.active_steps() == []
    assert inst.waiting is not None and inst.waiting.since == at(20)
    # weeks outside are late for no one in the office
    assert not inst.is_overdue(at(20) + timedelta(days=60))
    with pytest.raises(WrongState) as exc:
        engine.advance(inst, by=STAF, now=at(30), holders=HOLDERS)
    assert exc.value.code == "waiting"
    assert "waiting on Bagian Organisasi Setda, Bupati" in str(exc.value)


def test_the_office_role_records_the_return_and_the_flow_goes_on(engine: Engine) -> None:
    inst = waiting(engine)
    later = at(20) + timedelta(days=21)
    with pytest.raises(NotAllowed) as exc:
        engine.returned(inst, by=KEPALA, now=later, holders=HOLDERS)
    assert exc.value.code == "not_recorder"
    t = engine.returned(inst, by=STAF, now=later, holders=HOLDERS, note="sudah ditandatangani",
                        attachments=["pk-ttd"])
    back, nxt = t.events
    assert isinstance(back, ExternalReturned) and back.waited == timedelta(days=21)
    assert isinstance(nxt, StepActivated) and nxt.step_no == 5
    assert nxt.attachments == ("surat", "pk-ttd") and nxt.note == "sudah ditandatangani"
    assert t.instance.waiting is None and t.instance.current is not None
    assert t.instance.current.started_at == later  # its deadline counts from the return
    assert t.disposition is not None and t.disposition.action is Action.RETURN
    assert t.disposition.step_no == 4 and t.disposition.role == "staf"
    with pytest.raises(WrongState) as exc:
        engine.returned(t.instance, by=STAF, now=later, holders=HOLDERS)
    assert exc.value.code == "not_waiting"


def test_what_it_waits_on(engine: Engine) -> None:
    assert engine.wait_of(started(engine)) is None
    wait = engine.wait_of(waiting(engine))
    assert wait is not None and wait.waits_for == ("setda", "bupati")


def test_a_stored_v1_instance_is_upgraded_by_the_storage_layer(engine: Engine) -> None:
    from bot.storage.migrations import upgrade

    data = started(engine).to_dict()
    for key in ("waiting", "parts", "undo", "cancelled_by", "cancel_reason"):
        del data[key]
    data["schema"] = 1
    new = upgrade("instances", data)
    assert new["schema"] == 2 and new["waiting"] is None and new["parts"] == {}
    assert Instance.from_dict(new).current is not None


def test_no_reminder_plan_while_outside(engine: Engine, flow: Flow) -> None:
    inst = waiting(engine)
    plans = [step_reminders(a.started_at, a.deadline, flow.step(a.no).waktu, engine.calendar)
             for a in inst.active_steps()]
    assert plans == []


def test_a_waiting_instance_survives_its_stored_form(engine: Engine) -> None:
    inst = waiting(engine)
    again = Instance.from_dict(inst.to_dict())
    assert again.waiting == inst.waiting and again.is_waiting


# --- revising one part of a fan-out ------------------------------------------------------


def test_a_revision_can_send_back_only_the_named_parts(engine: Engine) -> None:
    inst = at_decision(engine)
    t = engine.revise(inst, by=SEK, now=at(10), holders=HOLDERS, reason="IKU b2 keliru",
                      parts=["b2"])
    rev, act = t.events
    assert isinstance(rev, RevisionRequested) and rev.parts == ("b2",)
    assert isinstance(act, StepActivated) and act.members == ("b2",)
    active = t.instance.current
    assert active is not None and active.no == 2
    assert active.pending == ["b2"] and sorted(active.done) == ["b1", "b3"]
    assert sorted(active.attachments) == ["pk-b1", "pk-b3"]  # the others keep their documents
    assert t.disposition is not None and t.disposition.parts == ("b2",)
    # only b2 acts again; the others are done and cannot redo
    with pytest.raises(Exception) as exc:
        engine.complete(t.instance, by=bidang(1), now=at(11), holders=HOLDERS)
    assert getattr(exc.value, "code", "") == "already_done"
    t = engine.complete(t.instance, by=bidang(2), now=at(12), holders=HOLDERS,
                        attachments=["pk-b2-v2"])
    nxt = t.events[-1]
    assert isinstance(nxt, StepActivated) and nxt.step_no == 3
    assert sorted(nxt.attachments) == ["pk-b1", "pk-b2-v2", "pk-b3"]


def test_parts_must_be_holders_who_did_the_fan_out(engine: Engine) -> None:
    inst = at_decision(engine)
    with pytest.raises(WrongState) as exc:
        engine.revise(inst, by=SEK, now=at(10), holders=HOLDERS, reason="x", parts=["zz"])
    assert exc.value.code == "not_a_part"


def test_a_revision_without_parts_still_sends_every_part_back(engine: Engine) -> None:
    t = engine.revise(at_decision(engine), by=SEK, now=at(10), holders=HOLDERS, reason="x")
    assert t.instance.current is not None and t.instance.current.pending == ["b1", "b2", "b3"]


# --- an event step that resumes the sequence ---------------------------------------------


def test_an_event_step_on_a_completed_flow_reruns_from_its_continue_at(engine: Engine) -> None:
    inst = waiting(engine)
    inst = engine.returned(inst, by=STAF, now=at(30), holders=HOLDERS).instance
    inst = engine.complete(inst, by=STAF, now=at(40), holders=HOLDERS).instance
    inst = engine.complete(inst, by=KASUBAG, now=at(50), holders=HOLDERS).instance
    assert inst.status is Status.COMPLETED
    inst = engine.trigger(inst, 7, by=KASUBAG, now=at(60), holders=HOLDERS,
                          reason="mutasi Kabid").instance
    t = engine.complete(inst, by=STAF, now=at(70), holders=HOLDERS, attachments=["pk-rev"])
    resumed = next(e for e in t.events if isinstance(e, SequenceResumed))
    assert resumed.resume_at == 3 and resumed.reopened and resumed.abandoned == ()
    act = t.events[-1]
    assert isinstance(act, StepActivated) and act.step_no == 3
    assert act.attachments == ("pk-rev",) and act.note == "mutasi Kabid"
    assert t.instance.status is Status.ACTIVE and t.instance.finished_at is None
    # and it runs 3 -> 4 (out to the Bupati again) -> 5 -> 6
    inst = engine.approve(t.instance, by=SEK, now=at(80), holders=HOLDERS).instance
    inst = engine.complete(inst, by=STAF, now=at(90), holders=HOLDERS).instance
    assert inst.is_waiting


def test_an_event_step_while_waiting_outside_goes_back(engine: Engine) -> None:
    inst = engine.trigger(waiting(engine), 7, by=STAF, now=at(30), holders=HOLDERS,
                          reason="mutasi").instance
    t = engine.complete(inst, by=STAF, now=at(40), holders=HOLDERS)
    resumed = next(e for e in t.events if isinstance(e, SequenceResumed))
    assert resumed.abandoned == (4,) and not resumed.reopened
    assert not t.instance.is_waiting and t.instance.current is not None
    assert t.instance.current.no == 3


def test_an_event_step_before_its_continue_at_leaves_the_sequence_alone(
        engine: Engine) -> None:
    inst = engine.complete(started(engine), by=KEPALA, now=at(1), holders=HOLDERS).instance
    inst = engine.trigger(inst, 7, by=STAF, now=at(2), holders=HOLDERS, reason="mutasi").instance
    t = engine.complete(inst, by=STAF, now=at(3), holders=HOLDERS, step_no=7)
    assert not any(isinstance(e, SequenceResumed) for e in t.events)
    assert t.instance.current is not None and t.instance.current.no == 2


# --- cancelling ---------------------------------------------------------------------------


@pytest.mark.parametrize("who,admin", [(KASUBAG, False), (SEK, False), (KEPALA, False),
                                       (Actor.of("adm"), True)])
def test_who_may_cancel(engine: Engine, who: Actor, admin: bool) -> None:
    t = engine.cancel(started(engine), by=who, now=at(5), reason="salah tahun",
                      holders=HOLDERS, admin=admin)
    assert t.instance.status is Status.CANCELLED


def test_others_may_not_cancel(engine: Engine) -> None:
    with pytest.raises(NotAllowed) as exc:
        engine.cancel(started(engine), by=bidang(1), now=at(5), reason="x")
    assert exc.value.code == "not_canceller"
    assert not engine.may_cancel(started(engine), bidang(1))


def test_the_starter_may_cancel_even_without_a_starter_role(engine: Engine) -> None:
    inst = started(engine)
    inst.started_by = "b1"  # e.g. a former Kasubag who has moved on to a bidang
    assert engine.may_cancel(inst, bidang(1))


def test_cancel_records_who_why_and_tells_every_active_holder(engine: Engine) -> None:
    inst = engine.complete(started(engine), by=KEPALA, now=at(1), holders=HOLDERS).instance
    inst = engine.complete(inst, by=bidang(1), now=at(2), holders=HOLDERS).instance
    t = engine.cancel(inst, by=SEK, now=at(5), reason="mulai PK 2099 keliru", holders=HOLDERS)
    (event,) = t.events
    assert isinstance(event, FlowCancelled)
    assert event.by == "sek" and event.role == "sekretaris"
    assert event.reason == "mulai PK 2099 keliru"
    assert event.active == (2,) and event.notify == ("b2", "b3")
    assert t.instance.cancelled_by == "sek"
    assert t.instance.cancel_reason == "mulai PK 2099 keliru"
    assert t.disposition is not None and t.disposition.note == "mulai PK 2099 keliru"


def test_cancel_while_outside_names_who_has_the_document(engine: Engine) -> None:
    t = engine.cancel(waiting(engine), by=KASUBAG, now=at(30), reason="x", holders=HOLDERS)
    (event,) = t.events
    assert isinstance(event, FlowCancelled)
    assert event.waiting_on == ("setda", "bupati") and event.notify == ("st",)
    assert t.instance.waiting is None


# --- withdrawing a decision ---------------------------------------------------------------


def test_the_decider_withdraws_within_the_window(engine: Engine) -> None:
    inst = at_decision(engine)
    deadline = inst.current.deadline if inst.current else None
    decided = engine.approve(inst, by=SEK, now=at(10), holders=HOLDERS).instance
    assert engine.withdrawable(decided, by=SEK, now=at(15), window=WINDOW)
    t = engine.withdraw(decided, by=SEK, now=at(15), window=WINDOW, reason="salah tekan")
    gone, back = t.events
    assert isinstance(gone, DecisionWithdrawn)
    assert gone.step_no == 3 and gone.action is Action.APPROVE
    assert gone.withdrawn == (4,) and gone.reason == "salah tekan"
    assert isinstance(back, StepActivated) and back.step_no == 3 and back.restored
    assert back.deadline == deadline  # the decider's own deadline, unchanged
    assert t.instance.current is not None and t.instance.current.no == 3
    assert t.disposition is not None and t.disposition.action is Action.WITHDRAW
    assert t.disposition.note == "salah tekan"
    # the next activation of step 4 is a new round: its old message stays withdrawn
    again = engine.approve(t.instance, by=SEK, now=at(16), holders=HOLDERS).instance
    assert again.current is not None and again.current.round == 2


def test_withdraw_refused_after_the_window_by_others_or_once_the_next_step_acted(
        engine: Engine) -> None:
    decided = engine.approve(at_decision(engine), by=SEK, now=at(10), holders=HOLDERS).instance
    with pytest.raises(WrongState) as exc:
        engine.withdraw(decided, by=SEK, now=at(21), window=WINDOW)
    assert exc.value.code == "withdraw_too_late"
    with pytest.raises(NotAllowed) as exc2:
        engine.withdraw(decided, by=STAF, now=at(11), window=WINDOW)
    assert exc2.value.code == "not_decider"
    acted = engine.attach(decided, by=STAF, now=at(12), attachments=["draft"]).instance
    with pytest.raises(WrongState) as exc:
        engine.withdraw(acted, by=SEK, now=at(13), window=WINDOW)
    assert exc.value.code == "nothing_to_withdraw"
    assert not engine.withdrawable(acted, by=SEK, now=at(13), window=WINDOW)


def test_withdrawing_a_revision_and_a_send_out(engine: Engine) -> None:
    inst = at_decision(engine)
    revised = engine.revise(inst, by=SEK, now=at(10), holders=HOLDERS, reason="x",
                            parts=["b1"]).instance
    t = engine.withdraw(revised, by=SEK, now=at(11), window=WINDOW)
    gone = t.events[0]
    assert isinstance(gone, DecisionWithdrawn) and gone.notify == ("b1",)
    assert t.instance.current is not None and t.instance.current.no == 3
    out = waiting(engine)
    back = engine.withdraw(out, by=STAF, now=at(25), window=WINDOW).instance
    assert not back.is_waiting and back.current is not None and back.current.no == 4


def test_the_undo_point_survives_its_stored_form(engine: Engine) -> None:
    decided = engine.approve(at_decision(engine), by=SEK, now=at(10), holders=HOLDERS).instance
    stored = Instance.from_dict(decided.to_dict())
    t = engine.withdraw(stored, by=SEK, now=at(12), window=WINDOW)
    assert t.instance.current is not None and t.instance.current.no == 3


# --- Plt / Plh ------------------------------------------------------------------------------


def test_a_plh_decision_records_the_acting_capacity(engine: Engine) -> None:
    plh = Actor("ks", frozenset({"sekretaris"}), acting_for="sek", acting_kind="plh")
    t = engine.approve(at_decision(engine), by=plh, now=at(10), holders=HOLDERS)
    disp = t.disposition
    assert disp is not None and disp.member == "ks" and disp.role == "sekretaris"
    assert disp.acting_for == "sek" and disp.acting_kind == "plh"
    assert Disposition.from_dict(disp.to_dict()) == disp


def test_acting_capacity_is_checked() -> None:
    with pytest.raises(ValueError):
        Actor("ks", frozenset({"sekretaris"}), acting_for="sek", acting_kind="wakil")
    with pytest.raises(ValueError):
        Actor("ks", frozenset({"sekretaris"}), acting_for="sek")


def test_old_stored_dispositions_and_instances_still_load(engine: Engine) -> None:
    old = {"instance_id": "x", "step_no": 1, "round": 1, "action": "approve", "member": "m",
           "role": "kepala", "at": T0.isoformat(), "note": None, "attachments": []}
    disp = Disposition.from_dict(old)
    assert disp.acting_for is None and disp.acting_kind is None and disp.parts == ()
    data = started(engine).to_dict()
    for key in ("waiting", "parts", "undo", "cancelled_by", "cancel_reason"):
        del data[key]
    data["schema"] = 1
    inst = Instance.from_dict(data)
    assert inst.waiting is None and inst.parts == {} and inst.undo is None
