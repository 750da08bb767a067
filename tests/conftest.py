"""Shared fixtures: the real flow files and fixed clocks (the engine never reads the clock).

Code the tests share lives in :mod:`tests.support`; tests are laid out by level:
``unit/`` (engine, loader, calendar, CLI, reports…), ``service/`` (use cases on both storage
backends), ``e2e/`` (the real bot against the fake Bot API).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.engine.loader import load_flows
from bot.engine.model import Flow
from tests.support.paths import FLOWS_DIR, WIB


@pytest.fixture(scope="session")
def all_flows() -> dict[str, Flow]:
    """Every flow in flows/, by id."""
    return {f.id: f for f in load_flows(FLOWS_DIR)}


@pytest.fixture
def monday_morning() -> datetime:
    """Monday 5 January 2026, 08:00 WIB: an ordinary working morning."""
    return datetime(2026, 1, 5, 8, 0, tzinfo=WIB)
