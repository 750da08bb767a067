"""The real flow files: they load, they say what the SOPs say, and each runs end to end."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.engine.instance import (
    Actor,
    Engine,
    ExternalReturned,
    ExternalWaitStarted,
    FlowCompleted,
    RevisionRequested,
    SequenceResumed,
    Status,
)
from bot.engine.loader import flow_files
from bot.engine.model import HEADER_KEYS, Flow, Trigger
from tests.support.flowdriver import GOLDEN, run_golden_path
from tests.support.paths import FLOWS_DIR, WIB

FLOW_IDS = [
    "pk-kesbangpol-jateng",
    "pk-kec-neglasari",
    "pk-inspektorat-nganjuk",
    "pengumpulan-data-kinerja-dprd-nganjuk",
    "pk-kec-sooko",
]


def test_every_file_in_flows_loads(all_flows: dict[str, Flow]) -> None:
    assert len(flow_files(FLOWS_DIR)) == len(all_flows) == 5
    assert sorted(all_flows) == sorted(FLOW_IDS)


@pytest.mark.parametrize("flow_id", FLOW_IDS)
def test_header_is_complete_and_every_step_is_described(
    all_flows: dict[str, Flow], flow_id: str
) -> None:
    flow = all_flows[flow_id]
    assert [key for key, _ in flow.header.values] == list(HEADER_KEYS)
    assert flow.header.get("nama_sop")
    for step in flow.steps:
        assert step.title and step.actor and flow.has_role(step.actor)
        assert step.title_en, f"step {step.no} has no English rendering"
    # every flow has a decision, so every flow can show a revision loop
    assert any(s.is_decision for s in flow.steps)


# (flow, decisions to send back once, holders per role, expected order of active steps)
@pytest.mark.parametrize("flow_id", FLOW_IDS)
def test_golden_path_with_one_revision_loop(
    all_flows: dict[str, Flow], flow_id: str, monday_morning
) -> None:
    revise_at, per_role, expected = GOLDEN[flow_id]
    flow = all_flows[flow_id]
    per_official = {}
    if flow.is_per_official:
        per_official = {"subject": "staf-1", "atasan": "kasubag-1"}
    order, inst, log = run_golden_path(flow, monday_morning, revise_once_at=revise_at,
                                       per_role=per_role, **per_official)
    assert order == expected
    assert inst.status is Status.COMPLETED
    revisions = [e for t in log for e in t.events if isinstance(e, RevisionRequested)]
    assert [(r.step_no, r.back_to) for r in revisions] == [
        (no, flow.step(no).on_revise) for no in revise_at]
    assert isinstance(log[-1].events[-1], FlowCompleted)
    # every transition by an official is recorded as a disposition
    assert all(t.disposition is not None for t in log)


def test_neglasari_total_matches_the_sop(all_flows: dict[str, Flow]) -> None:
    flow = all_flows["pk-kec-neglasari"]
    assert str(flow.total_waktu) == "5 Hari 6 Jam 35 Menit"
    assert flow.header.jumlah_waktu == flow.total_waktu


def test_fan_out_steps(all_flows: dict[str, Flow]) -> None:
    fan = {(f.id, s.no, s.actor) for f in all_flows.values() for s in f.steps if s.fan_out}
    # the Inspektorat's meeting (step 7) is one step with the notulen, not a press per attendee;
    # Kesbangpol's forms go to, and come back from, each bidang (steps 3 and 6)
    assert fan == {("pk-kec-neglasari", 7, "pejabat_unit_kerja"),
                   ("pk-kesbangpol-jateng", 3, "bidang"), ("pk-kesbangpol-jateng", 6, "bidang")}


def test_inspektorat_revision_after_mutasi_is_event_triggered(
    all_flows: dict[str, Flow], monday_morning
) -> None:
    flow = all_flows["pk-inspektorat-nganjuk"]
    step = flow.step(16)
    assert step.trigger is Trigger.EVENT and "mutasi" in (step.when or "").lower()
    assert 16 not in [s.no for s in flow.sequence]
    _, inst, _ = run_golden_path(flow, monday_morning, per_role={"pejabat_eselon": 2})
    engine = Engine(flow)
    later = monday_morning + timedelta(days=90)
    t = engine.trigger(inst, 16, by=Actor.of("sek", "sekretaris"), now=later, holders={},
                       reason="Mutasi Kepala Bidang Investigasi")
    assert [s.no for s in t.instance.side] == [16]
    done = engine.complete(t.instance, by=Actor.of("f1", "fungsional"),
                           now=later + timedelta(minutes=30), holders={})
    # the revised PK is checked, signed, forwarded and sent to the Bupati again (9-15)
    assert done.instance.side == [] and done.instance.status is Status.ACTIVE
    resumed = [e for e in done.events if isinstance(e, SequenceResumed)]
    assert [(e.resume_at, e.reopened) for e in resumed] == [(9, True)]
    assert done.instance.current is not None and done.instance.current.no == 9


def test_inspektorat_waits_on_the_bupati_between_13_and_14(
    all_flows: dict[str, Flow], monday_morning
) -> None:
    flow = all_flows["pk-inspektorat-nganjuk"]
    assert flow.is_external("bupati") and flow.is_external("bagian_organisasi")
    wait = flow.step(13).wait
    assert wait is not None and wait.waits_for == ("bagian_organisasi", "bupati")
    assert wait.recorded_by == "fungsional" and wait.waktu.unit is None
    _, _, log = run_golden_path(flow, monday_morning, per_role={"pejabat_eselon": 2})
    out = [e for t in log for e in t.events if isinstance(e, ExternalWaitStarted)]
    assert [(e.step_no, e.expected_by) for e in out] == [(13, None)]
    back = [e for t in log for e in t.events if isinstance(e, ExternalReturned)]
    assert [e.step_no for e in back] == [13]


def test_viewpoint_titles(all_flows: dict[str, Flow]) -> None:
    step = all_flows["pk-inspektorat-nganjuk"].step(3)
    assert step.title.startswith("Menugaskan Pejabat Fungsional")
    assert step.prompt().startswith("Mengonsep nota dinas")
    assert step.prompt("en").startswith("Draft the memo")


def test_dprd_declares_reporting_lines_and_cycles(all_flows: dict[str, Flow]) -> None:
    flow = all_flows["pengumpulan-data-kinerja-dprd-nganjuk"]
    assert flow.per_official is not None
    assert flow.per_official.levels == ("kabag", "kasubag", "staf")
    assert [flow.atasan_role_of(r) for r in ("staf", "kasubag", "kabag", "sekwan")] == [
        "kasubag", "kabag", "sekwan", None]
    cycles = {c.id: c for c in flow.cycles}
    assert set(cycles) == {"triwulan", "semester", "tahunan"}
    assert cycles["triwulan"].period.value == "quarter"
    assert cycles["triwulan"].steps == (8, 13)
    assert cycles["semester"].period.value == "semester"
    assert cycles["semester"].steps == (9, 10, 11, 12)
    assert cycles["tahunan"].steps == (14,)
    # each official owes every duty; the Kasubag TU collects the triwulan and yearly ones
    assert {c.id: (c.applies_to, c.collector) for c in flow.cycles} == {
        "triwulan": ("subject", "kasubag_tu"), "semester": ("subject", None),
        "tahunan": ("subject", "kasubag_tu")}
    assert [s.no for s in flow.sequence] == [1, 2, 3, 4, 5, 6, 7]


def test_deadlines_follow_the_unit_calendar(all_flows: dict[str, Flow]) -> None:
    """The 4-day analysis step of Kesbangpol started before Idul Fitri 2026 skips the leave."""
    flow = all_flows["pk-kesbangpol-jateng"]
    engine = Engine(flow)
    start = datetime(2026, 3, 16, 9, 0, tzinfo=WIB)  # Monday before Nyepi and Lebaran
    assert engine.calendar.due(start, flow.step(7).waktu) == datetime(2026, 3, 27, 9, 0,
                                                                       tzinfo=WIB)


def test_notes_for_the_printout(all_flows: dict[str, Flow]) -> None:
    from bot.engine.describe import role_notes, step_notes

    def texts(notes) -> list[str]:
        return [n.render(lambda m: m) for n in notes]

    insp = all_flows["pk-inspektorat-nganjuk"]
    assert texts(step_notes(insp, insp.step(13))) == [
        "then outside the office with Bagian Organisasi Setda, Bupati until Pejabat "
        "Fungsional/Pejabat Pelaksana records its return"]
    assert texts(step_notes(insp, insp.step(16))) == [
        "afterwards the flow runs again from step 9"]
    assert texts(role_notes(insp, insp.role("bupati"))) == [
        "outside the office: not invited, never acts here"]
    assert texts(role_notes(insp, insp.role("sekretaris"))) == [
        "the unit's secretary: may cancel", "may start the flow"]
    neg = all_flows["pk-kec-neglasari"]
    assert texts(step_notes(neg, neg.step(7))) == ["every holder does their own part"]
    assert texts(step_notes(neg, neg.step(8))) == [
        "a revision may name only some parts of step 7"]
    dprd = all_flows["pengumpulan-data-kinerja-dprd-nganjuk"]
    assert texts(step_notes(dprd, dprd.step(11))) == [
        "only in the recurring duty: Pengukuran Kinerja Semesteran",
        "a revision stays in the same period: the official reports again and is evaluated "
        "again"]
