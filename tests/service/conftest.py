"""Service-level fixtures: the real services over a storage backend, no Telegram.

Every service test runs twice: on the in-memory repository (fast) and once on the TinyDB
files (the production backend), through the parametrised `store` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.engine.loader import load_flows
from bot.engine.model import Flow
from bot.storage.memory import MemoryStore
from bot.storage.protocol import Storage
from bot.storage.store import Store
from tests.support.paths import FLOWS_DIR
from tests.support.services import World


@pytest.fixture(scope="session")
def flows() -> list[Flow]:
    return load_flows(FLOWS_DIR)


@pytest.fixture(params=["memory", "tinydb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The in-memory backend, then the TinyDB one: the same suite runs on both."""
    yield MemoryStore() if request.param == "memory" else Store(tmp_path / "data")


@pytest.fixture
def world(store: Storage, flows: list[Flow]) -> World:
    return World(build_services(flows, store), store)
