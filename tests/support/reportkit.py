"""Build a stored trail for the report tests: run flows through the pure engine with chosen
working times, revisions and a late step, and store what happened through the real Store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.engine.instance import Actor, Disposition, Engine, Instance, Status, Transition
from bot.engine.model import Flow
from bot.storage.records import Member, Membership
from bot.storage.store import Store
from tests.support.flowdriver import Office
from tests.support.paths import ROOT, WIB


@dataclass
class Played:
    """One instance played through the engine: its transitions and working minutes per decision."""

    flow: Flow
    instance: Instance
    transitions: list[Transition] = field(default_factory=list)
    # (step, round, member) -> the working minutes the step took that official, by construction
    minutes: dict[tuple[int, int, str], int] = field(default_factory=dict)
    per_role: dict[str, int] = field(default_factory=dict)

    @property
    def dispositions(self) -> list[Disposition]:
        return [t.disposition for t in self.transitions if t.disposition is not None]


def play(flow: Flow, start: datetime, *, minutes: Mapping[int, int] | None = None,
         revise: Mapping[int, int] | None = None, stop_at: int | None = None,
         per_role: Mapping[str, int] | None = None, instance_id: str = "i1",
         year: int = 2026, subject: str | None = None, atasan: str | None = None,
         default_minutes: int = 5) -> Played:
    """Run an instance: each decision takes `minutes[step]` of office time (else 5 minutes);
    decision `s` in `revise` is sent back `revise[s]` times before it is approved; the run
    stops (the instance stays active) when step `stop_at` becomes active."""
    office = Office(flow, dict(per_role or {}))
    engine = Engine(flow)
    calendar = flow.unit.calendar()
    starter = office.anyone_in(flow.starters[0])
    t = engine.start(instance_id=instance_id, year=year, by=starter, now=start,
                     holders=office.holders, subject=subject, atasan=atasan)
    played = Played(flow, t.instance, [t], per_role=dict(per_role or {}))
    now, inst = start, t.instance
    left = dict(revise or {})
    while inst.status is Status.ACTIVE and inst.current is not None:
        active = inst.current
        if active.no == stop_at:
            break
        step = flow.step(active.no)
        bound = inst.bindings.get(step.actor)
        member = bound or (office.holders[step.actor][0] if active.anyone else active.pending[0])
        who = Actor(member, frozenset({step.actor})) if bound else office.actor(member)
        took = (minutes or {}).get(step.no, default_minutes)
        # Office time from the step's start for this official (fan-out parts run side by side).
        now = max(now, calendar.add_office_time(active.started_at, timedelta(minutes=took)))
        played.minutes[(step.no, active.round, member)] = took
        if step.is_decision and left.get(step.no):
            left[step.no] -= 1
            t = engine.revise(inst, by=who, now=now, holders=office.holders,
                              reason=f"Mohon perbaiki langkah {step.on_revise}")
        else:
            t = engine.advance(inst, by=who, now=now, holders=office.holders,
                               note=f"catatan langkah {step.no}",
                               attachments=(f"doc:{step.no}",) if step.no == 3 else ())
        played.transitions.append(t)
        inst = t.instance
    played.instance = inst
    return played


def member_name(member_id: str) -> str:
    """The name the tests give an official: "Ibu camat-1" style."""
    return f"Ibu {member_id}"


def store_played(data_dir: Path, plays: list[Played],
                 extra_members: Mapping[str, tuple[str, str]] | None = None) -> Store:
    """Store members, instances and dispositions the way the services do (archive included)."""
    store = Store(data_dir)
    with store.transaction(record_update=False) as repo:
        seen: set[str] = set()
        for p in plays:
            office = Office(p.flow, p.per_role)
            people = {t.disposition.member for t in p.transitions if t.disposition}
            for ids in office.holders.values():
                people.update(ids)
            for mid in sorted(people - seen):
                roles = [Membership(p.flow.unit.id, r, p.instance.created_at)
                         for r, ids in office.holders.items() if mid in ids]
                repo.save_member(Member(id=mid, chat_id=abs(hash(mid)) % 10**9,
                                        name=member_name(mid),
                                        joined_at=p.instance.created_at, roles=roles))
                seen.add(mid)
            for t in p.transitions:
                repo.save_instance(t.instance)
                if t.disposition is not None:
                    repo.add_disposition(t.disposition)
            if not p.instance.active_steps():
                repo.archive_instance(p.instance)
    return store


START = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)  # Monday
NOW = "2026-01-22T10:00:00+07:00"
EXPORT_FIELDS = ["unit", "flow", "year", "step", "title", "role", "official", "acting_for",
                 "action", "note", "started", "decided", "mutu_baku_minutes",
                 "actual_working_minutes", "late"]
ACTIONS_EN = {"start": "Started", "complete": "Done", "approve": "Approved",
              "revise": "Revision"}


def sopbot(data: Path, *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    """``sopbot`` as a process on the data directory `data`."""
    env = {**os.environ, "SOPBOT_LANGUAGE": lang, "SOPBOT_DATA_DIR": str(data)}
    env.pop("SOPBOT_FLOWS_DIR", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
