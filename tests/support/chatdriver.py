"""Play a whole flow in chat the way the officials of a unit would."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.demo.harness import Harness, step_buttons
from bot.engine.model import Flow
from fakeapi import TINY_PNG, FakeBotApi, FakeUser

JSON = dict[str, Any]


def step_button_data(message: JSON) -> list[str]:
    """Callback data of the step buttons of a message."""
    return [button.encode() for button in step_buttons(message)]


def is_step(no: int, round_no: int) -> Any:
    """Predicate: a step notification for step `no`, activation `round_no`."""

    def match(message: JSON) -> bool:
        return any(b.step_no == no and b.round == round_no for b in step_buttons(message))

    return match


@dataclass
class ChatRun:
    """What happened while a flow was played in chat."""

    order: list[int] = field(default_factory=list)
    messages: dict[tuple[int, int], JSON] = field(default_factory=dict)  # (step, round) -> msg
    revision_seen_by: list[str] = field(default_factory=list)
    attachment_forwarded_to: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # answers to presses that changed nothing
    statuses: list[str] = field(default_factory=list)


async def _answer(h: Harness, query_id: str) -> str:
    return (await h.answer(query_id))["text"] or ""


async def play(
    h: Harness,
    flow: Flow,
    people: dict[str, list[FakeUser]],
    expected: list[int],
    *,
    revise_at: int,
    reason: str,
    attach_at: int | None = None,
    bound: dict[str, FakeUser] | None = None,
    attach_photo: bool = False,
    observer: FakeUser | None = None,
    status_query: str = "",
) -> ChatRun:
    """Act each step of `expected` in order, as its role's holders.

    The decision `revise_at` is sent back once by replying "revisi: <reason>"; the task
    `attach_at` is completed by sending a document as a reply with the caption "selesai".
    Every other step is decided with its button. Checks as it goes that the revision reason
    reaches the target step's holders and that the attachment reaches the next actor.
    """
    run = ChatRun()
    rounds: Counter[int] = Counter()
    revised = False
    stale: tuple[FakeUser, JSON, str] | None = None  # a decided button, kept to press later
    outsider_tried = double_pressed = False
    everyone = [u for users in people.values() for u in users] + list((bound or {}).values())
    attached_for_next = False
    bound = bound or {}
    for no in expected:
        rounds[no] += 1
        round_no = rounds[no]
        step = flow.step(no)
        holders = [bound[step.actor]] if step.actor in bound else people[step.actor]
        actors = holders if step.fan_out else holders[:1]
        copies = {}
        for user in holders:
            copies[user.id] = await user.await_message(is_step(no, round_no), timeout=10)
        run.order.append(no)
        first = copies[holders[0].id]
        run.messages[(no, round_no)] = first
        if revised and round_no == 2 and no == flow.step(revise_at).on_revise:
            assert reason in first["text"], first["text"]
            run.revision_seen_by.extend(u.first_name for u in holders)
            revised = False
            if stale is not None:  # the decided step's old button, from a stale screen
                user, message, data = stale
                text = await _answer(h, user.press(message, data, crafted=True))
                assert text.startswith("Already decided by"), text
                run.refused.append(text)
                stale = None
        if observer is not None and status_query and (round_no == 2 or no == expected[0]
                                                      or no == expected[len(expected) // 2]):
            # someone asks where things stand: the bot names the step that is waiting
            observer.send_text(status_query)
            report = await observer.await_message("📊", timeout=10)
            assert f"Step {flow.position(no)} of {len(flow.sequence)}" in report["text"], \
                report["text"]
            run.statuses.append(report["text"])
        if not outsider_tried and step.is_decision:
            # someone who does not hold the role forges the decision button
            outsider = next((u for u in everyone if u not in holders), None)
            if outsider is not None:
                data = step_button_data(first)[0]
                text = await _answer(h, outsider.press(2, data, crafted=True))
                assert text.startswith("Sorry"), text
                run.refused.append(text)
                outsider_tried = True
        if attached_for_next:
            kind = "photo" if attach_photo else "document"
            doc = await holders[0].await_message(lambda m, k=kind: k in m, timeout=10)
            assert doc.get("reply_to_message", {}).get("message_id") == first["message_id"]
            run.attachment_forwarded_to.append(holders[0].first_name)
            attached_for_next = False
        for user in actors:
            message = copies[user.id]
            if step.is_decision and no == revise_at and rounds[no] == 1:
                user.send_text(f"revisi: {reason}", reply_to=message)
                await h.seen(user, "Sent back for revision:")
                revised = True
                stale = (user, message, step_button_data(message)[0])
            elif attach_at == no and not step.is_decision and round_no == 1:
                if attach_photo:
                    user.send_photo(TINY_PNG, caption="selesai", reply_to=message)
                else:
                    user.send_document(f"langkah-{no}.pdf", b"%PDF-1.4 lampiran",
                                       mime_type="application/pdf", caption="selesai",
                                       reply_to=message)
                await h.seen(user, "Marked done:")
                attached_for_next = True
            elif not double_pressed and not step.fan_out:
                # a double press: both queued before the bot handles either
                label = "✅ Setujui" if step.is_decision else "✔️ Selesai"
                q1, q2 = (user.press_button(message, label), user.press_button(message, label))
                first_answer, second = await _answer(h, q1), await _answer(h, q2)
                assert not first_answer.startswith("Already"), first_answer
                assert second.startswith("Already decided by"), second
                run.refused.append(second)
                double_pressed = True
            else:
                label = "✅ Setujui" if step.is_decision else "✔️ Selesai"
                await h.press(user, message, label)
            # the decided message is edited: its buttons are gone
            await h.api.await_for(
                lambda u=user, m=message: not step_button_data(
                    h.api.message(u.id, m["message_id"]) or {}),
                what=f"buttons of step {no} removed for {user.first_name}")
    return run


def texts(api: FakeBotApi, user: FakeUser, marker: str) -> list[str]:
    return [m["text"] for m in api.messages(user.id) if marker in (m.get("text") or "")]
