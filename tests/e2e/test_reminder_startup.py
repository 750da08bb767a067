"""A restart does not delay reminders: the plan is synced at start-up, not an interval later."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from bot.demo.harness import Clock, live_bot
from bot.engine.loader import load_flows
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, texts
from tests.support.offices import kesbangpol
from tests.support.paths import FLOWS_DIR, WIB


async def test_a_reminder_due_just_after_a_restart_goes_out_on_time(tmp_path: Path) -> None:
    clock = Clock()
    data = tmp_path / "data"
    async with running_bot(tmp_path, clock=clock, data_dir=data) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m1 = await o["sekretaris"].await_message(is_step(1, 1))
        await h.press(o["sekretaris"], m1, "✔️ Selesai")
        await o["kasubbag"].await_message(is_step(2, 1))
        sri = o["kasubbag"].id
    # Step 2 ("2 Jam", from 08:00) is reminded at 09:30. The bot comes back one minute
    # before, with the production sync interval (five minutes).
    reminder_at = datetime(2026, 1, 5, 9, 30, tzinfo=WIB)
    clock.now = reminder_at - timedelta(minutes=1)
    async with live_bot(load_flows(FLOWS_DIR), data, flows_dir=FLOWS_DIR, clock=clock,
                        reminder_sync_interval=300.0, http_timeout=2.0) as h:
        scheduler = h.app.bot_data["runtime"].scheduler
        loop = asyncio.get_running_loop()
        began = loop.time()
        while not scheduler.jobs():
            assert loop.time() - began < 5, "no reminder planned at start-up"
            await asyncio.sleep(0.05)
        job = min((j for j in h.app.job_queue.scheduler.get_jobs()
                   if j.id.startswith("reminder:")), key=lambda j: j.next_run_time)
        wait = (job.next_run_time - datetime.now(WIB)).total_seconds()
        assert 55 <= wait <= 61, wait  # due one minute from now, not after the next sync
        # Let the office clock reach 09:30 and run the job now (the minute in fast-forward).
        clock.now = reminder_at
        job.modify(next_run_time=datetime.now(WIB))
        sri_user = h.api.user(sri, "Sri", language_code="en")
        await h.api.await_for(lambda: texts(h.api, sri_user, "⏰ Reminder"),
                              what="the reminder due a minute after start-up", timeout=5)
        assert len(texts(h.api, sri_user, "⏰ Reminder")) == 1
