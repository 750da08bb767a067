"""What the issue-13 chat tests share: officials of a unit, and walking a flow step by step."""

from __future__ import annotations

from typing import Any

from bot.demo.harness import Harness
from bot.engine.model import Flow
from fakeapi import FakeUser
from tests.support.chatdriver import is_step

JSON = dict[str, Any]


async def office(h: Harness, flow: Flow, per_role: dict[str, list[str]] | None = None,
                 language: str = "en") -> dict[str, list[FakeUser]]:
    """Every office role of the flow, one official each (or the names in `per_role`)."""
    people: dict[str, list[FakeUser]] = {}
    for role in flow.office_roles:
        if role.relation is not None:
            continue
        for name in (per_role or {}).get(role.id, [role.title]):
            people.setdefault(role.id, []).append(
                await h.join(name, flow.unit.id, role.id, language=language))
    return people


async def walk(h: Harness, flow: Flow, people: dict[str, list[FakeUser]], steps: list[int],
               round_no: int = 1) -> dict[int, JSON]:
    """Each step of `steps` is decided with its first button by its holder(s)."""
    seen: dict[int, JSON] = {}
    for no in steps:
        step = flow.step(no)
        holders = people[step.actor]
        for user in holders if step.fan_out else holders[:1]:
            message = await user.await_message(is_step(no, round_no), timeout=10)
            seen[no] = message
            label = "✅ Setujui" if step.is_decision else "✔️ Selesai"
            answer = await h.press(user, message, label)
            assert not (answer.get("text") or "").startswith("Sorry"), answer
    return seen
