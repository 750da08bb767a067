"""Pokes while a re-sync waits for the one under way add no third job (issue 15): with 10,000
instances a sync takes seconds, and APScheduler logged a warning for every poke it dropped."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.tg.reminder_jobs import JOB_PREFIX, SYNC_JOB
from tests.support.bot import running_bot


async def test_a_poke_while_a_sync_waits_is_left_to_it(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_bot(tmp_path) as h:
        scheduler = h.app.bot_data["runtime"].scheduler
        await scheduler.first_sync
        release = threading.Event()
        real = scheduler._moments

        def slow_moments(now):  # type: ignore[no-untyped-def]
            release.wait(10)
            return real(now)

        monkeypatch.setattr(scheduler, "_moments", slow_moments)
        running = asyncio.create_task(scheduler.sync())  # under way, holding the lock
        await asyncio.sleep(0.1)
        waiting = asyncio.create_task(scheduler.sync())  # waits for it
        await asyncio.sleep(0.1)
        queue = h.app.job_queue.scheduler
        if queue.get_job(SYNC_JOB + "-now") is not None:  # (one the start-up asked for)
            queue.remove_job(SYNC_JOB + "-now")
        scheduler.poke()
        assert queue.get_job(SYNC_JOB + "-now") is None  # the waiting sync will see it
        release.set()
        await asyncio.wait_for(asyncio.gather(running, waiting), 10)
        scheduler.poke()  # nothing waits now: a re-sync is due again
        assert queue.get_job(SYNC_JOB + "-now") is not None


async def test_a_replaced_reminder_job_is_freed_without_the_cyclic_collector(
        tmp_path: Path) -> None:
    """python-telegram-bot's and APScheduler's jobs refer to each other. The bot freezes
    what lives long (bot.ops.gcpace), so a job replaced by a re-sync would wait for the
    nightly full collection: about one a press with 1,000 instances running (issue 15's
    long run of presses). A replaced, removed or fired job is freed by its reference count."""
    async with running_bot(tmp_path) as h:
        scheduler = h.app.bot_data["runtime"].scheduler
        await scheduler.first_sync
        queue = h.app.job_queue.scheduler
        when = datetime.now(UTC) + timedelta(hours=1)
        gc.collect()
        gc.disable()
        try:
            scheduler._schedule(JOB_PREFIX + "test", when, ["a"])
            replaced = weakref.ref(queue.get_job(JOB_PREFIX + "test"))
            scheduler._schedule(JOB_PREFIX + "test", when, ["a", "b"])  # other points: replaced
            assert replaced() is None
            removed = weakref.ref(queue.get_job(JOB_PREFIX + "test"))
            await scheduler.sync()  # not in the plan: removed
            assert queue.get_job(JOB_PREFIX + "test") is None
            assert removed() is None
        finally:
            gc.enable()


async def test_a_sync_plans_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync reads the store once and plans once: the collapse of missed points takes the
    same plan (it planned everything a second time at each sync, and a sync follows every
    change: a tenth of the bot's work in a burst of 200 presses)."""
    async with running_bot(tmp_path) as h:
        scheduler = h.app.bot_data["runtime"].scheduler
        await scheduler.first_sync
        planner = scheduler.reminders.planner
        real = planner.points
        calls: list[datetime] = []

        def points(snap, now, until):  # type: ignore[no-untyped-def]
            calls.append(now)
            return real(snap, now, until)

        monkeypatch.setattr(planner, "points", points)
        await scheduler.sync()
        assert len(calls) == 1
