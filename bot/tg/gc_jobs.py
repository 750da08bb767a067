"""When the bot runs the garbage collector's paced passes (:mod:`bot.ops.gcpace`).

At start-up everything made so far (modules, flows, the working set) is frozen; once the
first reminder sync has built the plan, and after every sync that re-planned many sources, a
short pass and a freeze; the same every :attr:`GcPacer.settle_every` seconds; and the one full
pass a day at :data:`RENEW_AT`, office time, when no official is at work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import time, tzinfo

from telegram.ext import Application, ContextTypes

from bot.ops import gcpace

log = logging.getLogger(__name__)

SETTLE_JOB = "gc-settle"
RENEW_JOB = "gc-renew"
#: The office-time hour of the day's full pass (its pause is the collector's old one).
RENEW_AT = time(2, 30)


class GcPacer:
    """Schedules the collector's passes on the application's job queue."""

    def __init__(self, app: Application, zone: tzinfo, *, settle_every: float = 300.0) -> None:
        self.app = app
        self.zone = zone
        self.settle_every = settle_every
        self._first: asyncio.Task[None] | None = None

    def start(self, after: Awaitable[object] | None = None) -> None:
        """Freeze now; settle once `after` (the first reminder sync) is done, then
        periodically (and whenever :meth:`replanned` says so); renew daily."""
        job_queue = self.app.job_queue
        assert job_queue is not None, "install python-telegram-bot[job-queue]"
        gcpace.freeze()
        self._first = asyncio.get_running_loop().create_task(self._settle_after(after),
                                                             name="gc-first-settle")
        job_queue.run_repeating(self._settle_job, interval=self.settle_every,
                                first=self.settle_every, name=SETTLE_JOB,
                                job_kwargs={"id": SETTLE_JOB, "replace_existing": True,
                                            "coalesce": True})
        job_queue.run_daily(self._renew_job, time=RENEW_AT.replace(tzinfo=self.zone),
                            name=RENEW_JOB, job_kwargs={"id": RENEW_JOB,
                                                        "replace_existing": True,
                                                        "coalesce": True})

    async def _settle_after(self, after: Awaitable[object] | None) -> None:
        if after is not None:
            with contextlib.suppress(Exception):  # (the first sync logs its own failure)
                await after
        gcpace.settle(0)  # the plan just made: frozen, not walked (see gcpace.settle)
        gcpace.fix_mmap_threshold()  # the start-up's big blocks are behind it

    def replanned(self, sources: int) -> None:
        """A sync re-planned `sources` sources: the new plan lives long, freeze it now
        rather than let the collector walk it every few seconds until the next settle."""
        gcpace.settle(0)

    async def _settle_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        gcpace.settle()

    async def _renew_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        gcpace.renew()

    async def stop(self) -> None:
        """Give the frozen objects back to the collector (jobs stop with the job queue)."""
        if self._first is not None and not self._first.done():
            self._first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._first
        gcpace.unfreeze_all()
