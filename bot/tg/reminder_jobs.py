"""Reminder jobs on APScheduler (PTB's JobQueue), derived from the database.

Nothing depends on jobs surviving a restart: at start-up and then periodically (and a
moment after each change, when the services wake it) the scheduler re-derives the plan from
the stored state and makes the jobs match it, one job per moment at which points fall due
(the job fires all of them in one write). A point that fell due while the bot was down is
sent once, right away within office hours (APScheduler's own misfire handling is not relied
on: its default 1-second grace would drop it). Firing re-checks the point against the
database, so it never goes out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.services.reminders import Planned, Reminders
from bot.tg.sender import OutboxSender

log = logging.getLogger(__name__)

JOB_PREFIX = "reminder:"
SYNC_JOB = "reminders-sync"
#: Seconds between a change and the re-sync it asks for (the pokes of a burst coalesce).
POKE_DELAY = 1.0
#: A re-plan of this many sources (instances, officials' duties) or more is reported to
#: :attr:`ReminderScheduler.on_replanned`.
REPLANNED_MANY = 100


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
        self._waiting = 0  #: syncs waiting for the lock (each will see every change so far)
        #: called (with how many) after a sync that re-planned at least REPLANNED_MANY
        #: sources: the garbage collector's pacer freezes the new plan (bot.tg.gc_jobs)
        self.on_replanned: Callable[[int], None] | None = None

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

    @property
    def first_sync(self) -> asyncio.Task[None] | None:
        """The start-up's sync (None before :meth:`start`); it never raises."""
        return self._first

    async def _first_sync(self) -> None:
        try:
            await self.sync()
        except Exception:  # the periodic sync tries again
            log.exception("first reminder sync failed")

    async def _sync_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.sync()

    def poke(self) -> None:
        """Something changed (a step moved, a duty was done): re-derive the jobs soon.

        Not on the press's path: the re-sync waits `POKE_DELAY` seconds, and the pokes of
        a burst of presses coalesce into that one re-sync (a re-plan reads everything).
        """
        job_queue = self.app.job_queue
        if job_queue is None or not job_queue.scheduler.running:
            return
        if job_queue.scheduler.get_job(SYNC_JOB + "-now") is not None or self._waiting:
            return  # one is already due or waiting for the lock: it will see this change too
        job_queue.run_once(self._sync_job, when=POKE_DELAY, name=SYNC_JOB + "-now",
                           job_kwargs={"id": SYNC_JOB + "-now", "replace_existing": True,
                                       "misfire_grace_time": None,
                                       # a poke while the last re-sync still runs must not be
                                       # skipped (APScheduler would drop it with a warning):
                                       # the second run waits for the first on self._lock
                                       "max_instances": 2})

    async def sync(self) -> int:
        """Make the jobs match the plan; returns how many points are scheduled.

        The plan and its grouping into moments are computed in a thread (the planner
        re-plans only what changed, outside the store lock); the event loop only applies
        the result: one job per moment, left alone when it already fires the same points.
        """
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            return await self._sync()
        finally:
            self._lock.release()

    async def _sync(self) -> int:
        """:meth:`sync`, under its lock."""
        replanned = self.reminders.planner.replanned
        before = sum(replanned.values())
        now = self.clock()
        # Plt/Plh periods begin and end on this periodic check (the office's clock).
        if await asyncio.to_thread(self.reminders.services.tick, now):
            self.sender.wake()
        moments, count = await asyncio.to_thread(self._moments, now)
        scheduler = self.app.job_queue.scheduler  # type: ignore[union-attr]
        for job in scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in moments:
                job.remove()
                _forget(job)
        for key, (run_at, ids) in moments.items():
            self._schedule(key, run_at, ids)
        many = sum(replanned.values()) - before
        if many >= REPLANNED_MANY and self.on_replanned is not None:
            self.on_replanned(many)
        return count

    def _moments(self, now: datetime) -> tuple[dict[str, tuple[datetime, list[str]]], int]:
        """The plan as one job per moment (its id names the moment), and how many points.

        Of what was missed (the bot was down), each series' newest point is still owed
        (the older ones are marked skipped). One job per moment fires every point due then
        in one write (not one job per reminder: 10,000 officials' round is one job, not
        10,000). One read of the store and one plan serve both (the missed points' skipped
        marks are written to the store, not to this detached snapshot: the plan stays what
        it was, and the older missed points are left out below).
        """
        snap = self.reminders.snapshot()
        snap.breathe = True  # a detached copy: planning it may pause for the event loop
        pending = self.reminders.pending(snap, now)
        missed = {p.id for p in self.reminders.collapse_missed(now, snap, pending)}
        by_moment: dict[Any, tuple[Planned, list[str]]] = {}
        for point in pending:
            if point.at > now:
                at: Any = point.at
            elif point.id in missed:  # waits for its office's opening, if closed now
                at = ("missed", point.get("flow_id", ""))
            else:
                continue
            by_moment.setdefault(at, (point, []))[1].append(point.id)
        # The run time is computed once per moment, not once per point.
        moments: dict[str, tuple[datetime, list[str]]] = {}
        for first, ids in by_moment.values():
            run_at = self._run_at(first, now)
            # Due already (missed, the office open): one job that runs at once.
            key = JOB_PREFIX + ("due" if run_at is None
                                else run_at.strftime("%Y%m%dT%H%M%S"))
            moments.setdefault(key, (run_at or datetime.now(UTC), []))[1].extend(ids)
        for _run, ids in moments.values():
            ids.sort()
        return moments, sum(len(ids) for _first, ids in by_moment.values())

    def _run_at(self, point: Planned, now: datetime) -> datetime | None:
        """When the job of `point` runs, on the machine's clock (whole seconds); None: now."""
        # The plan speaks in office time (the clock); jobs run on the machine's time.
        at = point.at
        if at <= now:  # missed while the bot was down: now, unless the office is closed
            flow = self.reminders.services.flows.get(point.get("flow_id", ""))
            at = flow.unit.calendar().next_opening(now) if flow else now
        if at <= now:
            return None
        run_at = datetime.now(UTC) + (at - now)
        if run_at.microsecond:  # never early: the point is re-checked when fired
            run_at = run_at.replace(microsecond=0) + timedelta(seconds=1)
        return run_at

    def _schedule(self, job_id: str, run_at: datetime, point_ids: list[str]) -> None:
        job_queue = self.app.job_queue
        assert job_queue is not None
        existing = job_queue.scheduler.get_job(job_id)
        # The id names the moment; the same points then: the job is already right.
        if existing is not None and len(existing.args) == 2 \
                and getattr(existing.args[1], "data", None) == point_ids:
            return
        job_queue.run_once(self._fire_job, when=run_at, data=point_ids, name=job_id,
                           job_kwargs={"id": job_id, "replace_existing": True,
                                       "misfire_grace_time": None})
        if existing is not None:
            _forget(existing)  # replaced

    async def _fire_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        point_ids = context.job.data if context.job else None
        if context.job is not None:  # a date job runs once: gone from the scheduler now
            _forget(context.job.job)
        if not isinstance(point_ids, list):
            return
        sent = await asyncio.to_thread(self.reminders.fire_many, point_ids, self.clock())
        if sent:
            log.info("%d reminder(s) sent", len(sent))
            self.sender.wake()

    def jobs(self) -> list[str]:
        """Ids of the scheduled reminder jobs (for tests and diagnostics)."""
        scheduler = self.app.job_queue.scheduler  # type: ignore[union-attr]
        return sorted(j.id for j in scheduler.get_jobs() if j.id.startswith(JOB_PREFIX))


def _forget(job: Any) -> None:
    """Break the reference cycle of an APScheduler job that is gone from the scheduler.

    python-telegram-bot's Job and APScheduler's refer to each other (the one holds the
    other, which holds the first among its call's arguments), so a job replaced, removed or
    run is freed only by the cyclic collector. The bot freezes what lives long so that the
    collector's passes stay short (:mod:`bot.ops.gcpace`): a reminder job frozen while it
    waited and replaced afterwards stayed until the nightly full pass. With 1,000
    instances running, about one job a press: most of the memory that grew over a long run
    of presses (issue 15, ``gc.DEBUG_SAVEALL`` at the bench's checkpoints). Its call was
    made already, or never will be: its arguments are dropped.
    """
    with contextlib.suppress(AttributeError, TypeError):
        job.args = ()
        job.kwargs = {}
