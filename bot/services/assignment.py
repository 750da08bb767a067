"""Who holds a step, who must still act on it, and who is an official's atasan: one copy each.

The engine decides who *may* act when it activates a step (a bound official, every holder of
a fan-out step, or — `anyone` — whoever holds the role); views, task lists and reminders all
ask here who that is now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.engine.instance import (
    ActiveStep,
    Actor,
    Disposition,
    Instance,
    StepActivated,
    Transition,
)
from bot.engine.model import Flow
from bot.storage.records import Delegation, Member


def step_holders(flow: Flow, inst: Instance, step_no: int,
                 holders: Mapping[str, list[str]]) -> list[str]:
    """Who holds the step: the official bound to its role, else every holder of the role."""
    step = flow.step(step_no)
    bound = inst.bindings.get(step.actor)
    return [bound] if bound else list(holders.get(step.actor, []))


def who_must_act(flow: Flow, inst: Instance, active: ActiveStep,
                 holders: Mapping[str, list[str]]) -> list[str]:
    """Who must still act on an active step (a fan-out step: those not done yet)."""
    if not active.anyone:
        return list(active.pending)
    return step_holders(flow, inst, active.no, holders)


def atasan_of(member: Member | None, member_id: str, unit: str,
              holders: Mapping[str, list[str]], flows: Iterable[Flow], *,
              role: str | None = None) -> str | None:
    """The direct superior of an official in `unit` (as holder of `role`, else of any role).

    The one named in their invitation, else the first other holder of the role above theirs
    in the reporting lines of the unit's flows.
    """
    explicit = next((m.atasan for m in member.roles
                     if m.unit == unit and m.atasan and (role is None or m.role == role)),
                    None) if member else None
    if explicit:
        return explicit
    roles = [role] if role else (member.roles_in(unit) if member else [])
    for flow in flows:
        if flow.unit.id != unit:
            continue
        for own in roles:
            above = flow.atasan_role_of(own)
            candidates = [h for h in holders.get(above or "", []) if h != member_id]
            if candidates:
                return candidates[0]
    return None


# -- Plt/Plh: the same rule, while a role is delegated ------------------------------------


def active_delegations(delegations: Iterable[Delegation], unit: str,
                       now: datetime) -> list[Delegation]:
    """The delegations of `unit` in force at `now`."""
    return [d for d in delegations if d.unit == unit and d.covers(now)]


def hand_over(flow: Flow, inst: Instance, role: str, old: str, new: str) -> list[int]:
    """Give `old`'s part in the active steps of `role` to `new` (mutates `inst`).

    A step bound to `old`, waiting on `old`, or open to any holder of the role now waits on
    `new`. Returns the numbers of the steps that moved.
    """
    moved: list[int] = []
    if inst.bindings.get(role) == old:
        inst.bindings[role] = new
    for active in inst.active_steps():
        if flow.step(active.no).actor != role:
            continue
        if old in active.pending:
            active.pending = [new if m == old else m for m in active.pending]
            moved.append(active.no)
        elif active.anyone and old != new:
            active.pending, active.anyone = [new], False
            moved.append(active.no)
    return moved


def route_to_delegates(flow: Flow, t: Transition, delegations: Sequence[Delegation],
                       holders: Mapping[str, list[str]]) -> Transition:
    """A transition whose newly active steps of a delegated role wait on the delegate."""
    if not delegations:
        return t
    events = []
    for event in t.events:
        if isinstance(event, StepActivated):
            for d in delegations:
                if event.role != d.role:
                    continue
                if not event.members and d.holder not in holders.get(d.role, []):
                    continue
                hand_over(flow, t.instance, d.role, d.holder, d.delegate)
                members = tuple(d.delegate if m == d.holder else m for m in event.members)
                if not event.members:
                    members = (d.delegate,)
                if d.notify_holder:
                    members = (*members, d.holder)
                event = replace(event, members=members)
        events.append(event)
    return replace(t, events=tuple(events))


def acting_actor(member: Member, unit: str, step_role: str | None,
                 delegations: Iterable[Delegation], now: datetime) -> Actor:
    """The official as the engine sees them: Plt/Plh of a role's holder while delegated."""
    roles = member.roles_in(unit)
    for d in active_delegations(delegations, unit, now):
        if d.delegate == member.id and d.role == step_role:
            return Actor(member.id, roles | {d.role}, acting_for=d.holder, acting_kind=d.kind)
    return Actor(member.id, roles)


def acting_label(flow: Flow | None, disp: Disposition, name: str) -> str:
    """"Plh. Camat — Nama" for a decision taken in an acting capacity, else the name."""
    if not disp.acting_kind:
        return name
    title = flow.role(disp.role).title if flow and flow.has_role(disp.role) else disp.role
    return f"{disp.acting_kind.capitalize()}. {title} — {name}"


def rebind(inst: Instance, old: str, new: str) -> list[int]:
    """Mutasi: per-official bindings (pegawai/atasan) and steps waiting on `old` now name
    `new` (mutates `inst`); the numbers of the steps that moved."""
    moved = []
    for role, member in list(inst.bindings.items()):
        if member == old:
            inst.bindings[role] = new
    for active in inst.active_steps():
        if old in active.pending:
            active.pending = [new if m == old else m for m in active.pending]
            moved.append(active.no)
    return moved
