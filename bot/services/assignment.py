"""Who holds a step and who must still act on it: the one copy of that rule.

The engine decides who *may* act when it activates a step (a bound official, every holder of
a fan-out step, or — `anyone` — whoever holds the role); views, task lists and reminders all
ask here who that is now.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.engine.instance import ActiveStep, Instance
from bot.engine.model import Flow


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
