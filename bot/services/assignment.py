"""Who holds a step, who must still act on it, and who is an official's atasan: one copy each.

The engine decides who *may* act when it activates a step (a bound official, every holder of
a fan-out step, or — `anyone` — whoever holds the role); views, task lists and reminders all
ask here who that is now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.engine.instance import ActiveStep, Instance
from bot.engine.model import Flow
from bot.storage.records import Member


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
