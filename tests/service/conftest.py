"""Service-level fixtures: the real services over a storage backend, no Telegram.

Every service test runs twice: on the in-memory repository (fast) and once on the TinyDB
files (the production backend), through the parametrised `store` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.engine.loader import load_flows
from bot.engine.model import Flow
from bot.services import Services, TelegramUser
from bot.storage.memory import MemoryStore
from bot.storage.protocol import Storage
from bot.storage.records import Member, OutboxItem
from bot.storage.store import Store
from tests.conftest import FLOWS_DIR, WIB

NEGLASARI = "kec-neglasari"
START = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)  # a Monday morning


@pytest.fixture(scope="session")
def flows() -> list[Flow]:
    return load_flows(FLOWS_DIR)


@pytest.fixture(params=["memory", "tinydb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The in-memory backend, then the TinyDB one: the same suite runs on both."""
    yield MemoryStore() if request.param == "memory" else Store(tmp_path / "data")


@dataclass
class World:
    """Services plus a way to bind officials and read what they were sent."""

    services: Services
    store: Storage
    now: datetime = START
    _next_id: int = 100
    people: dict[str, Member] = field(default_factory=dict)

    def join(self, name: str, role: str, unit: str = NEGLASARI,
             atasan: str | None = None) -> Member:
        """An official redeems an invitation for `role` in `unit`."""
        self._next_id += 1
        invite = self.services.create_invite(unit=unit, role=role, now=self.now, name=name,
                                             atasan=atasan)
        user = TelegramUser(id=self._next_id, chat_id=self._next_id, name=name,
                            language_code="en")
        joined = self.services.redeem(invite.code, user, self.now)
        self.people[name] = joined.member
        return joined.member

    def member(self, name: str) -> Member:
        """The official as stored now."""
        with self.store.transaction(record_update=False) as repo:
            found = repo.member(self.people[name].id)
        assert found is not None
        return found

    def outbox(self, name: str, kind: str | None = None) -> list[OutboxItem]:
        """What is owed to `name` (pending), oldest first."""
        member_id = self.people[name].id
        with self.store.transaction(record_update=False) as repo:
            return [i for i in repo.outbox("pending")
                    if i.member_id == member_id and (kind is None or i.kind == kind)]

    def later(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture
def world(store: Storage, flows: list[Flow]) -> World:
    return World(build_services(flows, store), store)
