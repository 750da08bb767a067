"""Shared fixtures: the real flow files, and fixed clocks (the engine never reads the clock)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

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
