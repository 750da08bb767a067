"""Reminder jobs on APScheduler (PTB's JobQueue), derived from the database.

Nothing depends on jobs surviving a restart: at start-up and then periodically (and after
each change, when the services wake it) the scheduler recomputes the plan from the stored
state and makes the jobs match it, one job per planned point under the point's deterministic
id. A point that fell due while the bot was down is sent once, right away within office hours
(APScheduler's own misfire handling is not relied on: its default 1-second grace would drop
it). Firing re-checks the point against the database, so it never goes out twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from telegram.ext import Application, ContextTypes

from bot.services.reminders import Planned, Reminders
from bot.tg.sender import OutboxSender

log = logging.getLogger(__name__)

JOB_PREFIX = "reminder:"
SYNC_JOB = "reminders-sync"


class ReminderScheduler:
    """Keeps one scheduler job per planned reminder."""

    def __init__(self, app: Application, reminders: Reminders, sender: OutboxSender,
                 clock: Callable[[], datetime], *, sync_interval: float = 300.0) -> None:
        self.app = app
        self.reminders = reminders
        self.sender = sender
        self.clock = clock
        self.sync_interval = sync_interval
        self._lock = asyncio.Lock()
        self._first: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sync now and every `sync_interval` seconds.

        The first sync is a task of its own, started at once: a repeating job's ``first=0``
        does not fire before the first interval has passed, so reminders due just after a
        restart would go out an interval (five minutes) late.
        """
        job_queue = self.app.job_queue
        assert job_queue is not None, "install python-telegram-bot[job-queue]"
        self._first = asyncio.get_running_loop().create_task(self._first_sync(),
                                                             name="reminders-first-sync")
        job_queue.run_repeating(self._sync_job, interval=self.sync_interval,
                                first=self.sync_interval,
                                name=SYNC_JOB, job_kwargs={"id": SYNC_JOB,
                                                           "replace_existing": True,
                                                           "coalesce": True,
                                                           "misfire_grace_time": None})

    async def _first_sync(self) -> None:
        try:
            await self.sync()
        except Exception:  # the periodic sync tries again
            log.exception("first reminder sync failed")

    async def _sync_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.sync()

    def poke(self) -> None:
        """Something changed (a step moved, a duty was done): re-derive the jobs soon."""
        job_queue = self.app.job_queue
        if job_queue is not None and job_queue.scheduler.running:
            job_queue.run_once(self._sync_job, when=0, name=SYNC_JOB + "-now",
                               job_kwargs={"id": SYNC_JOB + "-now", "replace_existing": True,
                                           "misfire_grace_time": None})

    async def sync(self) -> int:
        """Make the jobs match the plan; returns how many jobs are scheduled."""
        async with self._lock:
            now = self.clock()
            caught_up = await asyncio.to_thread(self.reminders.collapse_missed, now)
            plan = await asyncio.to_thread(self.reminders.plan, now)
            missed = {p.id for p in caught_up}
            wanted = {p.id: p for p in plan if p.at > now or p.id in missed}
            scheduler = self.app.job_queue.scheduler  # type: ignore[union-attr]
            for job in scheduler.get_jobs():
                if job.id.startswith(JOB_PREFIX) and job.id[len(JOB_PREFIX):] not in wanted:
                    job.remove()
            for point in wanted.values():
                self._schedule(point, now)
            return len(wanted)

    def _schedule(self, point: Planned, now: datetime) -> None:
        # The plan speaks in office time (the clock); jobs run on the machine's time.
        at = point.at
        if at <= now:  # missed while the bot was down: now, unless the office is closed
            flow = self.reminders.services.flows.get(point.payload.get("flow_id", ""))
            at = flow.unit.calendar().next_opening(now) if flow else now
        delay = max(timedelta(0), at - now)
        run_at = datetime.now(UTC) + delay
        job_queue = self.app.job_queue
        assert job_queue is not None
        job_id = JOB_PREFIX + point.id
        existing = job_queue.scheduler.get_job(job_id)
        if existing is not None and abs((existing.next_run_time - run_at).total_seconds()) < 1:
            return
        job_queue.run_once(self._fire_job, when=run_at, data=point.id, name=job_id,
                           job_kwargs={"id": job_id, "replace_existing": True,
                                       "misfire_grace_time": None})

    async def _fire_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        point_id = context.job.data if context.job else None
        if not isinstance(point_id, str):
            return
        if await asyncio.to_thread(self.reminders.fire, point_id, self.clock()):
            log.info("reminder %s sent", point_id)
            self.sender.wake()

    def jobs(self) -> list[str]:
        """Ids of the scheduled reminder jobs (for tests and diagnostics)."""
        scheduler = self.app.job_queue.scheduler  # type: ignore[union-attr]
        return sorted(j.id for j in scheduler.get_jobs() if j.id.startswith(JOB_PREFIX))
