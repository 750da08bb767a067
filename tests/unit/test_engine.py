"""The workflow engine, driven directly: every transition, every refusal, and properties."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.instance import (
    INSTANCE_SCHEMA,
    Action,
    Actor,
    AlreadyDone,
    Engine,
    FanOutProgress,
    FlowCancelled,
    FlowCompleted,
    Instance,
    NotAllowed,
    ReasonRequired,
    RevisionRequested,
    Status,
    StepActivated,
    StepDone,
    WrongState,
)
from bot.engine.loader import parse_flow
from bot.engine.model import Flow
from tests.support.paths import DATA_DIR, WIB

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")

HOLDERS = {
    "kepala": ["ka"],
    "sekretaris": ["sek"],
    "staf": ["st1", "st2"],
    "bidang": ["b1", "b2", "b3"],
}
KEPALA = Actor.of("ka", "kepala")
SEK = Actor.of("sek", "sekretaris")
STAF = Actor.of("st1", "staf")
STAF2 = Actor.of("st2", "staf")


def bidang(n: int) -> Actor:
    return Actor.of(f"b{n}", "bidang")


@pytest.fixture
def mini() -> Flow:
    return parse_flow(MINI, "mini.yaml")


@pytest.fixture
def engine(mini: Flow) -> Engine:
    return Engine(mini)


T0 = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)  # Monday


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def started(engine: Engine) -> Instance:
    return engine.start(instance_id="x", year=2026, by=KEPALA, now=T0,
                        holders=HOLDERS).instance


def to_step(engine: Engine, no: int) -> Instance:
    """An instance advanced (by the right people) until step `no` is active."""
    inst = started(engine)
    minute = 1
    while inst.current and inst.current.no != no:
        step = engine.flow.step(inst.current.no)
        who = {
            "kepala": KEPALA, "sekretaris": SEK, "staf": STAF,
        }.get(step.actor) or Actor.of(inst.current.pending[0] if inst.current.pending else "b1",
                                     "bidang")
        inst = engine.advance(inst, by=who, now=at(minute), holders=HOLDERS).instance
        minute += 1
    return inst


class TestStart:
    def test_start_activates_first_step_with_deadline(self, engine: Engine) -> None:
        t = engine.start(instance_id="x", year=2026, by=KEPALA, now=T0, holders=HOLDERS)
        assert t.instance.status is Status.ACTIVE
        assert t.instance.current is not None and t.instance.current.no == 1
        (ev,) = t.events
        assert isinstance(ev, StepActivated)
        assert (ev.step_no, ev.role, ev.members) == (1, "kepala", ())
        assert ev.deadline == T0 + timedelta(minutes=10)
        assert t.disposition is not None and t.disposition.action is Action.START

    def test_only_starters_may_start(self, engine: Engine) -> None:
        with pytest.raises(NotAllowed, match="only Kepala may start"):
            engine.start(instance_id="x", year=2026, by=STAF, now=T0, holders=HOLDERS)

    def test_naive_now_is_refused(self, engine: Engine) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            engine.start(instance_id="x", year=2026, by=KEPALA, now=datetime(2026, 1, 5),
                         holders=HOLDERS)

    def test_subject_only_for_per_official_flows(self, engine: Engine) -> None:
        with pytest.raises(WrongState, match="not a per-official"):
            engine.start(instance_id="x", year=2026, by=KEPALA, now=T0, holders=HOLDERS,
                         subject="st1", atasan="ka")


class TestTasks:
    def test_complete_moves_to_next_step_and_records_disposition(self, engine: Engine) -> None:
        inst = started(engine)
        t = engine.complete(inst, by=KEPALA, now=at(3), holders=HOLDERS, note="segera")
        assert [type(e) for e in t.events] == [StepDone, StepActivated]
        assert t.instance.current is not None and t.instance.current.no == 2
        assert t.events[1].note == "segera"  # the note travels to the next actor
        d = t.disposition
        assert d is not None
        assert (d.step_no, d.action, d.member, d.role, d.at, d.note) == (
            1, Action.COMPLETE, "ka", "kepala", at(3), "segera")
        # the original instance is untouched: transitions return a new one
        assert inst.current is not None and inst.current.no == 1

    def test_any_holder_of_a_plain_step_may_complete(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        t = engine.complete(inst, by=STAF2, now=at(9), holders=HOLDERS)
        assert t.instance.current is not None and t.instance.current.no == 3

    def test_someone_without_the_role_is_refused(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        with pytest.raises(NotAllowed, match="step 2 is for Staf"):
            engine.complete(inst, by=SEK, now=at(9), holders=HOLDERS)

    def test_approving_a_task_is_refused(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        with pytest.raises(WrongState, match="is a task"):
            engine.approve(inst, by=STAF, now=at(9), holders=HOLDERS)
        with pytest.raises(WrongState, match="cannot be sent back"):
            engine.revise(inst, by=STAF, now=at(9), holders=HOLDERS, reason="x")

    def test_attachments_travel_with_the_next_step(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        t = engine.complete(inst, by=STAF, now=at(9), holders=HOLDERS, attachments=["file-1"])
        assert t.disposition is not None and t.disposition.attachments == ("file-1",)
        activated = t.events[-1]
        assert isinstance(activated, StepActivated) and activated.attachments == ("file-1",)


    def test_attach_without_deciding_then_documents_travel_on(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        t = engine.attach(inst, by=STAF2, now=at(9), attachments=["draft.docx"], note="draf")
        assert t.events == () and t.disposition is not None
        assert (t.disposition.action, t.disposition.attachments) == (Action.ATTACH,
                                                                     ("draft.docx",))
        assert t.instance.current is not None and t.instance.current.no == 2
        with pytest.raises(NotAllowed):
            engine.attach(inst, by=SEK, now=at(9), attachments=["x"])
        with pytest.raises(WrongState, match="nothing to attach"):
            engine.attach(inst, by=STAF, now=at(9), attachments=[])
        done = engine.complete(t.instance, by=STAF, now=at(10), holders=HOLDERS)
        activated = done.events[-1]
        assert isinstance(activated, StepActivated) and activated.attachments == ("draft.docx",)


class TestFanOut:
    def test_every_holder_must_complete_before_the_flow_moves_on(self, engine: Engine) -> None:
        inst = to_step(engine, 3)
        assert inst.current is not None and inst.current.pending == ["b1", "b2", "b3"]
        t1 = engine.complete(inst, by=bidang(2), now=at(20), holders=HOLDERS,
                             attachments=["f2"])
        (ev,) = t1.events
        assert isinstance(ev, FanOutProgress) and ev.remaining == ("b1", "b3")
        with pytest.raises(AlreadyDone):
            engine.complete(t1.instance, by=bidang(2), now=at(21), holders=HOLDERS)
        t2 = engine.complete(t1.instance, by=bidang(1), now=at(22), holders=HOLDERS,
                             attachments=["f1"])
        t3 = engine.complete(t2.instance, by=bidang(3), now=at(23), holders=HOLDERS)
        assert t3.instance.current is not None and t3.instance.current.no == 4
        activated = t3.events[-1]
        assert isinstance(activated, StepActivated)
        assert activated.attachments == ("f2", "f1")  # every part's documents go on

    def test_member_outside_the_fan_out_is_refused(self, engine: Engine) -> None:
        inst = to_step(engine, 3)
        with pytest.raises(NotAllowed, match="not assigned to you"):
            engine.complete(inst, by=bidang(9), now=at(20), holders=HOLDERS)

    def test_fan_out_with_nobody_bound_yet_waits_for_any_holder(self, engine: Engine) -> None:
        holders = {**HOLDERS, "bidang": []}
        inst = engine.start(instance_id="x", year=2026, by=KEPALA, now=T0,
                            holders=holders).instance
        inst = engine.advance(inst, by=KEPALA, now=at(1), holders=holders).instance
        inst = engine.advance(inst, by=STAF, now=at(2), holders=holders).instance
        assert inst.current is not None and inst.current.anyone
        t = engine.complete(inst, by=bidang(7), now=at(3), holders=holders)
        assert t.instance.current is not None and t.instance.current.no == 4


class TestDecisions:
    def test_approve_moves_on(self, engine: Engine) -> None:
        inst = to_step(engine, 4)
        t = engine.approve(inst, by=SEK, now=at(30), holders=HOLDERS)
        assert t.instance.current is not None and t.instance.current.no == 5
        assert t.disposition is not None and t.disposition.action is Action.APPROVE

    def test_complete_on_a_decision_is_refused(self, engine: Engine) -> None:
        inst = to_step(engine, 4)
        with pytest.raises(WrongState, match="is a decision"):
            engine.complete(inst, by=SEK, now=at(30), holders=HOLDERS)

    def test_revise_goes_back_with_reason_and_forward_again(self, engine: Engine) -> None:
        inst = to_step(engine, 5)
        t = engine.revise(inst, by=KEPALA, now=at(40), holders=HOLDERS,
                          reason="  Target IKU belum sesuai Renstra ")
        rev, act = t.events
        assert isinstance(rev, RevisionRequested)
        assert (rev.step_no, rev.back_to, rev.reason) == (5, 2, "Target IKU belum sesuai Renstra")
        assert isinstance(act, StepActivated) and act.step_no == 2
        assert act.note == "Target IKU belum sesuai Renstra"
        assert t.instance.current is not None and t.instance.current.round == 2
        assert t.disposition is not None and t.disposition.round == 1
        assert t.disposition is not None and t.disposition.action is Action.REVISE
        assert t.disposition.note == "Target IKU belum sesuai Renstra"
        # forward again: 2 -> 3 (fan-out anew) -> 4 -> 5
        inst = engine.complete(t.instance, by=STAF, now=at(41), holders=HOLDERS).instance
        assert inst.current is not None and inst.current.pending == ["b1", "b2", "b3"]

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_revision_needs_a_reason(self, engine: Engine, reason: str | None) -> None:
        inst = to_step(engine, 4)
        with pytest.raises(ReasonRequired):
            engine.revise(inst, by=SEK, now=at(30), holders=HOLDERS, reason=reason)  # type: ignore[arg-type]

    def test_only_the_decider_role_may_decide(self, engine: Engine) -> None:
        inst = to_step(engine, 5)
        with pytest.raises(NotAllowed):
            engine.approve(inst, by=SEK, now=at(30), holders=HOLDERS)
        with pytest.raises(NotAllowed):
            engine.revise(inst, by=STAF, now=at(30), holders=HOLDERS, reason="x")


class TestEnd:
    def test_completion_reports_elapsed_and_standard_total(self, engine: Engine) -> None:
        inst = to_step(engine, 5)
        t = engine.approve(inst, by=KEPALA, now=T0 + timedelta(days=2), holders=HOLDERS)
        assert t.instance.status is Status.COMPLETED
        assert t.instance.current is None
        done = t.events[-1]
        assert isinstance(done, FlowCompleted)
        assert done.elapsed == timedelta(days=2)
        assert str(done.standard) == "1 Hari 3 Jam 20 Menit"
        with pytest.raises(WrongState, match="already completed"):
            engine.advance(t.instance, by=KEPALA, now=at(99), holders=HOLDERS)

    def test_cancel(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        with pytest.raises(NotAllowed):
            engine.cancel(inst, by=STAF, now=at(5), reason="salah")
        t = engine.cancel(inst, by=KEPALA, now=at(5), reason="dobel")
        assert t.instance.status is Status.CANCELLED and t.instance.current is None
        assert isinstance(t.events[0], FlowCancelled)
        assert t.disposition is not None and t.disposition.action is Action.CANCEL
        with pytest.raises(WrongState, match="already cancelled"):
            engine.cancel(t.instance, by=KEPALA, now=at(6))
        with pytest.raises(WrongState, match="was cancelled"):
            engine.advance(t.instance, by=STAF, now=at(6), holders=HOLDERS)


class TestEventSteps:
    def test_event_step_runs_beside_the_sequence(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        t = engine.trigger(inst, 6, by=STAF, now=at(5), holders=HOLDERS,
                           reason="mutasi Kabid Program")
        (ev,) = t.events
        assert isinstance(ev, StepActivated) and ev.by_event and ev.note == "mutasi Kabid Program"
        inst = t.instance
        assert inst.current is not None and inst.current.no == 2
        assert [s.no for s in inst.side] == [6]
        done = engine.complete(inst, by=STAF, now=at(6), holders=HOLDERS, step_no=6)
        assert done.instance.side == [] and done.instance.current.no == 2  # type: ignore[union-attr]

    def test_event_step_after_completion(self, engine: Engine) -> None:
        inst = to_step(engine, 5)
        inst = engine.approve(inst, by=KEPALA, now=at(50), holders=HOLDERS).instance
        assert inst.status is Status.COMPLETED
        t = engine.trigger(inst, 6, by=KEPALA, now=at(51), holders=HOLDERS, reason="APBD-P")
        t2 = engine.advance(t.instance, by=STAF, now=at(52), holders=HOLDERS)
        assert t2.instance.status is Status.COMPLETED and t2.instance.side == []

    def test_trigger_refusals(self, engine: Engine) -> None:
        inst = to_step(engine, 2)
        with pytest.raises(WrongState, match="not an event-triggered step"):
            engine.trigger(inst, 3, by=STAF, now=at(5), holders=HOLDERS, reason="x")
        with pytest.raises(ReasonRequired):
            engine.trigger(inst, 6, by=STAF, now=at(5), holders=HOLDERS, reason=" ")
        with pytest.raises(NotAllowed):
            engine.trigger(inst, 6, by=SEK, now=at(5), holders=HOLDERS, reason="x")
        t = engine.trigger(inst, 6, by=STAF, now=at(5), holders=HOLDERS, reason="x")
        with pytest.raises(WrongState, match="already running"):
            engine.trigger(t.instance, 6, by=STAF, now=at(6), holders=HOLDERS, reason="y")
        with pytest.raises(WrongState, match="step 4 is not active"):
            engine.advance(inst, by=SEK, now=at(6), holders=HOLDERS, step_no=4)


class TestPerOfficial:
    def test_bound_roles_only_accept_their_member(self, all_flows: dict[str, Flow]) -> None:
        flow = all_flows["pengumpulan-data-kinerja-dprd-nganjuk"]
        engine = Engine(flow)
        tu = Actor.of("tu1", "kasubag_tu")
        t = engine.start(instance_id="p1", year=2026, by=tu, now=T0, holders={},
                         subject="staf-ani", atasan="kasubag-budi")
        inst = t.instance
        assert inst.subject == "staf-ani"
        (ev,) = t.events
        assert isinstance(ev, StepActivated) and ev.members == ("staf-ani",)
        other = Actor.of("staf-citra", "staf", "pegawai")
        with pytest.raises(NotAllowed, match="particular"):
            engine.advance(inst, by=other, now=at(1), holders={})
        inst = engine.advance(inst, by=Actor.of("staf-ani", "staf"), now=at(2),
                              holders={}).instance
        assert inst.current is not None and inst.current.pending == ["kasubag-budi"]
        t = engine.revise(inst, by=Actor.of("kasubag-budi", "kasubag"), now=at(3), holders={},
                          reason="IKI belum terukur")
        assert t.instance.current is not None and t.instance.current.no == 1

    def test_per_official_needs_subject_and_atasan(self, all_flows: dict[str, Flow]) -> None:
        engine = Engine(all_flows["pengumpulan-data-kinerja-dprd-nganjuk"])
        tu = Actor.of("tu1", "kasubag_tu")
        with pytest.raises(WrongState, match="per official"):
            engine.start(instance_id="p1", year=2026, by=tu, now=T0, holders={})
        with pytest.raises(WrongState, match="own atasan"):
            engine.start(instance_id="p1", year=2026, by=tu, now=T0, holders={},
                         subject="a", atasan="a")


def test_instance_round_trips_through_its_stored_form(engine: Engine) -> None:
    inst = to_step(engine, 3)
    inst = engine.complete(inst, by=bidang(1), now=at(20), holders=HOLDERS,
                           attachments=["doc"]).instance
    inst = engine.trigger(inst, 6, by=STAF, now=at(21), holders=HOLDERS, reason="x").instance
    data = inst.to_dict()
    assert data["schema"] == INSTANCE_SCHEMA
    assert Instance.from_dict(data) == inst


def test_newer_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="upgrade sopbot"):
        Instance.from_dict({"schema": 99, "id": "x"})


def test_overdue(engine: Engine) -> None:
    inst = started(engine)
    assert not inst.is_overdue(at(10))
    assert inst.is_overdue(at(11))


# --- property: random allowed actions never corrupt an instance -------------------------------

ACTIONS = st.lists(
    st.tuples(st.sampled_from(["advance", "revise", "wrong_person", "trigger", "side_done"]),
              st.integers(min_value=0, max_value=10)),
    max_size=60,
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_random_actions_keep_the_instance_consistent_and_approvals_finish_it(
    engine: Engine, actions: list[tuple[str, int]]
) -> None:
    flow = engine.flow
    everyone = [Actor.of(m, role) for role, ms in HOLDERS.items() for m in ms]
    inst = started(engine)
    now = T0
    for kind, pick in actions:
        now += timedelta(minutes=7)
        before = inst.to_dict()
        given = inst
        try:
            if kind == "advance" and inst.current:
                inst = engine.advance(inst, by=_rightful(engine, inst, pick), now=now,
                                      holders=HOLDERS).instance
            elif kind == "revise" and inst.current:
                inst = engine.revise(inst, by=_rightful(engine, inst, pick), now=now,
                                     holders=HOLDERS, reason="alasan").instance
            elif kind == "wrong_person":
                inst = engine.advance(inst, by=everyone[pick % len(everyone)], now=now,
                                      holders=HOLDERS).instance
            elif kind == "trigger":
                inst = engine.trigger(inst, 6, by=STAF, now=now, holders=HOLDERS,
                                      reason="mutasi").instance
            elif kind == "side_done":
                inst = engine.complete(inst, by=STAF, now=now, holders=HOLDERS,
                                       step_no=6).instance
        except (NotAllowed, WrongState, AlreadyDone, ReasonRequired):
            assert inst.to_dict() == before  # a refused action changes nothing
        # The engine works on a copy: the instance it was given is never changed.
        assert given.to_dict() == before
        _check_invariants(flow, inst)
    # Whatever happened, approving and completing everything finishes the flow.
    for _ in range(100):
        if inst.status is not Status.ACTIVE:
            break
        now += timedelta(minutes=7)
        inst = engine.advance(inst, by=_rightful(engine, inst, 0), now=now,
                              holders=HOLDERS).instance
        _check_invariants(flow, inst)
    assert inst.status is Status.COMPLETED


def _rightful(engine: Engine, inst: Instance, pick: int) -> Actor:
    assert inst.current is not None
    step = engine.flow.step(inst.current.no)
    members = inst.current.pending or HOLDERS[step.actor]
    return Actor.of(members[pick % len(members)], step.actor)


def _check_invariants(flow: Flow, inst: Instance) -> None:
    if inst.status is Status.ACTIVE:
        assert inst.current is not None and flow.has_step(inst.current.no)
        assert inst.current.anyone or inst.current.pending
        assert not set(inst.current.pending) & set(inst.current.done)
        assert inst.finished_at is None
    else:
        assert inst.current is None and inst.finished_at is not None
    for side in inst.side:
        assert flow.step(side.no).trigger.value == "event"
    assert Instance.from_dict(inst.to_dict()) == inst
