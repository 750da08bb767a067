"""Reminders without noise (issue 12): what fell due while the bot was down arrives as one
digest per official, never repeated; reminders follow a withdrawn decision (Tarik kembali)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.demo.harness import Clock, Harness
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, texts
from tests.support.clock import SETTLE, arrives_exactly_at, at, wib
from tests.support.offices import kesbangpol

UNDO = "↩️ Tarik kembali"


def reminder_items(h: Harness, member_id: int) -> list[dict]:
    """The reminder messages the outbox holds for an official (sent or not)."""
    repo = h.services.store.read()
    return [i.payload for status in ("pending", "sent") for i in repo.outbox(status)
            if i.kind == "reminder" and i.member_id == str(member_id)]


async def test_what_fell_due_while_the_bot_was_down_comes_as_one_digest(tmp_path: Path) -> None:
    clock = Clock()  # Monday 5 January 2026, 08:00 WIB
    data = tmp_path / "data"
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        o = await kesbangpol(h)
        for year in (2025, 2026):
            await h.say(o["kepala"], f"mulai PK {year}", expect="Started")
            step1 = await o["sekretaris"].await_message(is_step(1, 1))  # his step (MULAI)
            await h.press(o["sekretaris"], step1, "✔️ Selesai")
            await o["kasubbag"].await_message(is_step(2, 1))
        sri, kepala = o["kasubbag"].id, o["kepala"].id
    # Down from Monday 08:00 until Wednesday 09:00: for each of the two flows, step 2's
    # "before", "due" and two overdue reminders fell due (8 for Sri), and the Kepala's
    # escalation of each (2).
    clock.now = wib(2026, 1, 7, 9, 0)
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        sri_user = h.api.user(sri, "Sri", language_code="en")
        kepala_user = h.api.user(kepala, "Haerudin", language_code="en")
        await h.api.await_for(lambda: h.api.messages(sri) and h.api.messages(kepala),
                              what="the digests")
        await asyncio.sleep(SETTLE * 2)
        (digest,) = [m["text"] for m in h.api.messages(sri)]  # one message, not eight
        lines = digest.splitlines()
        assert lines[0] == "⏰ Reminders missed while the bot was unavailable (2):"
        assert "Drafting the Performance Agreement (PK 2025):" in lines
        assert "Drafting the Performance Agreement (PK 2026):" in lines
        late = [ln for ln in lines if ln.startswith("• ⚠️ Step 2: ")]
        assert len(late) == 2, digest
        # each with its original deadline: Monday 10:00, two days ago
        assert all("late: the deadline was 5 Jan 2026 10:00 WIB (late by 2 days" in ln
                   for ln in late), late
        (escalated,) = texts(h.api, kepala_user, "⏰")
        assert escalated.count("Sri late; the deadline was 5 Jan 2026 10:00 WIB") == 2
        assert texts(h.api, sri_user, "⚠️ Late") == []  # nothing one by one
        # the outbox holds that one digest, not a message per missed reminder
        (item,) = reminder_items(h, sri)
        assert item["type"] == "digest" and len(item["items"]) == 2
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        await asyncio.sleep(SETTLE * 2)
        assert h.api.messages(sri) == [] and h.api.messages(kepala) == []  # not re-sent
        assert len(reminder_items(h, sri)) == 1


async def test_reminders_follow_a_withdrawn_decision(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:  # Monday 5 January 2026, 08:00 WIB
        o = await kesbangpol(h)
        sekretaris, sri = o["sekretaris"], o["kasubbag"]  # step 1 is his (MULAI)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        step1 = await sekretaris.await_message(is_step(1, 1))  # 10 Menit: deadline 08:10
        await h.press(sekretaris, step1, "✔️ Selesai")
        await sri.await_message(is_step(2, 1))  # 2 Jam: deadline 10:00
        reminders = h.app.bot_data["runtime"].reminders
        assert {p.payload["step_no"] for p in reminders.plan(h.clock())} == {2}
        decided = await h.api.await_for(
            lambda: (m := h.api.message(sekretaris.id, step1["message_id"]))
            and [t for t, _d in h.api.buttons(m)] == [UNDO] and m)
        await h.press(sekretaris, decided, UNDO)
        await sekretaris.await_message(is_step(1, 1))  # the step is the Sekretaris's again
        # Sri's reminders are gone; the Sekretaris's step 1 is reminded again, by its deadline
        plan = reminders.plan(h.clock())
        assert {p.payload["step_no"] for p in plan} == {1}
        assert {p.payload["deadline"] for p in plan} == {wib(2026, 1, 5, 8, 10).isoformat()}
        (before,) = await arrives_exactly_at(h, sekretaris, "⏰ Reminder", wib(2026, 1, 5, 8, 5))
        assert "step 1 of 13" in before and "at 08:10 WIB" in before
        upcoming = await h.say(sri, "/pengingat", expect="")
        assert upcoming["text"] == "No reminders are planned for you."
        await at(h, wib(2026, 1, 5, 9, 30))
        await at(h, wib(2026, 1, 5, 10, 0))
        assert texts(h.api, sri, "⏰") == []  # step 2's reminders never came
        assert len(texts(h.api, sekretaris, "⏰")) == 2  # step 1's "before" and "due"


async def test_a_digest_of_many_lists_the_earliest_and_says_how_many_more(
        tmp_path: Path) -> None:
    """Twelve PKs wait on Sri while the bot is down: she gets one message with the ten
    earliest deadlines and where to see the rest, not a message per instance or parts."""
    clock = Clock()  # Monday 5 January 2026, 08:00 WIB
    data = tmp_path / "data"
    years = range(2015, 2027)
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        o = await kesbangpol(h)
        for year in years:
            asked = await h.say(o["kepala"], f"mulai PK {year}")
            if "far from this year" in asked["text"]:  # (all but 2025-2027)
                await h.press(o["kepala"], asked, "Ya")
            else:
                assert "Started" in asked["text"], asked["text"]
            step1 = await o["sekretaris"].await_message(
                lambda m, y=year: is_step(1, 1)(m) and f"PK {y}" in m.get("text", ""))
            await h.press(o["sekretaris"], step1, "✔️ Selesai")
            await o["kasubbag"].await_message(
                lambda m, y=year: is_step(2, 1)(m) and f"PK {y}" in m.get("text", ""))
            clock.now += timedelta(minutes=1)  # deadlines a minute apart, 2015 earliest
        sri = o["kasubbag"].id
    clock.now = wib(2026, 1, 7, 9, 0)
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        h.api.user(sri, "Sri", language_code="en")
        await h.api.await_for(lambda: h.api.messages(sri), what="Sri's digest")
        await asyncio.sleep(SETTLE * 2)
        (digest,) = [m["text"] for m in h.api.messages(sri)]  # one message
        lines = digest.splitlines()
        assert lines[0] == "⏰ Reminders missed while the bot was unavailable (12):"
        groups = [ln for ln in lines if ln.startswith("Drafting the Performance Agreement")]
        assert groups == [f"Drafting the Performance Agreement (PK {y}):"
                          for y in range(2015, 2025)]  # the ten earliest
        assert lines[-2:] == ["… and 2 more", "/tugas lists the steps waiting for you; "
                              "/pengingat your next reminders."]
