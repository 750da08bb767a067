"""The real bot against the fake Bot API, as the tests start it (the demo's harness)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.demo.harness import Clock, Harness, live_bot
from bot.engine.loader import load_flows
from tests.support.paths import FLOWS_DIR


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, *, clock: Clock | None = None,
                      data_dir: Path | None = None) -> AsyncIterator[Harness]:
    """The fake Bot API and the real bot on the flows of flows/, data in `tmp_path`.

    Time is `clock` (default: Monday 5 January 2026, 08:00 WIB); reminders are re-planned
    every 0.2 s and HTTP calls time out after 2 s, so that tests are quick.
    """
    async with live_bot(load_flows(FLOWS_DIR), data_dir or tmp_path / "data",
                        flows_dir=FLOWS_DIR, clock=clock, reminder_sync_interval=0.2,
                        http_timeout=2.0) as harness:
        yield harness
