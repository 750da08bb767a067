"""Reminders in chat, on a controllable clock: step deadlines, escalation, the yearly cycles."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo.harness import Clock, Harness
from fakeapi import FakeBotApi
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, texts
from tests.support.clock import SETTLE, arrives_exactly_at, at, wib
from tests.support.offices import kesbangpol


async def test_step_reminders_escalation_and_a_decided_step(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m1 = await o["sekretaris"].await_message(is_step(1, 1))
        await h.press(o["sekretaris"], m1, "✔️ Selesai")
        await o["kasubbag"].await_message(is_step(2, 1))
        # Step 2, "2 Jam", started Monday 5 January 2026 08:00 WIB: due 10:00.
        (before,) = await arrives_exactly_at(h, o["kasubbag"], "⏰ Reminder",
                                             wib(2026, 1, 5, 9, 30))
        assert "step 2 of 13" in before and "Monday, 5 January 2026 at 10:00 WIB" in before
        assert "30 minutes left" in before
        await arrives_exactly_at(h, o["kasubbag"], "⏰ Deadline now", wib(2026, 1, 5, 10, 0))
        # late: once each working day at the office opening, not at night
        await at(h, wib(2026, 1, 5, 22, 0))
        assert texts(h.api, o["kasubbag"], "⚠️ Late") == []
        (late,) = await arrives_exactly_at(h, o["kasubbag"], "⚠️ Late", wib(2026, 1, 6, 7, 30))
        assert "Reminder 1." in late
        assert texts(h.api, o["kepala"], "late with") == []
        # the second overdue reminder also tells the atasan (here: who started the flow)
        await arrives_exactly_at(h, o["kasubbag"], "⚠️ Late", wib(2026, 1, 7, 7, 30))
        (escalated,) = texts(h.api, o["kepala"], "late with")
        assert escalated.startswith("⚠️ Sri late with step 2 of 13")
        # decided: no more reminders
        m2 = next(m for m in h.api.messages(o["kasubbag"].id) if is_step(2, 1)(m))
        await h.press(o["kasubbag"], m2, "✔️ Selesai")
        await at(h, wib(2026, 1, 8, 7, 30))
        await at(h, wib(2026, 1, 9, 7, 30))
        assert len(texts(h.api, o["kasubbag"], "⚠️ Late")) == 2
        assert len([t for t in texts(h.api, o["kepala"], "late with")
                    if "step 2 of 13" in t]) == 1  # (step 3 has its own reminders by now)
        # /pengingat lists what is coming for me
        await o["bidang"].await_message(is_step(3, 1))
        upcoming = await h.say(o["bidang"], "/pengingat", expect="Your next reminders")
        # grouped by flow, one line per step with its deadline and its next reminder
        assert upcoming["text"].splitlines()[1:] == [
            "Drafting the Performance Agreement (PK 2025):",
            "• Step 3: Sends the data-collection form to each division and the secretariat — "
            "deadline 7 Jan 2026 08:30 WIB; next reminder 12 Jan 2026 07:30 WIB"]


async def test_a_multi_day_step_across_idul_fitri(tmp_path: Path) -> None:
    """Step 7 (4 Hari) from Tue 17 March 2026 15:00: due Mon 30 March; the day-before
    reminder is Friday 27 March — Nyepi, Idul Fitri and their cuti bersama skipped."""
    clock = Clock(wib(2026, 3, 17, 15, 0))
    async with running_bot(tmp_path, clock=clock) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        for no, who in ((1, "sekretaris"), (2, "kasubbag"), (3, "bidang"), (4, "pelaksana"),
                        (5, "pelaksana"), (6, "bidang")):
            m = await o[who].await_message(is_step(no, 1))
            await h.press(o[who], m, "✔️ Selesai")
        step7 = await o["pelaksana"].await_message(is_step(7, 1))
        assert "Monday, 30 March 2026 at 15:00 WIB" in step7["text"]
        base = len(texts(h.api, o["pelaksana"], "⏰ Reminder"))
        await at(h, wib(2026, 3, 26, 15, 0))
        assert len(texts(h.api, o["pelaksana"], "⏰ Reminder")) == base
        (before,) = await arrives_exactly_at(h, o["pelaksana"], "⏰ Reminder",
                                             wib(2026, 3, 27, 15, 0))
        assert "step 7 of 13" in before


async def test_restart_neither_loses_nor_repeats_a_reminder(tmp_path: Path) -> None:
    clock = Clock()
    data = tmp_path / "data"
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m1 = await o["sekretaris"].await_message(is_step(1, 1))
        await h.press(o["sekretaris"], m1, "✔️ Selesai")
        await o["kasubbag"].await_message(is_step(2, 1))
        await arrives_exactly_at(h, o["kasubbag"], "⏰ Reminder", wib(2026, 1, 5, 9, 30))
        sri = o["kasubbag"].id
    # The bot is down from Monday 09:31 until Wednesday 09:00: the due reminder and two
    # overdue reminders fell due meanwhile.
    clock.now = wib(2026, 1, 7, 9, 0)
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        sri_user = h.api.user(sri, "Sri", language_code="en")
        kepala = h.api.user(1001, "Haerudin", language_code="en")
        await h.api.await_for(lambda: texts(h.api, sri_user, "⚠️ Late"),
                              what="the missed reminder")
        await asyncio.sleep(SETTLE)
        late = texts(h.api, sri_user, "⚠️ Late")
        assert len(late) == 1 and "Reminder 2." in late[0]  # once: the newest of the series
        assert texts(h.api, sri_user, "⏰") == []  # the older ones are not sent late
        assert len(texts(h.api, kepala, "late with")) == 1  # the escalation, once
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        sri_user = h.api.user(sri, "Sri", language_code="en")
        await asyncio.sleep(SETTLE * 2)
        assert texts(h.api, sri_user, "⚠️ Late") == []  # not repeated after another restart
    # Down again until Thursday 22:00, after office hours: the missed reminder waits for
    # Friday's opening rather than waking anyone at night.
    clock.now = wib(2026, 1, 8, 22, 0)
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        sri_user = h.api.user(sri, "Sri", language_code="en")
        await asyncio.sleep(SETTLE * 2)
        assert texts(h.api, sri_user, "⚠️ Late") == []
        await at(h, wib(2026, 1, 9, 7, 30))
        await h.api.await_for(lambda: texts(h.api, sri_user, "⚠️ Late"),
                              what="the missed reminder at the office opening")
        assert "Reminder 4." in texts(h.api, sri_user, "⚠️ Late")[0]


DPRD = "setwan-nganjuk"

#: Every cycle due date the officials of Sekretariat DPRD Nganjuk see in 2026: the day of
#: the "before" reminder (5 working days ahead) and of the "due" reminder, both at the
#: 07:30 office opening, with the duties due then (10 working days after the period ends).
YEAR_2026: list[tuple[datetime, datetime, list[str]]] = [
    (wib(2026, 1, 8, 7, 30), wib(2026, 1, 15, 7, 30),
     ["Triwulan IV 2025", "Semester II 2025", "Tahun 2025"]),
    # Q1 ends Tue 31 March; Good Friday 3 April is skipped
    (wib(2026, 4, 8, 7, 30), wib(2026, 4, 15, 7, 30), ["Triwulan I 2026"]),
    (wib(2026, 7, 7, 7, 30), wib(2026, 7, 14, 7, 30), ["Triwulan II 2026", "Semester I 2026"]),
    (wib(2026, 10, 7, 7, 30), wib(2026, 10, 14, 7, 30), ["Triwulan III 2026"]),
    # Q4: New Year's Day 2027 and 5 January are skipped
    (wib(2027, 1, 11, 7, 30), wib(2027, 1, 18, 7, 30),
     ["Triwulan IV 2026", "Semester II 2026", "Tahun 2026"]),
]


async def test_a_year_of_triwulan_and_semester_duties(tmp_path: Path) -> None:
    clock = Clock(wib(2026, 1, 5, 8, 0))
    async with running_bot(tmp_path, clock=clock) as h:
        people: dict[str, Any] = {}
        for role in ("sekwan", "kabag", "kasubag", "staf", "kasubag_tu"):
            people[role] = await h.join(role.title(), DPRD, role, language="id")
        officials = ("kabag", "kasubag", "staf")
        atasan = {"kabag": "sekwan", "kasubag": "kabag", "staf": "kasubag"}
        for before, due, duties in YEAR_2026:
            for when, marker in ((before, "batas waktu"), (due, "hari ini")):
                counts = {r: len(texts(h.api, people[r], "📅")) for r in people}
                recaps = {r: len(texts(h.api, people[r], "📋 Rekap")) for r in people}
                await at(h, when - timedelta(minutes=1))
                assert {r: len(texts(h.api, people[r], "📅")) for r in people} == counts
                await at(h, when)
                for role in officials:
                    user = people[role]
                    await h.api.await_for(
                        lambda u=user, n=counts[role]: len(texts(h.api, u, "📅")) > n,
                        what=f"{role}'s reminders at {when}")
                    # the boss gets a recap of who has and has not reported
                    boss, seen = people[atasan[role]], recaps[atasan[role]]
                    await h.api.await_for(
                        lambda b=boss, n=seen: len(texts(h.api, b, "📋 Rekap")) > n,
                        what=f"recap for {atasan[role]}")
                await asyncio.sleep(SETTLE)
                for role in officials:
                    # duties due the same day (Triwulan II and Semester I), and the recap of
                    # a subordinate's, come as ONE message per official
                    (new,) = texts(h.api, people[role], "📅")[counts[role]:]
                    assert all(f"({d})" in new for d in duties), new
                    assert marker in new.lower(), new
            # at the due reminder every official reports done: button, evidence, text
            await mark_everything_done(h, people, officials)
            await asyncio.sleep(SETTLE)
        # done duties are never reminded again, and no overdue reminder went out all year
        for role in people:
            assert texts(h.api, people[role], "terlambat") == []


async def mark_everything_done(h: Harness, people: dict[str, Any],
                               officials: tuple[str, ...]) -> None:
    # The semester's later stages (the atasan's evaluation, then the official's follow-up)
    # arrive once the stage before is recorded: act until nothing is owed.
    acted: set[tuple[int, int]] = set()
    for _stage in range(4):
        for role in (*officials, "sekwan", "kasubag_tu"):
            user = people[role]
            for message in h.api.messages(user.id):
                # the "done" (or ✅ Setujui) buttons; an evaluation's 🔁 Revisi is not pressed
                buttons = [d for _t, d in FakeBotApi.buttons(message)
                           if d and d.startswith("k:") and not d.endswith(":r")]
                if not buttons or (user.id, message["message_id"]) in acted:
                    continue
                acted.add((user.id, message["message_id"]))
                if len(buttons) > 1:  # a digest of several duties: a button for each
                    for data in buttons:
                        answer = await h.answer(user.press(message, data))
                        assert "tercatat" in answer["text"], answer
                    continue
                if role == "kabag":  # the evidence document as a reply
                    user.send_document("pengukuran.pdf", b"%PDF-1.4 bukti", reply_to=message,
                                       mime_type="application/pdf")
                elif role == "staf":
                    user.send_text("selesai", reply_to=message)
                else:
                    user.press(message, buttons[0])
                await h.seen(user, "Tercatat")
            await h.idle()
        await asyncio.sleep(SETTLE)
    repo = h.services.store.read()
    evidence = [d for d in repo.db.table("cycle_tasks").all() if d.get("evidence")]
    assert evidence  # kabag's evidence is stored
