"""Shared fixtures: the real flow files, fixed clocks (the engine never reads the clock), and
the real bot against the fake Bot API (the demo's harness, :mod:`bot.demo.harness`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.demo.harness import Clock, Harness, live_bot
from bot.engine.loader import load_flows
from bot.engine.model import Flow

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="session")
def all_flows() -> dict[str, Flow]:
    """Every flow in flows/, by id."""
    return {f.id: f for f in load_flows(FLOWS_DIR)}


@pytest.fixture
def monday_morning() -> datetime:
    """Monday 5 January 2026, 08:00 WIB: an ordinary working morning."""
    return datetime(2026, 1, 5, 8, 0, tzinfo=WIB)


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
