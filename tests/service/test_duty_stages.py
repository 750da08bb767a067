"""DPRD recurring duties in their cycles: the triwulan recap goes to the collector (Kasubag
TU) as well as the atasan; the semester report is evaluated by the atasan (step 11) and followed
up by the official (step 12) inside the semester's duty, each recorded like any duty."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.engine.reminders import ReminderKind
from bot.services import duty_stages
from bot.services.errors import Refused, UnknownInstance
from bot.services.reminders import Reminders
from tests.support.paths import WIB
from tests.support.services import World

DPRD = "setwan-nganjuk"


def dprd(world: World) -> dict[str, str]:
    world.now = datetime(2026, 7, 8, 8, 0, tzinfo=WIB)  # Semester I and Triwulan II due soon
    ids = {}
    for name, role in (("Bu Sekwan", "sekwan"), ("Pak Kabag", "kabag"),
                       ("Bu Kasubag", "kasubag"), ("Pak Staf", "staf"),
                       ("Bu TU", "kasubag_tu")):
        ids[role] = world.join(name, role, unit=DPRD).id
    return ids


def test_the_triwulan_recap_reaches_the_collector(world: World) -> None:
    ids = dprd(world)
    plan = Reminders(world.services).plan(world.now)
    recaps = [p for p in plan if p.kind is ReminderKind.RECAP
              and p.payload["cycle_id"] == "triwulan" and p.payload["index"] == 2]
    to_tu = [p for p in recaps if p.recipients == (ids["kasubag_tu"],)]
    assert to_tu and sorted(to_tu[0].payload["reports"]) == sorted(
        [ids["kabag"], ids["kasubag"], ids["staf"]])
    to_atasan = {p.recipients[0] for p in recaps} - {ids["kasubag_tu"]}
    assert to_atasan == {ids["sekwan"], ids["kabag"], ids["kasubag"]}


def test_semester_evaluation_and_follow_up_are_recorded_in_the_cycle(world: World) -> None:
    ids = dprd(world)
    reminders = Reminders(world.services)

    def owed(member: str) -> list:
        return [p for p in reminders.plan(world.now) if p.payload.get("cycle_id") == "semester"
                and p.payload["index"] == 1 and member in p.recipients
                and p.kind is not ReminderKind.RECAP]

    staf_share = owed(ids["staf"])
    assert staf_share and "stage_steps" not in staf_share[0].payload
    assert not [p for p in owed(ids["kasubag"]) if p.payload.get("official") == ids["staf"]]
    # The Staf reports with his evidence: the evaluation is now his atasan's (the Kasubag).
    reminders.mark_done(world.member("Pak Staf"), staf_share[0].payload["task_id"], world.now,
                        evidence="doc:bukti")
    evaluation = [p for p in owed(ids["kasubag"]) if p.payload.get("official") == ids["staf"]]
    assert evaluation and evaluation[0].payload["stage_steps"] == [11]
    assert evaluation[0].kind is ReminderKind.BEFORE and evaluation[0].at == world.now
    assert not owed(ids["staf"])
    reminders.mark_done(world.member("Bu Kasubag"), evaluation[0].payload["task_id"],
                        world.later(timedelta(hours=1)))
    follow_up = owed(ids["staf"])
    assert follow_up and follow_up[0].payload["stage_steps"] == [12]
    task = reminders.mark_done(world.member("Pak Staf"), follow_up[0].payload["task_id"],
                               world.now)
    assert task.member_id == ids["staf"]
    assert not owed(ids["staf"]) and not [p for p in owed(ids["kasubag"])
                                          if p.payload.get("official") == ids["staf"]]


def test_the_atasan_sends_the_semester_report_back_and_evaluates_again(world: World) -> None:
    ids = dprd(world)
    reminders = Reminders(world.services)
    staf, kasubag = world.member("Pak Staf"), world.member("Bu Kasubag")

    def owed(member: str) -> list:
        return [p for p in reminders.plan(world.now) if p.payload.get("cycle_id") == "semester"
                and p.payload["index"] == 1 and member in p.recipients
                and p.kind is not ReminderKind.RECAP]

    first = owed(ids["staf"])[0].payload["task_id"]
    reminders.mark_done(staf, first, world.now, evidence="doc:bukti-1")
    evaluation = [p for p in owed(ids["kasubag"]) if p.payload.get("official") == ids["staf"]]
    assert evaluation[0].payload["decision"] is True
    tid = evaluation[0].payload["task_id"]
    # only the atasan, only with a reason, only at the decision
    with pytest.raises(UnknownInstance):
        duty_stages.revise(reminders, staf, tid, "x", world.now)
    with pytest.raises(Refused) as refused:
        duty_stages.revise(reminders, kasubag, tid, "  ", world.now)
    assert refused.value.error.code == "revise_reason"
    revised_at = world.later(timedelta(hours=1))
    duty_stages.revise(reminders, kasubag, tid, "Bukti capaian IKI 2 belum dilampirkan",
                       revised_at)
    # the official measures and reports again (steps 9-10), told why, reminded at once
    again = owed(ids["staf"])
    assert again and again[0].payload["stage_steps"] == [9, 10]
    assert again[0].payload["revision"] == "Bukti capaian IKI 2 belum dilampirkan"
    assert again[0].payload["task_id"] not in (first, tid)
    assert again[0].at == revised_at
    assert not [p for p in owed(ids["kasubag"]) if p.payload.get("official") == ids["staf"]]
    with pytest.raises(UnknownInstance):  # the old evaluation's Setujui changes nothing
        reminders.mark_done(kasubag, tid, world.now)
    with pytest.raises(Refused) as refused:  # his report is a task, not a decision
        duty_stages.revise(reminders, staf, again[0].payload["task_id"], "x", world.now)
    assert refused.value.error.code == "task_not_decision"
    reminders.mark_done(staf, again[0].payload["task_id"], world.later(timedelta(hours=2)),
                        evidence="doc:bukti-2")
    # the atasan evaluates again, approves; the follow-up is recorded in the same semester
    second = [p for p in owed(ids["kasubag"]) if p.payload.get("official") == ids["staf"]]
    assert second[0].payload["stage_steps"] == [11] and second[0].payload["revision"] is None
    assert second[0].payload["task_id"] != tid
    reminders.mark_done(kasubag, second[0].payload["task_id"], world.now)
    follow_up = owed(ids["staf"])
    assert follow_up[0].payload["stage_steps"] == [12]
    assert follow_up[0].payload["occurrence"] == "semester-2026-1"
    reminders.mark_done(staf, follow_up[0].payload["task_id"], world.now)
    assert not owed(ids["staf"])
    revision = world.services.store.read().cycle_task(tid)
    assert revision is not None and revision.action == "revise"
    assert revision.note == "Bukti capaian IKI 2 belum dilampirkan"
    assert revision.done_by == ids["kasubag"] and revision.member_id == ids["staf"]
